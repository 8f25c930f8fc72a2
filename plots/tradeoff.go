package plots

import (
	"cmp"
	"fmt"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LayoutPoint is one feasible layout of a plan search.
type LayoutPoint struct {
	Label       string  // the layout in the plan's short form, e.g. "tp8 pp16 cp1 mb1 v8"
	Days        float64 // days to train with it (mean over trials, or the failure-free estimate the search ranks by)
	HeadroomGiB float64 // GPU memory left on its fullest stage: capacity − peak (GiB)
	AsRun       bool    // the scenario's own layout
}

// LayoutTradeoff is what the layout trade-off chart shows: every feasible
// layout `plan` found, by days to train and memory headroom.
type LayoutTradeoff struct {
	Title  string        // optional; a default names the GPUs
	GPUs   int           // the cluster's GPU count, for the title
	GPU    string        // the GPU's name, for the title
	Points []LayoutPoint // in any order
	Label  int           // how many of the fastest layouts to label; 0 means 5
	// DaysAxis is the y axis label; "" means "days to train".
	DaysAxis string
}

// TradeoffLabelled is the labelled layouts of t: the Label fastest (by
// days, then headroom) and the scenario's own.
func TradeoffLabelled(t LayoutTradeoff) []LayoutPoint {
	n := t.Label
	if n <= 0 {
		n = 5
	}
	pts := slices.Clone(t.Points)
	slices.SortStableFunc(pts, func(a, b LayoutPoint) int {
		return cmp.Or(cmp.Compare(a.Days, b.Days), cmp.Compare(b.HeadroomGiB, a.HeadroomGiB))
	})
	var out []LayoutPoint
	for i, p := range pts {
		if i < n || p.AsRun {
			out = append(out, p)
		}
	}
	return out
}

// Tradeoff is the plan's trade-off: days to train against memory headroom,
// one dot per feasible layout; the fastest few labelled with their layout,
// the scenario's own layout marked with a ring and labelled. Layouts to the
// left run close to the GPU's capacity (fragile to a longer context or a
// fragmented allocator); lower is faster.
func Tradeoff(t LayoutTradeoff) (*Chart, error) {
	if len(t.Points) == 0 {
		return nil, ErrNoData
	}
	var all, own plotter.XYs
	minD, maxD, minH, maxH := t.Points[0].Days, t.Points[0].Days, t.Points[0].HeadroomGiB, t.Points[0].HeadroomGiB
	for _, p := range t.Points {
		if !finite(p.Days, p.HeadroomGiB) || p.Days <= 0 {
			return nil, fmt.Errorf("plots: layout trade-off: bad point %+v", p)
		}
		all = append(all, plotter.XY{X: p.HeadroomGiB, Y: p.Days})
		if p.AsRun {
			own = append(own, plotter.XY{X: p.HeadroomGiB, Y: p.Days})
		}
		minD, maxD = min(minD, p.Days), max(maxD, p.Days)
		minH, maxH = min(minH, p.HeadroomGiB), max(maxH, p.HeadroomGiB)
	}
	title := t.Title
	if title == "" {
		title = fmt.Sprintf("Layouts that fit: days to train against memory headroom (%s feasible layouts", thousands(len(t.Points)))
		if t.GPUs > 0 {
			title += fmt.Sprintf(" on %s × %s", thousands(t.GPUs), t.GPU)
		}
		title += ")"
	}
	const width = 10.0
	yl := t.DaysAxis
	if yl == "" {
		yl = "days to train"
	}
	p := newPlot("", "memory headroom on the fullest stage: capacity − peak (GiB per GPU)", yl, gridBoth)
	sc, err := plotter.NewScatter(all)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: skyBlue, Radius: 2, Shape: draw.CircleGlyph{}}
	p.Add(sc)
	legend := []entry{{"a feasible layout", sc}}
	lab := TradeoffLabelled(t)
	var best plotter.XYs
	var bestText, ranked []string
	for i, q := range lab {
		if q.AsRun {
			continue
		}
		best = append(best, plotter.XY{X: q.HeadroomGiB, Y: q.Days})
		bestText = append(bestText, fmt.Sprint(i+1))
		ranked = append(ranked, fmt.Sprintf("%d. %s: %s d", i+1, q.Label, sig(q.Days)))
	}
	if len(best) > 0 {
		bs, err := plotter.NewScatter(best)
		if err != nil {
			return nil, err
		}
		bs.GlyphStyle = draw.GlyphStyle{Color: blue, Radius: 3.5, Shape: draw.CircleGlyph{}}
		p.Add(bs)
		for _, r := range ranked {
			legend = append(legend, entry{r, bs})
		}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: best, Labels: bestText})
		if err != nil {
			return nil, err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font = face(9, true)
			lb.TextStyle[i].YAlign = text.YAlignment(-float64(i % 2)) // alternately above and below, to keep neighbours apart
		}
		lb.Offset = vg.Point{X: 5}
		p.Add(lb)
	}
	if len(own) > 0 {
		ring, err := plotter.NewScatter(own)
		if err != nil {
			return nil, err
		}
		ring.GlyphStyle = draw.GlyphStyle{Color: vermillion, Radius: 6, Shape: draw.RingGlyph{}}
		p.Add(ring)
		var ownLabel string
		for _, q := range t.Points {
			if q.AsRun {
				ownLabel = fmt.Sprintf("the scenario's own: %s, %s d", q.Label, sig(q.Days))
				break
			}
		}
		legend = append(legend, entry{ownLabel, ring})
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: own[:1], Labels: []string{"scenario's own"}})
		if err != nil {
			return nil, err
		}
		lb.TextStyle[0].Font = face(9, true)
		lb.TextStyle[0].Color = vermillion
		lb.TextStyle[0].XAlign = -1
		lb.Offset = vg.Point{X: -9}
		p.Add(lb)
	}
	spanD, spanH := max(maxD-minD, 0.05*maxD), max(maxH-minH, 1)
	p.X.Min, p.X.Max = minH-0.08*spanH, maxH+0.35*spanH
	p.Y.Min, p.Y.Max = minD-0.08*spanD, maxD+0.08*spanD
	p.X.Tick.Marker = linearTicks{N: 8}
	p.Y.Tick.Marker = linearTicks{N: 6}
	head := legendPanel(title, width, legend)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("tradeoff", title, width, head, panel{p: p, h: 4.4}), nil
}
