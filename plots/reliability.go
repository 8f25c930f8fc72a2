package plots

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/clustersim/clustersim/sim/run"
)

// CauseCount is the mean number of interruptions of one cause over the run.
type CauseCount struct {
	Cause   string
	Count   float64
	Planned bool
}

// CauseCounts returns r.InterruptionsByCause, largest first, marking the
// planned causes.
func CauseCounts(r run.Result, planned []string) []CauseCount {
	var out []CauseCount
	for c, n := range r.InterruptionsByCause {
		out = append(out, CauseCount{c, n, slices.Contains(planned, c)})
	}
	slices.SortFunc(out, func(a, b CauseCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Cause, b.Cause))
	})
	return out
}

// Interruptions is the mean number of interruptions over the run by cause,
// largest first, unexpected and planned in different colours. planned names
// the causes that are planned maintenance.
func Interruptions(r run.Result, planned []string) (*Chart, error) {
	counts := CauseCounts(r, planned)
	if len(counts) == 0 {
		return nil, ErrNoData
	}
	n := len(counts)
	const width = 10.0
	title := fmt.Sprintf("Interruptions by cause: %s unexpected, %s planned over %s days (mean of %d trials)",
		sig(r.Interruptions), sig(r.PlannedInterruptions), sig(r.WallClockDays), r.Trials)
	p := newPlot("", "interruptions over the whole run (mean count)", "", gridV)
	unexp, plan := make(plotter.Values, n), make(plotter.Values, n)
	names := make([]string, n)
	var xys plotter.XYs
	var labels []string
	most := 0.0
	for i, c := range counts {
		y := n - 1 - i
		if c.Planned {
			plan[y] = c.Count
		} else {
			unexp[y] = c.Count
		}
		names[y] = CauseLabel(c.Cause)
		xys = append(xys, plotter.XY{X: c.Count, Y: float64(y)})
		share := 0.0
		if total := r.Interruptions + r.PlannedInterruptions; total > 0 {
			share = 100 * c.Count / total
		}
		labels = append(labels, fmt.Sprintf("%s (%.0f%%)", sig(c.Count), share))
		most = max(most, c.Count)
	}
	if !(most > 0) {
		return nil, ErrNoData
	}
	barW := vg.Length(0.22) * vg.Inch
	var legend []entry
	for _, s := range []struct {
		v     plotter.Values
		c     color.Color
		label string
	}{{unexp, vermillion, "unexpected (failures)"}, {plan, grey, "planned (maintenance)"}} {
		if slices.ContainsFunc(s.v, func(x float64) bool { return x > 0 }) {
			bc, err := plotter.NewBarChart(s.v, barW)
			if err != nil {
				return nil, err
			}
			bc.Horizontal, bc.Color, bc.LineStyle.Width = true, s.c, 0
			p.Add(bc)
			legend = append(legend, entry{s.label, swatch{s.c}})
		}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i] = text.Style{Color: color.Black, Font: face(9, false), Handler: plot.DefaultTextHandler, YAlign: text.YCenter}
	}
	lb.Offset = vg.Point{X: barLabelGap}
	p.Add(lb)
	p.NominalY(names...)
	p.X.Min, p.X.Max = 0, most*1.18
	p.X.Tick.Marker = linearTicks{N: 8}
	head := legendPanel(title, width, legend)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("interruptions", title, width, head, panel{p: p, h: 0.7 + 0.27*float64(n)}), nil
}

// WallClock is the distribution of the run's wall-clock days over the
// Monte Carlo trials (r.TrialWallClockDays), with the mean and the 90%
// interval marked.
func WallClock(r run.Result) (*Chart, error) {
	d := r.TrialWallClockDays
	if len(d) == 0 {
		return nil, ErrNoData
	}
	for _, v := range d {
		if !finite(v) {
			return nil, fmt.Errorf("plots: wall clock: trial days %g", v)
		}
	}
	if lo, hi := slices.Min(d), slices.Max(d); hi-lo < 1e-9*max(1, hi) {
		return nil, &NotDrawn{"wallclock", fmt.Sprintf("every one of the %d Monte Carlo trials takes %s days: with no failures to vary, there is no spread to show.", len(d), sig(hi))}
	}
	bins := min(max(int(math.Ceil(math.Sqrt(float64(len(d))))), 5), 30)
	const width = 10.0
	title := fmt.Sprintf("Time to train over %d Monte Carlo trials: %s days (90%%: %s to %s)", len(d), sig(r.WallClockDaysCI.Mean), sig(r.WallClockDaysCI.P5), sig(r.WallClockDaysCI.P95))
	p := newPlot("", "wall-clock time to train, failures included (days)", "trials", gridH)
	lo, hi := slices.Min(d), slices.Max(d)
	if hi-lo < 1e-9*max(1, hi) {
		lo, hi = lo-0.5, hi+0.5
	}
	vals := make(plotter.Values, len(d))
	copy(vals, d)
	h, err := plotter.NewHist(vals, bins)
	if err != nil {
		return nil, err
	}
	h.FillColor, h.LineStyle.Color, h.LineStyle.Width = skyBlue, color.White, 0.5
	p.Add(h)
	top := 0.0
	for _, b := range h.Bins {
		top = max(top, b.Weight)
	}
	legend := []entry{{"trials per bin", swatch{skyBlue}}}
	for _, m := range []struct {
		x      float64
		label  string
		dashes []vg.Length
	}{{r.WallClockDaysCI.Mean, fmt.Sprintf("mean %s days", sig(r.WallClockDaysCI.Mean)), nil},
		{r.WallClockDaysCI.P5, fmt.Sprintf("5th and 95th percentiles: %s, %s days", sig(r.WallClockDaysCI.P5), sig(r.WallClockDaysCI.P95)), []vg.Length{4, 3}},
		{r.WallClockDaysCI.P95, "", []vg.Length{4, 3}}} {
		v, err := plotter.NewLine(plotter.XYs{{X: m.x, Y: 0}, {X: m.x, Y: top * 1.12}})
		if err != nil {
			return nil, err
		}
		v.Color, v.Width, v.Dashes = vermillion, 1.5, m.dashes
		p.Add(v)
		if m.label != "" {
			legend = append(legend, entry{m.label, v})
		}
	}
	p.Y.Min, p.Y.Max = 0, top*1.15
	p.Y.Tick.Marker = linearTicks{N: 5}
	span := hi - lo
	p.X.Min, p.X.Max = lo-span*0.1, hi+span*0.1
	p.X.Tick.Marker = linearTicks{N: 8}
	head := legendPanel(title, width, legend)
	head.p.Title.TextStyle.Font = face(12, true)
	return newChart("wallclock", title, width, head, panel{p: p, h: 3.6}), nil
}
