package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/sim/run"
)

type runOptions struct {
	ctx      context.Context
	scenario string
	sets     []string
	trials   int
	seed     uint64
	format   format
}

// newRunCmd builds the run command; runF runs the parsed options (nil:
// runRun), so tests can check argv → options alone.
func newRunCmd(io *streams, runF func(*runOptions) error) *cobra.Command {
	o := &runOptions{}
	if runF == nil {
		runF = func(o *runOptions) error { return runRun(io, o) }
	}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Simulate one scenario: a training step in detail, then the whole run",
		Long: `Simulate one scenario: one optimizer step as discrete events (pipeline
schedule, tensor/context/pipeline/data-parallel communication, stragglers),
then the whole run over wall-clock time.

SCENARIO is a built-in name (see 'clustersim scenarios') or a YAML file.

FLOPs are model FLOPs (PaLM App. B, Llama 3 §3.3): per token 6 × every
parameter in a matrix product (the output head, not the input embedding),
plus 6·L·s·h_attn for causal attention (QKᵀ and AV, halved by the mask);
recomputation counts only in HFU. The table prints the run's total beside
6·N·D (N every parameter, D tokens): the difference is attention and the
input embedding.

Step time, TFLOPS/GPU, wall clock and GPU-hours carry a model-error band,
± the 90th percentile of |step-time error| over the published runs of the
same GPU type and precision in 'clustersim validate' (the overall band
when there are none); days and GPU-hours scale with the step time, so the
band applies to them too. It is distinct from the Monte Carlo 90%
interval, which is the spread of failures over trials.`,
		Example: `  clustersim run llama3-405b
  clustersim run llama3-405b --set parallelism.pp=8 --set parallelism.dp=256
  clustersim run my-cluster.yaml --format json > result.json`,
		Args:              positional(cobra.ExactArgs(1)),
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ctx, o.scenario = cmd.Context(), args[0]
			if cmd.Flags().Changed("trials") && o.trials < 1 {
				return usagef("--trials %d: must be >= 1 (Monte Carlo runs of the whole job)", o.trials)
			}
			if cmd.Flags().Changed("trials") {
				o.sets = append(o.sets, fmt.Sprintf("trials=%d", o.trials))
			}
			if cmd.Flags().Changed("seed") {
				o.sets = append(o.sets, fmt.Sprintf("seed=%d", o.seed))
			}
			return runF(o)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&o.sets, "set", nil, "override a scenario key: --set path=value (repeatable), e.g. cluster.gpus=8192")
	fs.IntVar(&o.trials, "trials", 0, "Monte Carlo trials of the whole run (default: the scenario's)")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (default: the scenario's)")
	addFormatFlag(fs, &o.format)
	return cmd
}

func runRun(io *streams, o *runOptions) error {
	spec, _, err := scenarios.Resolve(o.scenario, o.sets...)
	if err != nil {
		return err
	}
	prog := newProgress(io)
	opt := prog.trials("Monte Carlo trials")
	opt.Budget = io.limits.budget()
	res, err := run.SimulateWith(o.ctx, spec, opt)
	prog.end()
	if err != nil {
		return err
	}
	withModelError(spec, &res)
	switch o.format {
	case "json":
		return writeJSON(io.out, res)
	case "csv":
		return writeCSV(io.out, runCSV([]string{}, []run.Result{res}))
	}
	return writeRunTable(io.out, spec, res)
}

