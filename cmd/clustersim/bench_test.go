package main

import (
	"io"
	"strings"
	"testing"
)

// BenchmarkRunCommand measures `clustersim run` end to end (scenario
// loading, the step simulation, the Monte Carlo run and the table), the
// figures the README quotes: the built-in llama3-405b with its 100 trials,
// with 1,000 trials, and a 1,048,576-GPU variant (dp 8,192, a 64× larger
// batch, the same per-GPU failure rates).
func BenchmarkRunCommand(b *testing.B) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"llama3-405b", []string{"run", "llama3-405b"}},
		{"llama3-405b-1000-trials", []string{"run", "llama3-405b", "--trials", "1000"}},
		{"llama3-405b-1M-GPUs", []string{"run", "llama3-405b", "--set", "cluster.gpus=1048576", "--set", "training.global_batch=131072"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if code := Main(c.args, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
