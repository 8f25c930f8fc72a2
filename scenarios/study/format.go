package study

import (
	"fmt"
	"math"
	"strings"

	"github.com/clustersim/clustersim/sim/model"
)

// Group writes an integer with thousands separators: 16384 → "16,384".
func Group(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// num is a quantity in three significant figures with T, G, M suffixes.
func num(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		f float64
		s string
	}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}} {
		if a >= u.f && a < 1e18 {
			return fmt.Sprintf("%.3g%s", v/u.f, u.s)
		}
	}
	return fmt.Sprintf("%.3g", v)
}

// LayoutShort is a layout in a few words: "tp 8, pp 16 (v 8), dp 128".
func LayoutShort(l model.Layout) string {
	s := fmt.Sprintf("tp %d, pp %d", l.TP, l.PP)
	if l.VirtualStages > 1 {
		s += fmt.Sprintf(" (v %d)", l.VirtualStages)
	}
	if l.CP > 1 {
		s += fmt.Sprintf(", cp %d", l.CP)
	}
	return s + fmt.Sprintf(", dp %d", l.DP)
}

// LayoutWords is a layout in a sentence.
func LayoutWords(l model.Layout) string {
	w := fmt.Sprintf("tp %d, pp %d (%d virtual stages), cp %d, dp %d, micro batch %d, recompute %s, ZeRO %d, TP overlap %t, DP overlap %t",
		l.TP, l.PP, l.VirtualStages, l.CP, l.DP, l.MicroBatch, l.Recompute, l.ZeRO, l.TPOverlap, l.DPOverlap)
	if l.OffloadLayers > 0 {
		w += fmt.Sprintf(", %d layers' activations offloaded", l.OffloadLayers)
	}
	return w
}
