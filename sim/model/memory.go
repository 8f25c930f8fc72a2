package model

import (
	"fmt"

	"github.com/clustersim/clustersim/cluster"
)

// ReservedBytes is memory a training process holds beyond its tensors: the
// CUDA context (~0.5 GiB), NCCL communicator buffers (~1 GiB for a few
// communicators) and GEMM/attention workspaces. An assumption, not a
// measurement: 2 GiB.
const ReservedBytes = 2 << 30

// Memory is the peak memory of one GPU, by kind, in bytes.
type Memory struct {
	Weights     float64
	Gradients   float64
	Optimizer   float64
	Activations float64
	Reserved    float64
}

// Total is the sum of the parts.
func (m Memory) Total() float64 {
	return m.Weights + m.Gradients + m.Optimizer + m.Activations + m.Reserved
}

const optimizerBytes = 12 // fp32 master weights and Adam m and v

// WeightBytes is the bytes one GPU holds per parameter for the model's own
// weights (not the optimizer's fp32 master copy):
//
//   - bf16 training: the bf16 weights, 2;
//   - 8-bit training with t.FP8Params (Megatron-Core's fp8_param_gather,
//     Transformer Engine's fp8_model_init; NVIDIA's fp8 recipes set it): the
//     weights exist only as 8-bit tensors, 1 byte, plus the transposed copy
//     Hopper's FP8 GEMMs need for the backward pass (TE's
//     post_all_gather_processing pre-creates it when the backend lacks
//     non-transposed FP8 GEMMs; MXFP8 keeps row-wise and column-wise data
//     likewise), 1 byte: 2;
//   - 8-bit training without it: the bf16 weights plus TE's 8-bit copy and
//     its transpose, which TE caches from the first micro batch
//     (is_first_microbatch) for the whole step: 4.
//
// Blackwell runs non-transposed FP8 GEMMs and could drop the transpose of a
// per-tensor-scaled weight; the account keeps it (an upper bound there).
func WeightBytes(t Training) float64 {
	switch {
	case t.Precision == cluster.BF16:
		return 2
	case t.FP8Params:
		return 1 + 1
	default:
		return 2 + 1 + 1
	}
}

// matmulInputBytes is the bytes per element of a saved input of a matrix
// product: bf16, or the 8-bit copy Transformer Engine's Linear and
// LayerNormLinear save for the weight-gradient product when training in fp8
// (their ctx saves the quantized input, not the bf16 one).
func matmulInputBytes(t Training) float64 {
	if t.Precision == cluster.BF16 {
		return 2
	}
	return 1
}

// ActivationBytesPerToken is the memory one transformer layer keeps for the
// backward pass, per token of the GPU's slice of the micro batch (b·s/cp
// tokens), on one GPU. Tensor by tensor, following Korthikanti et al. 2022
// (arXiv:2205.05198) §4.1, in bf16 (2 bytes) except where noted:
//
//   - split over tp always: Q (2·h_attn), K and V (2·2·kv_dim; GQA makes them
//     small), the attention output (2·h_attn, kept by the attention kernel
//     and, in bf16, also the input of the output projection); the MLP's
//     activation-function input (SwiGLU's gate and up, 2·2·f; GELU's 2·f)
//     and output (the second product's input, f elements); with fused
//     attention the softmax statistics (fp32 per head), without it the
//     scores' softmax (2·a·s), and with dropout its mask (a·s) and output
//     (2·a·s) — the 5·a·s/h term;
//   - split over tp with sequence parallelism, replicated without: the two
//     norms' inputs (2·2·h), the inputs of the QKV and first MLP products
//     (2·h elements), and with dropout the two dropout masks (2·h, one byte
//     each).
//
// The inputs of the four matrix products (QKV, output projection, first and
// second MLP) are saved at matmulInputBytes: 2 in bf16, 1 in fp8, where
// Transformer Engine saves its 8-bit cast of the input. The attention
// kernel still keeps the bf16 attention output, so fp8 adds the output
// projection's 8-bit copy (h_attn bytes) beside it.
//
// For GPT-3-style layers (GELU, f = 4h, MHA, dropout) in bf16 this is
// Korthikanti's s·b·h·(34 + 5·a·s/h)/tp with sequence parallelism and
// s·b·h·(10 + 24/tp + 5·a·s/(h·tp)) without. Selective recompute drops the
// attention core's s×s terms; full recompute keeps only the layer input
// (2·h, split over tp with sequence parallelism); element-wise recompute
// drops the norms' outputs (the QKV and first MLP inputs) and the
// activation function's output.
func (a Arch) ActivationBytesPerToken(l Layout, t Training) float64 {
	tp := float64(l.TP)
	sp := 1.0
	if l.SequenceParallel {
		sp = tp
	}
	h := float64(a.Hidden)
	if l.Recompute == RecomputeFull {
		return 2 * h / sp
	}
	lin := matmulInputBytes(t)
	f := float64(a.FFNHidden)
	kvHeads := max(float64(a.KVHeads)/tp, 1) // KV heads are replicated when tp exceeds them
	hd := float64(a.HeadDim())
	heads := float64(a.Heads) / tp
	split := 2*heads*hd + 2*2*kvHeads*hd + 2*heads*hd // Q, K, V, attention output
	if lin != 2 {
		split += lin * heads * hd // the output projection's 8-bit input
	}
	act := 2 * f // GELU's input
	if a.MLP == SwiGLU {
		act = 2 * 2 * f // gate and up
	}
	if !l.RecomputeElementwise {
		act += lin * f // the activation's output, the second product's input
	}
	split += act / tp
	seq := float64(t.SeqLen) // keys per query: the whole sequence, also under CP
	switch {
	case t.Attention == Unfused && l.Recompute == RecomputeNone:
		split += 2 * heads * seq
		if a.Dropout {
			split += 3 * heads * seq
		}
	case t.Attention.Fused():
		split += 4 * heads // log-sum-exp, fp32
	}
	replicated := 2 * 2 * h // norm inputs
	if !l.RecomputeElementwise {
		replicated += 2 * lin * h // norm outputs: the QKV and first MLP inputs
	}
	if a.Dropout {
		replicated += 2 * h
	}
	return split + replicated/sp
}

