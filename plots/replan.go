package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/clustersim/clustersim/sim/run"
)

// PlannedSize is one GPU count of a scaling study that re-plans the
// layout at every size.
type PlannedSize struct {
	GPUs       int
	Layout     string       // the best layout found, e.g. "tp8 pp16 cp1 mb1 v8"; "" when infeasible
	Days       run.Interval // days to train: mean and 90% interval over trials (P5 = P95 = Mean when not known)
	GPUHours   float64
	Cost       float64 // in the study's currency; 0 when not priced
	ETTR       float64 // productive time / wall clock, 0..1
	Infeasible string  // why no layout works at this size; non-empty marks the size infeasible
}

// ScalingPlan is what the re-planned scaling chart shows.
type ScalingPlan struct {
	Title    string // optional
	Sizes    []PlannedSize
	AsRun    int    // the scenario's GPU count (marked); 0 for none
	Currency string // e.g. "USD"; the cost panel shows cost when every feasible size has one, else GPU-hours
	Best     int    // the best size on the days-vs-cost curve (marked); 0 for none
}

// replanIdeal is perfect linear scaling from the smallest feasible size:
// days × GPUs constant. It returns that size, or nil.
func replanIdeal(sizes []PlannedSize) *PlannedSize {
	for i := range sizes {
		if sizes[i].Infeasible == "" {
			return &sizes[i]
		}
	}
	return nil
}

