package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/scenarios/validation"
	"github.com/clustersim/clustersim/sim/run"
)

type reportOptions struct {
	scenario string
	sets     []string // --set, --trials and --seed as overrides
	out      string   // file, or "-" for stdout
}

func newReportCmd(io *streams, runF func(context.Context, *reportOptions) error) *cobra.Command {
	o := &reportOptions{}
	var a scenarioArgs
	cmd := &cobra.Command{
		Use:   "report SCENARIO --out FILE.html",
		Short: "Write a self-contained HTML page for a capacity-planning review",
		Long: `Simulate a scenario and the sweeps around it and write one self-contained
HTML page for a review: the answer first (days, GPU-hours, TFLOPS/GPU, MFU and
ETTR, with 90% intervals over the Monte Carlo trials and, separately, the
model-error band of the GPU type and precision from 'clustersim validate'),
then the charts (as 'clustersim plot' draws them, inline), the step's
breakdown, the phases, the scenario as run (YAML), the assumptions and their
sources, and the validation table (by-construction rows marked as such, not
as accuracy). The page fetches nothing and prints cleanly.`,
		Example: `  clustersim report llama3-405b --out review.html
  clustersim report llama3-405b-pretrain --trials 50 --out pretrain.html
  clustersim report my.yaml --set cluster.gpus=8192 --out - > review.html`,
		Args:              positional(cobra.ExactArgs(1)),
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scenario = args[0]
			sets, err := a.overrides(cmd)
			if err != nil {
				return err
			}
			o.sets = sets
			if o.out == "" {
				return usagef("--out FILE.html is required (- for standard output)")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runReport(cmd.Context(), io, o)
		},
	}
	a.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "file to write, or - for standard output")
	return cmd
}

func runReport(ctx context.Context, io *streams, o *reportOptions) error {
	prog := newProgress(io)
	// The validation table runs beside the review, sharing its steps (the
	// reference cases include the built-in scenarios' layouts); an early
	// return stops it.
	cache := &study.StepCache{}
	type validated struct {
		rows []validation.Row
		err  error
	}
	vctx, cancel := context.WithCancel(ctx)
	defer cancel()
	vc := make(chan validated, 1)
	go func() {
		rows, err := validation.RunWith(vctx, validation.Cases(), cache.Simulate)
		vc <- validated{rows, err}
	}()
	f, err := gatherReview(ctx, o.scenario, o.sets, prog, io.limits.budget(), cache)
	if err != nil {
		return err
	}
	charts, err := f.charts()
	if err != nil {
		return err
	}
	withModelError(f.Spec, &f.Result)
	v := <-vc
	rows, err := v.rows, v.err
	if err != nil {
		return err
	}
	yaml, err := scenarios.Marshal(f.Scenario)
	if err != nil {
		return err
	}
	d := plots.ReportData{
		Scenario:     f.Result.Scenario,
		Description:  f.Spec.Description,
		Question:     question(f.Spec, f.Result),
		Model:        f.Spec.Step.Arch.Name,
		GPU:          f.Spec.Step.Cluster.GPU.Name,
		Layout:       layoutWords(f.Spec.Step.Layout),
		Command:      commandLine("report", o.scenario, o.sets),
		Result:       f.Result,
		Charts:       charts,
		ScenarioYAML: string(yaml),
		Assumptions:  assumptions(f.Spec, f.Result),
		Notes:        f.Notes,
		Constants:    constants(f.Spec),
		Provenance:   provenance(o.scenario),
	}
	f.answers(&d)
	for _, r := range rows {
		d.Validation = append(d.Validation, plots.ValidationRow{Case: r.Case, Metric: r.Metric, Bound: r.Bound, Published: r.Published, Predicted: r.Predicted, ErrorPct: r.ErrorPct, Source: r.Source, ByConstruction: r.ByConstruction})
	}
	return writeOut(io, o.out, func(w writer) error { return plots.Report(w, d) })
}

func createFile(path string) (*os.File, error) { return os.Create(path) }

// question is the question the report answers.
func question(s run.Spec, r run.Result) string {
	return fmt.Sprintf("How long does training %s on %s tokens take on %s × %s, and at what cost in GPU-hours, throughput and failures?",
		s.Step.Arch.Name, plots.Human(r.Tokens), group(fmt.Sprint(r.GPUs)), s.Step.Cluster.GPU.Name)
}

