package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/clustersim/clustersim/sim"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// Options control a search.
type Options struct {
	// Top is how many layouts to rank and return, best first (default 10).
	Top int
	// AllowCrossNodeTP lets tp exceed the GPUs per node.
	AllowCrossNodeTP bool
	// MicroBatches are the micro-batch sizes tried (default 1, 2, 4, 8).
	MicroBatches []int
	// MaxCP is the largest cp tried (default: the largest power of two that
	// leaves each context-parallel rank 1,024 tokens, at least 1).
	MaxCP int
	// Exhaustive simulates every feasible layout instead of pruning with
	// the lower bound: slow, for checking that pruning changes nothing.
	Exhaustive bool
	// Workers is how many simulations run at once (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called as feasible layouts are settled
	// (simulated or ruled out by their bound) with the number settled and
	// the number feasible; it may be called from several goroutines.
	Progress func(done, total int)
	// Quiet, when > 0, also ranks the best Quiet layouts by the noiseless
	// step (stragglers left out) into Result.Quiet, with the scenario's
	// own layout ranked so in Result.QuietBaseline: what a second search
	// of the job without stragglers would return, from the same
	// enumeration and bounds, the ranking's noiseless steps taken from
	// it.
	Quiet int
	// Step simulates each step the search ranks; nil means step.Simulate.
	// A cache (scenarios/study.StepCache) shares them with the other
	// studies of a job; it must return what step.Simulate returns for the
	// spec, and must not be handed results it will mutate.
	Step func(context.Context, step.Spec) (step.Result, error)
}

// DefaultTop is the number of layouts a search returns by default.
const DefaultTop = 10

// DefaultMicroBatches are the micro-batch sizes a search tries by default.
var DefaultMicroBatches = []int{1, 2, 4, 8}

// minCPTokens is the fewest tokens of a sequence the default MaxCP leaves a
// context-parallel rank: below it the K/V all-gathers cost more than the
// attention they split (an assumption, to keep the space small).
const minCPTokens = 1024

// maxPipelineOps bounds the passes one simulation runs (pp·v·m per
// replica, each a forward and a backward), as scenarios does.
const maxPipelineOps = 20_000_000

// Rejection reasons.
const (
	ReasonHeads      = "tp does not divide the attention heads"
	ReasonGPUs       = "tp·pp·cp does not divide the GPUs"
	ReasonSequence   = "cp does not split the sequence into 2·cp chunks"
	ReasonBatch      = "dp·micro_batch does not divide the global batch"
	ReasonInterleave = "interleaving needs the micro batches per step to be a multiple of pp"
	ReasonSize       = "too many passes per step to simulate"
	ReasonMemory     = "does not fit in GPU memory"
	ReasonExperts    = "ep does not divide tp·cp·dp"
	ReasonDualPipe   = "dualpipe needs an even number of micro batches, at least 2·pp"
)

// Ranked is one layout with its simulated step, with the JSON keys of
// CONTRACT.md's `plan --format json`.
type Ranked struct {
	Rank                 int          `json:"rank"` // 1 = best; 0 = not among the ranked
	Layout               model.Layout `json:"-"`
	TP                   int          `json:"tp"`
	PP                   int          `json:"pp"`
	CP                   int          `json:"cp"`
	DP                   int          `json:"dp"`
	MicroBatch           int          `json:"micro_batch"`
	VirtualStages        int          `json:"virtual_stages"`
	Recompute            string       `json:"recompute"`
	RecomputeElementwise bool         `json:"recompute_elementwise"`
	ZeRO                 int          `json:"zero"`
	SequenceParallel     bool         `json:"sequence_parallel"`
	TPCommOverlap        bool         `json:"tp_comm_overlap"`
	DPCommOverlap        bool         `json:"dp_comm_overlap"`
	EP                   int          `json:"ep,omitempty"`          // expert parallelism (MoE models)
	Schedule             string       `json:"schedule,omitempty"`    // pipeline schedule, when not 1F1B
	StepTimeS            float64      `json:"step_time_s"`           // mean of the noisy steps, as run reports it
	NoiselessStepTimeS   float64      `json:"noiseless_step_time_s"` // the step without stragglers
	LowerBoundS          float64      `json:"lower_bound_s"`
	TokensPerS           float64      `json:"tokens_per_s"`
	TFLOPSPerGPU         float64      `json:"tflops_per_gpu"`
	MFU                  float64      `json:"mfu"`
	HFU                  float64      `json:"hfu"`
	MemoryGiBPerGPU      float64      `json:"memory_gib_per_gpu"`
	WallClockDays        float64      `json:"wall_clock_days"`
}

