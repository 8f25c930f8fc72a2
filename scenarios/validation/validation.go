package validation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// Row is one published figure against its prediction (the JSON of
// `clustersim validate --format json`). A row that could not be simulated
// has a Status and NaN Predicted and ErrorPct (null in JSON).
type Row struct {
	Case      string  `json:"case"`
	Metric    string  `json:"metric"`
	Published float64 `json:"published"`
	Predicted float64 `json:"predicted"`
	ErrorPct  float64 `json:"error_pct"`
	Source    string  `json:"source"`
	// Group is source × GPU × precision, e.g. "nemo24.07/h100/fp8".
	Group string `json:"group"`
	// ByConstruction marks a published figure that is one of the case's
	// own inputs read back (the interruption rates the failure profile
	// was built from), not a prediction; such rows stay out of the error
	// statistics.
	ByConstruction bool `json:"by_construction"`
	// Bound is "" for a point value, ">" when the published figure is a
	// lower bound (the error is then 0 when the prediction meets it).
	Bound string `json:"bound,omitempty"`
	// Model names the model shape of a vTrain row ("h1024 L24 a16"), the
	// unit of the rank correlations.
	Model string `json:"model,omitempty"`
	// Status is "" for a simulated row, else why it was not: "unmodelled:
	// ..." (a mechanism, GPU or precision clustersim lacks) or "refused:
	// ..." (the scenario's checks refused the layout, e.g. it does not fit
	// in memory) or "failed: ..." (the simulation failed).
	Status string `json:"status,omitempty"`
	// Note says how the published figure was obtained when it is not
	// printed as such in the source (e.g. derived from tokens/s).
	Note string `json:"note,omitempty"`
	// StragglerPct is the straggler share of the predicted step, % (step
	// cases only).
	StragglerPct float64 `json:"straggler_pct,omitempty"`
	// GPU and Precision are the simulated scenario's GPU type (catalog
	// name, e.g. "h100-sxm") and precision ("bf16", "fp8", ...); empty for
	// a row whose scenario could not be built. They key the accuracy
	// summary (Accuracy).
	GPU       string `json:"-"`
	Precision string `json:"-"`
	MoE       bool   `json:"-"` // a mixture-of-experts model
}

// MarshalJSON writes NaN figures as null.
func (r Row) MarshalJSON() ([]byte, error) {
	type plain Row
	out := struct {
		plain
		Predicted *float64 `json:"predicted"`
		ErrorPct  *float64 `json:"error_pct"`
	}{plain: plain(r)}
	if !math.IsNaN(r.Predicted) {
		out.Predicted = &r.Predicted
	}
	if !math.IsNaN(r.ErrorPct) {
		out.ErrorPct = &r.ErrorPct
	}
	return json.Marshal(out)
}

// Modelled reports whether the row has a prediction.
func (r Row) Modelled() bool { return r.Status == "" }

// Case is one scenario and the published figures it is checked against.
type Case struct {
	Name   string
	Source string
	Group  string
	Model  string // the model shape, for rank correlations (vTrain)
	Note   string
	// Spec builds the scenario; an error becomes the rows' status.
	Spec func() (run.Spec, error)
	// Unmodelled, when set, is why the case cannot be simulated at all
	// (Spec is then not called).
	Unmodelled string
	Whole      bool // needs the whole run (failures, phases), not only the step
	Metrics    []Metric
}

// Metric reads one predicted figure.
type Metric struct {
	Name           string
	Published      float64
	Bound          string
	ByConstruction bool
	Step           func(step.Result) float64
	Run            func(run.Result) float64
}

const (
	llama3Card  = "Llama 3.1 model card (meta-llama/llama-models)"
	llama3Flops = "arXiv:2407.21783 §3.4 (3.8e25 FLOPs)"
	megatronT1  = "arXiv:2104.04473 Table 1; configs from NVIDIA/Megatron-LM examples/sc21/run_table_1.sh"
)

// Groups of the headline cases.
const (
	GroupLlama3Table4 = "llama3-table4/h100/bf16"
	GroupLlama3Rel    = "llama3-reliability/h100/bf16"
	GroupLlama3Card   = "llama3-card/h100/bf16"
	GroupMegatron     = "megatron-sc21/a100/bf16"
)

func builtin(name string, sets ...string) func() (run.Spec, error) {
	return func() (run.Spec, error) {
		s, _, err := scenarios.Builtin(name, sets...)
		return s, err
	}
}

func tflops(r step.Result) float64 { return r.TFLOPSPerGPU }
func mfu(r step.Result) float64    { return r.MFU }

