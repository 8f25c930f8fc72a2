package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clustersim/clustersim/cluster"
)

// Recompute is the activation recomputation mode.
type Recompute int

const (
	// RecomputeNone keeps every activation the backward pass needs.
	RecomputeNone Recompute = iota
	// RecomputeSelective drops the attention core's activations (scores,
	// softmax, dropout) and recomputes them in the backward pass
	// (Korthikanti et al. 2022). With fused attention there are no such
	// activations to drop, so it changes nothing.
	RecomputeSelective
	// RecomputeFull keeps only each layer's input and re-runs its forward
	// pass in the backward pass.
	RecomputeFull
)

var recomputeNames = [...]string{RecomputeNone: "none", RecomputeSelective: "selective", RecomputeFull: "full"}

func (r Recompute) String() string {
	if r >= 0 && int(r) < len(recomputeNames) {
		return recomputeNames[r]
	}
	return fmt.Sprintf("Recompute(%d)", int(r))
}

// ParseRecompute parses "none", "selective" or "full".
func ParseRecompute(s string) (Recompute, error) {
	for i, n := range recomputeNames {
		if s == n {
			return Recompute(i), nil
		}
	}
	return 0, fmt.Errorf("unknown recompute %q (valid: %s)", s, strings.Join(recomputeNames[:], ", "))
}

// Attention is the attention kernel's implementation.
type Attention int

const (
	// Flash is a fused kernel that never stores the s×s scores
	// (FlashAttention, cuDNN fused attention).
	Flash Attention = iota
	// Unfused computes QKᵀ and AV as batched products around a separate
	// softmax that materialises the scores, as Megatron-LM did in 2021:
	// its fused scale-mask-softmax kernel where the shape allows it, else
	// PyTorch's fp32 softmax (sim/step prices both).
	Unfused
	// Flash2 is the FlashAttention-2 kernel (Dao 2023), fused like Flash
	// but slower on Hopper than cuDNN's (cluster.ComputeModel's FA2 fit).
	Flash2
)

var attentionNames = [...]string{Flash: "flash", Unfused: "unfused", Flash2: "flash2"}

// Fused reports whether the kernel never stores the s×s scores.
func (a Attention) Fused() bool { return a != Unfused }

func (a Attention) String() string {
	if a >= 0 && int(a) < len(attentionNames) {
		return attentionNames[a]
	}
	return fmt.Sprintf("Attention(%d)", int(a))
}

// AttentionNames returns the kernels' names in enumeration order. The slice
// is the caller's.
func AttentionNames() []string { return slices.Clone(attentionNames[:]) }

// ParseAttention parses "flash", "unfused" or "flash2".
func ParseAttention(s string) (Attention, error) {
	for i, n := range attentionNames {
		if s == n {
			return Attention(i), nil
		}
	}
	return 0, fmt.Errorf("unknown attention %q (valid: %s)", s, strings.Join(attentionNames[:], ", "))
}

