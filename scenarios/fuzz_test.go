package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoadScenario loads arbitrary YAML with an arbitrary --set: it must
// never panic, every error must be an *Error (the reader cannot fail), and
// an accepted file must survive Load → Marshal → Load with an equal
// run.Spec. The seed corpus (every built-in, the test files and a few
// broken ones) runs with plain go test.
func FuzzLoadScenario(f *testing.F) {
	for _, n := range Names() {
		b, err := BuiltinYAML(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "")
		f.Add(string(b), "parallelism.pp=1")
		f.Add(string(b), "model.layers=30")
		f.Add(string(b), "failures.profile.faulty_gpu={rate: 1e-3, per: node}")
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "")
		f.Add(string(b), "phases.0.parallelism.tp=4")
	}
	for _, broken := range []string{
		"",
		"name: [",
		"- 1\n- 2\n",
		"name: x\n---\nname: y\n",
		small + "sweep: 1\n",
		small + "phases: [{tokens: 1T, gpus: 8}]\n",
		edit(5, "  gpus: 16Q"),
		edit(7, "  tp: &a 8\n  pp: *a"),
		edit(7, "  <<: {tp: 8}"),
		edit(8, "  pp: 2147483647\n  cp: 2147483647\n  dp: 2147483647"),
		edit(11, "  global_batch: 2147483647"),
		strings.Replace(small, "llama3-8b", "{layers: 2147483647, hidden: 8, ffn_hidden: 8, heads: 2, vocab: 8}", 1),
		small + "failures: {profile: {a: {rate: 1, per: gpu}, a: {rate: 2, per: job}}}\n",
		"a: &x [*x]\n",
	} {
		f.Add(broken, "")
	}
	f.Add(small+"phases: &x [*x]\n", "phases.0.tokens=1T")
	f.Add(small, "phases.0={tokens: 1T}")
	f.Add(small, "model.layers=16")
	f.Add(edit(8, "  pp: 1\n  offload_layers: 31"), "parallelism.recompute=none")
	f.Add(edit(8, "  pp: 1\n  offload_layers: 31"), "parallelism.offload_layers=2147483647")
	f.Add(small, "=")
	f.Add(small, "parallelism.pp=[1, 2]")
	f.Add(small+"sweep: {cluster.gpus: [64, 128], failures.profile: [none, llama3], name: ['a: b', \"#c\"]}\n", "")
	f.Add(small+"sweep: {phases.0.tokens: 1T}\n", "sweep.x=1")

	f.Fuzz(func(t *testing.T, data, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		spec, sc, err := Load(strings.NewReader(data), "fuzz.yaml", sets...)
		if err != nil {
			allErrors(t, err) // every problem is an *Error
			return
		}
		out, err := Marshal(sc)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		spec2, sc2, err := Load(strings.NewReader(string(out)), "fuzz.yaml")
		if err != nil {
			t.Fatalf("reloading the marshalled scenario:\n%s\n%v", out, err)
		}
		if !reflect.DeepEqual(sc.Sweep, sc2.Sweep) {
			t.Fatalf("sweep changed by Load → Marshal → Load:\n%v\n%v\n%s", sc.Sweep, sc2.Sweep, out)
		}
		spec.Sources, spec2.Sources = nil, nil // lines move when marshalled
		if !reflect.DeepEqual(spec, spec2) {
			t.Fatalf("run.Spec changed by Load → Marshal → Load:\n%+v\n%+v\n%s", spec, spec2, out)
		}
	})
}
