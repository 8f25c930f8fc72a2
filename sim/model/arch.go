package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MLP is the feed-forward block's kind.
type MLP int

const (
	// SwiGLU has three projections (gate, up, down) and a SiLU-gated product,
	// as in Llama.
	SwiGLU MLP = iota
	// GELU has two projections around a GELU, as in GPT-2/3 and Megatron.
	GELU
)

var mlpNames = [...]string{SwiGLU: "swiglu", GELU: "gelu"}

// mlpAliases are MLP kinds that cost as one of the two: a gated MLP with
// another activation (GeGLU, ReGLU) has SwiGLU's three projections; a plain
// one (ReLU as in OPT, squared ReLU as in Nemotron-4) GELU's two. The
// activation itself is one element-wise pass either way.
var mlpAliases = map[string]MLP{"geglu": SwiGLU, "reglu": SwiGLU, "relu": GELU, "squared_relu": GELU}

func (m MLP) String() string {
	if m >= 0 && int(m) < len(mlpNames) {
		return mlpNames[m]
	}
	return fmt.Sprintf("MLP(%d)", int(m))
}

// DefaultFFNHidden is Megatron-LM's feed-forward width when a model does not
// give one (megatron/training/arguments.py): 4·hidden, and for a gated MLP
// two thirds of that rounded down to a multiple of 64, which keeps the
// parameter count of the ungated MLP.
func DefaultFFNHidden(m MLP, hidden int) int {
	if m == GELU {
		return 4 * hidden
	}
	return max(64, 4*hidden*2/3/64*64) // at least one multiple of 64 for a tiny model
}

// DefaultVocab is the vocabulary a model gets when it does not give one: the
// GPT-2 BPE tokenizer's 50,257 entries padded to 51,200, as Megatron-LM's
// SC21 paper (arXiv:2104.04473 §5.1) and the gpt3-175b built-in use.
const DefaultVocab = 51200

// MLPNames lists the accepted MLP kinds: swiglu and gelu, then the
// aliases, sorted.
func MLPNames() []string {
	var aliases []string
	for n := range mlpAliases {
		aliases = append(aliases, n)
	}
	slices.Sort(aliases)
	return append(mlpNames[:len(mlpNames):len(mlpNames)], aliases...)
}

// ParseMLP parses "swiglu" or "gelu", or an alias of either (mlpAliases).
func ParseMLP(s string) (MLP, error) {
	for i, n := range mlpNames {
		if s == n {
			return MLP(i), nil
		}
	}
	if m, ok := mlpAliases[s]; ok {
		return m, nil
	}
	return 0, fmt.Errorf("unknown mlp %q (valid: %s)", s, strings.Join(MLPNames(), ", "))
}

// Arch is a decoder-only transformer.
type Arch struct {
	Name           string
	Layers         int
	Hidden         int // h
	FFNHidden      int // f
	Heads          int // a, query heads
	KVHeads        int // k, key/value heads (= Heads for multi-head attention)
	Vocab          int
	MLP            MLP
	TiedEmbeddings bool
	// Dropout says whether the model trains with dropout, whose masks are
	// kept for the backward pass (GPT-3 and Megatron do; Llama does not).
	Dropout bool
	// HeadDimSize is the width of one attention head where it is not
	// hidden/heads (Qwen3, GPT-OSS); 0 means hidden/heads.
	HeadDimSize int
	// MoE makes the feed-forward blocks mixtures of experts (moe.go).
	MoE MoE
	// MLA makes attention multi-head latent attention (moe.go).
	MLA MLA
}

