package model

import (
	"fmt"
	"testing"

	"github.com/clustersim/clustersim/cluster"
)

// TestStageMemoryLlama3_8BByHand checks every part for Llama 3 8B on one
// node, tp1 pp1 dp8, ZeRO-1, bf16 with fp32 gradients, micro batch 1 of
// 8192 tokens, against numbers worked out by hand.
func TestStageMemoryLlama3_8BByHand(t *testing.T) {
	a, _ := LookupArch("llama3-8b")
	l := Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1, ZeRO: 1}
	tr := Training{SeqLen: 8192, GlobalBatch: 64, GradBytes: 4}
	mem, err := StageMemory(a, l, tr)
	if err != nil {
		t.Fatal(err)
	}
	// Parameters: 32 layers of 2·4096·4096 + 2·4096·1024 (attention) +
	// 3·4096·14336 (SwiGLU) + 2·4096 (norms) = 218,112,000; the embedding
	// and the untied head 128256·4096 each; the final norm 4096.
	const params = 32*218_112_000 + 2*525_336_576 + 4096 // 8,030,261,248
	// Activations per token per layer: Q 2·4096, K and V 2·2·1024, the
	// attention output 2·4096, SwiGLU gate and up 2·2·14336 and their
	// product 2·14336, log-sum-exp 4·32; norm inputs and outputs 4·2·4096.
	const perToken = 2*4096 + 2*2*1024 + 2*4096 + 3*2*14336 + 4*32 + 4*2*4096 // 139,392
	// pp1 holds one micro batch of its 32 layers, plus the working layer,
	// plus the logits of the micro batch at 6 bytes each (bf16 and fp32).
	const acts = (32+1)*perToken*8192 + 6*8192*128256
	want := Memory{
		Weights:     2 * params,      // 16,060,522,496
		Gradients:   4 * params,      // 32,121,044,992
		Optimizer:   12 * params / 8, // 12,045,391,872
		Activations: acts,
		Reserved:    ReservedBytes,
	}
	if got := mem[0]; got != want {
		t.Errorf("StageMemory =\n %+v\nwant\n %+v", got, want)
	}
}

// TestDistributedOptimizerBytesPerParam reproduces Megatron-Core's table of
// bytes per parameter (docs/source/api-guide/dist_optimizer.md): bf16
// weights with fp32 gradients take 18 bytes without the distributed
// optimizer and 6 + 12/d with it, d the data-parallel size — which is dp·cp,
// since context-parallel ranks hold the same weights and shard the
// optimizer with the data-parallel ranks. For 16-bit gradients the table
// gives 4 + 16/d: the extra 4/d is the fp32 copy of the gradient shard the
// optimizer makes at its step, when the activations are gone, so the
// account (a peak during the backward pass) holds 4 + 12/d.
func TestDistributedOptimizerBytesPerParam(t *testing.T) {
	a := Arch{Layers: 4, Hidden: 256, FFNHidden: 1024, Heads: 4, KVHeads: 4, Vocab: 1024, MLP: GELU}
	for _, c := range []struct {
		zero, dp, cp, grad int
		want               float64
	}{
		{0, 8, 1, 4, 18},
		{1, 8, 1, 4, 6 + 12.0/8},
		{1, 4, 2, 4, 6 + 12.0/8}, // cp ranks shard like dp ranks
		{1, 2, 8, 4, 6 + 12.0/16},
		{1, 8, 1, 2, 4 + 12.0/8},
		{0, 8, 1, 2, 16},
		{2, 4, 2, 4, 2 + 16.0/8}, // ZeRO-2 shards the gradients too (less one bucket)
		{3, 4, 2, 4, 18.0 / 8},   // ZeRO-3 everything (less two buckets' weights)
	} {
		t.Run(fmt.Sprintf("zero%d dp%d cp%d grad%d", c.zero, c.dp, c.cp, c.grad), func(t *testing.T) {
			l := Layout{TP: 1, PP: 1, CP: c.cp, DP: c.dp, MicroBatch: 1, VirtualStages: 1, ZeRO: c.zero}
			tr := Training{SeqLen: 64, GlobalBatch: 8 * c.dp, GradBytes: c.grad}
			mem, err := StageMemory(a, l, tr)
			if err != nil {
				t.Fatal(err)
			}
			m := mem[0]
			static := m.Weights + m.Gradients + m.Optimizer
			// Take off what ZeRO-2/3 keep unsharded: one bucket's
			// gradients and two buckets' weights (the largest bucket here
			// is a layer).
			bucket := max(a.LayerParams(), a.EmbeddingParams())
			if c.zero >= 2 {
				static -= float64(c.grad) * bucket
			}
			if c.zero >= 3 {
				static -= 2 * 2 * bucket
			}
			if got := static / a.Params(); !near(got, c.want, 1e-12) {
				t.Errorf("%.6g bytes/param, want %.6g", got, c.want)
			}
		})
	}
}

