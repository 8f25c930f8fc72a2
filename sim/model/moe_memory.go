package model

func (a Arch) moeStageParams(l Layout) ([]float64, error) {
	ch, err := a.ChunkParamsOn(l)
	if err != nil {
		return nil, err
	}
	st := make([]float64, l.PP)
	for j, c := range ch {
		st[j%l.PP] += c.Dense + c.Expert
	}
	return st, nil
}

// MoEActivationBytesPerToken is ActivationBytesPerToken for a MoE layer:
// the attention half of a layer as there, plus, per token of the GPU's
// micro batch slice, on the GPU its routed copies reach (rows·top_k of them
// on each GPU when balanced, rows = the tokens of the sequence-parallel
// region), each copy's expert input (at matmulInputBytes), its activation
// function's inputs (2·2·f_e bytes, SwiGLU) and output, split over etp, and
// its routing probability and permutation index (fp32 and int32); the
// shared experts as a dense block of their width; the router's fp32 scores.
// Full recomputation keeps only the layer input, as for a dense layer.
//
// The experts' outputs are not kept: Megatron-Core applies each copy's
// routing probability inside the experts' activation function
// (megatron/core/fusions/fused_bias_swiglu.py, weighted_bias_swiglu_impl,
// called by TEGroupedMLP with the permuted probabilities), whose backward
// pass takes the probability's gradient from the activation's saved input,
// so the combine that sums the copies saves nothing.
//
// MLA's query and key heads are qk_nope+qk_rope wide and its value heads
// v_head_dim: the attention output and the output projection's input are
// heads·v_head_dim, not heads·HeadDim (HeadDim is the mean of the two).
func (a Arch) MoEActivationBytesPerToken(l Layout, t Training) float64 {
	if l.Recompute == RecomputeFull || !a.IsMoE() {
		return a.ActivationBytesPerToken(l, t)
	}
	b := a
	b.FFNHidden = 0
	base := b.ActivationBytesPerToken(l, t)
	b.FFNHidden = 1
	perF := b.ActivationBytesPerToken(l, t) - base // bytes per unit of FFN width, split over tp
	tp := float64(l.TP)
	lin := matmulInputBytes(t)
	selective := l.Recompute == RecomputeSelective
	if a.IsMLA() {
		base += a.mlaActivationCorrection(l, lin, selective)
	}
	rows := 1.0 // the MoE block's tokens per token of the slice
	if l.SequenceParallel {
		rows = 1 / tp
	}
	h, fe := float64(a.Hidden), float64(a.MoE.ExpertFFN)
	actF := perF * tp // bytes per unit of expert width: the activation's input and, unless recomputed, output
	if selective && !l.RecomputeElementwise {
		// Megatron-Core's recompute module "moe_act": the experts'
		// activation output is recomputed.
		actF -= lin
	}
	if lin < 2 && a.MoE.GroupLimit > 0 {
		// DeepSeek-V3 §3.3.3 ("Low-Precision Storage"): the experts'
		// SwiGLU inputs are cached in fp8. (Node-limited routing stands
		// for DeepSeek's training stack here; Megatron-Core keeps them in
		// bf16.)
		actF -= float64(a.mlpMatrices()-1) * (2 - lin)
	}
	const probAndIndex = 4 + 4 // fp32 routing probability, int32 row of the permutation map
	routed := rows * float64(a.MoE.TopK) * (lin*h + actF*fe/float64(l.ETPSize()) + probAndIndex)
	shared := perF * float64(a.MoE.SharedExperts) * float64(a.SharedFFN())
	router := rows * 4 * float64(a.MoE.Experts)
	return base + routed + shared + router
}

// mlaActivationCorrection turns ActivationBytesPerToken's attention
// account, which prices Q, K, V, the attention output and (in 8-bit
// training) the output projection's 8-bit input at HeadDim per head, into
// MLA's: Q and K qk_nope+qk_rope wide, V, the output and its 8-bit copy
// v_head_dim wide. Under selective recomputation (Megatron-Core's recompute
// module "mla_up_proj", DeepSeek-V3 §3.2.3) Q, K and V are recomputed from
// the stored query and KV latents and the shared RoPE key.
func (a Arch) mlaActivationCorrection(l Layout, lin float64, selective bool) float64 {
	m := a.MLA
	heads := float64(a.Heads) / float64(l.TP)
	hd := float64(a.HeadDim())
	qk, v := float64(m.QKNopeHeadDim+m.QKRopeHeadDim), float64(m.VHeadDim)
	c := heads * 2 * ((qk + qk + v + v) - 4*hd)
	if lin != 2 {
		c += heads * lin * (v - hd)
	}
	if selective {
		c += -heads*2*(qk+qk+v) + 2*float64(m.QLoRARank+m.KVLoRARank+m.QKRopeHeadDim)
	}
	return c
}

