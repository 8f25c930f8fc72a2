package plots

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/clustersim/clustersim/sim/run"
)

// ScalingPoint is one GPU count of a scaling sweep.
type ScalingPoint struct {
	GPUs          int
	TFLOPSPerGPU  float64
	MFU           float64
	WallClockDays run.Interval // mean and 90% interval over trials
}

// Scaling is throughput and time to train against GPU count: TFLOPS/GPU on
// top, wall-clock days below (log–log, with perfect linear scaling from the
// scenario as run for reference). asRun is the scenario's GPU count (marked).
func Scaling(title string, pts []ScalingPoint, asRun int) (*Chart, error) {
	if len(pts) == 0 {
		return nil, ErrNoData
	}
	pts = slices.Clone(pts)
	slices.SortFunc(pts, func(a, b ScalingPoint) int { return a.GPUs - b.GPUs })
	var base *ScalingPoint
	for i, p := range pts {
		if p.GPUs < 1 || !finite(p.TFLOPSPerGPU, p.WallClockDays.Mean) || p.WallClockDays.Mean <= 0 || p.WallClockDays.P5 <= 0 {
			return nil, fmt.Errorf("plots: scaling: bad point %+v", p)
		}
		if p.GPUs == asRun {
			base = &pts[i]
		}
	}
	const width = 10.0
	// x is log2(GPUs); the days axis is log10(days).
	lg := func(g float64) float64 { return math.Log2(g) }
	xmin, xmax := lg(float64(pts[0].GPUs))-0.45, lg(float64(pts[len(pts)-1].GPUs))+0.45
	top := newPlot("", "", "model TFLOPS per GPU", gridBoth)
	var tf, days plotter.XYs
	var errs plotter.YErrors
	maxTF, minD, maxD := 0.0, math.Inf(1), 0.0
	for _, p := range pts {
		x := lg(float64(p.GPUs))
		tf = append(tf, plotter.XY{X: x, Y: p.TFLOPSPerGPU})
		d := p.WallClockDays
		days = append(days, plotter.XY{X: x, Y: math.Log10(d.Mean)})
		errs = append(errs, struct{ Low, High float64 }{math.Log10(d.Mean) - math.Log10(d.P5), math.Log10(d.P95) - math.Log10(d.Mean)})
		maxTF = max(maxTF, p.TFLOPSPerGPU)
		minD, maxD = min(minD, d.P5), max(maxD, d.P95)
	}
	l1, s1, err := plotter.NewLinePoints(tf)
	if err != nil {
		return nil, err
	}
	l1.Color, l1.Width = blue, 1.5
	s1.GlyphStyle = draw.GlyphStyle{Color: blue, Radius: 3.5, Shape: draw.CircleGlyph{}}
	top.Add(l1, s1)
	labels := func(xys plotter.XYs, text []string) (*plotter.Labels, error) {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: text})
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font = face(9, false)
		}
		l.Offset = vg.Point{X: 5, Y: 5}
		return l, nil
	}
	var tfText, dText []string
	for _, p := range pts {
		tfText = append(tfText, fmt.Sprintf("%s (MFU %.0f%%)", sig(p.TFLOPSPerGPU), 100*p.MFU))
		dText = append(dText, sig(p.WallClockDays.Mean)+" d")
	}
	l, err := labels(tf, tfText)
	if err != nil {
		return nil, err
	}
	top.Add(l)
	top.X.Tick.Marker = log2Ticks{}
	top.X.Min, top.X.Max = xmin, xmax
	top.Y.Min, top.Y.Max = 0, maxTF*1.2
	top.Y.Tick.Marker = linearTicks{N: 5}

	bottom := newPlot("", "GPUs (log scale)", "days to train (log scale)", gridBoth)
	l2, s2, err := plotter.NewLinePoints(days)
	if err != nil {
		return nil, err
	}
	l2.Color, l2.Width = vermillion, 1.5
	s2.GlyphStyle = draw.GlyphStyle{Color: vermillion, Radius: 3.5, Shape: draw.CircleGlyph{}}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{days, errs})
	if err != nil {
		return nil, err
	}
	eb.Color = vermillion
	bottom.Add(l2, s2, eb)
	if l, err = labels(days, dText); err != nil {
		return nil, err
	}
	bottom.Add(l)
	legend := []entry{{"TFLOPS/GPU (top)", s1}, {"days to train, mean and 90% interval over trials (bottom)", s2}}
	if base != nil {
		g := float64(base.GPUs)
		at := func(x float64) float64 { return math.Log10(base.WallClockDays.Mean * g / math.Exp2(x)) }
		ideal := plotter.XYs{{X: xmin, Y: at(xmin)}, {X: xmax, Y: at(xmax)}}
		minD, maxD = min(minD, math.Pow(10, ideal[1].Y)), max(maxD, math.Pow(10, ideal[0].Y))
		il, err := plotter.NewLine(ideal)
		if err != nil {
			return nil, err
		}
		il.Color, il.Dashes, il.Width = grey, []vg.Length{4, 3}, 1
		bottom.Add(il)
		legend = append(legend, entry{"perfect linear scaling from the scenario as run", il})
		for _, pl := range []*plot.Plot{top, bottom} {
			ymin, ymax := pl.Y.Min, pl.Y.Max
			if pl == bottom {
				ymin, ymax = math.Log10(minD)-0.15, math.Log10(maxD)+0.15
			}
			v, err := plotter.NewLine(plotter.XYs{{X: lg(g), Y: ymin}, {X: lg(g), Y: ymax}})
			if err != nil {
				return nil, err
			}
			v.Color, v.Width, v.Dashes = black, 0.8, []vg.Length{2, 2}
			pl.Add(v)
			if pl == top {
				legend = append(legend, entry{fmt.Sprintf("the scenario as run (%s GPUs)", thousands(base.GPUs)), v})
			}
		}
	}
	bottom.X.Tick.Marker = log2Ticks{}
	bottom.X.Min, bottom.X.Max = xmin, xmax
	bottom.Y.Tick.Marker = log10Ticks{}
	bottom.Y.Min, bottom.Y.Max = math.Log10(minD)-0.15, math.Log10(maxD)+0.15
	head := legendPanel(title, width, legend)
	return newChart("scaling", title, width, head, panel{p: top, h: 2.8}, panel{p: bottom, h: 3.2}), nil
}
