package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
)

// TestSweepFlags is the first layer: argv → options.
func TestSweepFlags(t *testing.T) {
	io, _, _ := testStreams()
	var got *sweepOptions
	cmd := newSweepCmd(io, func(_ context.Context, o *sweepOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"llama3-405b", "--set", "cluster.gpus=4096,8192", "--set", "parallelism.zero=0,1", "--trials", "5", "--seed", "9",
		"--format", "csv", "--shard", "1/4", "--out", "s.json", "--metric", "mfu"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := sweepOptions{scenario: "llama3-405b", sets: []string{"cluster.gpus=4096,8192", "parallelism.zero=0,1"}, trials: 5, seed: 9,
		fixed: []string{"trials=5", "seed=9"}, format: "csv", shard: "1/4", out: "s.json", metric: "mfu"}
	if got.scenario != want.scenario || !slices.Equal(got.sets, want.sets) || !slices.Equal(got.fixed, want.fixed) || got.format != want.format ||
		got.shard != want.shard || got.out != want.out || got.metric != want.metric || got.plot != "" {
		t.Errorf("options %+v, want %+v", *got, want)
	}

	var merged *mergeOptions
	mc := newMergeCmd(io, func(_ context.Context, o *mergeOptions) error { merged = o; return nil })
	mc.SetArgs([]string{"a.json", "b.json", "--plot", "x.svg", "-f", "json"})
	if err := mc.Execute(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(merged.files, []string{"a.json", "b.json"}) || merged.plot != "x.svg" || merged.format != "json" || merged.metric != "tokens_per_s" {
		t.Errorf("merge options %+v", *merged)
	}
}

func TestSweepBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"sweep", "llama3-8b"}, "nothing to sweep"},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus"}, `want path=v1,v2,...`},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=8,,16"}, "empty value"},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64,lots"}, `sweep: cluster.gpus: value "lots": bad whole number "lots"`},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpu=h100-sxm,h1000"}, `value "h1000": unknown gpu "h1000"`},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64,100"}, `value "100": 100 must be a multiple of gpus_per_node (8)`},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpux=64"}, `--set cluster.gpux: unknown key "gpux" in "cluster.gpux" (did you mean "gpu"?)`},
		{[]string{"sweep", "llama3-8b", "--set", "parallelism.tp=2,3"}, `value "3": 3 must divide the model's 32 attention heads`},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64", "--shard", "4/4"}, "--shard \"4/4\": want i/n with 0 <= i < n"},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64", "--out", "x.json"}, "use it with --shard"},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64", "--plot", "x.gif"}, "want a .png, .svg or .pdf file"},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64", "--metric", "speed"}, `--metric "speed": want one of gpus, params`},
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=64,128", "--set", "parallelism.tp=1,2", "--set", "parallelism.zero=0,1", "--plot", "x.png"}, "this one varies 3 keys"},
		// Neither point fits its tp 2 × pp 16 or 32 on 8 GPUs: no point runs.
		{[]string{"sweep", "llama3-8b", "--set", "cluster.gpus=8", "--set", "parallelism.pp=16,32"}, "no point of the sweep could run"},
		{[]string{"merge"}, "requires at least 1 arg(s)"},
		{[]string{"merge", "testdata/gpt-530b.yaml"}, "is not a sweep shard file"},
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

// sweepJSON runs a sweep and decodes its JSON rows.
func sweepJSON(t *testing.T, o *sweepOptions) []map[string]any {
	t.Helper()
	io, out, _ := testStreams()
	o.format = "json"
	if o.metric == "" {
		o.metric = "tokens_per_s"
	}
	if err := runSweep(context.Background(), io, o); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rows
}

