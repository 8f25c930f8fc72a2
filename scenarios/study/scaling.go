package study

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/plan"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// BatchFixed is the only batch policy of Scaling today: every size trains
// the scenario's global batch (sequences per step) and the same tokens;
// the planner absorbs GPUs with cp, pp and tp where dp × micro batch can
// no longer divide the batch, and a size where no layout does is
// infeasible, with the reason.
const BatchFixed = "global batch fixed at the scenario's; tokens fixed"

// Layout is a parallel layout in the plan's terms.
type Layout struct {
	TP, PP, CP, DP int
	MicroBatch     int
	VirtualStages  int
	Recompute      string // none, selective, full; "+ew" when element-wise recompute is on
	ZeRO           int
	TPCommOverlap  bool
	EP             int    // expert parallelism (MoE models; 0 or 1: none)
	Schedule       string // pipeline schedule when not 1F1B ("zb-h1", "dualpipe")
}

func layoutOf(r plan.Ranked) Layout {
	rec := r.Recompute
	if r.RecomputeElementwise {
		rec += "+ew"
	}
	return Layout{TP: r.TP, PP: r.PP, CP: r.CP, DP: r.DP, MicroBatch: r.MicroBatch, VirtualStages: r.VirtualStages,
		Recompute: rec, ZeRO: r.ZeRO, TPCommOverlap: r.TPCommOverlap, EP: r.EP, Schedule: r.Schedule}
}

// String is the layout in a few words: "tp 8, pp 16 (v 8), cp 2, dp 64, mb 1, none+ew, ZeRO 1".
func (l Layout) String() string {
	s := fmt.Sprintf("tp %d, pp %d", l.TP, l.PP)
	if l.VirtualStages > 1 {
		s += fmt.Sprintf(" (v %d)", l.VirtualStages)
	}
	if l.CP > 1 {
		s += fmt.Sprintf(", cp %d", l.CP)
	}
	return s + fmt.Sprintf(", dp %d, mb %d, %s, ZeRO %d", l.DP, l.MicroBatch, l.Recompute, l.ZeRO)
}

// ScalePoint is one size of a re-planned scaling study.
type ScalePoint struct {
	GPUs int
	// Feasible is false when no layout divides the batch and fits; Reason
	// then says why (the plan's most frequent rejections), and the
	// numbers are zero.
	Feasible     bool
	Reason       string
	Layout       Layout // the plan's best layout at this size
	Feasibles    int    // layouts that divide and fit at this size
	StepTimeS    float64
	TFLOPSPerGPU float64
	MFU          float64
	// Days, GPUHours, ETTR, EnergyMWh and Cost are means of the run
	// simulation with the best layout (SweepTrials trials, the scenario's
	// seed): what `run --set` of that layout gives.
	Days      float64
	DaysCI    run.Interval
	GPUHours  float64
	ETTR      float64
	EnergyMWh float64 // 0 without energy.pue
	Cost      float64 // 0 without energy.price_per_gpu_hour
}

// ScalingStudy is the re-planned scaling of a scenario.
type ScalingStudy struct {
	Scenario string
	Batch    string // the batch policy, BatchFixed
	// GlobalBatch and SeqLen are the batch every size trains.
	GlobalBatch, SeqLen int
	Tokens              float64
	Currency            string // energy.currency; "" when not set
	// Trials per size's run.
	Trials int
	Points []ScalePoint // smallest first
	// Note says what the study leaves out (phases), or "".
	Note string
}

// ScalingOptions control Scaling.
type ScalingOptions struct {
	// GPUs are the sizes; default: powers of two from 1,024 to 65,536.
	GPUs []int
	// Budget bounds each size's run.
	Budget run.Budget
	// Progress is called after each size.
	Progress func(done, total int)
	Cache    *StepCache
	// planned is a search run elsewhere at one of the sizes (ReviewOf's
	// trade-off): that size takes its best layout from it when it searched
	// the same step.
	planned *pending
}

// pending is a search at gpus GPUs that may still be running: wait
// returns it when it is done (nil when it failed).
type pending struct {
	gpus int
	wait func() *searched
}

// searched is a plan search with the job and micro-batch sizes it
// searched.
type searched struct {
	spec         run.Spec
	microBatches []int
	res          plan.Result
}

