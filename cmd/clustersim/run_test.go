package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/scenarios/validation"
	"github.com/clustersim/clustersim/sim/plan"
	"github.com/clustersim/clustersim/sim/run"
)

// TestRunModelError: run's JSON carries the model-error band of the
// scenario's GPU type and precision (CONTRACT.md model_error_pct), from the
// suite's embedded summary, and 6·N·D beside total_flops; the table shows
// the band beside the headline figures, apart from the Monte Carlo
// interval; the CSV has the column.
func TestRunModelError(t *testing.T) {
	out, stderr, code := runMain(t, "run", "llama3-405b", "--trials", "3", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m struct {
		Params        float64 `json:"params"`
		Tokens        float64 `json:"tokens"`
		TotalFLOPs    float64 `json:"total_flops"`
		SixND         float64 `json:"six_nd_flops"`
		ModelErrorPct float64 `json:"model_error_pct"`
		ModelError    struct {
			BandPct float64 `json:"band_pct"`
			Rows    int     `json:"rows"`
			Exact   bool    `json:"exact"`
			Basis   string  `json:"basis"`
		} `json:"model_error"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	// Llama 3 405B trains on h100-sxm in bf16: the band of that pair.
	want := validation.EmbeddedAccuracy().For("h100-sxm", "bf16", false)
	if math.IsNaN(m.ModelErrorPct) || math.IsInf(m.ModelErrorPct, 0) || !(m.ModelErrorPct > 0) || m.ModelErrorPct != want.BandPct {
		t.Errorf("model_error_pct %v, want %v (> 0, finite)", m.ModelErrorPct, want.BandPct)
	}
	if e := m.ModelError; e.BandPct != m.ModelErrorPct || e.Rows != want.Rows || !e.Exact || !strings.Contains(e.Basis, "h100-sxm bf16") {
		t.Errorf("model_error %+v, want the h100-sxm bf16 band %+v", e, want)
	}
	// 6·N·D (N every parameter) against the model FLOPs: they differ by
	// attention and the input embedding, a few percent for the 405B at 8K.
	if six := 6 * m.Params * m.Tokens; math.Abs(m.SixND/six-1) > 1e-12 || math.Abs(m.TotalFLOPs/m.SixND-1) > 0.1 {
		t.Errorf("six_nd_flops %.4g, 6·N·D %.4g, total_flops %.4g", m.SixND, six, m.TotalFLOPs)
	}

	out, stderr, code = runMain(t, "run", "llama3-405b", "--trials", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"model error (validated on", "h100-sxm bf16 runs", "Monte Carlo 90%", "6·N·D"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		for _, head := range []string{"step time (s)", "TFLOPS/GPU", "wall clock (days)", "GPU-hours"} {
			if strings.HasPrefix(line, head) && !strings.Contains(line, "model error") {
				t.Errorf("%q lacks the band", line)
			}
		}
	}

	out, _, _ = runMain(t, "run", "llama3-8b", "--trials", "1", "--format", "csv")
	if head, _, _ := strings.Cut(out, "\n"); !strings.Contains(head, ",six_nd_flops,model_error_pct,") {
		t.Errorf("CSV header %q lacks six_nd_flops and model_error_pct", head)
	}
}

// TestRunModelErrorFallback: a GPU type and precision without published
// runs gets the overall band, and says so.
func TestRunModelErrorFallback(t *testing.T) {
	out, stderr, code := runMain(t, "run", "llama3-8b", "--set", "cluster.gpu=h200-sxm", "--trials", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := validation.EmbeddedAccuracy().Overall
	for _, s := range []string{"no published run of this GPU and precision", "overall band", fmt.Sprintf("± %.1f%% model error", o.BandPct)} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

// TestPlanModelError: plan's JSON has model_error_pct beside plan.Result's
// keys, and the table warns when the top two are within the band.
func TestPlanModelError(t *testing.T) {
	io, out, _ := testStreams()
	if err := runPlan(t.Context(), io, &planOptions{scenario: "llama3-8b", top: 2, format: "json"}); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if v, ok := raw["model_error_pct"].(float64); !ok || !(v > 0) || v != validation.EmbeddedAccuracy().For("h100-sxm", "bf16", false).BandPct {
		t.Errorf("model_error_pct %v", raw["model_error_pct"])
	}
	for _, k := range []string{"evaluated", "feasible", "layouts", "model_error"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}

	// Days 10 and 10.5 (5% apart) are within a 7.8% band; 10 and 11 are not.
	res := func(days ...float64) planOutput {
		o := planOutput{ModelErrorPct: 7.8, ModelError: &run.ModelError{BandPct: 7.8, Rows: 3, Exact: true, Basis: "test"}}
		for i, d := range days {
			o.Layouts = append(o.Layouts, plan.Ranked{Rank: i + 1, WallClockDays: d})
		}
		return o
	}
	if h := indistinguishable(res(10, 10.5)); !strings.Contains(h, "5.0%") || !strings.Contains(h, "indistinguishable") {
		t.Errorf("10 vs 10.5 days: %q", h)
	}
	for _, o := range []planOutput{res(10, 11), res(10), {}} {
		if h := indistinguishable(o); h != "" {
			t.Errorf("%v: %q, want no hint", o.Layouts, h)
		}
	}
	var b strings.Builder
	if err := writePlanTable(&b, res(10, 10.5)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"± 7.8% model error", "statistically indistinguishable"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("plan table lacks %q:\n%s", s, b.String())
		}
	}
}

// TestRunDescriptionEdited: the description is the scenario's as written, so
// when --set changes a key it may quote (a GPU count), the table says so.
func TestRunDescriptionEdited(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "cluster.gpus=8192"}, "16,384 H100s (arXiv:2407.21783 Table 4, row 2) (as written; --set changed cluster.gpus)\n"},
		{[]string{"--trials", "2"}, "16,384 H100s (arXiv:2407.21783 Table 4, row 2)\n"},
	} {
		out, stderr, code := runMain(t, append([]string{"run", "llama3-405b", "--trials", "2"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("%v: description line %q not in\n%s", c.args, c.want, out[:min(len(out), 400)])
		}
	}
}
