package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// sweepTrials caps the Monte Carlo trials of each sweep point of the
// charts: their means move by well under 1% beyond it, and a plot or a
// report stays a matter of seconds.
const sweepTrials = 20

// scenarioArgs are the scenario and its overrides, as the run command
// takes them.
type scenarioArgs struct {
	scenario string
	sets     []string
	trials   int
	seed     uint64
}

func (a *scenarioArgs) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&a.sets, "set", nil, "override a scenario key: --set path=value (repeatable), e.g. cluster.gpus=8192")
	fs.IntVar(&a.trials, "trials", 0, "Monte Carlo trials of the whole run (default: the scenario's)")
	fs.Uint64Var(&a.seed, "seed", 0, "random seed (default: the scenario's)")
}

// overrides returns the --set overrides, with --trials and --seed when
// given on the command line.
func (a *scenarioArgs) overrides(cmd *cobra.Command) ([]string, error) {
	if cmd.Flags().Changed("trials") && a.trials < 1 {
		return nil, usagef("--trials %d: must be >= 1 (Monte Carlo runs of the whole job)", a.trials)
	}
	sets := slices.Clone(a.sets)
	if cmd.Flags().Changed("trials") {
		sets = append(sets, fmt.Sprintf("trials=%d", a.trials))
	}
	if cmd.Flags().Changed("seed") {
		sets = append(sets, fmt.Sprintf("seed=%d", a.seed))
	}
	return sets, nil
}

// figures is what the plot and report commands show: the run and the
// sweeps around it.
type figures struct {
	name     string
	sets     []string
	spec     run.Spec
	scenario *scenarios.Scenario
	res      run.Result
	memory   []model.Memory

	breakdownTitle string
	bars           []plots.BreakdownBar
	scaling        []plots.ScalingPoint
	scalingTitle   string
	ckpt           plots.CheckpointSweep
	ckptTitle      string
	notes          []string
}