// table4Builtins are the built-in scenarios of Llama 3 Table 4's rows, in
// the table's order.
var table4Builtins = []string{"llama3-405b-8k", "llama3-405b", "llama3-405b-128k"}

var table4Names = []string{
	"llama3-405b 8K GPUs (Table 4 row 1)",
	"llama3-405b 16K GPUs (Table 4 row 2)",
	"llama3-405b 16K GPUs, 128K context (Table 4 row 3)",
}

// Cases returns the headline cases, in the order they are printed: Llama
// 3's Table 4, reliability record and GPU-hours, and Megatron-LM SC21
// Table 1, with the published figures read from the embedded
// published.yaml. It panics if the embedded data is malformed (a
// programmer error the package's tests catch).
func Cases() []Case {
	cs, err := headline()
	if err != nil {
		panic(err)
	}
	return cs
}

func headline() ([]Case, error) {
	p, err := loadPublished()
	if err != nil {
		return nil, err
	}
	if len(p.Table4.Rows) != len(table4Builtins) {
		return nil, fmt.Errorf("validation: %s: llama3_table4 has %d rows, want %d", publishedFile, len(p.Table4.Rows), len(table4Builtins))
	}
	var cs []Case
	for i, r := range p.Table4.Rows {
		cs = append(cs, Case{Name: table4Names[i], Source: p.Table4.Source, Group: GroupLlama3Table4, Spec: builtin(table4Builtins[i]),
			Metrics: []Metric{{Name: "tflops_per_gpu", Published: r.TFLOPS, Step: tflops}, {Name: "mfu", Published: r.MFU, Step: mfu}}})
	}
	rel := p.Reliability
	bound, ettr, err := parseBound(rel.ETTR)
	if err != nil || rel.WindowDays <= 0 {
		return nil, fmt.Errorf("validation: %s: llama3_reliability: effective_training_time %q, window_days %g", publishedFile, rel.ETTR, rel.WindowDays)
	}
	cs = append(cs, Case{Name: "llama3-405b reliability, 16K GPUs", Source: rel.Source, Group: GroupLlama3Rel, Spec: builtin("llama3-405b"), Whole: true, Metrics: []Metric{
		// The llama3 failure profile is built from these counts: a
		// read-back that checks the rates are wired right, not a
		// prediction.
		{Name: "unexpected_interruptions_per_day", Published: rel.Unexpected / rel.WindowDays, ByConstruction: true, Run: func(r run.Result) float64 { return r.InterruptionsPerDay }},
		{Name: "planned_interruptions_per_day", Published: rel.Planned / rel.WindowDays, ByConstruction: true, Run: func(r run.Result) float64 { return r.PlannedPerDay }},
		{Name: "ettr", Published: ettr, Bound: bound, Run: func(r run.Result) float64 { return r.ETTR }},
	}})
	hours, ok := p.Runs.GPUHours["llama3_1_405b"]
	if !ok || p.Runs.Recipe.TotalFLOPs <= 0 {
		return nil, fmt.Errorf("validation: %s: llama3_runs lacks gpu_hours.llama3_1_405b or total_flops", publishedFile)
	}
	cs = append(cs, Case{Name: "llama3-405b pre-training (all phases)", Source: llama3Card + "; " + llama3Flops, Group: GroupLlama3Card, Spec: builtin("llama3-405b-pretrain"), Whole: true, Metrics: []Metric{
		{Name: "gpu_hours", Published: hours, Run: func(r run.Result) float64 { return r.GPUHours }},
		{Name: "total_flops", Published: p.Runs.Recipe.TotalFLOPs, Run: func(r run.Result) float64 { return r.TotalFLOPs }},
	}})
	rows, err := megatronRows(p)
	if err != nil {
		return nil, err
	}
	for _, m := range rows {
		cs = append(cs, Case{
			Name:   fmt.Sprintf("megatron %gB on %d A100s (Table 1)", m.ParamsB, m.GPUs),
			Source: megatronT1,
			Group:  GroupMegatron,
			Spec:   m.spec,
			Metrics: []Metric{{Name: "hardware_tflops_per_gpu", Published: m.TFLOPS,
				// hfu × peak counts what the hardware computed, recomputation
				// and the full s×s attention of the unfused kernel included,
				// as the paper's formula 96·B·s·l·h²·(1 + s/6h + V/16lh) does.
				Step: func(r step.Result) float64 { return r.HFU * 312 }}},
		})
	}
	cs = append(cs, deepseekCase())
	return cs, nil
}

