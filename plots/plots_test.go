package plots

import (
	"bytes"
	"flag"
	"image/png"
	"math"
	"path/filepath"
	"testing"

	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// fixture is a one-phase run whose trial 0 is worked out by hand:
// 10,000 s of training (100 steps of 100 s) at 400 TFLOPS/GPU, a
// checkpoint started at 4,000 s (10 s stall, written at 4,030 s), a
// failure at 6,010 s that loses the 2,000 s trained since the snapshot, a
// 600 s restart, the 2,000 s redone, and the last 4,000 s to 12,610 s.
func fixture() run.Result {
	ck := run.Checkpoint{Bytes: 5.7e12, WriteS: 30, StallS: 10, IntervalS: 4000, MTBFS: 11000}
	return run.Result{
		Scenario: "fixture", GPUs: 1024, TFLOPSPerGPU: 400, MFU: 0.4, StepTimeS: 100, Trials: 3,
		WallClockDays: 12610.0 / 86400, WallClockDaysCI: run.Interval{Mean: 12610.0 / 86400, P5: 0.14, P95: 0.15},
		ETTR: 10000.0 / 12610, Interruptions: 1, Checkpoints: 1, Checkpoint: ck,
		InterruptionsByCause: map[string]float64{"faulty_gpu": 0.67, "software_bug": 0.33, "maintenance": 0.2},
		PlannedInterruptions: 0.2,
		Breakdown:            run.Breakdown{Compute: 70, TPComm: 10, PPBubble: 12, PPComm: 1, DPComm: 2, Optimizer: 0.5, Straggler: 4.5},
		Phases:               []run.PhaseResult{{Name: "main", GPUs: 1024, Steps: 100, StepTimeS: 100, TFLOPSPerGPU: 400, Checkpoint: ck}},
		Timeline: []run.Event{
			{TimeS: 4030, Kind: "checkpoint"},
			{TimeS: 6010, Kind: "failure", Cause: "faulty_gpu", LostS: 2000},
			{TimeS: 6610, Kind: "restart_done"},
		},
		TrialWallClockDays: []float64{12610.0 / 86400, 0.14, 0.15},
	}
}

func TestUtilizationSegments(t *testing.T) {
	r := fixture()
	segs, err := UtilizationSegments(r)
	if err != nil {
		t.Fatal(err)
	}
	// The timeline of fixture's comment, segment by segment.
	want := []Segment{
		{0, 4000, Training, 0, 400},
		{4000, 4010, Checkpointing, 0, 0},
		{4010, 6010, Training, 0, 400},
		{6010, 6610, Down, 0, 0},
		{6610, 8610, Redo, 0, 0},
		{8610, 12610, Training, 0, 400},
	}
	if len(segs) != len(want) {
		t.Fatalf("got %d segments %+v, want %d", len(segs), segs, len(want))
	}
	for i := range want {
		g, w := segs[i], want[i]
		if math.Abs(g.StartS-w.StartS) > 1e-6 || math.Abs(g.EndS-w.EndS) > 1e-6 || g.State != w.State || g.TFLOPS != w.TFLOPS {
			t.Errorf("segment %d = %+v, want %+v", i, g, w)
		}
	}
	// The time-average is TFLOPS × ETTR: 400 × 10,000 / 12,610.
	if got, want := MeanTFLOPS(segs), 400*10000.0/12610; math.Abs(got-want) > 1e-9*want {
		t.Errorf("mean = %g, want %g", got, want)
	}
	if got, want := trialETTR(r), 10000.0/12610; math.Abs(got-want) > 1e-12 {
		t.Errorf("trial ETTR = %g, want %g", got, want)
	}
	// Binning keeps the integral: Σ bin mean × bin width = Σ segment rate × length.
	bins := binSegments(segs, 1000)
	var a, b float64
	for _, x := range bins {
		a += x.TFLOPS * (x.EndS - x.StartS)
	}
	for _, s := range segs {
		b += s.TFLOPS * (s.EndS - s.StartS)
	}
	if math.Abs(a-b) > 1e-9*b {
		t.Errorf("binned integral %g, segments %g", a, b)
	}
	if n := len(bins); n != 13 || bins[n-1].EndS != 12610 {
		t.Errorf("bins: %d ending at %g, want 13 ending at 12610", n, bins[n-1].EndS)
	}
}

// TestUtilizationPhasesAndLemons: a relaunch between phases is down time, a
// slow node divides the rate by its factor, and each phase trains at its
// own rate.
func TestUtilizationPhasesAndLemons(t *testing.T) {
	r := run.Result{
		Phases: []run.PhaseResult{{TFLOPSPerGPU: 300}, {TFLOPSPerGPU: 500}},
		Timeline: []run.Event{
			{TimeS: 100, Kind: "lemon", Factor: 1.25},
			{TimeS: 200, Kind: "lemon_replaced"},
			{TimeS: 250, Kind: "restart_done"},
			{TimeS: 300, Kind: "phase", Phase: 1},
			{TimeS: 300, Kind: "relaunch", Phase: 1},
			{TimeS: 340, Kind: "restart_done", Phase: 1},
		},
		TrialWallClockDays: []float64{400.0 / 86400},
	}
	segs, err := UtilizationSegments(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{0, 100, Training, 0, 300},
		{100, 200, Training, 0, 240}, // 300 / 1.25
		{200, 250, Down, 0, 0},
		{250, 300, Training, 0, 300},
		{300, 340, Down, 1, 0},
		{340, 400, Training, 1, 500},
	}
	if len(segs) != len(want) {
		t.Fatalf("got %+v, want %+v", segs, want)
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, segs[i], want[i])
		}
	}
}

