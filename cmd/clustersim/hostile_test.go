package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileInputs: the reproductions of issue 10 exit with status 2 and
// a message naming the keys (or the flag) responsible, before any work.
func TestHostileInputs(t *testing.T) {
	v := "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20"
	dir := t.TempDir()
	t.Chdir(dir)
	for _, c := range []struct {
		name string
		args []string
		want []string // parts of stderr
	}{
		{"64M-point sweep", []string{"sweep", "llama3-8b", "--set", "cluster.network.oversubscription=" + v, "--set", "cluster.network.latency_us=" + v,
			"--set", "failures.restart=" + v, "--set", "seed=" + v, "--set", "trials=" + v, "--set", "stragglers.samples=" + v},
			[]string{"64000000 points", "--max-points", "stragglers.samples (20 values)"}},
		{"a shard of it is still too large", []string{"sweep", "llama3-8b", "--set", "seed=" + v, "--set", "trials=" + v, "--set", "stragglers.samples=" + v, "--shard", "0/2", "--max-points", "1000"},
			[]string{"8000 points, 4000 in this shard", "--max-points"}},
		{"a key twice in sweep --set", []string{"sweep", "llama3-8b", "--set", "trials=1,2", "--set", "trials=3"}, []string{"--set trials is given twice"}},
		{"2^31 GPUs", []string{"run", "llama3-8b", "--set", "cluster.gpus=2147483640", "--set", "failures.profile=none", "--set", "training.global_batch=1073741820"},
			[]string{"cluster.gpus (--set)", "training.global_batch (--set)", "--max-events"}},
		// 10P tokens answers in about 3 s (13,000 days: checkpoints between failures are fast-forwarded); a lower limit refuses it
		{"10P tokens", []string{"run", "llama3-8b", "--set", "training.tokens=10P", "--max-events", "1e6"}, []string{"training.tokens (--set)", "--max-events"}},
		{"10M trials", []string{"run", "llama3-8b", "--trials", "10000000"}, []string{"trials", "--max-events"}},
		{"1e9 samples", []string{"run", "llama3-8b", "--set", "stragglers.samples=1e9"}, []string{"stragglers.samples (--set)", "--max-events"}},
		{"1e9 µs latency", []string{"run", "llama3-8b", "--set", "cluster.network.latency_us=1e9"}, []string{"cluster.network.latency_us (--set)", "days of training"}},
		{"0.001 Gb/s", []string{"run", "llama3-8b", "--set", "cluster.network.scale_out_gbps=0.001"}, []string{"cluster.network.scale_out_gbps (--set)"}},
		{"slow storage names the checkpoint", []string{"run", "llama3-8b", "--set", "failures.storage_tbps=1e-9"},
			[]string{"failures.storage_tbps (--set)", "a checkpoint stalls training"}},
		{"a tight memory budget", []string{"run", "llama3-8b", "--max-memory", "1000"}, []string{"--max-memory"}},
		{"a directory", []string{"run", dir}, []string{"is a directory"}},
		{"--trials 0", []string{"run", "llama3-8b", "--trials", "0"}, []string{"--trials 0: must be >= 1"}},
		{"plot --out -", []string{"plot", "llama3-8b", "--out", "-"}, []string{"--out -"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := runMain(t, c.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2:\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Error(`plot --out - created a directory named "-"`)
	}
}

// TestBillionsSuffix: 300B tokens is 3e11 (issue 10).
func TestBillionsSuffix(t *testing.T) {
	out, stderr, code := runMain(t, "run", "llama3-8b", "--set", "training.tokens=300B", "--trials", "1", "--format", "json")
	if code != 0 || !strings.Contains(out, `"tokens": 300000000000,`) {
		t.Errorf("exit %d:\n%s\n%s", code, out, stderr)
	}
}
