package plots

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/cmpimg"

	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
)

// multiPhase is a two-phase run worked out by hand: phase 0 on 8,192 GPUs
// at seq 8,192 (300 TFLOPS, checkpoint every 2 h), a relaunch at 20,000 s,
// phase 1 on 16,384 GPUs at seq 131,072 (250 TFLOPS, checkpoint every
// 30 min) with a failure at 30,000 s (1,000 s lost, 600 s restart) and a
// slow node from 40,000 s to 45,000 s (factor 1.25), ending at 60,000 s.
func multiPhase() run.Result {
	ck0 := run.Checkpoint{IntervalS: 7200, WriteS: 20, StallS: 5}
	ck1 := run.Checkpoint{IntervalS: 1800, WriteS: 20, StallS: 5}
	return run.Result{
		Scenario: "two-phase", GPUs: 16384, TFLOPSPerGPU: 250, Trials: 4, Checkpoints: 12,
		Phases: []run.PhaseResult{
			{Name: "short context", GPUs: 8192, SeqLen: 8192, Tokens: 10e12, Steps: 190, StepTimeS: 100, TFLOPSPerGPU: 300, Checkpoint: ck0, WallClockDays: 20000.0 / 86400},
			{Name: "long context", GPUs: 16384, SeqLen: 131072, Tokens: 0.8e12, Steps: 380, StepTimeS: 100, TFLOPSPerGPU: 250, Checkpoint: ck1, WallClockDays: 40000.0 / 86400},
		},
		Timeline: []run.Event{
			{TimeS: 7200, Kind: "checkpoint", Phase: 0},
			{TimeS: 20000, Kind: "phase", Phase: 1},
			{TimeS: 20000, Kind: "relaunch", Phase: 1},
			{TimeS: 20300, Kind: "restart_done", Phase: 1},
			{TimeS: 22100, Kind: "checkpoint", Phase: 1},
			{TimeS: 23900, Kind: "checkpoint", Phase: 1},
			{TimeS: 25700, Kind: "checkpoint", Phase: 1},
			{TimeS: 27500, Kind: "checkpoint", Phase: 1},
			{TimeS: 29300, Kind: "checkpoint", Phase: 1},
			{TimeS: 30000, Kind: "failure", Cause: "faulty_gpu", Phase: 1, LostS: 700},
			{TimeS: 30600, Kind: "restart_done", Phase: 1},
			{TimeS: 40000, Kind: "lemon", Phase: 1, Factor: 1.25},
			{TimeS: 45000, Kind: "lemon_replaced", Phase: 1},
			{TimeS: 45300, Kind: "restart_done", Phase: 1},
		},
		TrialWallClockDays: []float64{60000.0 / 86400},
	}
}

func tradeoff() LayoutTradeoff {
	var pts []LayoutPoint
	// A made-up plan: days fall and headroom shrinks as the layout packs
	// tighter; the scenario's own is the 7th fastest.
	for i := 0; i < 40; i++ {
		pts = append(pts, LayoutPoint{Label: "tp" + itoa(1<<(i%4)) + " pp" + itoa(4<<(i%3)) + " cp1 mb1 v" + itoa(1+i%5), Days: 60 + float64(i)*0.4 + float64(i%7), HeadroomGiB: 4 + float64((i*37)%60)})
	}
	pts[9].AsRun = true
	return LayoutTradeoff{GPUs: 16384, GPU: "h100-sxm", Points: pts}
}

func itoa(n int) string { return thousands(n) }

func waterfall() Waterfall {
	// ideal 40 d; the steps add 2+6+4+1.5+1+2+0.7+0.3 = 17.5 → 57.5 d
	return Waterfall{Steps: []WaterfallStep{
		{"ideal at peak", 40, true}, {"compute efficiency", 2, false}, {"pipeline bubble", 6, false},
		{"exposed communication", 4, false}, {"stragglers", 1.5, false}, {"restarts", 1, false},
		{"lost work", 2, false}, {"checkpoints", 0.7, false}, {"planned maintenance", 0.3, false},
		{"delivered", 57.5, true},
	}}
}

func sensitivity() Sensitivity {
	return Sensitivity{BaseDays: 69, Bars: []SensitivityBar{
		{"restart time", "×0.5", "×2", 68.2, 70.7},
		{"failure rates", "×0.5", "×2", 67.1, 72.9},
		{"model error (step time)", "−7.8%", "+7.8%", 63.6, 74.4},
		{"checkpoint bandwidth", "×0.5", "×2", 69.3, 68.9},
		{"straggler spread", "×0.5", "×2", 68.6, 69.9},
	}}
}