// Layout is a parallel layout: how the model and the batch are split over
// GPUs, in the rank order [TP, CP, PP, DP] of Megatron-LM and Llama 3 (TP
// innermost, inside a node; DP outermost).
type Layout struct {
	TP, PP, CP, DP   int
	MicroBatch       int // sequences per micro batch
	VirtualStages    int // interleaved chunks per pipeline stage (1 = plain 1F1B)
	SequenceParallel bool
	Recompute        Recompute
	// RecomputeElementwise drops the outputs of the norms and of the MLP
	// activation function and recomputes them (memory-bound, no matrix
	// products) in the backward pass, as Megatron-core's recompute modules
	// "layernorm" and "mlp activation" do. It is not activation
	// checkpointing: no product is recomputed.
	RecomputeElementwise bool
	ZeRO                 int  // 0: plain data parallelism; 1: optimizer sharded; 2: + gradients; 3: + weights (FSDP)
	TPOverlap            bool // overlap tensor-parallel collectives with the matrix products
	DPOverlap            bool // overlap data-parallel collectives with the backward (and forward) pass
	// CPRing exchanges context-parallel keys and values around a ring of
	// point-to-point sends, each overlapped with the attention of the
	// block already present (Megatron-Core's cp_comm_type p2p, Transformer
	// Engine's default), instead of gathering them all before attention
	// (Llama 3's all-gather variant, the default).
	CPRing bool
	// EP and ETP are the expert-parallel and expert-tensor-parallel sizes
	// of a MoE model (0 means 1), folded into the tp·cp·dp ranks of a
	// stage as Megatron-Core does (see ExpertDP and moe.go).
	EP, ETP int
	// PipeSchedule is the pipeline schedule (the zero value: 1F1B,
	// interleaved when VirtualStages > 1).
	PipeSchedule PipeSchedule
	// OffloadLayers is how many of the model's first transformer layers
	// send the activations they keep for the backward pass to host memory
	// as the forward pass runs and fetch them back for the backward pass
	// (Megatron-Core's cpu_offloading_num_layers, Transformer Engine's CPU
	// offload). 0 offloads nothing; Megatron-Core allows it only with pp 1
	// and no recomputation.
	OffloadLayers int
}

// GPUs is tp·pp·cp·dp.
func (l Layout) GPUs() int { return l.TP * l.PP * l.CP * l.DP }

// Chunks is the number of model chunks, pp·v.
func (l Layout) Chunks() int { return l.PP * l.VirtualStages }

// GradAccumulation is how a micro batch's weight gradients are added into
// the gradients accumulated over the step.
type GradAccumulation int

const (
	// SeparateAccumulation adds them with an element-wise kernel after each
	// weight-gradient product (PyTorch's AccumulateGrad, Megatron-LM's
	// main_grad hook, FSDP): it reads the accumulated and the new gradient
	// and writes the sum, GradBytes + 2 + GradBytes bytes per parameter.
	SeparateAccumulation GradAccumulation = iota
	// FusedAccumulation accumulates in the weight-gradient product's
	// epilogue (Megatron-LM's gradient_accumulation_fusion), at no extra
	// kernel.
	FusedAccumulation
)

var gradAccumulationNames = [...]string{SeparateAccumulation: "separate", FusedAccumulation: "fused"}

func (g GradAccumulation) String() string {
	if g >= 0 && int(g) < len(gradAccumulationNames) {
		return gradAccumulationNames[g]
	}
	return fmt.Sprintf("GradAccumulation(%d)", int(g))
}

// GradAccumulationNames returns the ways' names in enumeration order. The
// slice is the caller's.
func GradAccumulationNames() []string { return slices.Clone(gradAccumulationNames[:]) }

// ParseGradAccumulation parses "separate" or "fused".
func ParseGradAccumulation(s string) (GradAccumulation, error) {
	for i, n := range gradAccumulationNames {
		if s == n {
			return GradAccumulation(i), nil
		}
	}
	return 0, fmt.Errorf("unknown grad_accumulation %q (valid: %s)", s, strings.Join(gradAccumulationNames[:], ", "))
}

