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
	"gonum.org/v1/plot/vg/draw"

	"github.com/clustersim/clustersim/sim/run"
)

// State is what the job is doing during a Segment.
type State int

const (
	Training      State = iota // making progress
	Redo                       // redoing work lost to a failure (busy, not useful)
	Checkpointing              // stalled by a checkpoint write or snapshot
	Down                       // detecting a failure, restarting, relaunching
)

var stateNames = [...]string{Training: "training", Redo: "redoing lost work", Checkpointing: "checkpoint stall", Down: "down (restart)"}

func (s State) String() string { return stateNames[s] }

// Segment is an interval of trial 0's wall clock with constant useful
// throughput.
type Segment struct {
	StartS, EndS float64 // seconds from the start of the run
	State        State
	Phase        int
	TFLOPS       float64 // useful model TFLOPS per GPU: the phase's rate while training, else 0
}

// UtilizationSegments replays trial 0's timeline (see the package doc) into
// segments covering [0, its wall-clock time).
func UtilizationSegments(r run.Result) ([]Segment, error) {
	if len(r.Phases) == 0 {
		return nil, ErrNoData
	}
	end := 0.0
	if len(r.TrialWallClockDays) > 0 {
		end = r.TrialWallClockDays[0] * 86400
	}
	type mark struct {
		t     float64
		order int // at equal times: stall ends, then events, then stall starts
		ev    *run.Event
		stall int // +1 stall start, -1 stall end
	}
	var marks []mark
	for i := range r.Timeline {
		e := &r.Timeline[i]
		end = max(end, e.TimeS)
		marks = append(marks, mark{t: e.TimeS, order: 1, ev: e})
		if e.Kind == "checkpoint" && e.Phase < len(r.Phases) {
			ck := r.Phases[e.Phase].Checkpoint
			s := max(e.TimeS-ck.WriteS, 0)
			marks = append(marks, mark{t: s, order: 2, stall: 1}, mark{t: s + ck.StallS, order: 0, stall: -1})
		}
	}
	slices.SortStableFunc(marks, func(a, b mark) int {
		return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.order, b.order))
	})
	var out []Segment
	add := func(s Segment) {
		if s.EndS <= s.StartS {
			return
		}
		if n := len(out); n > 0 && out[n-1].State == s.State && out[n-1].TFLOPS == s.TFLOPS && out[n-1].Phase == s.Phase && out[n-1].EndS == s.StartS {
			out[n-1].EndS = s.EndS
			return
		}
		out = append(out, s)
	}
	var (
		phase    int
		down     bool
		stalling int
		slow     = 1.0
		debt     float64 // seconds of failure-free work to redo
		t0       float64
	)
	emit := func(t1 float64) {
		a := t0
		t0 = max(t0, t1)
		if t1 <= a {
			return
		}
		switch {
		case down:
			add(Segment{a, t1, Down, phase, 0})
		case stalling > 0:
			add(Segment{a, t1, Checkpointing, phase, 0})
		default:
			if debt > 0 {
				d := min(t1-a, debt*slow)
				add(Segment{a, a + d, Redo, phase, 0})
				debt -= d / slow
				a += d
				if debt < 1e-9 {
					debt = 0
				}
			}
			add(Segment{a, t1, Training, phase, r.Phases[phase].TFLOPSPerGPU / slow})
		}
	}
	for _, m := range marks {
		emit(min(m.t, end))
		if m.ev == nil {
			stalling += m.stall
			continue
		}
		switch e := m.ev; e.Kind {
		case "failure":
			debt += e.LostS
			down = true
		case "planned", "relaunch":
			down = true
		case "lemon_replaced":
			slow = 1
			down = true
		case "restart_done":
			down = false
		case "phase":
			if e.Phase < len(r.Phases) {
				phase = e.Phase
			}
			debt = 0
		case "lemon":
			if e.Factor > 0 {
				slow = e.Factor
			}
		}
	}
	emit(end)
	return out, nil
}

