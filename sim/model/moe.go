package model

import (
	"errors"
	"fmt"
)

// MoE describes mixture-of-experts feed-forward blocks. The zero value is a
// dense model.
//
// A MoE layer routes every token to TopK of Experts routed experts (a
// router product h×Experts scores them), each a feed-forward block of width
// ExpertFFN of the model's MLP kind, and adds SharedExperts always-active
// experts of width SharedFFN. The first DenseLayers layers keep a dense
// feed-forward block of width Arch.FFNHidden (DeepSeek-V3's first three).
type MoE struct {
	Experts       int // routed experts per MoE layer; 0 = dense model
	TopK          int // routed experts per token
	ExpertFFN     int // one routed expert's FFN width
	SharedExperts int // always-active experts per MoE layer
	SharedFFN     int // one shared expert's FFN width (0 = ExpertFFN)
	DenseLayers   int // leading layers with a dense FFN of width Arch.FFNHidden
	// GroupLimit, when > 0, is node-limited routing (DeepSeek-V3 §2.1.2,
	// config.json topk_group): each token's experts lie on at most
	// GroupLimit nodes, and the dispatch sends each token once to each
	// node it needs, to be forwarded over NVLink there (DeepSeek's DeepEP
	// kernels, §3.2.2), in fp8 when training in an 8-bit precision (§3.3.3).
	GroupLimit int
	// MTPLayers is the depth of multi-token prediction trained with the
	// model (DeepSeek-V3 §2.2; Megatron-Core's mtp_num_layers): each module embeds the
	// shifted tokens (with the shared embedding), joins them to the
	// previous depth's hidden states through two RMSNorms and a 2h×h
	// projection, runs one more MoE transformer layer and the shared output
	// head and loss. The modules sit on the last pipeline stage (DualPipe
	// and Megatron-Core's pipeline layouts put them with the loss); they
	// cost compute and their own parameters there, but are not counted in
	// the model's parameters or model FLOPs (the paper's 671B and 37B
	// leave them out).
	MTPLayers int
}

// MLA is multi-head latent attention (DeepSeek-V2, arXiv:2405.04434 §2.1;
// DeepSeek-V3, arXiv:2412.19437 §2.1): queries through a low-rank
// projection of rank QLoRARank (0: a full h×heads·(nope+rope) projection),
// keys and values through a shared latent of rank KVLoRARank plus one
// decoupled RoPE key of QKRopeHeadDim shared by all heads. A query/key head
// is QKNopeHeadDim+QKRopeHeadDim wide, a value head VHeadDim. The zero
// value is ordinary multi-head or grouped-query attention.
type MLA struct {
	QLoRARank, KVLoRARank        int
	QKNopeHeadDim, QKRopeHeadDim int
	VHeadDim                     int
}

// IsMoE reports whether the model has mixture-of-experts layers.
func (a Arch) IsMoE() bool { return a.MoE.Experts > 0 }

// IsMLA reports whether attention is multi-head latent attention.
func (a Arch) IsMLA() bool { return a.MLA.KVLoRARank > 0 }

// MoELayers is the number of layers with a mixture-of-experts block.
func (a Arch) MoELayers() int {
	if !a.IsMoE() {
		return 0
	}
	return max(a.Layers-a.MoE.DenseLayers, 0)
}

// IsMoELayer reports whether layer i (0-based, model order) is a MoE layer.
func (a Arch) IsMoELayer(i int) bool { return a.IsMoE() && i >= a.MoE.DenseLayers }

// SharedFFN is one shared expert's FFN width: MoE.SharedFFN, or the routed
// experts' width when it is not set.
func (a Arch) SharedFFN() int {
	if a.MoE.SharedFFN > 0 {
		return a.MoE.SharedFFN
	}
	return a.MoE.ExpertFFN
}

// ffnParams is one feed-forward block of width f.
func (a Arch) ffnParams(f int) float64 {
	return float64(a.mlpMatrices()) * float64(a.Hidden) * float64(f)
}

// DenseMLPParams is one dense layer's feed-forward block (width FFNHidden).
func (a Arch) DenseMLPParams() float64 { return a.ffnParams(a.FFNHidden) }

// RouterParams is one MoE layer's router, h×Experts.
func (a Arch) RouterParams() float64 { return float64(a.Hidden) * float64(a.MoE.Experts) }

// ExpertParams is one routed expert.
func (a Arch) ExpertParams() float64 { return a.ffnParams(a.MoE.ExpertFFN) }