// TestSweepGPUs: three GPU counts give three rows, in order, with the
// cluster's tokens per second increasing (data parallelism over more
// GPUs; llama3-8b leaves dp out, so it follows the GPUs).
func TestSweepGPUs(t *testing.T) {
	rows := sweepJSON(t, &sweepOptions{scenario: "llama3-8b", sets: []string{"cluster.gpus=256,512,1024"}, fixed: []string{"trials=3"}})
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	prev := 0.0
	for i, r := range rows {
		set := r["set"].(map[string]any)
		if gpus := set["cluster.gpus"].(float64); gpus != float64(int(256)<<i) || r["gpus"].(float64) != gpus {
			t.Errorf("row %d: set %v, gpus %v", i, set, r["gpus"])
		}
		tps := r["tokens_per_s"].(float64)
		if tps <= prev {
			t.Errorf("row %d: %.0f tokens/s, not above %.0f", i, tps, prev)
		}
		prev = tps
		for _, k := range []string{"step_time_s", "tflops_per_gpu", "mfu", "wall_clock_days", "ettr", "breakdown_s"} {
			if _, ok := r[k]; !ok {
				t.Errorf("row %d lacks %q", i, k)
			}
		}
	}
}

// TestSweepBlock: a scenario's sweep: block is swept; a --set on one of
// its keys replaces that key's values; some points may fail.
func TestSweepBlock(t *testing.T) {
	rows := sweepJSON(t, &sweepOptions{scenario: "testdata/sweep-8b.yaml"})
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 3 × 2", len(rows))
	}
	set := rows[1]["set"].(map[string]any)
	if set["cluster.gpus"] != 256.0 || set["cluster.network.oversubscription"] != 4.0 {
		t.Errorf("point 1: %v (the last key varies fastest)", set)
	}
	// Without recomputation a micro batch of 4 does not fit in memory:
	// that point's row says so.
	rows = sweepJSON(t, &sweepOptions{scenario: "testdata/sweep-8b.yaml", sets: []string{"cluster.gpus=512", "parallelism.micro_batch=1,4", "parallelism.recompute=none"}})
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 1 × 2 × 2", len(rows))
	}
	if _, ok := rows[0]["error"]; ok {
		t.Errorf("micro batch 1 failed: %v", rows[0]["error"])
	}
	if msg, _ := rows[1]["error"].(string); !strings.Contains(msg, "sweep-8b.yaml:12: parallelism: needs 106.5 GiB per GPU") {
		t.Errorf("micro batch 4: error %q", msg)
	}
	// The scenario leaves recompute out (auto): the same point recomputes
	// what it must and runs.
	rows = sweepJSON(t, &sweepOptions{scenario: "testdata/sweep-8b.yaml", sets: []string{"cluster.gpus=512", "parallelism.micro_batch=4"}})
	if msg, ok := rows[0]["error"]; len(rows) != 2 || ok {
		t.Errorf("micro batch 4 with recompute auto: %d rows, error %v", len(rows), msg)
	}
}

// TestShardMerge: the shards of a sweep, merged, give the unsharded
// sweep's output byte for byte, in every format; merge refuses missing,
// repeated, foreign and interrupted shards.
func TestShardMerge(t *testing.T) {
	dir := t.TempDir()
	sets := []string{"cluster.gpus=256,512,1024", "cluster.network.oversubscription=1,4", "parallelism.zero=1,3"}
	base := func() *sweepOptions {
		return &sweepOptions{scenario: "testdata/sweep-8b.yaml", sets: sets, fixed: []string{"trials=2"}, metric: "tokens_per_s"}
	}
	const shards = 3
	var files []string
	for i := range shards {
		o := base()
		o.shard, o.out = fmt.Sprintf("%d/%d", i, shards), filepath.Join(dir, fmt.Sprintf("s%d.json", i))
		io, out, errb := testStreams()
		if err := runSweep(context.Background(), io, o); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 || !strings.Contains(errb.String(), "wrote 4 of 12 points") {
			t.Errorf("shard %d: stdout %q, stderr %q", i, out, errb)
		}
		files = append(files, o.out)
	}
	for _, f := range []format{"table", "json", "csv"} {
		o := base()
		o.format = f
		io, whole, _ := testStreams()
		if err := runSweep(context.Background(), io, o); err != nil {
			t.Fatal(err)
		}
		io, merged, _ := testStreams()
		// In any order.
		if err := runMerge(io, &mergeOptions{files: []string{files[2], files[0], files[1]}, format: f, metric: "tokens_per_s"}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole.Bytes(), merged.Bytes()) {
			t.Errorf("%s: merged shards differ from the sweep:\n%s\nmerged:\n%s", f, whole, merged)
		}
	}

	// Merge refuses what does not make a whole sweep.
	other := base()
	other.sets = []string{"cluster.gpus=256,512"}
	other.shard, other.out = "0/3", filepath.Join(dir, "other.json")
	io, _, _ := testStreams()
	if err := runSweep(context.Background(), io, other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		files []string
		msg   string
	}{
		{files[:2], "missing shards 2/3"},
		{[]string{files[0], files[1], files[1]}, "shard 1/3 is in both"},
		{[]string{files[0], files[1], other.out}, "comes from another sweep"},
	} {
		io, _, _ := testStreams()
		err := runMerge(io, &mergeOptions{files: c.files, format: "table", metric: "tokens_per_s"})
		if exitCode(err) != exitUsage || !strings.Contains(fmt.Sprint(err), c.msg) {
			t.Errorf("merge %v: %v (exit %d), want %q", c.files, err, exitCode(err), c.msg)
		}
	}
}

