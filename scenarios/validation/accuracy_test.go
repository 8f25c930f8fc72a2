package validation

import (
	"bytes"
	"flag"
	"math"
	"os"
	"testing"
)

// update regenerates accuracy.json from the suite:
//
//	go test ./scenarios/validation -run TestAccuracyFile -update
var update = flag.Bool("update", false, "regenerate accuracy.json from the suite")

// TestAccuracyFile recomputes the model-error bands from the whole suite
// and fails when the embedded accuracy.json differs: a change to the model
// or to the reference data must regenerate it (see update), so that the
// band `clustersim run` prints is the suite's.
func TestAccuracyFile(t *testing.T) {
	got, err := MarshalAccuracy(Accuracy(allRows(t)))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("accuracy.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, accuracyJSON) {
		t.Errorf("accuracy.json is stale; regenerate it with\n\t%s\ngot:\n%s", accuracyUpdate, got)
	}
}

// TestAccuracyBands checks the summary's arithmetic on made-up rows and
// what it leaves out.
func TestAccuracyBands(t *testing.T) {
	row := func(gpu, prec, metric string, pub, pred, errPct float64) Row {
		return Row{GPU: gpu, Precision: prec, Metric: metric, Published: pub, Predicted: pred, ErrorPct: errPct}
	}
	var rows []Row
	// Ten h100-sxm fp8 rows with |error| 1, 2, …, 10 %, alternating sign:
	// mean 5.5; the 90th percentile by nearest rank is the 9th, 9.
	for i := 1; i <= 10; i++ {
		e := float64(i) * math.Pow(-1, float64(i))
		rows = append(rows, row("h100-sxm", "fp8", "step_time_s", 1, 1+e/100, e))
	}
	// A throughput row: predicted 400 against 500 published is a step
	// 25% long (500/400 − 1).
	rows = append(rows, row("a100-sxm-80g", "bf16", "tflops_per_gpu", 500, 400, -20))
	// Left out: by construction, unmodelled, refused, an mfu row and a
	// GPU-hours row.
	bc := row("h100-sxm", "bf16", "step_time_s", 1, 2, 100)
	bc.ByConstruction = true
	un := row("", "", "step_time_s", 1, math.NaN(), math.NaN())
	un.Status = "unmodelled: MoE not yet modelled"
	ref := row("", "", "step_time_s", 1, math.NaN(), math.NaN())
	ref.Status = "refused: does not fit"
	rows = append(rows, bc, un, ref, row("h100-sxm", "bf16", "mfu", 0.4, 0.5, 25), row("h100-sxm", "bf16", "gpu_hours", 1, 2, 100))

	a := Accuracy(rows)
	want := []Band{
		{GPU: "a100-sxm-80g", Precision: "bf16", Rows: 1, MeanAbsPct: 25, BandPct: 25},
		{GPU: "h100-sxm", Precision: "fp8", Rows: 10, MeanAbsPct: 5.5, BandPct: 9},
	}
	if len(a.Groups) != len(want) {
		t.Fatalf("groups %+v, want %+v", a.Groups, want)
	}
	for i := range want {
		if a.Groups[i] != want[i] {
			t.Errorf("group %d: %+v, want %+v", i, a.Groups[i], want[i])
		}
	}
	// Overall: |error| 1…10 and 25: mean 80/11 = 7.27 → 7.3; the 90th
	// percentile of 11 rows is the ceil(9.9) = 10th smallest, 10.
	if o := a.Overall; o.Rows != 11 || o.MeanAbsPct != 7.3 || o.BandPct != 10 {
		t.Errorf("overall %+v", o)
	}
	if m := a.For("h100-sxm", "fp8", false); !m.Exact || m.BandPct != 9 {
		t.Errorf("For(h100-sxm, fp8) = %+v", m)
	}
	if m := a.For("h100-sxm", "bf16", false); m.Exact || m.BandPct != 10 || m.Rows != 11 {
		t.Errorf("For(h100-sxm, bf16) = %+v, want the overall band", m)
	}
}

// TestEmbeddedAccuracy checks that the embedded file parses and has a
// band for the GPUs and precisions the suite compares.
func TestEmbeddedAccuracy(t *testing.T) {
	a := EmbeddedAccuracy()
	for _, c := range []struct{ gpu, precision string }{{"h100-sxm", "fp8"}, {"h100-sxm", "bf16"}, {"a100-sxm-80g", "bf16"}} {
		m := a.For(c.gpu, c.precision, false)
		if !m.Exact || !(m.BandPct > 0) || m.Rows < 3 {
			t.Errorf("%s %s: %+v", c.gpu, c.precision, m)
		}
	}
}
