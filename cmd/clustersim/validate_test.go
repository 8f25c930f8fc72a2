package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// TestValidateArgs checks argv → options without running anything.
func TestValidateArgs(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want validateOptions
	}{
		{"plain", nil, validateOptions{format: "table"}},
		{"group, summary, csv", []string{"--group", "vtrain", "--summary", "-f", "csv"}, validateOptions{format: "csv", group: "vtrain", summary: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got *validateOptions
			cmd := newValidateCmdWith(func(_ context.Context, o *validateOptions) error { got = o; return nil })
			cmd.SetArgs(c.args)
			cmd.SetContext(context.Background())
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if *got != c.want {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

// TestValidateOutput checks options → output on small groups.
func TestValidateOutput(t *testing.T) {
	t.Run("csv keeps the bound", func(t *testing.T) {
		out, stderr, code := runMain(t, "validate", "--group", "llama3-reliability", "--format", "csv")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != "case,metric,published,predicted,error_pct,source,group,by_construction,status,note" {
			t.Errorf("header %q", recs[0])
		}
		want := map[string]string{"unexpected_interruptions_per_day": "true", "planned_interruptions_per_day": "true", "ettr": "false"}
		for _, r := range recs[1:] {
			if r[7] != want[r[1]] {
				t.Errorf("%s: by_construction %s", r[1], r[7])
			}
			if r[1] == "ettr" && r[2] != ">0.9" {
				t.Errorf("ettr published %q, want >0.9", r[2])
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		out, stderr, code := runMain(t, "validate", "--group", "nemo24.07", "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 12 { // the NeMo 24.07 rows of measured.yaml
			t.Fatalf("%d rows, want 12", len(rows))
		}
		for _, r := range rows {
			for _, k := range []string{"case", "metric", "published", "predicted", "error_pct", "source", "group", "by_construction"} {
				if _, ok := r[k]; !ok {
					t.Errorf("row lacks %q: %v", k, r)
				}
			}
			if (r["predicted"] == nil) != (r["status"] != nil) {
				t.Errorf("predicted %v with status %v", r["predicted"], r["status"])
			}
		}
	})
	t.Run("summary", func(t *testing.T) {
		out, stderr, code := runMain(t, "validate", "--group", "megatron-sc21", "--summary")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[0], "GROUP") || !strings.HasPrefix(lines[1], "megatron-sc21/a100/bf16  10") ||
			!strings.HasPrefix(lines[2], "all") || !strings.Contains(out, "Megatron SC21 Table 1: mean absolute error") ||
			strings.Contains(out, "Llama 3 Table 4") || strings.Contains(out, "hardware_tflops_per_gpu") {
			t.Errorf("summary:\n%s", out)
		}
	})
	t.Run("unknown group", func(t *testing.T) {
		_, stderr, code := runMain(t, "validate", "--group", "nosuch")
		if code != 2 || !strings.Contains(stderr, "vtrain-single") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}