// Bin is a stretch of wall clock with its mean useful throughput.
type Bin struct {
	StartS, EndS float64
	TFLOPS       float64
}

// binSegments averages the segments over bins of width w seconds.
func binSegments(segs []Segment, w float64) []Bin {
	if len(segs) == 0 || !(w > 0) {
		return nil
	}
	end := segs[len(segs)-1].EndS
	n := int(math.Ceil(end / w))
	bins := make([]Bin, n)
	for i := range bins {
		bins[i] = Bin{StartS: float64(i) * w, EndS: min(float64(i+1)*w, end)}
	}
	for _, s := range segs {
		if s.TFLOPS == 0 {
			continue
		}
		for i := int(s.StartS / w); i < n && float64(i)*w < s.EndS; i++ {
			a, b := max(s.StartS, bins[i].StartS), min(s.EndS, bins[i].EndS)
			if b > a {
				bins[i].TFLOPS += s.TFLOPS * (b - a)
			}
		}
	}
	for i := range bins {
		if d := bins[i].EndS - bins[i].StartS; d > 0 {
			bins[i].TFLOPS /= d
		}
	}
	return bins
}

// MeanTFLOPS is the time-average of the segments' useful throughput.
func MeanTFLOPS(segs []Segment) float64 {
	if len(segs) == 0 {
		return 0
	}
	sum := 0.0
	for _, s := range segs {
		sum += s.TFLOPS * (s.EndS - s.StartS)
	}
	return sum / (segs[len(segs)-1].EndS - segs[0].StartS)
}

// niceBin picks a bin width from a list of round durations so that the run
// has about target bins.
func niceBin(totalS float64, target int) (float64, string) {
	for _, c := range []struct {
		s    float64
		name string
	}{{600, "10-minute"}, {1800, "30-minute"}, {3600, "1-hour"}, {7200, "2-hour"}, {3 * 3600, "3-hour"}, {6 * 3600, "6-hour"}, {12 * 3600, "12-hour"}, {86400, "1-day"}, {2 * 86400, "2-day"}, {7 * 86400, "1-week"}} {
		if totalS/c.s <= float64(target) {
			return c.s, c.name
		}
	}
	return 30 * 86400, "30-day"
}

// causeGroup is one row of the interruption strip.
type causeGroup struct {
	label string
	color color.Color
	shape draw.GlyphDrawer
	times []float64 // days
	// spans are the slow-node periods (days), from "lemon" to
	// "lemon_replaced" or the end of the run; only on the slow-node row.
	spans [][2]float64
}

// interruptionRows groups trial 0's interruptions: the most frequent
// unexpected causes by name, the rest as "other failures", planned
// maintenance, and slow nodes (with the periods they were in the job).
// Colours and shapes are fixed per cause (markOf), not by rank.
func interruptionRows(tl []run.Event, top int, endDays float64) []causeGroup {
	counts := map[string]int{}
	for _, e := range tl {
		if e.Kind == "failure" {
			counts[e.Cause]++
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b)) })
	var rows []causeGroup
	index := map[string]int{}
	for i, n := range names {
		if i < top || len(names) == top+1 {
			index[n] = len(rows)
			m := markOf(n)
			rows = append(rows, causeGroup{label: CauseLabel(n), color: m.color, shape: m.shape})
		}
	}
	other, planned, lemon := -1, -1, -1
	slowSince := -1.0
	for _, e := range tl {
		d := e.TimeS / 86400
		switch e.Kind {
		case "failure":
			i, ok := index[e.Cause]
			if !ok {
				if other < 0 {
					other = len(rows)
					rows = append(rows, causeGroup{label: "other failures", color: otherMark.color, shape: otherMark.shape})
				}
				i = other
			}
			rows[i].times = append(rows[i].times, d)
		case "planned":
			if planned < 0 {
				planned = len(rows)
				rows = append(rows, causeGroup{label: "planned maintenance", color: plannedMark.color, shape: plannedMark.shape})
			}
			rows[planned].times = append(rows[planned].times, d)
		case "lemon":
			if lemon < 0 {
				lemon = len(rows)
				rows = append(rows, causeGroup{label: "slow node", color: slowMark.color, shape: slowMark.shape})
			}
			rows[lemon].times = append(rows[lemon].times, d)
			if slowSince < 0 {
				slowSince = d
			}
		case "lemon_replaced":
			if lemon >= 0 && slowSince >= 0 {
				rows[lemon].spans = append(rows[lemon].spans, [2]float64{slowSince, d})
			}
			slowSince = -1
		}
	}
	if lemon >= 0 && slowSince >= 0 {
		rows[lemon].spans = append(rows[lemon].spans, [2]float64{slowSince, max(endDays, slowSince)})
	}
	return rows
}