// gather runs the scenario and the sweeps the charts need: a few layout
// variants (or the phases) for the breakdown, the GPU count for scaling and
// the checkpoint interval for ETTR. Sweep points that do not validate or do
// not fit are skipped with a note.
func gather(ctx context.Context, name string, sets []string, prog *progress, budget run.Budget) (*figures, error) {
	spec, scen, err := scenarios.Resolve(name, sets...)
	if err != nil {
		return nil, err
	}
	opt := prog.trials("run: Monte Carlo trials")
	opt.Budget, opt.Timeline = budget, true
	res, err := run.SimulateWith(ctx, spec, opt)
	if err != nil {
		return nil, err
	}
	f := &figures{name: name, sets: sets, spec: spec, scenario: scen, res: res}
	st := spec.Step
	f.memory, _, _ = step.CheckFit(st.Arch, st.Layout, st.Training, st.Cluster.GPU)

	points := f.scalingPoints()
	intervals := f.checkpointIntervals()
	variants := f.variants()
	prog.begin("sweeps", len(points)+len(intervals)+len(variants))
	defer prog.end()

	// Breakdown: the phases, or the scenario and a few variants.
	if len(res.Phases) > 1 {
		f.breakdownTitle = "Where the step goes, phase by phase (breakdown_s)"
		for _, p := range res.Phases {
			f.bars = append(f.bars, plots.BreakdownBar{Label: fmt.Sprintf("%s (%s GPUs, seq %s)", p.Name, group(fmt.Sprint(p.GPUs)), group(fmt.Sprint(p.SeqLen))), Breakdown: p.Breakdown})
		}
	} else {
		f.breakdownTitle = "Where the step goes: the scenario as run and variants (breakdown_s)"
		f.bars = append(f.bars, plots.BreakdownBar{Label: "as run: " + layoutShort(st.Layout), Breakdown: res.Breakdown})
	}
	for _, v := range variants {
		prog.step()
		vs, _, err := scenarios.Resolve(name, append(slices.Clone(sets), v.sets...)...)
		if err != nil {
			f.skip("variant %q: %v", v.label, err)
			continue
		}
		sr, err := run.MainStep(ctx, vs, false)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			f.skip("variant %q: %v", v.label, err)
			continue
		}
		b := sr.Breakdown
		f.bars = append(f.bars, plots.BreakdownBar{Label: v.label, Breakdown: run.Breakdown{
			Compute: b.Compute, TPComm: b.TPComm, CPComm: b.CPComm, PPBubble: b.PPBubble,
			PPComm: b.PPComm, DPComm: b.DPComm, Optimizer: b.Optimizer, Straggler: b.Straggler}})
	}

	// Scaling over the GPU count.
	l := st.Layout
	f.scalingTitle = fmt.Sprintf("Scaling: tp %d, pp %d, cp %d kept, dp following the GPU count (%d trials per point)", l.TP, l.PP, l.CP, min(sweepTrials, max(spec.Trials, 1)))
	if len(spec.Phases) > 0 {
		f.scalingTitle = fmt.Sprintf("Scaling of the main phase alone (all %s tokens): tp %d, pp %d, cp %d kept, dp following", num(st.Training.Tokens), l.TP, l.PP, l.CP)
	}
	for _, g := range points {
		prog.step()
		ps := append(slices.Clone(sets), fmt.Sprintf("cluster.gpus=%d", g), fmt.Sprintf("parallelism.dp=%d", g/(l.TP*l.PP*l.CP)), fmt.Sprintf("trials=%d", min(sweepTrials, max(spec.Trials, 1))))
		if len(spec.Phases) > 0 {
			ps = append(ps, "phases=[]")
		}
		r, err := f.sweepRun(ctx, ps)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			f.skip("scaling: %s GPUs skipped: %v", group(fmt.Sprint(g)), err)
			continue
		}
		f.scaling = append(f.scaling, plots.ScalingPoint{GPUs: g, TFLOPSPerGPU: r.TFLOPSPerGPU, MFU: r.MFU, WallClockDays: r.WallClockDaysCI})
	}

	// ETTR over the checkpoint interval.
	if len(intervals) > 0 {
		ck, phase := f.dominantCheckpoint()
		f.ckpt = plots.CheckpointSweep{YoungDalyS: failure.YoungDaly(ck.StallS, ck.MTBFS), AsRunS: ck.IntervalS, StallS: ck.StallS, MTBFS: ck.MTBFS}
		f.ckptTitle = fmt.Sprintf("ETTR against the checkpoint interval (%d trials per point)", min(sweepTrials, max(spec.Trials, 1)))
		if len(res.Phases) > 1 {
			f.ckptTitle = fmt.Sprintf("ETTR against the checkpoint interval, every phase (Young/Daly of the longest phase, %s)", phase)
		}
		for _, iv := range intervals {
			prog.step()
			r, err := f.sweepRun(ctx, append(slices.Clone(sets), fmt.Sprintf("failures.checkpoint_interval=%gs", iv), fmt.Sprintf("trials=%d", min(sweepTrials, max(spec.Trials, 1)))))
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				f.skip("checkpoint interval %gs skipped: %v", iv, err)
				continue
			}
			f.ckpt.Points = append(f.ckpt.Points, plots.CheckpointPoint{IntervalS: iv, ETTR: r.ETTRCI})
		}
	} else {
		f.skip("no checkpoint sweep: the failure profile %q has no unexpected interruptions", spec.Failures.Profile.Name)
	}
	return f, nil
}

func (f *figures) skip(format string, args ...any) {
	f.notes = append(f.notes, fmt.Sprintf(format, args...))
}

// sweepRun resolves and runs one sweep point.
func (f *figures) sweepRun(ctx context.Context, sets []string) (run.Result, error) {
	spec, _, err := scenarios.Resolve(f.name, sets...)
	if err != nil {
		return run.Result{}, shortError(err)
	}
	r, err := run.Simulate(ctx, spec)
	return r, shortError(err)
}

// shortError keeps the first of joined errors, for notes.
func shortError(err error) error {
	if err == nil {
		return nil
	}
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) && len(j.Unwrap()) > 0 {
		return j.Unwrap()[0]
	}
	return err
}

// scalingPoints are the GPU counts of the scaling sweep: the scenario's
// count times powers of two, from 1/16 to 4 times, that a whole number of
// tp·pp·cp groups fill.
func (f *figures) scalingPoints() []int {
	st := f.spec.Step
	model := st.Layout.TP * st.Layout.PP * st.Layout.CP
	base := st.Cluster.GPUs
	var out []int
	for k := -4; k <= 2; k++ {
		g := int(math.Round(float64(base) * math.Pow(2, float64(k))))
		if g >= model && g%model == 0 && g >= st.Cluster.GPUsPerNode {
			out = append(out, g)
		}
	}
	return out
}

// dominantCheckpoint is the checkpoint plan of the phase with the most
// wall-clock days, and its name.
func (f *figures) dominantCheckpoint() (run.Checkpoint, string) {
	best := 0
	for i, p := range f.res.Phases {
		if p.WallClockDays > f.res.Phases[best].WallClockDays {
			best = i
		}
	}
	if len(f.res.Phases) == 0 {
		return f.res.Checkpoint, ""
	}
	return f.res.Phases[best].Checkpoint, f.res.Phases[best].Name
}