func TestBreakdownStacks(t *testing.T) {
	bars := []BreakdownBar{
		{Label: "a", Breakdown: run.Breakdown{Compute: 4, TPComm: 0.5, CPComm: 0.1, EPComm: 0.2, Offload: 0.15, PPBubble: 0.6, PPComm: 0.02, DPComm: 0.06, Optimizer: 0.003, Straggler: 0.3}},
		{Label: "b", Breakdown: run.Breakdown{Compute: 3, PPBubble: 5}},
	}
	st := BreakdownStacks(bars)
	if len(st) != 10 {
		t.Fatalf("%d parts, want the 10 of breakdown_s", len(st))
	}
	// Each bar's stack is its breakdown, part by part, and its height the sum.
	for j, b := range bars {
		sum := 0.0
		for i, p := range BreakdownParts {
			if st[i][j] != p.Get(b.Breakdown) {
				t.Errorf("bar %s part %s = %g, want %g", b.Label, p.Key, st[i][j], p.Get(b.Breakdown))
			}
			sum += st[i][j]
		}
		bb := b.Breakdown
		if want := bb.Compute + bb.TPComm + bb.CPComm + bb.EPComm + bb.Offload + bb.PPBubble + bb.PPComm + bb.DPComm + bb.Optimizer + bb.Straggler; math.Abs(sum-want) > 1e-12 {
			t.Errorf("bar %s height %g, want %g", b.Label, sum, want)
		}
	}
	keys := []string{"compute", "tp_comm", "cp_comm", "ep_comm", "offload", "pp_bubble", "pp_comm", "dp_comm", "optimizer", "straggler"}
	for i, p := range BreakdownParts {
		if p.Key != keys[i] {
			t.Errorf("part %d is %q, want %q", i, p.Key, keys[i])
		}
	}
}

