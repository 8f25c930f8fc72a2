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

// sweepWords names the run metrics and scenario keys a sweep chart may
// show, with their units: the chart's titles and axes are words, not JSON
// keys. A key not listed is shown as written.
var sweepWords = map[string]string{
	"step_time_s":                      "step time (s)",
	"tokens_per_s":                     "throughput (tokens/s, cluster)",
	"tflops_per_gpu":                   "model TFLOPS per GPU",
	"mfu":                              "MFU (fraction of peak)",
	"hfu":                              "HFU (fraction of peak)",
	"memory_gib_per_gpu":               "memory per GPU (GiB)",
	"wall_clock_days":                  "days to train",
	"gpu_hours":                        "GPU-hours",
	"ettr":                             "ETTR (productive / wall clock)",
	"interruptions":                    "interruptions (count)",
	"interruptions_per_day":            "interruptions per day",
	"cluster.gpus":                     "GPUs",
	"cluster.gpus_per_node":            "GPUs per node",
	"cluster.network.oversubscription": "oversubscription between pods (×)",
	"cluster.network.scale_out_gbps":   "NIC bandwidth (Gb/s per GPU)",
	"cluster.network.latency_us":       "network latency (µs)",
	"cluster.network.nodes_per_pod":    "nodes per pod",
	"failures.restart":                 "restart time",
	"failures.checkpoint_interval":     "checkpoint interval",
	"failures.storage_tbps":            "checkpoint storage (TB/s)",
	"stragglers.cv":                    "straggler CV (per pass)",
	"stragglers.gpu_cv":                "straggler CV (per GPU)",
	"parallelism.tp":                   "tensor parallelism (tp)",
	"parallelism.pp":                   "pipeline parallelism (pp)",
	"parallelism.cp":                   "context parallelism (cp)",
	"parallelism.micro_batch":          "micro batch (sequences)",
	"parallelism.virtual_stages":       "virtual stages",
	"training.seq_len":                 "sequence length (tokens)",
	"training.global_batch":            "global batch (sequences)",
	"training.tokens":                  "training tokens",
	"trials":                           "Monte Carlo trials",
	"training.precision":               "precision",
	"training.attention":               "attention kernel",
	"parallelism.recompute":            "recomputation",
	"failures.profile":                 "failure profile",
	"cluster.gpu":                      "GPU",
}

// sweepWord is a metric or key in words (see sweepWords).
func sweepWord(k string) string {
	if w, ok := sweepWords[k]; ok {
		return w
	}
	return k
}

// SweepPlot draws c in the house style: a line chart of the metric against
// X (bars when X is categorical), or a heat map over X and Y with each
// cell's value written in it and a sequential colour scale.
func SweepPlot(c SweepChart) (*Chart, error) {
	if len(c.X.Values) == 0 || len(c.Z) != len(c.X.Values) {
		return nil, fmt.Errorf("plots: sweep chart with %d x values and %d rows", len(c.X.Values), len(c.Z))
	}
	const width = 10.0
	metric, xw := sweepWord(c.Metric), sweepWord(c.X.Key)
	title := strings.ToUpper(metric[:1]) + metric[1:]
	if c.Y == nil {
		title += " against " + xw
		p := newPlot(title, xw, metric, gridH)
		if err := sweepLine(p, c); err != nil {
			return nil, err
		}
		return newChart("sweep", title, width, panel{p: p, h: 5.2}), nil
	}
	yw := sweepWord(c.Y.Key)
	title += " over " + xw + " and " + yw
	p := newPlot(title, xw, yw, gridNone)
	bar, err := sweepHeat(p, c)
	if err != nil {
		return nil, err
	}
	panels := []panel{{p: p, h: 5.2}}
	if bar != nil {
		panels = append(panels, panel{p: bar, h: 0.9})
	}
	return newChart("sweep", title, width, panels...), nil
}

// WriteSweep writes c as an image in format (png or svg) at the house
// size: 10 inches wide at 144 dots per inch, like every other chart.
func WriteSweep(w io.Writer, format string, c SweepChart) error {
	ch, err := SweepPlot(c)
	if err != nil {
		return err
	}
	return ch.Render(w, format)
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
	if c.X.Numbers == nil {
		// categories have no order to draw a line through: bars
		var vs plotter.Values
		for i := range c.X.Values {
			z := c.Z[i][0]
			if math.IsNaN(z) || math.IsInf(z, 0) {
				z = 0 // a point that did not run: no bar
			}
			vs = append(vs, z)
		}
		b, err := plotter.NewBarChart(vs, vg.Points(60))
		if err != nil {
			return err
		}
		b.Color, b.LineStyle.Width = blue, 0
		p.Add(b)
		p.Y.Min = 0
		return nil
	}
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
		l.Color, l.Width = blue, 1.5
		s.Color, s.Shape, s.Radius = blue, draw.CircleGlyph{}, 3
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

// sweepHeat draws the heat map on p and returns the colour bar's plot (nil
// when nothing ran). The data run one way (more is more), so the colour
// scale is sequential (Moreland's Kindlmann: dark to light, even in
// lightness), not diverging.
func sweepHeat(p *plot.Plot, c SweepChart) (*plot.Plot, error) {
	for i := range c.Z {
		if len(c.Z[i]) != len(c.Y.Values) {
			return nil, fmt.Errorf("plots: sweep chart row %d has %d values for %d y values", i, len(c.Z[i]), len(c.Y.Values))
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
		return nil, nil // nothing ran
	}
	pal := moreland.Kindlmann()
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
		return nil, err
	}
	for i, xy := range labels.XYs {
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
		l.TextStyle[i].Font = face(10, false)
		// dark text on the light end of the scale, white on the dark end
		if z := c.Z[int(xy.X)][int(xy.Y)]; !math.IsNaN(z) && (z-pal.Min())/(pal.Max()-pal.Min()) < 0.55 {
			l.TextStyle[i].Color = color.White
		}
	}
	p.Add(l)
	bar := newPlot("", sweepWord(c.Metric), "", gridNone)
	cb := &plotter.ColorBar{ColorMap: pal}
	bar.Add(cb)
	bar.HideY()
	bar.X.Tick.Marker = sweepTicks{}
	bar.X.Min, bar.X.Max = pal.Min(), pal.Max()
	return bar, nil
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
