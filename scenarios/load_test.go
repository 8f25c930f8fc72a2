package scenarios

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
)

// small is a valid scenario, line by line: Llama 3 8B on 64 H100s with
// tp 8, pp 2 (so dp 4 and 16 micro batches per step).
const small = `name: small
model: llama3-8b
cluster:
  gpu: h100-sxm
  gpus: 64
parallelism:
  tp: 8
  pp: 2
training:
  seq_len: 8192
  global_batch: 64
  tokens: 1T
`

// edit replaces line n (1-based) of small with repl (which may span lines).
func edit(n int, repl string) string {
	lines := strings.Split(small, "\n")
	lines[n-1] = repl
	return strings.Join(lines, "\n")
}

func TestSmall(t *testing.T) {
	spec, _, err := Load(strings.NewReader(small), "small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := model.Layout{TP: 8, PP: 2, CP: 1, DP: 4, MicroBatch: 1, VirtualStages: 1, SequenceParallel: true, ZeRO: 1, DPOverlap: true}
	if spec.Step.Layout != want {
		t.Errorf("layout = %+v, want %+v", spec.Step.Layout, want)
	}
	// Defaults from the GPU catalog (h100-sxm: 8 per node, 400 Gb/s NIC) and
	// one pod holding all 8 nodes.
	c := spec.Step.Cluster
	if c.GPUsPerNode != 8 || c.Network.ScaleOutGbps != 400 || c.Network.NodesPerPod != 8 || c.Network.Oversubscription != 1 || c.Network.LatencyS != 5e-6 {
		t.Errorf("cluster = %+v", c)
	}
	if spec.Failures.Profile.Name != "none" || len(spec.Failures.Profile.Causes) != 0 {
		t.Errorf("profile = %+v, want none", spec.Failures.Profile)
	}
}

// TestGB200Loads: an NVL72 cluster of 256 GPUs on 4-GPU trays loads with
// the catalog's 72-GPU NVLink domain (3 full racks and a partial one of 40),
// tp 8 across two trays of a rack, and the fp4 recipe.
func TestGB200Loads(t *testing.T) {
	src := strings.Replace(edit(5, "  gpus: 256\n  gpus_per_node: 4"), "  gpu: h100-sxm", "  gpu: gb200", 1) + "  precision: nvfp4\n"
	spec, _, err := Load(strings.NewReader(src), "gb200.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := spec.Step.Cluster
	if c.GPU.Name != "gb200" || c.GPUs != 256 || c.GPUsPerNode != 4 || c.Domain() != 72 || c.Network.ScaleOutGbps != 400 {
		t.Errorf("cluster = %+v (domain %d)", c, c.Domain())
	}
	// 256 / (tp 8 · pp 2) = dp 16.
	if l := spec.Step.Layout; l.TP != 8 || l.PP != 2 || l.DP != 16 {
		t.Errorf("layout = %+v", l)
	}
	if p := spec.Step.Training.Precision; p.String() != "nvfp4" {
		t.Errorf("precision = %v, want nvfp4", p)
	}
}

type wantErr struct {
	file string
	line int
	key  string
	msg  []string // substrings of Msg
}

func TestStrict(t *testing.T) {
	p405 := lineOf(t, builtinText(t, "llama3-405b"), "parallelism:")
	tests := []struct {
		name string
		yaml string // "" for the built-in llama3-405b
		sets []string
		want []wantErr
	}{
		{"unknown key", edit(7, "  tpp: 8"), nil,
			[]wantErr{{"t.yaml", 7, "parallelism.tpp", []string{`unknown key "tpp"`, `did you mean "tp"?`, "valid keys in parallelism: tp, pp, cp, dp, micro_batch"}}}},
		{"unknown top-level key", small + "sweeps: {x: 1}\n", nil,
			[]wantErr{{"t.yaml", 13, "sweeps", []string{`unknown key "sweeps"`, `did you mean "sweep"?`, "valid keys: name, description, model"}}}},
		{"duplicate key", edit(8, "  pp: 2\n  tp: 4"), nil,
			[]wantErr{{"t.yaml", 9, "parallelism.tp", []string{"duplicate key (first at line 7)"}}}},
		{"wrong type: list for a number", edit(5, "  gpus: [64]"), nil,
			[]wantErr{{"t.yaml", 5, "cluster.gpus", []string{"must be a whole number, got a list"}}}},
		{"wrong type: number for a mapping", edit(6, "parallelism: 8\nx:"), nil,
			[]wantErr{
				{"t.yaml", 6, "parallelism", []string{"must be a mapping with keys tp, pp", `got "8"`}},
				{"t.yaml", 7, "x", []string{`unknown key "x"`}},
			}},
		{"wrong type: number for a boolean", edit(8, "  pp: 2\n  sequence_parallel: 1"), nil,
			[]wantErr{{"t.yaml", 9, "parallelism.sequence_parallel", []string{`must be true or false, got "1"`}}}},
		{"no value", edit(8, "  pp:"), nil,
			[]wantErr{{"t.yaml", 8, "parallelism.pp", []string{"has no value", "remove the key for its default"}}}},
		{"bad unit", edit(5, "  gpus: 16Q"), nil,
			[]wantErr{{"t.yaml", 5, "cluster.gpus", []string{`bad whole number "16Q"`, "SI suffix K, M, G, T, P", "16_384"}}}},
		{"not a whole number", edit(5, "  gpus: 1.5"), nil,
			[]wantErr{{"t.yaml", 5, "cluster.gpus", []string{"1.5 is not a whole number"}}}},
		{"not a whole number after the suffix", edit(8, "  pp: 0.0025K"), nil,
			[]wantErr{{"t.yaml", 8, "parallelism.pp", []string{"0.0025K is 2.5, not a whole number"}}}},
		{"too large", edit(5, "  gpus: 1P"), nil,
			[]wantErr{{"t.yaml", 5, "cluster.gpus", []string{"too large"}}}},
		{"product is not the GPU count", edit(8, "  pp: 2\n  dp: 8"), nil,
			[]wantErr{{"t.yaml", 6, "parallelism", []string{"tp·pp·cp·dp = 8·2·1·8 = 128 must equal cluster.gpus (64)", "dp would be 4"}}}},
		{"layers do not split over stages", strings.Replace(edit(5, "  gpus: 48"), "  pp: 2", "  pp: 3", 1), nil,
			// 32 layers over 3 stages: neither 32 nor 34 divides by 3.
			[]wantErr{{"t.yaml", 8, "parallelism.pp", []string{"split neither the 32 layers nor 32+2", "pp could be 1, 2, 4, 8, 16, 17, 32"}}}},
		{"batch does not split into micro batches", edit(8, "  pp: 2\n  micro_batch: 3"), nil,
			// dp 4 × micro batch 3 = 12 does not divide 64.
			[]wantErr{{"t.yaml", 12, "training.global_batch", []string{"must be a multiple of dp·micro_batch = 4·3 = 12 (nearest: 60 or 72)"}}}},
		{"batch tokens are not whole sequences", edit(11, "  global_batch_tokens: 16M"), nil,
			// 16e6 / 8192 = 1953.125; 16Mi = 2^24 is 2048 sequences.
			[]wantErr{{"t.yaml", 11, "training.global_batch_tokens", []string{"1953.125 sequences", "15998976 (1953 sequences) or 16007168 (1954 sequences)", "16Mi = 16·2^20 (2048 sequences)"}}}},
		{"batch in sequences and tokens", edit(11, "  global_batch: 64\n  global_batch_tokens: 512Ki"), nil,
			[]wantErr{{"t.yaml", 12, "training.global_batch_tokens", []string{"not both"}}}},
		{"offload of every layer", edit(8, "  pp: 1\n  offload_layers: 32"), nil,
			[]wantErr{{"t.yaml", 9, "parallelism.offload_layers", []string{"must be below the model's 32 layers"}}}},
		{"offload with pipeline parallelism", edit(8, "  pp: 2\n  offload_layers: 4"), nil,
			[]wantErr{{"t.yaml", 9, "parallelism.offload_layers", []string{"without pipeline parallelism only (pp 2)"}}}},
		{"memory misfit", "", []string{"parallelism.pp=1"},
			// 405B over tp 8 alone: 94.5 GiB of bf16 weights per GPU.
			[]wantErr{{"builtin/llama3-405b.yaml", p405, "parallelism", []string{"GiB per GPU on stage 0 (weights 94.5,", "but h100-sxm has 80.0 GiB", "try a larger pp or tp, zero: 3"}}}},
		{"unknown GPU", edit(4, "  gpu: h100-sx"), nil,
			[]wantErr{{"t.yaml", 4, "cluster.gpu", []string{`unknown gpu "h100-sx" (did you mean "h100-sxm"?); valid: a100-sxm-40g, a100-sxm-80g, b200, gb200, gb300, h100-sxm, h200-sxm, h800`}}}},
		{"fp8 without fp8 tensor cores", edit(4, "  gpu: a100-sxm-80g") + "  precision: fp8\n", nil,
			[]wantErr{{"t.yaml", 13, "training.precision", []string{"a100-sxm-80g lacks"}}}},
		{"fp8 params without fp8", edit(4, "  gpu: a100-sxm-80g") + "  fp8_params: true\n", nil,
			[]wantErr{{"t.yaml", 13, "training.fp8_params", []string{"needs precision: fp8"}}}},
		{"mxfp8 on hopper", small + "  precision: mxfp8\n", nil,
			[]wantErr{{"t.yaml", 13, "training.precision", []string{"mxfp8 needs block-scaled", "h100-sxm lacks", "h100-sxm supports bf16, fp8"}}}},
		{"unknown precision lists the recipes", small + "  precision: fp4\n", nil,
			[]wantErr{{"t.yaml", 13, "training.precision", []string{"bf16, fp8, mxfp8, nvfp4"}}}},
		// NVL72: tp 16 neither divides the 72-GPU rack nor is a multiple of it.
		{"tp across NVLink domains", strings.Replace(edit(4, "  gpu: gb200"), "  tp: 8", "  tp: 16", 1), nil,
			[]wantErr{{"t.yaml", 7, "parallelism.tp", []string{"16 does not align with the 72-GPU NVLink domain (cluster.nvlink_domain)"}}}},
		{"nvlink domain not whole trays", edit(4, "  gpu: gb200\n  nvlink_domain: 6"), nil,
			[]wantErr{{"t.yaml", 5, "cluster.nvlink_domain", []string{"6 must be a positive multiple of cluster.gpus_per_node (4)"}}}},
		{"unknown model", edit(2, "model: llama3-9b"), nil,
			[]wantErr{{"t.yaml", 2, "model", []string{`unknown model "llama3-9b"`, "llama3-405b, llama3-70b, llama3-8b, llama3.1-405b"}}}},
		{"unknown failure profile", small + "failures:\n  profile: llama4\n", nil,
			[]wantErr{{"t.yaml", 14, "failures.profile", []string{`unknown failure profile "llama4" (did you mean "llama3"?); valid: llama3, none`}}}},
		{"bad custom profile unit", small + "failures:\n  profile:\n    gpu_fault:\n      rate: 1e-4\n      per: gpus\n", nil,
			[]wantErr{{"t.yaml", 17, "failures.profile.gpu_fault.per", []string{`unknown unit "gpus" (did you mean "gpu"?); valid: gpu, node, switch, job`}}}},
		{"bad custom profile rate and recovery", small + "failures:\n  profile:\n    gpu_fault: {rate: 1e-4/d, per: gpu, recovery: 10x}\n", nil,
			[]wantErr{
				{"t.yaml", 15, "failures.profile.gpu_fault.rate", []string{`bad number "1e-4/d"`}},
				{"t.yaml", 15, "failures.profile.gpu_fault.recovery", []string{`bad duration "10x"`, "90s, 15m, 2h, 54d"}},
			}},
		{"missing batch", strings.Replace(small, "  global_batch: 64\n", "", 1), nil,
			[]wantErr{{"t.yaml", 9, "training.global_batch", []string{"required", "global_batch_tokens"}}}},
		{"missing GPU and GPU count", strings.Replace(small, "  gpu: h100-sxm\n  gpus: 64\n", "  gpus_per_node: 8\n", 1), nil,
			[]wantErr{
				{"t.yaml", 3, "cluster.gpu", []string{"required", "h100-sxm"}},
				{"t.yaml", 3, "cluster.gpus", []string{"required"}},
			}},
		{"missing model", strings.Replace(small, "model: llama3-8b\n", "", 1), nil,
			[]wantErr{{"t.yaml", 0, "model", []string{"required"}}}},
		{"bad enum values", edit(8, "  pp: 2\n  recompute: fulll\n  zero: 4"), nil,
			[]wantErr{
				{"t.yaml", 9, "parallelism.recompute", []string{`unknown recompute "fulll" (did you mean "full"?); valid: auto, none, selective, full`}},
				{"t.yaml", 10, "parallelism.zero", []string{"must be 0, 1, 2 or 3"}},
			}},
		{"inline model without heads", edit(2, "model: {layers: 2, hidden: 128}"), nil,
			[]wantErr{{"t.yaml", 2, "model.heads", []string{"required in an inline model (which needs layers, hidden and heads)"}}}},
		{"inline model", edit(2, "model: {layers: 0, hidden: 100, ffn_hidden: 3, heads: 3}"), nil,
			[]wantErr{
				{"t.yaml", 2, "model.layers", []string{"must be > 0"}},
				{"t.yaml", 2, "model.heads", []string{"must divide hidden (100)"}},
			}},
		{"YAML syntax", "name: [\n", nil,
			[]wantErr{{"t.yaml", 1, "", []string{"bad YAML"}}}},
		{"not a mapping", "- 1\n", nil,
			[]wantErr{{"t.yaml", 1, "", []string{"a scenario must be a mapping"}}}},
		{"two documents", small + "---\nname: x\n", nil,
			[]wantErr{{"t.yaml", 13, "", []string{"more than one YAML document"}}}},
		{"phase GPUs", small + "phases:\n  - tokens: 1T\n    gpus: 60\n", nil,
			[]wantErr{{"t.yaml", 15, "phases.0.gpus", []string{"must be a multiple of cluster.gpus_per_node (8)"}}}},
		{"phase tokens do not sum", small + "phases:\n  - tokens: 0.5T\n  - tokens: 0.4T\n", nil,
			[]wantErr{{"t.yaml", 12, "training.tokens", []string{"1T does not equal the sum of the phases' tokens (900G)"}}}},
		{"unknown --set path", "", []string{"parallelism.tpx=1"},
			[]wantErr{{"--set", 0, "parallelism.tpx", []string{`unknown key "tpx" (did you mean "tp"?)`}}}},
		{"bad --set value", "", []string{"parallelism.pp=abc"},
			[]wantErr{{"--set", 0, "parallelism.pp", []string{`bad whole number "abc"`}}}},
		{"--set without =", "", []string{"parallelism.pp"},
			[]wantErr{{"--set", 0, "", []string{"want path=value"}}}},
		{"--set list index out of range", "", []string{"phases.1.tokens=1T"},
			[]wantErr{{"--set", 0, "phases.1", []string{`"1" is not an index of phases, which is empty: use 0`}}}},
		{"--set layout inconsistency", "", []string{"parallelism.pp=3"},
			// The value came from --set, so the error names it; the product is
			// the layout's, blamed on the file's parallelism block.
			[]wantErr{
				{"builtin/llama3-405b.yaml", p405, "parallelism", []string{"with tp·pp·cp = 24, dp would be 16384/24, not a whole number"}},
				{"--set", 0, "parallelism.pp", []string{"split neither the 126 layers nor 126+2"}},
			}},
		{"--set into a number", "", []string{"trials.x=1"},
			[]wantErr{{"--set", 0, "trials.x", []string{"trials is a whole number and has no key"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.yaml == "" {
				_, _, err = Builtin("llama3-405b", tt.sets...)
			} else {
				_, _, err = Load(strings.NewReader(tt.yaml), "t.yaml", tt.sets...)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			got := allErrors(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.File != w.file || g.Line != w.line || g.Key != w.key {
					t.Errorf("error %d at %s:%d key %q, want %s:%d key %q (%v)", i, g.File, g.Line, g.Key, w.file, w.line, w.key, g)
				}
				for _, m := range w.msg {
					if !strings.Contains(g.Msg, m) {
						t.Errorf("error %d: %q lacks %q", i, g.Msg, m)
					}
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Column: 5, Key: "parallelism.pp", Msg: "bad"}, "a.yaml:3: parallelism.pp: bad"},
		{Error{File: "--set", Key: "parallelism.pp", Msg: "bad"}, "--set: parallelism.pp: bad"},
		{Error{File: "a.yaml", Line: 1, Msg: "bad YAML"}, "a.yaml:1: bad YAML"},
		{Error{Msg: "unknown scenario"}, "unknown scenario"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestErrorsSorted puts the training block above the cluster block, so that
// the checks (cluster first) find the problems out of line order.
func TestErrorsSorted(t *testing.T) {
	const y = `name: unsorted
training:
  seq_len: 8192
  global_batch: 64
  tokens: -1
  precision: fp32
model: llama3-8b
cluster:
  gpu: h100-pcie
  gpus: 64
stragglers:
  cv: 2
`
	_, _, err := Load(strings.NewReader(y), "u.yaml")
	errs := allErrors(t, err)
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	if want := []int{5, 6, 9, 12}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v:\n%v", lines, want, err)
	}
	// Errors about --set overrides come after the file's, in flag order.
	_, _, err = Load(strings.NewReader(y), "u.yaml", "trials=0.5", "seed=-1")
	errs = allErrors(t, err)
	if n := len(errs); n != 2 || errs[0].Key != "trials" || errs[1].Key != "seed" {
		t.Errorf("got %v", err)
	}
}

func TestQuantity(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
	}{
		{"16384", 16384},
		{"16_384", 16384},
		{"16K", 16e3},
		{"16k", 16e3},
		{"16M", 16e6},
		{"15.6T", 15.6e12},
		{"300G", 300e9},
		{"2P", 2e15},
		{"1.3e6", 1.3e6},
		{"1.3E+6", 1.3e6},
		{"16Mi", 1 << 24},
		{"4Ki", 4096},
		{"0.02", 0.02},
		{".5", 0.5},
		{"-3", -3},
		{" 7 ", 7},
	} {
		got, err := ParseQuantity(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseQuantity(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		// The shortest form reads back exactly.
		if back, err := ParseQuantity(formatQuantity(got)); err != nil || back != got {
			t.Errorf("formatQuantity(%v) = %q reads back as %v, %v", got, formatQuantity(got), back, err)
		}
	}
	for _, in := range []string{"", "16Q", "16m", "1e3K", "_16", "16_", "16__384", "1_.5", "inf", "NaN", "0x10", "1e400", "K", "1.2.3", "16 K"} {
		if v, err := ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q) = %v, want an error", in, v)
		}
	}
	for _, tt := range []struct {
		v    float64
		want string
	}{{15.6e12, "15.6T"}, {300e9, "300G"}, {16384, "16.384K"}, {400, "400"}, {1.1, "1.1"}, {0.02, "0.02"}, {5e-6, "5e-06"}, {2e16, "20P"}} {
		if got := formatQuantity(tt.v); got != tt.want {
			t.Errorf("formatQuantity(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestInt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"16384", 16384}, {"16_384", 16384}, {"16K", 16000}, {"16Ki", 16384}, {"1e3", 1000}, {"2.5K", 2500}, {"-1", -1}} {
		if got, err := parseInt(tt.in); err != nil || got != tt.want {
			t.Errorf("parseInt(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"1.5", "16Q", "3G", "99999999999"} {
		if v, err := parseInt(in); err == nil {
			t.Errorf("parseInt(%q) = %v, want an error", in, v)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64 // seconds
	}{
		{"90s", 90},
		{"15m", 900},
		{"2h", 7200},
		{"54d", 54 * 86400}, // Llama 3's 54-day reliability window (§3.3.4)
		{"1.5h", 5400},
		{"3600", 3600},
		{"0", 0},
		{"1_000s", 1000},
	} {
		got, err := ParseDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, err := ParseDuration(formatDuration(got)); err != nil || back != got {
			t.Errorf("formatDuration(%v) = %q reads back as %v, %v", got, formatDuration(got), back, err)
		}
	}
	for _, in := range []string{"", "15x", "-5s", "1e400s", "m", "15 m", "1h30m", "15M"} {
		if v, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, v)
		}
	}
	for _, tt := range []struct {
		s    float64
		want string
	}{{900, "15m"}, {5400, "90m"}, {54 * 86400, "54d"}, {7200, "2h"}, {90, "90s"}, {0.5, "0.5s"}} {
		if got := formatDuration(tt.s); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestSet(t *testing.T) {
	llama3, _ := failure.Lookup("llama3")
	tests := []struct {
		name  string
		file  string // a built-in name or a testdata path
		sets  []string
		check func(t *testing.T, s specView)
	}{
		{"number", "llama3-405b", []string{"cluster.gpus=8192"}, func(t *testing.T, s specView) {
			// Table 4 row 1: 8,192 GPUs give dp 64.
			s.eq(t, "gpus", s.Step.Cluster.GPUs, 8192)
			s.eq(t, "dp", s.Step.Layout.DP, 64)
		}},
		{"number with a suffix", "llama3-405b", []string{"training.tokens=2T", "cluster.gpus=8Ki"}, func(t *testing.T, s specView) {
			s.eq(t, "tokens", s.Step.Training.Tokens, 2e12)
			s.eq(t, "gpus", s.Step.Cluster.GPUs, 8192)
		}},
		{"string", "llama3-405b", []string{"failures.profile=none"}, func(t *testing.T, s specView) {
			s.eq(t, "profile", s.Failures.Profile.Name, "none")
		}},
		{"boolean", "llama3-405b", []string{"parallelism.tp_comm_overlap=true", "failures.async_checkpoint=true"}, func(t *testing.T, s specView) {
			s.eq(t, "tp overlap", s.Step.Layout.TPOverlap, true)
			s.eq(t, "async", s.Failures.AsyncCheckpoint, true)
		}},
		{"duration", "llama3-405b", []string{"failures.restart=5m", "failures.checkpoint_interval=2h"}, func(t *testing.T, s specView) {
			s.eq(t, "restart", s.Failures.RestartS, 300.0)
			s.eq(t, "interval", s.Failures.CheckpointIntervalS, 7200.0)
		}},
		{"new key", "gpt3-175b", []string{"parallelism.cp=2"}, func(t *testing.T, s specView) {
			s.eq(t, "cp", s.Step.Layout.CP, 2)
			s.eq(t, "dp", s.Step.Layout.DP, 4)
		}},
		{"fp8 weights by default", "llama3-405b", []string{"training.precision=fp8"}, func(t *testing.T, s specView) {
			s.eq(t, "fp8 params", s.Step.Training.FP8Params, true)
		}},
		{"fp8 beside bf16 weights", "llama3-405b", []string{"training.precision=fp8", "training.fp8_params=false"}, func(t *testing.T, s specView) {
			s.eq(t, "fp8 params", s.Step.Training.FP8Params, false)
		}},
		{"bf16 weights", "llama3-405b", nil, func(t *testing.T, s specView) {
			s.eq(t, "fp8 params", s.Step.Training.FP8Params, false)
		}},
		{"new section", "llama3-405b", []string{"energy.price_per_gpu_hour=2.5", "stragglers.slow_node_fraction=0.01"}, func(t *testing.T, s specView) {
			s.eq(t, "price", s.Energy.PricePerGPUHour, 2.5)
			s.eq(t, "pue", s.Energy.PUE, 1.1)
			s.eq(t, "fraction", s.Step.Noise.SlowNodeFraction, 0.01)
		}},
		{"flow value", "llama3-405b", []string{"stragglers={cv: 0, samples: 4}"}, func(t *testing.T, s specView) {
			s.eq(t, "cv", s.Step.Noise.CV, 0.0)
			s.eq(t, "samples", s.Step.Samples, 4)
		}},
		{"list index", "testdata/llama3-405b-phases.yaml", []string{"phases.0.gpus=4096", "phases.2.name=main"}, func(t *testing.T, s specView) {
			s.eq(t, "gpus", s.Phases[0].GPUs, 4096)
			s.eq(t, "dp", s.Phases[0].Layout.DP, 32)
			s.eq(t, "name", s.Phases[2].Name, "main")
		}},
		{"list append", "testdata/llama3-405b-phases.yaml", []string{"phases.4={name: more, tokens: 1T}", "training.tokens=16.6T"}, func(t *testing.T, s specView) {
			s.eq(t, "phases", len(s.Phases), 5)
			s.eq(t, "tokens", s.Phases[4].Tokens, 1e12)
			s.eq(t, "gpus", s.Phases[4].GPUs, 16384)
		}},
		{"new list", "llama3-405b", []string{"phases.0.tokens=15.6T"}, func(t *testing.T, s specView) {
			s.eq(t, "phases", len(s.Phases), 1)
		}},
		{"built-in model expanded", "llama3-405b", []string{"model.layers=62", "parallelism.pp=8"}, func(t *testing.T, s specView) {
			// 62 + 2 = 64 = 8 stages × 8 chunks of one layer.
			s.eq(t, "layers", s.Step.Arch.Layers, 62)
			s.eq(t, "hidden", s.Step.Arch.Hidden, 16384)
			s.eq(t, "name", s.Step.Arch.Name, "custom")
			s.eq(t, "dropout", s.Step.Arch.Dropout, false)
		}},
		{"built-in model replaced", "llama3-405b", []string{"model=llama3-70b", "parallelism.virtual_stages=5", "parallelism.pp=4"}, func(t *testing.T, s specView) {
			s.eq(t, "layers", s.Step.Arch.Layers, 80)
			s.eq(t, "dp", s.Step.Layout.DP, 512)
		}},
		{"built-in profile expanded", "llama3-405b", []string{"failures.profile.faulty_gpu.rate=0"}, func(t *testing.T, s specView) {
			want := failure.Profile{Name: "custom", Causes: append([]failure.Cause(nil), llama3.Causes...)}
			want.Causes[0].RatePerDay = 0 // faulty_gpu
			if !reflect.DeepEqual(s.Failures.Profile, want) {
				t.Errorf("profile = %+v, want %+v", s.Failures.Profile, want)
			}
		}},
		{"new cause", "gpt3-175b", []string{"failures.profile.cosmic_rays={rate: 1e-5, per: gpu}"}, func(t *testing.T, s specView) {
			want := failure.Profile{Name: "custom", Causes: []failure.Cause{{Name: "cosmic_rays", Unit: failure.PerGPU, RatePerDay: 1e-5}}}
			if !reflect.DeepEqual(s.Failures.Profile, want) {
				t.Errorf("profile = %+v, want %+v", s.Failures.Profile, want)
			}
		}},
		{"text with a colon", "llama3-405b", []string{"description=Llama: 405B, again"}, func(t *testing.T, s specView) {
			s.eq(t, "description", s.Description, "Llama: 405B, again")
		}},
		{"through an alias", "testdata/aliases.yaml", []string{"phases.0.parallelism.tp=4"}, func(t *testing.T, s specView) {
			// The override changes phase 0 only, not the anchor's other uses.
			s.eq(t, "phase 0 tp", s.Phases[0].Layout.TP, 4)
			s.eq(t, "phase 0 dp", s.Phases[0].Layout.DP, 8)
			s.eq(t, "phase 1 tp", s.Phases[1].Layout.TP, 8)
			s.eq(t, "tp", s.Step.Layout.TP, 8)
		}},
		{"at an anchor", "testdata/aliases.yaml", []string{"parallelism.pp=4"}, func(t *testing.T, s specView) {
			// The anchor itself changes everywhere it is used, as if edited.
			s.eq(t, "pp", s.Step.Layout.PP, 4)
			s.eq(t, "phase 1 pp", s.Phases[1].Layout.PP, 4)
		}},
		{"later wins", "llama3-405b", []string{"seed=7", "seed=8", "trials=3"}, func(t *testing.T, s specView) {
			s.eq(t, "seed", s.Seed, uint64(8))
			s.eq(t, "trials", s.Trials, 3)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, _, err := Resolve(tt.file, tt.sets...)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, specView{spec})
		})
	}
}

func TestResolve(t *testing.T) {
	if _, _, err := Resolve("testdata/llama3-405b-phases.yaml"); err != nil {
		t.Errorf("file: %v", err)
	}
	_, _, err := Resolve("no-such-scenario")
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Msg, "not a built-in") {
		t.Errorf("unknown: %v, want an *Error", err)
	}
	// A directory is bad input (issue 10), named as such.
	dir := t.TempDir()
	if _, _, err := Resolve(dir); !errors.As(err, &e) || !strings.Contains(e.Msg, "is a directory") {
		t.Errorf("directory: %v, want an *Error saying it is a directory", err)
	}
}

func TestPhases(t *testing.T) {
	spec, _, err := LoadFile("testdata/llama3-405b-phases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// arXiv:2407.21783 §3.4.1: 4M tokens of 4,096 for 252M tokens, 8M of
	// 8,192 up to 2.87T, 16M after; §3.4.2: 800B tokens at 128K with
	// Table 4 row 3's cp 16, dp 8.
	want := []struct {
		name               string
		tokens             float64
		seq, batch, gpus   int
		tp, pp, cp, dp, vs int
	}{
		{"batch-4M", 252e6, 4096, 1024, 8192, 8, 16, 1, 64, 8},
		{"batch-8M", 2.869748e12, 8192, 1024, 8192, 8, 16, 1, 64, 8},
		{"batch-16M", 11.93e12, 8192, 2048, 16384, 8, 16, 1, 128, 8},
		{"long-context", 800e9, 131072, 128, 16384, 8, 16, 16, 8, 8},
	}
	if len(spec.Phases) != len(want) {
		t.Fatalf("%d phases, want %d", len(spec.Phases), len(want))
	}
	total := 0.0
	for i, w := range want {
		p := spec.Phases[i]
		l := p.Layout
		if p.Name != w.name || p.Tokens != w.tokens || p.SeqLen != w.seq || p.GlobalBatch != w.batch || p.GPUs != w.gpus ||
			l == nil || l.TP != w.tp || l.PP != w.pp || l.CP != w.cp || l.DP != w.dp || l.VirtualStages != w.vs || l.ZeRO != 2 {
			t.Errorf("phase %d = %+v, layout %+v; want %+v", i, p, l, w)
		}
		total += p.Tokens
	}
	if math.Abs(total-15.6e12) > 1 || spec.Step.Training.Tokens != 15.6e12 {
		t.Errorf("tokens: phases %v, run %v; want 15.6T", total, spec.Step.Training.Tokens)
	}
	// Without training.tokens the run's tokens are the phases' sum.
	spec, _, err = LoadFile("testdata/llama3-405b-phases.yaml", "training.tokens=1T", "phases.3.tokens=1T")
	if err == nil {
		t.Errorf("accepted phases that do not sum to training.tokens")
	}
	b, _ := os.ReadFile("testdata/llama3-405b-phases.yaml")
	noTokens := strings.Replace(string(b), "  tokens: 15.6T\n", "", 1)
	spec, _, err = Load(strings.NewReader(noTokens), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Step.Training.Tokens; math.Abs(got-15.6e12) > 1 {
		t.Errorf("tokens = %v, want the phases' sum 15.6T", got)
	}
}

// TestRoundTrip checks that Marshal writes what Load reads back to the same
// run.Spec, for every built-in and test file.
func TestRoundTrip(t *testing.T) {
	var files []string
	for _, n := range Names() {
		files = append(files, "builtin/"+n+".yaml")
	}
	more, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, more...)
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			spec, sc, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(sc)
			if err != nil {
				t.Fatal(err)
			}
			spec2, sc2, err := Load(strings.NewReader(string(out)), f)
			if err != nil {
				t.Fatalf("reloading:\n%s\n%v", out, err)
			}
			spec.Sources, spec2.Sources = nil, nil // lines move when marshalled
			if !reflect.DeepEqual(spec, spec2) {
				t.Errorf("run.Spec changed:\n%+v\n%+v", spec, spec2)
			}
			if !reflect.DeepEqual(sc, sc2) {
				t.Errorf("Scenario changed:\n%+v\n%+v", sc, sc2)
			}
		})
	}
}

// specView adds a comparison helper to run.Spec.
type specView struct{ runSpec }

func (specView) eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

var _ = fmt.Sprint

// TestRecomputeAuto: a scenario that leaves recompute out (or says auto)
// gets the least recomputation under which its fullest stage fits; an
// explicit mode is kept and refused when it does not fit.
func TestRecomputeAuto(t *testing.T) {
	const base = "name: t\nmodel: llama3-70b\ncluster: {gpu: h100-sxm, gpus: 64}\n" +
		"training: {seq_len: 8192, global_batch: 64, tokens: 1T}\n"
	for _, c := range []struct {
		par  string
		want model.Recompute
		err  string
	}{
		// tp8 pp8 holds 10 layers a GPU: every activation fits.
		{"parallelism: {tp: 8, pp: 8}\n", model.RecomputeNone, ""},
		{"parallelism: {tp: 8, pp: 8, recompute: auto}\n", model.RecomputeNone, ""},
		// tp4 pp4, 20 layers: too much without recomputation.
		{"parallelism: {tp: 4, pp: 4, micro_batch: 2}\n", model.RecomputeFull, ""},
		{"parallelism: {tp: 4, pp: 4, micro_batch: 2, recompute: none}\n", 0, "GiB per GPU"},
		{"parallelism: {tp: 4, pp: 4, micro_batch: 2, recompute: selective}\n", 0, "GiB per GPU"},
	} {
		spec, _, err := Load(strings.NewReader(base+c.par), "t.yaml")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.par, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.par, err)
		}
		l := spec.Step.Layout
		if l.Recompute != c.want {
			t.Errorf("%s: recompute %v, want %v", c.par, l.Recompute, c.want)
		}
		// The least that fits: one step less recomputation does not fit.
		if l.Recompute > model.RecomputeNone {
			less := l
			less.Recompute--
			mem, err := model.StageMemory(spec.Step.Arch, less, spec.Step.Training)
			if err != nil {
				t.Fatal(err)
			}
			fits := true
			for _, m := range mem {
				fits = fits && m.Total() <= spec.Step.Cluster.GPU.HBMBytes()
			}
			if fits {
				t.Errorf("%s: %v fits, yet auto chose %v", c.par, less.Recompute, l.Recompute)
			}
		}
	}
}

// TestDefaultTokens: a scenario without training.tokens (or phases) runs
// the compute-optimal length, 20 tokens per active parameter.
func TestDefaultTokens(t *testing.T) {
	const y = "name: t\nmodel: llama3-8b\ncluster: {gpu: h100-sxm, gpus: 64}\ntraining: {seq_len: 8192, global_batch: 64}\n"
	spec, _, err := Load(strings.NewReader(y), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Llama 3 8B: 8,030,261,248 parameters (the released checkpoint).
	if got, want := spec.Step.Training.Tokens, 20*8030261248.0; got != want {
		t.Errorf("tokens %.6g, want %.6g", got, want)
	}
}

// TestPartialNode: a job on 1, 2 or 4 GPUs of an 8-GPU server loads as one
// node of that many GPUs; 12 GPUs (a node and a half) are still refused.
func TestPartialNode(t *testing.T) {
	const y = "name: t\nmodel: {layers: 12, hidden: 1024, ffn_hidden: 4096, heads: 16, vocab: 32000}\n" +
		"cluster: {gpu: h100-sxm, gpus: %d}\ntraining: {seq_len: 4096, global_batch: 48}\n"
	for _, n := range []int{1, 2, 4} {
		spec, _, err := Load(strings.NewReader(fmt.Sprintf(y, n)), "t.yaml")
		if err != nil {
			t.Fatalf("%d GPUs: %v", n, err)
		}
		if c := spec.Step.Cluster; c.GPUsPerNode != n || c.Nodes() != 1 {
			t.Errorf("%d GPUs: %d per node, %d nodes", n, c.GPUsPerNode, c.Nodes())
		}
	}
	if _, _, err := Load(strings.NewReader(fmt.Sprintf(y, 12)), "t.yaml"); err == nil || !strings.Contains(err.Error(), "must be a multiple of gpus_per_node (8)") {
		t.Errorf("12 GPUs: %v", err)
	}
}

// TestInlineModelDefaults: an inline model without ffn_hidden or vocab takes
// Megatron-LM's defaults: 4·hidden (gelu), ⌊(8·hidden/3)/64⌋·64 (swiglu),
// and the padded GPT-2 vocabulary.
func TestInlineModelDefaults(t *testing.T) {
	for _, c := range []struct {
		mlp       string
		hidden    int
		wantFFN   int
		wantVocab int
	}{
		{"gelu", 2048, 8192, 51200},
		{"swiglu", 4096, 10880, 51200}, // 8·4096/3 = 10922.7 → 170·64
		{"swiglu", 8192, 21824, 51200}, // 21845.3 → 341·64
	} {
		y := fmt.Sprintf("name: t\nmodel: {layers: 4, hidden: %d, heads: 16, mlp: %s}\ncluster: {gpu: h100-sxm, gpus: 8}\ntraining: {seq_len: 2048, global_batch: 64}\n", c.hidden, c.mlp)
		spec, _, err := Load(strings.NewReader(y), "t.yaml")
		if err != nil {
			t.Fatalf("%s %d: %v", c.mlp, c.hidden, err)
		}
		if a := spec.Step.Arch; a.FFNHidden != c.wantFFN || a.Vocab != c.wantVocab {
			t.Errorf("%s %d: ffn %d vocab %d, want %d %d", c.mlp, c.hidden, a.FFNHidden, a.Vocab, c.wantFFN, c.wantVocab)
		}
	}
}

// TestRecomputeAutoPhases: each phase gets its own least recompute that
// fits; a phase that says auto under a main layout with an explicit mode
// does not inherit that mode.
func TestRecomputeAutoPhases(t *testing.T) {
	const y = "name: t\nmodel: llama3-70b\ncluster: {gpu: h100-sxm, gpus: 64}\n" +
		"parallelism: {tp: 8, pp: 8%s}\ntraining: {seq_len: 8192, global_batch: 64}\n" +
		"phases:\n  - {name: short, tokens: 1T%s}\n  - {name: long, tokens: 1T, seq_len: 65536, global_batch: 8}\n"
	for _, c := range []struct {
		main, phase string
		want        [2]model.Recompute
	}{
		{"", "", [2]model.Recompute{model.RecomputeNone, model.RecomputeFull}},
		{", recompute: full", ", parallelism: {recompute: auto}", [2]model.Recompute{model.RecomputeNone, model.RecomputeFull}},
	} {
		spec, _, err := Load(strings.NewReader(fmt.Sprintf(y, c.main, c.phase)), "t.yaml")
		if err != nil {
			t.Fatalf("%q %q: %v", c.main, c.phase, err)
		}
		for i, p := range spec.Phases {
			if p.Layout.Recompute != c.want[i] {
				t.Errorf("%q %q: phase %s recompute %v, want %v", c.main, c.phase, p.Name, p.Layout.Recompute, c.want[i])
			}
		}
	}
}

// TestRecomputeAutoAnyLayout: plan and report load the scenario without its
// layout checks, and auto still picks the recompute run would: llama3-8b's
// built-in on 64 GPUs, tp 1, pp 1 with micro batch 2 needs recomputation.
func TestRecomputeAutoAnyLayout(t *testing.T) {
	sets := []string{"cluster.gpus=64", "parallelism.tp=1", "parallelism.pp=1", "parallelism.micro_batch=2", "parallelism.recompute=auto"}
	run, _, err := Resolve("llama3-8b", sets...)
	if err != nil {
		t.Fatal(err)
	}
	any, _, err := ResolveAnyLayout("llama3-8b", sets...)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := any.Step.Layout.Recompute, run.Step.Layout.Recompute; got != want || want == model.RecomputeNone {
		t.Errorf("any-layout recompute %v, run's %v (want the same, not none)", got, want)
	}
}
