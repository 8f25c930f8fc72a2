package step

import (
	"context"
	"math"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

func TestCapLoads(t *testing.T) {
	// Four experts on two GPUs with loads 2, 0.5 | 0.5, 1 of the balanced
	// share: dropless, GPU 0 takes (2+0.5)/2 = 1.25; at capacity 1 the
	// first expert drops 1 of the 4 shares (25%) and each GPU takes 0.75.
	load := []float64{2, 0.5, 0.5, 1}
	if b, d := capLoads(load, 2, 0); b != 1.25 || d != 0 {
		t.Errorf("dropless: busiest %g dropped %g, want 1.25, 0", b, d)
	}
	if b, d := capLoads(load, 2, 1); b != 0.75 || d != 0.25 {
		t.Errorf("capacity 1: busiest %g dropped %g, want 0.75, 0.25", b, d)
	}
	// Balanced routing drops nothing and loads every GPU at 1.
	if b, d := ExpertLoad(128, 8, 0, 1, 1); b != 1 || d != 0 {
		t.Errorf("balanced: %g, %g", b, d)
	}
}

func moeSpec(t *testing.T, alpha, capacity float64) Spec {
	t.Helper()
	a, _ := model.LookupArch("qwen3-30b-a3b")
	gpu, _ := cluster.LookupGPU("h200-sxm")
	c, err := cluster.New(gpu, 8, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 1, Oversubscription: 1, LatencyS: 5e-6})
	if err != nil {
		t.Fatal(err)
	}
	return Spec{Arch: a, Cluster: c, Seed: 1,
		Layout:   model.Layout{TP: 1, PP: 1, CP: 1, DP: 8, EP: 8, MicroBatch: 1, VirtualStages: 1, ZeRO: 1, DPOverlap: true, Recompute: model.RecomputeSelective},
		Training: model.Training{SeqLen: 4096, GlobalBatch: 64, Tokens: 1e12, Precision: cluster.BF16, GradBytes: 4, HostOverheadS: model.DefaultHostOverheadS, RouterConcentration: alpha, CapacityFactor: capacity}}
}

// TestExpertLoadImbalance: the busiest GPU sets the pace, so the step
// grows as the experts' shares spread (a smaller Dirichlet concentration);
// capacity factor 1.0 drops the overflow and runs faster than dropless by
// what the busiest GPU no longer computes.
func TestExpertLoadImbalance(t *testing.T) {
	prev := 0.0
	for _, alpha := range []float64{0, 100, 10, 1, 0.3} {
		r, err := Simulate(context.Background(), moeSpec(t, alpha, 0))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := ExpertLoad(128, 8, alpha, 0, 1)
		t.Logf("α %g: busiest GPU %.3f of balanced, step %.3f s", alpha, b, r.NoiselessStepTime)
		if r.NoiselessStepTime <= prev {
			t.Errorf("α %g: step %.4g s, not above %.4g s at the less spread load", alpha, r.NoiselessStepTime, prev)
		}
		prev = r.NoiselessStepTime
	}
	const alpha = 1
	free, err := Simulate(context.Background(), moeSpec(t, alpha, 0))
	if err != nil {
		t.Fatal(err)
	}
	capped, err := Simulate(context.Background(), moeSpec(t, alpha, 1))
	if err != nil {
		t.Fatal(err)
	}
	bFree, _ := ExpertLoad(128, 8, alpha, 0, 1)
	bCap, dropped := ExpertLoad(128, 8, alpha, 1, 1)
	if !(dropped > 0 && bCap <= 1 && bCap < bFree) {
		t.Fatalf("capacity 1: busiest %g (dropless %g), dropped %g", bCap, bFree, dropped)
	}
	// The expert products and the all-to-alls scale with the busiest GPU's
	// tokens; the rest of the layer does not. So the saving is positive and
	// at most the whole step's share of that load.
	saved := free.NoiselessStepTime - capped.NoiselessStepTime
	most := free.NoiselessStepTime * (1 - bCap/bFree)
	t.Logf("dropless %.3f s, capacity 1.0 %.3f s (%.1f%% of tokens dropped; busiest %.3f → %.3f)", free.NoiselessStepTime, capped.NoiselessStepTime, 100*dropped, bFree, bCap)
	if !(saved > 0.2*most && saved < most) {
		t.Errorf("capacity 1.0 saves %.4g s, want in (0.2, 1)×%.4g s", saved, most)
	}
	if math.IsNaN(saved) {
		t.Fatal("NaN")
	}
}