// StageParams returns the parameters each pipeline stage holds on one GPU:
// its layers and, on the chunk that has them, the embedding and the head,
// all split over tp (the vocabulary is split over tp as in Megatron-LM).
func (a Arch) StageParams(l Layout) ([]float64, error) {
	if a.IsMoE() {
		return a.moeStageParams(l)
	}
	chunks, err := l.ChunkLayers(a)
	if err != nil {
		return nil, err
	}
	st := make([]float64, l.PP)
	lp := a.LayerParams()
	for j, n := range chunks {
		st[j%l.PP] += float64(n) * lp / float64(l.TP)
	}
	st[0] += a.EmbeddingParams() / float64(l.TP)
	st[(len(chunks)-1)%l.PP] += (a.HeadParams() + float64(a.Hidden)) / float64(l.TP)
	return st, nil
}

// gpuTokens is the tokens of one micro batch on one GPU: micro batch ×
// sequence / cp.
func (l Layout) gpuTokens(t Training) float64 {
	return float64(l.MicroBatch) * float64(t.SeqLen) / float64(l.CP)
}

// layerActivations is what one layer keeps per micro batch on one GPU
// (perToken × the GPU's tokens: micro batch × sequence / cp), and what it
// holds while its backward pass runs (working: without recomputation),
// with the micro batches per step m.
func layerActivations(l Layout, t Training, perToken func(Layout, Training) float64) (m int, perLayer, working float64, err error) {
	m = l.MicroBatches(t)
	if m < 1 {
		return 0, 0, 0, fmt.Errorf("model: %d micro batches per step", m)
	}
	tokens := l.gpuTokens(t)
	perLayer = perToken(l, t) * tokens
	working = perLayer
	if l.Recompute != RecomputeNone || l.RecomputeElementwise {
		full := l
		full.Recompute, full.RecomputeElementwise = RecomputeNone, false
		working = perToken(full, t) * tokens
	}
	return m, perLayer, working, nil
}

