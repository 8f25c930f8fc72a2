package plots

import (
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

// TestFreeLabelsStayInside: a label that would run off the right edge of
// the plot ends at its point instead; one with room starts after it.
func TestFreeLabelsStayInside(t *testing.T) {
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 10, 0, 10
	st := text.Style{Font: font.From(face(9, false), 9), Handler: plot.DefaultTextHandler}
	long := "3.56 d, tp2 pp32 cp2 mb1 ep32 zb-h1, a label longer than the room left"
	l := newFreeLabels(plotter.XYs{{X: 1, Y: 5}, {X: 9.5, Y: 5}}, []string{"short", long}, st, vg.Point{X: 6})
	rec := &recorder.Canvas{}
	c := draw.Canvas{Canvas: rec, Rectangle: vg.Rectangle{Max: vg.Point{X: 400, Y: 200}}} // a 400-point-wide plot area
	l.Plot(c, p)
	var strs []*recorder.FillString
	for _, a := range rec.Actions {
		if fs, ok := a.(*recorder.FillString); ok {
			strs = append(strs, fs)
		}
	}
	if len(strs) != 2 {
		t.Fatalf("%d strings drawn", len(strs))
	}
	tx, _ := p.Transforms(&c)
	if got := strs[0].Point.X; got < tx(1) {
		t.Errorf("short label starts at %v, before its point %v", got, tx(1))
	}
	if end := strs[1].Point.X + st.Width(long); end > c.Max.X {
		t.Errorf("long label ends at %v, past the right edge %v", end, c.Max.X)
	}
}

// TestWords: keys become words once, also in the study's variant labels,
// which already say what the key means.
func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"virtual_stages: 1 (no interleaving)": "no interleaving, 1 virtual stage",
		"virtual_stages: 2 (interleaved)":     "interleaved, 2 virtual stages",
		"virtual_stages: 1":                   "no interleaving, 1 virtual stage",
		"tp_comm_overlap: true":               "TP comm overlap on",
		"step time (breakdown_s)":             "step time",
		"no keys here":                        "no keys here",
	} {
		if got := Words(in); got != want {
			t.Errorf("Words(%q) = %q, want %q", in, got, want)
		}
	}
}
