package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/plan"
)

type planOptions struct {
	scenario     string
	sets         []string
	gpus         int
	top          int
	crossNodeTP  bool
	microBatches []int
	maxCP        int
	exhaustive   bool
	format       format
}

func newPlanCmd(io *streams, runF func(context.Context, *planOptions) error) *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan SCENARIO [--gpus N] [--top K]",
		Short: "Search parallel layouts that fit in memory and rank them by time to train",
		Long: `Search the parallel layouts of the scenario's model on its cluster (or on
--gpus GPUs): tp (inside a node unless --allow-cross-node-tp), pp (even, or
one layer fewer on the first and last stage), cp, dp, micro batch, virtual
stages, recompute (none, full; selective with unfused attention; element-wise
or not), ZeRO 0-3 and tp_comm_overlap. Layouts that do not divide or do not
fit in GPU memory are rejected and counted by reason.

The rest are ranked by the step time of the event simulation without
stragglers (deterministic; 'clustersim run' adds them), which is the ranking
by time to train: time to train is steps × step time / ETTR, and the ETTR
(Kokolis et al.'s closed form with Young/Daly checkpoints) is the same for
every layout on the same GPUs. A lower bound of each layout's step from the
simulator's own costs rules out most layouts without simulating them; the
ranking is exactly the one simulating every feasible layout gives
(--exhaustive does that).

The scenario's own layout is simulated the same way as the baseline; it
need not be valid on --gpus. Ctrl-C prints the best layouts simulated so far
and exits with status 130.`,
		Example: `  clustersim plan llama3-405b
  clustersim plan llama3-70b --gpus 2048 --top 5
  clustersim plan my-model.yaml --set training.seq_len=32768 --format json`,
		Args:              positional(cobra.ExactArgs(1)),
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scenario = args[0]
			if o.top < 1 {
				return usagef("--top %d: want at least 1", o.top)
			}
			if cmd.Flags().Changed("gpus") && o.gpus < 1 {
				return usagef("--gpus %d: want at least 1", o.gpus)
			}
			for _, b := range o.microBatches {
				if b < 1 {
					return usagef("--micro-batches %v: want sizes of at least 1", o.microBatches)
				}
			}
			if o.maxCP < 0 {
				return usagef("--max-cp %d: want at least 1 (or 0 for the default)", o.maxCP)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runPlan(cmd.Context(), io, o)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&o.sets, "set", nil, "override a scenario key: --set path=value (repeatable)")
	fs.IntVar(&o.gpus, "gpus", 0, "GPUs to plan for (default: the scenario's cluster.gpus)")
	fs.IntVar(&o.top, "top", plan.DefaultTop, "layouts to rank and show")
	fs.BoolVar(&o.crossNodeTP, "allow-cross-node-tp", false, "let tp exceed the GPUs per node")
	fs.IntSliceVar(&o.microBatches, "micro-batches", plan.DefaultMicroBatches, "micro-batch sizes to try")
	fs.IntVar(&o.maxCP, "max-cp", 0, "largest cp to try (default: leave each rank 1,024 tokens of the sequence)")
	fs.BoolVar(&o.exhaustive, "exhaustive", false, "simulate every feasible layout instead of pruning (slow; checks the pruning)")
	addFormatFlag(fs, &o.format)
	return cmd
}

func runPlan(ctx context.Context, io *streams, o *planOptions) error {
	sets := o.sets
	if o.gpus > 0 {
		sets = append(sets[:len(sets):len(sets)], fmt.Sprintf("cluster.gpus=%d", o.gpus))
	}
	spec, _, err := scenarios.ResolveAnyLayout(o.scenario, sets...)
	if err != nil {
		return err
	}
	m := newProgress(io)
	var once sync.Once
	res, err := plan.Search(ctx, spec, plan.Options{
		Top: o.top, AllowCrossNodeTP: o.crossNodeTP, MicroBatches: o.microBatches, MaxCP: o.maxCP, Exhaustive: o.exhaustive,
		Progress: func(done, total int) {
			once.Do(func() { m.begin("simulating layouts", total) })
			m.set(done)
		},
	})
	m.end()
	interrupted := errors.Is(err, context.Canceled)
	if err != nil && !interrupted {
		return err
	}
	if werr := writePlan(io.out, o.format, res); werr != nil {
		return werr
	}
	if interrupted {
		return &interruptedError{what: fmt.Sprintf("the best of the %d layouts simulated so far, not a complete ranking", res.Simulated)}
	}
	if len(res.Layouts) == 0 {
		return &scenarios.Error{Key: "parallelism", Msg: fmt.Sprintf("no layout of %s fits on %d × %s (%s)", spec.Step.Arch.Name, res.GPUs, res.GPU, rejectNote(res))}
	}
	return nil
}

func writePlan(w io.Writer, f format, res plan.Result) error {
	switch f {
	case "json":
		return writeJSON(w, res)
	case "csv":
		return writeCSV(w, planCSV(res))
	}
	return writePlanTable(w, res)
}