// The built-in architectures. Llama 3: arXiv:2407.21783 Table 3, vocabulary
// 128,256 from the released configs (reference/published.yaml
// "architectures"). GPT-3 175B: Brown et al. 2020 Table 2.1, with the GPT-2
// BPE vocabulary padded to 51,200 as Megatron-LM does.
var builtins = append([]Arch{
	{Name: "llama3-8b", Layers: 32, Hidden: 4096, FFNHidden: 14336, Heads: 32, KVHeads: 8, Vocab: 128256, MLP: SwiGLU},
	{Name: "llama3-70b", Layers: 80, Hidden: 8192, FFNHidden: 28672, Heads: 64, KVHeads: 8, Vocab: 128256, MLP: SwiGLU},
	{Name: "llama3-405b", Layers: 126, Hidden: 16384, FFNHidden: 53248, Heads: 128, KVHeads: 8, Vocab: 128256, MLP: SwiGLU},
	{Name: "gpt3-175b", Layers: 96, Hidden: 12288, FFNHidden: 49152, Heads: 96, KVHeads: 96, Vocab: 51200, MLP: GELU, Dropout: true},
	// Llama 3.1 keeps Llama 3's architectures (arXiv:2407.21783 Table 3;
	// only RoPE's scaling for 128K context changes).
	{Name: "llama3.1-8b", Layers: 32, Hidden: 4096, FFNHidden: 14336, Heads: 32, KVHeads: 8, Vocab: 128256, MLP: SwiGLU},
	{Name: "llama3.1-70b", Layers: 80, Hidden: 8192, FFNHidden: 28672, Heads: 64, KVHeads: 8, Vocab: 128256, MLP: SwiGLU},
	{Name: "llama3.1-405b", Layers: 126, Hidden: 16384, FFNHidden: 53248, Heads: 128, KVHeads: 8, Vocab: 128256, MLP: SwiGLU},
	// Llama 2: arXiv:2307.09288 Table 1 (GQA for 70B) with the FFN widths
	// and 32,000-token vocabulary of the released configs (also
	// reference/measured.yaml's NeMo rows).
	{Name: "llama2-7b", Layers: 32, Hidden: 4096, FFNHidden: 11008, Heads: 32, KVHeads: 32, Vocab: 32000, MLP: SwiGLU},
	{Name: "llama2-13b", Layers: 40, Hidden: 5120, FFNHidden: 13824, Heads: 40, KVHeads: 40, Vocab: 32000, MLP: SwiGLU},
	{Name: "llama2-70b", Layers: 80, Hidden: 8192, FFNHidden: 28672, Heads: 64, KVHeads: 8, Vocab: 32000, MLP: SwiGLU},
	// LLaMA (1): arXiv:2302.13971 Table 2; FFN width 2/3·4h rounded up to
	// a multiple of 256 as the released model code does.
	{Name: "llama-7b", Layers: 32, Hidden: 4096, FFNHidden: 11008, Heads: 32, KVHeads: 32, Vocab: 32000, MLP: SwiGLU},
	{Name: "llama-13b", Layers: 40, Hidden: 5120, FFNHidden: 13824, Heads: 40, KVHeads: 40, Vocab: 32000, MLP: SwiGLU},
	{Name: "llama-33b", Layers: 60, Hidden: 6656, FFNHidden: 17920, Heads: 52, KVHeads: 52, Vocab: 32000, MLP: SwiGLU},
	{Name: "llama-65b", Layers: 80, Hidden: 8192, FFNHidden: 22016, Heads: 64, KVHeads: 64, Vocab: 32000, MLP: SwiGLU},
	// Mistral 7B: arXiv:2310.06825 Table 1.
	{Name: "mistral-7b", Layers: 32, Hidden: 4096, FFNHidden: 14336, Heads: 32, KVHeads: 8, Vocab: 32000, MLP: SwiGLU},
	// NeMo's GPT-3 5B and 20B: layers, widths and heads from
	// reference/measured.yaml (NeMo 24.07's performance table); the
	// vocabulary is GPT-3 175B's 51,200 (NeMo pads GPT-2's 50,257 by tp,
	// to 50,304 or 50,432 in those rows); input and output embeddings
	// shared, as NeMo's GPT configs default (share_embeddings_and_output_weights:
	// True in examples/nlp/language_modeling/conf/megatron_gpt_config.yaml).
	{Name: "gpt3-5b", Layers: 24, Hidden: 4096, FFNHidden: 16384, Heads: 32, KVHeads: 32, Vocab: 51200, MLP: GELU, TiedEmbeddings: true},
	{Name: "gpt3-20b", Layers: 44, Hidden: 6144, FFNHidden: 24576, Heads: 48, KVHeads: 48, Vocab: 51200, MLP: GELU, TiedEmbeddings: true},
	// Nemotron-4: arXiv:2402.16819 Table 1 (15B) and arXiv:2406.11704
	// Table 1 (340B); squared-ReLU MLPs of 4h, two projections.
	{Name: "nemotron4-15b", Layers: 32, Hidden: 6144, FFNHidden: 24576, Heads: 48, KVHeads: 8, Vocab: 256000, MLP: GELU},
	{Name: "nemotron4-340b", Layers: 96, Hidden: 18432, FFNHidden: 73728, Heads: 96, KVHeads: 8, Vocab: 256000, MLP: GELU},
	// Earlier large dense runs: BLOOM (arXiv:2211.05100 Table 3; tied
	// embeddings, vocabulary 250,880 as padded), OPT-175B
	// (arXiv:2205.01068 Table 1, ReLU MLP, dropout 0.1, vocabulary 50,272),
	// GPT-NeoX-20B (arXiv:2204.06745 Table 1, untied embeddings,
	// vocabulary padded to 50,432), Megatron-Turing NLG 530B
	// (arXiv:2201.11990 §3.1, GPT-2 vocabulary padded to 51,200; dropout
	// as Megatron's default, which the paper does not restate).
	{Name: "bloom-176b", Layers: 70, Hidden: 14336, FFNHidden: 57344, Heads: 112, KVHeads: 112, Vocab: 250880, MLP: GELU, TiedEmbeddings: true},
	{Name: "opt-175b", Layers: 96, Hidden: 12288, FFNHidden: 49152, Heads: 96, KVHeads: 96, Vocab: 50272, MLP: GELU, TiedEmbeddings: true, Dropout: true},
	{Name: "gpt-neox-20b", Layers: 44, Hidden: 6144, FFNHidden: 24576, Heads: 64, KVHeads: 64, Vocab: 50432, MLP: GELU},
	{Name: "mt-nlg-530b", Layers: 105, Hidden: 20480, FFNHidden: 81920, Heads: 128, KVHeads: 128, Vocab: 51200, MLP: GELU, TiedEmbeddings: true, Dropout: true},
}, moeBuiltins...)

