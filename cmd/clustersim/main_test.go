package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// runMain executes the command line with fake streams.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// TestRunArgs checks argv → options without running anything.
func TestRunArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want runOptions
	}{
		{"plain", []string{"llama3-405b"}, runOptions{scenario: "llama3-405b", format: "table"}},
		{"sets and format", []string{"x.yaml", "--set", "cluster.gpus=8192", "--set", "parallelism.pp=8", "-f", "json"},
			runOptions{scenario: "x.yaml", sets: []string{"cluster.gpus=8192", "parallelism.pp=8"}, format: "json"}},
		{"trials and seed become sets", []string{"llama3-8b", "--trials", "7", "--seed", "3", "--format", "csv"},
			runOptions{scenario: "llama3-8b", sets: []string{"trials=7", "seed=3"}, trials: 7, seed: 3, format: "csv"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got *runOptions
			cmd := newRunCmd(&streams{}, func(o *runOptions) error { got = o; return nil })
			cmd.SetArgs(c.args)
			cmd.SetContext(context.Background())
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got.scenario != c.want.scenario || !slices.Equal(got.sets, c.want.sets) || got.format != c.want.format ||
				got.trials != c.want.trials || got.seed != c.want.seed {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string // a part of the message
	}{
		{"unknown scenario", []string{"run", "no-such-scenario"}, 2, "unknown scenario"},
		{"unknown key via --set", []string{"run", "llama3-8b", "--set", "parallelism.tpp=2"}, 2, `did you mean "tp"`},
		// The 405B on one pipeline stage: 405.9e9/8 parameters at 2 + 4 bytes
		// alone exceed 80 GiB.
		{"does not fit", []string{"run", "llama3-405b", "--set", "parallelism.pp=1"}, 2, "but h100-sxm has 80.0 GiB"},
		{"product", []string{"run", "llama3-405b", "--set", "parallelism.dp=100"}, 2, "must equal cluster.gpus"},
		{"bad format", []string{"run", "llama3-8b", "--format", "xml"}, 2, `unknown format "xml"`},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"missing argument", []string{"run"}, 2, "accepts 1 arg"},
		{"unknown flag", []string{"run", "llama3-8b", "--nope"}, 2, "unknown flag"},
		{"napkin without params", []string{"napkin", "--tokens", "1T"}, 2, "--params is required"},
		{"napkin bad number", []string{"napkin", "--params", "lots", "--tokens", "1T"}, 2, "want a positive number"},
		{"missing file", []string{"run", "/nonexistent/dir/x.yaml"}, 2, "x.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runMain(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, c.code, c.stderr)
			}
		})
	}
}