// recomputeLabel is "none", "full", "selective", with "+ew" for element-wise
// recompute.
func recomputeLabel(r plan.Ranked) string {
	if r.RecomputeElementwise {
		return r.Recompute + "+ew"
	}
	return r.Recompute
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func writePlanTable(w io.Writer, res plan.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "plan\t%s on %s × %s\n", res.Scenario, group(fmt.Sprint(res.GPUs)), res.GPU)
	fmt.Fprintf(tw, "searched\t%s layouts: %s fit in memory, %s simulated (a lower bound of the step rules out the rest)\n",
		group(fmt.Sprint(res.Evaluated)), group(fmt.Sprint(res.Feasible)), group(fmt.Sprint(res.Simulated)))
	fmt.Fprintf(tw, "ranking\tby step time, simulated without stragglers; days = %s steps × step / ETTR %.3f (closed form)\n", num(res.Steps), res.ETTR)
	if !res.Complete {
		fmt.Fprintf(tw, "note\tinterrupted: the best of the layouts simulated so far\n")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "RANK\tTP\tPP\tCP\tDP\tMB\tV\tRECOMPUTE\tZERO\tTP OVERLAP\tSTEP (s)\tTFLOPS/GPU\tMFU\tMEMORY (GiB)\tDAYS")
	row := func(rank string, r plan.Ranked) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t%.1f%%\t%s\t%s\n", rank, r.TP, r.PP, r.CP, r.DP, r.MicroBatch,
			r.VirtualStages, recomputeLabel(r), r.ZeRO, yesNo(r.TPCommOverlap), num(r.StepTimeS), num(r.TFLOPSPerGPU), 100*r.MFU,
			num(r.MemoryGiBPerGPU), num(r.WallClockDays))
	}
	for _, r := range res.Layouts {
		row(fmt.Sprint(r.Rank), r)
	}
	if b := res.Baseline; b != nil {
		rank := "scenario"
		if b.Rank > 0 {
			rank = fmt.Sprintf("scenario (%d)", b.Rank)
		}
		row(rank, *b)
	}
	fmt.Fprintln(tw)
	if b := res.Baseline; b != nil && len(res.Layouts) > 0 {
		best := res.Layouts[0]
		fmt.Fprintf(tw, "against the scenario's layout\tthe best is %.1f%% faster per step (%s vs %s days)\n",
			100*(b.StepTimeS/best.StepTimeS-1), num(best.WallClockDays), num(b.WallClockDays))
	} else if b == nil && !res.Complete {
		fmt.Fprintln(tw, "against the scenario's layout\tnot simulated: the search was interrupted")
	} else if b == nil {
		fmt.Fprintf(tw, "against the scenario's layout\tnone: it does not divide or fit on %s GPUs\n", group(fmt.Sprint(res.GPUs)))
	}
	fmt.Fprintln(tw, "+ew\telement-wise recompute (norms and the MLP activation)")
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "REJECTED\tLAYOUTS")
	for _, r := range res.Rejected {
		fmt.Fprintf(tw, "%s\t%s\n", r.Reason, group(fmt.Sprint(r.Count)))
	}
	return tw.Flush()
}

// planCSV is one table: a section column says what a row is: "total"
// (reason evaluated, feasible or simulated, with its count), "layout" (the
// ranked layouts, best first), "baseline" (the scenario's layout) or
// "rejected" (a reason and its count).
func planCSV(res plan.Result) [][]string {
	head := []string{"section", "rank", "tp", "pp", "cp", "dp", "micro_batch", "virtual_stages", "recompute", "recompute_elementwise",
		"zero", "sequence_parallel", "tp_comm_overlap", "dp_comm_overlap", "step_time_s", "lower_bound_s", "tokens_per_s",
		"tflops_per_gpu", "mfu", "hfu", "memory_gib_per_gpu", "wall_clock_days", "reason", "count"}
	rows := [][]string{head}
	blank := func(section string, reason string, count int) []string {
		r := make([]string, len(head))
		r[0], r[len(r)-2], r[len(r)-1] = section, reason, fmt.Sprint(count)
		return r
	}
	rows = append(rows, blank("total", "evaluated", res.Evaluated), blank("total", "feasible", res.Feasible), blank("total", "simulated", res.Simulated))
	layout := func(section string, r plan.Ranked) []string {
		return []string{section, fmt.Sprint(r.Rank), fmt.Sprint(r.TP), fmt.Sprint(r.PP), fmt.Sprint(r.CP), fmt.Sprint(r.DP),
			fmt.Sprint(r.MicroBatch), fmt.Sprint(r.VirtualStages), r.Recompute, fmt.Sprint(r.RecomputeElementwise), fmt.Sprint(r.ZeRO),
			fmt.Sprint(r.SequenceParallel), fmt.Sprint(r.TPCommOverlap), fmt.Sprint(r.DPCommOverlap), g(r.StepTimeS), g(r.LowerBoundS),
			g(r.TokensPerS), g(r.TFLOPSPerGPU), g(r.MFU), g(r.HFU), g(r.MemoryGiBPerGPU), g(r.WallClockDays), "", ""}
	}
	for _, r := range res.Layouts {
		rows = append(rows, layout("layout", r))
	}
	if res.Baseline != nil {
		rows = append(rows, layout("baseline", *res.Baseline))
	}
	for _, r := range res.Rejected {
		rows = append(rows, blank("rejected", r.Reason, r.Count))
	}
	return rows
}

// interruptedError is a command stopped by Ctrl-C after printing what
// finished; it exits with status 130 (128 + SIGINT, as shells report it).
type interruptedError struct{ what string }

func (e *interruptedError) Error() string { return "interrupted: printed " + e.what }
func (e *interruptedError) Unwrap() error { return context.Canceled }

// rejectNote lists the rejections, for the message when nothing fits.
func rejectNote(res plan.Result) string {
	var parts []string
	for _, r := range res.Rejected {
		parts = append(parts, fmt.Sprintf("%s: %d", r.Reason, r.Count))
	}
	return strings.Join(parts, "; ")
}