func TestCauseCounts(t *testing.T) {
	c := CauseCounts(fixture(), []string{"maintenance"})
	if len(c) != 3 || c[0].Cause != "faulty_gpu" || c[2].Cause != "maintenance" || !c[2].Planned || c[0].Planned {
		t.Errorf("got %+v", c)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Breakdown("x", nil); err != ErrNoData {
		t.Errorf("no bars: %v", err)
	}
	if _, err := Breakdown("x", []BreakdownBar{{Label: "nan", Breakdown: run.Breakdown{Compute: math.NaN()}}}); err == nil {
		t.Error("NaN accepted")
	}
	if _, err := Memory("x", nil, 80, "gpu"); err != ErrNoData {
		t.Errorf("no stages: %v", err)
	}
	if _, err := Utilization(run.Result{}); err == nil {
		t.Error("empty result accepted")
	}
	if err := fixtureChart(t).Render(&bytes.Buffer{}, "gif"); err == nil {
		t.Error("unknown format accepted")
	}
}

func fixtureChart(t *testing.T) *Chart {
	c, err := Breakdown("Where the step goes", []BreakdownBar{{Label: "as run", Breakdown: fixture().Breakdown}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func stages() []model.Memory {
	// A 4-stage 1F1B pipeline: the first stage holds 4 micro batches of
	// activations, the last one.
	var m []model.Memory
	for s := 0; s < 4; s++ {
		m = append(m, model.Memory{Weights: 6 * gib, Gradients: 12 * gib, Optimizer: 2 * gib, Activations: float64(4-s) * 10 * gib, Reserved: 2 * gib})
	}
	return m
}

// TestGolden compares a few charts with the images in testdata (refresh
// them with go test ./plots -update, then look at them).
func TestGolden(t *testing.T) {
	r := fixture()
	r.TrialWallClockDays = []float64{60.1, 60.4, 60.2, 61.0, 60.8, 60.3, 60.5, 60.6, 60.2, 60.9, 61.3, 60.4}
	r.WallClockDaysCI = run.Interval{Mean: 60.56, P5: 60.1, P95: 61.3}
	r.WallClockDays = 60.56
	mk := map[string]func() (*Chart, error){
		"breakdown": func() (*Chart, error) {
			b := r.Breakdown
			b2 := b
			b2.TPComm, b2.Compute = 2, 72
			return Breakdown("Where the step goes", []BreakdownBar{{Label: "as run", Breakdown: b, Stage: 3, Stages: 4}, {Label: "tp_comm_overlap: true", Breakdown: b2, Stage: 3, Stages: 4}})
		},
		"memory": func() (*Chart, error) {
			return Memory("Peak memory per GPU by pipeline stage", stages(), 80, "h100-sxm")
		},
		"wallclock":     func() (*Chart, error) { return WallClock(r) },
		"interruptions": func() (*Chart, error) { return Interruptions(r, []string{"maintenance"}) },
	}
	for name, f := range mk {
		t.Run(name, func(t *testing.T) { golden(t, name, f) })
	}
}

// TestRender checks every chart renders as a decodable PNG of its size and
// as SVG with the fallback fonts.
func TestRender(t *testing.T) {
	r := fixture()
	charts := []func() (*Chart, error){
		func() (*Chart, error) { return Utilization(r) },
		func() (*Chart, error) { return WallClock(r) },
		func() (*Chart, error) {
			return Checkpoint("c", CheckpointSweep{Points: []CheckpointPoint{{60, run.Interval{Mean: 0.9, P5: 0.89, P95: 0.91}}, {600, run.Interval{Mean: 0.85, P5: 0.84, P95: 0.86}}}, YoungDalyS: 100, AsRunS: 600, StallS: 3, MTBFS: 3000})
		},
	}
	for _, f := range charts {
		c, err := f()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := c.Render(&buf, "png"); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w, h := c.Size()
		if b := img.Bounds(); math.Abs(float64(b.Dx())-w*DPI) > 1 || math.Abs(float64(b.Dy())-h*DPI) > 1 {
			t.Errorf("%s: %v pixels, want %.0f×%.0f", c.Name, b, w*DPI, h*DPI)
		}
		buf.Reset()
		if err := c.Render(&buf, "svg"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte("Arial")) || bytes.Contains(buf.Bytes(), []byte("font-family:Liberation Sans;")) {
			t.Errorf("%s: SVG without fallback fonts", c.Name)
		}
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	paths, err := fixtureChart(t).Save(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "breakdown.png" || filepath.Base(paths[1]) != "breakdown.svg" {
		t.Errorf("paths %v", paths)
	}
	if _, err := fixtureChart(t).Save(filepath.Join(dir, "missing")); err == nil {
		t.Error("saved into a missing directory")
	}
}

// TestZoomHeights: the zoom draws each stretch at its useful rate — the
// defect was every state drawn at the phase's full rate. The fixture's
// stretches (see fixture): 400 training, 0 down, 0 redo; a slow node at
// factor 1.25 gives 400/1.25 = 320.
func TestZoomHeights(t *testing.T) {
	r := fixture()
	r.Timeline = append(r.Timeline, run.Event{TimeS: 9000, Kind: "lemon", Factor: 1.25})
	segs, err := UtilizationSegments(r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"training": 400, "down: restart (no progress)": 0, "redoing lost work (no progress)": 0, "checkpoint stall": 0, "training with a slow node": 320}
	got := map[string]bool{}
	for _, z := range zoomStretches(r, segs, 0, 1e9) {
		w, ok := want[z.State]
		if !ok {
			t.Errorf("unknown state %q", z.State)
			continue
		}
		got[z.State] = true
		if math.Abs(z.Height-w) > 1e-9 {
			t.Errorf("%s drawn at %g TFLOPS, want %g", z.State, z.Height, w)
		}
	}
	for s := range want {
		if !got[s] {
			t.Errorf("no %s stretch", s)
		}
	}
}

// TestCauseMarksFixed: a cause has the same colour and shape whatever its
// rank in the run (the defect: colours went by rank).
func TestCauseMarksFixed(t *testing.T) {
	a := []run.Event{{Kind: "failure", Cause: "faulty_gpu"}, {Kind: "failure", Cause: "software_bug"}, {Kind: "failure", Cause: "software_bug"}}
	b := []run.Event{{Kind: "failure", Cause: "faulty_gpu"}, {Kind: "failure", Cause: "faulty_gpu"}, {Kind: "failure", Cause: "software_bug"}}
	find := func(rows []causeGroup, label string) causeGroup {
		for _, r := range rows {
			if r.label == label {
				return r
			}
		}
		t.Fatalf("no row %q", label)
		return causeGroup{}
	}
	for _, l := range []string{"faulty GPU", "software bug"} {
		x, y := find(interruptionRows(a, 5, 1), l), find(interruptionRows(b, 5, 1), l)
		if x.color != y.color || x.shape != y.shape {
			t.Errorf("%s: drawn differently in two runs", l)
		}
	}
	// Shapes tell the built-in causes apart without colour: no two of the
	// Table 5 causes share both colour and shape.
	seen := map[causeMark]string{}
	for c, m := range causeMarks {
		if o, ok := seen[m]; ok {
			t.Errorf("%s and %s look the same", c, o)
		}
		seen[m] = c
	}
	if markOf("my_cause") != markOf("my_cause") {
		t.Error("an unknown cause's mark is not stable")
	}
	// Slow-node periods: from the lemon to its replacement, or the end.
	rows := interruptionRows([]run.Event{{TimeS: 86400, Kind: "lemon", Factor: 1.2}, {TimeS: 2 * 86400, Kind: "lemon_replaced"}, {TimeS: 3 * 86400, Kind: "lemon", Factor: 1.2}}, 5, 4)
	if s := find(rows, "slow node").spans; len(s) != 2 || s[0] != [2]float64{1, 2} || s[1] != [2]float64{3, 4} {
		t.Errorf("slow-node spans %v, want [1 2] [3 4]", s)
	}
}

// TestSweepHouseStyle: sweep charts are drawn like the others: titles and
// axes in words with units, the house width, a colour bar under a heat
// map, and bars (not a line) over categorical values.
func TestSweepHouseStyle(t *testing.T) {
	nums := SweepAxis{Key: "cluster.gpus", Values: []string{"256", "512"}, Numbers: []float64{256, 512}}
	cat := SweepAxis{Key: "training.precision", Values: []string{"bf16", "fp8"}}
	heat, err := SweepPlot(SweepChart{Metric: "tokens_per_s", X: nums, Y: &SweepAxis{Key: "stragglers.cv", Values: []string{"0.01", "0.02"}, Numbers: []float64{0.01, 0.02}}, Z: [][]float64{{1, 2}, {3, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Throughput (tokens/s, cluster) over GPUs and straggler CV (per pass)"; heat.Title != want {
		t.Errorf("title %q, want %q", heat.Title, want)
	}
	if heat.Panels() != 2 {
		t.Errorf("heat map has %d panels, want 2 (the map and its colour bar)", heat.Panels())
	}
	if w, _ := heat.Size(); w != 10 {
		t.Errorf("width %g in, want 10 (the house width, 1,440 px)", w)
	}
	bars, err := SweepPlot(SweepChart{Metric: "step_time_s", X: cat, Z: [][]float64{{5}, {4}}})
	if err != nil {
		t.Fatal(err)
	}
	if bars.Title != "Step time (s) against precision" || bars.Panels() != 1 {
		t.Errorf("categorical sweep %q with %d panels", bars.Title, bars.Panels())
	}
	var svg bytes.Buffer
	if err := bars.Render(&svg, "svg"); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(svg.Bytes(), []byte("Times")) {
		t.Error("the sweep chart uses a serif font")
	}
}