// TestRunJSONKeys checks the contract's `run --format json` keys.
func TestRunJSONKeys(t *testing.T) {
	out, stderr, code := runMain(t, "run", "llama3-8b", "--trials", "5", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"scenario", "gpus", "params", "step_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "hfu",
		"memory_gib_per_gpu", "breakdown_s", "wall_clock_days", "gpu_hours", "ettr", "interruptions",
		"interruptions_per_day", "interruptions_by_cause", "total_flops", "six_nd_flops", "trials", "seed", "model_error_pct"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	b := m["breakdown_s"].(map[string]any)
	sum := 0.0
	for _, k := range []string{"compute", "tp_comm", "cp_comm", "pp_bubble", "pp_comm", "dp_comm", "optimizer", "straggler"} {
		v, ok := b[k].(float64)
		if !ok {
			t.Fatalf("breakdown_s.%s missing", k)
		}
		sum += v
	}
	if step := m["step_time_s"].(float64); math.Abs(sum/step-1) > 0.01 {
		t.Errorf("breakdown sums to %v, step %v", sum, step)
	}
	if m["trials"].(float64) != 5 || m["gpus"].(float64) != 1024 {
		t.Errorf("trials %v, gpus %v", m["trials"], m["gpus"])
	}
}

// TestSameSeedSameBytes: the same seed and inputs give byte-identical JSON,
// whatever GOMAXPROCS.
func TestSameSeedSameBytes(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var outs []string
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		out, stderr, code := runMain(t, "run", "llama3-405b", "--trials", "8", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] {
		t.Error("GOMAXPROCS 1 and 2 gave different JSON")
	}
	other, _, _ := runMain(t, "run", "llama3-405b", "--trials", "8", "--seed", "2", "--format", "json")
	if other == outs[0] {
		t.Error("seed 2 gave the same JSON as seed 1")
	}
}

func TestNapkin(t *testing.T) {
	for _, c := range []struct {
		name           string
		args           []string
		sixND, gpuHFLO float64
	}{
		// 6·8e9·15e12 = 7.2e23; 1.3e6 h × 3600 s × 400e12 = 1.872e24 (published.yaml napkin).
		{"8B", []string{"napkin", "--params", "8e9", "--tokens", "15e12", "--gpu-hours", "1.3e6", "--tflops", "400", "--format", "json"}, 7.2e23, 1.872e24},
		// 6·70e9·15e12 = 6.3e24; 6.4e6 × 3600 × 400e12 = 9.216e24.
		{"70B", []string{"napkin", "--params", "70G", "--tokens", "15T", "--gpu-hours", "6.4M", "--tflops", "400", "--format", "json"}, 6.3e24, 9.216e24},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, stderr, code := runMain(t, c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var n Napkin
			if err := json.Unmarshal([]byte(out), &n); err != nil {
				t.Fatal(err)
			}
			if math.Abs(n.SixND/c.sixND-1) > 1e-12 || math.Abs(n.GPUHoursFLOPs/c.gpuHFLO-1) > 1e-12 {
				t.Errorf("6ND %g, GPU-hour FLOPs %g", n.SixND, n.GPUHoursFLOPs)
			}
			// Chinchilla: 20 tokens per parameter.
			if math.Abs(n.ChinchillaTokens-20*n.Params) > 1 || math.Abs(n.ChinchillaRatio-n.Tokens/(20*n.Params)) > 1e-12 {
				t.Errorf("chinchilla %g tokens, ratio %g", n.ChinchillaTokens, n.ChinchillaRatio)
			}
			if math.Abs(n.ThresholdShare-n.SixND/1e26) > 1e-15 {
				t.Errorf("threshold share %g", n.ThresholdShare)
			}
		})
	}
	out, _, _ := runMain(t, "napkin", "--params", "8e9", "--tokens", "15e12", "--gpu-hours", "1.3e6", "--tflops", "400")
	for _, want := range []string{"7.2e+23", "1.87e+24", "1.6e+11", "93.8× past it", "0.72%"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestScenariosShowRoundTrip(t *testing.T) {
	out, _, code := runMain(t, "scenarios")
	if code != 0 || !strings.Contains(out, "llama3-405b-pretrain") {
		t.Fatalf("scenarios listing (exit %d):\n%s", code, out)
	}
	yaml, _, code := runMain(t, "scenarios", "show", "llama3-405b")
	if code != 0 || !strings.Contains(yaml, "virtual_stages: 8") {
		t.Fatalf("show (exit %d):\n%s", code, yaml)
	}
	_, stderr, code := runMain(t, "scenarios", "show", "nope")
	if code != 2 || !strings.Contains(stderr, "nope") {
		t.Errorf("show nope: exit %d, %s", code, stderr)
	}
}

func TestRunTableHasUnits(t *testing.T) {
	out, stderr, code := runMain(t, "run", "llama3-8b", "--trials", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"step time (s)", "TFLOPS/GPU", "memory (GiB/GPU", "wall clock (days)", "GPU-hours", "ETTR", "time (s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.000312, "0.000312"}, {0.5012, "0.501"}, {5.7018, "5.70"}, {453.28, "453.3"},
		{16384, "16,384"}, {2942454.8, "2.94M"}, {26.9e6, "26.9M"}, {15.6e12, "15.6T"}, {4.01e25, "4.01e+25"}, {-1500, "-1,500"},
	} {
		if got := num(c.v); got != c.want {
			t.Errorf("num(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestRunTableSharesSum: the parts of "where the step goes" add up to the
// step time (each row's share to 100%), for a MoE model too, whose
// expert-parallel all-to-alls are a part of their own.
func TestRunTableSharesSum(t *testing.T) {
	for _, name := range []string{"llama3-8b", "deepseek-v3"} {
		out, stderr, code := runMain(t, "run", name, "--trials", "1")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		_, table, ok := strings.Cut(out, "WHERE THE STEP GOES")
		table, _, _ = strings.Cut(table, "WHOLE RUN")
		if !ok {
			t.Fatalf("%s: no breakdown table:\n%s", name, out)
		}
		sum, rows := 0.0, 0
		for _, line := range strings.Split(table, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || !strings.HasSuffix(f[len(f)-1], "%") {
				continue
			}
			var v float64
			if _, err := fmt.Sscanf(f[len(f)-1], "%g%%", &v); err != nil {
				t.Fatalf("%s: %q: %v", name, line, err)
			}
			sum += v
			rows++
		}
		if rows != 10 || math.Abs(sum-100) > 0.5 {
			t.Errorf("%s: %d parts summing to %.1f%%, want 10 summing to 100%%:%s", name, rows, sum, table)
		}
	}
}
