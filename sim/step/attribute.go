package step

import "fmt"

// Span is one activity of the noiseless step on one stage's stream.
type Span struct {
	Stage      int
	Stream     string // "compute", "pp" (incoming transfers), "dp"
	Name       string
	Start, End float64 // seconds from the start of the step
	// For passes: the micro batch, virtual chunk and direction; -1 otherwise.
	MicroBatch, Chunk int
	Backward          bool
}

// LayerTask is one kernel or collective of a layer's schedule.
type LayerTask struct {
	Stream     string // "compute", "tp", "cp"
	Name       string
	Start, End float64 // seconds from the start of the layer's pass
}

// Timeline is the noiseless step as it ran: every pass, transfer and
// collective of every stage of one replica, and the schedule of one layer's
// forward and backward pass.
type Timeline struct {
	Stages        int
	StepTime      float64
	Spans         []Span
	LayerForward  []LayerTask
	LayerBackward []LayerTask
	ChunkLayers   []int // transformer layers of each chunk, model order
	// OffloadForward and OffloadBackward are how long each forward and
	// backward pass of chunk 0 waits for activation offload copies
	// (Layout.OffloadLayers, pp 1).
	OffloadForward, OffloadBackward float64
}

var streamNames = [numStreams]string{computeStream: "compute", tpStream: "tp", cpStream: "cp"}

func layerTasks(tl timeline) []LayerTask {
	out := make([]LayerTask, 0, len(tl.spans))
	for _, s := range tl.spans {
		if s.end > s.start {
			out = append(out, LayerTask{Stream: streamNames[s.stream], Name: s.name, Start: s.start, End: s.end})
		}
	}
	return out
}

func passName(backward bool, mb, chunk int) string {
	d := "F"
	if backward {
		d = "B"
	}
	return fmt.Sprintf("%s mb%d c%d", d, mb, chunk)
}

// timeline records the noiseless replica's passes, transfers and
// data-parallel activities.
func (pn *plan) timeline(x *replica, tails []stageTail) Timeline {
	tl := Timeline{Stages: pn.pl.p, LayerForward: layerTasks(pn.layerFwd), LayerBackward: layerTasks(pn.layerBwd)}
	tl.ChunkLayers, _ = pn.spec.Layout.ChunkLayers(pn.spec.Arch)
	tl.OffloadForward, tl.OffloadBackward = pn.costs.Forward[0].Offload, pn.costs.Backward[0].Offload
	for r, ops := range pn.pl.ops {
		for c, t := range x.agReady[r] {
			if pn.costs.Gather[r][c] > 0 && t > 0 && pn.spec.Layout.DPOverlap {
				tl.Spans = append(tl.Spans, Span{Stage: r, Stream: "dp", Name: fmt.Sprintf("param all-gather c%d", c),
					Start: t - pn.costs.Gather[r][c], End: t, MicroBatch: -1, Chunk: c})
			}
		}
		n := pn.pl.n
		for i, o := range ops {
			k := r*n + i
			tl.Spans = append(tl.Spans, Span{Stage: r, Stream: "compute", Name: passName(o.Backward, o.MicroBatch, o.Chunk),
				Start: x.st[k].start, End: x.done[k], MicroBatch: o.MicroBatch, Chunk: o.Chunk, Backward: o.Backward})
			for slot, j := range pn.pl.prod[k] {
				if j < 0 {
					continue
				}
				d := x.done[j]
				dir := "activations"
				if o.Backward || slot == 1 {
					dir = "gradients"
				}
				tl.Spans = append(tl.Spans, Span{Stage: r, Stream: "pp", Name: fmt.Sprintf("recv %s from stage %d", dir, int(j)/n),
					Start: d, End: d + pn.pl.delay[k][slot], MicroBatch: o.MicroBatch, Chunk: o.Chunk, Backward: o.Backward})
			}
		}
		if st := tails[r]; st.slowdown > 0 {
			// The passes' share of the slowdown beside the data-parallel
			// collectives, drawn after them.
			tl.Spans = append(tl.Spans, Span{Stage: r, Stream: "compute", Name: "slowed by data-parallel collectives",
				Start: st.computeEnd - st.slowdown, End: st.computeEnd, MicroBatch: -1, Chunk: -1})
		}
		pn.tailSpans(r, x.done[r*n:(r+1)*n], tails[r], func(name string, s, e float64) {
			tl.Spans = append(tl.Spans, Span{Stage: r, Stream: "dp", Name: name, Start: s, End: e, MicroBatch: -1, Chunk: -1})
		})
		tl.StepTime = max(tl.StepTime, tails[r].end)
	}
	return tl
}