// runColumns are the CSV columns of a run result, with units.
var runColumns = []struct {
	name string
	get  func(r run.Result) string
}{
	{"scenario", func(r run.Result) string { return r.Scenario }},
	{"gpus", func(r run.Result) string { return fmt.Sprint(r.GPUs) }},
	{"params", func(r run.Result) string { return g(r.Params) }},
	{"step_time_s", func(r run.Result) string { return g(r.StepTimeS) }},
	{"tokens_per_s", func(r run.Result) string { return g(r.TokensPerS) }},
	{"tflops_per_gpu", func(r run.Result) string { return g(r.TFLOPSPerGPU) }},
	{"mfu", func(r run.Result) string { return g(r.MFU) }},
	{"hfu", func(r run.Result) string { return g(r.HFU) }},
	{"memory_gib_per_gpu", func(r run.Result) string { return g(r.MemoryGiBPerGPU) }},
	{"breakdown_s.compute", func(r run.Result) string { return g(r.Breakdown.Compute) }},
	{"breakdown_s.tp_comm", func(r run.Result) string { return g(r.Breakdown.TPComm) }},
	{"breakdown_s.cp_comm", func(r run.Result) string { return g(r.Breakdown.CPComm) }},
	{"breakdown_s.ep_comm", func(r run.Result) string { return g(r.Breakdown.EPComm) }},
	{"breakdown_s.offload", func(r run.Result) string { return g(r.Breakdown.Offload) }},
	{"breakdown_s.pp_bubble", func(r run.Result) string { return g(r.Breakdown.PPBubble) }},
	{"breakdown_s.pp_comm", func(r run.Result) string { return g(r.Breakdown.PPComm) }},
	{"breakdown_s.dp_comm", func(r run.Result) string { return g(r.Breakdown.DPComm) }},
	{"breakdown_s.optimizer", func(r run.Result) string { return g(r.Breakdown.Optimizer) }},
	{"breakdown_s.straggler", func(r run.Result) string { return g(r.Breakdown.Straggler) }},
	{"wall_clock_days", func(r run.Result) string { return g(r.WallClockDays) }},
	{"gpu_hours", func(r run.Result) string { return g(r.GPUHours) }},
	{"ettr", func(r run.Result) string { return g(r.ETTR) }},
	{"interruptions", func(r run.Result) string { return g(r.Interruptions) }},
	{"interruptions_per_day", func(r run.Result) string { return g(r.InterruptionsPerDay) }},
	{"total_flops", func(r run.Result) string { return g(r.TotalFLOPs) }},
	{"six_nd_flops", func(r run.Result) string { return g(r.SixNDFLOPs) }},
	{"model_error_pct", func(r run.Result) string { return g(r.ModelErrorPct) }},
	{"trials", func(r run.Result) string { return fmt.Sprint(r.Trials) }},
	{"seed", func(r run.Result) string { return fmt.Sprint(r.Seed) }},
}

// runCSV is a header and one row per result, each row prefixed by extra
// (for sweeps: the set values).
func runCSV(extraHeader []string, results []run.Result, extra ...[]string) [][]string {
	head := slices.Clone(extraHeader)
	for _, c := range runColumns {
		head = append(head, c.name)
	}
	rows := [][]string{head}
	for i, r := range results {
		var row []string
		if i < len(extra) {
			row = slices.Clone(extra[i])
		}
		for _, c := range runColumns {
			row = append(row, c.get(r))
		}
		rows = append(rows, row)
	}
	return rows
}

