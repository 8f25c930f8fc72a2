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

// TestOffloadedLayers: a stage's first OffloadLayers layers, in chunk order.
func TestOffloadedLayers(t *testing.T) {
	l := Layout{PP: 2, VirtualStages: 2, OffloadLayers: 5}
	chunks := []int{3, 3, 3, 3} // j = c·pp + r: stage 0 holds chunks 0 and 2, stage 1 chunks 1 and 3
	want := []int{3, 3, 2, 2}
	for j := range chunks {
		if got := l.OffloadedLayers(chunks, j); got != want[j] {
			t.Errorf("chunk %d: %d offloaded, want %d", j, got, want[j])
		}
	}
}

// TestOffloadValidate: offload_layers is refused below 0, at or above the
// fewest layers a stage holds, on MoE models and on zero-bubble schedules.
func TestOffloadValidate(t *testing.T) {
	dense, _ := LookupArch("llama3-8b") // 32 layers
	moe, _ := LookupArch("mixtral-8x7b")
	tr := Training{SeqLen: 4096, GlobalBatch: 64, GradBytes: 2}
	for _, c := range []struct {
		name string
		a    Arch
		l    Layout
		ok   bool
	}{
		{"31 of 32", dense, Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1, OffloadLayers: 31}, true},
		{"all 32", dense, Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1, OffloadLayers: 32}, false},
		{"16 of a pp2 stage's 16", dense, Layout{TP: 1, PP: 2, CP: 1, DP: 4, MicroBatch: 1, VirtualStages: 1, OffloadLayers: 16}, false},
		{"negative", dense, Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1, OffloadLayers: -1}, false},
		{"moe", moe, Layout{TP: 1, PP: 1, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1, EP: 8, OffloadLayers: 2}, false},
		{"zb-h1", dense, Layout{TP: 1, PP: 2, CP: 1, DP: 4, MicroBatch: 1, VirtualStages: 1, PipeSchedule: SchedZBH1, OffloadLayers: 2}, false},
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
