package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/sim/run"
)

type sweepOptions struct {
	scenario string
	sets     []string // --set path=v1,v2,...
	trials   int
	seed     uint64
	fixed    []string // overrides of every point (--trials, --seed)
	format   format
	plot     string
	metric   string
	shard    string // "i/n"
	out      string
}

func newSweepCmd(io *streams, runF func(context.Context, *sweepOptions) error) *cobra.Command {
	o := &sweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO --set path=v1,v2,... [--set ...]",
		Short: "Simulate the cartesian product of scenario values, one row per point",
		Long: `Simulate every combination of the values given with --set path=v1,v2,...
(and in the scenario's sweep: block), each point being the scenario with
those overrides, as 'clustersim run' would simulate it. Points run in
parallel, each on its own engines; the output is the same whatever the
number of CPUs. The last key varies fastest.

A value list splits at commas outside brackets and quotes: --set
'name="a,b",c' has two values. A --set with one value is swept over one
value (it shows in the output like the others). A --set path already in the
scenario's sweep: block replaces its values.

A point whose value is bad on its own (a wrong type, an unknown name, a GPU
count that is not whole nodes) stops the sweep before it starts (exit 2). A
point that is inconsistent (a layout that does not divide or fit) gets an
error in its row and the others run; if no point runs, the exit status is 2.

--plot FILE draws the --metric (default tokens_per_s) against the swept key
as a line chart, or over two swept keys as a heat map (PNG, SVG or PDF by
the file's extension).

--shard i/n runs only the points whose index is i modulo n (i from 0) and
writes them, with what defines the sweep, to --out (default
sweep-shard-I-of-N.json); 'clustersim merge' combines the shard files into
the output the whole sweep gives. See README.md for Slurm and Kubernetes.

Ctrl-C stops the sweep: the points that finished are printed (or written to
the shard file) and the exit status is 130.`,
		Example: `  clustersim sweep llama3-405b --set cluster.gpus=4096,8192,16384
  clustersim sweep llama3-405b --set cluster.gpus=8192,16384 --set cluster.network.oversubscription=1,3,7 --plot sweep.png
  clustersim sweep my-sweep.yaml --format csv > points.csv
  clustersim sweep llama3-70b --set parallelism.pp=2,4,8 --shard 0/3 --out shard-0.json`,
		Args:              positional(cobra.ExactArgs(1)),
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scenario = args[0]
			if cmd.Flags().Changed("trials") {
				o.fixed = append(o.fixed, fmt.Sprintf("trials=%d", o.trials))
			}
			if cmd.Flags().Changed("seed") {
				o.fixed = append(o.fixed, fmt.Sprintf("seed=%d", o.seed))
			}
			if err := checkMetric(o.metric); err != nil {
				return err
			}
			if o.plot != "" {
				if _, err := plotFormat(o.plot); err != nil {
					return err
				}
			}
			if o.shard != "" {
				if _, _, err := parseShard(o.shard); err != nil {
					return err
				}
				if o.plot != "" {
					return usagef("--plot draws the whole sweep: give it to 'clustersim merge', not to a --shard run")
				}
			} else if cmd.Flags().Changed("out") {
				return usagef("--out names a shard's result file: use it with --shard i/n")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runSweep(cmd.Context(), io, o)
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&o.sets, "set", nil, "sweep a scenario key over values: --set path=v1,v2,... (repeatable)")
	fs.IntVar(&o.trials, "trials", 0, "Monte Carlo trials of each point's run (default: the scenario's)")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed of every point (default: the scenario's)")
	fs.StringVar(&o.plot, "plot", "", "write a chart of --metric to FILE (.png, .svg or .pdf)")
	fs.StringVar(&o.metric, "metric", "tokens_per_s", "the run key --plot draws (e.g. step_time_s, mfu, wall_clock_days)")
	fs.StringVar(&o.shard, "shard", "", "run the i-th of n slices of the points (i from 0) and write a shard file")
	fs.StringVar(&o.out, "out", "", "the shard file to write (default sweep-shard-I-of-N.json)")
	addFormatFlag(fs, &o.format)
	return cmd
}

type mergeOptions struct {
	files  []string
	format format
	plot   string
	metric string
}

func newMergeCmd(io *streams, runF func(context.Context, *mergeOptions) error) *cobra.Command {
	o := &mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge FILES...",
		Short: "Combine the shard files of a sweep run with --shard into the sweep's output",
		Long: `Combine the result files that 'clustersim sweep --shard i/n' wrote into the
output the whole sweep gives, byte for byte. The files must come from one
sweep (the same scenario, file contents, keys and values, and n) and cover
every shard once.`,
		Example: `  clustersim merge sweep-shard-*-of-8.json
  clustersim merge shards/*.json --format csv --plot sweep.svg`,
		Args: positional(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			if err := checkMetric(o.metric); err != nil {
				return err
			}
			if o.plot != "" {
				if _, err := plotFormat(o.plot); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runMerge(io, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.plot, "plot", "", "write a chart of --metric to FILE (.png, .svg or .pdf)")
	fs.StringVar(&o.metric, "metric", "tokens_per_s", "the run key --plot draws")
	addFormatFlag(fs, &o.format)
	return cmd
}

// shardFile is what `sweep --shard` writes.
type shardFile struct {
	Format string `json:"format"`
	sweepDef
	Points   int        `json:"points"`
	Shard    int        `json:"shard"`
	Shards   int        `json:"shards"`
	Complete bool       `json:"complete"`
	Rows     []sweepRow `json:"rows"`
}

const shardFormat = "clustersim-sweep-shard/1"

// sweepDef and sweepRow are the study package's sweep and point.
type (
	sweepDef = study.Def
	sweepRow = study.Row
)

func parseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, usagef("--shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// runPoints simulates the points of a shard (study.RunPoints) with the
// progress meter on io.
func runPoints(ctx context.Context, io *streams, def sweepDef, shard, shards int) ([]sweepRow, error) {
	m := newProgress(io)
	var once sync.Once
	rows, err := study.RunPoints(ctx, def, study.PointOptions{Shard: shard, Shards: shards, Budget: io.limits.budget(),
		Progress: func(done, total int) {
			once.Do(func() { m.begin("sweep points", total) })
			m.set(done)
		}})
	m.end()
	return rows, err
}

func runSweep(ctx context.Context, io *streams, o *sweepOptions) error {
	def, err := study.Define(o.scenario, o.fixed, o.sets)
	if err != nil {
		return err
	}
	shard, shards := 0, 1
	if o.shard != "" {
		shard, shards, _ = parseShard(o.shard)
	}
	n, ok := def.Count()
	count := study.ShardPoints(n, shard, shards)
	if !ok || count > io.limits.points() {
		return tooManyPoints(def, n, ok, count, shards, io.limits.points())
	}
	if err := def.CheckValues(); err != nil {
		return err
	}
	if o.plot != "" {
		if _, err := sweepChartAxes(def); err != nil {
			return err
		}
	}
	rows, runErr := runPoints(ctx, io, def, shard, shards)
	interrupted := errors.Is(runErr, context.Canceled)
	if runErr != nil && !interrupted {
		return runErr
	}
	if o.shard != "" {
		out := o.out
		if out == "" {
			out = fmt.Sprintf("sweep-shard-%d-of-%d.json", shard, shards)
		}
		sf := shardFile{Format: shardFormat, sweepDef: def, Points: n, Shard: shard, Shards: shards, Complete: !interrupted, Rows: rows}
		if err := writeJSONFile(out, sf); err != nil {
			return err
		}
		fmt.Fprintf(io.err, "wrote %d of %d points to %s\n", len(rows), n, out)
	} else if err := emitSweep(io.out, o.format, o.plot, o.metric, def, rows); err != nil {
		return err
	}
	if interrupted {
		return &interruptedError{what: fmt.Sprintf("the %d of %d points that finished", len(rows), count)}
	}
	return allFailed(rows)
}

// tooManyPoints refuses a sweep (or shard) of more points than the limit,
// naming the keys and their value counts.
func tooManyPoints(def sweepDef, n int, ok bool, count, shards, limit int) error {
	var parts []string
	for _, k := range def.Keys {
		parts = append(parts, fmt.Sprintf("%s (%d values)", k.Path, len(k.Values)))
	}
	total := fmt.Sprint(n)
	if !ok {
		total = "more than 2^62"
	}
	what := fmt.Sprintf("%s points", total)
	if shards > 1 {
		what = fmt.Sprintf("%s points, %d in this shard", total, count)
	}
	return usagef("sweep: %s makes %s, over the limit of %d; sweep fewer values, split it with --shard i/n, or raise the limit with --max-points",
		strings.Join(parts, " × "), what, limit)
}

// allFailed is a usage error when no point could run.
func allFailed(rows []sweepRow) error {
	for _, r := range rows {
		if r.Error == "" {
			return nil
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return usagef("no point of the sweep could run; the first: %s", rows[0].Error)
}

func runMerge(io *streams, o *mergeOptions) error {
	var first *shardFile
	seen := map[int]string{}
	var rows []sweepRow
	for _, f := range o.files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var sf shardFile
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sf); err != nil || sf.Format != shardFormat {
			return usagef("%s is not a sweep shard file (%s): %v", f, shardFormat, err)
		}
		if err := checkShardFile(&sf); err != nil {
			return usagef("%s is damaged: %v", f, err)
		}
		if first == nil {
			first = &sf
		} else if !sameSweep(first, &sf) {
			return usagef("%s comes from another sweep than %s (scenario, its contents, keys, values or shard count differ)", f, o.files[0])
		}
		if prev, ok := seen[sf.Shard]; ok {
			return usagef("shard %d/%d is in both %s and %s", sf.Shard, sf.Shards, prev, f)
		}
		seen[sf.Shard] = f
		if !sf.Complete {
			return usagef("%s is shard %d/%d of an interrupted run: %d of its points are missing; run that shard again", f, sf.Shard, sf.Shards, missingOf(&sf))
		}
		rows = append(rows, sf.Rows...)
	}
	var missing []string
	for i := 0; i < first.Shards && len(missing) < 20; i++ {
		if _, ok := seen[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, first.Shards))
		}
	}
	if n := first.Shards - len(seen); n > len(missing) {
		missing = append(missing, fmt.Sprintf("and %d more", n-len(missing)))
	}
	if len(missing) > 0 {
		return usagef("missing shards %s: run 'clustersim sweep ... --shard' for them", strings.Join(missing, ", "))
	}
	slices.SortFunc(rows, func(a, b sweepRow) int { return a.Point - b.Point })
	for i, r := range rows {
		if r.Point != i {
			return usagef("the shard files hold point %d where point %d belongs: they are damaged", r.Point, i)
		}
	}
	if len(rows) != first.Points {
		return usagef("the shard files hold %d of %d points", len(rows), first.Points)
	}
	if o.plot != "" {
		if _, err := sweepChartAxes(first.sweepDef); err != nil {
			return err
		}
	}
	if err := emitSweep(io.out, o.format, o.plot, o.metric, first.sweepDef, rows); err != nil {
		return err
	}
	return allFailed(rows)
}

// checkShardFile checks what a shard file says of itself: a shard of its
// sweep's points, rows of that shard with a value per key, results that
// are finite.
func checkShardFile(sf *shardFile) error {
	if sf.Shards < 1 || sf.Shard < 0 || sf.Shard >= sf.Shards {
		return fmt.Errorf("shard %d/%d: want 0 <= i < n", sf.Shard, sf.Shards)
	}
	if len(sf.Keys) == 0 {
		return fmt.Errorf("no swept keys")
	}
	for _, k := range sf.Keys {
		if len(k.Values) == 0 {
			return fmt.Errorf("key %q has no values", k.Path)
		}
	}
	n, ok := sf.Count()
	if !ok || n != sf.Points {
		return fmt.Errorf("%d points, but its keys make %d", sf.Points, n)
	}
	want := study.ShardPoints(sf.Points, sf.Shard, sf.Shards)
	if len(sf.Rows) > want {
		return fmt.Errorf("%d rows, but shard %d/%d of %d points has %d", len(sf.Rows), sf.Shard, sf.Shards, sf.Points, want)
	}
	for _, r := range sf.Rows {
		if r.Point < 0 || r.Point >= sf.Points || r.Point%sf.Shards != sf.Shard {
			return fmt.Errorf("point %d does not belong to shard %d/%d of %d points", r.Point, sf.Shard, sf.Shards, sf.Points)
		}
		if want := study.ValuesOf(sf.Point(r.Point)); !slices.Equal(r.Set, want) {
			return fmt.Errorf("point %d has values %q, want %q", r.Point, r.Set, want)
		}
		if (r.Result == nil) == (r.Error == "") {
			return fmt.Errorf("point %d needs exactly one of a result and an error", r.Point)
		}
		if r.Result != nil {
			if err := run.CheckFinite(*r.Result); err != nil {
				return fmt.Errorf("point %d: %v", r.Point, err)
			}
		}
	}
	return nil
}

func missingOf(sf *shardFile) int {
	return study.ShardPoints(sf.Points, sf.Shard, sf.Shards) - len(sf.Rows)
}

func sameSweep(a, b *shardFile) bool {
	ja, _ := json.Marshal(a.sweepDef)
	jb, _ := json.Marshal(b.sweepDef)
	return bytes.Equal(ja, jb) && a.Points == b.Points && a.Shards == b.Shards
}

// emitSweep writes the rows in format and, with plotFile, the chart.
func emitSweep(w io.Writer, f format, plotFile, metric string, def sweepDef, rows []sweepRow) error {
	var err error
	switch f {
	case "json":
		err = writeSweepJSON(w, def, rows)
	case "csv":
		err = writeCSV(w, sweepCSV(def, rows))
	default:
		err = writeSweepTable(w, def, rows)
	}
	if err != nil || plotFile == "" {
		return err
	}
	return writeSweepPlot(plotFile, metric, def, rows)
}

// setJSON writes the point's values as an object in key order: numbers
// and booleans as such, anything else as a string.
func setJSON(def sweepDef, values []string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range def.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(k.Path)
		b.Write(key)
		b.WriteByte(':')
		v := values[i]
		if v == "true" || v == "false" || json.Valid([]byte(v)) && (v[0] == '-' || v[0] >= '0' && v[0] <= '9') {
			b.WriteString(v)
		} else {
			s, _ := json.Marshal(v)
			b.Write(s)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeSweepJSON(w io.Writer, def sweepDef, rows []sweepRow) error {
	out := make([]json.RawMessage, 0, len(rows))
	for _, r := range rows {
		var b bytes.Buffer
		b.WriteString(`{"set":`)
		b.Write(setJSON(def, r.Set))
		if r.Result == nil {
			msg, _ := json.Marshal(r.Error)
			b.WriteString(`,"error":`)
			b.Write(msg)
			b.WriteByte('}')
		} else {
			res, err := json.Marshal(r.Result)
			if err != nil {
				return err
			}
			b.WriteByte(',')
			b.Write(res[1:])
		}
		out = append(out, b.Bytes())
	}
	return writeJSON(w, out)
}

func sweepCSV(def sweepDef, rows []sweepRow) [][]string {
	var head []string
	for _, k := range def.Keys {
		head = append(head, k.Path)
	}
	out := runCSV(head, nil)
	out[0] = append(out[0], "error")
	for _, r := range rows {
		row := slices.Clone(r.Set)
		for _, c := range runColumns {
			if r.Result == nil {
				row = append(row, "")
			} else {
				row = append(row, c.get(*r.Result))
			}
		}
		out = append(out, append(row, r.Error))
	}
	return out
}

func writeSweepTable(w io.Writer, def sweepDef, rows []sweepRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var head []string
	for _, k := range def.Keys {
		head = append(head, strings.ToUpper(k.Path))
	}
	head = append(head, "STEP (s)", "TOKENS/S", "TFLOPS/GPU", "MFU", "MEMORY (GiB)", "DAYS", "ETTR", "GPU-HOURS")
	failed := slices.ContainsFunc(rows, func(r sweepRow) bool { return r.Result == nil })
	if failed {
		head = append(head, "ERROR")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		cells := slices.Clone(r.Set)
		if x := r.Result; x != nil {
			cells = append(cells, num(x.StepTimeS), num(x.TokensPerS), num(x.TFLOPSPerGPU), fmt.Sprintf("%.1f%%", 100*x.MFU),
				num(x.MemoryGiBPerGPU), num(x.WallClockDays), fmt.Sprintf("%.3f", x.ETTR), num(x.GPUHours))
			if failed {
				cells = append(cells, "")
			}
		} else {
			cells = append(cells, "-", "-", "-", "-", "-", "-", "-", "-", r.Error)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// checkMetric accepts the numeric run keys.
func checkMetric(m string) error {
	var names []string
	for _, c := range runColumns {
		if c.name == "scenario" {
			continue
		}
		if c.name == m {
			return nil
		}
		names = append(names, c.name)
	}
	return usagef("--metric %q: want one of %s", m, strings.Join(names, ", "))
}

func plotFormat(file string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(file), "."))
	switch ext {
	case "png", "svg", "pdf":
		return ext, nil
	}
	return "", usagef("--plot %q: want a .png, .svg or .pdf file", file)
}

// sweepChartAxes returns the swept keys the chart spans: those with more
// than one value, one (a line chart) or two (a heat map).
func sweepChartAxes(def sweepDef) ([]int, error) {
	var axes []int
	for i, k := range def.Keys {
		if len(k.Values) > 1 {
			axes = append(axes, i)
		}
	}
	if len(axes) < 1 || len(axes) > 2 {
		return nil, usagef("--plot draws a sweep over one key (a line chart) or two (a heat map); this one varies %d keys", len(axes))
	}
	return axes, nil
}

func writeSweepPlot(file, metric string, def sweepDef, rows []sweepRow) error {
	axes, err := sweepChartAxes(def)
	if err != nil {
		return err
	}
	ext, err := plotFormat(file)
	if err != nil {
		return err
	}
	axis := func(i int) plots.SweepAxis {
		k := def.Keys[i]
		a := plots.SweepAxis{Key: k.Path, Values: k.Values}
		for _, v := range k.Values {
			x, err := scenarios.ParseQuantity(v)
			if err != nil {
				return plots.SweepAxis{Key: k.Path, Values: k.Values}
			}
			a.Numbers = append(a.Numbers, x)
		}
		return a
	}
	c := plots.SweepChart{Metric: metric, X: axis(axes[0])}
	if len(axes) == 2 {
		y := axis(axes[1])
		c.Y = &y
	}
	ny := 1
	if c.Y != nil {
		ny = len(c.Y.Values)
	}
	c.Z = make([][]float64, len(c.X.Values))
	for i := range c.Z {
		c.Z[i] = make([]float64, ny)
		for j := range c.Z[i] {
			c.Z[i][j] = math.NaN()
		}
	}
	var get func(run.Result) string
	for _, col := range runColumns {
		if col.name == metric {
			get = col.get
		}
	}
	for _, r := range rows {
		if r.Result == nil {
			continue
		}
		i := slices.Index(c.X.Values, r.Set[axes[0]])
		j := 0
		if c.Y != nil {
			j = slices.Index(c.Y.Values, r.Set[axes[1]])
		}
		if v, err := strconv.ParseFloat(get(*r.Result), 64); err == nil && i >= 0 && j >= 0 {
			c.Z[i][j] = v
		}
	}
	return writeFileAtomic(file, func(w io.Writer) error { return plots.WriteSweep(w, ext, c) })
}

// writeJSONFile writes v as indented JSON to path.
func writeJSONFile(path string, v any) error {
	return writeFileAtomic(path, func(w io.Writer) error { return writeJSON(w, v) })
}

// writeFileAtomic writes a file through a temporary one, keeping the
// Close error, so that an interrupted write leaves no half file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
