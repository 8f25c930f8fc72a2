package step

import (
	"fmt"
	"math"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// PassCost is one pass's noiseless seconds on the compute stream of one GPU,
// split into kernels and the tensor- and context-parallel communication the
// kernels wait for (what is hidden behind them is not counted).
type PassCost struct {
	Compute, TP, CP float64
	EP              float64 // exposed expert-parallel all-to-alls (MoE)
	Offload         float64 // waiting for activation copies to or from host memory
}

// Total is the pass's duration.
func (p PassCost) Total() float64 { return p.Compute + p.TP + p.CP + p.EP + p.Offload }

func (p PassCost) parts() partsOf {
	return partsOf{kCompute: p.Compute, kTP: p.TP, kCP: p.CP, kEP: p.EP, kOffload: p.Offload}
}

func passCostOf(p partsOf) PassCost {
	return PassCost{Compute: p[kCompute], TP: p[kTP], CP: p[kCP], EP: p[kEP], Offload: p[kOffload]}
}

// PassCosts are the noiseless passes of one micro batch on one GPU of a
// tensor×context-parallel group, as Simulate prices them. They depend on
// the architecture, the training, the cluster and, of the layout, only on
// tp, cp, the micro batch, sequence parallelism, recomputation and
// tp_comm_overlap: not on pp, dp, virtual stages, ZeRO or dp_comm_overlap.
// A layout search can compute them once for all layouts that share those.
type PassCosts struct {
	LayerForward, LayerBackward         PassCost // one transformer layer
	EmbeddingForward, EmbeddingBackward PassCost // the embedding lookup (first chunk)
	HeadForward, HeadBackward           PassCost // final norm, output projection and loss (last chunk)
	// MoELayerForward and MoELayerBackward are one mixture-of-experts
	// layer (moe.go); LayerForward and LayerBackward are then the model's
	// dense layers.
	MoELayerForward, MoELayerBackward PassCost
	// LayerWeight, MoELayerWeight and HeadWeight are the weight-gradient
	// products (and their gradient accumulation) inside the backward
	// passes, which zero-bubble schedules run as passes of their own.
	LayerWeight, MoELayerWeight, HeadWeight float64
	// MTPForward and MTPBackward are the model's multi-token-prediction
	// modules (model.MoE.MTPLayers, all of them, on the last chunk);
	// MTPWeight their weight-gradient products.
	MTPForward, MTPBackward PassCost
	MTPWeight               float64
	// Dropped is the fraction of routed tokens dropped at the capacity
	// factor (0 when dropless).
	Dropped float64
	// OffloadCopy is the seconds one layer's activations take to cross the
	// host link, each way, when the layer offloads them
	// (Layout.OffloadLayers; offloadCopy, offloadWaits).
	OffloadCopy float64
}

// LayerPassCosts prices s's passes (see PassCosts). s need not be valid
// beyond the fields PassCosts depend on.
func LayerPassCosts(s Spec) PassCosts {
	pc, _, _ := layerPassCosts(s)
	return pc
}

func layerPassCosts(s Spec) (pc PassCosts, fwd, bwd timeline) {
	k := newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
	of := func(tl timeline) PassCost { return passCostOf(tl.parts) }
	if s.Arch.IsMoE() || s.Arch.IsMLA() {
		return moePassCosts(s, k, of)
	}
	fwd = k.build(k.layerForward)
	bwd = k.build(k.layerBackward)
	pc = PassCosts{
		LayerForward:      of(fwd),
		LayerBackward:     of(bwd),
		EmbeddingForward:  of(k.build(k.embeddingForward)),
		EmbeddingBackward: of(k.build(k.embeddingBackward)),
		HeadForward:       of(k.build(k.headForward)),
		HeadBackward:      of(k.build(k.headBackward)),
	}
	pc.LayerWeight = weightTime(bwd)
	pc.HeadWeight = weightTime(k.build(k.headBackward))
	pc.OffloadCopy = offloadCopy(s, k.tokens)
	return pc, fwd, bwd
}

// offloadCopy is the seconds one layer's activations (what it keeps for
// the backward pass, model.Arch.ActivationBytesPerToken times the GPU's
// tokens of a micro batch) take to cross the host link
// (cluster.GPU.HostBandwidth) one way; 0 without activation offload.
func offloadCopy(s Spec, tokens float64) float64 {
	if s.Layout.OffloadLayers == 0 || !(s.Cluster.GPU.HostBandwidth > 0) {
		return 0
	}
	return s.Arch.ActivationBytesPerToken(s.Layout, s.Training) * tokens / s.Cluster.GPU.HostBandwidth
}

// offloadWaits is how long a micro batch's forward and backward passes
// over n layers wait for the copies of the first off layers' activations,
// as Transformer Engine schedules them (OffloadSynchronizer,
// transformer_engine/pytorch/cpu_offload.py), on one copy stream: layer
// k's copy out starts when its forward pass ends (and the copy before it
// is done) and must be done before layer n−off+k's forward pass starts;
// its copy back starts when the backward pass reaches layer n−1−off+k (and
// the copy before it is done) and must be done before layer k's backward
// pass starts. Walking the layers in order gives the waits; they are 0
// while a copy is shorter than a pass and n−off ≥ 2, and off copies when
// off = n−1. The copy engines' share of HBM bandwidth (a few per cent) is
// not priced.
func offloadWaits(pc PassCosts, n, off int) (fwd, bwd float64) {
	if off <= 0 || pc.OffloadCopy == 0 {
		return 0, 0
	}
	c := pc.OffloadCopy
	due := make([]float64, off) // when each layer's copy is done
	// Forward: before layer j, the copy of layer j−(n−off) must be done.
	t, free, p := 0.0, 0.0, pc.LayerForward.Total()
	for j := range n {
		if k := j - (n - off); k >= 0 && due[k] > t {
			fwd += due[k] - t
			t = due[k]
		}
		t += p
		if j < off {
			free = max(t, free) + c
			due[j] = free
		}
	}
	// Backward, layers n−1 down to 0: reaching layer j starts the copy
	// back of layer j−(n−1−off); layer j, if offloaded, waits for its own.
	t, free, p = 0, 0, pc.LayerBackward.Total()
	for j := n - 1; j >= 0; j-- {
		if k := j - (n - 1 - off); k >= 0 && k < off {
			free = max(t, free) + c
			due[k] = free
		}
		if j < off && due[j] > t {
			bwd += due[j] - t
			t = due[j]
		}
		t += p
	}
	return fwd, bwd
}

// Costs are the noiseless durations a step is simulated from: every
// chunk's passes, the transfers between stages, and each stage's
// data-parallel collectives and optimizer. Simulate builds its events from
// exactly these numbers.
type Costs struct {
	PP, VirtualStages, MicroBatches int
	// ChunkLayers are the transformer layers of each model chunk j = c·pp + r
	// (virtual chunk c of stage r).
	ChunkLayers []int
	// Forward and Backward are one micro batch's pass through chunk j, with
	// its split into compute and exposed communication.
	Forward, Backward []PassCost
	// P2P[r] is a point-to-point transfer between stage r and stage r+1
	// (P2P[pp−1]: between the last stage and the first, the interleaved
	// schedule's wrap), seconds, either way.
	P2P []float64
	// Grad[r][c] is the data-parallel collective of stage r's chunk c
	// gradients (reduce-scatter, or all-reduce under ZeRO-0), Gather[r][c]
	// its parameter all-gather (ZeRO ≥ 1; 0 otherwise), seconds.
	Grad, Gather [][]float64
	// P2PBytes is one transfer's size.
	P2PBytes float64
	// ChunkParams[r][c] are the parameters of stage r's chunk c on one GPU.
	ChunkParams [][]float64
	// Buckets[r][c] split stage r's chunk c into its layers (and the
	// embedding and head), in backward order, for the data-parallel
	// collectives.
	Buckets [][][]Bucket
	// Optimizer[r] is stage r's optimizer step, seconds.
	Optimizer []float64
	// Weight[j] is the weight-gradient part of chunk j's backward pass
	// (its weight-gradient products and their accumulation), which
	// zero-bubble schedules run as a pass of its own.
	Weight    []float64
	ZeRO      int
	DPOverlap bool
	// Schedule is the pipeline schedule the costs are for.
	Schedule model.PipeSchedule
	// EPSlowdown is the fraction by which compute slows beside a hidden
	// expert-parallel exchange (epSlowdown).
	EPSlowdown float64
}

// NewCosts prices s. It fails when the layout does not split the model or
// the batch (see model.Layout.Validate).
func NewCosts(s Spec) (Costs, error) {
	return NewCostsFrom(s, LayerPassCosts(s))
}

// NewCostsFrom is NewCosts with the passes already priced by LayerPassCosts
// for a spec that shares the fields PassCosts depend on.
func NewCostsFrom(s Spec, pc PassCosts) (Costs, error) {
	return newCostsFrom(s, pc, false, nil)
}

// LowerBoundFrom is NewCostsFrom(s, pc).LowerBound() without the costs the
// bound does not read (the buckets of chunks other than each stage's
// first). A layout search ranks its candidates with a Bounder, which
// reuses costs between layouts; LowerBoundFrom prices each spec afresh and
// is the reference the Bounder's bounds must equal.
func LowerBoundFrom(s Spec, pc PassCosts) (float64, error) {
	co, err := newCostsFrom(s, pc, true, nil)
	if err != nil {
		return 0, err
	}
	return co.LowerBound(), nil
}

// Bounder is LowerBoundFrom for the many layouts of one job (a layout
// search: specs that differ only in their layout; one Bounder per job) that
// remembers the data-parallel collectives it priced and reuses the costs
// of the last few layouts: the costs do not depend on the pipeline
// schedule, nor on the ZeRO stage beyond whether it is 0, so a search's
// nearby candidates that differ only in those (and in the switches between
// them, such as tp_comm_overlap) price their passes and collectives once.
// The bounds are LowerBoundFrom's. Not safe for concurrent use; the zero
// value is ready.
type Bounder struct {
	recent [bounderSize]struct {
		l  model.Layout
		pc PassCosts
		co Costs
		ok bool
	}
	next   int
	cl     cluster.Cluster
	prices map[priceKey]float64 // the collectives priced, on cl
}

// priceKey is a collective of the job's cluster.
type priceKey struct {
	op    cluster.Collective
	g     cluster.Group
	bytes float64
}

// collective is cl.CollectiveTime, remembered: a search's layouts reduce
// and gather the same few sizes over the same few groups.
func (b *Bounder) collective(op cluster.Collective, g cluster.Group, bytes float64) float64 {
	k := priceKey{op, g, bytes}
	if t, ok := b.prices[k]; ok {
		return t
	}
	if b.prices == nil || len(b.prices) >= 1<<12 {
		b.prices = map[priceKey]float64{}
	}
	t := b.cl.CollectiveTime(op, g, bytes)
	b.prices[k] = t
	return t
}

// bounderSize is how many costs a Bounder keeps: ZeRO 0 and ZeRO ≥ 1,
// each with tp_comm_overlap off and on.
const bounderSize = 4

// LowerBound is LowerBoundFrom(s, pc).
func (b *Bounder) LowerBound(s Spec, pc PassCosts) (float64, error) {
	l := s.Layout
	l.ZeRO = min(l.ZeRO, 1)
	l.PipeSchedule = model.Sched1F1B
	var co Costs
	found := false
	for i := range b.recent {
		if e := &b.recent[i]; e.ok && e.l == l && e.pc == pc {
			co, found = e.co, true
			break
		}
	}
	if !found {
		if b.prices == nil {
			b.cl = s.Cluster // one job: one cluster
		}
		var err error
		if co, err = newCostsFrom(s, pc, true, b.collective); err != nil {
			return 0, err
		}
		e := &b.recent[b.next]
		e.l, e.pc, e.co, e.ok = l, pc, co, true
		b.next = (b.next + 1) % bounderSize
	}
	co.ZeRO, co.Schedule = s.Layout.ZeRO, s.Layout.PipeSchedule
	return co.LowerBound(), nil
}

// wantBuckets says whether lean costs (LowerBoundFrom's) need chunk ch's
// buckets: only the first chunk's are read by the bound.
func wantBuckets(lean bool, ch int) bool {
	return !lean || ch == 0
}

// collectiveFunc prices a collective as cluster.Cluster.CollectiveTime does.
type collectiveFunc func(op cluster.Collective, g cluster.Group, bytes float64) float64

// newCostsFrom prices s's costs from its passes pc; lean leaves out what
// the bound does not read (wantBuckets); coll prices the data-parallel
// collectives (nil: the cluster's CollectiveTime).
func newCostsFrom(s Spec, pc PassCosts, lean bool, coll collectiveFunc) (Costs, error) {
	a, l, t, c := s.Arch, s.Layout, s.Training, s.Cluster
	if coll == nil {
		coll = c.CollectiveTime
	}
	chunks, err := l.ChunkLayers(a)
	if err != nil {
		return Costs{}, err
	}
	m := 0
	if l.DP > 0 && l.MicroBatch > 0 {
		m = l.MicroBatches(t)
	}
	if m < 1 {
		return Costs{}, fmt.Errorf("step: %d micro batches per step (global batch %d, dp %d, micro batch %d)", m, t.GlobalBatch, l.DP, l.MicroBatch)
	}
	p, v := l.PP, l.VirtualStages
	K := len(chunks)
	co := Costs{PP: p, VirtualStages: v, MicroBatches: m, ChunkLayers: chunks, ZeRO: l.ZeRO, DPOverlap: l.DPOverlap, Schedule: l.PipeSchedule, EPSlowdown: epSlowdown(s),
		Forward: make([]PassCost, K), Backward: make([]PassCost, K)}
	lf, lb := pc.LayerForward.parts(), pc.LayerBackward.parts()
	mf, mb := pc.MoELayerForward.parts(), pc.MoELayerBackward.parts()
	moeLayers := a.ChunkMoELayers(chunks)
	ef, eb := pc.EmbeddingForward.parts(), pc.EmbeddingBackward.parts()
	hf, hb := pc.HeadForward.parts(), pc.HeadBackward.parts()
	tf, tb := pc.MTPForward.parts(), pc.MTPBackward.parts()
	for j, n := range chunks {
		var f, b partsOf
		nm := float64(moeLayers[j])
		nd := float64(n) - nm
		for i := range f {
			f[i] = nd*lf[i] + nm*mf[i]
			b[i] = nd*lb[i] + nm*mb[i]
			if j == 0 {
				f[i] += ef[i]
				b[i] += eb[i]
			}
			if j == K-1 {
				f[i] += hf[i] + tf[i]
				b[i] += hb[i] + tb[i]
			}
		}
		co.Weight = append(co.Weight, nd*pc.LayerWeight+nm*pc.MoELayerWeight)
		if j == K-1 {
			co.Weight[j] += pc.HeadWeight + pc.MTPWeight
		}
		if l.OffloadLayers > 0 && j == 0 { // pp 1: one chunk holds every layer (model.Layout.Validate)
			f[kOffload], b[kOffload] = offloadWaits(pc, a.Layers, l.OffloadLayers)
		}
		co.Forward[j] = passCostOf(f)
		co.Backward[j] = passCostOf(b)
	}

	// Point-to-point: one GPU's slice of the activations (sharded over tp
	// with sequence parallelism) between the same tp/cp rank of two stages,
	// priced for replica 0 (a lower bound of the others, see WorstP2P).
	co.P2PBytes = p2pBytes(s)
	co.P2P = make([]float64, p)
	for r := range co.P2P {
		co.P2P[r] = p2pDelay(c, co.P2PBytes, l.TP*l.CP, r, (r+1)%p, 0, p)
	}

	if a.IsMoE() {
		moeDataParallel(&co, s, chunks, pc, lean, coll)
		return co, nil
	}

	// Data parallelism. Most chunks hold the same parameters; each distinct
	// size is priced once.
	dpGroup := cluster.Group{Size: l.DP, Stride: l.TP * l.CP * l.PP}
	gradOp := cluster.ReduceScatter
	if l.ZeRO == 0 {
		gradOp = cluster.AllReduce
	}
	var memo [3]struct{ n, grad, gather float64 }
	memoN := 0
	price := func(n float64) (grad, gather float64) {
		for _, e := range memo[:memoN] {
			if e.n == n {
				return e.grad, e.gather
			}
		}
		grad = coll(gradOp, dpGroup, n*float64(t.GradBytes))
		if l.ZeRO >= 1 {
			gather = coll(cluster.AllGather, dpGroup, n*2)
		}
		if memoN < len(memo) {
			memo[memoN] = struct{ n, grad, gather float64 }{n, grad, gather}
			memoN++
		}
		return grad, gather
	}
	co.ChunkParams = make2(p, v)
	co.Grad = make2(p, v)
	co.Gather = make2(p, v)
	co.Buckets = make([][][]Bucket, p)
	co.Optimizer = make([]float64, p)
	lp := a.LayerParams()
	tp := float64(l.TP)
	for r := 0; r < p; r++ {
		stage := 0.0
		co.Buckets[r] = make([][]Bucket, v)
		for ch := 0; ch < v; ch++ {
			j := ch*p + r
			n := float64(chunks[j]) * lp
			if j == 0 {
				n += a.EmbeddingParams()
			}
			if j == K-1 {
				n += a.HeadParams() + float64(a.Hidden)
			}
			n /= float64(l.TP)
			co.ChunkParams[r][ch] = n
			stage += n
			co.Grad[r][ch], co.Gather[r][ch] = price(n)
			if !wantBuckets(lean, ch) {
				continue
			}
			co.Buckets[r][ch] = buckets(j, K, chunks[j], pc, lp/tp, a.EmbeddingParams()/tp, (a.HeadParams()+float64(a.Hidden))/tp, price)
		}
		// Adam over the local shard: read the gradient, fp32 master weights
		// and both moments, write them back and the bf16 weights (30 bytes
		// plus the gradient per parameter), in a few fused kernels.
		local := stage
		if l.ZeRO >= 1 {
			local /= float64(l.DP)
		}
		co.Optimizer[r] = c.GPU.MemoryTime(local*(30+float64(t.GradBytes)), cluster.Stream)
	}
	return co, nil
}

// Bucket is one layer's (or the embedding's, or the head's) parameters: its
// gradients are reduced as soon as the backward pass has produced them, and
// its weights gathered before the forward pass reaches them, as Megatron's
// and PyTorch's bucketed data parallelism do.
type Bucket struct {
	BeforeEnd  float64 // its gradients are complete this long before its chunk's backward pass ends
	AfterStart float64 // its weights are needed this long after its chunk's forward pass starts
	Reduce     float64 // gradient collective, seconds
	Gather     float64 // parameter all-gather, seconds (ZeRO ≥ 1)
}

// buckets splits chunk j (n layers, params on one GPU) into buckets in
// backward order: the head (on the last chunk), the layers from the last to
// the first, the embedding (on the first chunk).
func buckets(j, k, n int, pc PassCosts, layerParams, embParams, headParams float64, price func(float64) (float64, float64)) []Bucket {
	bk := func(params, beforeEnd, afterStart float64) Bucket {
		b := Bucket{BeforeEnd: beforeEnd, AfterStart: afterStart}
		b.Reduce, b.Gather = price(params)
		return b
	}
	lf, lb := pc.LayerForward.Total(), pc.LayerBackward.Total()
	var bwdHead, fwdEmb float64 // time before the layers in each pass
	passB := float64(n) * lb
	if j == k-1 {
		bwdHead = pc.HeadBackward.Total()
		passB += bwdHead
	}
	if j == 0 {
		fwdEmb = pc.EmbeddingForward.Total()
		passB += pc.EmbeddingBackward.Total()
	}
	out := make([]Bucket, 0, n+2)
	if j == k-1 {
		out = append(out, bk(headParams, passB-bwdHead, fwdEmb+float64(n)*lf))
	}
	for i := 0; i < n; i++ {
		// the i-th layer processed backward is layer n-1-i forward
		out = append(out, bk(layerParams, passB-bwdHead-float64(i+1)*lb, fwdEmb+float64(n-1-i)*lf))
	}
	if j == 0 {
		out = append(out, bk(embParams, 0, 0))
	}
	return out
}

// firstGatherWait is how long stage r's first pass (chunk 0 forward) waits
// for its weights when the gathers of its buckets start with the step and
// run back to back in the order the pass needs them (ZeRO-1/2 with
// dp_comm_overlap, ZeRO-3).
func (co Costs) firstGatherWait(r int) float64 {
	t, wait := 0.0, 0.0
	bs := co.Buckets[r][0]
	for i := len(bs) - 1; i >= 0; i-- { // forward order
		t += bs[i].Gather
		wait = max(wait, t-bs[i].AfterStart)
	}
	return wait
}

// GatherWait is how long after the start of the step stage r's chunk c
// may begin its first forward pass when the parameter all-gathers run back
// to back from the start in the order the passes need them (ZeRO-1/2 with
// dp_comm_overlap): every bucket must arrive by the time the pass reaches
// it. factor, when set, scales each gather (noise).
func (co Costs) GatherWait(r int, factor func() float64) []float64 {
	out := make([]float64, co.VirtualStages)
	if !((co.ZeRO == 1 || co.ZeRO == 2) && co.DPOverlap) {
		return out
	}
	t := 0.0
	for c := range out {
		bs := co.Buckets[r][c]
		for i := len(bs) - 1; i >= 0; i-- { // forward order
			f := 1.0
			if factor != nil {
				f = factor()
			}
			t += bs[i].Gather * f
			out[c] = max(out[c], t-bs[i].AfterStart)
		}
	}
	return out
}

func p2pBytes(s Spec) float64 {
	l, t := s.Layout, s.Training
	b := 2 * float64(l.MicroBatch) * float64(t.SeqLen) / float64(l.CP) * float64(s.Arch.Hidden)
	if l.SequenceParallel {
		b /= float64(l.TP)
	}
	return b
}

// WorstP2P prices each stage boundary for the replica whose two stages sit
// farthest apart (different nodes, or pods, when the pods do not align with
// the replicas), which is the one the data-parallel collectives wait for.
func (co Costs) WorstP2P(s Spec) []float64 {
	c, l := s.Cluster, s.Layout
	p := co.PP
	out := make([]float64, p)
	// the placement repeats with period lcm(replica, pod) in GPUs; more
	// replicas than that add nothing new
	replicas := min(l.DP, c.GPUsPerNode*c.Network.NodesPerPod)
	for r := range out {
		worst := co.P2P[r]
		for d := 1; d < replicas; d++ {
			worst = max(worst, p2pDelay(c, co.P2PBytes, l.TP*l.CP, r, (r+1)%p, d, p))
		}
		out[r] = worst
	}
	return out
}

// p2pDelay is the transfer between stages from and to: over NVLink when
// their first ranks share an NVLink domain (a node, or an NVL72 rack), else
// over the pod or the spine.
func p2pDelay(c cluster.Cluster, bytes float64, stageRanks, from, to, replica, pp int) float64 {
	base := replica * pp * stageRanks
	return c.P2PTime(bytes, base+from*stageRanks, base+to*stageRanks)
}

// blocking reports whether every backward pass waits for its chunk's
// gradient collective (ZeRO-2 without dp_comm_overlap).
func (co Costs) blocking() bool { return co.ZeRO == 2 && !co.DPOverlap }

// inputGrad is the input-gradient half of chunk j's backward pass that a
// zero-bubble schedule runs apart from its weight-gradient pass: the
// backward pass less its weight-gradient products (Weight[j]).
func (co Costs) inputGrad(j int) PassCost {
	b := co.Backward[j]
	b.Compute = max(0, b.Compute-co.Weight[j])
	return b
}

// splitBackward is inputGrad(j)'s duration as the bounds sum it: the
// backward pass's total less the part of its compute the weight pass
// takes. It equals inputGrad(j).Total() up to rounding; the bounds keep
// their own order of summing so that their figures do not move.
func (co Costs) splitBackward(j int) float64 {
	b := co.Backward[j]
	return b.Total() - min(b.Compute, co.Weight[j])
}

// bucketDrain is how long after the end of a chunk's backward pass the
// gradient collectives of its buckets bs end when each queues, one at a
// time, from when its gradients are complete (Bucket.BeforeEnd): the part
// of a stage's tail that the last chunk's buckets cannot hide.
func bucketDrain(bs []Bucket) float64 {
	free := math.Inf(-1)
	for _, b := range bs {
		free = max(free, -b.BeforeEnd) + b.Reduce
	}
	return max(free, 0)
}

// LowerBound is a closed-form lower bound of the noiseless step time that
// Simulate returns for these costs (Result.NoiselessStepTime). For every
// stage r it adds
//
//   - head: stage r's first pass (micro batch 0, chunk 0) cannot start
//     before the same pass has run on stages 0..r−1 and crossed each
//     boundary, nor before its chunk's parameters are gathered (ZeRO ≥ 1
//     with dp_comm_overlap, and ZeRO-3);
//   - work: stage r runs its m·v forward and m·v backward passes one at a
//     time (each backward pass followed by its blocking gradient collective
//     under ZeRO-2 without dp_comm_overlap; under ZeRO-3 a pass starts no
//     sooner than a parameter gather after the one before it, which
//     issued the gather);
//   - the larger of stage r's own tail and the drain: stage r's last pass
//     is the backward pass of the last micro batch through chunk 0, which
//     stages r−1..0 must then run in turn, after which stage 0 runs its
//     tail. A tail is the gradient collective that cannot overlap (the last
//     chunk's, or all of them without dp_comm_overlap), the optimizer and,
//     for ZeRO-1/2 without dp_comm_overlap, the parameter all-gathers;
//   - and, on its own, the stage's data-parallel stream where it queues a
//     collective per pass (ZeRO-2 with dp_comm_overlap, from the end of the
//     stage's first backward pass; ZeRO-3), then the optimizer.
//
// The bound is the largest over stages. It leaves out every wait that
// depends on the interleaving of passes (the bubble beyond the head and the
// drain, transfers in the steady state, ZeRO-3's per-pass gathers), so it is
// below the simulated step by those; for a single stage without ZeRO-3 it
// is the simulated step up to rounding.
func (co Costs) LowerBound() float64 {
	if co.Schedule == model.SchedZBH1 || co.Schedule == model.SchedDualPipe {
		return co.workBound()
	}
	p, v, m := co.PP, co.VirtualStages, float64(co.MicroBatches)
	gatherFirst := co.ZeRO == 3 || (co.ZeRO == 1 || co.ZeRO == 2) && co.DPOverlap
	bwd := func(r, c int) float64 {
		b := co.Backward[c*p+r].Total()
		if co.blocking() {
			b += co.Grad[r][c]
		}
		return b
	}
	tail := func(r int) float64 {
		t := co.Optimizer[r]
		switch {
		case co.blocking():
		case co.ZeRO == 2:
			t += co.Grad[r][0]
		case co.DPOverlap || co.ZeRO == 3:
			// chunk 0's last backward pass is the stage's last pass; its
			// buckets' collectives queue from when each is complete
			// (ignoring any backlog of earlier chunks keeps this a bound)
			t += bucketDrain(co.Buckets[r][0])
		default:
			for _, g := range co.Grad[r] {
				t += g
			}
		}
		if (co.ZeRO == 1 || co.ZeRO == 2) && !co.DPOverlap {
			for _, g := range co.Gather[r] {
				t += g
			}
		}
		return t
	}
	tail0 := tail(0)
	// The first micro batch's forward pass through every chunk, in model
	// order, and its backward pass from the last chunk down to each chunk
	// (suffix[j]: chunks K−1..j), with the transfers between them.
	K := len(co.Forward)
	fwdAll := 0.0
	for j := range K {
		fwdAll += co.Forward[j].Total()
		if j < K-1 {
			fwdAll += co.P2P[j%p]
		}
	}
	suffix := make([]float64, K+1)
	for j := K - 1; j >= 0; j-- {
		suffix[j] = suffix[j+1] + bwd(j%p, j/p)
		if j < K-1 {
			suffix[j] += co.P2P[j%p]
		}
	}
	best := 0.0
	head, drain := 0.0, 0.0
	for r := 0; r < p; r++ {
		if r > 0 {
			head += co.Forward[r-1].Total() + co.P2P[r-1]
			drain += bwd(r-1, 0) + co.P2P[r-1]
		}
		if gatherFirst {
			head = max(head, co.firstGatherWait(r))
		}
		work := 0.0
		for c := 0; c < v; c++ {
			work += co.Forward[c*p+r].Total() + bwd(r, c)
		}
		work *= m
		best = max(best, head+work+max(tail(r), drain+tail0))
		// A stage's data-parallel stream runs one collective at a time:
		// under ZeRO-2 with dp_comm_overlap a gradient reduce-scatter per
		// backward pass, under ZeRO-3 also a parameter gather per pass;
		// the optimizer follows.
		stream := 0.0
		switch {
		case co.ZeRO == 3:
			for c := 0; c < v; c++ {
				stream += 2*co.Gather[r][c] + co.Grad[r][c]
			}
		case co.ZeRO == 2 && co.DPOverlap:
			for c := 0; c < v; c++ {
				stream += co.Grad[r][c]
			}
			// The first collective waits for the stage's first backward
			// pass: the first micro batch's, through its last chunk.
			stream = m*stream + fwdAll + suffix[(v-1)*p+r]
			best = max(best, stream+co.Optimizer[r])
			stream = 0
		}
		best = max(best, m*stream+co.Optimizer[r])
	}
	return best
}
