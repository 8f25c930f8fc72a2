package study

import (
	"context"
	"math"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
)

func TestSensitivity(t *testing.T) {
	spec, _, err := scenarios.Resolve("llama3-8b")
	if err != nil {
		t.Fatal(err)
	}
	s, err := SensitivityOf(context.Background(), spec, SensitivityOptions{ModelErrorPct: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Bars) != 5 || s.Trials != SweepTrials {
		t.Fatalf("%d bars, %d trials", len(s.Bars), s.Trials)
	}
	by := map[string]SensitivityBar{}
	for i, b := range s.Bars {
		t.Logf("%-18s %8.3f %8.3f swing %.3f (base %.3f)", b.Key, b.LowDays, b.HighDays, b.Swing, s.BaseDays)
		by[b.Key] = b
		if i > 0 && b.Swing > s.Bars[i-1].Swing {
			t.Errorf("bar %d (%s) swings more than the one above it", i, b.Key)
		}
	}
	// the model error is days × (1 ± 10%): a swing of 20% of the base
	if me := by["model_error"]; math.Abs(me.LowDays-0.9*s.BaseDays) > 1e-9 || math.Abs(me.Swing-0.2*s.BaseDays) > 1e-9 {
		t.Errorf("model error bar %+v, base %g", me, s.BaseDays)
	}
	// more failures, longer restarts, slower storage and more stragglers all cost days
	for _, k := range []string{"failure_rates", "restart", "stragglers"} {
		if b := by[k]; !(b.HighDays > s.BaseDays && b.LowDays < s.BaseDays) {
			t.Errorf("%s: low %g, base %g, high %g: want low < base < high", k, b.LowDays, s.BaseDays, b.HighDays)
		}
	}
	if b := by["storage_bandwidth"]; !(b.LowDays >= b.HighDays) {
		t.Errorf("storage bandwidth: halving it gives %g days, doubling %g", b.LowDays, b.HighDays)
	}
}
