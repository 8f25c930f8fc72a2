package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

type plotOptions struct {
	scenario string
	sets     []string // --set, --trials and --seed as overrides
	out      string   // directory
}

func newPlotCmd(io *streams, runF func(context.Context, *plotOptions) error) *cobra.Command {
	o := &plotOptions{}
	var a scenarioArgs
	cmd := &cobra.Command{
		Use:   "plot SCENARIO --out DIR",
		Short: "Write the charts of a scenario as PNG and SVG",
		Long: `Simulate a scenario and the sweeps around it, and write its charts to DIR,
each as NAME.png and NAME.svg:

  utilization    useful TFLOPS/GPU over the run's wall clock (one Monte Carlo
                 trial), interruptions by cause, a zoom on restarts and checkpoints
  breakdown      where the step goes: one stacked bar per phase, or the scenario
                 and a few layout variants
  scaling        days to train, GPU-hours and ETTR against the GPU count, the
                 layout re-planned at every size
  checkpoint     ETTR against the checkpoint interval, Young/Daly marked
  interruptions  interruptions by cause over the run
  wallclock      the distribution of days to train over the trials
  memory         peak memory per GPU by pipeline stage against capacity
  tradeoff       the fastest layouts that fit: days to train against the memory
                 each leaves free
  waterfall      where the days go, from every FLOP at peak to the wall clock
  sensitivity    days to train with each doubtful input halved and doubled
  phases         a multi-phase run's phases end to end (multi-phase scenarios)

The sweeps run each point with at most 20 trials. Points that do not
validate or fit (a GPU count the batch does not divide, say) are skipped.
The paths written are printed, one per line.`,
		Example: `  clustersim plot llama3-405b --out charts
  clustersim plot llama3-405b-pretrain --out charts --trials 20
  clustersim plot my.yaml --set cluster.gpus=8192 --out charts`,
		Args:              positional(cobra.ExactArgs(1)),
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scenario = args[0]
			sets, err := a.overrides(cmd)
			if err != nil {
				return err
			}
			o.sets = sets
			if o.out == "-" {
				return usagef("--out -: plot writes several files (PNG and SVG) into a directory; give a directory name")
			}
			if o.out == "" {
				return usagef("--out DIR is required: the directory to write the charts to")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runPlot(cmd.Context(), io, o)
		},
	}
	a.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "directory to write the charts to (created if missing)")
	return cmd
}

func runPlot(ctx context.Context, io *streams, o *plotOptions) error {
	f, err := gatherReview(ctx, o.scenario, o.sets, newProgress(io), io.limits.budget(), nil)
	if err != nil {
		return err
	}
	charts, err := f.charts()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	for _, c := range charts {
		if c.Chart == nil {
			fmt.Fprintf(io.err, "note: %s not drawn: %s\n", c.Caption, c.NotDrawn)
			continue
		}
		paths, err := c.Chart.Save(o.out)
		if err != nil {
			return err
		}
		for _, p := range paths {
			fmt.Fprintln(io.out, p)
		}
	}
	for _, n := range f.Notes {
		fmt.Fprintln(io.err, "note:", n)
	}
	return nil
}