func scalingPlan() ScalingPlan {
	iv := func(d float64) run.Interval { return run.Interval{Mean: d, P5: d * 0.99, P95: d * 1.02} }
	return ScalingPlan{Currency: "USD", AsRun: 16384, Best: 16384, Sizes: []PlannedSize{
		{GPUs: 2048, Layout: "tp8 pp16 cp1 mb1 v8", Days: iv(480), GPUHours: 23.6e6, Cost: 47e6, ETTR: 0.95},
		{GPUs: 4096, Layout: "tp8 pp16 cp1 mb1 v8", Days: iv(245), GPUHours: 24.1e6, Cost: 48e6, ETTR: 0.94},
		{GPUs: 8192, Layout: "tp8 pp16 cp1 mb1 v4", Days: iv(126), GPUHours: 24.8e6, Cost: 49.6e6, ETTR: 0.92},
		{GPUs: 16384, Layout: "tp8 pp16 cp1 mb1 v8", Days: iv(66), GPUHours: 25.9e6, Cost: 51.8e6, ETTR: 0.9},
		{GPUs: 32768, Layout: "tp8 pp16 cp2 mb1 v4", Days: iv(36), GPUHours: 28.3e6, Cost: 56.6e6, ETTR: 0.86},
		{GPUs: 65536, Infeasible: "batch 2,048 sequences < 4,096 data-parallel groups"},
	}}
}

// TestNewGolden compares the new charts, and the fixed ones on a
// multi-phase run, with the images in testdata (go test ./plots -update).
func TestNewGolden(t *testing.T) {
	mk := map[string]func() (*Chart, error){
		"tradeoff":           func() (*Chart, error) { return Tradeoff(tradeoff()) },
		"waterfall":          func() (*Chart, error) { return WaterfallChart(waterfall()) },
		"sensitivity":        func() (*Chart, error) { return Tornado(sensitivity()) },
		"scaling_replanned":  func() (*Chart, error) { return ScalingReplanned(scalingPlan()) },
		"phases":             func() (*Chart, error) { return PhaseTimeline("", PhaseSpans(multiPhase())) },
		"utilization_phases": func() (*Chart, error) { return Utilization(multiPhase()) },
		"utilization":        func() (*Chart, error) { return Utilization(fixture()) },
		"memory_fullest_phase": func() (*Chart, error) {
			small := stages()
			for i := range small {
				small[i].Activations /= 4
			}
			return MemoryOfRun([]MemoryPhase{{Name: "short context", GPUs: 8192, SeqLen: 8192, Stages: small}, {Name: "long context", GPUs: 16384, SeqLen: 131072, Layout: "tp8 pp4 cp2", Stages: stages()}}, 80, "h100-sxm")
		},
	}
	for name, f := range mk {
		t.Run(name, func(t *testing.T) { golden(t, name, f) })
	}
}

func golden(t *testing.T, name string, f func() (*Chart, error)) {
	t.Helper()
	c, err := f()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Render(&buf, "png"); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("PLOTS_LOOK"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), buf.Bytes(), 0o644)
	}
	path := filepath.Join("testdata", name+"_golden.png")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := cmpimg.EqualApprox("png", buf.Bytes(), want, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("%s differs from %s; if the change is meant, rerun with -update and look at it", name, path)
	}
}

func TestWaterfallBars(t *testing.T) {
	bars, err := WaterfallBars(waterfall())
	if err != nil {
		t.Fatal(err)
	}
	// The pipeline bubble starts where compute efficiency ends: 40 + 2 = 42, to 48.
	if b := bars[2]; b.Lo != 42 || b.Hi != 48 {
		t.Errorf("bubble %+v, want 42 to 48", b)
	}
	if b := bars[len(bars)-1]; !b.Total || b.Lo != 0 || b.Hi != 57.5 {
		t.Errorf("delivered %+v", b)
	}
	w := waterfall()
	w.Steps[len(w.Steps)-1].Days = 60 // steps add to 57.5, not 60
	if _, err := WaterfallBars(w); err == nil {
		t.Error("steps that do not add up accepted")
	}
	w.Steps = w.Steps[1:]
	if _, err := WaterfallBars(w); err == nil {
		t.Error("a waterfall not starting from a total accepted")
	}
}

func TestSensitivityOrder(t *testing.T) {
	// swings: model error 10.8, failure rates 5.8, restart 2.5, straggler 1.3, checkpoint 0.4
	got := SensitivityOrder(sensitivity().Bars)
	want := []string{"model error (step time)", "failure rates", "restart time", "straggler spread", "checkpoint bandwidth"}
	for i, w := range want {
		if got[i].Input != w {
			t.Errorf("bar %d is %q, want %q", i, got[i].Input, w)
		}
	}
}

