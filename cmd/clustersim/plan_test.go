package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/sim/plan"
)

// invokeMain runs the command line and returns its output and exit status.
func invokeMain(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// testStreams are fake streams: stdout and stderr into buffers, not a
// terminal.
func testStreams() (*streams, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &streams{in: strings.NewReader(""), out: &out, err: &errb}, &out, &errb
}

// TestPlanFlags is the first layer: argv → options.
func TestPlanFlags(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want planOptions
	}{
		{"defaults", []string{"llama3-405b"},
			planOptions{scenario: "llama3-405b", top: plan.DefaultTop, microBatches: plan.DefaultMicroBatches, format: "table"}},
		{"everything", []string{"my.yaml", "--gpus", "8192", "--top", "3", "--allow-cross-node-tp", "--micro-batches", "1,2,16",
			"--max-cp", "4", "--exhaustive", "--set", "training.seq_len=4096", "--set", "trials=1", "-f", "json"},
			planOptions{scenario: "my.yaml", sets: []string{"training.seq_len=4096", "trials=1"}, gpus: 8192, top: 3, crossNodeTP: true,
				microBatches: []int{1, 2, 16}, maxCP: 4, exhaustive: true, format: "json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			io, _, _ := testStreams()
			var got *planOptions
			cmd := newPlanCmd(io, func(_ context.Context, o *planOptions) error { got = o; return nil })
			cmd.SetArgs(c.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got.scenario != c.want.scenario || !slices.Equal(got.sets, c.want.sets) || got.gpus != c.want.gpus || got.top != c.want.top ||
				got.crossNodeTP != c.want.crossNodeTP || !slices.Equal(got.microBatches, c.want.microBatches) || got.maxCP != c.want.maxCP ||
				got.exhaustive != c.want.exhaustive || got.format != c.want.format {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

// TestPlanBadInput: bad input exits 2 with a message that says what is
// wrong.
func TestPlanBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"plan"}, "accepts 1 arg(s), received 0"},
		{[]string{"plan", "llama3-405b", "--top", "0"}, "--top 0: want at least 1"},
		{[]string{"plan", "llama3-405b", "--gpus", "-8"}, "--gpus -8: want at least 1"},
		{[]string{"plan", "llama3-405b", "--micro-batches", "0"}, "want sizes of at least 1"},
		{[]string{"plan", "llama3-405b", "--format", "yaml"}, `unknown format "yaml" (valid: table, json, csv)`},
		{[]string{"plan", "llama3-406b"}, `unknown scenario "llama3-406b" (did you mean "llama3-405b"?)`},
		{[]string{"plan", "llama3-405b", "--gpus", "12"}, "cluster.gpus: 12 must be a multiple of gpus_per_node (8)"},
		{[]string{"plan", "llama3-405b", "--gpus", "8"}, "no layout of llama3-405b fits on 8 × h100-sxm ("},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, stderr, code := invokeMain(t, c.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d; stderr: %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, c.msg) {
				t.Errorf("stderr %q lacks %q", stderr, c.msg)
			}
		})
	}
}

func TestPlanHelp(t *testing.T) {
	stdout, _, code := invokeMain(t, "plan", "--help")
	if code != 0 || !strings.Contains(stdout, "Examples:") || !strings.Contains(stdout, "clustersim plan llama3-405b") {
		t.Errorf("exit %d, help:\n%s", code, stdout)
	}
}

