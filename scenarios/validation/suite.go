package validation

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// Groups of the public suite's sources.
const (
	srcNeMo2407    = "nemo24.07"
	srcNeMoLongCtx = "nemo24.03-longctx"
	srcBridge      = "megatron-bridge"
	srcVTrainOne   = "vtrain-single"
	srcVTrainMulti = "vtrain-multi"
	srcPublished   = "published" // rows of a user's file (MeasuredCases) from another source
	vtrainSource   = "VIA-Research/vTrain@f8dda8473a48b373b1d25f51f52d685bff5150c5:"
)

// stepTime reads the predicted step time, seconds.
func stepTime(r step.Result) float64 { return r.StepTime }

func ptr[T any](v T) *T { return &v }

// loadScenario marshals s and loads it as `clustersim run` would load the
// same file, so that validation and run build the same spec.
func loadScenario(s *scenarios.Scenario) (run.Spec, error) {
	b, err := scenarios.Marshal(s)
	if err != nil {
		return run.Spec{}, err
	}
	spec, _, err := scenarios.Load(bytes.NewReader(b), s.Name)
	return spec, err
}

// gpuWord is the GPU's name in a group: "h100" for h100-sxm.
func gpuWord(gpu string) string {
	w, _, _ := strings.Cut(gpu, "-")
	return w
}

// measuredSource names the group source of a measured.yaml row from its
// source field.
func measuredSource(src string) (string, error) {
	switch {
	case strings.HasPrefix(src, "NVIDIA-NeMo/Megatron-Bridge@"):
		return srcBridge, nil
	case strings.HasPrefix(src, "NVIDIA/NeMo@") && strings.Contains(src, "performance_long_sequence.md"):
		return srcNeMoLongCtx, nil
	case strings.HasPrefix(src, "NVIDIA/NeMo@") && strings.Contains(src, "NeMo 24.07"):
		return srcNeMo2407, nil
	}
	return "", fmt.Errorf("validation: %s: no recipe for source %q", measuredFile, src)
}

// stepFromTokensNote marks a step time derived from a published throughput.
const stepFromTokensNote = "step time derived from tokens/s/GPU (global_batch·seq_len/(tokens_per_s_per_gpu·gpus)), not published"

// nemoLlama2FLOPsPerToken is NVIDIA's model-FLOPs count per token for the
// Llama 2 family, as NeMo computes "model TFLOP/s" (NVIDIA/NeMo
// nemo/utils/flops_formulas.py, llama2(), in its 2024 form):
//
//	per sequence: s·L·h²·(12 + 12·g/a + 18·f/h + 12·s/h + 6·V/(L·h))
//
// that is, per token 6·(L·(2h² + 2h²·g/a + 3h·f) + V·h) for every weight
// in a matrix product but the input embedding, plus 12·L·s·h for
// attention counted without the causal mask. Later versions of that file
// (2025, e.g. commit 6a5ad765) halve the s² term; the long-context table
// predates them. This converts the table's TFLOPS back to a step time in
// NVIDIA's own convention; TFLOPS are never compared across conventions.
func nemoLlama2FLOPsPerToken(m measuredModel, seq int) float64 {
	L, h, f, a, g, v, s := float64(m.Layers), float64(m.Hidden), float64(m.FFNHidden), float64(m.Heads), float64(m.KVHeads), float64(m.Vocab), float64(seq)
	return L * h * h * (12 + 12*g/a + 18*f/h + 12*s/h + 6*v/(L*h))
}

// measuredCases maps every measured.yaml row to a case (see the package
// doc for the recipe).
func measuredCases() ([]Case, error) {
	rows, err := loadMeasured()
	if err != nil {
		return nil, err
	}
	return casesOf(rows, measuredFile, false)
}

// MeasuredCases maps the rows of a user's file in measured.yaml's schema
// (the shipped file's keys; unknown keys are errors) to cases, by the same
// recipe as the shipped rows: NeMo and Megatron-Bridge sources by theirs,
// any other source by the Megatron-Core recipe of the package doc, in
// groups "published/GPU/precision". A row needs id, gpu, gpus, model (a
// built-in name or an inline mapping), precision, seq_len, global_batch, tp,
// pp, cp and one of step_time_s or tokens_per_s_per_gpu. file names the
// data in errors.
func MeasuredCases(data []byte, file string) ([]Case, error) {
	rows, err := parseMeasured(data, file)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("validation: %s: no rows (want a YAML list of rows with measured.yaml's keys)", file)
	}
	return casesOf(rows, file, true)
}

