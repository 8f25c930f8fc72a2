package study

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// SweepTrials caps the Monte Carlo trials of each sweep point of the
// figures: their means move by well under 1% beyond it, and a plot or a
// report stays a matter of seconds.
const SweepTrials = 20

// Bar is one stacked bar of the step breakdown.
type Bar struct {
	Label     string
	Breakdown run.Breakdown
}

// CheckpointPoint is one interval of the checkpoint sweep.
type CheckpointPoint struct {
	IntervalS float64
	ETTR      run.Interval // mean and 90% interval over trials
}

// CheckpointSweep is ETTR against the checkpoint interval.
type CheckpointSweep struct {
	Points     []CheckpointPoint
	YoungDalyS float64 // the Young/Daly interval √(2·δ·MTBF)
	AsRunS     float64 // the scenario's interval; equal to YoungDalyS when it is auto
	StallS     float64 // training stalled per checkpoint (δ)
	MTBFS      float64 // mean time between unexpected interruptions
}

// Figures is what the plot and report commands show: the run and the
// sweeps around it.
type Figures struct {
	Name     string
	Sets     []string
	Spec     run.Spec
	Scenario *scenarios.Scenario
	Result   run.Result     // with the timeline; without the model-error band (WithModelError)
	Memory   []model.Memory // per pipeline stage of the main step

	BreakdownTitle  string
	Bars            []Bar
	Checkpoint      CheckpointSweep
	CheckpointTitle string
	// Notes are the sweep points skipped and why.
	Notes []string
}

// GatherOptions control Gather.
type GatherOptions struct {
	Budget run.Budget
	// Trials reports the main run's Monte Carlo trials; Sweeps the sweep
	// points. Either may be nil.
	Trials func(done, total int)
	Sweeps func(done, total int)
	// Cache shares steps with other studies of the same scenario; nil
	// makes one for this call.
	Cache *StepCache
}

// Gather runs the scenario and the sweeps the charts need: a few layout
// variants (or the phases) for the breakdown and the checkpoint interval for
// ETTR (a review adds the re-planned scaling study: ReviewOf). Sweep points
// that do not validate or do not fit are skipped with a note.
func Gather(ctx context.Context, name string, sets []string, opt GatherOptions) (*Figures, error) {
	spec, scen, err := scenarios.Resolve(name, sets...)
	if err != nil {
		return nil, err
	}
	cache := opt.Cache
	if cache == nil {
		cache = &StepCache{}
	}
	res, err := run.SimulateWith(ctx, spec, run.Options{Budget: opt.Budget, Timeline: true, Progress: opt.Trials, Step: cache.Simulate})
	if err != nil {
		return nil, err
	}
	f := &Figures{Name: name, Sets: sets, Spec: spec, Scenario: scen, Result: res}
	st := spec.Step
	f.Memory, _, _ = step.CheckFit(st.Arch, st.Layout, st.Training, st.Cluster.GPU)

	intervals := f.checkpointIntervals()
	variants := f.variants()
	total, done := len(intervals)+len(variants), 0
	tick := func() {
		done++
		if opt.Sweeps != nil {
			opt.Sweeps(done, total)
		}
	}
	if opt.Sweeps != nil {
		opt.Sweeps(0, total)
	}
	trials := min(SweepTrials, max(spec.Trials, 1))

	// Breakdown: the phases, or the scenario and a few variants.
	if len(res.Phases) > 1 {
		f.BreakdownTitle = "Where the step goes, phase by phase (breakdown_s)"
		for _, p := range res.Phases {
			f.Bars = append(f.Bars, Bar{Label: fmt.Sprintf("%s (%s GPUs, seq %s)", p.Name, Group(p.GPUs), Group(p.SeqLen)), Breakdown: p.Breakdown})
		}
	} else {
		f.BreakdownTitle = "Where the step goes: the scenario as run and variants (breakdown_s)"
		f.Bars = append(f.Bars, Bar{Label: "as run: " + LayoutShort(st.Layout), Breakdown: res.Breakdown})
	}
	for _, v := range variants {
		tick()
		vs, _, err := scenarios.Resolve(name, append(slices.Clone(sets), v.sets...)...)
		if err != nil {
			f.skip("variant %q: %v", v.label, err)
			continue
		}
		ms, err := vs.MainStepSpec()
		var sr step.Result
		if err == nil {
			ms.Trace = false
			sr, err = cache.Simulate(ctx, ms)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			f.skip("variant %q: %v", v.label, err)
			continue
		}
		f.Bars = append(f.Bars, Bar{Label: v.label, Breakdown: run.BreakdownOf(sr.Breakdown)})
	}

	// ETTR over the checkpoint interval.
	if len(intervals) > 0 {
		ck, phase := f.dominantCheckpoint()
		f.Checkpoint = CheckpointSweep{YoungDalyS: failure.YoungDaly(ck.StallS, ck.MTBFS), AsRunS: ck.IntervalS, StallS: ck.StallS, MTBFS: ck.MTBFS}
		f.CheckpointTitle = fmt.Sprintf("ETTR against the checkpoint interval (%d trials per point)", trials)
		if len(res.Phases) > 1 {
			f.CheckpointTitle = fmt.Sprintf("ETTR against the checkpoint interval, every phase (Young/Daly of the longest phase, %s)", phase)
		}
		for _, iv := range intervals {
			tick()
			r, err := f.sweepRun(ctx, append(slices.Clone(sets), fmt.Sprintf("failures.checkpoint_interval=%gs", iv), fmt.Sprintf("trials=%d", trials)), cache)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				f.skip("checkpoint interval %gs skipped: %v", iv, err)
				continue
			}
			f.Checkpoint.Points = append(f.Checkpoint.Points, CheckpointPoint{IntervalS: iv, ETTR: r.ETTRCI})
		}
	} else {
		f.skip("no checkpoint sweep: the failure profile %q has no unexpected interruptions", spec.Failures.Profile.Name)
	}
	return f, nil
}

