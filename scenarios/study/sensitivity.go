package study

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

// SensitivityBar is days to train with one doubtful input at its low and
// high value, the rest as the scenario has them.
type SensitivityBar struct {
	Key       string  // stable: failure_rates, restart, storage_bandwidth, stragglers, model_error
	Input     string  // in words, with the scenario's value
	LowLabel  string  // "×0.5", or "−7.8%" for the model error
	HighLabel string  // "×2", or "+7.8%"
	LowDays   float64 // days with the input at its low value
	HighDays  float64 // days with the input at its high value
	Swing     float64 // |HighDays − LowDays|
}

// Sensitivity is a tornado of days against the doubtful inputs.
type Sensitivity struct {
	BaseDays float64 // the scenario's days with the same trials and seed
	Trials   int
	Bars     []SensitivityBar // largest swing first
}

// SensitivityOptions control SensitivityOf.
type SensitivityOptions struct {
	Budget run.Budget
	Cache  *StepCache
	// ModelErrorPct is the model-error band (Result.ModelErrorPct); 0
	// leaves the model-error bar out.
	ModelErrorPct float64
}

// SensitivityOf runs s with each doubtful input at ×0.5 and ×2: the
// failure rates (every cause scaled), the restart time, the checkpoint
// storage bandwidth and the straggler spread (stragglers.cv and gpu_cv
// together), each with min(SweepTrials, trials) Monte Carlo trials and the
// scenario's seed (common random numbers: the swing is the input's, not
// the draws'); and the model-error band, days × (1 ± band/100).
func SensitivityOf(ctx context.Context, s run.Spec, opt SensitivityOptions) (*Sensitivity, error) {
	cache := opt.Cache
	if cache == nil {
		cache = &StepCache{}
	}
	s.Trials = min(SweepTrials, max(s.Trials, 1))
	days := func(sp run.Spec) (float64, error) {
		r, err := run.SimulateWith(ctx, sp, run.Options{Budget: opt.Budget, Step: cache.Simulate})
		return r.WallClockDays, err
	}
	base, err := days(s)
	if err != nil {
		return nil, err
	}
	out := &Sensitivity{BaseDays: base, Trials: s.Trials}
	inputs := []struct {
		key, words string
		apply      func(sp *run.Spec, f float64)
	}{
		{"failure_rates", fmt.Sprintf("failure rates (every cause of profile %q)", s.Failures.Profile.Name), func(sp *run.Spec, f float64) {
			causes := slices.Clone(sp.Failures.Profile.Causes)
			for i := range causes {
				causes[i].RatePerDay *= f
			}
			sp.Failures.Profile = failure.Profile{Name: sp.Failures.Profile.Name, Causes: causes}
		}},
		{"restart", fmt.Sprintf("restart time (%g min)", s.Failures.RestartS/60), func(sp *run.Spec, f float64) { sp.Failures.RestartS *= f }},
		{"storage_bandwidth", fmt.Sprintf("checkpoint storage bandwidth (%.3g TB/s)", s.Failures.StorageBandwidth/1e12), func(sp *run.Spec, f float64) { sp.Failures.StorageBandwidth *= f }},
		{"stragglers", fmt.Sprintf("straggler spread (cv %.3g, gpu_cv %.3g)", s.Step.Noise.CV, s.Step.Noise.GPUCV), func(sp *run.Spec, f float64) {
			sp.Step.Noise.CV = min(sp.Step.Noise.CV*f, 1)
			sp.Step.Noise.GPUCV = min(sp.Step.Noise.GPUCV*f, 1)
		}},
	}
	for _, in := range inputs {
		b := SensitivityBar{Key: in.key, Input: in.words, LowLabel: "×0.5", HighLabel: "×2"}
		for _, f := range []float64{0.5, 2} {
			sp := s
			in.apply(&sp, f)
			d, err := days(sp)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("sensitivity: %s ×%g: %w", in.key, f, err)
			}
			if f < 1 {
				b.LowDays = d
			} else {
				b.HighDays = d
			}
		}
		b.Swing = math.Abs(b.HighDays - b.LowDays)
		out.Bars = append(out.Bars, b)
	}
	if band := opt.ModelErrorPct; band > 0 {
		out.Bars = append(out.Bars, SensitivityBar{Key: "model_error", Input: fmt.Sprintf("model error (±%.1f%% on the step time)", band),
			LowLabel: fmt.Sprintf("−%.1f%%", band), HighLabel: fmt.Sprintf("+%.1f%%", band),
			LowDays: base * (1 - band/100), HighDays: base * (1 + band/100), Swing: base * 2 * band / 100})
	}
	slices.SortStableFunc(out.Bars, func(a, b SensitivityBar) int { return cmp.Compare(b.Swing, a.Swing) })
	return out, nil
}

// SensitivityByName resolves a scenario and runs SensitivityOf with its
// model-error band.
func SensitivityByName(ctx context.Context, name string, sets []string, opt SensitivityOptions) (*Sensitivity, error) {
	spec, _, err := scenarios.Resolve(name, sets...)
	if err != nil {
		return nil, err
	}
	if opt.ModelErrorPct == 0 {
		var r run.Result
		WithModelError(spec, &r)
		opt.ModelErrorPct = r.ModelErrorPct
	}
	return SensitivityOf(ctx, spec, opt)
}
