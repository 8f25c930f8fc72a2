package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// SweepAxis is one swept scenario key and its values, in sweep order.
type SweepAxis struct {
	Key    string   // the dotted --set path, e.g. cluster.gpus
	Values []string // as given
	// Numbers are the values as numbers, or nil when they are not all
	// numbers (then the axis is categorical, one tick per value).
	Numbers []float64
}

// SweepChart is one run metric over a sweep of one key (a line chart) or
// two (a heat map).
type SweepChart struct {
	Metric string // the run key drawn, e.g. tokens_per_s
	X      SweepAxis
	Y      *SweepAxis // nil for a line chart
	// Z[i][j] is the metric at X.Values[i] and Y.Values[j] (j = 0 for a
	// line chart); NaN where the point did not run.
	Z [][]float64
}

// SweepPlot draws c: a line chart of the metric against X, or a heat map
// over X and Y with each cell's value written in it.
func SweepPlot(c SweepChart) (*plot.Plot, error) {
	if len(c.X.Values) == 0 || len(c.Z) != len(c.X.Values) {
		return nil, fmt.Errorf("plots: sweep chart with %d x values and %d rows", len(c.X.Values), len(c.Z))
	}
	p := plot.New()
	p.X.Label.Text = c.X.Key
	if c.Y == nil {
		p.Title.Text = c.Metric + " against " + c.X.Key
		p.Y.Label.Text = c.Metric
		return p, sweepLine(p, c)
	}
	p.Title.Text = c.Metric + " over " + c.X.Key + " and " + c.Y.Key
	p.Y.Label.Text = c.Y.Key
	return p, sweepHeat(p, c)
}

// WriteSweep writes c as an image in format (png, svg, pdf or another
// format gonum/plot knows), 16 × 10 cm.
func WriteSweep(w io.Writer, format string, c SweepChart) error {
	p, err := SweepPlot(c)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(16*vg.Centimeter, 10*vg.Centimeter, format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// xOf is the position of value i on a sweep axis: the number, or the index
// of a categorical value.
func (a SweepAxis) xOf(i int) float64 {
	if a.Numbers != nil {
		return a.Numbers[i]
	}
	return float64(i)
}

// sweepCategorical puts one tick per value on an axis, labelled as the
// value was given: at the value on a numeric axis, evenly spaced on a
// categorical one.
func sweepCategorical(ax *plot.Axis, a SweepAxis) {
	var ticks []plot.Tick
	for i, v := range a.Values {
		ticks = append(ticks, plot.Tick{Value: a.xOf(i), Label: v})
	}
	ax.Tick.Marker = plot.ConstantTicks(ticks)
	if a.Numbers == nil {
		ax.Min, ax.Max = -0.5, float64(len(a.Values))-0.5
	}
}

// sweepTicks labels the default ticks with three significant figures and
// an SI suffix.
type sweepTicks struct{}

func (sweepTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = sweepShort(ticks[i].Value)
		}
	}
	return ticks
}

func sweepLine(p *plot.Plot, c SweepChart) error {
	sweepCategorical(&p.X, c.X)
	p.Y.Tick.Marker = sweepTicks{}
	p.Add(plotter.NewGrid())
	// A failed point breaks the line.
	var seg plotter.XYs
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		l, s, err := plotter.NewLinePoints(seg)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
		s.Color, s.Shape = l.Color, draw.CircleGlyph{}
		p.Add(l, s)
		seg = nil
		return nil
	}
	for i := range c.X.Values {
		z := c.Z[i][0]
		if math.IsNaN(z) || math.IsInf(z, 0) {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: c.X.xOf(i), Y: z})
	}
	if err := flush(); err != nil {
		return err
	}
	if p.Y.Min > 0 {
		p.Y.Min = 0 // throughput and time read best from zero
	}
	return nil
}

// sweepGrid is the heat map's grid: cell (c, r) is X value c, Y value r.
type sweepGrid struct{ c SweepChart }

func (g sweepGrid) Dims() (c, r int)   { return len(g.c.X.Values), len(g.c.Y.Values) }
func (g sweepGrid) Z(c, r int) float64 { return g.c.Z[c][r] }
func (g sweepGrid) X(c int) float64    { return float64(c) }
func (g sweepGrid) Y(r int) float64    { return float64(r) }

func sweepHeat(p *plot.Plot, c SweepChart) error {
	for i := range c.Z {
		if len(c.Z[i]) != len(c.Y.Values) {
			return fmt.Errorf("plots: sweep chart row %d has %d values for %d y values", i, len(c.Z[i]), len(c.Y.Values))
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range c.Z {
		for _, z := range row {
			if !math.IsNaN(z) && !math.IsInf(z, 0) {
				lo, hi = min(lo, z), max(hi, z)
			}
		}
	}
	x, y := c.X, *c.Y
	x.Numbers, y.Numbers = nil, nil // cells are evenly spaced whatever the values
	sweepCategorical(&p.X, x)
	sweepCategorical(&p.Y, y)
	if lo > hi {
		return nil // nothing ran
	}
	pal := moreland.SmoothBlueRed()
	pal.SetMin(lo)
	pal.SetMax(hi)
	if lo == hi {
		pal.SetMax(lo + 1)
	}
	h := plotter.NewHeatMap(sweepGrid{c}, pal.Palette(64))
	h.Min, h.Max = pal.Min(), pal.Max()
	h.NaN = color.Gray{Y: 230}
	p.Add(h)
	var labels plotter.XYLabels
	for i := range c.Z {
		for j, z := range c.Z[i] {
			text := "failed"
			if !math.IsNaN(z) {
				text = sweepShort(z)
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: float64(j)})
			labels.Labels = append(labels.Labels, text)
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
	}
	p.Add(l)
	return nil
}

// sweepShort writes v with three significant figures and an SI suffix.
func sweepShort(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		f float64
		s string
	}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "K"}} {
		if a >= u.f {
			return strings.TrimSuffix(strconv.FormatFloat(v/u.f, 'g', 3, 64), ".0") + u.s
		}
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