// Training is what one optimizer step and the whole run consume.
type Training struct {
	SeqLen      int     // tokens per sequence
	GlobalBatch int     // sequences per optimizer step
	Tokens      float64 // tokens of the whole run
	Precision   cluster.Precision
	GradBytes   int // bytes per gradient element: 4 (fp32 accumulation and reduction, Llama 3) or 2
	// FP8Params says that, training in an 8-bit precision, the model keeps
	// its weights only in 8 bits (Megatron-Core's fp8_param_gather), not in
	// bf16 beside Transformer Engine's cached 8-bit copy (see WeightBytes).
	FP8Params bool
	// CurrentScaling says that per-tensor fp8 scales come from the tensor
	// itself (an amax pass before each cast, NVIDIA's "FP8-CS" recipes)
	// rather than from the amax history of earlier steps (delayed scaling,
	// Transformer Engine's default).
	CurrentScaling bool
	// GradAccumulation says whether adding each micro batch's weight
	// gradients is a kernel of its own.
	GradAccumulation GradAccumulation
	Attention        Attention
	// MoEHostSync says that each MoE layer's forward pass reads its token
	// counts per expert on the host before the dispatch all-to-all (a
	// device-to-host synchronisation), as Megatron-Core's alltoall
	// dispatcher does for dropless routing with expert parallelism
	// (cuda_sync_point "before_ep_alltoall", or "before_permutation_1"
	// with a capacity factor) unless it runs sync-free.
	MoEHostSync bool
	// HostOverheadS is the framework's CPU time to issue one kernel or
	// collective, seconds: a pass whose kernels are shorter than their
	// launches waits for the host (see DefaultHostOverheadS).
	HostOverheadS float64
	// CapacityFactor caps the tokens each expert takes at this multiple of
	// the balanced share, dropping the rest (Switch Transformer, GShard);
	// 0 is dropless.
	CapacityFactor float64
	// RouterConcentration is the concentration α of the symmetric
	// Dirichlet distribution from which each expert's share of the routed
	// tokens is drawn (seeded): small α spreads the load, large α
	// balances it; 0 means perfectly balanced routing (what
	// Megatron-Bridge's benchmarks force).
	RouterConcentration float64
	// GroupedGEMM is how the experts' grouped products run: one kernel for
	// all local experts (the zero value; DeepGEMM, Transformer Engine's
	// fused grouped GEMM) or one cuBLAS product per expert over a few
	// streams (Transformer Engine's GroupedLinear before it), which pays a
	// product's fixed cost per expert.
	GroupedGEMM cluster.GroupedKernel
	// Dispatcher is how the expert-parallel all-to-alls move tokens.
	Dispatcher Dispatcher
}

// Dispatcher is a MoE token dispatcher.
type Dispatcher int

const (
	// AllToAll sends every routed copy of a token on its own, as
	// Megatron-Core's alltoall dispatcher does (its permutation makes one
	// row per token and expert).
	AllToAll Dispatcher = iota
	// DeepEP sends a token once to each node (NVLink domain) it needs and
	// forwards it there over NVLink (DeepSeek's DeepEP kernels, §3.2.2 of
	// arXiv:2412.19437; Megatron-Core's flex dispatcher): what NVIDIA's
	// recipes with expert parallelism across nodes run
	// (NVIDIA/Megatron-MoE-ModelZoo best_practice: "Cross-node EP
	// strategy: DeepEP").
	DeepEP
)

var dispatcherNames = [...]string{AllToAll: "alltoall", DeepEP: "deepep"}

func (d Dispatcher) String() string {
	if d < 0 || int(d) >= len(dispatcherNames) {
		return fmt.Sprintf("Dispatcher(%d)", int(d))
	}
	return dispatcherNames[d]
}

// DispatcherNames returns the dispatchers' names in enumeration order. The
// slice is the caller's.
func DispatcherNames() []string { return slices.Clone(dispatcherNames[:]) }

// ParseDispatcher parses "alltoall" or "deepep".
func ParseDispatcher(s string) (Dispatcher, error) {
	for i, n := range dispatcherNames {
		if s == n {
			return Dispatcher(i), nil
		}
	}
	return 0, fmt.Errorf("unknown MoE dispatcher %q (valid: %s)", s, strings.Join(dispatcherNames[:], ", "))
}

// DefaultHostOverheadS is the default CPU time a framework spends issuing
// one kernel or collective (see Training.HostOverheadS): 65 µs, the value
// (in 5 µs steps) that minimises the mean step-time error over vTrain's
// 1,440 single-node A100 iterations (Megatron-DeepSpeed in eager PyTorch,
// where small layers are host-bound); scenarios/validation's
// HostOverheadErrors and TestHostOverheadFit re-derive it.
const DefaultHostOverheadS = 65e-6

// BatchTokens is the tokens of one optimizer step.
func (t Training) BatchTokens() float64 { return float64(t.SeqLen) * float64(t.GlobalBatch) }