// SharedExpertParams is all the shared experts of one MoE layer.
func (a Arch) SharedExpertParams() float64 {
	return float64(a.MoE.SharedExperts) * a.ffnParams(a.SharedFFN())
}

// MoEMLPParams is one MoE layer's feed-forward parameters: the router, every
// routed expert and the shared experts.
func (a Arch) MoEMLPParams() float64 {
	return a.RouterParams() + float64(a.MoE.Experts)*a.ExpertParams() + a.SharedExpertParams()
}

// ActiveMoEMLPParams is the feed-forward parameters one token uses in a MoE
// layer: the router, TopK routed experts and the shared experts.
func (a Arch) ActiveMoEMLPParams() float64 {
	return a.RouterParams() + float64(a.MoE.TopK)*a.ExpertParams() + a.SharedExpertParams()
}

// mlaParams is one MLA attention block: the query down- and up-projections
// (or one full query projection) with the norm of the query latent, the KV
// down-projection to the latent and the shared RoPE key with the latent's
// norm, the KV up-projection to every head's key (nope part) and value, and
// the output projection.
func (a Arch) mlaParams() float64 {
	m := a.MLA
	h, heads := float64(a.Hidden), float64(a.Heads)
	qk := float64(m.QKNopeHeadDim + m.QKRopeHeadDim)
	p := 0.0
	if m.QLoRARank > 0 {
		p += h*float64(m.QLoRARank) + float64(m.QLoRARank) + float64(m.QLoRARank)*heads*qk
	} else {
		p += h * heads * qk
	}
	p += h*float64(m.KVLoRARank+m.QKRopeHeadDim) + float64(m.KVLoRARank)
	p += float64(m.KVLoRARank) * heads * float64(m.QKNopeHeadDim+m.VHeadDim)
	p += heads * float64(m.VHeadDim) * h
	return p
}

// ChinchillaTokensPerParam is the compute-optimal ratio of Hoffmann et al.
// 2022 ("Training Compute-Optimal Large Language Models"), about 20 tokens
// per parameter (reference/published.yaml, napkin): the run length a
// scenario gets when it does not say (20 tokens per active parameter).
const ChinchillaTokensPerParam = 20

// ActiveParams is the parameters one token uses: every parameter of a dense
// model; a MoE model's attention, dense and shared blocks, routers, TopK
// routed experts per MoE layer, the embedding and the head.
func (a Arch) ActiveParams() float64 {
	if !a.IsMoE() {
		return a.Params()
	}
	return a.Params() - float64(a.MoELayers())*float64(a.MoE.Experts-a.MoE.TopK)*a.ExpertParams()
}

// ActiveMatmulParams is N_matmul counted over the active parameters: what
// one token multiplies by (see the package doc). It equals MatmulParams for
// a dense model.
func (a Arch) ActiveMatmulParams() float64 {
	if !a.IsMoE() {
		return a.MatmulParams()
	}
	return a.MatmulParams() - float64(a.MoELayers())*float64(a.MoE.Experts-a.MoE.TopK)*a.ExpertParams()
}

// ActiveLayerMatmulParams is the matrix-product parameters one token uses in
// the transformer layers, all layers summed (recomputation re-runs them).
func (a Arch) ActiveLayerMatmulParams() float64 {
	return a.ActiveMatmulParams() - a.EmbeddingParams()
}

// layerMLPParams is layer i's feed-forward parameters.
func (a Arch) layerMLPParams(i int) float64 {
	if a.IsMoELayer(i) {
		return a.MoEMLPParams()
	}
	return a.DenseMLPParams()
}

// LayerSplit is one layer's parameters on one GPU: Dense are replicated
// over the data-parallel ranks and split over tp (attention, norms, dense
// and shared feed-forward blocks, the router); Expert are the routed
// experts, split over ep·etp.
type LayerSplit struct{ Dense, Expert float64 }

// LayerParamsOn returns layer i's parameters on one GPU of layout l.
func (a Arch) LayerParamsOn(i int, l Layout) LayerSplit {
	tp := float64(l.TP)
	base := a.AttentionParams() + 2*float64(a.Hidden)
	if !a.IsMoELayer(i) {
		return LayerSplit{Dense: (base + a.DenseMLPParams()) / tp}
	}
	return LayerSplit{
		Dense:  (base+a.SharedExpertParams())/tp + a.RouterParams(),
		Expert: float64(a.MoE.Experts) * a.ExpertParams() / float64(l.EPSize()*l.ETPSize()),
	}
}