// TestDeepEPDispatcher: with expert parallelism across nodes, DeepEP sends
// a token once per node it needs, so its all-to-alls are faster than the
// alltoall dispatcher's, which sends every routed copy; inside one NVLink
// domain they are the same.
func TestDeepEPDispatcher(t *testing.T) {
	for _, nodes := range []int{1, 4} {
		s := moeSpec(t, 0, 0)
		c, err := cluster.New(s.Cluster.GPU, 8*nodes, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 1, Oversubscription: 1, LatencyS: 5e-6})
		if err != nil {
			t.Fatal(err)
		}
		s.Cluster = c
		s.Layout.DP, s.Layout.EP = 8*nodes, 8*nodes
		s.Training.GlobalBatch = 64 * nodes
		a2a := LayerPassCosts(s).MoELayerForward.EP
		s.Training.Dispatcher = model.DeepEP
		deep := LayerPassCosts(s).MoELayerForward.EP
		if nodes == 1 && math.Abs(deep-a2a) > 1e-12*a2a || nodes > 1 && !(deep < a2a) {
			t.Errorf("%d nodes: DeepEP all-to-alls %g s, alltoall %g s", nodes, deep, a2a)
		}
	}
}

// TestPairedSlowdown: in DualPipe's overlapped pair the hidden all-to-alls
// take SMs from the compute: with DeepEP-style exchanges cluster.DeepEPSMs
// of the GPU's SMs (DeepSeek-V3's 20 SMs on its H800s, arXiv:2412.19437 §3.2.2; here 20 of the test H200's 132), else the
// GPU's CommSlowdown; the compute grows by that share of the hidden time.
func TestPairedSlowdown(t *testing.T) {
	s := moeSpec(t, 0, 0)
	if got, want := epSlowdown(s), s.Cluster.GPU.Compute.CommSlowdown; got != want {
		t.Errorf("alltoall: slowdown %g, want CommSlowdown %g", got, want)
	}
	s.Training.Dispatcher = model.DeepEP
	pn := &plan{spec: s, parts: [][2]partsOf{{{kCompute: 4, kEP: 3}, {kCompute: 6, kEP: 2}}}, costs: Costs{EPSlowdown: epSlowdown(s)}}
	if got, want := epSlowdown(s), 20.0/132; math.Abs(got-want) > 1e-15 {
		t.Fatalf("deepep: slowdown %g, want 20/132", got)
	}
	// f compute 4, EP 3; b compute 6, EP 2: 5 s of all-to-all hidden behind
	// 10 s of compute, which grows by 5·20/132.
	got := pn.opParts(0, model.Op{Paired: true})
	if want := 10 + 5*20.0/132; math.Abs(got[kCompute]-want) > 1e-12 || got[kEP] != 0 {
		t.Errorf("paired parts %v, want compute %g and no exposed all-to-all", got, want)
	}
}

// TestMoEHostSync: reading the token counts on the host makes each MoE
// layer's forward pass wait for the GPU once; with selective recompute
// there is one forward per MoE layer and micro batch, so the step grows
// by at least one host launch per MoE layer per micro batch and by no more
// than the whole pass after the sync issued at the host's pace.
func TestMoEHostSync(t *testing.T) {
	s := moeSpec(t, 0, 0)
	off := LayerPassCosts(s)
	s.Training.MoEHostSync = true
	on := LayerPassCosts(s)
	d := on.MoELayerForward.Total() - off.MoELayerForward.Total()
	if h := s.Training.HostOverheadS; d < h {
		t.Errorf("MoE layer forward %.1f µs longer with the sync, want at least one launch (%.0f µs)", d*1e6, h*1e6)
	}
	if d > 40*s.Training.HostOverheadS {
		t.Errorf("MoE layer forward %.1f µs longer with the sync: more than the layer's launches", d*1e6)
	}
	if on.MoELayerBackward != off.MoELayerBackward {
		t.Errorf("backward changed: %+v vs %+v", on.MoELayerBackward, off.MoELayerBackward)
	}
}
