package step

import (
	"sync"

	"github.com/clustersim/clustersim/sim/model"
)

// chunkOf is the model chunk (index into Costs.Forward) that chunk c of
// stage r runs: c·pp + r, or for DualPipe stage r (c = 0) and stage pp−1−r
// (c = 1).
func (pn *plan) chunkOf(r, c int) int {
	p := pn.spec.Layout.PP
	if pn.spec.Layout.PipeSchedule == model.SchedDualPipe {
		if c == 1 {
			return p - 1 - r
		}
		return r
	}
	return c*p + r
}

// opParts is the noiseless split of pass o of stage r into compute and
// exposed communication:
//
//   - a forward or full backward pass: its chunk's;
//   - the input-gradient half of a split backward pass (zero-bubble
//     schedules): the backward pass less its weight-gradient products;
//   - a weight-gradient pass: those products alone;
//   - DualPipe's overlapped pair of a forward and a backward pass of two
//     micro batches: both passes' compute, each one's expert-parallel
//     all-to-alls hidden behind the other's compute (what the pairing is
//     for, arXiv:2412.19437 §3.2.1 and Figure 4) and exposed only by what
//     exceeds it; their tensor- and context-parallel waits add.
func (pn *plan) opParts(r int, o model.Op) partsOf {
	j := pn.chunkOf(r, o.Chunk)
	switch {
	case o.Weight:
		return partsOf{kCompute: pn.weight[j]}
	case o.Paired:
		f, b := pn.parts[j][0], pn.parts[pn.chunkOf(r, o.PairChunk)][1]
		var out partsOf
		for i := range out {
			out[i] = f[i] + b[i]
		}
		out[kEP] = max(0, f[kEP]+b[kEP]-(f[kCompute]+b[kCompute]))
		return out
	case o.Backward && o.Split:
		b := pn.parts[j][1]
		b[kCompute] = max(0, b[kCompute]-pn.weight[j])
		return b
	case o.Backward:
		return pn.parts[j][1]
	}
	return pn.parts[j][0]
}

// dualPipeCosts gives every rank of a DualPipe schedule the data-parallel
// costs of both of its chunks, stage r's and stage pp−1−r's (DualPipe keeps
// two copies of the parameters, arXiv:2412.19437 §3.2.1): the collectives
// and buckets of each, and one optimizer step over both.
func dualPipeCosts(co *Costs) {
	p := co.PP
	two := func(x [][]float64) [][]float64 {
		out := make([][]float64, p)
		for r := range out {
			out[r] = []float64{x[r][0], x[p-1-r][0]}
		}
		return out
	}
	co.Grad, co.Gather, co.ChunkParams = two(co.Grad), two(co.Gather), two(co.ChunkParams)
	bk := make([][][]Bucket, p)
	opt := make([]float64, p)
	for r := range bk {
		bk[r] = [][]Bucket{co.Buckets[r][0], co.Buckets[p-1-r][0]}
		opt[r] = co.Optimizer[r] + co.Optimizer[p-1-r]
	}
	co.Buckets, co.Optimizer = bk, opt
}