// ChunkParamsOn returns, per model chunk (j = c·pp + r), the dense and the
// expert parameters on one GPU: its layers and, on the first and last
// chunks, the embedding and the head with the final norm (split over tp).
func (a Arch) ChunkParamsOn(l Layout) ([]LayerSplit, error) {
	chunks, err := l.ChunkLayers(a)
	if err != nil {
		return nil, err
	}
	out := make([]LayerSplit, len(chunks))
	first := 0
	var dense, moe LayerSplit
	if a.MoE.DenseLayers < a.Layers {
		moe = a.LayerParamsOn(a.Layers-1, l)
	}
	dense = a.LayerParamsOn(0, l)
	for j, n := range chunks {
		nd := min(max(a.MoE.DenseLayers-first, 0), n)
		if !a.IsMoE() {
			nd = n
		}
		nm := n - nd
		out[j] = LayerSplit{
			Dense:  float64(nd)*dense.Dense + float64(nm)*moe.Dense,
			Expert: float64(nm) * moe.Expert,
		}
		first += n
	}
	out[0].Dense += a.EmbeddingParams() / float64(l.TP)
	last := &out[len(out)-1]
	last.Dense += (a.HeadParams() + float64(a.Hidden)) / float64(l.TP)
	if n := float64(a.MoE.MTPLayers); n > 0 && a.IsMoE() {
		h := float64(a.Hidden)
		last.Dense += n * (moe.Dense + (2*h*h+3*h)/float64(l.TP)) // the layer, the projection, the two input norms and the output norm
		last.Expert += n * moe.Expert
	}
	return out, nil
}

// ChunkMoELayers returns, per model chunk, how many of its layers are MoE
// layers (the rest are dense).
func (a Arch) ChunkMoELayers(chunks []int) []int {
	out := make([]int, len(chunks))
	first := 0
	for j, n := range chunks {
		if a.IsMoE() {
			out[j] = n - min(max(a.MoE.DenseLayers-first, 0), n)
		}
		first += n
	}
	return out
}

func (a Arch) validateMoE() error {
	var errs []error
	if a.IsMLA() {
		m := a.MLA
		for _, f := range []struct {
			k string
			v int
		}{{"q_lora_rank", m.QLoRARank}, {"kv_lora_rank", m.KVLoRARank}, {"qk_nope_head_dim", m.QKNopeHeadDim}, {"qk_rope_head_dim", m.QKRopeHeadDim}, {"v_head_dim", m.VHeadDim}} {
			if f.v < 0 || (f.v == 0 && f.k != "q_lora_rank") {
				errs = append(errs, &FieldError{"model.mla." + f.k, f.v, "must be > 0 (q_lora_rank >= 0)"})
			}
		}
	}
	if !a.IsMoE() {
		if a.MoE != (MoE{}) {
			errs = append(errs, &FieldError{"model.moe.experts", a.MoE.Experts, "must be > 0 in a MoE model"})
		}
		return errors.Join(errs...)
	}
	m := a.MoE
	if m.TopK < 1 || m.TopK > m.Experts {
		errs = append(errs, &FieldError{"model.moe.top_k", m.TopK, fmt.Sprintf("must be in [1, experts = %d]", m.Experts)})
	}
	if m.ExpertFFN < 1 {
		errs = append(errs, &FieldError{"model.moe.expert_ffn_hidden", m.ExpertFFN, "must be > 0"})
	}
	if m.SharedExperts < 0 || m.SharedFFN < 0 {
		errs = append(errs, &FieldError{"model.moe.shared_experts", m.SharedExperts, "must be >= 0 (and shared_ffn_hidden >= 0)"})
	}
	if m.DenseLayers < 0 || m.DenseLayers > a.Layers {
		errs = append(errs, &FieldError{"model.moe.dense_layers", m.DenseLayers, fmt.Sprintf("must be in [0, layers = %d]", a.Layers)})
	}
	return errors.Join(errs...)
}