// ScalingReplanned is days, GPU-hours (or cost) and ETTR against the GPU
// count (log2), the layout re-planned at every size: each point labelled
// with its best layout, perfect scaling drawn from the smallest size (so a
// real curve can only sit on or above it), sizes where no layout works
// marked with the reason.
func ScalingReplanned(s ScalingPlan) (*Chart, error) {
	if len(s.Sizes) == 0 {
		return nil, ErrNoData
	}
	sizes := slices.Clone(s.Sizes)
	slices.SortFunc(sizes, func(a, b PlannedSize) int { return a.GPUs - b.GPUs })
	priced := true
	feasible := 0
	for _, z := range sizes {
		if z.GPUs < 1 {
			return nil, fmt.Errorf("plots: scaling: %d GPUs", z.GPUs)
		}
		if z.Infeasible != "" {
			continue
		}
		feasible++
		if !finite(z.Days.Mean, z.Days.P5, z.Days.P95, z.GPUHours, z.Cost, z.ETTR) || z.Days.Mean <= 0 {
			return nil, fmt.Errorf("plots: scaling: bad size %+v", z)
		}
		priced = priced && z.Cost > 0
	}
	if feasible == 0 {
		return nil, ErrNoData
	}
	lg := func(g int) float64 { return math.Log2(float64(g)) }
	xmin, xmax := lg(sizes[0].GPUs)-0.5, lg(sizes[len(sizes)-1].GPUs)+1.3 // room for the last size's label
	const width = 10.0
	title := s.Title
	if title == "" {
		title = "Scaling with the layout re-planned at every size"
	}
	base := replanIdeal(sizes)

	days := newPlot("", "", "days to train (log scale)", gridBoth)
	money := newPlot("", "", "GPU-hours (millions)", gridBoth)
	moneyOf := func(z PlannedSize) float64 { return z.GPUHours / 1e6 }
	if priced {
		money.Y.Label.Text = "cost (" + currencyWord(s.Currency) + ", millions)"
		moneyOf = func(z PlannedSize) float64 { return z.Cost / 1e6 }
	}
	ettr := newPlot("", "GPUs (log scale)", "ETTR", gridBoth)
	var dxy, mxy, exy plotter.XYs
	var errs plotter.YErrors
	var dText, mText []string
	minD, maxD, maxM, minE := math.Inf(1), 0.0, 0.0, 1.0
	for _, z := range sizes {
		if z.Infeasible != "" {
			continue
		}
		x := lg(z.GPUs)
		dxy = append(dxy, plotter.XY{X: x, Y: math.Log10(z.Days.Mean)})
		lo, hi := z.Days.P5, z.Days.P95
		if lo <= 0 || hi <= 0 {
			lo, hi = z.Days.Mean, z.Days.Mean
		}
		errs = append(errs, struct{ Low, High float64 }{math.Log10(z.Days.Mean) - math.Log10(lo), math.Log10(hi) - math.Log10(z.Days.Mean)})
		dText = append(dText, fmt.Sprintf("%s d, %s", sig(z.Days.Mean), z.Layout))
		mxy = append(mxy, plotter.XY{X: x, Y: moneyOf(z)})
		mText = append(mText, sig(moneyOf(z)))
		exy = append(exy, plotter.XY{X: x, Y: z.ETTR})
		minD, maxD = min(minD, lo), max(maxD, hi)
		maxM, minE = max(maxM, moneyOf(z)), min(minE, z.ETTR)
	}
	addSeries := func(p *plot.Plot, xys plotter.XYs, col color.Color) (*plotter.Scatter, error) {
		l, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = col, 1.5
		sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: 3.5, Shape: draw.CircleGlyph{}}
		p.Add(l, sc)
		return sc, nil
	}
	ds, err := addSeries(days, dxy, vermillion)
	if err != nil {
		return nil, err
	}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{dxy, errs})
	if err != nil {
		return nil, err
	}
	eb.Color = vermillion
	days.Add(eb)
	ms, err := addSeries(money, mxy, blue)
	if err != nil {
		return nil, err
	}
	es, err := addSeries(ettr, exy, green)
	if err != nil {
		return nil, err
	}
	small := text.Style{Color: black, Font: font.From(face(9, false), 9), Handler: plot.DefaultTextHandler}
	dStyle := small
	dStyle.YAlign = text.YTop
	days.Add(newFreeLabels(dxy, dText, dStyle, vg.Point{X: 6, Y: -5}))
	money.Add(newFreeLabels(mxy, mText, small, vg.Point{X: 6, Y: 4}))
	legend := []entry{{"days to train, mean and 90% of trials; best layout at each size", ds}}
	if priced {
		legend = append(legend, entry{"cost (" + currencyWord(s.Currency) + ")", ms})
	} else {
		legend = append(legend, entry{"GPU-hours", ms})
	}
	legend = append(legend, entry{"ETTR", es})
	if base != nil {
		g := float64(base.GPUs)
		at := func(x float64) float64 { return math.Log10(base.Days.Mean * g / math.Exp2(x)) }
		x0 := lg(base.GPUs)
		ideal := plotter.XYs{{X: x0, Y: at(x0)}, {X: xmax, Y: at(xmax)}}
		minD = min(minD, math.Pow(10, ideal[1].Y))
		il, err := plotter.NewLine(ideal)
		if err != nil {
			return nil, err
		}
		il.Color, il.Dashes, il.Width = grey, []vg.Length{4, 3}, 1
		days.Add(il)
		legend = append(legend, entry{fmt.Sprintf("perfect scaling from the smallest size (%s GPUs)", thousands(base.GPUs)), il})
		// the same GPU-hours (cost) at every size, for the money panel
		fl, err := plotter.NewLine(plotter.XYs{{X: x0, Y: moneyOf(*base)}, {X: xmax, Y: moneyOf(*base)}})
		if err != nil {
			return nil, err
		}
		fl.Color, fl.Dashes, fl.Width = grey, []vg.Length{4, 3}, 1
		money.Add(fl)
	}
	dlo, dhi := math.Log10(minD)-0.12, math.Log10(maxD)+0.25
	// infeasible sizes: a cross on every panel's axis and the reason,
	// written up the days panel
	var bad plotter.XYs
	var badText []string
	for _, z := range sizes {
		if z.Infeasible == "" {
			continue
		}
		bad = append(bad, plotter.XY{X: lg(z.GPUs), Y: dlo + 0.04*(dhi-dlo)})
		badText = append(badText, "no layout: "+z.Infeasible)
	}
	if len(bad) > 0 {
		sc, err := plotter.NewScatter(bad)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: black, Radius: 4, Shape: draw.CrossGlyph{}}
		days.Add(sc)
		up := small
		up.Rotation, up.XAlign, up.YAlign = math.Pi/2, text.XLeft, text.YCenter
		days.Add(newFreeLabels(bad, badText, up, vg.Point{Y: 8}))
		legend = append(legend, entry{"size with no feasible layout (reason written up the chart)", sc})
	}
	for _, m := range []struct {
		g      int
		label  string
		dashes []vg.Length
	}{{s.AsRun, "the scenario as run", []vg.Length{2, 2}}, {s.Best, "best size on days against cost", nil}} {
		if m.g <= 0 {
			continue
		}
		var first *plotter.Line
		for _, pl := range []*plot.Plot{days, money, ettr} {
			v, err := plotter.NewLine(plotter.XYs{{X: lg(m.g), Y: -1e9}, {X: lg(m.g), Y: 1e9}})
			if err != nil {
				return nil, err
			}
			v.Color, v.Width, v.Dashes = black, 0.8, m.dashes
			if m.dashes == nil {
				v.Color, v.Width = purple, 1.5
			}
			pl.Add(v)
			if first == nil {
				first = v
			}
		}
		legend = append(legend, entry{fmt.Sprintf("%s (%s GPUs)", m.label, thousands(m.g)), first})
	}
	for _, pl := range []*plot.Plot{days, money, ettr} {
		pl.X.Min, pl.X.Max = xmin, xmax
		pl.X.Tick.Marker = log2Ticks{}
	}
	days.Y.Min, days.Y.Max = dlo, dhi
	days.Y.Tick.Marker = log10Ticks{}
	money.Y.Min, money.Y.Max = 0, maxM*1.25
	money.Y.Tick.Marker = linearTicks{N: 5}
	ettr.Y.Min, ettr.Y.Max = max(0, minE-0.1), 1
	ettr.Y.Tick.Marker = linearTicks{N: 3, Scale: 100, Suffix: "%"}
	head := legendPanel(title, width, legend)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("scaling", title, width, head, panel{p: days, h: 3.4}, panel{p: money, h: 2.0}, panel{p: ettr, h: 1.8}), nil
}

