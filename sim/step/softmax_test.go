package step

import (
	"math"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// TestFusedSoftmaxRule checks Megatron-LM's FusedScaleMaskSoftmax
// is_kernel_available rule, worked by hand: b·np a multiple of 4 and of
// the kernel's batches per block (4 for 128 < sk ≤ 4096, 8 for sk ≤ 128),
// 16 < sk ≤ 4096, sq and sk multiples of 4.
func TestFusedSoftmaxRule(t *testing.T) {
	for _, c := range []struct {
		heads, tp, mb, seq, cp int
		want                   bool
	}{
		{16, 8, 1, 1024, 1, false}, // b·np = 2
		{16, 8, 2, 1024, 1, true},  // 4
		{16, 4, 1, 1024, 1, true},  // 4
		{24, 8, 1, 2048, 1, false}, // 3
		{24, 8, 4, 2048, 1, true},  // 12
		{32, 1, 1, 8192, 1, false}, // sk > 4096
		{32, 1, 1, 4096, 1, true},
		{12, 1, 1, 64, 1, false}, // 12 is not a multiple of 8 batches per block
		{16, 1, 1, 64, 1, true},
		{16, 1, 1, 16, 1, false},   // sk ≤ 16
		{16, 1, 1, 1024, 2, false}, // sq = sk/2: the causal kernel needs sq = sk
	} {
		s := llama405(t)
		s.Arch.Heads, s.Arch.KVHeads = c.heads, c.heads
		s.Layout.TP, s.Layout.MicroBatch, s.Layout.CP = c.tp, c.mb, c.cp
		s.Training.SeqLen = c.seq
		k := newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
		if got := k.fusedSoftmax(); got != c.want {
			t.Errorf("%+v: fused %v, want %v", c, got, c.want)
		}
	}
	for sk, want := range map[int]int{32: 8, 64: 8, 128: 8, 129: 4, 1024: 4, 4096: 4} {
		if got := softmaxBatchesPerBlock(sk); got != want {
			t.Errorf("batches per block at sk %d: %d, want %d", sk, got, want)
		}
	}
}

// TestTorchSoftmaxFallback: where the fused kernel cannot run, the
// unfused attention's softmax costs PyTorch's five element-wise kernels
// over the fp32 scores (37 bytes an element forward, 41 backward) instead
// of one (4 and 6 bytes).
func TestTorchSoftmaxFallback(t *testing.T) {
	s := llama405(t)
	s.Arch.Heads, s.Arch.KVHeads = 16, 16
	s.Layout.TP, s.Layout.MicroBatch = 8, 1
	s.Training.SeqLen, s.Training.Attention, s.Training.HostOverheadS = 1024, model.Unfused, 0
	k := newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
	if k.fusedSoftmax() {
		t.Fatal("TP8 of 16 heads at micro batch 1 takes the fused kernel")
	}
	fwd := k.build(k.attentionForward)
	nFwd := len(k.tasks)
	bwd := k.build(k.attentionBackward)
	nBwd := len(k.tasks)
	scores := 2.0 * 1024 * 1024 // b·np·sq·sk
	g := s.Cluster.GPU
	qk := g.GEMMTime(2*1024, 1024, float64(s.Arch.HeadDim()), s.Training.Precision)
	av := g.GEMMTime(2*1024, float64(s.Arch.HeadDim()), 1024, s.Training.Precision)
	st := func(b float64) float64 { return g.MemoryTime(b*scores, cluster.Stream) }
	re := func(b float64) float64 { return g.MemoryTime(b*scores, cluster.Reduce) }
	wantFwd := qk + st(6) + st(8) + st(9) + re(8) + st(6) + av
	if nFwd != 7 || math.Abs(fwd.end-wantFwd) > 1e-12 {
		t.Errorf("forward: %d kernels in %v s, want 7 in %v", nFwd, fwd.end, wantFwd)
	}
	// dA (the QKᵀ shape), dV, the five backward kernels, dQ and dK (the
	// AV shape).
	wantBwd := qk + 3*av + st(6) + re(12) + st(9) + st(8) + st(6)
	if nBwd != 9 || math.Abs(bwd.end-wantBwd)/wantBwd > 1e-9 {
		t.Errorf("backward: %d kernels in %v s, want 9 in %v", nBwd, bwd.end, wantBwd)
	}
	s.Layout.MicroBatch = 2 // b·np = 4: the fused kernel, one pass each way
	k = newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
	k.build(k.attentionForward)
	if len(k.tasks) != 3 {
		t.Errorf("fused forward: %d kernels, want 3", len(k.tasks))
	}
}
