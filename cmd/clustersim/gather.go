package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/sim/model"
)

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

// figures is what the plot and report commands show: the study's figures
// (scenarios/study.Gather, through ReviewOf).
type figures struct {
	*study.Figures
}

// layoutShort is a layout in a few words.
func layoutShort(l model.Layout) string { return study.LayoutShort(l) }

// layoutWords is a layout in a sentence.
func layoutWords(l model.Layout) string { return study.LayoutWords(l) }

// charts draws every chart of the figures with its caption, in the
// report's order; a chart with nothing to show (no failures, no sweep
// point that ran) is left out.
func (f *figures) charts() ([]plots.ReportChart, error) {
	r := f.Result
	st := f.Spec.Step
	var planned []string
	for _, c := range f.Spec.Failures.Profile.Causes {
		if c.Planned {
			planned = append(planned, c.Name)
		}
	}
	memTitle := fmt.Sprintf("Peak memory per GPU by pipeline stage (%s)", layoutShort(st.Layout))
	if len(f.Spec.Phases) > 0 {
		memTitle = fmt.Sprintf("Peak memory per GPU by pipeline stage, main layout (%s, seq %s)", layoutShort(st.Layout), group(fmt.Sprint(st.Training.SeqLen)))
	}
	makers := []struct {
		make    func() (*plots.Chart, error)
		caption string
	}{
		{func() (*plots.Chart, error) { return plots.Utilization(r) },
			"One Monte Carlo trial over wall-clock time. Top: every interruption, by cause. Middle: useful TFLOPS per GPU; restarts, checkpoint stalls and work redone after a failure count as zero, so the curve averages to TFLOPS/GPU × ETTR. Bottom: the busiest hours in detail, with each checkpoint as a tick."},
		{func() (*plots.Chart, error) { return plots.Breakdown(f.BreakdownTitle, f.bars()) },
			"Each bar is one optimizer step split into the parts of breakdown_s, read off the simulated events on the stage that finishes last. Grey is pipeline bubble: a stage waiting for its neighbours."},
		{func() (*plots.Chart, error) { return plots.Checkpoint(f.CheckpointTitle, f.checkpoint()) },
			"Checkpointing more often stalls training more; less often loses more work per failure. Young/Daly's interval balances the two; the curve is flat near it, so the exact choice matters little."},
		{func() (*plots.Chart, error) { return plots.Interruptions(r, planned) },
			"Mean interruptions per cause over the run, from the failure profile's rates and the hardware the job holds. Each costs the restart time and the work since the last checkpoint."},
		{func() (*plots.Chart, error) { return plots.WallClock(r) },
			"How long the run takes in each Monte Carlo trial: failures arrive at random, so the time to train is a distribution; the 90% interval is what to plan for."},
		{func() (*plots.Chart, error) {
			return plots.Memory(memTitle, f.Memory, st.Cluster.GPU.HBMGiB, st.Cluster.GPU.Name)
		},
			"Peak memory of one GPU on each pipeline stage against the GPU's capacity. With the 1F1B schedule the first stages hold the most micro batches' activations."},
	}
	var out []plots.ReportChart
	for _, m := range makers {
		c, err := m.make()
		if out, err = appendChart(out, c, err, m.caption); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// appendChart appends chart c, drawn with err, to out with its caption: a
// line in its place when it is not drawn (plots.NotDrawn), nothing when it
// has nothing to show (plots.ErrNoData).
func appendChart(out []plots.ReportChart, c *plots.Chart, err error, caption string) ([]plots.ReportChart, error) {
	if nd := (*plots.NotDrawn)(nil); errors.As(err, &nd) {
		return append(out, plots.ReportChart{NotDrawn: nd.Reason, Caption: nd.Chart}), nil
	}
	if errors.Is(err, plots.ErrNoData) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return append(out, plots.ReportChart{Chart: c, Caption: caption}), nil
}

// bars and checkpoint are the study's figures as the charts take them.
func (f *figures) bars() []plots.BreakdownBar {
	var out []plots.BreakdownBar
	for _, b := range f.Bars {
		out = append(out, plots.BreakdownBar{Label: b.Label, Breakdown: b.Breakdown})
	}
	return out
}

func (f *figures) checkpoint() plots.CheckpointSweep {
	c := f.Checkpoint
	out := plots.CheckpointSweep{YoungDalyS: c.YoungDalyS, AsRunS: c.AsRunS, StallS: c.StallS, MTBFS: c.MTBFS}
	for _, p := range c.Points {
		out.Points = append(out.Points, plots.CheckpointPoint{IntervalS: p.IntervalS, ETTR: p.ETTR})
	}
	return out
}