// CauseLabel turns a failure cause's key into words: faulty_gpu → "faulty GPU".
func CauseLabel(cause string) string {
	words := strings.Split(cause, "_")
	for i, w := range words {
		switch w {
		case "gpu", "nic", "ssd", "cpu", "nccl", "io", "hbm3", "sram":
			words[i] = strings.ToUpper(w)
		}
	}
	return strings.Join(words, " ")
}

// zoomWindow picks the window of length w seconds (within [0, end]) that
// holds the most unexpected interruptions, starting an eighth of the window
// before the first of them.
func zoomWindow(tl []run.Event, end, w float64) (float64, float64) {
	if end <= w {
		return 0, end
	}
	var fails []float64
	for _, e := range tl {
		if e.Kind == "failure" || e.Kind == "planned" {
			fails = append(fails, e.TimeS)
		}
	}
	best, bestN := 0.0, -1
	lead := w / 8
	for i, f := range fails {
		a := min(max(f-lead, 0), end-w)
		n := 0
		for _, g := range fails[i:] {
			if g >= a+w {
				break
			}
			n++
		}
		if n > bestN {
			best, bestN = a, n
		}
	}
	return best, best + w
}

// Utilization is the run over wall-clock time for Monte Carlo trial 0:
// interruptions by cause on top, the useful TFLOPS/GPU over the whole run in
// the middle (with the step's failure-free rate and the run's mean), and a
// zoom on its busiest few hours at the bottom, where training, redone work,
// restarts and individual checkpoints are visible.
func Utilization(r run.Result) (*Chart, error) {
	segs, err := UtilizationSegments(r)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, ErrNoData
	}
	endS := segs[len(segs)-1].EndS
	days := endS / 86400
	maxRate := 0.0
	for _, p := range r.Phases {
		maxRate = max(maxRate, p.TFLOPSPerGPU)
	}
	if !(maxRate > 0) || !finite(maxRate, endS) {
		return nil, fmt.Errorf("plots: utilization: no throughput in the result")
	}
	if !slices.ContainsFunc(r.Timeline, func(e run.Event) bool {
		return e.Kind == "failure" || e.Kind == "planned" || e.Kind == "lemon" || e.Kind == "relaunch"
	}) {
		return nil, &NotDrawn{"utilization", fmt.Sprintf("no interruptions in the run: useful throughput is the step's %s TFLOPS per GPU throughout, less %s checkpoint stalls.", sig(maxRate), sig(r.Checkpoints))}
	}
	trials := fmt.Sprintf("Monte Carlo trial 0 of %d", r.Trials)

	// The interruption strip.
	rows := interruptionRows(r.Timeline, 5, days)
	strip := newPlot(fmt.Sprintf("Utilization over the run (%s)", trials), "", "", gridV)
	names := make([]string, len(rows))
	for i, row := range rows {
		y := float64(len(rows) - 1 - i)
		names[len(rows)-1-i] = fmt.Sprintf("%s (%d)", row.label, len(row.times))
		xys := make(plotter.XYs, len(row.times))
		for k, t := range row.times {
			xys[k] = plotter.XY{X: t, Y: y}
		}
		// slow-node periods: a bar from the node's slowing to its replacement
		for _, sp := range row.spans {
			ln, err := plotter.NewLine(plotter.XYs{{X: sp[0], Y: y}, {X: sp[1], Y: y}})
			if err != nil {
				return nil, err
			}
			ln.Color, ln.Width = row.color, 3
			strip.Add(ln)
		}
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: row.color, Radius: 2.4, Shape: row.shape}
		strip.Add(sc)
	}
	if len(rows) == 0 {
		names = []string{"no interruptions"}
	}
	strip.NominalY(names...)
	strip.Y.Tick.Label.Font = face(9, false)
	strip.X.Min, strip.X.Max = 0, days
	strip.X.Tick.Label.Font = face(9, false)
	strip.X.Tick.Marker = linearTicks{N: 10}
	strip.Y.Label.Text = "interruptions\nby cause (count)"
	strip.Y.Label.TextStyle.Font = face(10, false)
	strip.Y.Min, strip.Y.Max = -0.7, float64(max(len(names), 1))-0.3

	// The whole run.
	bw, bname := niceBin(endS, 300)
	bins := binSegments(segs, bw)
	whole := newPlot("", "wall clock (days)", "useful TFLOPS per GPU", gridBoth)
	line := make(plotter.XYs, 0, 2*len(bins))
	for _, b := range bins {
		line = append(line, plotter.XY{X: b.StartS / 86400, Y: b.TFLOPS}, plotter.XY{X: b.EndS / 86400, Y: b.TFLOPS})
	}
	if len(r.Phases) > 1 {
		// the phases as shaded bands behind the curve, each labelled
		if err := phaseBands(whole, r, PhaseStartDays(r), days, maxRate*1.15); err != nil {
			return nil, err
		}
	}
	zoomA, zoomB := zoomWindow(r.Timeline, endS, min(6*3600, endS))
	shade, err := plotter.NewPolygon(plotter.XYs{{X: zoomA / 86400, Y: 0}, {X: zoomB / 86400, Y: 0}, {X: zoomB / 86400, Y: maxRate * 1.2}, {X: zoomA / 86400, Y: maxRate * 1.2}})
	if err != nil {
		return nil, err
	}
	shade.Color = color.NRGBA{0xf0, 0xe4, 0x42, 0xa0}
	shade.LineStyle.Width = 0
	whole.Add(shade)
	ln, err := plotter.NewLine(line)
	if err != nil {
		return nil, err
	}
	ln.Color = blue
	ln.Width = 1
	whole.Add(ln)
	// the failure-free rate of each phase
	var free plotter.XYs
	phaseStart := PhaseStartDays(r)
	for i, p := range r.Phases {
		a, ok := phaseStart[i]
		if !ok {
			continue
		}
		b := days
		for j := i + 1; j < len(r.Phases); j++ {
			if s, ok := phaseStart[j]; ok {
				b = s
				break
			}
		}
		free = append(free, plotter.XY{X: a, Y: p.TFLOPSPerGPU}, plotter.XY{X: b, Y: p.TFLOPSPerGPU})
	}
	fl, err := plotter.NewLine(free)
	if err != nil {
		return nil, err
	}
	fl.Color = black
	fl.Width = 1
	fl.Dashes = []vg.Length{4, 3}
	whole.Add(fl)
	mean := MeanTFLOPS(segs)
	ml, err := plotter.NewLine(plotter.XYs{{X: 0, Y: mean}, {X: days, Y: mean}})
	if err != nil {
		return nil, err
	}
	ml.Color = vermillion
	ml.Width = 1.5
	whole.Add(ml)
	whole.Legend.Add(fmt.Sprintf("useful TFLOPS/GPU, %s mean", bname), ln)
	if len(r.Phases) == 1 {
		whole.Legend.Add(fmt.Sprintf("failure-free: %s TFLOPS/GPU (the step's rate, stragglers included)", sig(r.Phases[0].TFLOPSPerGPU)), fl)
	} else {
		whole.Legend.Add(fmt.Sprintf("failure-free step, by phase (main phase: %s TFLOPS/GPU)", sig(r.TFLOPSPerGPU)), fl)
	}
	whole.Legend.Add(fmt.Sprintf("run mean: %s useful TFLOPS/GPU; ETTR %.1f%% (mean of the %d trials: %.1f%%)", sig(mean), 100*trialETTR(r), r.Trials, 100*r.ETTR), ml)
	whole.Legend.Add("zoomed in below", shade)
	whole.Legend.Left = true
	whole.Legend.Top = false
	whole.Legend.XOffs, whole.Legend.YOffs = 6, 4
	whole.X.Min, whole.X.Max = 0, days
	whole.Y.Min, whole.Y.Max = 0, maxRate*1.15
	whole.X.Tick.Marker = linearTicks{N: 10}
	whole.Y.Tick.Marker = linearTicks{N: 5}

	zoomTitle, zoom, zoomLegend, err := zoomPanel(r, segs, rows, zoomA, zoomB, maxRate)
	if err != nil {
		return nil, err
	}
	const width = 10.0
	head := legendPanel(zoomTitle, width, zoomLegend)
	head.p.Title.TextStyle.Font = face(11, true)
	return newChart("utilization", strip.Title.Text, width, panel{p: strip, h: 0.95 + 0.19*float64(len(names))}, panel{p: whole, h: 3.3}, head, panel{p: zoom, h: 2.6}), nil
}

