package study

import (
	"context"
	"math"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

func TestWaterfallSums(t *testing.T) {
	for _, name := range []string{"llama3-8b", "llama3-405b-pretrain"} {
		t.Run(name, func(t *testing.T) {
			spec, _, err := scenarios.Resolve(name, "trials=5")
			if err != nil {
				t.Fatal(err)
			}
			r, err := run.Simulate(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			w, err := WaterfallOf(spec, r)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0.0
			for _, s := range w.Steps {
				t.Logf("%-20s %10.3f", s.Key, s.Days)
				if !s.Total {
					sum += s.Days
				}
			}
			if d := w.Ideal + sum - r.WallClockDays; math.Abs(d) > 1e-9*r.WallClockDays {
				t.Errorf("ideal %g + increments %g = %g, delivered %g", w.Ideal, sum, w.Ideal+sum, r.WallClockDays)
			}
			// ideal: model FLOPs / (GPUs × peak); with one phase it is
			// TotalFLOPs / (GPUs × 989.4 TFLOPS bf16 H100) / 86400
			if len(r.Phases) == 1 {
				want := r.TotalFLOPs / (float64(r.GPUs) * spec.Step.Cluster.GPU.PeakFLOPS(spec.Step.Training.Precision)) / 86400
				if math.Abs(w.Ideal-want) > 1e-9*want {
					t.Errorf("ideal %g, want %g", w.Ideal, want)
				}
				// ideal / productive is the MFU (the step's model FLOPs over peak)
				productive := r.Steps * r.StepTimeS / 86400
				if mfu := w.Ideal / productive; math.Abs(mfu-r.MFU) > 0.01*r.MFU {
					t.Errorf("ideal/productive %g, MFU %g", mfu, r.MFU)
				}
			}
			if math.Abs(w.Residual) > 0.01*r.WallClockDays {
				t.Errorf("residual %g days of %g: the badput does not explain the wall clock", w.Residual, r.WallClockDays)
			}
			for _, s := range w.Steps {
				if s.Days < -1e-9 && s.Key != "restarts" {
					t.Errorf("%s: %g days < 0", s.Key, s.Days)
				}
			}
		})
	}
}