// StageMemory returns the peak memory of one GPU of every pipeline stage.
//
// Per parameter: weights WeightBytes(t), gradients t.GradBytes (Megatron-
// Core's main-grad buffer: fp32 with grad_reduce_in_fp32, bf16 without),
// the optimizer 12 bytes (fp32 master weights, Adam m and v). ZeRO shards
// them as its stage says over the GPUs that hold the same weights: dp·cp,
// since context-parallel ranks hold the same weights and Megatron-Core's
// distributed optimizer and gradient reduce-scatter use the data-parallel
// group with context parallelism. ZeRO-1 is Megatron-Core's distributed
// optimizer, whose documented account is (bf16 weights, fp32 gradients)
// 6 + 12/d bytes per parameter for d = dp·cp, 18 without it
// (docs/source/api-guide/dist_optimizer.md): the gradient buffer of the
// local model chunks is held whole. Stage 3 keeps two buckets' weights
// gathered for the pass in progress and the one prefetched; stages 2 and 3
// keep one bucket's unsharded gradients while they are reduced; a bucket is
// a layer, or the embedding or the head.
//
// Activations are the layer-micro-batches the schedule holds at its peak
// (PeakLayerMicroBatches, which equals PeakInFlight of the schedule; less
// the offloaded ones, heldLayers) times ActivationBytesPerToken, plus the
// working set of the layer in its
// backward pass (its full activations, recomputed or not), plus on the
// last stage the logits of one micro batch: Megatron-Core's
// vocab_parallel_cross_entropy casts the bf16 logits (2 bytes, b·s/cp·V/tp
// of them) to fp32 (4 bytes), keeps the fp32 softmax for the backward pass
// and computes the gradient in place before casting it back to bf16, so at
// its peak it holds 6 bytes per logit.
func StageMemory(a Arch, l Layout, t Training) ([]Memory, error) {
	if l.PipeSchedule == SchedDualPipe {
		return dualPipeMemory(a, l, t)
	}
	if a.IsMoE() {
		return moeStageMemory(a, l, t)
	}
	params, err := a.StageParams(l)
	if err != nil {
		return nil, err
	}
	chunks, _ := l.ChunkLayers(a)
	m, perLayer, working, err := layerActivations(l, t, a.ActivationBytesPerToken)
	if err != nil {
		return nil, err
	}
	shard := float64(l.DP * l.CP) // the ranks that hold the same weights
	wb := WeightBytes(t)
	out := make([]Memory, l.PP)
	lp := a.LayerParams()
	stageChunks := make([]int, l.VirtualStages)
	for r := range out {
		// ZeRO-2/3 hold unsharded only the bucket being reduced or
		// gathered (and, under ZeRO-3, the one prefetched): the largest of
		// a layer, the embedding and the head on this stage.
		bucket := 0.0
		for c := range stageChunks {
			j := c*l.PP + r
			stageChunks[c] = chunks[j]
			if chunks[j] > 0 {
				bucket = max(bucket, lp)
			}
			if j == 0 {
				bucket = max(bucket, a.EmbeddingParams())
			}
			if j == len(chunks)-1 {
				bucket = max(bucket, a.HeadParams()+float64(a.Hidden))
			}
		}
		bucket /= float64(l.TP)
		peak := PeakLayerMicroBatches(r, l.PP, l.VirtualStages, m, stageChunks)
		mem := Memory{
			Weights:     wb * params[r],
			Gradients:   float64(t.GradBytes) * params[r],
			Optimizer:   optimizerBytes * params[r],
			Activations: heldLayers(l, peak, stageChunks)*perLayer + working,
			Reserved:    ReservedBytes,
		}
		if l.ZeRO >= 1 {
			mem.Optimizer /= shard
		}
		if l.ZeRO >= 2 {
			mem.Gradients = mem.Gradients/shard + float64(t.GradBytes)*bucket
		}
		if l.ZeRO >= 3 {
			mem.Weights = mem.Weights/shard + 2*wb*bucket
		}
		if r == (len(chunks)-1)%l.PP {
			mem.Activations += logitBytes * l.gpuTokens(t) * float64(a.Vocab) / float64(l.TP)
		}
		out[r] = mem
	}
	return out, nil
}

// heldLayers is how many layer-micro-batches of activations a stage holds
// in HBM at its peak of peak: with activation offload (Layout.OffloadLayers
// of its layers, the first ones it runs), the offloaded share of them is in
// host memory. Transformer Engine's offload schedule (OffloadSynchronizer,
// transformer_engine/pytorch/cpu_offload.py) finishes layer i's copy out
// before layer n−off+i runs forward and starts its copy back when the
// backward pass reaches layer n−1−off+i, so that, in its own words, "peak
// memory usage of saving activations is (num_layers − num_offloaded_layers)
// · T".
func heldLayers(l Layout, peak int, stageChunks []int) float64 {
	n := 0
	for _, c := range stageChunks {
		n += c
	}
	off := min(l.OffloadLayers, n)
	if off <= 0 {
		return float64(peak)
	}
	return float64(peak) * float64(n-off) / float64(n)
}

// logitBytes is the peak bytes per logit of the loss: the bf16 logits and
// their fp32 copy (see StageMemory).
const logitBytes = 2 + 4
