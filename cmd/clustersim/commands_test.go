package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// execute runs a command built by newCmd on args with fake streams.
func execute(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

func TestPlotArgs(t *testing.T) {
	for _, c := range []struct {
		args    []string
		want    plotOptions
		wantErr string
	}{
		{args: []string{"llama3-405b", "--out", "charts"}, want: plotOptions{scenario: "llama3-405b", out: "charts"}},
		{args: []string{"my.yaml", "-o", "d", "--set", "cluster.gpus=8192", "--trials", "5", "--seed", "7"},
			want: plotOptions{scenario: "my.yaml", out: "d", sets: []string{"cluster.gpus=8192", "trials=5", "seed=7"}}},
		{args: []string{"llama3-405b"}, wantErr: "--out DIR is required"},
		{args: []string{}, wantErr: "accepts 1 arg"},
		{args: []string{"a", "b", "--out", "d"}, wantErr: "accepts 1 arg"},
		{args: []string{"a", "--out", "d", "--trials", "many"}, wantErr: "invalid argument"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			var got *plotOptions
			err := execute(t, newPlotCmd(&streams{}, func(_ context.Context, o *plotOptions) error { got = o; return nil }), c.args...)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || exitCode(err) != exitUsage {
					t.Fatalf("err = %v (exit %d), want %q and exit 2", err, exitCode(err), c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.scenario != c.want.scenario || got.out != c.want.out || !slices.Equal(got.sets, c.want.sets) {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

func TestReportArgs(t *testing.T) {
	var got *reportOptions
	run := func(_ context.Context, o *reportOptions) error { got = o; return nil }
	if err := execute(t, newReportCmd(&streams{}, run), "llama3-70b", "--out", "-", "--set", "failures.profile=none", "--trials", "3"); err != nil {
		t.Fatal(err)
	}
	if got.scenario != "llama3-70b" || got.out != "-" || !slices.Equal(got.sets, []string{"failures.profile=none", "trials=3"}) {
		t.Errorf("options %+v", *got)
	}
	if err := execute(t, newReportCmd(&streams{}, run), "llama3-70b"); exitCode(err) != exitUsage {
		t.Errorf("no --out: %v", err)
	}
}

func TestTraceArgs(t *testing.T) {
	var got *traceOptions
	run := func(_ context.Context, o *traceOptions) error { got = o; return nil }
	if err := execute(t, newTraceCmd(&streams{}, run), "llama3-8b", "-o", "t.json", "--set", "parallelism.pp=2"); err != nil {
		t.Fatal(err)
	}
	if got.scenario != "llama3-8b" || got.out != "t.json" || !slices.Equal(got.sets, []string{"parallelism.pp=2"}) {
		t.Errorf("options %+v", *got)
	}
	for _, args := range [][]string{{"llama3-8b"}, {"--out", "x"}, {"llama3-8b", "--out", "x", "--trials", "3"}} {
		if err := execute(t, newTraceCmd(&streams{}, run), args...); exitCode(err) != exitUsage {
			t.Errorf("%v: %v (exit %d), want exit 2", args, err, exitCode(err))
		}
	}
}

// TestExitCodes runs the binary's entry point: bad input exits 2 before
// anything is simulated.
func TestChartCommandExitCodes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"plot", "no-such-scenario", "--out", dir}, exitUsage},
		{[]string{"report", "llama3-8b", "--out", dir + "/r.html", "--set", "parallelism.pp=7"}, exitUsage},
		{[]string{"trace", "llama3-8b", "--out", dir + "/t.json", "--set", "nonsense.key=1"}, exitUsage},
		{[]string{"trace", "llama3-8b", "--out", dir + "/missing/t.json"}, exitError},
		{[]string{"plot", "--help"}, exitOK},
	} {
		var out, errb bytes.Buffer
		if got := Main(c.args, nil, &out, &errb); got != c.want {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, got, c.want, errb.String())
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, cmd := range []*cobra.Command{newPlotCmd(&streams{}, nil), newReportCmd(&streams{}, nil), newTraceCmd(&streams{}, nil)} {
		if !strings.Contains(cmd.Example, "clustersim "+cmd.Name()) {
			t.Errorf("%s: no example", cmd.Name())
		}
	}
}