// LookupArch returns the built-in architecture called name.
func LookupArch(name string) (Arch, error) {
	for _, a := range builtins {
		if a.Name == name {
			return a, nil
		}
	}
	return Arch{}, fmt.Errorf("unknown model %q (built-in: %s)", name, strings.Join(ArchNames(), ", "))
}

// ArchNames lists the built-in architectures, sorted.
func ArchNames() []string {
	names := make([]string, len(builtins))
	for i, a := range builtins {
		names[i] = a.Name
	}
	slices.Sort(names)
	return names
}

// FieldError is one invalid value, named by its scenario key.
type FieldError struct {
	Field  string
	Value  any
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %v %s", e.Field, e.Value, e.Reason)
}

// Validate reports every inconsistent field, joined.
func (a Arch) Validate() error {
	var errs []error
	pos := func(field string, v int) {
		if v <= 0 {
			errs = append(errs, &FieldError{"model." + field, v, "must be > 0"})
		}
	}
	pos("layers", a.Layers)
	pos("hidden", a.Hidden)
	pos("ffn_hidden", a.FFNHidden)
	pos("heads", a.Heads)
	pos("kv_heads", a.KVHeads)
	pos("vocab", a.Vocab)
	if a.Heads > 0 && a.HeadDimSize == 0 && !a.IsMLA() && a.Hidden%a.Heads != 0 {
		errs = append(errs, &FieldError{"model.heads", a.Heads, fmt.Sprintf("must divide hidden (%d)", a.Hidden)})
	}
	if a.KVHeads > 0 && a.Heads > 0 && a.Heads%a.KVHeads != 0 {
		errs = append(errs, &FieldError{"model.kv_heads", a.KVHeads, fmt.Sprintf("must divide heads (%d)", a.Heads)})
	}
	if a.MLP != SwiGLU && a.MLP != GELU {
		errs = append(errs, &FieldError{"model.mlp", a.MLP, "must be swiglu or gelu"})
	}
	if a.HeadDimSize < 0 {
		errs = append(errs, &FieldError{"model.head_dim", a.HeadDimSize, "must be >= 0 (0 = hidden/heads)"})
	}
	if err := a.validateMoE(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// HeadDim is h / a, or HeadDimSize where set. Under MLA it is the mean of
// the query/key and the value head widths, (nope+rope+v)/2, so that the
// attention core's FLOPs (QKᵀ over nope+rope, AV over v) are those of
// heads·HeadDim-wide attention.
func (a Arch) HeadDim() int {
	switch {
	case a.IsMLA():
		return (a.MLA.QKNopeHeadDim + a.MLA.QKRopeHeadDim + a.MLA.VHeadDim) / 2
	case a.HeadDimSize > 0:
		return a.HeadDimSize
	}
	return a.Hidden / a.Heads
}

// AttnDim is h_attn = heads · head_dim (= h for the built-ins).
func (a Arch) AttnDim() int { return a.Heads * a.HeadDim() }

// KVDim is kv_heads · head_dim, the width of K and of V.
func (a Arch) KVDim() int { return a.KVHeads * a.HeadDim() }

func (a Arch) mlpMatrices() int {
	if a.MLP == SwiGLU {
		return 3
	}
	return 2
}

// AttentionParams is the parameter count of one layer's attention: Q and O
// (h·h_attn each) and K and V (h·kv_dim each). Biases are not modelled.
func (a Arch) AttentionParams() float64 {
	if a.IsMLA() {
		return a.mlaParams()
	}
	h := float64(a.Hidden)
	return 2*h*float64(a.AttnDim()) + 2*h*float64(a.KVDim())
}

// MLPParams is the parameter count of one layer's feed-forward block; for a
// MoE model, the mean over the layers of every expert's (see moe.go).
func (a Arch) MLPParams() float64 {
	if a.IsMoE() {
		l := float64(a.Layers)
		return (float64(a.MoE.DenseLayers)*a.DenseMLPParams() + float64(a.MoELayers())*a.MoEMLPParams()) / l
	}
	return float64(a.mlpMatrices()) * float64(a.Hidden) * float64(a.FFNHidden)
}

// LayerParams is one transformer layer: attention, MLP and two norms.
func (a Arch) LayerParams() float64 {
	return a.AttentionParams() + a.MLPParams() + 2*float64(a.Hidden)
}

// EmbeddingParams is the input embedding, V·h.
func (a Arch) EmbeddingParams() float64 { return float64(a.Vocab) * float64(a.Hidden) }

// HeadParams is the output projection, V·h, or 0 when tied to the embedding.
func (a Arch) HeadParams() float64 {
	if a.TiedEmbeddings {
		return 0
	}
	return a.EmbeddingParams()
}

// Params is every parameter: layers, the final norm, embedding and head.
func (a Arch) Params() float64 {
	return float64(a.Layers)*a.LayerParams() + float64(a.Hidden) + a.EmbeddingParams() + a.HeadParams()
}

// MatmulParams is N_matmul: the parameters used in matrix products, that is
// every layer's projections and the output head (the embedding lookup is not
// a product; a tied embedding is used once, as the head).
func (a Arch) MatmulParams() float64 {
	return float64(a.Layers)*(a.AttentionParams()+a.MLPParams()) + a.EmbeddingParams()
}

// ModelFLOPsPerToken is 6·N_matmul + 6·L·s·h_attn at sequence length seq:
// the causal convention of PaLM and Llama 3 (see the package doc), with
// N_matmul over the active parameters of a MoE model.
func (a Arch) ModelFLOPsPerToken(seq int) float64 {
	return 6*a.ActiveMatmulParams() + 6*float64(a.Layers)*float64(seq)*float64(a.AttnDim())
}

// NonCausalFLOPsPerToken counts attention without the causal mask,
// 6·N_matmul + 12·L·s·h_attn, as NVIDIA's published recipes do.
func (a Arch) NonCausalFLOPsPerToken(seq int) float64 {
	return 6*a.ActiveMatmulParams() + 12*float64(a.Layers)*float64(seq)*float64(a.AttnDim())
}

// AttentionCoreFwdFLOPsPerToken is the forward FLOPs of QKᵀ and AV for one
// token in one layer under a causal mask: 2·s·h_attn.
func (a Arch) AttentionCoreFwdFLOPsPerToken(seq int) float64 {
	return 2 * float64(seq) * float64(a.AttnDim())
}