// commandLine reproduces the command that made a page.
func commandLine(cmd, scenario string, sets []string) string {
	parts := []string{"clustersim", cmd, scenario}
	for _, s := range sets {
		parts = append(parts, "--set", s)
	}
	return strings.Join(parts, " ")
}

// assumptions are the modelling choices behind the numbers, with the
// scenario's own values where it has them.
func assumptions(s run.Spec, r run.Result) []plots.Assumption {
	st := s.Step
	gpu := st.Cluster.GPU
	ck := r.Checkpoint
	fs := s.Failures
	var out []plots.Assumption
	add := func(topic, source, format string, args ...any) {
		out = append(out, plots.Assumption{Topic: topic, Text: fmt.Sprintf(format, args...), Source: source})
	}
	add("Model FLOPs", "PaLM (arXiv:2204.02311) App. B; Llama 3 (arXiv:2407.21783) §3.3; MODEL.md",
		"TFLOPS/GPU and MFU count model FLOPs: 6·N per token for every parameter in a matrix product plus 6·L·s·h for causal attention (QKᵀ and AV, halved by the mask); recomputation counts only in HFU. MFU divides by %s's dense %s peak. Conventions that count non-causal attention report up to ~8%% more.",
		gpu.Name, st.Training.Precision)
	if m := r.ModelError; m != nil {
		add("Model error", "clustersim validate (scenarios/validation, accuracy.json): NVIDIA NeMo and Megatron-Bridge tables, vTrain, Llama 3 Table 4, Megatron SC21 Table 1",
			"± %.1f%% on the step time: %s. TFLOPS, days and GPU-hours scale with the step and carry the same band; the Monte Carlo intervals are the spread of failures over trials and leave it out.",
			m.BandPct, m.Basis)
	}
	add("Compute", "cluster/calibration/measure.py and its H100 SXM runs of 2026-11-26 (cluster/testdata)",
		"Matrix products run at a shape-dependent efficiency fitted to measured GEMMs (large bf16 products %.1f%% of %s's peak); attention has its own fitted efficiency (%.1f%% forward, %.1f%% backward); element-wise kernels are memory bound.",
		100*gpu.Compute.GEMMEfficiency, gpu.Name, 100*gpu.Compute.AttnFwdEfficiency, 100*gpu.Compute.AttnBwdEfficiency)
	add("Communication", "nccl-tests bus bandwidths (cluster/gpu.go); Llama 3 §3.3.1 for the fabric",
		"Collectives use the alpha-beta model with the bus bandwidth NCCL achieves, not the line rate: NVLink inside a node, %g Gb/s per GPU inside %d-node pods, divided by %g between pods; %g µs latency per hop.",
		st.Cluster.Network.ScaleOutGbps, st.Cluster.Network.NodesPerPod, st.Cluster.Network.Oversubscription, st.Cluster.Network.LatencyS*1e6)
	add("Parallelism", "Megatron-LM (arXiv:2104.04473); Korthikanti et al. (arXiv:2205.05198); Llama 3 §3.3.2",
		"Ranks ordered [TP, CP, PP, DP]; %s. The pipeline runs Megatron's 1F1B (interleaved) schedule as discrete events; the bubble and the overlap of communication emerge from them.",
		layoutWords(st.Layout))
	add("Memory", "Korthikanti et al. 2022 Table 2 (arXiv:2205.05198), adapted for SwiGLU and GQA; sim/model",
		"Weights 2 bytes/parameter, gradients %d, fp32 master weights and Adam 12, divided by ZeRO's sharding; activations tensor by tensor per micro batch in flight; 2 GiB reserved for CUDA, NCCL and workspaces. Capacity %s GiB.",
		st.Training.GradBytes, sig3(gpu.HBMGiB))
	add("Stragglers", "sim/step (2% from repeated timings in the calibration runs; GPU spread from Sinha et al., SC22)",
		"Each activity's time is scaled by a lognormal factor with CV %.1f%%, each GPU has a persistent speed spread of %.1f%%, and a collective waits for its slowest member; the step's straggler time is the mean noisy step minus the noiseless one.",
		100*st.Noise.CV, 100*st.Noise.GPUCV)
	var causes []string
	for _, c := range fs.Profile.Causes {
		causes = append(causes, fmt.Sprintf("%s %.3g per %s", c.Name, c.RatePerDay, c.Unit))
	}
	profileSource := "the scenario's own profile"
	if fs.Profile.Name == "llama3" {
		profileSource = "Llama 3 (arXiv:2407.21783) §3.3.4, Table 5: 419 unexpected and 47 planned interruptions in 54 days on 16,384 GPUs, by count"
	}
	if len(causes) > 0 {
		add("Failure profile", profileSource,
			"Profile %q: interruptions arrive as Poisson processes, each cause's rate times the hardware the job holds (%s GPUs, %s nodes): %.3g unexpected interruptions per day, MTBF %s. Rates per unit per day: %s.",
			fs.Profile.Name, group(fmt.Sprint(st.Cluster.GPUs)), group(fmt.Sprint(st.Cluster.Nodes())), r.InterruptionsPerDay, plots.Duration(ck.MTBFS), strings.Join(causes, "; "))
	} else {
		add("Failure profile", profileSource, "No failures: profile %q.", fs.Profile.Name)
	}
	interval := "set by the scenario"
	if fs.CheckpointIntervalS <= 0 {
		interval = "Young/Daly's √(2·δ·MTBF)"
	}
	add("Checkpoints and restarts", "Young 1974, Daly 2006; Llama 3 §3.3.4 (2 TB/s sustained storage); Kokolis et al. 2024 (arXiv:2410.21680) as a test oracle",
		"A checkpoint saves %d bytes per parameter (%s TB) at min(storage %s TB/s, the GPUs' NICs): %s to write, training stalled %s each (%s). Interval %s (%s). Each interruption costs %s of restart plus the work since the last checkpoint.",
		run.CheckpointBytesPerParam, sig3(ck.Bytes/1e12), sig3(fs.StorageBandwidth/1e12), plots.Duration(ck.WriteS), plots.Duration(ck.StallS), map[bool]string{true: "asynchronous", false: "synchronous"}[fs.AsyncCheckpoint],
		plots.Duration(ck.IntervalS), interval, plots.Duration(fs.RestartS))
	return out
}