// trialETTR is trial 0's productive time over its wall-clock time.
func trialETTR(r run.Result) float64 {
	if len(r.TrialWallClockDays) == 0 || r.TrialWallClockDays[0] <= 0 {
		return r.ETTR
	}
	work := 0.0
	for _, p := range r.Phases {
		work += p.Steps * p.StepTimeS
	}
	return work / (r.TrialWallClockDays[0] * 86400)
}

// PhaseStartDays is when each phase of trial 0 starts, in days (phase 0
// at 0); a phase the trial never reached is absent.
func PhaseStartDays(r run.Result) map[int]float64 {
	start := map[int]float64{0: 0}
	for _, e := range r.Timeline {
		if e.Kind == "phase" {
			if _, ok := start[e.Phase]; !ok || e.Phase == 0 {
				start[e.Phase] = e.TimeS / 86400
			}
		}
	}
	return start
}

// phaseLabel is a phase in a few words: its name, GPUs and context length.
func phaseLabel(p run.PhaseResult) string {
	s := p.Name
	if s == "" {
		s = "phase"
	}
	if p.GPUs > 0 {
		s += fmt.Sprintf(": %s GPUs", thousands(p.GPUs))
	}
	if p.SeqLen > 0 {
		s += fmt.Sprintf(", seq %s", thousands(p.SeqLen))
	}
	return s
}

