package step

import (
	"context"
	"math"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// offloadSpec is Llama 3 70B on GB200 as Megatron-Bridge trains it in fp8
// with Megatron FSDP: tp1 pp1, micro batch 2 of 8192 tokens, 2 micro
// batches a step, with the first 40 of its 80 layers offloaded.
func offloadSpec(t testing.TB) Spec {
	a, err := model.LookupArch("llama3-70b")
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := cluster.LookupGPU("gb200")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.New(gpu, 64, 4, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 16, Oversubscription: 1, LatencyS: 5e-6})
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Arch:     a,
		Layout:   model.Layout{TP: 1, PP: 1, CP: 1, DP: 64, MicroBatch: 2, VirtualStages: 1, ZeRO: 3, DPOverlap: true, OffloadLayers: 40},
		Training: model.Training{SeqLen: 8192, GlobalBatch: 256, GradBytes: 2, Precision: cluster.FP8, FP8Params: true, CurrentScaling: true, GradAccumulation: model.FusedAccumulation, HostOverheadS: model.DefaultHostOverheadS},
		Cluster:  c,
	}
}

// TestOffloadWaits works the offload's price by hand. A layer keeps
// ActivationBytesPerToken × 16,384 tokens, which cross NVLink-C2C at the
// GPU's host bandwidth each way (c seconds). Transformer Engine wants layer
// k's copy out done before layer 40+k's forward pass when 40 of 80 layers
// offload: the copies, longer than a forward pass but shorter than two,
// keep up, and every copy back (shorter than a backward pass) is early.
// With 79 of 80 each copy is due at the next layer, so every offloaded
// layer waits for its whole copy, both ways: 79·c a pass.
func TestOffloadWaits(t *testing.T) {
	s := offloadSpec(t)
	pc := LayerPassCosts(s)
	copyS := s.Arch.ActivationBytesPerToken(s.Layout, s.Training) * 2 * 8192 / s.Cluster.GPU.HostBandwidth
	if math.Abs(pc.OffloadCopy-copyS) > 1e-15 {
		t.Errorf("copy %v s, want %v", pc.OffloadCopy, copyS)
	}
	lf, lb := pc.LayerForward.Total(), pc.LayerBackward.Total()
	if !(lf < copyS && copyS < 2*lf && copyS < lb) {
		t.Fatalf("copy %v s against passes %v and %v s: not the case this test works", copyS, lf, lb)
	}
	co, err := NewCosts(s)
	if err != nil {
		t.Fatal(err)
	}
	if co.Forward[0].Offload != 0 || co.Backward[0].Offload != 0 {
		t.Errorf("40 of 80 layers: waits %v and %v, want none", co.Forward[0].Offload, co.Backward[0].Offload)
	}
	s.Layout.OffloadLayers = 79
	co, err = NewCosts(s)
	if err != nil {
		t.Fatal(err)
	}
	want := 79 * copyS
	if f, b := co.Forward[0].Offload, co.Backward[0].Offload; math.Abs(f-want) > 1e-9 || math.Abs(b-want) > 1e-9 {
		t.Errorf("79 of 80 layers: waits %v and %v, want 79 × %v each", f, b, copyS)
	}
	s.Noise = Noise{}
	r, err := Simulate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if w := 2 * 2 * want; math.Abs(r.Breakdown.Offload-w) > 1e-9 {
		t.Errorf("breakdown offload %v, want 2 micro batches × 2 passes × %v", r.Breakdown.Offload, want)
	}
}

// TestOffloadWaitsBehind: copies longer than two forward passes fall
// behind; with 60 of 80 layers offloaded, copy k is done at p + (k+1)·c and
// due at (20+k)·p, so the forward pass waits p + 60·c − 79·p in all.
func TestOffloadWaitsBehind(t *testing.T) {
	pc := PassCosts{LayerForward: PassCost{Compute: 1}, LayerBackward: PassCost{Compute: 10}, OffloadCopy: 2.5}
	f, b := offloadWaits(pc, 80, 60)
	if want := 1 + 60*2.5 - 79; math.Abs(f-want) > 1e-12 || b != 0 {
		t.Errorf("waits %v and %v, want %v and 0", f, b, want)
	}
}
