package study

import (
	"context"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

// Review is the data of a capacity review: the figures, the re-planned
// scaling, the sensitivity, where the days go and the layout trade-off,
// computed with one shared step cache.
type Review struct {
	Figures     *Figures
	Scaling     *ScalingStudy
	Sensitivity *Sensitivity
	Waterfall   Waterfall
	Tradeoff    *Tradeoff
}

// ReviewOptions control ReviewOf.
type ReviewOptions struct {
	Gather GatherOptions
	// Scaling sizes; nil: DefaultScalingGPUs.
	ScalingGPUs []int
	// TradeoffTop: layouts of the trade-off; 0: DefaultTradeoffTop.
	TradeoffTop int
}

// ReviewOf gathers everything a review shows for a scenario.
func ReviewOf(ctx context.Context, name string, sets []string, opt ReviewOptions) (*Review, error) {
	cache := opt.Gather.Cache
	if cache == nil {
		cache = &StepCache{}
	}
	opt.Gather.Cache = cache
	opt.Gather.NoFixedScaling = true // Scaling below re-plans at every size
	f, err := Gather(ctx, name, sets, opt.Gather)
	if err != nil {
		return nil, err
	}
	rv := &Review{Figures: f}
	if rv.Waterfall, err = WaterfallOf(f.Spec, f.Result); err != nil {
		return nil, err
	}
	var me run.Result
	WithModelError(f.Spec, &me)
	if rv.Sensitivity, err = SensitivityOf(ctx, f.Spec, SensitivityOptions{Budget: opt.Gather.Budget, Cache: cache, ModelErrorPct: me.ModelErrorPct}); err != nil {
		return nil, err
	}
	if rv.Scaling, err = Scaling(ctx, name, sets, ScalingOptions{GPUs: opt.ScalingGPUs, Budget: opt.Gather.Budget, Cache: cache}); err != nil {
		return nil, err
	}
	spec, _, err := scenarios.ResolveAnyLayout(name, sets...)
	if err != nil {
		return nil, err
	}
	if rv.Tradeoff, err = TradeoffOf(ctx, spec, opt.TradeoffTop); err != nil {
		return nil, err
	}
	return rv, nil
}
