package step

import "github.com/clustersim/clustersim/sim/model"

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