// bestFor is the best layout of the scaling study's search of spec
// (ScalingMicroBatches, ranked by the noiseless step) and the feasible
// layouts that search would count, read off s when s searched the same
// step (the same model, training, cluster and batch: only the layout,
// the stragglers, the seed and the tokens may differ, which the noiseless
// ranking does not read), over every micro-batch size of
// ScalingMicroBatches, completely, and ranked without stragglers a layout
// of those sizes: that layout leads the scaling search's ranking (the
// same candidates in the same order, fewer of them). ok is false when
// s cannot tell.
func (s *searched) bestFor(spec run.Spec) (best plan.Ranked, feasible int, ok bool) {
	if s == nil || !s.res.Complete || !sameStep(s.spec.Step, spec.Step) {
		return plan.Ranked{}, 0, false
	}
	for _, mb := range ScalingMicroBatches {
		if !slices.Contains(s.microBatches, mb) {
			return plan.Ranked{}, 0, false
		}
		feasible += s.res.FeasibleByMicroBatch[mb]
	}
	for _, r := range s.res.Quiet {
		if slices.Contains(ScalingMicroBatches, r.MicroBatch) {
			return r, feasible, true
		}
	}
	return plan.Ranked{}, 0, false
}

// sameStep reports whether a and b are the same step but for the layout,
// the stragglers, the seed and the tokens.
func sameStep(a, b step.Spec) bool {
	for _, s := range []*step.Spec{&a, &b} {
		s.Layout, s.Noise, s.Samples, s.Seed, s.Trace = model.Layout{}, step.Noise{}, 0, 0, false
		s.Training.Tokens = 0
	}
	return reflect.DeepEqual(a, b)
}

// ScalingMicroBatches are the micro-batch sizes the scaling study's
// searches try: the plan's default also tries 4 and 8, which at these
// sizes' small per-replica batches rarely win and double the search.
var ScalingMicroBatches = []int{1, 2}

// DefaultScalingGPUs are the sizes of a scaling study: powers of two from
// 1,024 to 65,536.
var DefaultScalingGPUs = []int{1024, 2048, 4096, 8192, 16384, 32768, 65536}

