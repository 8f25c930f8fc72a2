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
	"github.com/clustersim/clustersim/scenarios/validation"
	"github.com/clustersim/clustersim/sim/plan"
	"github.com/clustersim/clustersim/sim/run"
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
		Short: "Search parallel layouts that fit in memory and rank them by expected time to train",
		Long: `Search the parallel layouts of the scenario's model on its cluster (or on
--gpus GPUs): tp (inside a node unless --allow-cross-node-tp), pp (even, or
one layer fewer on the first and last stage), cp, dp, micro batch, virtual
stages, recompute (none, full; selective with unfused attention; element-wise
or not), ZeRO 0-3 and tp_comm_overlap. Layouts that do not divide or do not
fit in GPU memory are rejected and counted by reason.

The rest are ranked by expected time to train, stragglers included: the
step is the event simulation's mean with the scenario's stragglers, samples
and seed (what 'clustersim run' reports for that layout), and DAYS is
steps × step / ETTR, where the ETTR (Kokolis et al.'s closed form with
Young/Daly checkpoints, the expectation of run's Monte Carlo) is the same
for every layout on the same GPUs. With slow nodes (failures.lemons) or
phases, which the closed form leaves out, the ranked layouts' DAYS come from
run's own simulation (its trials and seed). Either way DAYS is what
'clustersim run SCENARIO --set parallelism...' gives for that layout, within
Monte Carlo noise.

A lower bound of each layout's noiseless step from the simulator's own
costs (never above the step with stragglers) rules out most layouts without
simulating them, and the noiseless step rules out more before the noisy
steps are simulated; the ranking is exactly the one simulating every
feasible layout gives (--exhaustive does that).

Every step and DAYS carries the model-error band of the GPU type and
precision (as 'clustersim run' prints it; model_error_pct in JSON): layouts
whose DAYS differ by less than the band are statistically
indistinguishable, and the table says so when the top two are.

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
	me := validation.ModelErrorOf(spec)
	out := planOutput{Result: res, ModelErrorPct: me.BandPct, ModelError: &me}
	if werr := writePlan(io.out, o.format, out); werr != nil {
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

// planOutput is plan's result with the model-error band of its GPU type
// and precision (the JSON of `plan --format json`: plan.Result's keys and
// model_error_pct, model_error).
type planOutput struct {
	plan.Result
	ModelErrorPct float64         `json:"model_error_pct"`
	ModelError    *run.ModelError `json:"model_error,omitempty"`
}

func writePlan(w io.Writer, f format, out planOutput) error {
	switch f {
	case "json":
		return writeJSON(w, out)
	case "csv":
		return writeCSV(w, planCSV(out.Result))
	}
	return writePlanTable(w, out)
}

// indistinguishable is the hint printed when the top two layouts' days
// differ by less than the model-error band, or "".
func indistinguishable(out planOutput) string {
	l := out.Layouts
	if len(l) < 2 || out.ModelErrorPct <= 0 || !(l[0].WallClockDays > 0) {
		return ""
	}
	d := 100 * (l[1].WallClockDays/l[0].WallClockDays - 1)
	if d >= out.ModelErrorPct {
		return ""
	}
	return fmt.Sprintf("the top two layouts differ by %.1f%% in days, within the ±%.1f%% model error: statistically indistinguishable; choose between them on other grounds or measure both", d, out.ModelErrorPct)
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

func writePlanTable(w io.Writer, out planOutput) error {
	res := out.Result
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "plan\t%s on %s × %s", res.Scenario, group(fmt.Sprint(res.GPUs)), res.GPU)
	if m := out.ModelError; m != nil {
		fmt.Fprintf(tw, ", ± %.1f%% model error\n", m.BandPct)
		fmt.Fprintf(tw, "model error\t± %.1f%% on STEP and DAYS: %s; not a Monte Carlo interval\n", m.BandPct, m.Basis)
	} else {
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "searched\t%s layouts: %s fit in memory, %s simulated (a lower bound of the noiseless step rules out the rest)\n",
		group(fmt.Sprint(res.Evaluated)), group(fmt.Sprint(res.Feasible)), group(fmt.Sprint(res.Simulated)))
	if res.DaysFrom == plan.DaysRunSimulation {
		fmt.Fprintf(tw, "ranking\tby expected time to train: the step with stragglers (mean of the noisy steps); days from the run simulation (slow nodes or phases)\n")
	} else {
		fmt.Fprintf(tw, "ranking\tby expected time to train: days = %s steps × step with stragglers / ETTR %.3f (closed form)\n", num(res.Steps), res.ETTR)
	}
	if !res.Complete {
		fmt.Fprintf(tw, "note\tinterrupted: the best of the layouts simulated so far\n")
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "RANK\tTP\tPP\tCP\tDP\tMB\tV\tRECOMPUTE\tZERO\tTP OVERLAP\tSTEP (s)\tNOISELESS (s)\tTFLOPS/GPU\tMFU\tMEMORY (GiB)\tDAYS")
	row := func(rank string, r plan.Ranked) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%.1f%%\t%s\t%s\n", rank, r.TP, r.PP, r.CP, r.DP, r.MicroBatch,
			r.VirtualStages, recomputeLabel(r), r.ZeRO, yesNo(r.TPCommOverlap), num(r.StepTimeS), num(r.NoiselessStepTimeS), num(r.TFLOPSPerGPU), 100*r.MFU,
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
	if h := indistinguishable(out); h != "" {
		fmt.Fprintf(tw, "note\t%s\n", h)
	}
	fmt.Fprintln(tw, "STEP\tmean step with stragglers, as run reports it; NOISELESS: without them")
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
		"zero", "sequence_parallel", "tp_comm_overlap", "dp_comm_overlap", "step_time_s", "noiseless_step_time_s", "lower_bound_s", "tokens_per_s",
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
			fmt.Sprint(r.SequenceParallel), fmt.Sprint(r.TPCommOverlap), fmt.Sprint(r.DPCommOverlap), g(r.StepTimeS), g(r.NoiselessStepTimeS), g(r.LowerBoundS),
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