func (f *Figures) skip(format string, args ...any) {
	f.Notes = append(f.Notes, fmt.Sprintf(format, args...))
}

// sweepRun resolves and runs one sweep point.
func (f *Figures) sweepRun(ctx context.Context, sets []string, cache *StepCache) (run.Result, error) {
	spec, _, err := scenarios.Resolve(f.Name, sets...)
	if err != nil {
		return run.Result{}, shortError(err)
	}
	r, err := run.SimulateWith(ctx, spec, run.Options{Step: cache.Simulate})
	return r, shortError(err)
}

// DominantCheckpoint is the checkpoint plan of the phase with the most
// wall-clock days, and its name.
func (f *Figures) dominantCheckpoint() (run.Checkpoint, string) {
	best := 0
	for i, p := range f.Result.Phases {
		if p.WallClockDays > f.Result.Phases[best].WallClockDays {
			best = i
		}
	}
	if len(f.Result.Phases) == 0 {
		return f.Result.Checkpoint, ""
	}
	return f.Result.Phases[best].Checkpoint, f.Result.Phases[best].Name
}

// checkpointIntervals are the intervals of the checkpoint sweep: the
// Young/Daly interval times powers of two from 1/16 to 32, and the
// scenario's own interval; none without unexpected failures.
func (f *Figures) checkpointIntervals() []float64 {
	ck, _ := f.dominantCheckpoint()
	if math.IsInf(ck.MTBFS, 1) || !(ck.MTBFS > 0) || !(ck.StallS > 0) {
		return nil
	}
	yd := failure.YoungDaly(ck.StallS, ck.MTBFS)
	var out []float64
	for k := -4; k <= 5; k++ {
		out = append(out, roundInterval(yd*math.Pow(2, float64(k))))
	}
	if ck.IntervalS > 0 {
		out = append(out, roundInterval(ck.IntervalS))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// roundInterval rounds seconds to three significant figures (at least 1 s).
func roundInterval(s float64) float64 {
	s = max(s, 1)
	p := math.Pow(10, math.Floor(math.Log10(s))-2)
	return math.Round(s/p) * p
}

type variant struct {
	label string
	sets  []string
}

// variants are the layout changes the breakdown compares a one-phase
// scenario with: the communication overlaps switched, and the pipeline
// without (or with) interleaving.
func (f *Figures) variants() []variant {
	if len(f.Spec.Phases) > 0 {
		return nil
	}
	l := f.Spec.Step.Layout
	var out []variant
	if l.TP > 1 {
		out = append(out, variant{fmt.Sprintf("tp_comm_overlap: %t", !l.TPOverlap), []string{fmt.Sprintf("parallelism.tp_comm_overlap=%t", !l.TPOverlap)}})
	}
	if l.DP > 1 {
		out = append(out, variant{fmt.Sprintf("dp_comm_overlap: %t", !l.DPOverlap), []string{fmt.Sprintf("parallelism.dp_comm_overlap=%t", !l.DPOverlap)}})
	}
	if l.PP > 1 && l.VirtualStages > 1 {
		out = append(out, variant{"virtual_stages: 1 (no interleaving)", []string{"parallelism.virtual_stages=1"}})
	} else if l.PP > 1 {
		out = append(out, variant{"virtual_stages: 2 (interleaved)", []string{"parallelism.virtual_stages=2"}})
	}
	return out
}