// minLabelledBand is the narrowest phase band, as a fraction of the run,
// whose label is written: a 9-point label of about 35 characters spans a
// sixth of the plot.
const minLabelledBand = 0.17

// phaseBands shades every other phase of a multi-phase run on p (x in
// days, y from 0 to top) and writes each phase's label at the top of its
// band.
func phaseBands(p *plot.Plot, r run.Result, start map[int]float64, endDays, top float64) error {
	var xys plotter.XYs
	var labels []string
	for i, ph := range r.Phases {
		a, ok := start[i]
		if !ok {
			continue
		}
		b := endDays
		for j := i + 1; j < len(r.Phases); j++ {
			if s, ok := start[j]; ok {
				b = s
				break
			}
		}
		if i%2 == 1 {
			band, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: 0}, {X: b, Y: 0}, {X: b, Y: top}, {X: a, Y: top}})
			if err != nil {
				return err
			}
			band.Color = color.NRGBA{0x00, 0x00, 0x00, 0x10}
			band.LineStyle.Width = 0
			p.Add(band)
		}
		if i > 0 {
			edge, err := plotter.NewLine(plotter.XYs{{X: a, Y: 0}, {X: a, Y: top}})
			if err != nil {
				return err
			}
			edge.Color, edge.Width, edge.Dashes = grey, 0.8, []vg.Length{2, 2}
			p.Add(edge)
		}
		if b-a >= minLabelledBand*endDays {
			// a narrow band's label would run into its neighbours' (the
			// phase timeline names every phase)
			xys = append(xys, plotter.XY{X: a, Y: top})
			labels = append(labels, phaseLabel(ph))
		}
	}
	if len(labels) == 0 {
		return nil
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font = face(9, false)
		lb.TextStyle[i].YAlign = text.YTop
	}
	lb.Offset = vg.Point{X: 3, Y: -3}
	p.Add(lb)
	return nil
}