// TestPlanLlama405 is the second layer, options → output: on Llama 3
// 405B's cluster the plan finds a layout at least as fast as Table 4's
// (the scenario's layout) and shows both; every listed layout fits.
func TestPlanLlama405(t *testing.T) {
	io, out, _ := testStreams()
	if err := runPlan(context.Background(), io, &planOptions{scenario: "llama3-405b", top: 10, format: "json"}); err != nil {
		t.Fatal(err)
	}
	var res plan.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Layouts) != 10 || res.Baseline == nil {
		t.Fatalf("%d layouts, baseline %v", len(res.Layouts), res.Baseline)
	}
	if res.Layouts[0].StepTimeS > res.Baseline.StepTimeS {
		t.Errorf("best %.4f s is slower than Table 4's %.4f s", res.Layouts[0].StepTimeS, res.Baseline.StepTimeS)
	}
	for _, l := range res.Layouts {
		if l.MemoryGiBPerGPU > 80 || l.TP*l.PP*l.CP*l.DP != 16384 {
			t.Errorf("rank %d needs %.1f GiB on %d GPUs", l.Rank, l.MemoryGiBPerGPU, l.TP*l.PP*l.CP*l.DP)
		}
	}
	// CONTRACT.md's keys.
	var raw map[string]any
	_ = json.Unmarshal(out.Bytes(), &raw)
	for _, k := range []string{"evaluated", "feasible", "layouts"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in the JSON", k)
		}
	}
	first := raw["layouts"].([]any)[0].(map[string]any)
	for _, k := range []string{"tp", "pp", "cp", "dp", "micro_batch", "virtual_stages", "recompute", "zero", "step_time_s", "tflops_per_gpu", "mfu", "memory_gib_per_gpu", "wall_clock_days"} {
		if _, ok := first[k]; !ok {
			t.Errorf("no %q in a layout", k)
		}
	}

	// The table shows the ranking, the scenario's layout and the rejections.
	io, out, _ = testStreams()
	if err := runPlan(context.Background(), io, &planOptions{scenario: "llama3-405b", top: 3, format: "table"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"TP  PP  CP  DP", "scenario  8   16  1   128", "the best is", "REJECTED", "does not fit in GPU memory"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}

// TestPlanCSV: one table, its rows told apart by section.
func TestPlanCSV(t *testing.T) {
	io, out, _ := testStreams()
	if err := runPlan(context.Background(), io, &planOptions{scenario: "llama3-8b", gpus: 64, top: 4, format: "csv"}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows[1:] {
		count[r[0]]++
		if len(r) != len(rows[0]) {
			t.Errorf("row %v has %d fields of %d", r, len(r), len(rows[0]))
		}
	}
	if count["total"] != 3 || count["layout"] != 4 || count["baseline"] != 1 || count["rejected"] < 1 {
		t.Errorf("sections %v", count)
	}
}

// TestPlanInterrupted: Ctrl-C prints what was simulated and exits 130.
func TestPlanInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io, out, _ := testStreams()
	err := runPlan(ctx, io, &planOptions{scenario: "llama3-8b", gpus: 64, top: 4, format: "table"})
	if exitCode(err) != exitInterrupted {
		t.Errorf("exit status %d (%v), want %d", exitCode(err), err, exitInterrupted)
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("output does not say it was interrupted:\n%s", out)
	}
}

// BenchmarkPlanCommand times the whole command, YAML to JSON, for
// Calculon's 530B GPT on 5,120 A100s (testdata/gpt-530b.yaml), and reports
// the layouts evaluated per second of wall time.
func BenchmarkPlanCommand(b *testing.B) {
	var res plan.Result
	for b.Loop() {
		var out bytes.Buffer
		if code := Main([]string{"plan", "testdata/gpt-530b.yaml", "--format", "json"}, strings.NewReader(""), &out, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res.Evaluated)*float64(b.N)/b.Elapsed().Seconds(), "layouts/s")
	b.ReportMetric(float64(res.Evaluated), "layouts")
	b.ReportMetric(float64(res.Feasible), "feasible")
}

// TestPlanDaysMatchRun is issue 8's acceptance check: plan ranks by
// expected time to train with stragglers, and each of its top layouts' DAYS
// is what `clustersim run` reports for that layout (same scenario, trials
// and seed) within 1%.
func TestPlanDaysMatchRun(t *testing.T) {
	sets, top := []string{"trials=20"}, 3
	if testing.Short() {
		sets, top = []string{"trials=2"}, 1 // the same check on the best layout with two trials
	}
	io, out, _ := testStreams()
	if err := runPlan(context.Background(), io, &planOptions{scenario: "llama3-405b", sets: sets, top: top, microBatches: plan.DefaultMicroBatches, format: "json"}); err != nil {
		t.Fatal(err)
	}
	var res plan.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Layouts) != top {
		t.Fatalf("%d layouts", len(res.Layouts))
	}
	for _, l := range res.Layouts {
		if l.StepTimeS <= l.NoiselessStepTimeS {
			t.Errorf("rank %d: step %.4f s not above the noiseless %.4f s: stragglers left out", l.Rank, l.StepTimeS, l.NoiselessStepTimeS)
		}
		args := []string{"run", "llama3-405b", "--format", "json"}
		for _, s := range append(slices.Clone(sets),
			fmt.Sprintf("parallelism.tp=%d", l.TP), fmt.Sprintf("parallelism.pp=%d", l.PP), fmt.Sprintf("parallelism.cp=%d", l.CP),
			fmt.Sprintf("parallelism.micro_batch=%d", l.MicroBatch), fmt.Sprintf("parallelism.virtual_stages=%d", l.VirtualStages),
			"parallelism.recompute="+l.Recompute, fmt.Sprintf("parallelism.recompute_elementwise=%t", l.RecomputeElementwise),
			fmt.Sprintf("parallelism.zero=%d", l.ZeRO), fmt.Sprintf("parallelism.sequence_parallel=%t", l.SequenceParallel),
			fmt.Sprintf("parallelism.tp_comm_overlap=%t", l.TPCommOverlap), fmt.Sprintf("parallelism.dp_comm_overlap=%t", l.DPCommOverlap)) {
			args = append(args, "--set", s)
		}
		stdout, stderr, code := invokeMain(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var r struct {
			StepTimeS     float64 `json:"step_time_s"`
			WallClockDays float64 `json:"wall_clock_days"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(l.WallClockDays/r.WallClockDays - 1); d > 0.01 {
			t.Errorf("rank %d: plan says %.3f days, run %.3f days (%.2f%% apart)", l.Rank, l.WallClockDays, r.WallClockDays, 100*d)
		}
		if math.Abs(l.StepTimeS/r.StepTimeS-1) > 1e-9 {
			t.Errorf("rank %d: plan's step %.6f s, run's %.6f s", l.Rank, l.StepTimeS, r.StepTimeS)
		}
		t.Logf("rank %d: plan %.3f days, run %.3f days", l.Rank, l.WallClockDays, r.WallClockDays)
	}
}
