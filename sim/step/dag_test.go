package step

import (
	"math"
	"testing"
)

// TestEvaluateHostSync checks the host-issue model by hand: three 10 µs
// kernels issued 30 µs apart start when issued (the GPU waits for the
// host); a sync on the first makes the host wait for it to end, so the
// second starts one issue after that.
func TestEvaluateHostSync(t *testing.T) {
	const us = 1e-6
	k := func(sync bool) task {
		return task{name: "k", stream: computeStream, kind: kCompute, dur: 10 * us, sync: sync}
	}
	for _, c := range []struct {
		name  string
		tasks []task
		want  float64
	}{
		// Starts at 0, 30, 60 µs (issued 30 µs apart): ends at 70.
		{"no sync", []task{k(false), k(false), k(false)}, 70 * us},
		// A 100 µs kernel hides the host: 0-100, then 100-110, 110-120.
		{"long first", []task{{name: "long", stream: computeStream, dur: 100 * us}, k(false), k(false)}, 120 * us},
		// The same with a sync on the long kernel: the host issues the
		// second at 100+30, the third 30 later: 130-140, 160-170.
		{"sync", []task{{name: "long", stream: computeStream, dur: 100 * us, sync: true}, k(false), k(false)}, 170 * us},
	} {
		tl := evaluate(c.tasks, 30*us, 0)
		if math.Abs(tl.end-c.want) > 1e-12 {
			t.Errorf("%s: end %.1f µs, want %.1f", c.name, tl.end/us, c.want/us)
		}
	}
}