// Scaling re-plans the layout at every size: for each GPU count it runs
// the plan's search (the same ranking as `clustersim plan`: expected time
// to train with stragglers, top 1, the lower-bound pruning) and then the
// run with the best layout. The model, batch and tokens are the
// scenario's (BatchFixed); a multi-phase scenario is studied on its main
// phase's step with all its tokens, as the trade-off's search is.
func Scaling(ctx context.Context, name string, sets []string, opt ScalingOptions) (*ScalingStudy, error) {
	sizes := opt.GPUs
	if len(sizes) == 0 {
		sizes = DefaultScalingGPUs
	}
	if opt.Cache == nil {
		opt.Cache = &StepCache{}
	}
	base, _, err := scenarios.ResolveAnyLayout(name, sets...)
	if err != nil {
		return nil, err
	}
	trials := min(SweepTrials, max(base.Trials, 1))
	fixed := append(slices.Clone(sets), fmt.Sprintf("trials=%d", trials))
	st := &ScalingStudy{Scenario: base.Name, Batch: BatchFixed, Trials: trials, Currency: base.Energy.Currency}
	if len(base.Phases) > 0 {
		fixed = append(fixed, "phases=[]")
		st.Note = fmt.Sprintf("the main phase's step alone, for all %s tokens (the scenario's phases are left out)", num(base.Step.Training.Tokens))
	}
	// The sizes run one at a time: each search and run is parallel itself,
	// and ReviewOf runs the study beside the trade-off's search and the
	// figures (two sizes at once took no less time on two cores, and half
	// again as much memory).
	for _, g := range sizes {
		if ctx.Err() != nil {
			break
		}
		p, sp, err := scalePoint(ctx, name, fixed, g, opt)
		if err != nil {
			return nil, err
		}
		st.Points = append(st.Points, p)
		if sp != nil {
			// the last size that resolves, as the sizes in turn set them
			t := sp.Step.Training
			st.GlobalBatch, st.SeqLen, st.Tokens = t.GlobalBatch, t.SeqLen, t.Tokens
		}
		if opt.Progress != nil {
			opt.Progress(len(st.Points), len(sizes))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return st, nil
}

// RecommendedSlack is how much more GPU-hours than the cheapest size the
// recommended size may cost: the largest (fastest) size within it.
const RecommendedSlack = 0.10

// Recommended is the best size on the days-against-cost curve: the fastest
// feasible size whose GPU-hours are within RecommendedSlack of the
// cheapest; nil when no size is feasible.
func (s *ScalingStudy) Recommended() *ScalePoint {
	cheapest := 0.0
	for _, p := range s.Points {
		if p.Feasible && (cheapest == 0 || p.GPUHours < cheapest) {
			cheapest = p.GPUHours
		}
	}
	var best *ScalePoint
	for i, p := range s.Points {
		if p.Feasible && p.GPUHours <= (1+RecommendedSlack)*cheapest && (best == nil || p.Days < best.Days) {
			best = &s.Points[i]
		}
	}
	return best
}

// Largest is the largest size studied.
func (s *ScalingStudy) Largest() int {
	largest := 0
	for _, p := range s.Points {
		largest = max(largest, p.GPUs)
	}
	return largest
}

// scalePoint re-plans one size g: the plan's search (the same ranking as
// `clustersim plan`: expected time to train with stragglers, top 1, the
// lower-bound pruning), or opt.planned's when it searched this step, then
// the run with the best layout. It returns the size's spec when the
// scenario resolves at that size, and an error only when ctx stops it.
func scalePoint(ctx context.Context, name string, fixed []string, g int, opt ScalingOptions) (ScalePoint, *run.Spec, error) {
	p := ScalePoint{GPUs: g}
	spec, _, err := scenarios.ResolveAnyLayout(name, append(slices.Clone(fixed), fmt.Sprintf("cluster.gpus=%d", g))...)
	if err != nil {
		p.Reason = OneLine(shortError(err))
		return p, nil, nil
	}
	// Rank by the noiseless step: the plan's exact ranking with
	// stragglers simulates every layout within the straggler share of the
	// best (minutes at 1,024 GPUs), and layouts that close are within the
	// model-error band of each other. The chosen layout's days below are
	// simulated with the scenario's stragglers.
	var (
		best     plan.Ranked
		feasible int
		ok       bool
	)
	if pl := opt.planned; pl != nil && pl.gpus == g {
		best, feasible, ok = pl.wait().bestFor(spec)
	}
	if !ok {
		quiet := spec
		quiet.Step.Noise = step.Noise{}
		pr, err := plan.Search(ctx, quiet, plan.Options{Top: 1, MicroBatches: ScalingMicroBatches})
		if ctx.Err() != nil {
			return p, nil, ctx.Err()
		}
		feasible = pr.Feasible
		switch {
		case err != nil:
			p.Reason = OneLine(shortError(err))
		case len(pr.Layouts) == 0:
			p.Reason = infeasibleReason(spec, pr)
		default:
			best, ok = pr.Layouts[0], true
		}
	}
	p.Feasibles = feasible
	if !ok {
		return p, &spec, nil
	}
	spec.Step.Layout = best.Layout
	r, err := run.SimulateWith(ctx, spec, run.Options{Budget: opt.Budget, Step: opt.Cache.Simulate})
	if err != nil {
		if ctx.Err() != nil {
			return p, nil, ctx.Err()
		}
		p.Reason = OneLine(shortError(err))
		return p, &spec, nil
	}
	p.Feasible, p.Layout = true, layoutOf(best)
	p.StepTimeS, p.TFLOPSPerGPU, p.MFU = r.StepTimeS, r.TFLOPSPerGPU, r.MFU
	p.Days, p.DaysCI, p.GPUHours, p.ETTR = r.WallClockDays, r.WallClockDaysCI, r.GPUHours, r.ETTR
	if r.EnergyMWh != nil {
		p.EnergyMWh = r.EnergyMWh.Mean
	}
	if r.Cost != nil {
		p.Cost = *r.Cost
	}
	return p, &spec, nil
}

// infeasibleReason says why no layout fits a size: the batch when it is
// what rules them out, else the plan's most frequent rejections.
func infeasibleReason(spec run.Spec, pr plan.Result) string {
	var parts []string
	for i, r := range pr.Rejected {
		if i == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", r.Reason, Group(r.Count)))
	}
	t := spec.Step.Training
	return fmt.Sprintf("no layout of %s divides the global batch of %s sequences of %s tokens and fits on %s GPUs: %s",
		spec.Step.Arch.Name, Group(t.GlobalBatch), Group(t.SeqLen), Group(pr.GPUs), strings.Join(parts, "; "))
}
