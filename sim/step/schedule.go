package step

import (
	"github.com/clustersim/clustersim/cluster"
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
		comm, work := f[kEP]+b[kEP], f[kCompute]+b[kCompute]
		out[kEP] = max(0, comm-work)
		// The hidden all-to-alls run on SMs taken from the compute
		// (DeepEP-style kernels), which slows the compute beside them.
		out[kCompute] += epSlowdown(pn.spec) * min(comm, work)
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

// epSlowdown is the fraction by which compute slows while an
// expert-parallel exchange runs beside it: with DeepEP-style exchanges
// (node-limited routing or the deepep dispatcher) the share of the GPU's
// SMs the communication kernels hold (cluster.DeepEPSMs of GPU.SMs), else
// the GPU's measured CommSlowdown; the larger of the two.
func epSlowdown(s Spec) float64 {
	g := s.Cluster.GPU
	slow := g.Compute.CommSlowdown
	if (s.Arch.MoE.GroupLimit > 0 || s.Training.Dispatcher == model.DeepEP) && g.SMs > 0 {
		slow = max(slow, float64(cluster.DeepEPSMs)/float64(g.SMs))
	}
	return slow
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
// expert-parallel all-to-alls, which the bound therefore leaves out but for
// the compute they slow.
// LowerBound uses it for the zero-bubble schedules, whose head and drain
// differ from 1F1B's.
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
	best := 0.0
	for r := 0; r < p; r++ {
		var w float64
		if co.Schedule == model.SchedDualPipe {
			o := p - 1 - r
			// A pass hides at most its own all-to-alls, and the compute
			// beside them slows by EPSlowdown (opParts): the sum over a
			// pair's two passes of min(EP, compute) is at most the pair's.
			noEP := func(c PassCost) float64 { return c.Total() - c.EP + co.EPSlowdown*min(c.EP, c.Compute) }
			w = m / 2 * (noEP(co.Forward[r]) + noEP(co.Backward[r]) + noEP(co.Forward[o]) + noEP(co.Backward[o]))
			w += co.Optimizer[r] + co.Optimizer[o] + min(head[r], tail[r])
		} else {
			for c := 0; c < co.VirtualStages; c++ {
				j := c*p + r
				w += m * (co.Forward[j].Total() + co.Backward[j].Total())
			}
			w += co.Optimizer[r] + head[r]
		}
		best = max(best, w)
	}
	return best
}
