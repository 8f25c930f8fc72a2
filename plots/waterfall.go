package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// WaterfallStep is one bar of the waterfall of days.
type WaterfallStep struct {
	Label string  // in words, e.g. "pipeline bubble"
	Days  float64 // a total's days, or the days this step adds (negative takes away)
	// Total marks a running total drawn from zero ("ideal at peak",
	// "delivered"); the steps between two totals must add up to the
	// difference (to 0.5% of the larger).
	Total bool
}

// Waterfall is where the days go: ordered steps, the first a total.
// The usual order: ideal at peak (a total), compute efficiency, pipeline
// bubble, exposed communication, stragglers, restarts, lost work,
// checkpoints, planned maintenance, delivered (a total).
type Waterfall struct {
	Title string // optional
	Steps []WaterfallStep
}

// WaterfallBar is one drawn bar: from Lo to Hi days.
type WaterfallBar struct {
	Label  string
	Lo, Hi float64
	Total  bool
}

// WaterfallBars places the steps: totals from zero, each other step from
// the running total to the running total plus its days. It checks that
// the steps between two totals add up to their difference.
func WaterfallBars(w Waterfall) ([]WaterfallBar, error) {
	if len(w.Steps) == 0 {
		return nil, ErrNoData
	}
	if !w.Steps[0].Total {
		return nil, fmt.Errorf("plots: waterfall: the first step (%q) must be a total", w.Steps[0].Label)
	}
	var out []WaterfallBar
	run := 0.0
	for i, s := range w.Steps {
		if !finite(s.Days) {
			return nil, fmt.Errorf("plots: waterfall: step %q is %g days", s.Label, s.Days)
		}
		if s.Total {
			if i > 0 && math.Abs(s.Days-run) > 0.005*max(math.Abs(s.Days), math.Abs(run)) {
				return nil, fmt.Errorf("plots: waterfall: the steps before %q add up to %s days, not its %s", s.Label, sig(run), sig(s.Days))
			}
			run = s.Days
			out = append(out, WaterfallBar{s.Label, 0, s.Days, true})
			continue
		}
		out = append(out, WaterfallBar{s.Label, run, run + s.Days, false})
		run += s.Days
	}
	return out, nil
}

// WaterfallChart is the waterfall of days, top to bottom: totals in dark
// blue from zero, each loss in vermillion from the running total (a gain
// in green), with its days and its share of the last total at its end.
func WaterfallChart(w Waterfall) (*Chart, error) {
	bars, err := WaterfallBars(w)
	if err != nil {
		return nil, err
	}
	last := bars[len(bars)-1].Hi
	if !(last > 0) {
		return nil, ErrNoData
	}
	title := w.Title
	if title == "" {
		title = fmt.Sprintf("Where the days go: from %s days at peak to %s delivered", sig(bars[0].Hi), sig(last))
	}
	n := len(bars)
	const width = 10.0
	p := newPlot("", "days to train", "", gridV)
	right := 0.0
	var xys plotter.XYs
	var labels []string
	names := make([]string, n)
	kinds := map[string]color.Color{"total": blue, "loss": vermillion, "gain": green}
	used := map[string]bool{}
	for i, b := range bars {
		y := float64(n - 1 - i)
		lo, hi := min(b.Lo, b.Hi), max(b.Lo, b.Hi)
		kind := "loss"
		switch {
		case b.Total:
			kind = "total"
		case b.Hi < b.Lo:
			kind = "gain"
		}
		used[kind] = true
		poly, err := plotter.NewPolygon(plotter.XYs{{X: lo, Y: y - 0.32}, {X: hi, Y: y - 0.32}, {X: hi, Y: y + 0.32}, {X: lo, Y: y + 0.32}})
		if err != nil {
			return nil, err
		}
		poly.Color, poly.LineStyle.Width = kinds[kind], 0
		p.Add(poly)
		if i > 0 {
			// a connector from the previous bar's end
			prev := bars[i-1].Hi
			c, err := plotter.NewLine(plotter.XYs{{X: prev, Y: y + 0.32}, {X: prev, Y: y + 0.68}})
			if err != nil {
				return nil, err
			}
			c.Color, c.Width, c.Dashes = grey, 0.7, []vg.Length{2, 2}
			p.Add(c)
		}
		names[n-1-i] = b.Label
		d := b.Hi - b.Lo
		lab := fmt.Sprintf("%s d", sig(b.Hi))
		if !b.Total {
			lab = fmt.Sprintf("%+.3g d (%.1f%%)", d, 100*d/last)
		}
		xys = append(xys, plotter.XY{X: hi, Y: y})
		labels = append(labels, lab)
		right = max(right, hi)
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i] = text.Style{Color: color.Black, Font: face(10, false), Handler: plot.DefaultTextHandler, YAlign: text.YCenter}
	}
	lb.Offset = vg.Point{X: barLabelGap}
	p.Add(lb)
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3
	p.X.Min, p.X.Max = 0, right*1.2
	p.X.Tick.Marker = linearTicks{N: 8}
	var legend []entry
	for _, k := range []struct{ k, label string }{{"total", "days (a running total)"}, {"loss", "days lost to this cause"}, {"gain", "days saved"}} {
		if used[k.k] {
			legend = append(legend, entry{k.label, swatch{kinds[k.k]}})
		}
	}
	head := legendPanel(title, width, legend)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("waterfall", title, width, head, panel{p: p, h: 0.8 + 0.34*float64(n)}), nil
}