// Rejection counts the layouts rejected for one reason.
type Rejection struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Result is a search's outcome.
type Result struct {
	Scenario  string `json:"scenario"`
	GPUs      int    `json:"gpus"`
	GPU       string `json:"gpu"`
	Evaluated int    `json:"evaluated"` // layouts considered
	Feasible  int    `json:"feasible"`  // layouts that divide and fit in memory
	// Simulated is how many feasible layouts the event simulation had to
	// run: those whose lower bound does not rule them out of the top.
	Simulated int `json:"simulated"`
	// ETTR is the expected effective training time ratio of every layout
	// (run.Spec.ClosedFormETTR).
	ETTR float64 `json:"ettr"`
	// DaysFrom says how the layouts' wall_clock_days were computed:
	// "closed form" (steps × step / ETTR, which is the run simulation's
	// expectation when there are no slow nodes and no phases) or "run
	// simulation" (run.Simulate with the scenario's trials and seed, when
	// the closed form leaves something out).
	DaysFrom string `json:"days_from"`
	// Steps is the run's optimizer steps (its tokens over the batch).
	Steps   float64  `json:"steps"`
	Layouts []Ranked `json:"layouts"` // best first
	// Baseline is the scenario's own layout, simulated the same way, when
	// it is valid and fits on this cluster.
	Baseline *Ranked     `json:"baseline,omitempty"`
	Rejected []Rejection `json:"rejected"` // most frequent first
	// Complete is false when the search was cancelled: Layouts are then the
	// best of what was simulated, not a proven ranking.
	Complete bool `json:"complete"`
	// Quiet and QuietBaseline are Options.Quiet's ranking by the
	// noiseless step and the scenario's layout ranked so (their step
	// times and days without stragglers).
	Quiet         []Ranked `json:"-"`
	QuietBaseline *Ranked  `json:"-"`
	// FeasibleByMicroBatch counts the feasible layouts of each micro-batch
	// size: a search over fewer sizes has these.
	FeasibleByMicroBatch map[int]int `json:"-"`
}

// candidate is a feasible layout.
type candidate struct {
	l     model.Layout
	index int // enumeration order: breaks ties
	lb    float64
	mem   float64 // bytes on the fullest GPU
	step  step.Result
	done  bool
}

// passKey is what step.PassCosts depend on.
type passKey struct {
	tp, cp, mb int
	rec        model.Recompute
	ew, ovl    bool
	ep         int // MoE layers depend on the expert-parallel size
}

// boundSlack keeps the pruning safe from rounding: a bound is computed
// with different sums than the simulation, so it may exceed an equal
// simulated time by a few ulps.
const boundSlack = 1e-9