// tailSpans replays tail's data-parallel stream without noise, reporting
// each collective and the optimizer.
func (pn *plan) tailSpans(r int, done []float64, st stageTail, rec func(name string, start, end float64)) {
	l := pn.spec.Layout
	ops := pn.pl.ops[r]
	free := 0.0
	coll := func(name string, ready, d float64) {
		s := max(free, ready)
		free = s + d
		if d > 0 {
			rec(name, s, free)
		}
	}
	op := "gradient reduce-scatter"
	if l.ZeRO == 0 {
		op = "gradient all-reduce"
	}
	switch {
	case l.ZeRO >= 2 && l.DPOverlap || l.ZeRO == 3:
		for i, o := range ops {
			if o.Backward {
				coll(fmt.Sprintf("%s mb%d c%d", op, o.MicroBatch, o.Chunk), done[i], pn.costs.Grad[r][o.Chunk])
			}
		}
	case l.ZeRO == 2:
	case l.DPOverlap:
		for _, c := range pn.completionOrder(r) {
			i := pn.pl.lastBwd[r][c]
			for q, b := range pn.costs.Buckets[r][c] {
				coll(fmt.Sprintf("%s c%d bucket %d", op, c, q), done[i]-b.BeforeEnd, b.Reduce)
			}
		}
	default:
		total := 0.0
		for _, d := range pn.costs.Grad[r] {
			total += d
		}
		coll(op, st.computeEnd, total)
	}
	rec("optimizer", st.optStart, st.optEnd)
	if st.end > st.optEnd {
		rec("param all-gather", st.optEnd, st.end)
	}
}

// attribute splits the noiseless step on stage r (see the package doc).
func (pn *plan) attribute(x *replica, tails []stageTail, r int, stepEnd float64) Breakdown {
	var b Breakdown
	ops := pn.pl.ops[r]
	prev := 0.0
	for i, o := range ops {
		k := r*pn.pl.n + i
		s, e := x.st[k].start, x.done[k]
		if gap := s - prev; gap > 0 {
			gather := 0.0
			if c := pn.pl.gather[k]; c >= 0 {
				gather = x.agReady[r][c]
			}
			if x.zero3 {
				gather = max(gather, x.z3Ready[k])
			}
			arrival, prodDone := 0.0, 0.0
			for slot, j := range pn.pl.prod[k] {
				if j >= 0 && x.done[j]+pn.pl.delay[k][slot] > arrival {
					prodDone = x.done[j]
					arrival = prodDone + pn.pl.delay[k][slot]
				}
			}
			switch {
			case gather >= arrival && gather > prev:
				b.DPComm += gap
			default:
				comm := min(gap, s-max(prev, prodDone))
				b.PPComm += comm
				b.PPBubble += gap - comm
			}
		}
		parts := pn.opParts(r, o)
		b.Compute += parts[kCompute]
		b.TPComm += parts[kTP]
		b.CPComm += parts[kCP]
		b.EPComm += parts[kEP]
		b.Offload += parts[kOffload]
		b.DPComm += x.extra[k]
		prev = e
	}
	st := tails[r]
	b.Compute += st.slowdown
	b.DPComm += st.dpEnd - st.computeEnd
	b.Optimizer += st.optEnd - st.optStart
	b.DPComm += st.end - st.optEnd
	b.PPBubble += stepEnd - st.end
	return b
}
