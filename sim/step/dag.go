package step

import (
	"cmp"
	"slices"
)

// stream is where a task runs on one GPU.
type stream uint8

const (
	computeStream stream = iota
	tpStream
	cpStream
	epStream // expert-parallel all-to-alls
	numStreams
)

// kind is what a task's time is attributed to.
type kind uint8

const (
	kCompute kind = iota
	kTP
	kCP
	kEP      // expert-parallel dispatch and combine
	kOffload // waiting for activation copies to or from host memory
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
	// inner marks a task launched from inside another task's library call
	// (the later pieces of a communication-overlapped product, the
	// collectives it drives) or a pure dependency marker: the host issues
	// nothing for it.
	inner bool
	// sync makes the host wait for the task to finish before it issues the
	// next one (a device-to-host copy the framework reads, such as a MoE
	// dispatcher's token counts): the next task starts one issue after it.
	sync bool
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
//
// The host issues the tasks in list order, issue seconds each (the
// framework's CPU time per kernel or collective launched), from the pass's
// start: no task starts before it has been issued. Kernels longer than their
// launch hide it (the host runs ahead); a pass of many short kernels waits
// for the host, and that wait counts as compute (framework time).
//
// slow is the fraction by which a kernel slows while a collective runs
// beside it (cluster.ComputeModel.CommSlowdown).
func evaluate(tasks []task, issue, slow float64) timeline {
	var free [numStreams]float64
	ends := make([]float64, len(tasks))
	var tl timeline
	tl.spans = make([]span, len(tasks))
	lastCompute := 0.0
	host := 0.0
	for i, t := range tasks {
		start := max(free[t.stream], host)
		if !t.inner {
			// the next launch is issued after this one; the first was
			// issued while the previous pass ran
			host += issue
		}
		waitKind := kCompute
		for _, d := range t.after {
			if ends[d] > start {
				start = ends[d]
				waitKind = tasks[d].kind
			}
		}
		end := start + t.dur
		ends[i] = end
		if t.sync {
			host = max(host, end+issue)
		}
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
	if slow > 0 {
		// Compute that shares the GPU with a running collective is slowed
		// (its SMs and HBM bandwidth are shared): the pass is longer by
		// slow × the time both ran at once.
		extra := slow * overlap(tl.spans)
		tl.parts[kCompute] += extra
		tl.compute += extra
		lastCompute += extra
		tl.end += extra
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

// overlap returns the time during which a compute span and a
// communication span run at once. Spans on one stream do not overlap each
// other; the communication streams' spans are merged first.
func overlap(spans []span) float64 {
	var comm [][2]float64
	for _, s := range spans {
		if s.stream != computeStream && s.end > s.start {
			comm = append(comm, [2]float64{s.start, s.end})
		}
	}
	if len(comm) == 0 {
		return 0
	}
	slices.SortFunc(comm, func(a, b [2]float64) int { return cmp.Compare(a[0], b[0]) })
	merged := comm[:1]
	for _, c := range comm[1:] {
		last := &merged[len(merged)-1]
		if c[0] <= last[1] {
			last[1] = max(last[1], c[1])
			continue
		}
		merged = append(merged, c)
	}
	total := 0.0
	for _, s := range spans {
		if s.stream != computeStream {
			continue
		}
		for _, c := range merged {
			if lo, hi := max(s.start, c[0]), min(s.end, c[1]); hi > lo {
				total += hi - lo
			}
		}
	}
	return total
}