func writeRunTable(w io.Writer, spec run.Spec, r run.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	st := spec.Step
	l := st.Layout
	fmt.Fprintf(tw, "scenario\t%s\n", r.Scenario)
	if spec.Description != "" {
		fmt.Fprintf(tw, "description\t%s%s\n", spec.Description, editedNote(spec))
	}
	fmt.Fprintf(tw, "model\t%s, %.4g billion parameters\n", st.Arch.Name, r.Params/1e9)
	fmt.Fprintf(tw, "cluster\t%s × %s\n", group(fmt.Sprint(st.Cluster.GPUs)), st.Cluster.GPU.Name)
	recompute := l.Recompute.String()
	if l.RecomputeElementwise {
		recompute += " (+ element-wise)"
	}
	if l.OffloadLayers > 0 {
		recompute += fmt.Sprintf(", %d layers' activations offloaded", l.OffloadLayers)
	}
	fmt.Fprintf(tw, "layout\ttp %d, pp %d (v %d), cp %d, dp %d, micro batch %d, recompute %s, ZeRO %d\n",
		l.TP, l.PP, l.VirtualStages, l.CP, l.DP, l.MicroBatch, recompute, l.ZeRO)
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "STEP\t")
	fmt.Fprintf(tw, "step time (s)\t%s (%s)\n", banded(num(r.StepTimeS), r), modelErrorWords(r, st.Cluster.GPU.Name, st.Training.Precision.String(), st.Arch.IsMoE()))
	fmt.Fprintf(tw, "tokens/s (cluster)\t%s\n", banded(num(r.TokensPerS), r))
	fmt.Fprintf(tw, "TFLOPS/GPU (model)\t%s\n", banded(num(r.TFLOPSPerGPU), r))
	fmt.Fprintf(tw, "MFU\t%.1f%%\n", 100*r.MFU)
	fmt.Fprintf(tw, "HFU\t%.1f%%\n", 100*r.HFU)
	fmt.Fprintf(tw, "memory (GiB/GPU, fullest stage)\t%s of %s\n", num(r.MemoryGiBPerGPU), num(st.Cluster.GPU.HBMGiB))
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "WHERE THE STEP GOES\ttime (s)\tshare")
	b := r.Breakdown
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"compute", b.Compute}, {"tensor-parallel comm", b.TPComm}, {"context-parallel comm", b.CPComm},
		{"expert-parallel comm", b.EPComm}, {"activation offload", b.Offload},
		{"pipeline bubble", b.PPBubble}, {"pipeline comm", b.PPComm}, {"data-parallel comm", b.DPComm},
		{"optimizer", b.Optimizer}, {"stragglers", b.Straggler},
	} {
		fmt.Fprintf(tw, "  %s\t%s\t%.1f%%\n", p.name, num(p.v), 100*p.v/r.StepTimeS)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "WHOLE RUN\t")
	fmt.Fprintf(tw, "tokens\t%s in %s steps\n", num(r.Tokens), num(r.Steps))
	fmt.Fprintf(tw, "wall clock (days)\t%s\n", bandedInterval(r.WallClockDays, r.WallClockDaysCI, r))
	fmt.Fprintf(tw, "GPU-hours\t%s\n", bandedInterval(r.GPUHours, r.GPUHoursCI, r))
	fmt.Fprintf(tw, "ETTR\t%s\n", interval(r.ETTR, r.ETTRCI, r.Trials))
	fmt.Fprintf(tw, "interruptions (unexpected)\t%s (%s/day)\n", num(r.Interruptions), num(r.InterruptionsPerDay))
	fmt.Fprintf(tw, "interruptions (planned)\t%s (%s/day)\n", num(r.PlannedInterruptions), num(r.PlannedPerDay))
	bp := r.Badput
	fmt.Fprintf(tw, "time lost (days)\trestarts %s, lost work %s, checkpoints %s, slow nodes %s, phase changes %s\n",
		num(bp.RestartDays), num(bp.LostWorkDays), num(bp.CheckpointDays), num(bp.SlowNodeDays), num(bp.PhaseChangeDays))
	if c := r.Checkpoint; c.IntervalS > 0 && c.IntervalS < 1e300 {
		fmt.Fprintf(tw, "checkpoint\tevery %s of training, %s GB, %s stall (MTBF %s)\n",
			plots.Duration(c.IntervalS), num(c.Bytes/1e9), plots.Duration(c.StallS), plots.Duration(c.MTBFS))
	}
	if r.EnergyMWh != nil {
		fmt.Fprintf(tw, "energy (MWh)\t%s\n", interval(r.EnergyMWh.Mean, *r.EnergyMWh, r.Trials))
	}
	if r.Cost != nil {
		fmt.Fprintf(tw, "cost\t%s\n", costWords(*r.Cost, r.Currency))
	}
	fmt.Fprintf(tw, "model FLOPs\t%s (6·N·D: %s; the difference is attention and the input embedding)\n", num(r.TotalFLOPs), num(r.SixNDFLOPs))
	if m := r.ModelError; m != nil {
		fmt.Fprintf(tw, "model error\t± %.1f%% on step time, throughput, days and GPU-hours (days scale with the step): %s; not a Monte Carlo interval\n", m.BandPct, m.Basis)
	}
	if len(r.Phases) > 1 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "PHASE\tGPUs\ttokens\tseq\trecompute\tstep (s)\tTFLOPS/GPU\tdays\tGPU-hours")
		for _, p := range r.Phases {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Name, group(fmt.Sprint(p.GPUs)), num(p.Tokens), p.SeqLen, p.Recompute,
				num(p.StepTimeS), num(p.TFLOPSPerGPU), num(p.WallClockDays), num(p.GPUHours))
		}
	}
	return tw.Flush()
}