// Search finds the best layouts for s's model, training and cluster (its
// main phase; s's own layout is only the baseline). It returns the
// partial result and ctx's error when ctx is cancelled.
func Search(ctx context.Context, s run.Spec, opt Options) (Result, error) {
	// The step is run's main step: the same stragglers, samples and seed,
	// so that a layout's step time is the one `run` reports for it.
	base := s.Step
	if ms, err := s.MainStepSpec(); err == nil {
		base.Seed = ms.Seed
	}
	base.Trace = false
	a, t, c := base.Arch, base.Training, base.Cluster
	if err := a.Validate(); err != nil {
		return Result{}, err
	}
	if c.GPUs < 1 || c.GPUsPerNode < 1 || t.SeqLen < 1 || t.GlobalBatch < 1 {
		return Result{}, fmt.Errorf("plan: need a cluster, a sequence length and a global batch")
	}
	if opt.Top <= 0 {
		opt.Top = DefaultTop
	}
	if len(opt.MicroBatches) == 0 {
		opt.MicroBatches = DefaultMicroBatches
	}
	if err := s.CheckProgressOn(c); err != nil {
		return Result{}, err
	}
	res := Result{Scenario: s.Name, GPUs: c.GPUs, GPU: c.GPU.Name, ETTR: s.ClosedFormETTR(c), DaysFrom: DaysClosedForm}
	if !closedFormExact(s) {
		res.DaysFrom = DaysRunSimulation
	}
	res.Steps = math.Ceil(t.Tokens / t.BatchTokens())

	rejected := map[string]int{}
	var cands []*candidate
	capacity := c.GPU.HBMBytes()
	// The enumeration (serial, cheap) collects the layouts its rules
	// admit; their memory and lower bounds, most of a search's work before
	// the simulations, are then priced in parallel: each layout's figures
	// depend on it alone, so the result is the serial one.
	err := enumerate(a, t, c.GPUs, c.GPUsPerNode, c.Domain(), base.Layout.DPOverlap, opt, func(l model.Layout, reason string) error {
		res.Evaluated++
		if res.Evaluated%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if reason != "" {
			rejected[reason]++
			return nil
		}
		cands = append(cands, &candidate{l: l, index: res.Evaluated})
		return nil
	})
	if err == nil {
		// bound keeps the candidates that fit in memory: the others are
		// its rejections.
		n := len(cands)
		cands, err = bound(ctx, base, cands, capacity, opt.Workers)
		rejected[ReasonMemory] += n - len(cands)
		if rejected[ReasonMemory] == 0 {
			delete(rejected, ReasonMemory)
		}
	}
	res.Feasible = len(cands)
	res.FeasibleByMicroBatch = map[int]int{}
	for _, cd := range cands {
		res.FeasibleByMicroBatch[cd.l.MicroBatch]++
	}
	for r, n := range rejected {
		res.Rejected = append(res.Rejected, Rejection{r, n})
	}
	slices.SortFunc(res.Rejected, func(x, y Rejection) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Reason, y.Reason))
	})
	if err != nil {
		return res, err
	}

	slices.SortFunc(cands, func(x, y *candidate) int { return cmp.Or(cmp.Compare(x.lb, y.lb), cmp.Compare(x.index, y.index)) })
	if opt.Step == nil {
		opt.Step = step.Simulate
	}
	quietBase := noiselessSpec(base)
	var quiet, known []*candidate
	if opt.Quiet > 0 {
		// The ranking without stragglers runs first, on copies of the
		// candidates; the ranking below takes its noiseless steps (or,
		// without stragglers, its steps) from them.
		known = make([]*candidate, len(cands))
		for i, cd := range cands {
			c := *cd
			known[i] = &c
		}
		qopt := opt
		qopt.Top, qopt.Progress = opt.Quiet, nil
		quiet, err = simulateByBound(ctx, quietBase, known, qopt, nil)
		for i, cd := range quiet {
			res.Quiet = append(res.Quiet, ranked(cd.l, cd.step, cd.lb, cd.mem, i+1, res))
		}
		if err != nil {
			return res, err
		}
	}
	top, err := simulate(ctx, base, cands, opt, known)
	for _, cd := range cands {
		if cd.done {
			res.Simulated++
		}
	}
	if err == nil && !opt.Exhaustive && len(top) == opt.Top {
		// Report the layouts the pruning had to simulate, which does not
		// depend on how many ran in parallel.
		kth := top[len(top)-1].step.StepTime
		res.Simulated = 0
		for _, cd := range cands {
			if cd.lb*(1-boundSlack) <= kth {
				res.Simulated++
			}
		}
	}
	for i, cd := range top {
		res.Layouts = append(res.Layouts, ranked(cd.l, cd.step, cd.lb, cd.mem, i+1, res))
	}
	if err != nil {
		return res, err
	}
	res.Complete = true
	res.Baseline = baseline(ctx, base, res, res.Layouts, opt.Step)
	if opt.Quiet > 0 {
		res.QuietBaseline = baseline(ctx, quietBase, res, res.Quiet, opt.Step)
	}
	if res.DaysFrom == DaysRunSimulation {
		quietSpec := s
		quietSpec.Step = noiselessSpec(quietSpec.Step) // the key the quiet ranking's steps were cached under
		for _, rs := range []struct {
			s  run.Spec
			rs []Ranked
			b  *Ranked
		}{{s, res.Layouts, res.Baseline}, {quietSpec, res.Quiet, res.QuietBaseline}} {
			for i := range rs.rs {
				if err := runDays(ctx, rs.s, &rs.rs[i], opt.Step); err != nil {
					return res, err
				}
			}
			if rs.b != nil {
				if err := runDays(ctx, rs.s, rs.b, opt.Step); err != nil {
					return res, err
				}
			}
		}
	}
	return res, nil
}

