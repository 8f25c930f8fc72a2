package step

import (
	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// coster builds the task schedules of one micro batch's layer, embedding and
// head passes on one GPU of a tensor×context-parallel group.
type coster struct {
	a       model.Arch
	l       model.Layout
	t       model.Training
	c       cluster.Cluster
	gpu     cluster.GPU
	tokens  float64 // T = b·s/cp: rows of every activation on this GPU
	rows    float64 // rows of the sequence-parallel (or replicated) regions: T/tp with SP, T without
	heads   float64 // query heads on this GPU
	kvHeads float64 // key/value heads on this GPU (replicated when tp exceeds them)
	hd      float64 // head dim
	tp, cp  cluster.Group

	tasks []task
	prev  int // index of the last task on the critical chain, -1 at the start

	moe moeState // MoE and MLA models (moe.go)
}

func newCoster(a model.Arch, l model.Layout, t model.Training, c cluster.Cluster) *coster {
	tp := float64(l.TP)
	k := &coster{a: a, l: l, t: t, c: c, gpu: c.GPU,
		tokens:  float64(l.MicroBatch) * float64(t.SeqLen) / float64(l.CP),
		heads:   float64(a.Heads) / tp,
		kvHeads: max(float64(a.KVHeads)/tp, 1),
		hd:      float64(a.HeadDim()),
		tp:      cluster.Group{Size: l.TP, Stride: 1},
		cp:      cluster.Group{Size: l.CP, Stride: l.TP},
		prev:    -1,
	}
	k.rows = k.tokens
	if l.SequenceParallel {
		k.rows = k.tokens / tp
	}
	return k
}

func (k *coster) reset() { k.tasks, k.prev = k.tasks[:0], -1 }

// add appends a task that follows the critical chain and makes it the chain's end.
func (k *coster) add(t task) int {
	if k.prev >= 0 {
		t.after = append(t.after, k.prev)
	}
	k.tasks = append(k.tasks, t)
	k.prev = len(k.tasks) - 1
	return k.prev
}

// side appends a task that depends on the chain but does not extend it.
func (k *coster) side(t task, deps ...int) int {
	t.after = append(t.after, deps...)
	k.tasks = append(k.tasks, t)
	return len(k.tasks) - 1
}

func (k *coster) gemmTask(name string, m, n, kk float64) task {
	return task{name: name, stream: computeStream, kind: kCompute, dur: k.gpu.GEMMTime(m, n, kk, k.t.Precision)}
}

func (k *coster) mem(name string, bytes float64, mk cluster.MemoryKind) {
	k.add(task{name: name, stream: computeStream, kind: kCompute, dur: k.gpu.MemoryTime(bytes, mk)})
}

func (k *coster) tpColl(name string, op cluster.Collective, bytes float64) task {
	return task{name: name, stream: tpStream, kind: kTP, dur: k.c.CollectiveTime(op, k.tp, bytes)}
}

// cast appends Transformer Engine's quantization of a bf16 tensor of elems
// elements that feeds an 8- or 4-bit product and comes from a kernel that
// cannot write it quantized itself (attention's output, the gradients
// entering a product): read 2 bytes, write the row-wise and the
// column-wise (transposed, for the weight gradient) copies with their
// scales. Current scaling first reads the tensor once more for its amax.
// Norms and activation functions that feed a product write the quantized
// copies themselves (TE's LayerNormLinear and LayerNormMLP), at no extra
// traffic: 1 + 1 bytes instead of 2. Nothing in bf16.
func (k *coster) cast(name string, elems float64) {
	var out float64 // bytes per element of the two quantized copies
	switch k.t.Precision {
	case cluster.FP8:
		out = 2
	case cluster.MXFP8:
		out = 2 * (1 + 1.0/32)
	case cluster.NVFP4:
		out = 2 * (0.5 + 1.0/16)
	default:
		return
	}
	if k.t.CurrentScaling {
		k.mem(name+" amax", 2*elems, cluster.Reduce)
	}
	k.mem(name+" quantize", (2+out)*elems, cluster.Stream)
}

// actBytes is the size of one bf16 activation of width h over the micro batch: 2·T·h.
func (k *coster) actBytes() float64 { return 2 * k.tokens * float64(k.a.Hidden) }

// gatherThenGEMM is the sequence-parallel all-gather of a layer input followed
// by the product that consumes it (m = T rows); with tp_comm_overlap they are
// split into tp pieces that pipeline.
func (k *coster) gatherThenGEMM(name string, n, kk float64) {
	if !k.l.SequenceParallel || k.l.TP == 1 {
		k.add(k.gemmTask(name, k.tokens, n, kk))
		return
	}
	ag := k.tpColl(name+" all-gather", cluster.AllGather, k.actBytes())
	if !k.l.TPOverlap {
		k.add(ag)
		k.add(k.gemmTask(name, k.tokens, n, kk))
		return
	}
	k.ringGather(name+" all-gather", name, n, kk)
}

// ringGather is a sequence-parallel all-gather pipelined with the product
// that consumes it (m = T rows, n×kk), as Transformer Engine's userbuffers
// ring exchange runs them: the product of the local shard starts at once,
// and each of the tp−1 shards received from a neighbour is multiplied as
// it arrives.
func (k *coster) ringGather(agName, name string, n, kk float64) {
	ag := k.tpColl(agName, cluster.AllGather, k.actBytes())
	pieces := float64(k.l.TP)
	g := k.gemmTask(name, k.tokens/pieces, n, kk)
	ag.dur /= pieces - 1
	ag.inner = true
	start := k.prev
	k.add(g)
	g.inner = true // one library call drives every piece
	for i := 1; i < k.l.TP; i++ {
		a := k.side(ag, start)
		start = a
		k.add(g)
		k.tasks[k.prev].after = append(k.tasks[k.prev].after, a)
	}
}

// gemmThenReduce is a product whose partial sums are reduce-scattered
// (sequence parallel) or all-reduced across the tensor-parallel group.
func (k *coster) gemmThenReduce(name string, n, kk float64) {
	op := cluster.ReduceScatter
	if !k.l.SequenceParallel {
		op = cluster.AllReduce
	}
	if k.l.TP == 1 {
		k.add(k.gemmTask(name, k.tokens, n, kk))
		return
	}
	red := k.tpColl(name+" "+op.String(), op, k.actBytes())
	if !k.l.TPOverlap {
		k.add(k.gemmTask(name, k.tokens, n, kk))
		k.add(red)
		return
	}
	pieces := float64(k.l.TP)
	g := k.gemmTask(name, k.tokens/pieces, n, kk)
	red.dur /= pieces
	red.inner = true
	var last int
	for i := 0; i < k.l.TP; i++ {
		gi := k.add(g)
		last = k.side(red, gi)
		k.prev = gi
		g.inner = true // one library call drives every piece
	}
	k.prev = last
}

// backwardLinear is a layer's backward through a column- or row-parallel
// product with forward shape (T×kk)·(kk×n): the data gradient (T×n by n×kk),
// then the weight gradient (kk×n, inner dimension T). Megatron-LM launches
// the collective on the data gradient asynchronously and computes the
// weight gradient meanwhile; with sequence parallelism it also re-gathers
// the stored sharded input for the weight gradient while the data gradient
// runs. gradIn is the collective on the gradient entering the product (the
// mirror of a forward reduce: an all-gather with SP, nothing without), and
// gradOut the one on the data gradient leaving it (the mirror of a forward
// all-gather: a reduce-scatter with SP, an all-reduce without).
func (k *coster) backwardLinear(name string, n, kk float64, gradIn, gradOut, regather bool) {
	sp := k.l.SequenceParallel && k.l.TP > 1
	var ag int = -1
	var d int
	if gradIn && sp && k.l.TPOverlap {
		// The gathered gradient feeds the data gradient in a ring
		// exchange, as the forward all-gather feeds its product.
		if regather {
			ag = k.side(k.tpColl(name+" input all-gather", cluster.AllGather, k.actBytes()), k.prev)
		}
		k.ringGather(name+" grad all-gather", name+" dgrad", kk, n)
		d = k.prev
	} else {
		if gradIn && sp {
			k.add(k.tpColl(name+" grad all-gather", cluster.AllGather, k.actBytes()))
		}
		if regather && sp {
			ag = k.side(k.tpColl(name+" input all-gather", cluster.AllGather, k.actBytes()), k.prev)
		}
		d = k.add(k.gemmTask(name+" dgrad", k.tokens, kk, n))
	}
	var red int = -1
	if gradOut && k.l.TP > 1 {
		op := cluster.AllReduce
		if sp {
			op = cluster.ReduceScatter
		}
		red = k.side(k.tpColl(name+" dgrad "+op.String(), op, k.actBytes()), d)
	}
	w := k.add(k.gemmTask(name+" wgrad", kk, n, k.tokens))
	if ag >= 0 {
		k.tasks[w].after = append(k.tasks[w].after, ag)
	}
	if k.t.GradAccumulation == model.SeparateAccumulation {
		// read the accumulated and the new gradient, write the sum
		g := float64(k.t.GradBytes)
		k.mem(name+" gradient accumulation", n*kk*(g+2+g), cluster.Stream)
	}
	if red >= 0 {
		// The next kernel needs the reduced gradient.
		k.add(task{name: name + " wait", stream: computeStream, kind: kCompute, after: []int{red}, inner: true})
	}
}

func (k *coster) qkvWidth() float64 { return (k.heads + 2*k.kvHeads) * k.hd }
func (k *coster) upWidth() float64 {
	f := float64(k.a.FFNHidden) / float64(k.l.TP)
	if k.a.MLP == model.SwiGLU {
		return 2 * f
	}
	return f
}

// attnFwdFLOPs is the forward FLOPs of this GPU's attention kernel: its
// heads, its T query rows against the whole sequence, halved by the causal
// mask (load-balanced over the context-parallel ranks).
func (k *coster) attnFwdFLOPs() float64 {
	return 4 * k.tokens * float64(k.t.SeqLen) * k.heads * k.hd / 2
}

// attnTiles is the thread blocks of this GPU's fused attention kernel: its
// heads' 128-row tiles of the T/b query rows of each of the micro batch's
// sequences (cluster.AttentionTiles). A context-parallel ring's every
// step is priced with all of the rank's query rows, although with
// Megatron-Core's load balancing half the steps after the first take only
// half of them: an overcount of at most a quarter on the per-tile cost.
func (k *coster) attnTiles() float64 {
	b := float64(k.l.MicroBatch)
	return cluster.AttentionTiles(b, k.heads, k.tokens/b)
}

func (k *coster) cpKV(name string, op cluster.Collective) {
	if k.l.CP == 1 {
		return
	}
	bytes := float64(k.l.CP) * k.tokens * 2 * k.kvHeads * k.hd * 2
	k.add(task{name: name, stream: cpStream, kind: kCP, dur: k.c.CollectiveTime(op, k.cp, bytes)})
}

// ring reports whether the context-parallel exchange runs as a ring of
// point-to-point steps overlapped with the attention (fused kernels only:
// an unfused attention gathers).
func (k *coster) ring() bool { return k.l.CP > 1 && k.l.CPRing && k.t.Attention.Fused() }

// ringAttention is the attention of a context-parallel ring (forward, or
// with backward its backward): cp steps, each the fused kernel over one
// rank's block of keys and values (1/cp of the FLOPs) while the next block
// arrives from a neighbour (a step of a ring all-gather over the CP group;
// in the backward the partial K/V gradients travel the ring as well, a
// step of a reduce-scatter). Each step after the first also rescales and
// merges the partial outputs (read both, write one, 2 bytes each).
func (k *coster) ringAttention(backward bool) {
	cp := float64(k.l.CP)
	bytes := cp * k.tokens * 2 * k.kvHeads * k.hd * 2 // the whole K/V of the CP group
	step := k.c.CollectiveTime(cluster.AllGather, k.cp, bytes) / (cp - 1)
	name := "attention"
	if backward {
		step += k.c.CollectiveTime(cluster.ReduceScatter, k.cp, bytes) / (cp - 1)
		name = "attention backward"
	}
	fa2 := k.t.Attention == model.Flash2
	piece := task{name: name + " block", stream: computeStream, kind: kCompute, dur: k.gpu.FusedAttentionTime(k.attnFwdFLOPs()/cp, k.attnTiles(), backward, fa2)}
	send := task{name: "K/V ring step", stream: cpStream, kind: kCP, dur: step}
	if backward {
		send.name = "K/V and dK/dV ring step"
	}
	prevSend := k.prev
	k.add(piece)
	for i := 1; i < k.l.CP; i++ {
		s := k.side(send, prevSend)
		prevSend = s
		k.add(piece)
		k.tasks[k.prev].after = append(k.tasks[k.prev].after, s)
		if !backward {
			k.mem("attention merge", 3*2*k.tokens*k.heads*k.hd, cluster.Stream)
		}
	}
	if backward {
		// the last partial K/V gradients reach their owner before the
		// input gradients leave the layer
		last := k.side(send, k.prev)
		k.add(task{name: "dK/dV ring wait", stream: computeStream, kind: kCompute, after: []int{last}, inner: true})
	}
}

func (k *coster) attentionForward() {
	if k.ring() {
		k.ringAttention(false)
		return
	}
	if k.t.Attention.Fused() {
		k.add(task{name: "attention", stream: computeStream, kind: kCompute, dur: k.gpu.FusedAttentionTime(k.attnFwdFLOPs(), k.attnTiles(), false, k.t.Attention == model.Flash2)})
		return
	}
	s := float64(k.t.SeqLen)
	bh := float64(k.l.MicroBatch) * k.heads
	scores := bh * (k.tokens / float64(k.l.MicroBatch)) * s // elements of the score matrix
	k.add(k.gemmTask("attention QKᵀ", bh*k.tokens/float64(k.l.MicroBatch), s, k.hd))
	if k.fusedSoftmax() {
		k.mem("softmax", 4*scores, cluster.Reduce)
	} else {
		k.torchSoftmax(scores, false)
	}
	if k.a.Dropout {
		k.mem("attention dropout", 5*scores, cluster.Stream)
	}
	k.add(k.gemmTask("attention AV", bh*k.tokens/float64(k.l.MicroBatch), k.hd, s))
}

func (k *coster) attentionBackward() {
	if k.ring() {
		k.ringAttention(true)
		return
	}
	if k.t.Attention.Fused() {
		k.add(task{name: "attention backward", stream: computeStream, kind: kCompute, dur: k.gpu.FusedAttentionTime(k.attnFwdFLOPs(), k.attnTiles(), true, k.t.Attention == model.Flash2)})
		return
	}
	if k.l.Recompute == model.RecomputeSelective {
		k.attentionForward()
	}
	s := float64(k.t.SeqLen)
	rows := float64(k.l.MicroBatch) * k.heads * k.tokens / float64(k.l.MicroBatch)
	scores := rows * s
	k.add(k.gemmTask("attention dA", rows, s, k.hd))
	k.add(k.gemmTask("attention dV", rows, k.hd, s))
	if k.a.Dropout {
		k.mem("attention dropout backward", 5*scores, cluster.Stream)
	}
	if k.fusedSoftmax() {
		k.mem("softmax backward", 6*scores, cluster.Reduce)
	} else {
		k.torchSoftmax(scores, true)
	}
	k.add(k.gemmTask("attention dQ", rows, k.hd, s))
	k.add(k.gemmTask("attention dK", rows, k.hd, s))
}

// fusedSoftmax reports whether Megatron-LM's fused scale-mask-softmax kernel
// (the causal scaled_upper_triang_masked_softmax) takes this GPU's score
// matrix: FusedScaleMaskSoftmax.is_kernel_available requires 16 < sk ≤ 4096,
// sq = sk a multiple of 4, and the attention batches b·np (micro batch
// times the heads on this GPU) a multiple of 4 and of the kernel's batches
// per CUDA block (softmaxBatchesPerBlock). A shape that fails falls back to
// PyTorch's softmax (torchSoftmax): a TP8 run of a 16-head model at micro
// batch 1 has b·np = 2 and takes the fallback. The causal kernel needs
// sq = sk, so a context-parallel shard (sq = sk/cp) takes it too. (The
// bound of 4,096 and the sk rule are Megatron-LM's from 2022 on; its 2021
// rule stopped at 2,048, which no unfused row here exceeds.)
func (k *coster) fusedSoftmax() bool {
	sk := k.t.SeqLen
	batches := k.l.MicroBatch * k.a.Heads / k.l.TP
	if k.l.CP > 1 || sk <= 16 || sk > 4096 || sk%4 != 0 || batches%4 != 0 {
		return false
	}
	return batches%softmaxBatchesPerBlock(sk) == 0
}

// softmaxBatchesPerBlock is get_batch_per_block of Megatron-LM's fused
// softmax (megatron/fused_kernels/scaled_masked_softmax.h): 128 threads per
// block, a warp per row of up to 32 lanes (fewer when the next power of two
// of sk is smaller), two rows per warp when that power is at most 128.
func softmaxBatchesPerBlock(sk int) int {
	pow := 1
	for pow < sk {
		pow *= 2
	}
	warp := min(pow, 32)
	perWarp := 1
	if pow <= 128 {
		perWarp = 2
	}
	return 128 / warp * perWarp
}

// torchSoftmax appends Megatron-LM's fallback softmax
// (FusedScaleMaskSoftmax.forward_torch_softmax, with softmax in fp32 as
// query-key layer scaling forces): five element-wise kernels over the scores
// instead of one. Forward: cast to fp32 (read 2 bytes, write 4), scale (4,
// 4), masked fill (4 and the 1-byte mask, 4), softmax (4, 4), cast back (4,
// 2). Backward, autograd's mirror: the casts' (4+2 each way), softmax's
// (read the gradient and the output, write: 12), the fill's (9) and the
// scale's (8).
func (k *coster) torchSoftmax(scores float64, backward bool) {
	if backward {
		k.mem("softmax cast backward", 6*scores, cluster.Stream)
		k.mem("softmax backward", 12*scores, cluster.Reduce)
		k.mem("mask backward", 9*scores, cluster.Stream)
		k.mem("scale backward", 8*scores, cluster.Stream)
		k.mem("fp32 cast backward", 6*scores, cluster.Stream)
		return
	}
	k.mem("fp32 cast", 6*scores, cluster.Stream)
	k.mem("scale", 8*scores, cluster.Stream)
	k.mem("mask", 9*scores, cluster.Stream)
	k.mem("softmax", 8*scores, cluster.Reduce)
	k.mem("softmax cast", 6*scores, cluster.Stream)
}

func (k *coster) residualBytes() float64 {
	b := 6 * k.rows * float64(k.a.Hidden)
	if k.a.Dropout {
		b += 3 * k.rows * float64(k.a.Hidden)
	}
	return b
}

// activation appends the MLP's activation function.
func (k *coster) activation() {
	f := float64(k.a.FFNHidden) / float64(k.l.TP)
	if k.a.MLP == model.SwiGLU {
		k.mem("SwiGLU", 6*k.tokens*f, cluster.Reduce)
	} else {
		k.mem("GELU", 4*k.tokens*f, cluster.Reduce)
	}
}

// layerForward appends one transformer layer's forward pass.
func (k *coster) layerForward() {
	h := float64(k.a.Hidden)
	hr := k.rows * h
	k.mem("norm", 4*hr, cluster.Reduce)
	k.gatherThenGEMM("QKV", k.qkvWidth(), h)
	if k.a.MLP == model.SwiGLU {
		k.mem("rotary", 4*k.tokens*(k.heads+k.kvHeads)*k.hd, cluster.Stream)
	}
	if !k.ring() {
		k.cpKV("K/V all-gather", cluster.AllGather)
	}
	k.attentionForward()
	k.cast("attention output", k.tokens*k.heads*k.hd)
	k.gemmThenReduce("attention out", h, k.heads*k.hd)
	k.mem("residual", k.residualBytes(), cluster.Stream)
	k.mem("norm", 4*hr, cluster.Reduce)
	k.gatherThenGEMM("MLP up", k.upWidth(), h)
	f := float64(k.a.FFNHidden) / float64(k.l.TP)
	k.activation()
	k.gemmThenReduce("MLP down", h, f)
	k.mem("residual", k.residualBytes(), cluster.Stream)
}

// layerBackward appends one layer's backward pass, after recomputing its
// forward pass under full recomputation.
func (k *coster) layerBackward() {
	if k.l.Recompute == model.RecomputeFull {
		k.layerForward()
	}
	h := float64(k.a.Hidden)
	hr := k.rows * h
	f := float64(k.a.FFNHidden) / float64(k.l.TP)
	k.mem("residual backward", k.residualBytes(), cluster.Stream)
	if k.l.RecomputeElementwise {
		k.mem("norm recompute", 4*hr, cluster.Reduce)
		k.activation()
	}
	k.cast("MLP down output gradient", k.rows*h)
	k.backwardLinear("MLP down", h, f, true, false, false)
	if k.a.MLP == model.SwiGLU {
		k.mem("SwiGLU backward", 10*k.tokens*f, cluster.Reduce)
	} else {
		k.mem("GELU backward", 6*k.tokens*f, cluster.Reduce)
	}
	k.backwardLinear("MLP up", k.upWidth(), h, false, true, true)
	k.mem("norm backward", 6*hr, cluster.Reduce)
	k.mem("residual backward", k.residualBytes(), cluster.Stream)
	if k.l.RecomputeElementwise {
		k.mem("norm recompute", 4*hr, cluster.Reduce)
	}
	k.cast("attention out output gradient", k.rows*h)
	k.backwardLinear("attention out", h, k.heads*k.hd, true, false, false)
	k.attentionBackward()
	if !k.ring() {
		k.cpKV("dK/dV reduce-scatter", cluster.ReduceScatter)
	}
	if k.a.MLP == model.SwiGLU {
		k.mem("rotary backward", 4*k.tokens*(k.heads+k.kvHeads)*k.hd, cluster.Stream)
	}
	k.cast("QKV output gradient", k.tokens*k.qkvWidth())
	k.backwardLinear("QKV", k.qkvWidth(), h, false, true, true)
	k.mem("norm backward", 6*hr, cluster.Reduce)
}

// embeddingForward is the vocabulary-parallel embedding lookup and the
// reduction of its partial rows across the tensor-parallel group.
func (k *coster) embeddingForward() {
	k.mem("embedding", 2*k.tokens*float64(k.a.Hidden), cluster.Stream)
	if k.l.TP > 1 {
		op := cluster.ReduceScatter
		if !k.l.SequenceParallel {
			op = cluster.AllReduce
		}
		k.add(k.tpColl("embedding "+op.String(), op, k.actBytes()))
	}
}

func (k *coster) embeddingBackward() {
	if k.l.SequenceParallel && k.l.TP > 1 {
		k.add(k.tpColl("embedding grad all-gather", cluster.AllGather, k.actBytes()))
	}
	k.mem("embedding backward", 4*k.tokens*float64(k.a.Hidden), cluster.Stream)
}

// headForward is the final norm, the vocabulary-parallel output projection
// and the cross-entropy (fp32 logits; two tiny all-reduces for the max and
// the sum across the vocabulary shards).
func (k *coster) headForward() {
	h := float64(k.a.Hidden)
	v := float64(k.a.Vocab) / float64(k.l.TP)
	k.mem("final norm", 4*k.rows*h, cluster.Reduce)
	k.gatherThenGEMM("output head", v, h)
	k.mem("cross-entropy", 10*k.tokens*v, cluster.Reduce)
	if k.l.TP > 1 {
		k.add(k.tpColl("cross-entropy all-reduce", cluster.AllReduce, 8*k.tokens))
	}
}

func (k *coster) headBackward() {
	h := float64(k.a.Hidden)
	v := float64(k.a.Vocab) / float64(k.l.TP)
	k.mem("cross-entropy backward", 6*k.tokens*v, cluster.Reduce)
	k.backwardLinear("output head", v, h, false, true, true)
	k.mem("final norm backward", 6*k.rows*h, cluster.Reduce)
}

// build evaluates the tasks appended by fn from an empty schedule.
func (k *coster) build(fn func()) timeline {
	k.reset()
	fn()
	return evaluate(k.tasks, k.t.HostOverheadS, k.gpu.Compute.CommSlowdown)
}
