package cluster

import (
	"math"
	"testing"
)

func TestAllToAllTime(t *testing.T) {
	h100, _ := LookupGPU("h100-sxm")
	c, err := New(h100, 64, 8, Network{ScaleOutGbps: 400, NodesPerPod: 8, Oversubscription: 1, LatencyS: 5e-6})
	if err != nil {
		t.Fatal(err)
	}
	const S = 64e6
	// Inside one node: 7/8 of 64 MB over NVLink at 370 GB/s (nccl-tests
	// issue 212), plus NVLink's 3.4 µs step latency.
	in := make([]int, 8)
	for i := range in {
		in[i] = i
	}
	if got, want := c.AllToAllTime(in, S), S*7/8/370e9+3.4e-6; math.Abs(got-want) > 1e-12 {
		t.Errorf("8 GPUs of one node: %g s, want %g", got, want)
	}
	// 64 GPUs over 8 nodes: 56/64 of the buffer leaves the node through a
	// 400 Gb/s NIC at 47 GB/s (0.94 of 50 GB/s), which is slower than the
	// 7/64 over NVLink; plus the pod's 5 µs.
	all := make([]int, 64)
	for i := range all {
		all[i] = i
	}
	if got, want := c.AllToAllTime(all, S), S*56/64/47e9+5e-6; math.Abs(got-want) > 1e-9*want {
		t.Errorf("64 GPUs: %g s, want %g", got, want)
	}
	if got := c.AllToAllTime(in[:1], S); got != 0 {
		t.Errorf("one GPU: %g, want 0", got)
	}
}
