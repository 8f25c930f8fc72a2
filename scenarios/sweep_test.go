package scenarios

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSweepBlock(t *testing.T) {
	text := small + "sweep:\n  cluster.gpus: [64, 128]\n  parallelism.zero: 3\n  stragglers.cv: [0, 2e-2, 0.05]\n"
	spec, sc, err := Load(strings.NewReader(text), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Sweep{{"cluster.gpus", []string{"64", "128"}}, {"parallelism.zero", []string{"3"}}, {"stragglers.cv", []string{"0", "2e-2", "0.05"}}}
	if !reflect.DeepEqual(sc.Sweep, want) {
		t.Errorf("Sweep = %v, want %v", sc.Sweep, want)
	}
	// The base scenario ignores the block.
	if spec.Step.Cluster.GPUs != 64 || spec.Step.Layout.ZeRO != 1 {
		t.Errorf("base: %d GPUs, ZeRO %d", spec.Step.Cluster.GPUs, spec.Step.Layout.ZeRO)
	}
	sets := want.Sets()
	if len(sets) != 6 || !slices.Equal(sets[1], []string{"cluster.gpus=64", "parallelism.zero=3", "stragglers.cv=2e-2"}) ||
		!slices.Equal(sets[5], []string{"cluster.gpus=128", "parallelism.zero=3", "stragglers.cv=0.05"}) {
		t.Errorf("Sets() = %v", sets)
	}
	// Marshal writes it back.
	out, err := Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	_, sc2, err := Load(strings.NewReader(string(out)), "t.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(sc2.Sweep, want) {
		t.Errorf("after Marshal: %v\n%s", sc2.Sweep, out)
	}
	if !strings.Contains(string(out), "cluster.gpus: [64, 128]") {
		t.Errorf("Marshal:\n%s", out)
	}
}

func TestSweepStrict(t *testing.T) {
	line := strings.Count(small, "\n") + 2
	for _, c := range []struct {
		name, block string
		key         string
		msg         []string
	}{
		{"unknown key", "  cluster.gpu_count: [8, 16]", "sweep.cluster.gpu_count", []string{`unknown key "gpu_count" in "cluster.gpu_count"`, `did you mean "gpu"?`, "valid keys in cluster: gpu, gpus"}},
		{"path without its first key", "  network.oversubscription: [1, 3]", "sweep.network.oversubscription", []string{`unknown key "network"`, "did you mean cluster.network.oversubscription?"}},
		{"a mapping", "  parallelism: [1]", "sweep.parallelism", []string{"parallelism is a mapping with keys tp, pp", "sweep one of its keys"}},
		{"wrong type", "  cluster.gpus: [8, lots]", "sweep.cluster.gpus", []string{`bad whole number "lots"`}},
		{"nested list", "  cluster.gpus: [[8]]", "sweep.cluster.gpus", []string{"value 1 must be a single value"}},
		{"empty", "  cluster.gpus: []", "sweep.cluster.gpus", []string{"has no values"}},
		{"itself", "  sweep.x: [1]", "sweep.sweep.x", []string{"cannot sweep itself"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Load(strings.NewReader(small+"sweep:\n"+c.block+"\n"), "t.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			errs := allErrors(t, err)
			if len(errs) != 1 || errs[0].Key != c.key || errs[0].Line != line {
				t.Fatalf("got %v, want one error at line %d, key %s", err, line, c.key)
			}
			for _, m := range c.msg {
				if !strings.Contains(errs[0].Msg, m) {
					t.Errorf("%q lacks %q", errs[0].Msg, m)
				}
			}
		})
	}
	_, _, err := Load(strings.NewReader(small+"sweep: [1, 2]\n"), "t.yaml")
	if errs := allErrors(t, err); len(errs) != 1 || !strings.Contains(errs[0].Msg, "must be a mapping of --set paths") {
		t.Errorf("sweep as a list: %v", err)
	}
	_, _, err = Load(strings.NewReader(small), "t.yaml", "sweep.cluster.gpus=[8]")
	if errs := allErrors(t, err); len(errs) != 1 || !strings.Contains(errs[0].Msg, "not changed with --set") {
		t.Errorf("--set sweep: %v", err)
	}
}

// TestResolveAnyLayout: the plan command loads a scenario whose layout does
// not fit on another GPU count; Resolve refuses it.
func TestResolveAnyLayout(t *testing.T) {
	// Table 4's layout (tp 8, pp 16) on 64 GPUs: tp·pp = 128 > 64.
	if _, _, err := Resolve("llama3-405b", "cluster.gpus=64"); err == nil {
		t.Fatal("Resolve accepted llama3-405b on 64 GPUs")
	}
	spec, _, err := ResolveAnyLayout("llama3-405b", "cluster.gpus=64")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Step.Cluster.GPUs != 64 || spec.Step.Arch.Name != "llama3-405b" || spec.Step.Training.SeqLen != 8192 {
		t.Errorf("spec: %d GPUs, %s, seq %d", spec.Step.Cluster.GPUs, spec.Step.Arch.Name, spec.Step.Training.SeqLen)
	}
	// Bad values are still bad.
	if _, _, err := ResolveAnyLayout("llama3-405b", "parallelism.recompute=some"); err == nil {
		t.Error("ResolveAnyLayout accepted recompute: some")
	}
	if _, _, err := ResolveAnyLayout("llama3-405b", "cluster.gpus=12"); err == nil {
		t.Error("ResolveAnyLayout accepted 12 GPUs of 8 per node")
	}
}

// TestSweepPointByIndex: Point(i) is the i-th of Sets, and Count does not
// overflow (issue 10: 64M points were materialised before the first ran).
func TestSweepPointByIndex(t *testing.T) {
	sw := Sweep{{Path: "a", Values: []string{"1", "2", "3"}}, {Path: "b", Values: []string{"x", "y"}}}
	sets := sw.Sets()
	if n, ok := sw.Count(); !ok || n != len(sets) || n != 6 {
		t.Fatalf("Count = %d, %t; Sets has %d", n, ok, len(sets))
	}
	for i, want := range sets {
		if got := sw.Point(i); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("Point(%d) = %v, want %v", i, got, want)
		}
	}
	var big Sweep
	for range 70 {
		big = append(big, SweepKey{Path: "seed", Values: []string{"1", "2"}})
	}
	if n, ok := big.Count(); ok || n != 1<<62 {
		t.Errorf("2^70 points: Count = %d, %t; want 2^62, false", n, ok)
	}
	if got := big.Point(1<<62 - 1); len(got) != 70 {
		t.Errorf("Point of a huge sweep: %d overrides", len(got))
	}
}