func TestWeightBytes(t *testing.T) {
	for _, c := range []struct {
		name string
		tr   Training
		want float64
	}{
		{"bf16", Training{}, 2},
		{"bf16 ignores fp8 params", Training{FP8Params: true}, 2},
		// fp8_param_gather: the fp8 weight and the transpose Hopper's
		// FP8 GEMMs need for the backward pass.
		{"fp8 params", Training{Precision: cluster.FP8, FP8Params: true}, 2},
		// bf16 weights plus TE's cached fp8 copy and its transpose.
		{"fp8 beside bf16", Training{Precision: cluster.FP8}, 4},
	} {
		if got := WeightBytes(c.tr); got != c.want {
			t.Errorf("%s: WeightBytes = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestActivationBytesFP8ByHand: Llama 3 70B, tp4 with sequence
// parallelism, fp8. Transformer Engine saves the four products' inputs as
// its 8-bit casts; the attention kernel keeps Q, K, V and its output in
// bf16, so the output projection's fp8 copy comes on top.
func TestActivationBytesFP8ByHand(t *testing.T) {
	a, _ := LookupArch("llama3-70b")
	l := Layout{TP: 4, SequenceParallel: true}
	const split = 2*2048 + 2*2*256 + 2*2048 + 1*2048 + // Q, K, V, output (bf16), output (fp8)
		(2*2*28672+1*28672)/4 + // SwiGLU gate and up (bf16), product (fp8)
		4*16 // log-sum-exp
	const replicated = 2*2*8192 + 2*1*8192 // norm inputs (bf16), norm outputs (fp8)
	for _, c := range []struct {
		name string
		tr   Training
		want float64
	}{
		{"fp8", Training{SeqLen: 8192, Precision: cluster.FP8}, split + replicated/4}, // 59,456
		{"bf16", Training{SeqLen: 8192}, 2*2048 + 2*2*256 + 2*2048 + 3*2*28672/4 + 4*16 + 4*2*8192/4},
	} {
		if got := a.ActivationBytesPerToken(l, c.tr); got != c.want {
			t.Errorf("%s: %v bytes/token, want %v", c.name, got, c.want)
		}
	}
}

// TestPublishedLayoutsFit: layouts NVIDIA ran on 80 GB H100s with
// Megatron-Core and NeMo's fp8 recipes (fp8 weights, bf16 gradient
// reduction, no recompute) must fit in 80 GiB.
func TestPublishedLayoutsFit(t *testing.T) {
	const capacity = 80 << 30
	for _, c := range []struct {
		name string
		l    Layout
		gb   int
	}{
		// Megatron-Bridge 25.11 performance summary, DGX-H100.
		{"llama3-70b", Layout{TP: 4, PP: 8, CP: 1, DP: 2, VirtualStages: 5}, 128},
		{"llama3-405b", Layout{TP: 8, PP: 8, CP: 2, DP: 8, VirtualStages: 8}, 512},
		// NeMo 24.07 performance summary.
		{"llama3-8b", Layout{TP: 1, PP: 1, CP: 2, DP: 4, VirtualStages: 1}, 128},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, _ := LookupArch(c.name)
			l := c.l
			l.MicroBatch, l.ZeRO, l.SequenceParallel = 1, 1, l.TP > 1
			tr := Training{SeqLen: 8192, GlobalBatch: c.gb, GradBytes: 2, Precision: cluster.FP8, FP8Params: true}
			mem, err := StageMemory(a, l, tr)
			if err != nil {
				t.Fatal(err)
			}
			for r, m := range mem {
				if m.Total() > capacity {
					t.Errorf("stage %d needs %.1f GiB", r, m.Total()/(1<<30))
				}
			}
		})
	}
}