// How Result.DaysFrom computed the days.
const (
	DaysClosedForm    = "closed form"
	DaysRunSimulation = "run simulation"
)

// closedFormExact reports whether steps × step / ClosedFormETTR is the
// expectation of s's run simulation: one phase and no slow nodes (the
// renewal form simulates failures, restarts and checkpoints exactly).
func closedFormExact(s run.Spec) bool {
	lemons := s.Failures.Lemons.RatePerNodeDay > 0 && s.Failures.Lemons.Slowdown > 1
	return len(s.Phases) == 0 && !lemons
}

// runDays sets r's days to the run simulation's mean for s with r's
// layout: what `clustersim run` reports for it.
func runDays(ctx context.Context, s run.Spec, r *Ranked, sim func(context.Context, step.Spec) (step.Result, error)) error {
	s.Step.Layout = r.Layout
	s.Step.Trace = false
	res, err := run.SimulateWith(ctx, s, run.Options{Step: sim})
	if err != nil {
		return fmt.Errorf("plan: the run of %+v: %w", r.Layout, err)
	}
	r.WallClockDays = res.WallClockDays
	return nil
}

// workerCount is how many simulations run at once for Options.Workers
// n: GOMAXPROCS when n <= 0.
func workerCount(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// noiselessSpec is sp without stragglers. One sample prices it exactly
// (Simulate draws nothing without noise), and every noiseless step the
// search simulates is the same spec, so a step cache (Options.Step)
// shares one between the ranking without stragglers and the noisy
// ranking's noiseless steps.
func noiselessSpec(sp step.Spec) step.Spec {
	sp.Noise, sp.Samples = step.Noise{}, 1
	return sp
}

// better ranks candidates by their expected (noisy) step, ties by
// enumeration order.
func better(x, y *candidate) int {
	return cmp.Or(cmp.Compare(x.step.StepTime, y.step.StepTime), cmp.Compare(x.index, y.index))
}

// insertTop inserts the simulated cd into top, best first (better), and
// keeps at most k.
func insertTop(top []*candidate, cd *candidate, k int) []*candidate {
	j, _ := slices.BinarySearchFunc(top, cd, better)
	if j < k {
		top = slices.Insert(top, j, cd)
		if len(top) > k {
			top = top[:k]
		}
	}
	return top
}

// bound prices each candidate's fullest GPU memory and, for those that fit
// in capacity, its lower bound of the noiseless step, on workers
// goroutines (GOMAXPROCS when <= 0), and returns the ones that fit, in
// their order. The passes (step.PassCosts) are priced once per passKey.
func bound(ctx context.Context, base step.Spec, cands []*candidate, capacity float64, workers int) ([]*candidate, error) {
	workers = workerCount(workers)
	a, t := base.Arch, base.Training
	type passEntry struct {
		once sync.Once
		pc   step.PassCosts
	}
	var (
		mu     sync.Mutex
		costs  = map[passKey]*passEntry{}
		next   atomic.Int64
		wg     sync.WaitGroup
		errs   = make([]error, workers)
		fits   = make([]bool, len(cands))
		stride = int64(256)
	)
	passes := func(sp step.Spec) step.PassCosts {
		l := sp.Layout
		k := passKey{l.TP, l.CP, l.MicroBatch, l.Recompute, l.RecomputeElementwise, l.TPOverlap, l.EP}
		mu.Lock()
		e, ok := costs[k]
		if !ok {
			e = &passEntry{}
			costs[k] = e
		}
		mu.Unlock()
		e.once.Do(func() { e.pc = step.LayerPassCosts(sp) })
		return e.pc
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var bounder step.Bounder
			// the fullest GPU's memory of the layouts before, which does
			// not depend on tp_comm_overlap (the enumeration's next loop
			// but two)
			fullest := map[model.Layout]float64{}
			for {
				lo := int(next.Add(stride) - stride)
				if lo >= len(cands) || ctx.Err() != nil {
					return
				}
				for i := lo; i < min(lo+int(stride), len(cands)); i++ {
					cd := cands[i]
					key := cd.l
					key.TPOverlap = false
					if m, ok := fullest[key]; ok {
						cd.mem = m
					} else {
						mem, err := model.StageMemory(a, cd.l, t)
						if err != nil {
							errs[w] = fmt.Errorf("plan: memory of %+v: %w", cd.l, err)
							return
						}
						for _, m := range mem {
							cd.mem = max(cd.mem, m.Total())
						}
						if len(fullest) == 64 {
							clear(fullest)
						}
						fullest[key] = cd.mem
					}
					if cd.mem > capacity {
						continue
					}
					sp := base
					sp.Layout = cd.l
					lb, err := bounder.LowerBound(sp, passes(sp))
					if err != nil {
						errs[w] = fmt.Errorf("plan: costs of %+v: %w", cd.l, err)
						return
					}
					cd.lb = lb
					fits[i] = true
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := cands[:0]
	for i, cd := range cands {
		if fits[i] {
			out = append(out, cd)
		}
	}
	return out, nil
}

// simulate runs the candidates, sorted by bound, best bound first, until
// no candidate left can enter the top opt.Top, and returns the top. With
// stragglers and pruning it runs simulateNoisy; otherwise
// simulateByBound.
//
// known, when not nil, are the candidates (in the same order) of a ranking
// of the same job without stragglers: the noiseless steps they simulated
// are not simulated again.
func simulate(ctx context.Context, base step.Spec, cands []*candidate, opt Options, known []*candidate) ([]*candidate, error) {
	if base.Noise.Any() && !opt.Exhaustive {
		return simulateNoisy(ctx, base, cands, opt, known)
	}
	return simulateByBound(ctx, base, cands, opt, known)
}

// noisyBoundShare: simulateNoisy bounds a layout's noisy step with the
// 1/noisyBoundShare of its replicas most likely to set the pace
// (step.NoisyLowerBound) before it simulates every replica.
const noisyBoundShare = 8

// noiselessBatch is how many noiseless steps simulateNoisy prices before
// it runs noisy ones: a noiseless step is one replica's simulation, a
// fraction of the noisy step's several.
const noiselessBatch = 64

// simulateNoisy is simulate's exact pruning when the ranked (noisy) step
// costs many times the noiseless one. In rounds: price the noiseless step
// of the next noiselessBatch candidates (bound order) whose bound can
// still enter the top; then run the noisy step of the priced ones in
// order of their noiseless step while that can still enter it (the noisy
// mean is at least the noiseless step), dropping the rest for good (the
// top's last step only falls). So only layouts whose noiseless step beats
// the final top's last noisy one run noisy, however the bounds order them;
// and of those, once the top is full, only the ones whose noisiest
// replicas (step.NoisyLowerBound) do not already exceed its last run
// every replica.
func simulateNoisy(ctx context.Context, base step.Spec, cands []*candidate, opt Options, known []*candidate) ([]*candidate, error) {
	workers := workerCount(opt.Workers)
	var (
		top     []*candidate
		settled int
	)
	kth := func() float64 {
		if len(top) < opt.Top {
			return math.Inf(1)
		}
		return top[len(top)-1].step.StepTime
	}
	progress := func() {
		if opt.Progress != nil {
			opt.Progress(settled, len(cands))
		}
	}
	// parallel runs f on each of xs, workers at a time, and returns the
	// first error; once one has failed, the rest are skipped.
	parallel := func(xs []*candidate, f func(*candidate) error) error {
		var (
			mu   sync.Mutex
			err0 error
		)
		sim.Parallel(ctx, len(xs), workers, func(i int) {
			mu.Lock()
			failed := err0 != nil
			mu.Unlock()
			if failed {
				return
			}
			if err := f(xs[i]); err != nil {
				mu.Lock()
				if err0 == nil {
					err0 = err
				}
				mu.Unlock()
			}
		})
		return cmp.Or(err0, ctx.Err())
	}
	noiseless := make([]float64, len(cands))
	pos := map[*candidate]int{}
	for i, cd := range cands {
		pos[cd] = i
	}
	next := 0
	for next < len(cands) && cands[next].lb*(1-boundSlack) <= kth() {
		end := next
		for end < len(cands) && end-next < noiselessBatch && cands[end].lb*(1-boundSlack) <= kth() {
			end++
		}
		batch := cands[next:end]
		next = end
		err := parallel(batch, func(cd *candidate) error {
			if k := knownAt(known, pos[cd]); k != nil {
				noiseless[pos[cd]] = k.step.NoiselessStepTime
				return nil
			}
			sp := noiselessSpec(base)
			sp.Layout = cd.l
			r, err := opt.Step(ctx, sp)
			if err != nil {
				return fmt.Errorf("plan: simulating %+v: %w", cd.l, err)
			}
			noiseless[pos[cd]] = r.NoiselessStepTime
			return nil
		})
		if err != nil {
			return top, err
		}
		pending := slices.Clone(batch)
		slices.SortFunc(pending, func(x, y *candidate) int {
			return cmp.Or(cmp.Compare(noiseless[pos[x]], noiseless[pos[y]]), cmp.Compare(x.index, y.index))
		})
		for len(pending) > 0 {
			// the next runs: as many as can still enter the top, at most
			// workers at once
			n := 0
			for n < len(pending) && n < workers && noiseless[pos[pending[n]]]*(1-boundSlack) <= kth() {
				n++
			}
			if n == 0 {
				settled += len(pending)
				break
			}
			run := pending[:n]
			pending = pending[n:]
			limit := kth()
			err := parallel(run, func(cd *candidate) error {
				sp := base
				sp.Layout = cd.l
				if !math.IsInf(limit, 1) {
					// the replicas that most likely set the pace first:
					// when they already exceed the top's last, the
					// layout is out without simulating the others
					lb, err := step.NoisyLowerBound(ctx, sp, max(2, cd.l.DP/noisyBoundShare))
					if err != nil {
						return fmt.Errorf("plan: simulating %+v: %w", cd.l, err)
					}
					if max(lb, noiseless[pos[cd]])*(1-boundSlack) > limit {
						return nil
					}
				}
				r, err := opt.Step(ctx, sp)
				if err != nil {
					return fmt.Errorf("plan: simulating %+v: %w", cd.l, err)
				}
				cd.step, cd.done = r, true
				return nil
			})
			if err != nil {
				return top, err
			}
			for _, cd := range run {
				if !cd.done {
					continue // ruled out by its noisiest replicas
				}
				top = insertTop(top, cd, opt.Top)
			}
			settled += n
			progress()
		}
		progress()
	}
	settled = len(cands)
	progress()
	return top, ctx.Err()
}

// simulateByBound runs the candidates in bound order, each one's noisy step
// after its noiseless one can enter the top.
func simulateByBound(ctx context.Context, base step.Spec, cands []*candidate, opt Options, known []*candidate) ([]*candidate, error) {
	workers := workerCount(opt.Workers)
	var (
		mu       sync.Mutex
		top      []*candidate // best first, at most opt.Top
		firstErr error
		next     atomic.Int64
		settled  atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	// Ranked by the expected (noisy) step (better); the bound is below
	// the noiseless step, which is below the noisy one (step.Simulate
	// rounds the mean up to it), so pruning on the bound stays exact.
	total := len(cands)
	progress := func(n int64) {
		if opt.Progress != nil {
			opt.Progress(int(n), total)
		}
	}
	for range min(workers, max(total, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				if ctx.Err() != nil {
					stop.Store(true)
					return
				}
				cd := cands[i]
				if !opt.Exhaustive {
					mu.Lock()
					prune := len(top) == opt.Top && cd.lb*(1-boundSlack) > top[len(top)-1].step.StepTime
					mu.Unlock()
					if prune {
						// Every later candidate has a larger bound.
						stop.Store(true)
						progress(int64(total))
						return
					}
				}
				sp := base
				sp.Layout = cd.l
				sim := opt.Step
				if k := knownAt(known, i); k != nil && !base.Noise.Any() {
					// the ranking without stragglers simulated this step
					sim = func(context.Context, step.Spec) (step.Result, error) { return k.step, nil }
				}
				r, err := simulateOne(ctx, sp, sim, func(noiseless float64) bool {
					mu.Lock()
					defer mu.Unlock()
					return !opt.Exhaustive && len(top) == opt.Top && noiseless*(1-boundSlack) > top[len(top)-1].step.StepTime
				})
				if errors.Is(err, errRuledOut) {
					progress(settled.Add(1))
					continue
				}
				mu.Lock()
				if err != nil {
					if firstErr == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
						firstErr = fmt.Errorf("plan: simulating %+v: %w", cd.l, err)
					}
					mu.Unlock()
					stop.Store(true)
					return
				}
				cd.step, cd.done = r, true
				top = insertTop(top, cd, opt.Top)
				mu.Unlock()
				progress(settled.Add(1))
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return top, firstErr
	}
	return top, ctx.Err()
}

// errRuledOut is simulateOne's answer for a layout whose noiseless step
// already rules it out.
var errRuledOut = errors.New("plan: ruled out by the noiseless step")

// simulateOne simulates sp's step. With stragglers it first simulates the
// noiseless step alone (one replica, a fraction of the noisy steps' cost)
// and returns errRuledOut when out says that step (a lower bound of the
// noisy mean) cannot enter the top.
func simulateOne(ctx context.Context, sp step.Spec, sim func(context.Context, step.Spec) (step.Result, error), out func(noiseless float64) bool) (step.Result, error) {
	if sp.Noise.Any() {
		r, err := sim(ctx, noiselessSpec(sp))
		if err != nil {
			return r, err
		}
		if out(r.NoiselessStepTime) {
			return r, errRuledOut
		}
	}
	return sim(ctx, sp)
}

// knownAt is known[i] when it was simulated, else nil.
func knownAt(known []*candidate, i int) *candidate {
	if known == nil || !known[i].done {
		return nil
	}
	return known[i]
}

func ranked(l model.Layout, r step.Result, lb, mem float64, rank int, res Result) Ranked {
	return Ranked{
		Rank: rank, Layout: l,
		TP: l.TP, PP: l.PP, CP: l.CP, DP: l.DP, MicroBatch: l.MicroBatch, VirtualStages: l.VirtualStages,
		Recompute: l.Recompute.String(), RecomputeElementwise: l.RecomputeElementwise, ZeRO: l.ZeRO,
		SequenceParallel: l.SequenceParallel, TPCommOverlap: l.TPOverlap, DPCommOverlap: l.DPOverlap,
		EP: l.EP, Schedule: scheduleName(l.PipeSchedule),
		StepTimeS: r.StepTime, NoiselessStepTimeS: r.NoiselessStepTime, LowerBoundS: lb, TokensPerS: r.TokensPerSecond,
		TFLOPSPerGPU: r.TFLOPSPerGPU, MFU: r.MFU, HFU: r.HFU,
		MemoryGiBPerGPU: mem / (1 << 30),
		WallClockDays:   wallClockDays(res, r.StepTime),
	}
}

func wallClockDays(res Result, stepS float64) float64 {
	// CheckProgressOn has refused jobs that never progress; a tiny ETTR
	// still gives a finite (if enormous) number, never +Inf in the JSON.
	return res.Steps * stepS / max(res.ETTR, 1e-12) / 86400
}

// baseline simulates the scenario's own layout the same way, when it is
// valid and fits, with its rank among layouts.
func baseline(ctx context.Context, base step.Spec, res Result, layouts []Ranked, sim func(context.Context, step.Spec) (step.Result, error)) *Ranked {
	if base.Validate() != nil {
		return nil
	}
	// The scenario's layout was loaded without the layout checks: refuse
	// what no candidate may be either (too many passes to simulate).
	if l := base.Layout; check(&l, base.Arch, base.Training, base.Cluster.GPUs) != "" || l.DP != base.Layout.DP {
		return nil
	}
	r, err := sim(ctx, base)
	if err != nil {
		return nil
	}
	co, err := step.NewCosts(base)
	if err != nil {
		return nil
	}
	b := ranked(base.Layout, r, co.LowerBound(), r.Memory[r.FullestStage].Total(), 0, res)
	for _, l := range layouts {
		if l.Layout == base.Layout {
			b.Rank = l.Rank
		}
	}
	return &b
}
