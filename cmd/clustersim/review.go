package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/sim/run"
)

// review is the figures and the studies a capacity review adds: the
// re-planned scaling, the sensitivity, where the days go and the layout
// trade-off (scenarios/study.ReviewOf).
type review struct {
	*figures
	rv *study.Review
}

// gatherReview runs everything the review shows, with the progress meter,
// its steps shared through cache (nil: a cache of its own).
func gatherReview(ctx context.Context, name string, sets []string, prog *progress, budget run.Budget, cache *study.StepCache) (*review, error) {
	var once, onceS sync.Once
	opt := study.ReviewOptions{Gather: study.GatherOptions{Budget: budget, Cache: cache}}
	if prog != nil {
		opt.Gather.Trials = func(done, total int) {
			once.Do(func() { prog.begin("run: Monte Carlo trials", total) })
			prog.set(done)
		}
		opt.Gather.Sweeps = func(done, total int) {
			onceS.Do(func() { prog.begin("sweeps", total) })
			prog.set(done)
		}
	}
	rv, err := study.ReviewOf(ctx, name, sets, opt)
	prog.end()
	if err != nil {
		return nil, err
	}
	return &review{figures: &figures{rv.Figures}, rv: rv}, nil
}

// charts are the figures' charts with the review's: the re-planned scaling
// after the breakdown, then the trade-off, where the days go, the
// sensitivity and, for a multi-phase run, the phase timeline.
func (r *review) charts() ([]plots.ReportChart, error) {
	base, err := r.figures.charts()
	if err != nil {
		return nil, err
	}
	var out []plots.ReportChart
	for _, c := range base {
		out = append(out, c)
		if s := r.rv.Scaling; c.Chart != nil && c.Chart.Name == "breakdown" && s != nil {
			sc, err := plots.ScalingReplanned(r.scalingPlan())
			note := ""
			if s.Note != "" {
				note = " Here: " + s.Note + "."
			}
			if out, err = appendChart(out, sc, err, "The same model, batch and tokens on "+sizesWords(s)+", the layout re-planned at each size (the planner's best, ranked by the failure-free step; its days simulated with stragglers and failures). Against the dashed line of perfect scaling from the smallest size, the days fall more slowly as bubble, communication and failures grow; the lower panels show what the extra GPUs cost and the ETTR."+note); err != nil {
				return nil, err
			}
		}
	}
	if t := r.rv.Tradeoff; t != nil {
		c, err := plots.Tradeoff(r.tradeoff())
		if out, err = appendChart(out, c, err, fmt.Sprintf("The %d fastest of the %s layouts that divide the job and fit in memory (ranked by the failure-free step; days with the run's ETTR), against the memory each leaves free on its fullest GPU. Layouts at the left run close to capacity; the scenario's own layout is ringed.", len(t.Points), group(fmt.Sprint(t.Feasible)))); err != nil {
			return nil, err
		}
	}
	c, err := plots.WaterfallChart(r.waterfall())
	if out, err = appendChart(out, c, err, "Where the days go: from every FLOP at the GPUs' dense peak to the delivered wall clock, step by step. Compute efficiency is the kernels' distance from peak; the bubble, exposed communication and stragglers come from the step's breakdown; restarts, lost work, checkpoints and maintenance from the Monte Carlo run."); err != nil {
		return nil, err
	}
	if s := r.rv.Sensitivity; s != nil {
		c, err := plots.Tornado(plots.Sensitivity{BaseDays: s.BaseDays, Bars: sensitivityBars(s)})
		if out, err = appendChart(out, c, err, fmt.Sprintf("Days to train with each doubtful input halved and doubled (the model error: at the edges of its band), the rest as in the scenario; %d Monte Carlo trials each. The widest bars are the inputs worth pinning down before committing.", s.Trials)); err != nil {
			return nil, err
		}
	}
	if len(r.Result.Phases) > 1 {
		c, err := plots.PhaseTimeline("Phases of the run", plots.PhaseSpans(r.Result))
		if out, err = appendChart(out, c, err, "The run's phases end to end by their mean wall-clock days: GPUs, context length and tokens of each."); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// shortLayout is a study layout in the plan's short form.
func shortLayout(l study.Layout) string {
	s := fmt.Sprintf("tp%d pp%d cp%d mb%d", l.TP, l.PP, l.CP, l.MicroBatch)
	if l.VirtualStages > 1 {
		s += fmt.Sprintf(" v%d", l.VirtualStages)
	}
	switch rec := strings.TrimPrefix(l.Recompute, "none"); rec {
	case "":
	case "+ew":
		s += " ew" // element-wise recompute
	default:
		s += " " + rec
	}
	if l.ZeRO != 1 {
		s += fmt.Sprintf(" z%d", l.ZeRO)
	}
	if l.EP > 1 {
		s += fmt.Sprintf(" ep%d", l.EP)
	}
	if l.Schedule != "" {
		s += " " + l.Schedule
	}
	return s
}

// overlapLabel adds to a layout's short form whether it overlaps the
// tensor-parallel collectives with the products, for two layouts whose
// short forms are the same.
func overlapLabel(short string, l study.Layout) string {
	if l.TPCommOverlap {
		return short + " with TP overlap"
	}
	return short + " without TP overlap"
}

// untie relabels two layouts whose short forms a and b read the same but
// whose TP overlap differs, so that each label says which; ok is false,
// and a and b are as given, otherwise.
func untie(a string, la study.Layout, b string, lb study.Layout) (string, string, bool) {
	if a != b || la.TPCommOverlap == lb.TPCommOverlap {
		return a, b, false
	}
	return overlapLabel(a, la), overlapLabel(b, lb), true
}

// sizesWords are a scaling study's sizes in words: "1,024 to 65,536 GPUs".
func sizesWords(s *study.ScalingStudy) string {
	first, last := s.Points[0].GPUs, s.Points[len(s.Points)-1].GPUs
	if first == last {
		return group(fmt.Sprint(first)) + " GPUs"
	}
	return fmt.Sprintf("%s to %s GPUs", group(fmt.Sprint(first)), group(fmt.Sprint(last)))
}

func (r *review) scalingPlan() plots.ScalingPlan {
	s := r.rv.Scaling
	p := plots.ScalingPlan{AsRun: r.Result.GPUs, Currency: s.Currency, Title: "Scaling with the layout re-planned at each size"}
	for _, pt := range s.Points {
		ps := plots.PlannedSize{GPUs: pt.GPUs, Days: pt.DaysCI, GPUHours: pt.GPUHours, Cost: pt.Cost, ETTR: pt.ETTR}
		if pt.Feasible {
			ps.Layout = shortLayout(pt.Layout)
		} else {
			ps.Infeasible = pt.Reason
		}
		p.Sizes = append(p.Sizes, ps)
	}
	if b := s.Recommended(); b != nil {
		p.Best = b.GPUs
	}
	return p
}

func (r *review) tradeoff() plots.LayoutTradeoff {
	t := r.rv.Tradeoff
	out := plots.LayoutTradeoff{GPUs: t.GPUs, GPU: r.Spec.Step.Cluster.GPU.Name,
		DaysAxis: "days to train, failure-free step (stragglers left out)",
		Title: fmt.Sprintf("Layouts that fit: the %s fastest of %s, days to train against memory headroom (%s × %s)",
			group(fmt.Sprint(len(t.Points))), group(fmt.Sprint(t.Feasible)), group(fmt.Sprint(t.GPUs)), r.Spec.Step.Cluster.GPU.Name)}
	type point struct {
		plots.LayoutPoint
		layout study.Layout
	}
	var pts []point
	own := -1
	for _, p := range t.Points {
		if p.Scenario {
			own = len(pts)
		}
		pts = append(pts, point{plots.LayoutPoint{Label: shortLayout(p.Layout), Days: p.Days, HeadroomGiB: p.HeadroomGiB, AsRun: p.Scenario}, p.Layout})
	}
	if own < 0 && t.Own != nil {
		p := t.Own
		own = len(pts)
		pts = append(pts, point{plots.LayoutPoint{Label: shortLayout(p.Layout), Days: p.Days, HeadroomGiB: p.HeadroomGiB, AsRun: true}, p.Layout})
	}
	if own >= 0 {
		// A layout that reads like the scenario's own in the short form
		// differs in its TP overlap: both labels say which.
		o := pts[own]
		for i, p := range pts {
			if a, b, ok := untie(p.Label, p.layout, o.Label, o.layout); i != own && ok {
				pts[i].Label, pts[own].Label = a, b
			}
		}
	}
	for _, p := range pts {
		out.Points = append(out.Points, p.LayoutPoint)
	}
	return out
}

func (r *review) waterfall() plots.Waterfall {
	var w plots.Waterfall
	for _, s := range r.rv.Waterfall.Steps {
		if !s.Total && s.Days == 0 {
			continue // a cause this run does not have (no slow nodes, one phase)
		}
		w.Steps = append(w.Steps, plots.WaterfallStep{Label: s.Label, Days: s.Days, Total: s.Total})
	}
	return w
}

func sensitivityBars(s *study.Sensitivity) []plots.SensitivityBar {
	var out []plots.SensitivityBar
	for _, b := range s.Bars {
		out = append(out, plots.SensitivityBar{Input: b.Input, LowLabel: b.LowLabel, HighLabel: b.HighLabel, LowDays: b.LowDays, HighDays: b.HighDays})
	}
	return out
}

// answers fills the report's first screen from the studies.
func (r *review) answers(d *plots.ReportData) {
	d.Currency = r.Result.Currency
	if t := r.rv.Tradeoff; t != nil && t.Best != nil {
		best := t.Best
		a := &plots.LayoutAnswer{Best: shortLayout(best.Layout), BestDays: best.Days, Feasible: t.Feasible}
		switch {
		case best.Scenario:
			a.AsRun, a.AsRunDays = a.Best, a.BestDays
		case t.OwnExact != nil:
			a.AsRun, a.AsRunDays = shortLayout(t.OwnExact.Layout), t.OwnExact.Days
			// The short form may hide what differs: say it.
			a.Best, a.AsRun, _ = untie(a.Best, best.Layout, a.AsRun, t.OwnExact.Layout)
		}
		d.Recommended = a
	}
	if s := r.rv.Sensitivity; s != nil {
		d.Sensitivity = sensitivityBars(s)
	}
	if s := r.rv.Scaling; s != nil {
		if b := s.Recommended(); b != nil {
			d.Bigger = &plots.SizeAnswer{GPUs: b.GPUs, Layout: shortLayout(b.Layout), Days: b.Days, GPUHours: b.GPUHours, Cost: b.Cost,
				Why:     fmt.Sprintf("the fastest size whose GPU-hours are within %.0f%% of the cheapest size's, the layout re-planned at each size", 100*study.RecommendedSlack),
				Largest: s.Largest()}
		}
	}
}