// zoomFill is the colour of each state in the zoom: training at the
// phase's rate, training slowed by a slow node, and the states that make
// no progress (drawn at zero useful rate, marked on the state ribbon).
var zoomFill = map[string]color.Color{
	"training":                        blue,
	"training with a slow node":       skyBlue,
	"redoing lost work (no progress)": orange,
	"down: restart (no progress)":     vermillion,
	"checkpoint stall":                black,
}

// zoomStretch is one stretch of the zoom: its state in words and the
// height it is drawn at (its useful TFLOPS per GPU).
type zoomStretch struct {
	StartS, EndS float64
	State        string
	Height       float64
}

// zoomStretches clips the segments to [a, b) and names their states.
func zoomStretches(r run.Result, segs []Segment, a, b float64) []zoomStretch {
	var out []zoomStretch
	for _, s := range segs {
		if s.EndS <= a || s.StartS >= b {
			continue
		}
		st := "training"
		switch {
		case s.State == Down:
			st = "down: restart (no progress)"
		case s.State == Redo:
			st = "redoing lost work (no progress)"
		case s.State == Checkpointing:
			st = "checkpoint stall"
		case s.Phase < len(r.Phases) && s.TFLOPS < r.Phases[s.Phase].TFLOPSPerGPU*(1-1e-9):
			st = "training with a slow node"
		}
		out = append(out, zoomStretch{max(s.StartS, a), min(s.EndS, b), st, s.TFLOPS})
	}
	return out
}