func TestTradeoffLabelled(t *testing.T) {
	lab := TradeoffLabelled(tradeoff())
	own := 0
	for _, p := range lab {
		if p.AsRun {
			own++
		}
	}
	if len(lab) != 6 || own != 1 {
		t.Errorf("labelled %d layouts (%d own), want the 5 fastest and the scenario's own", len(lab), own)
	}
}

// TestReplanAnchor: perfect scaling is drawn from the smallest feasible
// size (the defect: it was anchored at the largest, so the real curve
// looked better than perfect).
func TestReplanAnchor(t *testing.T) {
	s := scalingPlan()
	s.Sizes[0].Infeasible, s.Sizes[0].Layout = "does not fit in memory", ""
	if b := replanIdeal(s.Sizes); b == nil || b.GPUs != 4096 {
		t.Errorf("anchor %+v, want 4,096 GPUs", b)
	}
	// every feasible point sits on or above the ideal line from there
	b := replanIdeal(s.Sizes)
	for _, z := range s.Sizes {
		if z.Infeasible == "" && z.Days.Mean < b.Days.Mean*float64(b.GPUs)/float64(z.GPUs)*(1-1e-9) {
			t.Errorf("%d GPUs: %g days, better than perfect", z.GPUs, z.Days.Mean)
		}
	}
}

// TestDegenerate: charts with nothing worth drawing say why instead.
func TestDegenerate(t *testing.T) {
	r := fixture()
	r.Timeline = []run.Event{{TimeS: 4030, Kind: "checkpoint"}}
	r.TrialWallClockDays = []float64{0.1, 0.1, 0.1}
	one := []model.Memory{stages()[0]}
	for name, f := range map[string]func() (*Chart, error){
		"utilization": func() (*Chart, error) { return Utilization(r) },
		"wallclock":   func() (*Chart, error) { return WallClock(r) },
		"memory":      func() (*Chart, error) { return Memory("m", one, 80, "h100-sxm") },
		"phases":      func() (*Chart, error) { return PhaseTimeline("", PhaseSpans(fixture())) },
	} {
		_, err := f()
		var nd *NotDrawn
		if !errors.As(err, &nd) || !errors.Is(err, ErrNoData) || nd.Reason == "" || strings.Contains(nd.Reason, "\n") {
			t.Errorf("%s: %v, want a NotDrawn with a one-line reason", name, err)
		}
	}
}

// TestZoomCheckpointPhase: the zoom quotes the checkpoint interval of the
// phase it shows (the defect: always phase 0's). multiPhase's busiest
// window is in phase 1, whose interval is 30 min.
func TestZoomCheckpointPhase(t *testing.T) {
	r := multiPhase()
	segs, err := UtilizationSegments(r)
	if err != nil {
		t.Fatal(err)
	}
	a, b := zoomWindow(r.Timeline, 60000, 6*3600)
	_, _, legend, err := zoomPanel(r, segs, interruptionRows(r.Timeline, 5, 60000.0/86400), a, b, 300)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range legend {
		if strings.HasPrefix(e.label, "checkpoint written") {
			found = true
			if !strings.Contains(e.label, "every 30 min") || !strings.Contains(e.label, "long context") {
				t.Errorf("legend %q, want phase 1's 30 min", e.label)
			}
		}
	}
	if !found {
		t.Error("no checkpoint in the zoom")
	}
	if i := FullestPhase([]MemoryPhase{{Stages: []model.Memory{{Weights: 1}}}, {Stages: []model.Memory{{Weights: 2}}}}); i != 1 {
		t.Errorf("fullest phase %d, want 1", i)
	}
}

// TestBarLabelGap: bar-end labels are offset from the bar, not led by a
// space that SVG collapses.
func TestBarLabelGap(t *testing.T) {
	r := fixture()
	for _, f := range []func() (*Chart, error){
		func() (*Chart, error) { return Interruptions(r, nil) },
		func() (*Chart, error) { return Breakdown("b", []BreakdownBar{{Label: "x", Breakdown: r.Breakdown}}) },
	} {
		c, err := f()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := c.Render(&buf, "svg"); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte("> ")) && strings.Contains(buf.String(), ">  ") || strings.Contains(buf.String(), "\"> ") {
			t.Errorf("%s: a label starts with a space", c.Name)
		}
	}
	if math.IsNaN(float64(barLabelGap)) || barLabelGap <= 0 {
		t.Error("no gap")
	}
}
