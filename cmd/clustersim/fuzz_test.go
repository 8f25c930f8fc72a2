package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/sim/run"
)

// nonFinite matches what a NaN or an infinity prints as, in Go's %g,
// strconv and JSON encoders.
var nonFinite = regexp.MustCompile(`\bNaN\b|[+-]Inf\b|\bInf\b`)

// seedShard is a small, valid shard file: point 0 of a two-point sweep
// ran, point 1 (in the other shard) is not here.
func seedShard(t testing.TB, shard, shards int, complete bool) []byte {
	def := sweepDef{Scenario: "llama3-8b", SHA256: strings.Repeat("0", 64), Fixed: []string{},
		Keys: []scenarios.SweepKey{{Path: "trials", Values: []string{"1", "2"}}}}
	sf := shardFile{Format: shardFormat, sweepDef: def, Points: 2, Shard: shard, Shards: shards, Complete: complete}
	for k := shard; k < 2; k += shards {
		row := sweepRow{Point: k, Set: study.ValuesOf(def.Point(k))}
		if k == 0 {
			row.Result = &run.Result{Scenario: "llama3-8b", StepTimeS: 1, ETTR: 1, Trials: 1}
		} else {
			row.Error = "a layout that does not fit"
		}
		sf.Rows = append(sf.Rows, row)
	}
	b, err := json.Marshal(sf)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzMergeShard merges an arbitrary shard file with a valid one: it must
// never panic or hang, refuse a damaged file as bad input, and never print
// NaN or infinity. The seed corpus runs with plain go test.
func FuzzMergeShard(f *testing.F) {
	f.Add(seedShard(f, 1, 2, true))
	f.Add(seedShard(f, 1, 2, false))
	f.Add(seedShard(f, 0, 1, true))
	f.Add([]byte(`{"format":"clustersim-sweep-shard/1","points":1000000000000000000,"shard":1,"shards":2000000000000000000,"complete":true,"keys":[{"Path":"trials","Values":["1"]}],"rows":[]}`))
	f.Add([]byte(`{"format":"clustersim-sweep-shard/1","points":2,"shard":1,"shards":2,"complete":true,"keys":[{"Path":"trials","Values":["1","2"]}],"rows":[{"point":1,"set":["2"],"result":{"step_time_s":1e999}}]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	dir := f.TempDir()
	first := filepath.Join(dir, "shard-0.json")
	if err := os.WriteFile(first, seedShard(f, 0, 2, true), 0o644); err != nil {
		f.Fatal(err)
	}
	second := filepath.Join(dir, "shard-1.json") // one fuzzing process runs one input at a time
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(second, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, fm := range []format{"table", "json", "csv"} {
			var out, errb bytes.Buffer
			err := runMerge(&streams{out: &out, err: &errb}, &mergeOptions{files: []string{first, second}, format: fm})
			if err != nil && exitCode(err) != exitUsage {
				t.Fatalf("merge: %v (exit %d), want a usage error", err, exitCode(err))
			}
			if nonFinite.Match(out.Bytes()) {
				t.Fatalf("merge printed a non-finite number:\n%s", out.Bytes())
			}
		}
	})
}

// FuzzParseShard: --shard never panics and accepts only 0 <= i < n.
func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "-1/4", "1/0", "a/b", "1/", "/1", "1/2/3", "9223372036854775807/9223372036854775807", " 1/2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, n, err := parseShard(s)
		if err == nil && !(0 <= i && i < n) {
			t.Fatalf("parseShard(%q) = %d/%d", s, i, n)
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Fatalf("parseShard(%q): %v is not a usage error", s, err)
		}
	})
}

// FuzzSweepSet: a sweep's --set value list never panics in splitting, and
// defining the sweep either refuses it as bad input or gives keys with
// values whose point count is computed without materialising them.
func FuzzSweepSet(f *testing.F) {
	for _, s := range []string{"cluster.gpus=4096,8192", `name="a,b",c`, "trials=1,2,3", "parallelism.pp=[1,2],3", "x=", "=1", "trials=,", "seed={a,b}", "trials=1,'2"} {
		f.Add(s, "seed=1,2")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		vals := study.SplitValues(a)
		if len(vals) == 0 {
			t.Fatalf("study.SplitValues(%q) is empty", a)
		}
		def, err := study.Define("llama3-8b", nil, []string{a, b})
		if err != nil {
			if exitCode(err) != exitUsage {
				t.Fatalf("study.Define(%q, %q): %v is not a usage error", a, b, err)
			}
			return
		}
		n, ok := def.Count()
		if ok && n > 0 {
			_ = def.Point(n - 1)
		}
	})
}
