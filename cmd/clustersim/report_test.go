package main

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

// small is a quick scenario for the command tests: llama3-8b, 4 trials.
var small = []string{"trials=4"}

func TestRunPlot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "charts")
	var out, errb bytes.Buffer
	if err := runPlot(context.Background(), &streams{out: &out, err: &errb}, &plotOptions{scenario: "llama3-8b", sets: small, out: dir}); err != nil {
		t.Fatal(err)
	}
	paths := strings.Fields(out.String())
	// memory is not drawn: llama3-8b has one pipeline stage (a note says so)
	if !strings.Contains(errb.String(), "memory not drawn: one pipeline stage") {
		t.Errorf("no note for the memory chart: %q", errb.String())
	}
	for _, name := range []string{"utilization", "breakdown", "scaling", "checkpoint", "interruptions", "wallclock", "tradeoff", "waterfall", "sensitivity"} {
		for _, ext := range []string{"png", "svg"} {
			p := filepath.Join(dir, name+"."+ext)
			if !strings.Contains(out.String(), p) {
				t.Errorf("%s not listed in %v", p, paths)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if ext == "png" {
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			} else if !bytes.HasPrefix(b, []byte("<?xml")) || !bytes.Contains(b, []byte("</svg>")) {
				t.Errorf("%s is not an SVG document", p)
			}
		}
	}
	// nine charts (PNG and SVG each); the one-stage memory chart is a note
	if len(paths) != 18 {
		t.Errorf("%d paths printed, want 18", len(paths))
	}
}

func TestRunReport(t *testing.T) {
	var out bytes.Buffer
	if err := runReport(context.Background(), &streams{out: &out, err: &bytes.Buffer{}}, &reportOptions{scenario: "llama3-8b", sets: small, out: "-"}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	// llama3-8b has one pipeline stage: the memory chart is not drawn,
	// a line says why.
	// utilization, breakdown, re-planned scaling, checkpoint,
	// interruptions, wall clock, trade-off, waterfall, sensitivity
	if n := strings.Count(page, "<svg "); n != 9 {
		t.Errorf("%d inline charts, want 9", n)
	}
	if !strings.Contains(page, "Not drawn (memory): one pipeline stage") {
		t.Error("no line in place of the one-stage memory chart")
	}
	for _, s := range []string{"<!DOCTYPE html>", "Capacity plan: llama3-8b", "name: llama3-8b", "Young/Daly", "Megatron", "clustersim report llama3-8b --set trials=4"} {
		if !strings.Contains(page, s) {
			t.Errorf("report lacks %q", s)
		}
	}
}

// TestUtilizationAverage: on a real run, the utilization curve's
// time-average is the step's TFLOPS/GPU times trial 0's ETTR, and close to
// TFLOPS/GPU × ETTR (the mean over trials).
func TestUtilizationAverage(t *testing.T) {
	spec, _, err := scenarios.Resolve("llama3-405b", "trials=8")
	if err != nil {
		t.Fatal(err)
	}
	r, err := run.SimulateWith(context.Background(), spec, run.Options{Timeline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.TrialWallClockDays) != 8 {
		t.Fatalf("%d trial wall-clock days, want 8", len(r.TrialWallClockDays))
	}
	mean := 0.0
	for _, d := range r.TrialWallClockDays {
		mean += d / 8
	}
	if math.Abs(mean-r.WallClockDays) > 1e-9*mean {
		t.Errorf("trial days average %g, wall_clock_days %g", mean, r.WallClockDays)
	}
	segs, err := plots.UtilizationSegments(r)
	if err != nil {
		t.Fatal(err)
	}
	got := plots.MeanTFLOPS(segs)
	// trial 0's ETTR: failure-free training time over its wall clock
	work := 0.0
	for _, p := range r.Phases {
		work += p.Steps * p.StepTimeS
	}
	ettr0 := work / (r.TrialWallClockDays[0] * 86400)
	// Checkpoints cut short by a failure stall training without being in
	// the timeline: a few seconds in days.
	if want := r.TFLOPSPerGPU * ettr0; math.Abs(got-want) > 1e-4*want {
		t.Errorf("time-average %g TFLOPS, want TFLOPS × trial ETTR = %g", got, want)
	}
	if want := r.TFLOPSPerGPU * r.ETTR; math.Abs(got-want) > 0.01*want {
		t.Errorf("time-average %g TFLOPS, want TFLOPS × ETTR = %g within 1%%", got, want)
	}
	if end := segs[len(segs)-1].EndS; math.Abs(end-r.TrialWallClockDays[0]*86400) > 1e-6*end {
		t.Errorf("segments end at %g s, trial 0 at %g", end, r.TrialWallClockDays[0]*86400)
	}
}

// TestReportSameBytes: with SOURCE_DATE_EPOCH fixing the page's date, the
// same scenario and seed give the same page, byte for byte, whatever the
// number of threads (the review's studies run at once).
func TestReportSameBytes(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1764720000")
	page := func() string {
		var out bytes.Buffer
		if err := runReport(context.Background(), &streams{out: &out, err: &bytes.Buffer{}}, &reportOptions{scenario: "llama3-8b", sets: small, out: "-"}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	a, b := page(), page()
	if a != b {
		t.Error("two reports of the same scenario and seed differ")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if c := page(); c != a {
		t.Error("the report on one thread differs")
	}
	if !strings.Contains(a, "2025-12-03 00:00 UTC") {
		t.Error("the page does not carry SOURCE_DATE_EPOCH's date")
	}
}
