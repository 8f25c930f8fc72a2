package step

import (
	"sync"

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
		out[kCompute] += pn.costs.EPSlowdown * min(comm, work)
		return out
	case o.Backward && o.Split:
		return pn.costs.inputGrad(j).parts()
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
	if deepEPStyle(s.Arch, s.Training) && g.SMs > 0 {
		slow = max(slow, float64(cluster.DeepEPSMs)/float64(g.SMs))
	}
	return slow
}

// deepEPStyle reports whether a's expert-parallel exchanges run DeepEP-style
// (node-limited routing or the deepep dispatcher): a token crosses the
// network once per remote node (coster.exchange), and the exchange's
// kernels hold some of the GPU's SMs (epSlowdown).
func deepEPStyle(a model.Arch, t model.Training) bool {
	return a.MoE.GroupLimit > 0 || t.Dispatcher == model.DeepEP
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

// workBound is a lower bound of the noiseless step under the zero-bubble
// schedules, whose head and drain differ from 1F1B's (LowerBound uses it
// for them). For every stage r it takes the largest of
//
//   - work: the stage's passes one after another from when the first micro
//     batch's forward pass reaches it, then its tail. Under ZB-H1 a stage
//     runs every micro batch's forward and backward pass of its chunk;
//     under DualPipe rank r runs half the micro batches through stage r
//     and half through stage pp−1−r, and an overlapped pair may hide the
//     expert-parallel all-to-alls, which the bound therefore leaves out
//     but for the compute they slow (EPSlowdown);
//   - ZB-H1's first backward pass: micro batch 0's input-gradient pass on
//     stage r waits for its forward pass through every stage and its
//     input-gradient passes back from the last, and is followed on stage r
//     by every input-gradient and weight pass and the forward passes
//     after it (the first m − min(w+1, m), w = min(pp−r−1, m), came
//     before);
//   - ZB-H1's drain: the last micro batch's input-gradient pass runs on
//     stage r after its m forward and m input-gradient passes and the
//     weight passes it does not keep outstanding (max(0, m−1−r)), then on
//     stages r−1..0 in turn, each after the transfer; stage 0 then runs
//     its last weight pass and its tail;
//   - the data-parallel stream alone (ZeRO-2 with dp_comm_overlap, ZeRO-3:
//     one collective at a time, a gradient reduce-scatter per pass that
//     produces the chunk's weight gradients and under ZeRO-3 the chunk's
//     parameter gathers before every pass that reads its weights), then
//     the optimizer.
//
// A stage's tail is what the simulation cannot hide whatever the order of
// the passes (plan.tail; the collectives are counted per pass by
// zeroBubbleCounts): the optimizer; with dp_comm_overlap under ZeRO-0/1,
// the gradient buckets of the chunk whose weight pass is the stage's last,
// queued from when each is complete; without it, the gradient
// collectives (ZeRO-0/1) after the passes and the parameter gathers after
// the optimizer (ZeRO-1/2). Under ZeRO-2 without dp_comm_overlap every
// pass that produces weight gradients also waits for its chunk's gradient
// collective.
func (co Costs) workBound() float64 {
	p, m := co.PP, float64(co.MicroBatches)
	dual := co.Schedule == model.SchedDualPipe
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
	// stageOf is the stage whose costs chunk c of rank r has: its own, or
	// for DualPipe's second chunk stage pp−1−r's (dualPipeCosts).
	stageOf := func(r, c int) int {
		if c == 1 {
			return p - 1 - r
		}
		return r
	}
	// tails[r]: stage r's tail, as above; block[r]: the blocking
	// collectives of its backward passes; stream[r]: its data-parallel
	// stream.
	tails, block, stream, opt := make([]float64, p), make([]float64, p), make([]float64, p), make([]float64, p)
	for r := range p {
		zb := counts[r]
		opt[r] = co.Optimizer[r]
		if dual {
			opt[r] += co.Optimizer[p-1-r]
		}
		tails[r] = opt[r]
		for c, n := range zb.chunks {
			s := stageOf(r, c)
			grad, gather := co.Grad[s][0], co.Gather[s][0]
			switch {
			case co.ZeRO == 3:
				var g, rd float64
				for _, b := range co.Buckets[s][0] {
					g += b.Gather
					rd += b.Reduce
				}
				stream[r] += float64(n.passes)*g + float64(n.backward)*rd
			case co.ZeRO == 2 && co.DPOverlap:
				stream[r] += float64(n.backward) * grad
			case co.blocking():
				block[r] += float64(n.backward) * grad
			}
			if !co.DPOverlap && co.ZeRO <= 1 {
				tails[r] += grad
			}
			if !co.DPOverlap && (co.ZeRO == 1 || co.ZeRO == 2) {
				tails[r] += gather
			}
		}
		if co.DPOverlap && co.ZeRO <= 1 {
			tails[r] += bucketDrain(co.Buckets[stageOf(r, zb.last)][0])
		}
	}
	// fwdAll: micro batch 0's forward passes through every stage;
	// back[r]: its input-gradient passes from the last stage back to stage
	// r+1, with the transfers down to stage r.
	fwdAll := head[p-1] + co.Forward[p-1].Total()
	back := make([]float64, p)
	for r := p - 2; r >= 0 && !dual; r-- {
		back[r] = back[r+1] + co.splitBackward(r+1) + co.P2P[r]
	}
	drain := 0.0 // the last micro batch's input-gradient passes from stage r−1 down to 0
	best := 0.0
	for r := 0; r < p; r++ {
		var w float64
		if dual {
			o := p - 1 - r
			// A pass hides at most its own all-to-alls, and the compute
			// beside them slows by EPSlowdown (opParts): the sum over a
			// pair's two passes of min(EP, compute) is at most the pair's.
			noEP := func(c PassCost) float64 { return c.Total() - c.EP + co.EPSlowdown*min(c.EP, c.Compute) }
			w = m/2*(noEP(co.Forward[r])+noEP(co.Backward[r])+noEP(co.Forward[o])+noEP(co.Backward[o])) + min(head[r], tail[r])
		} else {
			w = m*(co.Forward[r].Total()+co.Backward[r].Total()) + head[r]
			if r > 0 {
				drain += co.splitBackward(r-1) + co.P2P[r-1]
			}
			mb := co.MicroBatches
			last := head[r] + m*(co.Forward[r].Total()+co.splitBackward(r)) + float64(max(0, mb-1-r))*co.Weight[r]
			best = max(best, last+drain+co.Weight[0]+tails[0])
			after := float64(mb - min(min(p-r-1, mb)+1, mb))
			first := fwdAll + back[r] + m*(co.splitBackward(r)+co.Weight[r]) + after*co.Forward[r].Total()
			best = max(best, first+block[r]+tails[r])
		}
		best = max(best, w+block[r]+tails[r], stream[r]+opt[r])
	}
	return best
}

// zbStage is one stage of a zero-bubble schedule: per chunk, how many of
// its passes read the chunk's weights and how many produce its gradients;
// and the chunk of its last pass (a weight-gradient pass).
type zbStage struct {
	chunks []passCount
	last   int
}

// passCount is how many of a stage's passes read one chunk's weights, and
// how many produce its weight gradients.
type passCount struct{ passes, backward int }

// zeroBubbleCounts counts, per stage and chunk of a ZB-H1 or DualPipe
// schedule of p stages and m micro batches, the passes that read the
// chunk's weights (model.Op.ReadsWeights: ZeRO-3 gathers them before each;
// an overlapped pair reads both its chunks') and the passes that produce
// its weight gradients (model.Op.GradChunk: the simulation follows each
// with the chunk's gradient collective). ZB-H1 runs a forward, an
// input-gradient and a weight-gradient pass per micro batch: 2m passes
// read the weights and m produce gradients. DualPipe's counts are read off
// its schedule. Each is counted once per (schedule, p, m).
func zeroBubbleCounts(kind model.PipeSchedule, p, m int) []zbStage {
	key := [3]int{int(kind), p, m}
	if c, ok := zbCounts.Load(key); ok {
		return c.([]zbStage)
	}
	out := make([]zbStage, p)
	if kind != model.SchedDualPipe {
		one := []passCount{{2 * m, m}}
		for r := range out {
			out[r] = zbStage{chunks: one}
		}
		zbCounts.Store(key, out)
		return out
	}
	for r := range out {
		out[r].chunks = make([]passCount, 2)
		ops := model.ScheduleDualPipe(r, p, m)
		for _, o := range ops {
			if o.ReadsWeights() {
				out[r].chunks[o.Chunk].passes++
			}
			if o.Paired {
				out[r].chunks[o.PairChunk].passes++
			}
			if c := o.GradChunk(); c >= 0 {
				out[r].chunks[c].backward++
			}
		}
		out[r].last = ops[len(ops)-1].Chunk
	}
	zbCounts.Store(key, out)
	return out
}

// zbCounts caches zeroBubbleCounts by (schedule, p, m).
var zbCounts sync.Map
