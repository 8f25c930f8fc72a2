package validation

import (
	"strings"
	"testing"

	"github.com/clustersim/clustersim/sim/model"
)

// TestOffloadRecipeFits: the Megatron-Bridge recipes' activation offload
// (mbOffload) is what the memory model needs. Every FSDP row of these
// recipes loads with the recipe's offload and no recomputation. For Llama 3
// 70B in fp8 the least offload under which it fits without recomputing is
// at most 5 layers below the recipe's (40 on GB200, the recipe's own
// number; 15 on GB300, which offloads 20): NVIDIA offloads about what our
// account of the memory says it must. Llama 3.1 405B on GB200 offloads 95
// of 126 layers where our account needs 55: with every copy hidden behind
// compute (offloadWaits), offloading more than needed costs nothing, so
// that recipe's number bounds the need only from above.
func TestOffloadRecipeFits(t *testing.T) {
	rows, err := loadMeasured()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		want, ok := mbOffload[mbRecipe{r.Model.Builtin, r.GPU, r.Precision}]
		if !ok || r.FSDP == nil || *r.FSDP == 0 || !strings.Contains(r.Source, "Megatron-Bridge") {
			continue
		}
		n++
		s := measuredScenario(r)
		spec, err := loadScenario(s)
		if err != nil {
			t.Errorf("%s: %v", r.ID, err)
			continue
		}
		if l := spec.Step.Layout; l.OffloadLayers != want || l.Recompute != model.RecomputeNone {
			t.Errorf("%s: offload %d, recompute %v; want %d and none", r.ID, l.OffloadLayers, l.Recompute, want)
		}
		s.Parallelism.Recompute = ptr("none")
		least := want
		for ; least > 0; least-- {
			s.Parallelism.OffloadLayers = ptr(least - 1)
			if _, err := loadScenario(s); err != nil {
				if !strings.Contains(err.Error(), "GiB per GPU") {
					t.Errorf("%s: %v", r.ID, err)
				}
				break
			}
		}
		if r.Model.Builtin == "llama3-70b" && least < want-5 || least > want {
			t.Errorf("%s: fits with %d layers offloaded, the recipe offloads %d", r.ID, least, want)
		}
	}
	if n != 12 { // Llama 3 70B: 6 GB200 and 5 GB300 rows; Llama 3.1 405B: 1 GB200 row
		t.Errorf("%d rows take a recipe's offload, want 12", n)
	}
}

// TestOffloadRecipeConfigsFit checks the memory account against every
// Llama 3 70B FSDP preset of Megatron-Bridge's performance configs
// (scripts/performance/configs/llama3/workload_base_configs.py
// @0fa501acee1ebfe3d1ab8088b638e2089d800df6: 64 GPUs, tp 1, pp 1, Megatron
// FSDP, 8,192 tokens, with the preset's micro batch and offload), whether
// or not a measured row uses it. NVIDIA runs each, so each must fit with
// its offload and no recomputation; the least offload our account needs is
// never more than the preset's and at most 13 layers fewer (offloading
// more than needed costs nothing while the copies keep up).
func TestOffloadRecipeConfigsFit(t *testing.T) {
	for _, c := range []struct {
		gpu, precision string
		mb, offload    int
		least          int // our account's least offload, for the record
	}{
		{"gb200", "bf16", 1, 20, 7},
		{"gb300", "bf16", 2, 30, 24},
		{"b200", "fp8", 1, 5, 0},
		{"gb200", "fp8", 2, 40, 40},
		{"gb300", "fp8", 2, 20, 15},
	} {
		gpn := 4
		if c.gpu == "b200" {
			gpn = 8
		}
		r := measuredRow{ID: "preset", Source: "NVIDIA-NeMo/Megatron-Bridge preset", GPU: c.gpu, GPUs: 64, GPUsPerNode: gpn,
			Model: measuredModel{Builtin: "llama3-70b"}, Precision: c.precision, SeqLen: 8192, GlobalBatch: 128,
			MicroBatch: ptr(c.mb), TP: 1, PP: 1, CP: 1, FSDP: ptr(64)}
		s := measuredScenario(r)
		s.Parallelism.Recompute = ptr("none")
		least := -1
		for n := 0; n <= c.offload; n++ {
			s.Parallelism.OffloadLayers = ptr(n)
			if _, err := loadScenario(s); err == nil {
				least = n
				break
			} else if !strings.Contains(err.Error(), "GiB per GPU") {
				t.Fatalf("%s %s: %v", c.gpu, c.precision, err)
			}
		}
		if least != c.least {
			t.Errorf("%s %s micro batch %d: fits from %d layers offloaded (want %d; the preset offloads %d)", c.gpu, c.precision, c.mb, least, c.least, c.offload)
		}
		if least < 0 || least < c.offload-13 {
			t.Errorf("%s %s: least offload %d against the preset's %d", c.gpu, c.precision, least, c.offload)
		}
	}
}