func interval(mean float64, ci run.Interval, trials int) string {
	if trials <= 1 || ci.P5 == ci.P95 {
		return num(mean)
	}
	return fmt.Sprintf("%s (Monte Carlo 90%%: %s – %s)", num(mean), num(ci.P5), num(ci.P95))
}

// withModelError sets r's model-error band, from the validation suite's
// summary embedded in the binary (scenarios/validation, accuracy.json),
// for the scenario's GPU type and precision, and r's 6·N·D.
func withModelError(spec run.Spec, r *run.Result) { study.WithModelError(spec, r) }

// banded is a figure with the model-error band: "5.92 ± 7.8% model error".
func banded(v string, r run.Result) string {
	if r.ModelError == nil {
		return v
	}
	return fmt.Sprintf("%s ± %.1f%% model error", v, r.ModelErrorPct)
}

// modelErrorWords is where the band comes from, in a few words:
// "validated on 13 published h100-sxm fp8 runs, mean |error| 3.3%". The
// band of a mixture-of-experts model rests on MoE runs alone
// (validation.AccuracySummary.For), and the words say so.
func modelErrorWords(r run.Result, gpu, precision string, moe bool) string {
	m := r.ModelError
	if m == nil {
		return "no model-error band"
	}
	kind := ""
	if moe {
		kind = "MoE "
	}
	if !m.Exact {
		return fmt.Sprintf("no published %srun of this GPU and precision; overall band of %s published runs, mean |error| %.1f%%", kind, group(fmt.Sprint(m.Rows)), m.MeanAbsPct)
	}
	return fmt.Sprintf("validated on %s published %s %s %s%s, mean |error| %.1f%%", group(fmt.Sprint(m.Rows)), gpu, precision, kind, map[bool]string{true: "run", false: "runs"}[m.Rows == 1], m.MeanAbsPct)
}

// bandedInterval is a whole-run figure with the model-error band and the
// Monte Carlo interval, each labelled.
func bandedInterval(mean float64, ci run.Interval, r run.Result) string {
	s := banded(num(mean), r)
	if r.Trials > 1 && ci.P5 != ci.P95 {
		s += fmt.Sprintf("; Monte Carlo 90%%: %s – %s", num(ci.P5), num(ci.P95))
	}
	return s
}

// editedNote says which keys --set changed, since the description is the
// scenario's as written and may quote what they changed (a GPU count).
func editedNote(spec run.Spec) string {
	var keys []string
	for k, src := range spec.Sources {
		if src == scenarios.SetFile && k != "trials" && k != "seed" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	return " (as written; --set changed " + strings.Join(keys, ", ") + ")"
}

// costWords is a cost with its currency: "68.2M USD", or "68.2M (currency
// not set)" when the scenario gives a price without energy.currency.
func costWords(v float64, currency string) string {
	if currency == "" {
		return num(v) + " (currency not set)"
	}
	return num(v) + " " + currency
}
