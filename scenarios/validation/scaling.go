package validation

import (
	"fmt"
	"slices"
	"strings"
)

// ScalingPair is one recipe published at two GPU counts: the growth of the
// time each GPU spends per token from the smaller to the larger count,
// published and predicted. Weak scaling is where stragglers show: the
// slowest of more GPUs sets the pace of every synchronising collective, so
// the straggler model must grow the step as much as the published runs do,
// and no more.
type ScalingPair struct {
	Recipe           string  // what the two rows share
	Small, Large     string  // case names
	GPUsS, GPUsL     int     // GPU counts
	Published        float64 // growth of GPU-seconds per token, %
	Predicted        float64 // the same from the predictions, %
	ErrorPoints      float64 // Predicted − Published, percentage points
	StragglerS, StrL float64 // the predicted straggler share of the step at each count, % (NaN where not known)
}

// WeakScaling finds the recipes published at several GPU counts among rows
// (Run's output over All()): the measured rows that share source table,
// model, GPU, precision and tp, pp, cp, vp and FSDP, and Llama 3 Table 4's
// two 8K rows (one recipe on 8,192 and 16,384 GPUs). For each pair of
// counts, the smallest against the largest, it compares the growth of
// GPU-seconds per token. Rows without a prediction are skipped.
func WeakScaling(rows []Row) ([]ScalingPair, error) {
	byCase := map[string]Row{}
	for _, r := range rows {
		if r.Modelled() && (r.Metric == "step_time_s" || r.Metric == "tflops_per_gpu") {
			byCase[r.Case] = r
		}
	}
	var out []ScalingPair
	// Llama 3 Table 4 rows 1 and 2: the same 8K recipe; per-token time per
	// GPU is inversely proportional to TFLOPS/GPU at a fixed sequence.
	if s, ok1 := byCase[table4Names[0]]; ok1 {
		if l, ok2 := byCase[table4Names[1]]; ok2 {
			out = append(out, pair("Llama 3 405B 8K, tp8 pp16 (Table 4)", s, l, 8192, 16384,
				100*(s.Published/l.Published-1), 100*(s.Predicted/l.Predicted-1)))
		}
	}
	ms, err := loadMeasured()
	if err != nil {
		return nil, err
	}
	type key struct {
		src, model, gpu, prec string
		tp, pp, cp, vp, fsdp  int
	}
	deref := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	groups := map[key][]measuredRow{}
	var keys []key
	for _, m := range ms {
		if m.MoE || m.StepTimeS == nil {
			continue
		}
		if _, ok := byCase[m.ID]; !ok {
			continue
		}
		src := m.Source
		if i := strings.Index(src, "source line"); i >= 0 {
			src = src[:i]
		}
		k := key{src, m.ModelName, m.GPU, m.Precision, m.TP, m.PP, m.CP, deref(m.VP), deref(m.FSDP)}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], m)
	}
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		slices.SortStableFunc(g, func(a, b measuredRow) int { return a.GPUs - b.GPUs })
		s, l := g[0], g[len(g)-1]
		if s.GPUs == l.GPUs {
			continue
		}
		// GPU-seconds per token: step · GPUs / (batch · sequence)
		per := func(m measuredRow, t float64) float64 {
			return t * float64(m.GPUs) / (float64(m.GlobalBatch) * float64(m.SeqLen))
		}
		rs, rl := byCase[s.ID], byCase[l.ID]
		out = append(out, pair(fmt.Sprintf("%s %s %s tp%d pp%d cp%d vp%d", k.model, k.gpu, k.prec, k.tp, k.pp, k.cp, k.vp), rs, rl, s.GPUs, l.GPUs,
			100*(per(l, rl.Published)/per(s, rs.Published)-1), 100*(per(l, rl.Predicted)/per(s, rs.Predicted)-1)))
	}
	return out, nil
}

func pair(recipe string, s, l Row, ns, nl int, pub, pred float64) ScalingPair {
	return ScalingPair{Recipe: recipe, Small: s.Case, Large: l.Case, GPUsS: ns, GPUsL: nl,
		Published: pub, Predicted: pred, ErrorPoints: pred - pub, StragglerS: s.StragglerPct, StrL: l.StragglerPct}
}