// Suite returns the public suite's cases: every row of the embedded
// measured.yaml (NeMo and Megatron-Bridge) and of vTrain's ground truth,
// mapped by the recipes of the package doc. It panics if the embedded
// data is malformed (a programmer error the package's tests catch).
func Suite() []Case {
	m, err := measuredCases()
	if err != nil {
		panic(err)
	}
	v, err := vtrainCases()
	if err != nil {
		panic(err)
	}
	return append(m, v...)
}

// All returns the headline cases and the public suite.
func All() []Case { return append(Cases(), Suite()...) }

// Run simulates every case (in parallel, one goroutine per case up to
// GOMAXPROCS) and returns the rows in order.
func Run(ctx context.Context, cases []Case) ([]Row, error) {
	return RunWith(ctx, cases, nil)
}

// RunWith is Run with the steps simulated by simulate (nil: step.Simulate):
// a cache (scenarios/study.StepCache) shares them with the studies of a
// report. simulate must return what step.Simulate returns for the spec.
// Once ctx is done, the cases not yet started are not, and the error names
// the first case (in order) that stopped or did not start.
func RunWith(ctx context.Context, cases []Case, simulate func(context.Context, step.Spec) (step.Result, error)) ([]Row, error) {
	if simulate == nil {
		simulate = step.Simulate
	}
	rows := make([][]Row, len(cases))
	errs := make([]error, len(cases))
	started := make([]bool, len(cases))
	sim.Parallel(ctx, len(cases), 0, func(i int) {
		started[i] = true
		rows[i], errs[i] = evaluate(ctx, cases[i], simulate)
	})
	var out []Row
	for i := range cases {
		if !started[i] {
			errs[i] = ctx.Err() // sim.Parallel skips cases only once ctx is done
		}
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: %w", cases[i].Name, errs[i])
		}
		out = append(out, rows[i]...)
	}
	return out, nil
}

func evaluate(ctx context.Context, c Case, simulate func(context.Context, step.Spec) (step.Result, error)) ([]Row, error) {
	rows := make([]Row, len(c.Metrics))
	for i, m := range c.Metrics {
		rows[i] = Row{Case: c.Name, Metric: m.Name, Published: m.Published, Predicted: math.NaN(), ErrorPct: math.NaN(),
			Source: c.Source, Group: c.Group, ByConstruction: m.ByConstruction, Bound: m.Bound, Model: c.Model, Note: c.Note}
	}
	status := func(s string) []Row {
		for i := range rows {
			rows[i].Status = s
		}
		return rows
	}
	if c.Unmodelled != "" {
		return status("unmodelled: " + c.Unmodelled), nil
	}
	spec, err := c.Spec()
	if err != nil {
		return status(statusOf(err)), nil
	}
	for i := range rows {
		rows[i].GPU, rows[i].Precision, rows[i].MoE = keyOf(spec)
	}
	var sr step.Result
	var rr run.Result
	if c.Whole {
		rr, err = run.SimulateWith(ctx, spec, run.Options{Step: simulate})
	} else if err = spec.CheckStepBudget(run.Budget{}); err == nil {
		// (a user's row may ask for more than a step can take: --measured)
		sr, err = simulate(ctx, spec.Step)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		var nf *step.NotFitError
		if errors.As(err, &nf) {
			return status("refused: " + err.Error()), nil
		}
		return status("failed: " + err.Error()), nil
	}
	for i, m := range c.Metrics {
		var v float64
		if m.Run != nil {
			v = m.Run(rr)
		} else {
			v = m.Step(sr)
		}
		e := 100 * (v/m.Published - 1)
		if m.Bound == ">" && v >= m.Published {
			e = 0
		}
		rows[i].Predicted, rows[i].ErrorPct = v, e
		if !c.Whole && sr.StepTime > 0 {
			rows[i].StragglerPct = 100 * sr.Breakdown.Straggler / sr.StepTime
		}
	}
	return rows, nil
}

// Summary is the mean absolute error of the simulated rows whose case has
// the given prefix and whose metric is metric, and the worst row.
func Summary(rows []Row, casePrefix, metric string) (mae float64, worst Row) {
	n := 0
	for _, r := range rows {
		if !strings.HasPrefix(r.Case, casePrefix) || r.Metric != metric || !r.Modelled() || r.ByConstruction {
			continue
		}
		mae += math.Abs(r.ErrorPct)
		n++
		if math.Abs(r.ErrorPct) >= math.Abs(worst.ErrorPct) {
			worst = r
		}
	}
	if n > 0 {
		mae /= float64(n)
	}
	return mae, worst
}
