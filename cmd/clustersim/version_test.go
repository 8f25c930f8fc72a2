package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/clustersim/clustersim/scenarios/study"
)

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	io := &streams{out: &out, err: &bytes.Buffer{}}
	cmd := newVersionCmd(io, func() study.Build {
		return study.Build{Module: "github.com/clustersim/clustersim", Version: "(devel)", GoVersion: "go1.26.0",
			Revision: "fc5596a", Modified: true, Time: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	})
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := "clustersim (devel)\nmodule    github.com/clustersim/clustersim\nrevision  fc5596a (modified)\ncommitted 2026-12-01T10:00:00Z\ngo        go1.26.0\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	// the real binary's: a version line, "(devel)" under go test
	var real bytes.Buffer
	if code := Main([]string{"version"}, strings.NewReader(""), &real, &bytes.Buffer{}); code != 0 || !strings.HasPrefix(real.String(), "clustersim ") {
		t.Errorf("exit %d: %q", code, real.String())
	}
	if code := Main([]string{"version", "extra"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}

// TestRunCostCurrency: run prints the cost with energy.currency, and says
// when the scenario gives a price without one. llama3-8b at 2 per
// GPU-hour: cost = GPU-hours × 2.
func TestRunCostCurrency(t *testing.T) {
	for _, c := range []struct {
		sets []string
		want string
	}{
		{[]string{"energy.price_per_gpu_hour=2", "energy.currency=USD"}, " USD\n"},
		{[]string{"energy.price_per_gpu_hour=2"}, " (currency not set)\n"},
	} {
		args := []string{"run", "llama3-8b", "--trials", "2"}
		for _, s := range c.sets {
			args = append(args, "--set", s)
		}
		var out, errb bytes.Buffer
		if code := Main(args, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "cost") {
				line = l + "\n"
			}
		}
		if !strings.HasSuffix(line, c.want) {
			t.Errorf("%v: cost line %q, want it to end %q", c.sets, line, c.want)
		}
	}
	if got := costWords(68.2e6, "USD"); got != "68.2M USD" {
		t.Errorf("costWords = %q", got)
	}
}