// MicroBatches is m = global batch / (dp · micro batch): the micro batches
// each pipeline replica runs per step.
func (l Layout) MicroBatches(t Training) int {
	return t.GlobalBatch / (l.DP * l.MicroBatch)
}

// Validate checks the layout against the architecture, the training batch
// and the GPU count and reports every problem, joined. Each error is a
// *FieldError naming the scenario key and saying what would be valid.
func (l Layout) Validate(a Arch, t Training, gpus int) error {
	var errs []error
	add := func(field string, v any, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)})
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"tp", l.TP}, {"pp", l.PP}, {"cp", l.CP}, {"dp", l.DP}, {"micro_batch", l.MicroBatch}, {"virtual_stages", l.VirtualStages}} {
		if f.v < 1 {
			add("parallelism."+f.name, f.v, "must be >= 1")
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if l.GPUs() != gpus {
		add("parallelism", fmt.Sprintf("tp·pp·cp·dp = %d·%d·%d·%d = %d", l.TP, l.PP, l.CP, l.DP, l.GPUs()),
			"must equal cluster.gpus (%d); with tp·pp·cp = %d, dp would be %s", gpus, l.TP*l.PP*l.CP, dpHint(gpus, l.TP*l.PP*l.CP))
	}
	if l.ZeRO < 0 || l.ZeRO > 3 {
		add("parallelism.zero", l.ZeRO, "must be 0, 1, 2 or 3")
	}
	if l.Recompute < RecomputeNone || l.Recompute > RecomputeFull {
		add("parallelism.recompute", l.Recompute, "must be none, selective or full")
	}
	if a.Heads%l.TP != 0 {
		add("parallelism.tp", l.TP, "must divide the model's %d attention heads (valid: %s)", a.Heads, divisors(a.Heads))
	}
	if t.SeqLen > 0 && l.CP > 1 && t.SeqLen%(2*l.CP) != 0 {
		add("parallelism.cp", l.CP, "must split the sequence (%d) into 2·cp load-balanced chunks", t.SeqLen)
	}
	if per := l.DP * l.MicroBatch; t.GlobalBatch > 0 && t.GlobalBatch%per != 0 {
		near := fmt.Sprint((t.GlobalBatch/per + 1) * per)
		if lo := t.GlobalBatch / per * per; lo > 0 {
			near = fmt.Sprintf("%d or %s", lo, near)
		}
		add("training.global_batch", t.GlobalBatch, "must be a multiple of dp·micro_batch = %d·%d = %d (nearest: %s)",
			l.DP, l.MicroBatch, per, near)
	} else if l.VirtualStages > 1 && t.GlobalBatch > 0 {
		if m := l.MicroBatches(t); m%l.PP != 0 {
			add("parallelism.virtual_stages", l.VirtualStages,
				"needs the micro batches per step (%d) to be a multiple of pp (%d), as Megatron's interleaved schedule does; use virtual_stages: 1 or change the batch", m, l.PP)
		}
	}
	if _, err := l.ChunkLayers(a); err != nil {
		errs = append(errs, err)
	}
	if m := l.MicroBatches(t); l.PipeSchedule == SchedDualPipe && t.GlobalBatch > 0 && l.DP*l.MicroBatch > 0 && (m%2 != 0 || m < 2*l.PP) {
		add("training.global_batch", t.GlobalBatch, "gives %d micro batches per step; dualpipe needs an even number, at least 2·pp = %d (deepseek-ai/DualPipe)", m, 2*l.PP)
	}
	if err := l.validateExperts(a); err != nil {
		errs = append(errs, err)
	}
	if err := l.validateOffload(a); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validateOffload checks OffloadLayers as Megatron-Core's
// TransformerConfig does for cpu_offloading (fewer than the model's layers;
// no pipeline parallelism; no activation recomputation), and that it is
// modelled: dense models only.
func (l Layout) validateOffload(a Arch) error {
	if l.OffloadLayers == 0 {
		return nil
	}
	field := func(format string, args ...any) error {
		return &FieldError{Field: "parallelism.offload_layers", Value: l.OffloadLayers, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case l.OffloadLayers < 0:
		return field("must be >= 0")
	case l.OffloadLayers >= a.Layers:
		return field("must be below the model's %d layers (Megatron-Core's cpu_offloading_num_layers)", a.Layers)
	case a.IsMoE() || a.IsMLA():
		return field("activation offload is modelled for dense models only; use 0")
	case l.PP > 1:
		return field("Megatron-Core offloads activations without pipeline parallelism only (pp %d); use 0 or pp 1", l.PP)
	case l.Recompute != RecomputeNone || l.RecomputeElementwise:
		return field("Megatron-Core offloads activations without recomputation only (recompute %s, recompute_elementwise %v); use recompute none", l.Recompute, l.RecomputeElementwise)
	}
	return nil
}

func dpHint(gpus, model int) string {
	if gpus%model == 0 {
		return fmt.Sprint(gpus / model)
	}
	return fmt.Sprintf("%d/%d, not a whole number", gpus, model)
}

func divisors(n int) string {
	var d []string
	for i := 1; i <= n; i++ {
		if n%i == 0 {
			d = append(d, fmt.Sprint(i))
		}
	}
	return strings.Join(d, ", ")
}

// ChunkLayers returns the transformer layers of each model chunk in model
// order: chunk j = c·pp + r is virtual chunk c of stage r. Layers split
// evenly when pp·v divides them. Otherwise, if pp·v divides layers+2, the
// first chunk (which also holds the embedding) and the last (which holds the
// output head and the loss) get one layer fewer, as Llama 3 did for its first
// and last pipeline stage (arXiv:2407.21783 §3.3.2). Anything else is an
// error that says which stage counts would work.
func (l Layout) ChunkLayers(a Arch) ([]int, error) {
	k := l.Chunks()
	if k < 1 {
		return nil, &FieldError{"parallelism.pp", l.PP, "must be >= 1"}
	}
	layers := make([]int, k)
	switch {
	case a.Layers%k == 0:
		for j := range layers {
			layers[j] = a.Layers / k
		}
	case (a.Layers+2)%k == 0 && (a.Layers+2)/k >= 1 && k >= 2:
		for j := range layers {
			layers[j] = (a.Layers + 2) / k
		}
		layers[0]--
		layers[k-1]--
	case a.IsMoE() && k >= 2 && k <= a.Layers+2:
		// Mixture-of-experts recipes give Megatron-Core an explicit
		// pipeline layout (pipeline_model_parallel_layout, e.g.
		// Megatron-Bridge's DeepSeek-V3 recipes): counting the embedding
		// and the loss as one layer each, the layers+2 slots are spread as
		// evenly as the chunks allow; each multi-token-prediction module
		// takes two more slots of the last chunk (its layer and its loss).
		return unevenChunks(a.Layers, k, 2*a.MoE.MTPLayers), nil
	default:
		var ok []string
		for p := 1; p <= a.Layers; p++ {
			if (a.Layers%(p*l.VirtualStages) == 0 || (a.Layers+2)%(p*l.VirtualStages) == 0) && p*l.VirtualStages <= a.Layers+2 {
				ok = append(ok, fmt.Sprint(p))
			}
		}
		return nil, &FieldError{"parallelism.pp", l.PP, fmt.Sprintf(
			"with virtual_stages %d gives %d chunks, which split neither the %d layers nor %d+2 (one fewer on the first and last); pp could be %s",
			l.VirtualStages, k, a.Layers, a.Layers, strings.Join(ok, ", "))}
	}
	return layers, nil
}

// StageLayers returns the layers held by each pipeline stage.
func (l Layout) StageLayers(a Arch) ([]int, error) {
	chunks, err := l.ChunkLayers(a)
	if err != nil {
		return nil, err
	}
	st := make([]int, l.PP)
	for j, n := range chunks {
		st[j%l.PP] += n
	}
	return st, nil
}
