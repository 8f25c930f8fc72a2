package model

import (
	"testing"

	"github.com/clustersim/clustersim/cluster"
)

func TestMoEParams(t *testing.T) {
	for _, c := range []struct {
		name          string
		total, active float64 // published, see each comment
		tol           float64
	}{
		{"deepseek-v3", 671e9, 37e9, 0.02},      // arXiv:2412.19437 abstract: 671B total, 37B activated
		{"kimi-k2", 1.04e12, 32.6e9, 0.02},      // arXiv:2507.20534: 1.04T total, 32B activated
		{"qwen3-235b-a22b", 235e9, 22e9, 0.02},  // Qwen3 technical report Table 2
		{"qwen3-30b-a3b", 30.5e9, 3.3e9, 0.03},  // Qwen/Qwen3-30B-A3B model card: 30.5B, 3.3B activated
		{"gpt-oss-120b", 116.8e9, 5.13e9, 0.12}, // gpt-oss model card Table 1: 116.83B total, 5.13B active (the card counts no unembedding among the active)
		{"mixtral-8x7b", 46.7e9, 12.9e9, 0.02},  // arXiv:2401.04088 §2: 47B total, 13B active
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := LookupArch(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := a.Params(); !near(got, c.total, c.tol) {
				t.Errorf("Params() = %.4g, want %.4g ± %g", got, c.total, c.tol)
			}
			if got := a.ActiveParams(); !near(got, c.active, max(c.tol, 0.03)) {
				t.Errorf("ActiveParams() = %.4g, want %.4g", got, c.active)
			}
		})
	}
}

func TestMLAParamsByHand(t *testing.T) {
	a, _ := LookupArch("deepseek-v3")
	// q_a 7168·1536 + norm 1536 + q_b 1536·128·192; kv_a 7168·576 + norm
	// 512; kv_b 512·128·256; o 128·128·7168.
	want := 7168.0*1536 + 1536 + 1536*128*192 + 7168*576 + 512 + 512*128*256 + 128*128*7168
	if got := a.AttentionParams(); got != want {
		t.Errorf("AttentionParams() = %v, want %v", got, want)
	}
	// The attention core: QKᵀ over 192 and AV over 128 per head, i.e. the
	// FLOPs of 128 heads of (192+128)/2 = 160.
	if got := a.HeadDim(); got != 160 {
		t.Errorf("HeadDim() = %d, want 160", got)
	}
}

func TestExpertSharding(t *testing.T) {
	a, _ := LookupArch("deepseek-v3")
	l := Layout{TP: 1, PP: 16, CP: 1, DP: 128, EP: 64, MicroBatch: 1, VirtualStages: 1}
	// Megatron-Core: expert DP = tp·cp·dp/(ep·etp) = 128/64 = 2.
	if got := l.ExpertDP(); got != 2 {
		t.Errorf("ExpertDP() = %d, want 2", got)
	}
	// A MoE layer's 256 experts over ep 64: 4 experts of 3·7168·2048.
	s := a.LayerParamsOn(10, l)
	if want := 4 * 3 * 7168.0 * 2048; s.Expert != want {
		t.Errorf("experts on one GPU = %v, want %v", s.Expert, want)
	}
	if err := l.Validate(a, Training{SeqLen: 4096, GlobalBatch: 15360}, 2048); err != nil {
		t.Errorf("DeepSeek-V3's layout: %v", err)
	}
	bad := l
	bad.EP = 48
	if err := bad.Validate(a, Training{SeqLen: 4096, GlobalBatch: 15360}, 2048); err == nil {
		t.Error("ep 48 does not divide 256 experts: want an error")
	}
}

// TestMTPChunks: a multi-token-prediction module takes two slots of the
// last chunk (its layer and its loss), and its parameters land there.
func TestMTPChunks(t *testing.T) {
	a, err := LookupArch("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	l := Layout{TP: 1, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 1, EP: 64}
	base, err := l.ChunkLayers(a)
	if err != nil {
		t.Fatal(err)
	}
	a.MoE.MTPLayers = 1
	mtp, err := l.ChunkLayers(a)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, n := range mtp {
		sum += n
	}
	if sum != a.Layers || mtp[len(mtp)-1] >= base[len(base)-1] {
		t.Errorf("chunks without MTP %v, with %v: want %d layers and a lighter last chunk", base, mtp, a.Layers)
	}
	ps, err := a.ChunkParamsOn(l)
	if err != nil {
		t.Fatal(err)
	}
	a.MoE.MTPLayers = 0
	ps0, _ := a.ChunkParamsOn(l)
	last := len(ps) - 1
	if ps[last].Expert <= ps0[last].Expert && ps[last].Dense <= ps0[last].Dense {
		t.Errorf("MTP adds no parameters to the last chunk: %+v vs %+v", ps[last], ps0[last])
	}
}

// TestMoEActivationByHand checks one DeepSeek-V3 MoE layer's activations
// per token under DeepSeek's recipe (tp 1, fp8, selective recomputation of
// the MLA up-projections with element-wise recomputation of the norms and
// activation outputs, arXiv:2412.19437 §3.2.3 and §3.3.3), tensor by tensor.
func TestMoEActivationByHand(t *testing.T) {
	a, _ := LookupArch("deepseek-v3")
	l := Layout{TP: 1, PP: 16, CP: 1, DP: 128, EP: 64, MicroBatch: 1, VirtualStages: 1,
		Recompute: RecomputeSelective, RecomputeElementwise: true, ZeRO: 1}
	tr := Training{SeqLen: 4096, GlobalBatch: 15360, Precision: cluster.FP8, GradBytes: 4, Attention: Flash}
	// Attention half: the attention output, 128 heads × v_head_dim 128 in
	// bf16 (32768) and its fp8 copy (16384); the softmax statistics, fp32
	// per head (512); the query and KV latents and the RoPE key, bf16
	// (2·(1536+512+64) = 4224); the two norms' inputs, bf16 (4·7168 =
	// 28672). Q, K and V are recomputed, the norm outputs too.
	attn := 32768.0 + 16384 + 512 + 4224 + 28672
	// MoE half: per routed copy (top 8) the fp8 expert input (7168), the
	// SwiGLU inputs in fp8 (2·2048), the fp32 probability and int32
	// permutation row (8); the shared expert's SwiGLU inputs in bf16
	// (2·2·2048); the router's fp32 scores (4·256).
	moe := 8*(7168+2*2048+8) + 4*2048 + 4*256.0
	if got, want := a.MoEActivationBytesPerToken(l, tr), attn+moe; got != want {
		t.Errorf("MoEActivationBytesPerToken = %g, want %g", got, want)
	}
	// A dense layer of the same model (the first three): the attention
	// half and the dense SwiGLU's bf16 inputs, 2·2·18432.
	if got, want := a.denseLayerActivationBytesPerToken(l, tr), attn+4*18432; got != want {
		t.Errorf("denseLayerActivationBytesPerToken = %g, want %g", got, want)
	}
}