// TestSweepInterrupted: Ctrl-C keeps what finished (nothing, here: the
// context is cancelled before the first point) and exits 130; a shard run
// writes an incomplete shard that merge refuses.
func TestSweepInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	io, out, _ := testStreams()
	o := &sweepOptions{scenario: "llama3-8b", sets: []string{"cluster.gpus=256,512"}, format: "csv", metric: "tokens_per_s"}
	err := runSweep(ctx, io, o)
	if exitCode(err) != exitInterrupted || !strings.Contains(err.Error(), "interrupted: printed the 0 of 2 points that finished") {
		t.Errorf("err %v, exit %d", err, exitCode(err))
	}
	if lines := strings.Count(out.String(), "\n"); lines != 1 {
		t.Errorf("want the CSV header alone, got:\n%s", out)
	}
	dir := t.TempDir()
	o.shard, o.out = "0/1", filepath.Join(dir, "s.json")
	if err := runSweep(ctx, io, o); exitCode(err) != exitInterrupted {
		t.Fatalf("shard: %v", err)
	}
	err = runMerge(io, &mergeOptions{files: []string{o.out}, format: "table", metric: "tokens_per_s"})
	if !strings.Contains(fmt.Sprint(err), "of an interrupted run: 2 of its points are missing") {
		t.Errorf("merge of an interrupted shard: %v", err)
	}
}

// TestSweepPlot: --plot writes a line chart for one swept key and a heat
// map for two, as PNG or SVG by the extension.
func TestSweepPlot(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		file  string
		sets  []string
		magic string
	}{
		{"line.png", []string{"cluster.gpus=256,512,1024"}, "\x89PNG"},
		{"heat.svg", []string{"cluster.gpus=256,512", "parallelism.micro_batch=1,2,4"}, "<?xml"},
	} {
		o := &sweepOptions{scenario: "llama3-8b", sets: c.sets, fixed: []string{"trials=1"}, format: "csv",
			plot: filepath.Join(dir, c.file), metric: "mfu"}
		io, _, _ := testStreams()
		if err := runSweep(context.Background(), io, o); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(o.plot)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(c.magic)) || len(b) < 1000 {
			t.Errorf("%s: %d bytes starting %q", c.file, len(b), b[:min(len(b), 8)])
		}
		if c.magic == "<?xml" && !strings.Contains(string(b), "failed") {
			t.Errorf("%s: the failed points (micro batch 4) are not marked", c.file)
		}
	}
}

// TestRunIgnoresSweepBlock: run simulates a sweep scenario's base point.
func TestRunIgnoresSweepBlock(t *testing.T) {
	stdout, stderr, code := invokeMain(t, "run", "testdata/sweep-8b.yaml", "--format", "json", "--trials", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if r["gpus"] != 256.0 {
		t.Errorf("gpus %v, want the base point's 256", r["gpus"])
	}
	if _, sc, err := scenarios.Resolve("testdata/sweep-8b.yaml"); err != nil || len(sc.Sweep) != 2 {
		t.Errorf("sweep block %v, %v", sc.Sweep, err)
	}
}
