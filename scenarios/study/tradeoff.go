package study

import (
	"context"

	"github.com/clustersim/clustersim/sim/plan"
	"github.com/clustersim/clustersim/sim/run"
)

// TradeoffPoint is one layout of the trade-off between days and memory.
type TradeoffPoint struct {
	Rank        int // 1 = the plan's best; 0 for the scenario's own layout outside the top
	Layout      Layout
	Days        float64 // expected days to train (the plan's ranking)
	StepTimeS   float64
	MemoryGiB   float64 // peak memory of the fullest GPU
	HeadroomGiB float64 // HBM − MemoryGiB
	Scenario    bool    // the scenario's own layout
}

// Tradeoff is days against memory headroom over the plan's best layouts.
type Tradeoff struct {
	GPUs      int
	HBMGiB    float64
	Evaluated int             // layouts the plan considered
	Feasible  int             // layouts that divide and fit
	Points    []TradeoffPoint // best first
	// Own is the scenario's layout (also in Points when ranked there); nil
	// when it is not valid on the cluster.
	Own *TradeoffPoint
	// Best is the plan's best layout ranked as `clustersim plan` ranks
	// (expected days with stragglers), and OwnExact the scenario's own
	// layout on the same footing; Points and Own are ranked by the
	// failure-free step, which orders the cloud but can swap near-equal
	// layouts.
	Best, OwnExact *TradeoffPoint
	// Complete is false when the plan was interrupted.
	Complete bool
}

// DefaultTradeoffTop is how many layouts TradeoffOf ranks by default.
const DefaultTradeoffTop = 200

// TradeoffOf runs the plan's search for s with the top layouts ranked
// (top <= 0: DefaultTradeoffTop) and returns each with its days and
// memory headroom, the scenario's own layout flagged.
func TradeoffOf(ctx context.Context, s run.Spec, top int) (*Tradeoff, error) {
	t, _, err := tradeoffSearch(ctx, s, top, nil)
	return t, err
}

// tradeoffSearch is TradeoffOf sharing steps through cache (nil: none),
// and the plan's search with the job it searched.
func tradeoffSearch(ctx context.Context, s run.Spec, top int, cache *StepCache) (*Tradeoff, *searched, error) {
	if top <= 0 {
		top = DefaultTradeoffTop
	}
	// The cloud is ranked by the failure-free step (fast: the exact
	// straggler ranking would simulate every layout near the top few
	// hundred with noise); the best layout is the plan's own, ranked with
	// stragglers as `clustersim plan` ranks (Best). One search gives both
	// (plan.Options.Quiet): the enumeration, the bounds and the noiseless
	// steps are shared.
	//
	// A multi-phase scenario is searched on its main phase alone, for all
	// its tokens (as the scaling study does): the plan would otherwise
	// run every ranked layout's whole multi-phase job (the phases' tokens
	// summed: a run.Spec's Step.Training.Tokens is the whole run's only
	// without phases, though a resolved scenario's is). The search uses at
	// most SweepTrials trials.
	s.Trials = min(s.Trials, SweepTrials)
	if len(s.Phases) > 0 {
		tokens := 0.0
		for _, p := range s.Phases {
			tokens += p.Tokens
		}
		s.Phases = nil
		s.Step.Training.Tokens = tokens
	}
	opt := plan.Options{Top: 1, Quiet: top}
	if cache != nil {
		opt.Step = cache.Simulate
	}
	pr, err := plan.Search(ctx, s, opt)
	if err != nil && len(pr.Quiet) == 0 {
		return nil, nil, err
	}
	hbm := s.Step.Cluster.GPU.HBMGiB
	t := &Tradeoff{GPUs: pr.GPUs, HBMGiB: hbm, Evaluated: pr.Evaluated, Feasible: pr.Feasible, Complete: pr.Complete}
	point := func(r plan.Ranked) *TradeoffPoint {
		return &TradeoffPoint{Rank: r.Rank, Layout: layoutOf(r), Days: r.WallClockDays, StepTimeS: r.StepTimeS,
			MemoryGiB: r.MemoryGiBPerGPU, HeadroomGiB: hbm - r.MemoryGiBPerGPU, Scenario: r.Layout == s.Step.Layout}
	}
	for _, r := range pr.Quiet {
		t.Points = append(t.Points, *point(r))
	}
	if len(pr.Layouts) > 0 {
		t.Best = point(pr.Layouts[0])
	}
	if b := pr.Baseline; b != nil {
		t.OwnExact = point(*b)
	}
	if b := pr.QuietBaseline; b != nil {
		t.Own = point(*b)
	}
	return t, &searched{spec: s, microBatches: plan.DefaultMicroBatches, res: pr}, err
}