// denseLayerActivationBytesPerToken is ActivationBytesPerToken for one of
// a MoE model's leading dense layers, with MLA's attention account
// (mlaActivationCorrection) when the model has MLA.
func (a Arch) denseLayerActivationBytesPerToken(l Layout, t Training) float64 {
	v := a.ActivationBytesPerToken(l, t)
	if a.IsMLA() && l.Recompute != RecomputeFull {
		v += a.mlaActivationCorrection(l, matmulInputBytes(t), l.Recompute == RecomputeSelective)
	}
	return v
}

// moeStageMemory is StageMemory for a mixture-of-experts model: the dense
// parameters are sharded by ZeRO over dp·cp as a dense model's, the experts
// over the expert-data-parallel ranks ExpertDP; a stage's activations are
// its peak layer-micro-batches times the mean per layer of its own layers
// (dense layers as DenseLayers' and MoE layers as MoE layers'), and the
// working set of its heaviest kind of layer.
func moeStageMemory(a Arch, l Layout, t Training) ([]Memory, error) {
	ch, err := a.ChunkParamsOn(l)
	if err != nil {
		return nil, err
	}
	chunks, _ := l.ChunkLayers(a)
	m, moePerLayer, moeWorking, err := layerActivations(l, t, a.MoEActivationBytesPerToken)
	if err != nil {
		return nil, err
	}
	densePerLayer, denseWorking := moePerLayer, moeWorking
	if a.MoE.DenseLayers > 0 {
		_, densePerLayer, denseWorking, _ = layerActivations(l, t, a.denseLayerActivationBytesPerToken)
	}
	moeLayers := a.ChunkMoELayers(chunks)
	shard, eshard := float64(l.DP*l.CP), float64(l.ExpertDP())
	wb := WeightBytes(t)
	gb := float64(t.GradBytes)
	out := make([]Memory, l.PP)
	stageChunks := make([]int, l.VirtualStages)
	moeLayer := a.LayerParamsOn(a.Layers-1, l)
	for r := range out {
		var dense, expert float64
		bucket := 0.0
		nLayers, nMoE := 0, 0
		for c := range stageChunks {
			j := c*l.PP + r
			stageChunks[c] = chunks[j]
			dense += ch[j].Dense
			expert += ch[j].Expert
			if chunks[j] > 0 {
				bucket = max(bucket, moeLayer.Dense+moeLayer.Expert)
			}
			nLayers += chunks[j]
			nMoE += moeLayers[j]
		}
		peak := PeakLayerMicroBatches(r, l.PP, l.VirtualStages, m, stageChunks)
		perLayer, working := moePerLayer, moeWorking
		if nLayers > 0 {
			perLayer = (float64(nMoE)*moePerLayer + float64(nLayers-nMoE)*densePerLayer) / float64(nLayers)
		}
		if nMoE == 0 {
			working = denseWorking
		}
		mem := Memory{
			Weights:     wb * (dense + expert),
			Gradients:   gb * (dense + expert),
			Optimizer:   optimizerBytes * (dense + expert),
			Activations: float64(peak)*perLayer + working,
			Reserved:    ReservedBytes,
		}
		if l.ZeRO >= 1 {
			mem.Optimizer = optimizerBytes * (dense/shard + expert/eshard)
		}
		if l.ZeRO >= 2 {
			mem.Gradients = gb*(dense/shard+expert/eshard) + gb*bucket
		}
		if l.ZeRO >= 3 {
			mem.Weights = wb*(dense/shard+expert/eshard) + 2*wb*bucket
		}
		if r == (len(chunks)-1)%l.PP {
			mem.Activations += logitBytes * l.gpuTokens(t) * float64(a.Vocab) / float64(l.TP)
		}
		out[r] = mem
	}
	return out, nil
}

// dualPipeMemory is StageMemory under DualPipe: rank r holds the
// parameters (weights, gradients, optimizer state) of stages r and pp−1−r
// (DualPipe keeps two copies of the model, arXiv:2412.19437 §3.2.1 and
// Table 2: "2×" parameters), and activations of pp+1 micro batches where
// 1F1B's first stage holds pp (Table 2: PP+1 against PP), taken as the
// fullest 1F1B stage's times (pp+1)/pp on every rank.
func dualPipeMemory(a Arch, l Layout, t Training) ([]Memory, error) {
	one := l
	one.PipeSchedule = Sched1F1B
	mem, err := StageMemory(a, one, t)
	if err != nil {
		return nil, err
	}
	p := l.PP
	act := 0.0
	for _, m := range mem {
		act = max(act, m.Activations)
	}
	out := make([]Memory, p)
	for r := range out {
		o := mem[p-1-r]
		out[r] = Memory{
			Weights:     mem[r].Weights + o.Weights,
			Gradients:   mem[r].Gradients + o.Gradients,
			Optimizer:   mem[r].Optimizer + o.Optimizer,
			Activations: act * float64(p+1) / float64(p),
			Reserved:    ReservedBytes,
		}
	}
	return out, nil
}