// The built-in mixture-of-experts architectures, from the released
// Hugging Face config.json of each model (keys in parentheses) and the
// papers. FFNHidden is the config's intermediate_size: the dense layers'
// width where there are any, unused otherwise.
var moeBuiltins = []Arch{
	// DeepSeek-V3 (arXiv:2412.19437 §4.2; deepseek-ai/DeepSeek-V3
	// config.json): 61 layers, hidden 7168, 128 heads of MLA (q_lora_rank
	// 1536, kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64,
	// v_head_dim 128), the first 3 layers dense (first_k_dense_replace,
	// intermediate_size 18432), then 256 routed experts of width 2048
	// (moe_intermediate_size), 8 per token, and 1 shared expert; vocabulary
	// 129,280, untied; node-limited routing to at most 4 of 8 groups
	// (topk_group 4, n_group 8). 671B parameters, 37B active (the paper;
	// the multi-token-prediction module's 14B, num_nextn_predict_layers 1,
	// are not counted, and are trained only when a scenario's
	// training.mtp_layers asks for them).
	{Name: "deepseek-v3", Layers: 61, Hidden: 7168, FFNHidden: 18432, Heads: 128, KVHeads: 128, Vocab: 129280, MLP: SwiGLU,
		MoE: MoE{Experts: 256, TopK: 8, ExpertFFN: 2048, SharedExperts: 1, DenseLayers: 3, GroupLimit: 4},
		MLA: MLA{QLoRARank: 1536, KVLoRARank: 512, QKNopeHeadDim: 128, QKRopeHeadDim: 64, VHeadDim: 128}},
	// Kimi K2 (moonshotai/Kimi-K2-Instruct config.json; arXiv:2507.20534):
	// DeepSeek-V3's architecture with 64 heads, 384 routed experts, one
	// dense layer and a 163,840 vocabulary. 1.04T parameters, 32B active.
	{Name: "kimi-k2", Layers: 61, Hidden: 7168, FFNHidden: 18432, Heads: 64, KVHeads: 64, Vocab: 163840, MLP: SwiGLU,
		MoE: MoE{Experts: 384, TopK: 8, ExpertFFN: 2048, SharedExperts: 1, DenseLayers: 1},
		MLA: MLA{QLoRARank: 1536, KVLoRARank: 512, QKNopeHeadDim: 128, QKRopeHeadDim: 64, VHeadDim: 128}},
	// Qwen3-235B-A22B (Qwen/Qwen3-235B-A22B config.json; arXiv:2505.09388
	// Table 2): 94 layers, hidden 4096, 64 query and 4 KV heads of width 128
	// (head_dim), every layer MoE with 128 experts of width 1536, 8 per
	// token, no shared expert; vocabulary 151,936, untied. 235B, 22B active.
	{Name: "qwen3-235b-a22b", Layers: 94, Hidden: 4096, FFNHidden: 12288, Heads: 64, KVHeads: 4, HeadDimSize: 128, Vocab: 151936, MLP: SwiGLU,
		MoE: MoE{Experts: 128, TopK: 8, ExpertFFN: 1536}},
	// Qwen3-30B-A3B (Qwen/Qwen3-30B-A3B config.json): 48 layers, hidden
	// 2048, 32 query and 4 KV heads of 128, 128 experts of width 768, 8 per
	// token. 30.5B, 3.3B active.
	{Name: "qwen3-30b-a3b", Layers: 48, Hidden: 2048, FFNHidden: 6144, Heads: 32, KVHeads: 4, HeadDimSize: 128, Vocab: 151936, MLP: SwiGLU,
		MoE: MoE{Experts: 128, TopK: 8, ExpertFFN: 768}},
	// gpt-oss-120b (openai/gpt-oss-120b config.json; OpenAI gpt-oss model
	// card, arXiv:2508.10925): 36 layers, hidden 2880, 64 query and 8 KV
	// heads of 64, 128 experts (num_local_experts) of width 2880, 4 per
	// token (experts_per_token); vocabulary 201,088, untied. 117B, 5.1B
	// active. Its alternate layers' 128-token sliding window is not
	// modelled (their attention is priced as full causal attention).
	{Name: "gpt-oss-120b", Layers: 36, Hidden: 2880, FFNHidden: 2880, Heads: 64, KVHeads: 8, HeadDimSize: 64, Vocab: 201088, MLP: SwiGLU,
		MoE: MoE{Experts: 128, TopK: 4, ExpertFFN: 2880}},
	// Mixtral 8x7B (mistralai/Mixtral-8x7B-v0.1 config.json;
	// arXiv:2401.04088): 32 layers, hidden 4096, 32 query and 8 KV heads,
	// 8 experts of width 14336, 2 per token; vocabulary 32,000. 46.7B,
	// 12.9B active.
	{Name: "mixtral-8x7b", Layers: 32, Hidden: 4096, FFNHidden: 14336, Heads: 32, KVHeads: 8, Vocab: 32000, MLP: SwiGLU,
		MoE: MoE{Experts: 8, TopK: 2, ExpertFFN: 14336}},
}
