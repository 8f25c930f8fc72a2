package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/clustersim/clustersim/sim/model"
)

const gib = 1 << 30

// MemoryPart is one kind of memory on a GPU, in stacking order.
type MemoryPart struct {
	Label string
	Get   func(model.Memory) float64 // bytes
	color color.Color
}

// MemoryParts are the parts of model.Memory.
var MemoryParts = []MemoryPart{
	{"weights", func(m model.Memory) float64 { return m.Weights }, blue},
	{"gradients", func(m model.Memory) float64 { return m.Gradients }, skyBlue},
	{"optimizer state", func(m model.Memory) float64 { return m.Optimizer }, green},
	{"activations", func(m model.Memory) float64 { return m.Activations }, orange},
	{"reserved (CUDA context, NCCL, workspaces)", func(m model.Memory) float64 { return m.Reserved }, lightGrey},
}

// MemoryPhase is the peak memory per pipeline stage of one phase of a run
// (a one-phase run has one).
type MemoryPhase struct {
	Name   string         // e.g. "long context"
	GPUs   int            // GPUs in the phase
	SeqLen int            // its context length (tokens)
	Layout string         // its layout in a few words, e.g. "tp8 pp16 cp2 mb1 v8"
	Stages []model.Memory // one per pipeline stage
}

// FullestPhase is the index of the phase whose fullest stage holds the
// most memory (the first such on a tie), or -1 when there is none.
func FullestPhase(phases []MemoryPhase) int {
	best, most := -1, -1.0
	for i, ph := range phases {
		for _, m := range ph.Stages {
			if t := m.Total(); t > most {
				best, most = i, t
			}
		}
	}
	return best
}

// MemoryOfRun is the memory chart of the fullest phase of a run: the one
// closest to the GPU's capacity, which is the one that decides whether the
// layout fits. The title names the phase when there are several.
func MemoryOfRun(phases []MemoryPhase, capacityGiB float64, gpu string) (*Chart, error) {
	i := FullestPhase(phases)
	if i < 0 {
		return nil, ErrNoData
	}
	ph := phases[i]
	title := "Peak memory per GPU by pipeline stage"
	if ph.Layout != "" {
		title += " (" + ph.Layout + ")"
	}
	if len(phases) > 1 {
		title = fmt.Sprintf("Peak memory per GPU by pipeline stage in the fullest phase, %s (%s GPUs, seq %s", ph.Name, thousands(ph.GPUs), thousands(ph.SeqLen))
		if ph.Layout != "" {
			title += ", " + ph.Layout
		}
		title += ")"
	}
	return Memory(title, ph.Stages, capacityGiB, gpu)
}

// Memory is the peak memory of one GPU of each pipeline stage, stacked by
// kind, against the GPU's capacity (capacityGiB, of gpu).
func Memory(title string, stages []model.Memory, capacityGiB float64, gpu string) (*Chart, error) {
	if len(stages) == 0 {
		return nil, ErrNoData
	}
	if len(stages) == 1 {
		return nil, &NotDrawn{"memory", fmt.Sprintf("one pipeline stage: %s GiB of the %s's %s GiB per GPU, %s GiB free (weights, gradients and optimizer %s GiB, activations %s GiB).",
			sig(stages[0].Total()/gib), gpu, sig(capacityGiB), sig(capacityGiB-stages[0].Total()/gib), sig((stages[0].Weights+stages[0].Gradients+stages[0].Optimizer)/gib), sig(stages[0].Activations/gib))}
	}
	n := len(stages)
	const width = 10.0
	p := newPlot("", "pipeline stage", "peak memory per GPU (GiB)", gridH)
	barW := vg.Length(min(0.5, 7.0/float64(n)*0.6)) * vg.Inch
	var below *plotter.BarChart
	var legend []entry
	fullest, most := 0, 0.0
	for s, m := range stages {
		if t := m.Total(); t > most {
			fullest, most = s, t
		}
	}
	for _, part := range MemoryParts {
		v := make(plotter.Values, n)
		any := false
		for s, m := range stages {
			v[s] = part.Get(m) / gib
			if !finite(v[s]) || v[s] < 0 {
				return nil, fmt.Errorf("plots: memory: stage %d %s is %g GiB", s, part.Label, v[s])
			}
			any = any || v[s] > 0
		}
		bc, err := plotter.NewBarChart(v, barW)
		if err != nil {
			return nil, err
		}
		bc.Color, bc.LineStyle.Width = part.color, 0
		if below != nil {
			bc.StackOn(below)
		}
		below = bc
		p.Add(bc)
		if any {
			legend = append(legend, entry{part.Label, swatch{part.color}})
		}
	}
	capLine, err := plotter.NewLine(plotter.XYs{{X: -0.6, Y: capacityGiB}, {X: float64(n) - 0.4, Y: capacityGiB}})
	if err != nil {
		return nil, err
	}
	capLine.Color, capLine.Width, capLine.Dashes = vermillion, 1.5, []vg.Length{5, 3}
	p.Add(capLine)
	legend = append(legend, entry{fmt.Sprintf("capacity: %s GiB (%s)", sig(capacityGiB), gpu), capLine})
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: float64(fullest), Y: most / gib}}, Labels: []string{fmt.Sprintf("fullest: %s GiB", sig(most/gib))}})
	if err != nil {
		return nil, err
	}
	lb.TextStyle[0].Font = face(9, false)
	lb.TextStyle[0].XAlign = -0.5
	lb.Offset = vg.Point{Y: 4}
	p.Add(lb)
	names := make([]string, n)
	for s := range names {
		names[s] = fmt.Sprint(s)
		if n > 24 && s%2 == 1 {
			names[s] = ""
		}
	}
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, max(capacityGiB, most/gib)*1.12
	p.Y.Tick.Marker = linearTicks{N: 6}
	head := legendPanel(title, width, legend)
	return newChart("memory", title, width, head, panel{p: p, h: 3.8}), nil
}