// checkpointIntervals are the intervals of the checkpoint sweep: the
// Young/Daly interval times powers of two from 1/16 to 32, and the
// scenario's own interval; none without unexpected failures.
func (f *figures) checkpointIntervals() []float64 {
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
func (f *figures) variants() []variant {
	if len(f.spec.Phases) > 0 {
		return nil
	}
	l := f.spec.Step.Layout
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

// layoutShort is a layout in a few words.
func layoutShort(l model.Layout) string {
	s := fmt.Sprintf("tp %d, pp %d", l.TP, l.PP)
	if l.VirtualStages > 1 {
		s += fmt.Sprintf(" (v %d)", l.VirtualStages)
	}
	if l.CP > 1 {
		s += fmt.Sprintf(", cp %d", l.CP)
	}
	return s + fmt.Sprintf(", dp %d", l.DP)
}

// layoutWords is a layout in a sentence.
func layoutWords(l model.Layout) string {
	return fmt.Sprintf("tp %d, pp %d (%d virtual stages), cp %d, dp %d, micro batch %d, recompute %s, ZeRO %d, TP overlap %t, DP overlap %t",
		l.TP, l.PP, l.VirtualStages, l.CP, l.DP, l.MicroBatch, l.Recompute, l.ZeRO, l.TPOverlap, l.DPOverlap)
}

// charts draws every chart of the figures with its caption, in the
// report's order; a chart with nothing to show (no failures, no sweep
// point that ran) is left out.
func (f *figures) charts() ([]plots.ReportChart, error) {
	r := f.res
	st := f.spec.Step
	var planned []string
	for _, c := range f.spec.Failures.Profile.Causes {
		if c.Planned {
			planned = append(planned, c.Name)
		}
	}
	memTitle := fmt.Sprintf("Peak memory per GPU by pipeline stage (%s)", layoutShort(st.Layout))
	if len(f.spec.Phases) > 0 {
		memTitle = fmt.Sprintf("Peak memory per GPU by pipeline stage, main layout (%s, seq %s)", layoutShort(st.Layout), group(fmt.Sprint(st.Training.SeqLen)))
	}
	makers := []struct {
		make    func() (*plots.Chart, error)
		caption string
	}{
		{func() (*plots.Chart, error) { return plots.Utilization(r) },
			"One Monte Carlo trial over wall-clock time. Top: every interruption, by cause. Middle: useful TFLOPS per GPU; restarts, checkpoint stalls and work redone after a failure count as zero, so the curve averages to TFLOPS/GPU × ETTR. Bottom: the busiest hours in detail, with each checkpoint as a tick."},
		{func() (*plots.Chart, error) { return plots.Breakdown(f.breakdownTitle, f.bars) },
			"Each bar is one optimizer step split into the parts of breakdown_s, read off the simulated events on the stage that finishes last. Grey is pipeline bubble: a stage waiting for its neighbours."},
		{func() (*plots.Chart, error) { return plots.Scaling(f.scalingTitle, f.scaling, st.Cluster.GPUs) },
			"The same model, batch and tokens on more or fewer GPUs: throughput per GPU falls as communication and the bubble grow, so the days to train fall more slowly than the dashed line of perfect scaling."},
		{func() (*plots.Chart, error) { return plots.Checkpoint(f.ckptTitle, f.ckpt) },
			"Checkpointing more often stalls training more; less often loses more work per failure. Young/Daly's interval balances the two; the curve is flat near it, so the exact choice matters little."},
		{func() (*plots.Chart, error) { return plots.Interruptions(r, planned) },
			"Mean interruptions per cause over the run, from the failure profile's rates and the hardware the job holds. Each costs the restart time and the work since the last checkpoint."},
		{func() (*plots.Chart, error) { return plots.WallClock(r) },
			"How long the run takes in each Monte Carlo trial: failures arrive at random, so the time to train is a distribution; the 90% interval is what to plan for."},
		{func() (*plots.Chart, error) {
			return plots.Memory(memTitle, f.memory, st.Cluster.GPU.HBMGiB, st.Cluster.GPU.Name)
		},
			"Peak memory of one GPU on each pipeline stage against the GPU's capacity. With the 1F1B schedule the first stages hold the most micro batches' activations."},
	}
	var out []plots.ReportChart
	for _, m := range makers {
		c, err := m.make()
		if nd := (*plots.NotDrawn)(nil); errors.As(err, &nd) {
			out = append(out, plots.ReportChart{NotDrawn: nd.Reason, Caption: nd.Chart})
			continue
		}
		if errors.Is(err, plots.ErrNoData) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, plots.ReportChart{Chart: c, Caption: m.caption})
	}
	return out, nil
}
