package plots

import (
	"fmt"
	"image/color"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/clustersim/clustersim/sim/run"
)

// BreakdownBar is one bar of the step breakdown: a label (a phase, a
// scenario, a variant) and its breakdown_s.
type BreakdownBar struct {
	Label     string
	Breakdown run.Breakdown
	// Stage and Stages say which pipeline stage the breakdown was read on
	// (step.Result.CriticalStage, counted from 0) out of how many; the
	// compute part differs between stages, so the bar says which it is.
	// Stages 0 means not known: the bar then says "the stage that finishes
	// last", which is where run.Result's breakdown is read.
	Stage, Stages int
}

// stageWords says which stage a bar's compute is read on.
func (b BreakdownBar) stageWords() string {
	if b.Stages > 0 {
		return fmt.Sprintf("stage %d of %d", b.Stage+1, b.Stages)
	}
	return "the last stage to finish"
}

// keyWords turns the scenario and result keys a caller may put in a title
// or label into words: "breakdown_s" is "the step's parts",
// "tp_comm_overlap: true" is "TP comm overlap on".
var keyWords = strings.NewReplacer(
	" (breakdown_s)", "", "breakdown_s", "the step's parts",
	"tp_comm_overlap: true", "TP comm overlap on", "tp_comm_overlap: false", "TP comm overlap off",
	"dp_comm_overlap: true", "DP comm overlap on", "dp_comm_overlap: false", "DP comm overlap off",
	// The study's variant labels say it twice ("virtual_stages: 1 (no
	// interleaving)"); the words say it once. Longer keys come first: at
	// one position the replacer takes the first that matches.
	"virtual_stages: 1 (no interleaving)", "no interleaving, 1 virtual stage",
	"virtual_stages: 2 (interleaved)", "interleaved, 2 virtual stages",
	"virtual_stages: 1", "no interleaving, 1 virtual stage", "virtual_stages: 2", "interleaved, 2 virtual stages",
	"virtual_stages", "virtual stages", "tp_comm_overlap", "TP comm overlap", "dp_comm_overlap", "DP comm overlap",
)

// Words is a title or label with the scenario and result keys it quotes
// put into words (see keyWords); text without keys is unchanged.
func Words(s string) string { return keyWords.Replace(s) }

// BreakdownPart is one part of breakdown_s, in stacking order.
type BreakdownPart struct {
	Key   string // the JSON key under breakdown_s
	Label string
	Get   func(run.Breakdown) float64
	color color.Color
}

// BreakdownParts are the parts of a step, compute first.
var BreakdownParts = []BreakdownPart{
	{"compute", "compute", func(b run.Breakdown) float64 { return b.Compute }, blue},
	{"tp_comm", "tensor-parallel comm", func(b run.Breakdown) float64 { return b.TPComm }, skyBlue},
	{"cp_comm", "context-parallel comm", func(b run.Breakdown) float64 { return b.CPComm }, green},
	{"ep_comm", "expert-parallel comm", func(b run.Breakdown) float64 { return b.EPComm }, orange},
	{"offload", "activation offload", func(b run.Breakdown) float64 { return b.Offload }, grey},
	{"pp_bubble", "pipeline bubble", func(b run.Breakdown) float64 { return b.PPBubble }, lightGrey},
	{"pp_comm", "pipeline comm", func(b run.Breakdown) float64 { return b.PPComm }, yellow},
	{"dp_comm", "data-parallel comm", func(b run.Breakdown) float64 { return b.DPComm }, purple},
	{"optimizer", "optimizer", func(b run.Breakdown) float64 { return b.Optimizer }, black},
	{"straggler", "stragglers", func(b run.Breakdown) float64 { return b.Straggler }, vermillion},
}

// BreakdownStacks returns, per part (in BreakdownParts order), the value of
// each bar: what Breakdown stacks.
func BreakdownStacks(bars []BreakdownBar) [][]float64 {
	out := make([][]float64, len(BreakdownParts))
	for i, part := range BreakdownParts {
		for _, b := range bars {
			out[i] = append(out[i], part.Get(b.Breakdown))
		}
	}
	return out
}

func breakdownTotal(b run.Breakdown) float64 {
	t := 0.0
	for _, p := range BreakdownParts {
		t += p.Get(b)
	}
	return t
}

// Breakdown is where the step goes: one horizontal bar per entry, stacked
// from breakdown_s, with the step time and the compute share at its end.
// Parts that are zero in every bar are left out of the legend.
//
// Titles and labels that quote keys (breakdown_s, tp_comm_overlap: true)
// are put into words ([Words]). Each bar's end label says which stage its
// compute share is read on.
func Breakdown(title string, bars []BreakdownBar) (*Chart, error) {
	if len(bars) == 0 {
		return nil, ErrNoData
	}
	title = Words(title)
	bars = slices.Clone(bars)
	for i := range bars {
		bars[i].Label = Words(bars[i].Label)
	}
	stacks := BreakdownStacks(bars)
	longest := 0.0
	for _, b := range bars {
		for _, p := range BreakdownParts {
			if v := p.Get(b.Breakdown); !finite(v) || v < 0 {
				return nil, fmt.Errorf("plots: breakdown %q: %s is %g", b.Label, p.Key, v)
			}
		}
		longest = max(longest, breakdownTotal(b.Breakdown))
	}
	if !(longest > 0) {
		return nil, ErrNoData
	}
	const width = 10.0
	barH := 0.42
	plotH := 0.9 + barH*float64(len(bars))*1.45
	p := newPlot("", "time per optimizer step (s)", "", gridV)
	n := len(bars)
	// Bars top to bottom in the order given: bar i sits at y = n-1-i.
	reversed := func(v []float64) plotter.Values {
		out := make(plotter.Values, len(v))
		for i, x := range v {
			out[n-1-i] = x
		}
		return out
	}
	var legend []entry
	var below *plotter.BarChart
	for i, part := range BreakdownParts {
		bc, err := plotter.NewBarChart(reversed(stacks[i]), vg.Length(barH*0.72)*vg.Inch)
		if err != nil {
			return nil, err
		}
		bc.Horizontal = true
		bc.Color = part.color
		bc.LineStyle.Width = 0
		if below != nil {
			bc.StackOn(below)
		}
		below = bc
		p.Add(bc)
		if slices.ContainsFunc(stacks[i], func(v float64) bool { return v > 0 }) {
			legend = append(legend, entry{part.Label, swatch{part.color}})
		}
	}
	// totals at the end of each bar
	var xys plotter.XYs
	var labels []string
	for i, b := range bars {
		t := breakdownTotal(b.Breakdown)
		xys = append(xys, plotter.XY{X: t, Y: float64(n - 1 - i)})
		labels = append(labels, fmt.Sprintf("%s s (compute %.0f%%, on %s)", sig(t), 100*b.Breakdown.Compute/t, b.stageWords()))
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i] = text.Style{Color: color.Black, Font: face(10, false), Handler: plot.DefaultTextHandler, YAlign: text.YCenter}
	}
	lb.Offset = vg.Point{X: barLabelGap} // SVG collapses a leading space: an offset keeps the gap
	p.Add(lb)
	names := make([]string, n)
	for i, b := range bars {
		names[n-1-i] = b.Label
	}
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.7, float64(n)-0.3
	p.Y.Tick.Label.Font = face(10, false)
	p.X.Min, p.X.Max = 0, longest*1.45
	p.X.Tick.Marker = linearTicks{N: 8}
	head := legendPanel(title, width, legend)
	return newChart("breakdown", title, width, head, panel{p: p, h: plotH}), nil
}