// workBound is a lower bound of the noiseless step under any schedule: the
// busiest stage's passes one after another, then its optimizer step. Under
// ZB-H1 a stage runs every micro batch's forward and backward pass of its
// chunk; under DualPipe rank r runs half the micro batches through stage r
// and half through stage pp−1−r, and an overlapped pair may hide the
// expert-parallel all-to-alls, which the bound therefore leaves out.
// LowerBound uses it for the zero-bubble schedules, whose head and drain
// differ from 1F1B's.
//
// The data-parallel collectives add what the simulation cannot hide
// whatever the order of the passes (plan.tail and replica.z3Issue, counted
// per pass by zeroBubbleCounts):
//
//   - ZeRO-2 without dp_comm_overlap: every backward pass is followed by its
//     chunk's gradient collective, on the stage's critical path;
//   - ZeRO-0/1 without dp_comm_overlap: the gradient collectives after the
//     last pass, and (ZeRO-1/2) the parameter all-gathers after the
//     optimizer;
//   - ZeRO-2 with dp_comm_overlap and ZeRO-3: the stage's data-parallel
//     stream runs one collective at a time (a gradient reduce-scatter per
//     backward pass; under ZeRO-3 also its chunk's parameter gathers before
//     every pass), and the optimizer follows its last one.
func (co Costs) workBound() float64 {
	p, m := co.PP, float64(co.MicroBatches)
	// head[r]: the first micro batch's forward passes and transfers
	// through stages 0..r−1 (fed at rank 0); tail[r]: through stages
	// r+1..pp−1 (fed at the last rank, DualPipe's other direction).
	head, tail := make([]float64, p), make([]float64, p)
	for r := 1; r < p; r++ {
		head[r] = head[r-1] + co.Forward[r-1].Total() + co.P2P[r-1]
	}
	for r := p - 2; r >= 0; r-- {
		tail[r] = tail[r+1] + co.Forward[r+1].Total() + co.P2P[r]
	}
	counts := zeroBubbleCounts(co.Schedule, p, co.MicroBatches)
	best := 0.0
	for r := 0; r < p; r++ {
		var w, opt float64
		if co.Schedule == model.SchedDualPipe {
			o := p - 1 - r
			noEP := func(c PassCost) float64 { return c.Total() - c.EP }
			w = m / 2 * (noEP(co.Forward[r]) + noEP(co.Backward[r]) + noEP(co.Forward[o]) + noEP(co.Backward[o]))
			opt = co.Optimizer[r] + co.Optimizer[o]
			w += opt + min(head[r], tail[r])
		} else {
			for c := 0; c < co.VirtualStages; c++ {
				j := c*p + r
				w += m * (co.Forward[j].Total() + co.Backward[j].Total())
			}
			opt = co.Optimizer[r]
			w += opt + head[r]
		}
		stream := 0.0
		for c, n := range counts[r] {
			// the chunk's data-parallel costs: stage r's own, or for
			// DualPipe's second chunk stage pp−1−r's (dualPipeCosts)
			s := r
			if c == 1 {
				s = p - 1 - r
			}
			grad, gather := co.Grad[s][0], co.Gather[s][0]
			switch {
			case co.ZeRO == 3:
				var g, rd float64
				for _, b := range co.Buckets[s][0] {
					g += b.Gather
					rd += b.Reduce
				}
				stream += float64(n.passes)*g + float64(n.backward)*rd
			case co.ZeRO == 2 && co.DPOverlap:
				stream += float64(n.backward) * grad
			case co.ZeRO == 2:
				w += float64(n.backward) * grad
			}
			if !co.DPOverlap && co.ZeRO <= 1 {
				w += grad
			}
			if !co.DPOverlap && (co.ZeRO == 1 || co.ZeRO == 2) {
				w += gather
			}
		}
		best = max(best, w, stream+opt)
	}
	return best
}

// passCount is how many passes a stage runs of one chunk, and how many of
// them are backward passes.
type passCount struct{ passes, backward int }

// zeroBubbleCounts counts, per stage and chunk of a ZB-H1 or DualPipe
// schedule of p stages and m micro batches, the passes the stage runs (a
// DualPipe overlapped pair once, for its forward chunk, as the simulation
// issues ZeRO-3's gathers for it) and the backward ones among them (split
// input-gradient, weight-gradient and full backward passes: those the
// simulation follows with the chunk's gradient collective). ZB-H1 runs a
// forward, an input-gradient and a weight-gradient pass per micro batch;
// DualPipe's counts are read off its schedule, once per (p, m).
func zeroBubbleCounts(kind model.PipeSchedule, p, m int) [][]passCount {
	if kind != model.SchedDualPipe {
		out := make([][]passCount, p)
		for r := range out {
			out[r] = []passCount{{3 * m, 2 * m}}
		}
		return out
	}
	key := [2]int{p, m}
	if c, ok := dualPipeCounts.Load(key); ok {
		return c.([][]passCount)
	}
	out := make([][]passCount, p)
	for r := range out {
		out[r] = make([]passCount, 2)
		for _, o := range model.ScheduleDualPipe(r, p, m) {
			out[r][o.Chunk].passes++
			if o.Backward {
				out[r][o.Chunk].backward++
			}
		}
	}
	dualPipeCounts.Store(key, out)
	return out
}

// dualPipeCounts caches zeroBubbleCounts of DualPipe by (p, m).
var dualPipeCounts sync.Map
