package plots

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/clustersim/clustersim/sim/run"
)

// CheckpointPoint is one checkpoint interval of a sweep and the run's ETTR
// with it.
type CheckpointPoint struct {
	IntervalS float64
	ETTR      run.Interval // mean and 90% interval over trials
}

// CheckpointSweep is what the checkpoint chart shows.
type CheckpointSweep struct {
	Points     []CheckpointPoint
	YoungDalyS float64 // the Young/Daly interval √(2·δ·MTBF)
	AsRunS     float64 // the scenario's interval; equal to YoungDalyS when it is auto
	StallS     float64 // training stalled per checkpoint (δ)
	MTBFS      float64 // mean time between unexpected interruptions
}

// Checkpoint is ETTR against the checkpoint interval (log scale), with the
// Young/Daly choice marked: too frequent and the stalls cost, too rare and
// the work lost to each failure does.
func Checkpoint(title string, s CheckpointSweep) (*Chart, error) {
	if len(s.Points) == 0 {
		return nil, ErrNoData
	}
	pts := slices.Clone(s.Points)
	slices.SortFunc(pts, func(a, b CheckpointPoint) int {
		switch {
		case a.IntervalS < b.IntervalS:
			return -1
		case a.IntervalS > b.IntervalS:
			return 1
		}
		return 0
	})
	var xys plotter.XYs
	var errs plotter.YErrors
	lo, hi := 1.0, 0.0
	for _, p := range pts {
		if !(p.IntervalS > 0) || !finite(p.ETTR.Mean) {
			return nil, fmt.Errorf("plots: checkpoint: bad point %+v", p)
		}
		xys = append(xys, plotter.XY{X: math.Log10(p.IntervalS), Y: p.ETTR.Mean})
		errs = append(errs, struct{ Low, High float64 }{p.ETTR.Mean - p.ETTR.P5, p.ETTR.P95 - p.ETTR.Mean})
		lo, hi = min(lo, p.ETTR.P5), max(hi, p.ETTR.P95)
	}
	const width = 10.0
	p := newPlot("", "checkpoint interval (training time between checkpoints, log scale)", "ETTR (productive time / wall clock)", gridBoth)
	ln, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, err
	}
	ln.Color, ln.Width = blue, 1.5
	sc.GlyphStyle = draw.GlyphStyle{Color: blue, Radius: 3, Shape: draw.CircleGlyph{}}
	eb, err := plotter.NewYErrorBars(struct {
		plotter.XYer
		plotter.YErrorer
	}{xys, errs})
	if err != nil {
		return nil, err
	}
	eb.Color = blue
	p.Add(ln, sc, eb)
	ymin, ymax := max(0, lo-(hi-lo)*0.15), min(1, hi+(hi-lo)*0.25)
	legend := []entry{{"ETTR, mean and 90% interval over trials", sc}}
	mark := func(x float64, label string, dashes []vg.Length) error {
		v, err := plotter.NewLine(plotter.XYs{{X: math.Log10(x), Y: ymin}, {X: math.Log10(x), Y: ymax}})
		if err != nil {
			return err
		}
		v.Color, v.Width, v.Dashes = vermillion, 1.5, dashes
		p.Add(v)
		legend = append(legend, entry{label, v})
		return nil
	}
	if s.YoungDalyS > 0 {
		label := fmt.Sprintf("Young/Daly: %s = √(2 × %s stall × %s MTBF)", Duration(s.YoungDalyS), Duration(s.StallS), Duration(s.MTBFS))
		if err := mark(s.YoungDalyS, label, nil); err != nil {
			return nil, err
		}
	}
	if s.AsRunS > 0 && s.AsRunS != s.YoungDalyS {
		if err := mark(s.AsRunS, fmt.Sprintf("the scenario as run: %s", Duration(s.AsRunS)), []vg.Length{4, 3}); err != nil {
			return nil, err
		}
	}
	best := pts[0]
	for _, q := range pts {
		if q.ETTR.Mean > best.ETTR.Mean {
			best = q
		}
	}
	bl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: math.Log10(best.IntervalS), Y: best.ETTR.P95}}, Labels: []string{fmt.Sprintf("best swept: %.1f%% at %s", 100*best.ETTR.Mean, Duration(best.IntervalS))}})
	if err != nil {
		return nil, err
	}
	bl.TextStyle[0].Font = face(9, false)
	bl.TextStyle[0].XAlign = -0.5
	bl.Offset = vg.Point{Y: 6}
	p.Add(bl)
	p.X.Tick.Marker = durationTicks{}
	p.X.Min, p.X.Max = math.Log10(pts[0].IntervalS/1.3), math.Log10(pts[len(pts)-1].IntervalS*1.3)
	p.Y.Min, p.Y.Max = ymin, ymax
	p.Y.Tick.Marker = linearTicks{N: 6, Scale: 100, Suffix: "%"}
	head := legendPanel(title, width, legend)
	return newChart("checkpoint", title, width, head, panel{p: p, h: 4.2}), nil
}