// SensitivityBar is the days to train with one doubtful input set low and
// high (e.g. the failure rates at ×0.5 and ×2, or the model-error band).
type SensitivityBar struct {
	Input     string  // in words, e.g. "failure rates"
	LowLabel  string  // e.g. "×0.5" or "−7.8%"
	HighLabel string  // e.g. "×2" or "+7.8%"
	LowDays   float64 // days with the input low
	HighDays  float64 // days with the input high
}

// Sensitivity is the tornado chart's input: the base case and one bar per
// doubtful input.
type Sensitivity struct {
	Title    string  // optional
	BaseDays float64 // days with every input as in the scenario
	Bars     []SensitivityBar
}

// Swing is how far apart a bar's two ends are, in days.
func (b SensitivityBar) Swing() float64 { return math.Abs(b.HighDays - b.LowDays) }

// SensitivityOrder is the bars sorted by swing, largest first (ties by
// input name): the tornado's order, top to bottom.
func SensitivityOrder(bars []SensitivityBar) []SensitivityBar {
	out := slices.Clone(bars)
	slices.SortStableFunc(out, func(a, b SensitivityBar) int {
		return cmp.Or(cmp.Compare(b.Swing(), a.Swing()), cmp.Compare(a.Input, b.Input))
	})
	return out
}

// Tornado is the sensitivity of days to train to each doubtful input: one
// bar per input from its low to its high setting, sorted by swing, largest
// at the top, across a line at the base case. Low settings are sky blue,
// high ones orange, each end labelled with the setting and its days.
func Tornado(s Sensitivity) (*Chart, error) {
	if len(s.Bars) == 0 {
		return nil, ErrNoData
	}
	if !finite(s.BaseDays) || s.BaseDays <= 0 {
		return nil, fmt.Errorf("plots: sensitivity: base %g days", s.BaseDays)
	}
	bars := SensitivityOrder(s.Bars)
	lo, hi := s.BaseDays, s.BaseDays
	for _, b := range bars {
		if !finite(b.LowDays, b.HighDays) || b.LowDays <= 0 || b.HighDays <= 0 {
			return nil, fmt.Errorf("plots: sensitivity: bad bar %+v", b)
		}
		lo, hi = min(lo, b.LowDays, b.HighDays), max(hi, b.LowDays, b.HighDays)
	}
	title := s.Title
	if title == "" {
		title = fmt.Sprintf("How sure: days to train as each doubtful input moves (base case %s days)", sig(s.BaseDays))
	}
	n := len(bars)
	const width = 10.0
	p := newPlot("", "days to train", "", gridV)
	names := make([]string, n)
	var lxy, rxy plotter.XYs
	var ltext, rtext []string
	for i, b := range bars {
		y := float64(n - 1 - i)
		names[n-1-i] = b.Input
		for _, e := range []struct {
			d     float64
			label string
			c     color.Color
		}{{b.LowDays, b.LowLabel, skyBlue}, {b.HighDays, b.HighLabel, orange}} {
			a, z := min(s.BaseDays, e.d), max(s.BaseDays, e.d)
			if z > a {
				poly, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: y - 0.3}, {X: z, Y: y - 0.3}, {X: z, Y: y + 0.3}, {X: a, Y: y + 0.3}})
				if err != nil {
					return nil, err
				}
				poly.Color, poly.LineStyle.Width = e.c, 0
				p.Add(poly)
			}
			t := fmt.Sprintf("%s: %s d", e.label, sig(e.d))
			if e.d < s.BaseDays || (e.d == s.BaseDays && e.c == skyBlue) {
				lxy, ltext = append(lxy, plotter.XY{X: e.d, Y: y}), append(ltext, t)
			} else {
				rxy, rtext = append(rxy, plotter.XY{X: e.d, Y: y}), append(rtext, t)
			}
		}
	}
	for _, side := range []struct {
		xys   plotter.XYs
		text  []string
		align text.XAlignment
		off   vg.Length
	}{{lxy, ltext, text.XRight, -barLabelGap}, {rxy, rtext, text.XLeft, barLabelGap}} {
		if len(side.xys) == 0 {
			continue
		}
		lb, err := plotter.NewLabels(plotter.XYLabels{XYs: side.xys, Labels: side.text})
		if err != nil {
			return nil, err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i] = text.Style{Color: color.Black, Font: face(9, false), Handler: plot.DefaultTextHandler, XAlign: side.align, YAlign: text.YCenter}
		}
		lb.Offset = vg.Point{X: side.off}
		p.Add(lb)
	}
	base, err := plotter.NewLine(plotter.XYs{{X: s.BaseDays, Y: -0.6}, {X: s.BaseDays, Y: float64(n) - 0.4}})
	if err != nil {
		return nil, err
	}
	base.Color, base.Width = black, 1.2
	p.Add(base)
	p.NominalY(names...)
	span := max(hi-lo, 0.02*s.BaseDays)
	p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3
	p.X.Min, p.X.Max = lo-0.45*span, hi+0.45*span
	p.X.Tick.Marker = linearTicks{N: 8}
	legend := []entry{{"input low", swatch{skyBlue}}, {"input high", swatch{orange}}, {fmt.Sprintf("base case: %s days", sig(s.BaseDays)), base}}
	head := legendPanel(title, width, legend)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("sensitivity", title, width, head, panel{p: p, h: 0.8 + 0.36*float64(n)}), nil
}
