package model

import (
	"errors"
	"testing"
)

// TestOffloadMemoryByHand: Llama 3 8B of TestStageMemoryLlama3_8BByHand
// with 12 of its 32 layers offloaded holds 20 layers' activations (plus
// the working layer and the logits) at the peak, nothing else changing.
func TestOffloadMemoryByHand(t *testing.T) {
	a, _ := LookupArch("llama3-8b")
	l := Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1, ZeRO: 1, OffloadLayers: 12}
	tr := Training{SeqLen: 8192, GlobalBatch: 64, GradBytes: 4}
	mem, err := StageMemory(a, l, tr)
	if err != nil {
		t.Fatal(err)
	}
	const perToken = 139_392 // TestStageMemoryLlama3_8BByHand
	const acts = (32-12+1)*perToken*8192 + 6*8192*128256
	if mem[0].Activations != acts {
		t.Errorf("activations %v, want %v", mem[0].Activations, float64(acts))
	}
	l.OffloadLayers = 0
	plain, _ := StageMemory(a, l, tr)
	if d := plain[0].Activations - mem[0].Activations; d != 12*perToken*8192 {
		t.Errorf("offload saves %v bytes, want 12 layers' %v", d, 12*perToken*8192)
	}
	if plain[0].Weights != mem[0].Weights || plain[0].Optimizer != mem[0].Optimizer {
		t.Errorf("offload changed the static memory: %+v vs %+v", mem[0], plain[0])
	}
}

// TestOffloadValidate: offload_layers is refused as Megatron-Core refuses
// cpu_offloading (below 0, at or above the model's layers, with pipeline
// parallelism, with recomputation) and where it is not modelled (MoE).
func TestOffloadValidate(t *testing.T) {
	dense, _ := LookupArch("llama3-8b") // 32 layers
	moe, _ := LookupArch("mixtral-8x7b")
	tr := Training{SeqLen: 4096, GlobalBatch: 64, GradBytes: 2}
	one := Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1}
	with := func(l Layout, f func(*Layout)) Layout { f(&l); return l }
	for _, c := range []struct {
		name string
		a    Arch
		l    Layout
		ok   bool
	}{
		{"31 of 32", dense, with(one, func(l *Layout) { l.OffloadLayers = 31 }), true},
		{"all 32", dense, with(one, func(l *Layout) { l.OffloadLayers = 32 }), false},
		{"negative", dense, with(one, func(l *Layout) { l.OffloadLayers = -1 }), false},
		{"pp 2", dense, with(one, func(l *Layout) { l.PP, l.DP, l.OffloadLayers = 2, 4, 2 }), false},
		{"recompute full", dense, with(one, func(l *Layout) { l.Recompute, l.OffloadLayers = RecomputeFull, 2 }), false},
		{"recompute elementwise", dense, with(one, func(l *Layout) { l.RecomputeElementwise, l.OffloadLayers = true, 2 }), false},
		{"moe", moe, with(one, func(l *Layout) { l.EP, l.OffloadLayers = 8, 2 }), false},
	} {
		err := c.l.Validate(c.a, tr, 8)
		var fe *FieldError
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.ok && !(errors.As(err, &fe) && fe.Field == "parallelism.offload_layers"):
			t.Errorf("%s: err %v, want a parallelism.offload_layers error", c.name, err)
		}
	}
}