func sig3(v float64) string { return fmt.Sprintf("%.3g", v) }

// constants are the hardware constants of the run's GPU, as the model uses
// them (cluster.GPU).
func constants(s run.Spec) []plots.Constant {
	g := s.Step.Cluster.GPU
	c := g.Compute
	src := "cluster/gpu.go, cluster/compute.go (" + g.Name + ")"
	pct := func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }
	return []plots.Constant{
		{Name: "GEMM efficiency, large bf16 products", Value: pct(c.GEMMEfficiency) + " of peak", Source: src},
		{Name: "attention efficiency, forward / backward", Value: pct(c.AttnFwdEfficiency) + " / " + pct(c.AttnBwdEfficiency), Source: src},
		{Name: "HBM capacity", Value: sig3(g.HBMGiB) + " GiB", Source: src},
		{Name: "TDP", Value: sig3(g.TDPWatts) + " W", Source: src},
		{Name: "GPUs per node", Value: fmt.Sprint(g.GPUsPerNode), Source: src},
		{Name: "scale-out bandwidth per GPU", Value: sig3(s.Step.Cluster.Network.ScaleOutGbps) + " Gb/s", Source: "the scenario's cluster.network"},
	}
}

// provenance is the build and the scenario file behind a page.
func provenance(scenario string) *plots.Provenance {
	p := &plots.Provenance{Date: reportTime().UTC().Format("2006-01-02 15:04 UTC"), ScenarioPath: scenario}
	if bi, ok := debug.ReadBuildInfo(); ok {
		p.Version = bi.Main.Version
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				p.Revision = kv.Value + p.Revision
			case "vcs.modified":
				if kv.Value == "true" {
					p.Revision += "+dirty"
				}
			}
		}
	}
	if b, err := os.ReadFile(scenario); err == nil {
		p.ScenarioFile = string(b)
	}
	return p
}

// reportTime is when the page is made: now, or SOURCE_DATE_EPOCH (seconds
// since 1970, the reproducible-builds convention) when it is set, so that
// the same scenario and seed can give the same bytes.
func reportTime() time.Time {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(sec, 0)
		}
	}
	return time.Now()
}
