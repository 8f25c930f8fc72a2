package study

import (
	"fmt"

	"github.com/clustersim/clustersim/sim/run"
)

// WaterfallStep is one bar of where the days go: Days added on the way
// from ideal-at-peak to delivered (the first and last bars are totals).
type WaterfallStep struct {
	Key   string  // stable: ideal, compute_efficiency, pp_bubble, exposed_comm, optimizer, stragglers, restarts, lost_work, checkpoints, slow_nodes, phase_change, planned_maintenance, delivered
	Label string  // in words
	Days  float64 // this part's days (the total, for ideal and delivered)
	Total bool    // ideal and delivered: a total, not an increment
}

// Waterfall is where a run's days go, from every FLOP at the GPUs' dense
// peak to the delivered wall clock. The increments sum to the delivered
// days exactly (Delivered = Ideal + Σ increments).
//
// The step parts are steps × each part of breakdown_s, phase by phase;
// stragglers also take up the difference between the step time and the
// sum of its breakdown (under 1%, CONTRACT.md). The run parts are the
// Monte Carlo means of the badput; planned maintenance is its mean count
// times the restart and the cause's recovery, taken out of the restarts
// (overlapping downtimes make it an estimate; the sum stays exact).
// Whatever the means leave over (trial-to-trial rounding) goes to the
// restarts, and is reported as Residual.
type Waterfall struct {
	Steps     []WaterfallStep
	Ideal     float64 // days at peak: model FLOPs / (GPUs × dense peak), phase by phase
	Delivered float64 // wall_clock_days
	Residual  float64 // days the badput means left unexplained, folded into restarts
}

// Waterfall computes where the days of r (the run of s) go.
func WaterfallOf(s run.Spec, r run.Result) (Waterfall, error) {
	specs, _, err := s.PhaseSpecs()
	if err != nil {
		return Waterfall{}, err
	}
	if len(specs) != len(r.Phases) {
		return Waterfall{}, fmt.Errorf("study: %d phases in the spec, %d in the result", len(specs), len(r.Phases))
	}
	const day = 86400.0
	var ideal, compute, bubble, comm, opt, productive float64
	for i, p := range r.Phases {
		st := specs[i]
		peak := st.Cluster.GPU.PeakFLOPS(st.Training.Precision)
		flops := st.Arch.ModelFLOPsPerToken(st.Training.SeqLen) * p.Tokens
		ideal += flops / (float64(p.GPUs) * peak) / day
		b := p.Breakdown
		compute += p.Steps * b.Compute / day
		bubble += p.Steps * b.PPBubble / day
		comm += p.Steps * (b.TPComm + b.CPComm + b.EPComm + b.Offload + b.PPComm + b.DPComm) / day
		opt += p.Steps * b.Optimizer / day
		productive += p.Steps * p.StepTimeS / day
	}
	stragglers := productive - compute - bubble - comm - opt
	bp := r.Badput
	planned := 0.0
	for _, c := range s.Failures.Profile.Causes {
		if c.Planned {
			planned += r.InterruptionsByCause[c.Name] * (s.Failures.RestartS + c.RecoveryS) / day
		}
	}
	planned = min(planned, bp.RestartDays)
	restarts := bp.RestartDays - planned
	accounted := productive + bp.RestartDays + bp.LostWorkDays + bp.CheckpointDays + bp.SlowNodeDays + bp.PhaseChangeDays
	residual := r.WallClockDays - accounted
	restarts += residual
	w := Waterfall{Ideal: ideal, Delivered: r.WallClockDays, Residual: residual}
	w.Steps = []WaterfallStep{
		{"ideal", "ideal: every FLOP at dense peak", ideal, true},
		{"compute_efficiency", "compute below peak (kernel efficiency, recompute, element-wise)", compute - ideal, false},
		{"pp_bubble", "pipeline bubble", bubble, false},
		{"exposed_comm", "exposed communication (tp, cp, ep, pp, dp, activation offload)", comm, false},
		{"optimizer", "optimizer step", opt, false},
		{"stragglers", "stragglers", stragglers, false},
		{"restarts", "restarts after failures", restarts, false},
		{"lost_work", "work lost since the last checkpoint", bp.LostWorkDays, false},
		{"checkpoints", "checkpoint stalls", bp.CheckpointDays, false},
		{"slow_nodes", "slow nodes", bp.SlowNodeDays, false},
		{"phase_change", "phase changes (checkpoint and relaunch)", bp.PhaseChangeDays, false},
		{"planned_maintenance", "planned maintenance", planned, false},
		{"delivered", "delivered", r.WallClockDays, true},
	}
	return w, nil
}
