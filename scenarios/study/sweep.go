package study

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/scenarios/validation"
	"github.com/clustersim/clustersim/sim"
	"github.com/clustersim/clustersim/sim/run"
)

// Def is what defines a sweep; shard files carry it so that merge can
// check they belong together.
type Def struct {
	Scenario string `json:"scenario"`
	// SHA256 is the scenario file's (or built-in's) contents, hashed.
	SHA256 string               `json:"scenario_sha256"`
	Fixed  []string             `json:"fixed"` // overrides of every point
	Keys   []scenarios.SweepKey `json:"keys"`
}

// Count is the number of points (ok false beyond 2^62).
func (d Def) Count() (int, bool) { return scenarios.Sweep(d.Keys).Count() }

// Point returns point k's overrides, the last key fastest.
func (d Def) Point(k int) []string { return scenarios.Sweep(d.Keys).Point(k) }

// ShardPoints is how many of n points shard i of shards runs: those whose
// index is i modulo shards.
func ShardPoints(n, i, shards int) int {
	if i >= n {
		return 0
	}
	return (n-i-1)/shards + 1
}

// Row is one point's outcome.
type Row struct {
	Point  int         `json:"point"`
	Set    []string    `json:"set"` // the value of each key
	Error  string      `json:"error,omitempty"`
	Result *run.Result `json:"result,omitempty"`
}

