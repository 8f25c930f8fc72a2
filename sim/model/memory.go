package model

import "fmt"

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

const (
	weightBytes    = 2  // bf16 weights
	optimizerBytes = 12 // fp32 master weights and Adam m and v
)

// ActivationBytesPerToken is the memory one transformer layer keeps for the
// backward pass, per token of the GPU's slice of the micro batch (b·s/cp
// tokens), on one GPU. Tensor by tensor, in bf16 (2 bytes), following
// Korthikanti et al. 2022 (arXiv:2205.05198) §4.1:
//
//   - split over tp always: Q (2·h_attn), K and V (2·2·kv_dim; GQA makes them
//     small), the attention output (2·h_attn, the input of the output
//     projection); SwiGLU's gate and up outputs and their product (3·2·f),
//     or GELU's input and output (2·2·f); with fused attention the softmax
//     statistics (fp32 per head), without it the scores' softmax (2·a·s),
//     and with dropout its mask (a·s) and output (2·a·s) — the 5·a·s/h term;
//   - split over tp with sequence parallelism, replicated without: the two
//     norms' inputs (2·2·h), the inputs of the QKV and first MLP products
//     (2·2·h), and with dropout the two dropout masks (2·h, one byte each).
//
// For GPT-3-style layers (GELU, f = 4h, MHA, dropout) this is Korthikanti's
// s·b·h·(34 + 5·a·s/h)/tp with sequence parallelism and
// s·b·h·(10 + 24/tp + 5·a·s/(h·tp)) without. Selective recompute drops the
// attention core's s×s terms; full recompute keeps only the layer input
// (2·h, split over tp with sequence parallelism); element-wise recompute
// drops the norms' outputs (2·2·h) and the activation function's output
// (2·f).
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
	f := float64(a.FFNHidden)
	kvHeads := max(float64(a.KVHeads)/tp, 1) // KV heads are replicated when tp exceeds them
	hd := float64(a.HeadDim())
	heads := float64(a.Heads) / tp
	split := 2*heads*hd + 2*2*kvHeads*hd + 2*heads*hd
	mlpTensors := 2.0 // GELU's input and output
	if a.MLP == SwiGLU {
		mlpTensors = 3 // gate, up and their product
	}
	if l.RecomputeElementwise {
		mlpTensors-- // the activation's output is recomputed
	}
	split += mlpTensors * 2 * f / tp
	seq := float64(t.SeqLen) // keys per query: the whole sequence, also under CP
	switch {
	case t.Attention == Unfused && l.Recompute == RecomputeNone:
		split += 2 * heads * seq
		if a.Dropout {
			split += 3 * heads * seq
		}
	case t.Attention == Flash:
		split += 4 * heads // log-sum-exp, fp32
	}
	replicated := 2*2*h + 2*2*h // norm inputs, norm outputs (the products' inputs)
	if l.RecomputeElementwise {
		replicated = 2 * 2 * h
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

// StageMemory returns the peak memory of one GPU of every pipeline stage.
//
// Weights are bf16 (plus an fp8 copy when training in fp8), gradients
// t.GradBytes per parameter, the optimizer 12 bytes per parameter; ZeRO
// shards them over dp as its stage says (stage 3 keeps two buckets' weights
// gathered for the pass in progress and the one prefetched; stages 2 and 3
// keep one bucket's unsharded gradients while they are reduced; a bucket is
// a layer, or the embedding or the head). Activations
// are the layer-micro-batches the schedule holds at its peak
// (PeakLayerMicroBatches, which equals PeakInFlight of the schedule) times
// ActivationBytesPerToken, plus the working set of the
// layer in its backward pass (its full activations, recomputed or not), plus
// on the last stage the fp32 logits and their gradient for one micro batch.
func StageMemory(a Arch, l Layout, t Training) ([]Memory, error) {
	params, err := a.StageParams(l)
	if err != nil {
		return nil, err
	}
	chunks, _ := l.ChunkLayers(a)
	m := l.MicroBatches(t)
	if m < 1 {
		return nil, fmt.Errorf("model: %d micro batches per step", m)
	}
	tokens := float64(l.MicroBatch) * float64(t.SeqLen) / float64(l.CP)
	perLayer := a.ActivationBytesPerToken(l, t) * tokens
	working := perLayer
	if l.Recompute != RecomputeNone || l.RecomputeElementwise {
		full := l
		full.Recompute, full.RecomputeElementwise = RecomputeNone, false
		working = a.ActivationBytesPerToken(full, t) * tokens
	}
	dp := float64(l.DP)
	wb := float64(weightBytes)
	if t.Precision != 0 { // fp8 keeps an 8-bit copy of the weights too
		wb++
	}
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
			Activations: float64(peak)*perLayer + working,
			Reserved:    ReservedBytes,
		}
		if l.ZeRO >= 1 {
			mem.Optimizer /= dp
		}
		if l.ZeRO >= 2 {
			mem.Gradients = mem.Gradients/dp + float64(t.GradBytes)*bucket
		}
		if l.ZeRO >= 3 {
			mem.Weights = mem.Weights/dp + 2*wb*bucket
		}
		if r == (len(chunks)-1)%l.PP {
			mem.Activations += 2 * 4 * tokens * float64(a.Vocab) / float64(l.TP)
		}
		out[r] = mem
	}
	return out, nil
}
