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
