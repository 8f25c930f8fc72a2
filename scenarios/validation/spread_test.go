package validation

import (
	"fmt"
	"testing"
)

// TestIdenticalConfigSpread checks what the README says bounds any model:
// measured.yaml publishes three MoE configurations (model, GPU, count,
// precision, sequence, batch and layout all equal) in two releases with
// step times more than 1.15/0.85 apart, so that no single prediction keeps
// both within ±15%, and no dense configuration more than 1.12/0.88 apart.
func TestIdenticalConfigSpread(t *testing.T) {
	rows, err := loadMeasured()
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		model, gpu, prec                  string
		gpus, seq, gb, mb, tp, pp, cp, vp int
		ep, fsdp                          int
	}
	deref := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	lo, hi := map[key]float64{}, map[key]float64{}
	moe := map[key]bool{}
	for _, r := range rows {
		if r.StepTimeS == nil {
			continue
		}
		k := key{r.ModelName, r.GPU, r.Precision, r.GPUs, r.SeqLen, r.GlobalBatch, deref(r.MicroBatch), r.TP, r.PP, r.CP, deref(r.VP), deref(r.EP), deref(r.FSDP)}
		s := *r.StepTimeS
		if v, ok := lo[k]; !ok || s < v {
			lo[k] = s
		}
		hi[k] = max(hi[k], s)
		moe[k] = r.MoE
	}
	var wide, denseWide []string
	for k := range lo {
		ratio := hi[k] / lo[k]
		switch {
		case moe[k] && ratio > 1.15/0.85:
			wide = append(wide, fmt.Sprintf("%s %s %.2f", k.model, k.gpu, ratio))
		case !moe[k] && ratio > 1.12/0.88:
			denseWide = append(denseWide, fmt.Sprintf("%s %s %.2f", k.model, k.gpu, ratio))
		}
	}
	if len(wide) != 3 || len(denseWide) != 0 {
		t.Errorf("MoE configurations beyond 1.35×: %v (want 3); dense beyond 1.27×: %v (want none)", wide, denseWide)
	}
}
