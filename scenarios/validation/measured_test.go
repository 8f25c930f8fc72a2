package validation

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestMeasuredCases: a user's file in measured.yaml's schema maps through
// the shipped recipe; a row of another source lands in "published/...";
// a throughput becomes a step time; incomplete rows and unknown keys are
// refused with the row and key.
func TestMeasuredCases(t *testing.T) {
	const doc = `
- id: mine-8b
  source: my cluster, 2026-11
  gpu: h100
  gpus: 8
  model: llama3-8b
  precision: fp8
  seq_len: 8192
  global_batch: 128
  tp: 1
  pp: 1
  cp: 2
  tokens_per_s_per_gpu: 12036
`
	cs, err := MeasuredCases([]byte(doc), "mine.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Group != "published/h100/fp8" {
		t.Fatalf("cases %+v", cs)
	}
	// 128 sequences of 8,192 tokens at 12,036 tokens/s on each of 8 GPUs.
	if got, want := cs[0].Metrics[0].Published, 128*8192/(12036*8.0); math.Abs(got-want) > 1e-12 {
		t.Errorf("published step %v, want %v", got, want)
	}
	rows, err := Run(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; math.IsNaN(r.ErrorPct) || math.Abs(r.ErrorPct) > 25 {
		t.Errorf("row %+v", r)
	}
	for _, c := range []struct{ doc, want string }{
		{"- id: x\n  gpu: h100\n", "row 1 (x): missing or not positive: gpus, model, precision, seq_len, global_batch, tp, pp, cp, step_time_s or tokens_per_s_per_gpu"},
		{"- id: x\n  gpus: 8\n  colour: red\n", "line 3: field colour not found"},
		{"[]", "no rows"},
		{"", "no rows"},
	} {
		if _, err := MeasuredCases([]byte(c.doc), "mine.yaml"); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "mine.yaml") {
			t.Errorf("%q: error %v, want %q", c.doc, err, c.want)
		}
	}
}

// TestMeasuredCasesRefuseBadMeasurements: a measurement that is not a
// positive finite number is refused with its key.
func TestMeasuredCasesRefuseBadMeasurements(t *testing.T) {
	const row = "- {id: x, gpu: h100, gpus: 8, model: llama3-8b, precision: bf16, seq_len: 4096, global_batch: 8, tp: 1, pp: 1, cp: 1, %s}\n"
	for _, m := range []string{"step_time_s: -1", "step_time_s: .nan", "step_time_s: .inf", "tokens_per_s_per_gpu: 0"} {
		_, err := MeasuredCases([]byte(fmt.Sprintf(row, m)), "mine.yaml")
		key, _, _ := strings.Cut(m, ":")
		if err == nil || !strings.Contains(err.Error(), key+": ") || !strings.Contains(err.Error(), "positive, finite") {
			t.Errorf("%s: %v", m, err)
		}
	}
}
