package study

import (
	"cmp"
	"context"
	"sync"

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

// ReviewOf gathers everything a review shows for a scenario. The figures
// (with where the days go and the sensitivity), the trade-off's plan search
// and the scaling study are independent and run at once, sharing one step
// cache; each is what it would be alone. The trade-off's search is the
// only search at the scenario's own size: it ranks the recommended layout
// (with stragglers) and the trade-off's cloud (without), and the scaling
// study takes that size's best layout from it.
func ReviewOf(ctx context.Context, name string, sets []string, opt ReviewOptions) (*Review, error) {
	cache := opt.Gather.Cache
	if cache == nil {
		cache = &StepCache{}
	}
	opt.Gather.Cache = cache
	spec, _, err := scenarios.ResolveAnyLayout(name, sets...)
	if err != nil {
		return nil, err
	}
	rv := &Review{}
	var (
		wg               sync.WaitGroup
		ferr, serr, terr error
		planned          *searched
		tradeoffDone     = make(chan struct{})
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(tradeoffDone)
		rv.Tradeoff, planned, terr = tradeoffSearch(ctx, spec, opt.TradeoffTop, cache)
	}()
	go func() {
		defer wg.Done()
		rv.Scaling, serr = Scaling(ctx, name, sets, ScalingOptions{GPUs: opt.ScalingGPUs, Budget: opt.Gather.Budget, Cache: cache,
			planned: &pending{gpus: spec.Step.Cluster.GPUs, wait: func() *searched { <-tradeoffDone; return planned }}})
	}()
	go func() {
		defer wg.Done()
		ferr = rv.figures(ctx, name, sets, opt, cache)
	}()
	wg.Wait()
	if err := cmp.Or(ferr, serr, terr); err != nil {
		return nil, err
	}
	return rv, nil
}

// figures fills the figures, where the days go and the sensitivity.
func (rv *Review) figures(ctx context.Context, name string, sets []string, opt ReviewOptions, cache *StepCache) error {
	f, err := Gather(ctx, name, sets, opt.Gather)
	if err != nil {
		return err
	}
	rv.Figures = f
	if rv.Waterfall, err = WaterfallOf(f.Spec, f.Result); err != nil {
		return err
	}
	var me run.Result
	WithModelError(f.Spec, &me)
	rv.Sensitivity, err = SensitivityOf(ctx, f.Spec, SensitivityOptions{Budget: opt.Gather.Budget, Cache: cache, ModelErrorPct: me.ModelErrorPct})
	return err
}
