package step

// stream is where a task runs on one GPU.
type stream uint8

const (
	computeStream stream = iota
	tpStream
	cpStream
	numStreams
)

// kind is what a task's time is attributed to.
type kind uint8

const (
	kCompute kind = iota
	kTP
	kCP
	numKinds
)

// task is one kernel or collective in a layer's schedule. Tasks on the same
// stream run in list order; a task also waits for the tasks listed in after.
type task struct {
	name   string
	stream stream
	kind   kind
	dur    float64
	after  []int
}

// span is a task placed in time.
type span struct {
	name       string
	stream     stream
	start, end float64
}

// timeline is the result of evaluating a task graph.
type timeline struct {
	end     float64
	parts   [numKinds]float64 // compute-stream busy time and the compute stream's exposed waits by kind; they sum to end
	spans   []span
	comm    [numKinds]float64 // total communication time by kind, hidden or not
	compute float64
}

// evaluate runs the tasks as early as their stream and dependencies allow
// (list scheduling of a static graph, which is what an event simulation of
// it would do) and attributes the compute stream's idle gaps to the kind of
// the dependency it waited for; a tail after the last compute task is
// attributed to the task that ends last.
func evaluate(tasks []task) timeline {
	var free [numStreams]float64
	ends := make([]float64, len(tasks))
	var tl timeline
	tl.spans = make([]span, len(tasks))
	lastCompute := 0.0
	for i, t := range tasks {
		start := free[t.stream]
		waitKind := kCompute
		for _, d := range t.after {
			if ends[d] > start {
				start = ends[d]
				waitKind = tasks[d].kind
			}
		}
		end := start + t.dur
		ends[i] = end
		free[t.stream] = end
		tl.spans[i] = span{name: t.name, stream: t.stream, start: start, end: end}
		if t.stream == computeStream {
			if gap := start - lastCompute; gap > 0 {
				tl.parts[waitKind] += gap
			}
			tl.parts[kCompute] += t.dur
			tl.compute += t.dur
			lastCompute = end
		} else {
			tl.comm[t.kind] += t.dur
		}
		tl.end = max(tl.end, end)
	}
	if tail := tl.end - lastCompute; tail > 0 {
		k := kCompute
		for i := len(tasks) - 1; i >= 0; i-- {
			if ends[i] == tl.end {
				k = tasks[i].kind
				break
			}
		}
		tl.parts[k] += tail
	}
	return tl
}