// currencyWord is the currency as given, or a placeholder that says it was
// not.
func currencyWord(c string) string {
	if c == "" {
		return "currency not given"
	}
	return c
}

// PhaseSpan is one phase of a multi-phase run on the timeline.
type PhaseSpan struct {
	Name               string
	GPUs               int
	SeqLen             int     // context length (tokens)
	Tokens             float64 // tokens trained in the phase
	StartDays, EndDays float64 // wall clock, from the start of the run
}

// PhaseSpans lays the phases of r end to end by their mean wall-clock days.
func PhaseSpans(r run.Result) []PhaseSpan {
	var out []PhaseSpan
	t := 0.0
	for _, p := range r.Phases {
		out = append(out, PhaseSpan{p.Name, p.GPUs, p.SeqLen, p.Tokens, t, t + p.WallClockDays})
		t += p.WallClockDays
	}
	return out
}

// PhaseTimeline is a multi-phase run on its wall clock: each phase a band
// as high as its GPU count, labelled with its name, context length and
// tokens. A run of one phase is not drawn (a NotDrawn error says why).
func PhaseTimeline(title string, phases []PhaseSpan) (*Chart, error) {
	if len(phases) == 0 {
		return nil, ErrNoData
	}
	if len(phases) == 1 {
		p := phases[0]
		return nil, &NotDrawn{"phases", fmt.Sprintf("one phase: %s GPUs at sequence length %s for %s days.", thousands(p.GPUs), thousands(p.SeqLen), sig(p.EndDays-p.StartDays))}
	}
	if title == "" {
		title = "Phases over the run: GPUs, context length and tokens"
	}
	const width = 10.0
	p := newPlot("", "wall clock (days)", "GPUs", gridH)
	fills := []struct{ r, g, b uint8 }{{0x56, 0xb4, 0xe9}, {0xe6, 0x9f, 0x00}, {0x00, 0x9e, 0x73}, {0xcc, 0x79, 0xa7}, {0x00, 0x72, 0xb2}}
	var xys plotter.XYs
	var labels []string
	maxG, end := 0, 0.0
	for i, ph := range phases {
		if !finite(ph.StartDays, ph.EndDays, ph.Tokens) || ph.EndDays < ph.StartDays || ph.GPUs < 1 {
			return nil, fmt.Errorf("plots: phases: bad phase %+v", ph)
		}
		f := fills[i%len(fills)]
		poly, err := plotter.NewPolygon(plotter.XYs{{X: ph.StartDays, Y: 0}, {X: ph.EndDays, Y: 0}, {X: ph.EndDays, Y: float64(ph.GPUs)}, {X: ph.StartDays, Y: float64(ph.GPUs)}})
		if err != nil {
			return nil, err
		}
		poly.Color = colorOf(f.r, f.g, f.b)
		poly.LineStyle.Color, poly.LineStyle.Width = whiteC, 1
		p.Add(poly)
		xys = append(xys, plotter.XY{X: ph.StartDays, Y: float64(ph.GPUs)})
		labels = append(labels, fmt.Sprintf("%s\n%s GPUs, seq %s\n%s tokens, %s d", ph.Name, thousands(ph.GPUs), thousands(ph.SeqLen), Human(ph.Tokens), sig(ph.EndDays-ph.StartDays)))
		maxG, end = max(maxG, ph.GPUs), max(end, ph.EndDays)
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i] = text.Style{Color: black, Font: face(9, false), Handler: plot.DefaultTextHandler, YAlign: text.YBottom}
	}
	lb.Offset = vg.Point{X: 3, Y: 3}
	p.Add(lb)
	p.X.Min, p.X.Max = 0, end*1.02
	p.Y.Min, p.Y.Max = 0, float64(maxG)*1.6
	p.X.Tick.Marker = linearTicks{N: 10}
	p.Y.Tick.Marker = linearTicks{N: 4}
	head := legendPanel(title, width, nil)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("phases", title, width, head, panel{p: p, h: 2.8}), nil
}