// casesOf maps rows to cases; other sources are allowed (as srcPublished)
// only in a user's file.
func casesOf(rows []measuredRow, file string, other bool) ([]Case, error) {
	var cs []Case
	for i, r := range rows {
		if other {
			if err := r.complete(); err != nil {
				return nil, fmt.Errorf("validation: %s: row %d (%s): %w", file, i+1, r.ID, err)
			}
		}
		c, err := measuredCase(r, file, other)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// complete checks that a user's row has what the recipe reads.
func (r measuredRow) complete() error {
	var miss []string
	for _, f := range []struct {
		key string
		ok  bool
	}{{"id", r.ID != ""}, {"gpu", r.GPU != ""}, {"gpus", r.GPUs > 0}, {"model", r.Model.Builtin != "" || r.Model.Layers > 0 || r.MoE},
		{"precision", r.Precision != ""}, {"seq_len", r.SeqLen > 0}, {"global_batch", r.GlobalBatch > 0},
		{"tp", r.TP > 0}, {"pp", r.PP > 0}, {"cp", r.CP > 0},
		{"step_time_s or tokens_per_s_per_gpu", r.StepTimeS != nil || r.TokensPerSPerGPU != nil || r.ModelTFLOPSPerGPU != nil}} {
		if !f.ok {
			miss = append(miss, f.key)
		}
	}
	if len(miss) > 0 {
		return fmt.Errorf("missing or not positive: %s", strings.Join(miss, ", "))
	}
	for _, f := range []struct {
		key string
		v   *float64
	}{{"step_time_s", r.StepTimeS}, {"tokens_per_s_per_gpu", r.TokensPerSPerGPU}, {"model_tflops_per_gpu", r.ModelTFLOPSPerGPU}} {
		if f.v != nil && !(*f.v > 0 && !math.IsInf(*f.v, 1)) {
			return fmt.Errorf("%s: %v must be a positive, finite measurement", f.key, *f.v)
		}
	}
	return nil
}

func measuredCase(r measuredRow, file string, other bool) (Case, error) {
	src, err := measuredSource(r.Source)
	if err != nil && other {
		src, err = srcPublished, nil
	}
	if err != nil {
		return Case{}, err
	}
	c := Case{
		Name:   r.ID,
		Source: r.Source,
		Group:  src + "/" + gpuWord(r.GPU) + "/" + r.Precision,
	}
	m := Metric{Name: "step_time_s", Step: stepTime}
	switch {
	case r.StepTimeS != nil:
		m.Published = *r.StepTimeS
		if r.StepTimeDerived != nil && *r.StepTimeDerived {
			c.Note = stepFromTokensNote
		}
	case r.TokensPerSPerGPU != nil && *r.TokensPerSPerGPU > 0:
		m.Published = float64(r.GlobalBatch) * float64(r.SeqLen) / (*r.TokensPerSPerGPU * float64(r.GPUs))
		c.Note = stepFromTokensNote
	case r.ModelTFLOPSPerGPU != nil && r.Model.Builtin == "" && r.Model.Layers > 0 && r.Model.MLP == "swiglu":
		perStep := nemoLlama2FLOPsPerToken(r.Model, r.SeqLen) * float64(r.SeqLen) * float64(r.GlobalBatch)
		m.Published = perStep / (*r.ModelTFLOPSPerGPU * 1e12 * float64(r.GPUs))
		c.Note = fmt.Sprintf("step time from the published %g model TFLOPS/GPU by NeMo's llama2 FLOPs formula (non-causal attention)", *r.ModelTFLOPSPerGPU)
	default:
		return Case{}, fmt.Errorf("validation: %s: %s: neither step_time_s, tokens_per_s_per_gpu nor a Llama 2 style model with model_tflops_per_gpu", file, r.ID)
	}
	c.Metrics = []Metric{m}
	if a, err := model.LookupArch(r.Model.Builtin); r.MoE || err == nil && a.IsMoE() {
		return moeCase(c, r), nil
	}
	if r.EP != nil && *r.EP > 1 {
		return Case{}, fmt.Errorf("validation: %s: %s: ep %d on a dense model (set moe: true with a mixture-of-experts model)", file, r.ID, *r.EP)
	}
	s := measuredScenario(r)
	c.Spec = func() (run.Spec, error) { return loadScenario(s) }
	return c, nil
}

// measuredScenario is the NeMo / Megatron-Bridge recipe (package doc).
func measuredScenario(r measuredRow) *scenarios.Scenario {
	s := &scenarios.Scenario{Name: r.ID}
	if r.Model.Builtin != "" {
		s.Model = scenarios.Model{Builtin: r.Model.Builtin}
	} else {
		m := r.Model
		s.Model = scenarios.Model{Layers: m.Layers, Hidden: m.Hidden, FFNHidden: m.FFNHidden, Heads: m.Heads,
			Vocab: m.Vocab, MLP: m.MLP, TiedEmbeddings: ptr(m.TiedEmbeddings)}
		if m.KVHeads > 0 { // else heads (a user's file may leave it out)
			s.Model.KVHeads = ptr(m.KVHeads)
		}
	}
	s.Cluster = scenarios.Cluster{GPU: r.GPU, GPUs: r.GPUs}
	if r.GPUsPerNode > 0 { // else the GPU's own (a user's file may leave it out)
		s.Cluster.GPUsPerNode = ptr(min(r.GPUsPerNode, r.GPUs))
	}
	tp := r.TP
	zero := 1
	if r.FSDP != nil && *r.FSDP > 0 {
		zero = 3
	}
	p := scenarios.Parallelism{
		TP: ptr(tp), PP: ptr(r.PP), CP: ptr(r.CP), DP: r.DP,
		MicroBatch:       ptr(1),
		VirtualStages:    ptr(1),
		SequenceParallel: ptr(tp > 1),
		Recompute:        ptr(scenarios.RecomputeAuto),
		ZeRO:             ptr(zero),
		TPCommOverlap:    ptr(tp > 1),
		DPCommOverlap:    ptr(true),
	}
	if r.MicroBatch != nil {
		p.MicroBatch = ptr(*r.MicroBatch)
	}
	if r.VP != nil {
		p.VirtualStages = ptr(*r.VP)
	}
	s.Parallelism = p
	s.Training = scenarios.Training{
		SeqLen: r.SeqLen, GlobalBatch: ptr(r.GlobalBatch), Tokens: ptr(scenarios.Quantity(1e12)),
		Precision: r.Precision, GradPrecision: "bf16", GradAccumulation: "fused", Attention: "flash",
	}
	if r.CP > 1 {
		// Megatron-Core's context parallelism exchanges K/V around a ring
		// of point-to-point sends (cp_comm_type "p2p", its default).
		s.Parallelism.CPComm = ptr("p2p")
	}
	if strings.Contains(r.Source, "performance_long_sequence.md") {
		// NeMo 24.03's container (Transformer Engine 1.x with flash-attn 2
		// installed) ran FlashAttention-2, which TE 1.x preferred when
		// installed; its rows without context parallelism (4K-16K) agree
		// within 2% with FlashAttention-2's fit and are 9-22% slower than
		// cuDNN's kernel would make them.
		s.Training.Attention = "flash2"
	}
	bridge := strings.Contains(r.Source, "Megatron-Bridge")
	if n, ok := mbOffload[mbRecipe{r.Model.Builtin, r.GPU, r.Precision}]; ok && bridge && r.FSDP != nil && *r.FSDP > 0 {
		s.Parallelism.OffloadLayers = ptr(n)
	}
	if r.Precision == "fp8" && bridge {
		// Megatron-Bridge publishes its fp8 rows as FP8-CS (current
		// scaling); NeMo 24.07 trained with Transformer Engine's default,
		// delayed scaling.
		s.Training.FP8Scaling = "current"
	}
	s.Failures = &scenarios.Failures{Profile: &scenarios.Profile{Builtin: "none"}}
	s.Trials = ptr(1)
	return s
}

// mbRecipe names a Megatron-Bridge performance recipe: model, GPU and
// precision.
type mbRecipe struct{ model, gpu, precision string }

// mbOffload is the activation offload (cpu_offloading_num_layers) of the
// Megatron-Bridge recipes that train with Megatron FSDP
// (use_megatron_fsdp), per the recipes' own presets in
// NVIDIA-NeMo/Megatron-Bridge @0fa501acee1ebfe3d1ab8088b638e2089d800df6:
// scripts/performance/configs/llama3/workload_base_configs.py
// (LLAMA3_70B_{GB300,GB200,B200}_{BF16,FP8_CS}_BASE_CONFIG; the same
// numbers in scripts/performance/configs/llama/llama3_workload_base_configs.py
// of later releases) and scripts/performance/configs/llama31/
// workload_base_configs.py (LLAMA31_405B_{GB300,GB200}_{BF16,FP8_CS}_BASE_CONFIG).
// measured.yaml does not carry the setting; every row of these recipes with
// fsdp > 0 takes it.
var mbOffload = map[mbRecipe]int{
	{"llama3-70b", "gb300", "bf16"}:  30,
	{"llama3-70b", "gb300", "fp8"}:   20,
	{"llama3-70b", "gb200", "bf16"}:  20,
	{"llama3-70b", "gb200", "fp8"}:   40,
	{"llama3-70b", "b200", "fp8"}:    5,
	{"llama3-405b", "gb300", "bf16"}: 40,
	{"llama3-405b", "gb300", "fp8"}:  10,
	{"llama3-405b", "gb200", "fp8"}:  95,
}

// vtrainCases maps vTrain's measured iterations to cases (package doc).
func vtrainCases() ([]Case, error) {
	var cs []Case
	for _, f := range []struct{ file, src, source string }{
		{vtrainSingle, srcVTrainOne, vtrainSource + "data/ground_truth_single.csv"},
		{vtrainMulti, srcVTrainMulti, vtrainSource + "data/ground_truth_multi.csv (3.6B and 39.1B rows)"},
	} {
		rows, err := loadVTrain(f.file)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			s := vtrainScenario(r, f.src)
			cs = append(cs, Case{
				Name:    s.Name,
				Source:  f.source,
				Group:   f.src + "/a100/bf16",
				Model:   fmt.Sprintf("h%d L%d a%d", r.Hidden, r.Layers, r.Heads),
				Spec:    func() (run.Spec, error) { return loadScenario(s) },
				Metrics: []Metric{{Name: "step_time_s", Published: r.IterationMS / 1000, Step: stepTime}},
			})
		}
	}
	return cs, nil
}

// vtrainScenario is the vTrain recipe (package doc).
func vtrainScenario(r vtrainRow, src string) *scenarios.Scenario {
	return &scenarios.Scenario{
		Name: fmt.Sprintf("%s:%d h%d L%d a%d s%d, %d GPUs tp%d pp%d dp%d, micro %d of %d",
			src, r.Line, r.Hidden, r.Layers, r.Heads, r.SeqLen, r.GPUs, r.TP, r.PP, r.DP, r.Micro, r.Batch),
		Model: scenarios.Model{Layers: r.Layers, Hidden: r.Hidden, FFNHidden: 4 * r.Hidden, Heads: r.Heads,
			KVHeads: ptr(r.Heads), Vocab: 50257, MLP: "gelu", TiedEmbeddings: ptr(true)},
		Cluster: scenarios.Cluster{GPU: "a100-sxm-80g", GPUs: r.GPUs, GPUsPerNode: ptr(min(8, r.GPUs)),
			Network: &scenarios.Network{ScaleOutGbps: ptr(scenarios.Quantity(100)), Oversubscription: ptr(scenarios.Quantity(1))}},
		Parallelism: scenarios.Parallelism{
			TP: ptr(r.TP), PP: ptr(r.PP), CP: ptr(1), DP: ptr(r.DP),
			MicroBatch:       ptr(r.Micro),
			VirtualStages:    ptr(1),
			SequenceParallel: ptr(false),
			Recompute:        ptr("full"),
			ZeRO:             ptr(0),
			TPCommOverlap:    ptr(false),
			DPCommOverlap:    ptr(false),
		},
		Training: scenarios.Training{
			SeqLen: r.SeqLen, GlobalBatch: ptr(r.Batch), Tokens: ptr(scenarios.Quantity(1e12)),
			Precision: "bf16", GradPrecision: "bf16", GradAccumulation: "separate", Attention: "unfused",
		},
		Failures: &scenarios.Failures{Profile: &scenarios.Profile{Builtin: "none"}},
		Trials:   ptr(1),
	}
}

// statusOf turns a spec's build error into a row status: "unmodelled" when
// the catalog lacks the row's GPU or precision (the row lights up when the
// catalog gains them), "refused" for any other refusal (a layout that is
// inconsistent or does not fit in memory), with scenarios' own messages.
func statusOf(err error) string {
	var msgs []string
	unmodelled := false
	for _, e := range leaves(err) {
		var se *scenarios.Error
		if errors.As(e, &se) {
			if se.Key == "cluster.gpu" || se.Key == "training.precision" {
				unmodelled = true
			}
			if se.Key != "" {
				msgs = append(msgs, se.Key+": "+se.Msg)
			} else {
				msgs = append(msgs, se.Msg)
			}
			continue
		}
		msgs = append(msgs, e.Error())
	}
	kind := "refused"
	if unmodelled {
		kind = "unmodelled"
	}
	return kind + ": " + strings.Join(msgs, "; ")
}

// leaves flattens errors.Join trees.
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}
