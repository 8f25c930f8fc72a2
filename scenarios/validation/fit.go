package validation

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// FitGroup is one Blackwell GPU type and 8- or 4-bit precision whose
// sustained matrix-product efficiency is fitted to the suite's rows: no
// Blackwell kernel has been measured here, so (as issue 8 allows) one
// documented fit per GPU type stands in for a calibration. Dense rows only.
type FitGroup struct {
	GPU       string
	Precision cluster.Precision
}

// FitResult is a fitted efficiency with the rows it was fitted on and
// their residuals at the fit.
type FitResult struct {
	FitGroup
	Efficiency float64   // fitted fraction of the precision's dense peak
	Rows       []string  // case names
	Residuals  []float64 // step-time error at the fit, %
}

// FitEfficiencies fits, for every Blackwell GPU type and low precision
// that the suite has dense rows of, the one efficiency that makes the
// median step-time error of those rows zero. Method: each row's step is
// simulated without stragglers' noise changing between the two runs (same
// seed) at two efficiencies, η₁ = 0.45 and η₂ = 0.75, and modelled as
// T(η) = A + B/η (the products' time scales as 1/η, the rest does not);
// the median of log(T(η)/published) is then zero at one η, found by
// bisection on that model; the rows are simulated again at the fitted η
// for the residuals. The catalog's constants (cluster/compute.go) are this
// fit rounded to 0.005; TestBlackwellFit re-derives it.
func FitEfficiencies(ctx context.Context) ([]FitResult, error) {
	type row struct {
		c        Case
		pub      float64
		t1, t2   float64
		spec     func(eta float64) (step.Spec, error)
		resolved bool
	}
	groups := map[FitGroup][]*row{}
	for _, c := range Suite() {
		if c.Spec == nil || c.Unmodelled != "" || len(c.Metrics) != 1 || c.Metrics[0].Name != "step_time_s" || strings.Contains(c.Group, "-moe") {
			continue
		}
		rs, err := c.Spec()
		if err != nil {
			continue // refused rows are not fitted on
		}
		st := rs.Step
		g := FitGroup{st.Cluster.GPU.Name, st.Training.Precision}
		if !blackwell(g.GPU) || g.Precision == cluster.BF16 {
			continue
		}
		base := st
		groups[g] = append(groups[g], &row{c: c, pub: c.Metrics[0].Published, spec: func(eta float64) (step.Spec, error) {
			s := base
			setEfficiency(&s.Cluster.GPU.Compute, g.Precision, eta)
			return s, nil
		}})
	}
	keys := make([]FitGroup, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	slices.SortFunc(keys, func(a, b FitGroup) int {
		if a.GPU != b.GPU {
			if a.GPU < b.GPU {
				return -1
			}
			return 1
		}
		return int(a.Precision) - int(b.Precision)
	})
	const eta1, eta2 = 0.45, 0.75
	simulate := func(r *row, eta float64) (float64, error) {
		s, _ := r.spec(eta)
		res, err := step.Simulate(ctx, s)
		if err != nil {
			return 0, err
		}
		return res.StepTime, nil
	}
	var out []FitResult
	for _, g := range keys {
		rows := groups[g]
		var use []*row
		for _, r := range rows {
			t1, err1 := simulate(r, eta1)
			t2, err2 := simulate(r, eta2)
			if err1 != nil || err2 != nil {
				continue
			}
			r.t1, r.t2 = t1, t2
			use = append(use, r)
		}
		if len(use) == 0 {
			continue
		}
		// T(η) = A + B/η through the two points.
		model := func(r *row, eta float64) float64 {
			b := (r.t1 - r.t2) / (1/eta1 - 1/eta2)
			a := r.t1 - b/eta1
			return a + b/eta
		}
		median := func(eta float64) float64 {
			l := make([]float64, len(use))
			for i, r := range use {
				l[i] = math.Log(model(r, eta) / r.pub)
			}
			sort.Float64s(l)
			n := len(l)
			if n%2 == 1 {
				return l[n/2]
			}
			return (l[n/2-1] + l[n/2]) / 2
		}
		lo, hi := 0.05, 1.0 // the median error falls as η grows
		for range 60 {
			mid := (lo + hi) / 2
			if median(mid) > 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		eta := (lo + hi) / 2
		fr := FitResult{FitGroup: g, Efficiency: eta}
		for _, r := range use {
			t, err := simulate(r, eta)
			if err != nil {
				return nil, fmt.Errorf("validation: fit %s %s: %s: %w", g.GPU, g.Precision, r.c.Name, err)
			}
			fr.Rows = append(fr.Rows, r.c.Name)
			fr.Residuals = append(fr.Residuals, 100*(t/r.pub-1))
		}
		out = append(out, fr)
	}
	return out, nil
}

func blackwell(gpu string) bool { return gpu == "b200" || gpu == "gb200" || gpu == "gb300" }

// setEfficiency sets the sustained product efficiency of precision p.
func setEfficiency(c *cluster.ComputeModel, p cluster.Precision, eta float64) {
	switch p {
	case cluster.FP8:
		c.FP8Efficiency = eta
	case cluster.MXFP8:
		c.MXFP8Efficiency = eta
	case cluster.NVFP4:
		c.FP4Efficiency = eta
	}
}

// HostOverheadErrors returns the mean |step-time error| (%) of the suite's
// vTrain single-node rows (1,440 layouts of eight small GPT models on one
// A100 node, where the framework's launches bind) with the host's time per
// launch set to each of hosts (seconds). model.DefaultHostOverheadS is the
// value among 5 µs steps that minimises it (TestHostOverheadFit).
func HostOverheadErrors(ctx context.Context, hosts []float64) ([]float64, error) {
	cs, err := vtrainCases()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(hosts))
	for i, h := range hosts {
		var sel []Case
		for _, c := range cs {
			if c.Group != srcVTrainOne+"/a100/bf16" {
				continue
			}
			c := c
			spec := c.Spec
			c.Spec = func() (run.Spec, error) {
				s, err := spec()
				s.Step.Training.HostOverheadS = h
				return s, err
			}
			sel = append(sel, c)
		}
		rows, err := Run(ctx, sel)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, r := range rows {
			if !math.IsNaN(r.ErrorPct) {
				out[i] += math.Abs(r.ErrorPct)
				n++
			}
		}
		out[i] /= float64(max(n, 1))
	}
	return out, nil
}
