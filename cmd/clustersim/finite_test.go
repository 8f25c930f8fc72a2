package main

import (
	"strings"
	"testing"
)

// TestNoNonFiniteOutput: no command, in any format, prints NaN or an
// infinity, including on degenerate inputs (no failures: an infinite
// checkpoint interval and MTBF; a bandwidth of 1e-300; a checkpoint that
// takes days), which are answered or refused with exit status 2 naming the
// keys (issue 10).
func TestNoNonFiniteOutput(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		keys string // a part of stderr, for refusals
	}{
		{[]string{"run", "llama3-8b", "--trials", "2"}, 0, ""},
		{[]string{"run", "llama3-8b", "--trials", "2", "--set", "failures.profile=none"}, 0, ""},
		{[]string{"run", "llama3-8b", "--set", "failures.profile=none", "--set", "cluster.network.scale_out_gbps=1e-300"}, 2, "cluster.network.scale_out_gbps (--set)"},
		{[]string{"run", "llama3-8b", "--set", "failures.storage_tbps=1e-9"}, 2, "failures.storage_tbps (--set)"},
		{[]string{"run", "llama3-8b", "--set", "training.tokens=10P", "--max-events", "1e6"}, 2, "--max-events"},
		{[]string{"run", "llama3-8b", "--set", "cluster.gpus=2147483640", "--set", "failures.profile=none", "--set", "training.global_batch=1073741820"}, 2, "cluster.gpus (--set)"},
		{[]string{"plan", "llama3-8b", "--top", "2"}, 0, ""},
		{[]string{"sweep", "llama3-8b", "--trials", "2", "--set", "failures.profile=none,llama3"}, 0, ""},
		{[]string{"napkin", "--params", "8B", "--tokens", "15T"}, 0, ""},
		{[]string{"scenarios"}, 0, ""},
	} {
		for _, f := range []string{"table", "json", "csv"} {
			args := append(append([]string{}, c.args...), "--format", f)
			out, errOut, code := runMain(t, args...)
			if code != c.code || !strings.Contains(errOut, c.keys) {
				t.Errorf("%s: exit %d, want %d with %q in stderr:\n%s", strings.Join(args, " "), code, c.code, c.keys, errOut)
			}
			if nonFinite.MatchString(out) || nonFinite.MatchString(errOut) {
				t.Errorf("%s printed a non-finite number:\n%s\n%s", strings.Join(args, " "), out, errOut)
			}
		}
	}
}