// SplitValues splits a --set value list at the commas outside brackets,
// braces and quotes.
func SplitValues(s string) []string {
	var out []string
	depth, start := 0, 0
	var quote rune
	for i, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// Define reads the scenario's sweep block and adds the keys of sets
// (path=v1,v2,...); fixed are overrides of every point. Bad lists are
// *InputError.
func Define(scenario string, fixed, sets []string) (Def, error) {
	def := Def{Scenario: scenario, Fixed: slices.Clone(fixed)}
	if def.Fixed == nil {
		def.Fixed = []string{}
	}
	_, sc, err := scenarios.ResolveAnyLayout(scenario)
	if err != nil {
		return def, err
	}
	def.Keys = slices.Clone(sc.Sweep)
	var given []string
	for _, s := range sets {
		path, list, ok := strings.Cut(s, "=")
		path = strings.TrimSpace(path)
		if !ok || path == "" {
			return def, inputf("--set %q: want path=v1,v2,... (e.g. cluster.gpus=4096,8192)", s)
		}
		if err := scenarios.CheckSetPath(path); err != nil {
			return def, inputf("--set %s: %v", path, err)
		}
		k := scenarios.SweepKey{Path: path, Values: SplitValues(list)}
		for _, v := range k.Values {
			if v == "" {
				return def, inputf("--set %q: empty value in the list", s)
			}
		}
		if slices.Contains(given, path) {
			return def, inputf("--set %s is given twice: give all its values in one list, e.g. --set %s=v1,v2", path, path)
		}
		given = append(given, path)
		if i := slices.IndexFunc(def.Keys, func(x scenarios.SweepKey) bool { return x.Path == path }); i >= 0 {
			def.Keys[i] = k
		} else {
			def.Keys = append(def.Keys, k)
		}
	}
	if len(def.Keys) == 0 {
		return def, inputf("nothing to sweep: give --set path=v1,v2,... or a sweep: block in the scenario")
	}
	data, err := ScenarioBytes(scenario)
	if err != nil {
		return def, err
	}
	h := sha256.Sum256(data)
	def.SHA256 = hex.EncodeToString(h[:])
	return def, nil
}

// ScenarioBytes is the scenario as written: a built-in's embedded YAML or
// the file's bytes, comments included.
func ScenarioBytes(name string) ([]byte, error) {
	if slices.Contains(scenarios.Names(), name) {
		return scenarios.BuiltinYAML(name)
	}
	return os.ReadFile(name)
}

// CheckValues loads the scenario with each value on its own and returns
// the errors that are about the value itself (its key, from --set): a
// value that no point can use.
func (d Def) CheckValues() error {
	var errs []error
	for _, k := range d.Keys {
		for _, v := range k.Values {
			set := k.Path + "=" + v
			_, _, err := scenarios.Resolve(d.Scenario, append(slices.Clone(d.Fixed), set)...)
			for _, e := range FlattenErrors(err) {
				var se *scenarios.Error
				if errors.As(e, &se) && se.File == scenarios.SetFile && se.Key == k.Path {
					errs = append(errs, &scenarios.Error{File: "sweep", Key: k.Path, Msg: fmt.Sprintf("value %q: %s", v, se.Msg)})
				}
			}
		}
	}
	return errors.Join(errs...)
}

// ValuesOf returns the values of a point's overrides, in key order.
func ValuesOf(sets []string) []string {
	out := make([]string, len(sets))
	for i, s := range sets {
		_, out[i], _ = strings.Cut(s, "=")
	}
	return out
}

// PointOptions control RunPoints.
type PointOptions struct {
	// Shard and Shards select the points whose index is Shard modulo
	// Shards; Shards 0 means 1.
	Shard, Shards int
	// Budget bounds each point's run.
	Budget run.Budget
	// Workers is the number of points run at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called with the points finished and the
	// total, from several goroutines.
	Progress func(done, total int)
	// NoShare simulates every point's step itself instead of sharing
	// steps between points (to check that sharing changes nothing).
	NoShare bool
}

// RunPoints simulates the selected points in parallel, generating each
// point's overrides from its index as it starts, and returns their rows in
// index order; on cancellation, the rows that finished and ctx's error.
// Each result carries the model-error band (WithModelError) and no
// timeline or per-trial days.
func RunPoints(ctx context.Context, def Def, opt PointOptions) ([]Row, error) {
	shards := max(opt.Shards, 1)
	n, ok := def.Count()
	if !ok {
		return nil, inputf("sweep: more than 2^62 points")
	}
	count := ShardPoints(n, opt.Shard, shards)
	rows := make([]Row, count)
	done := make([]bool, count)
	var cache *StepCache
	if !opt.NoShare {
		cache = &StepCache{}
	}
	if opt.Progress != nil {
		opt.Progress(0, count)
	}
	var finished atomic.Int64
	sim.Parallel(ctx, count, opt.Workers, func(j int) {
		k := opt.Shard + j*shards
		sets := def.Point(k)
		row := Row{Point: k, Set: ValuesOf(sets)}
		spec, _, err := resolvePoint(def, k)
		if err == nil {
			var res run.Result
			ro := run.Options{Budget: opt.Budget}
			if cache != nil {
				ro.Step = cache.Simulate
			}
			res, err = run.SimulateWith(ctx, spec, ro)
			if err == nil {
				WithModelError(spec, &res)
				// what no sweep output shows: a point holds its summary only
				res.Timeline, res.TrialWallClockDays = nil, nil
				row.Result = &res
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return // interrupted: the point did not finish
			}
			row.Error = OneLine(err)
		}
		rows[j], done[j] = row, true
		if opt.Progress != nil {
			opt.Progress(int(finished.Add(1)), count)
		}
	})
	var out []Row
	for j, r := range rows {
		if done[j] {
			out = append(out, r)
		}
	}
	return out, ctx.Err()
}

// OneLine joins a (joined) error's lines.
func OneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// WithModelError sets r's model-error band, from the validation suite's
// summary embedded in the binary (scenarios/validation, accuracy.json),
// for the scenario's GPU type and precision, and r's 6·N·D.
func WithModelError(spec run.Spec, r *run.Result) {
	m := validation.ModelErrorOf(spec)
	r.ModelErrorPct, r.ModelError = m.BandPct, &m
	r.SixNDFLOPs = 6 * r.Params * r.Tokens
}

// resolvePoint is point k's run spec.
func resolvePoint(def Def, k int) (run.Spec, *scenarios.Scenario, error) {
	return scenarios.Resolve(def.Scenario, append(slices.Clone(def.Fixed), def.Point(k)...)...)
}
