package validation

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestValidation runs every case and holds the predictions to the accuracy
// clustersim reaches today, so that a change that makes them worse fails.
// The figures and their sources are in Cases; the README discusses the
// misses.
func TestValidation(t *testing.T) {
	rows, err := Run(context.Background(), Cases())
	if err != nil {
		t.Fatal(err)
	}
	get := func(casePrefix, metric string) Row {
		t.Helper()
		for _, r := range rows {
			if strings.HasPrefix(r.Case, casePrefix) && r.Metric == metric {
				return r
			}
		}
		t.Fatalf("no row %s / %s", casePrefix, metric)
		return Row{}
	}
	// Megatron SC21 Table 1: each row within ±10%, mean absolute error ≤ 5%.
	mae, worst := Summary(rows, "megatron", "hardware_tflops_per_gpu")
	n := 0
	for _, r := range rows {
		if strings.HasPrefix(r.Case, "megatron") {
			n++
			if math.Abs(r.ErrorPct) > 10 {
				t.Errorf("%s: %+.1f%%", r.Case, r.ErrorPct)
			}
		}
	}
	if n != 10 || mae > 5 {
		t.Errorf("%d Megatron rows, mean absolute error %.2f%% (worst %s %+.1f%%)", n, mae, worst.Case, worst.ErrorPct)
	}
	// Llama 3 Table 4: 430, 400, 380 TFLOPS/GPU in that order. The 8K rows
	// are 8-9% high today (see README, Accuracy); hold them within 10%
	// and the 128K row within 5%.
	r1, r2, r3 := get("llama3-405b 8K GPUs", "tflops_per_gpu"), get("llama3-405b 16K GPUs (", "tflops_per_gpu"), get("llama3-405b 16K GPUs, 128K", "tflops_per_gpu")
	if !(r1.Predicted > r2.Predicted && r2.Predicted > r3.Predicted) {
		t.Errorf("Table 4 order lost: %.0f, %.0f, %.0f", r1.Predicted, r2.Predicted, r3.Predicted)
	}
	for _, c := range []struct {
		r   Row
		tol float64
	}{{r1, 10}, {r2, 10}, {r3, 5}} {
		if math.Abs(c.r.ErrorPct) > c.tol {
			t.Errorf("%s: %+.1f%%, want within ±%g%%", c.r.Case, c.r.ErrorPct, c.tol)
		}
	}
	// Reliability: unexpected interruptions per day within ±5% of 419/54,
	// planned within ±10% of 47/54, effective training time in [0.90, 0.99].
	if r := get("llama3-405b reliability", "unexpected_interruptions_per_day"); math.Abs(r.ErrorPct) > 5 {
		t.Errorf("unexpected per day %.3f (%+.1f%%)", r.Predicted, r.ErrorPct)
	}
	if r := get("llama3-405b reliability", "planned_interruptions_per_day"); math.Abs(r.ErrorPct) > 10 {
		t.Errorf("planned per day %.3f (%+.1f%%)", r.Predicted, r.ErrorPct)
	}
	if r := get("llama3-405b reliability", "ettr"); r.Predicted < 0.90 || r.Predicted > 0.99 {
		t.Errorf("ETTR %.3f", r.Predicted)
	}
	// The whole pre-training within ±15% of 30.84M GPU-hours.
	if r := get("llama3-405b pre-training", "gpu_hours"); math.Abs(r.ErrorPct) > 15 {
		t.Errorf("GPU-hours %.4g (%+.1f%%)", r.Predicted, r.ErrorPct)
	}
	for _, r := range rows {
		if r.Source == "" || math.IsNaN(r.Predicted) || math.IsInf(r.Predicted, 0) {
			t.Errorf("row %+v", r)
		}
	}
}