// zoomPanel draws [a, b) in detail: its title, the panel and its legend.
// Each stretch is drawn at its useful rate (the segment's TFLOPS): full
// height while training at the phase's rate, lower while a slow node is in
// the job, zero while down, redoing lost work or stalled by a checkpoint.
// A ribbon under the axis says which state each stretch is in.
func zoomPanel(r run.Result, segs []Segment, rows []causeGroup, a, b, maxRate float64) (string, *plot.Plot, []entry, error) {
	hours := func(t float64) float64 { return t / 3600 }
	title := fmt.Sprintf("Zoom: %s to %s, the %s with the most interruptions", clock(a), clock(b), Duration(b-a))
	p := newPlot("", "wall clock (day and time of day; day 0 starts at the start of the run)", "useful TFLOPS per GPU", gridH)
	var legend []entry
	seen := map[string]bool{}
	ribbonLo, ribbonHi := -0.085*maxRate, -0.03*maxRate
	for _, z := range zoomStretches(r, segs, a, b) {
		x0, x1 := hours(z.StartS), hours(z.EndS)
		c := zoomFill[z.State]
		if z.Height > 0 {
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: z.Height}, {X: x0, Y: z.Height}})
			if err != nil {
				return "", nil, nil, err
			}
			poly.Color, poly.LineStyle.Width = c, 0
			p.Add(poly)
		}
		rib, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: ribbonLo}, {X: x1, Y: ribbonLo}, {X: x1, Y: ribbonHi}, {X: x0, Y: ribbonHi}})
		if err != nil {
			return "", nil, nil, err
		}
		rib.Color, rib.LineStyle.Width = c, 0
		p.Add(rib)
		seen[z.State] = true
	}
	for _, st := range []string{"training", "training with a slow node", "down: restart (no progress)", "redoing lost work (no progress)", "checkpoint stall"} {
		if seen[st] {
			legend = append(legend, entry{st, swatch{zoomFill[st]}})
		}
	}
	// checkpoints: a tick each on the ribbon; the interval quoted is that
	// of the phase the zoom shows
	var ticks plotter.XYs
	zoomPhase := -1
	for _, s := range segs {
		if s.EndS > a && s.StartS < b {
			zoomPhase = s.Phase
			break
		}
	}
	for _, e := range r.Timeline {
		if e.Kind == "checkpoint" && e.TimeS >= a && e.TimeS < b {
			ticks = append(ticks, plotter.XY{X: hours(e.TimeS), Y: (ribbonLo + ribbonHi) / 2})
			if zoomPhase < 0 {
				zoomPhase = e.Phase
			}
		}
	}
	if len(ticks) > 0 {
		sc, err := plotter.NewScatter(ticks)
		if err != nil {
			return "", nil, nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: black, Radius: 4, Shape: vtick{}}
		p.Add(sc)
		ck := r.Phases[min(max(zoomPhase, 0), len(r.Phases)-1)].Checkpoint
		which := ""
		if len(r.Phases) > 1 {
			which = " in " + phaseLabel(r.Phases[min(max(zoomPhase, 0), len(r.Phases)-1)])
		}
		legend = append(legend, entry{fmt.Sprintf("checkpoint written (every %s of training%s; %s in the run)", Duration(ck.IntervalS), which, sig(r.Checkpoints)), sc})
	}
	// interruptions: a marker each above the bars, in the strip's marks
	for _, row := range rows {
		var xys plotter.XYs
		for _, d := range row.times {
			if t := d * 86400; t >= a && t < b {
				xys = append(xys, plotter.XY{X: hours(t), Y: maxRate * 1.07})
			}
		}
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return "", nil, nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: row.color, Radius: 3.5, Shape: row.shape}
		p.Add(sc)
		legend = append(legend, entry{row.label, sc})
	}
	p.X.Min, p.X.Max = hours(a), hours(b)
	p.X.Tick.Marker = clockTicks{}
	p.Y.Min, p.Y.Max = -0.1*maxRate, maxRate*1.15
	p.Y.Tick.Marker = nonNegativeTicks{linearTicks{N: 4}}
	return title, p, legend, nil
}

// vtick is a short vertical line glyph.
type vtick struct{}

func (vtick) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: 0.8})
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y - sty.Radius})
	p.Line(vg.Point{X: pt.X, Y: pt.Y + sty.Radius})
	c.Stroke(p)
}

// nonNegativeTicks are the default ticks without the negative ones (the
// axis reaches below zero to make room for the checkpoint ticks).
type nonNegativeTicks struct{ plot.Ticker }

func (t nonNegativeTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range t.Ticker.Ticks(lo, hi) {
		if t.Value >= 0 {
			out = append(out, t)
		}
	}
	return out
}

// clock formats seconds from the start of the run as "day D HH:MM".
func clock(s float64) string {
	d := math.Floor(s / 86400)
	rem := s - d*86400
	return fmt.Sprintf("day %.0f %02d:%02d", d, int(rem/3600), int(math.Mod(rem, 3600)/60))
}

// Duration formats seconds in the largest sensible unit: "45 s", "12 min",
// "3.1 h", "66.6 days".
func Duration(s float64) string {
	switch {
	case s >= 2*86400:
		return fmt.Sprintf("%.3g days", s/86400)
	case s >= 2*3600:
		return fmt.Sprintf("%.3g h", s/3600)
	case s >= 120:
		return fmt.Sprintf("%.3g min", s/60)
	}
	return fmt.Sprintf("%.3g s", s)
}
