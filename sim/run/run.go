package run

import (
	"context"
	"fmt"
	"math"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/step"
)

const gib = 1 << 30

// PhaseSpecs returns the step of every phase: the main step with the
// phase's overrides. A run without phases is one phase of all its tokens.
func (s Spec) PhaseSpecs() ([]step.Spec, []Phase, error) {
	phases := s.Phases
	if len(phases) == 0 {
		phases = []Phase{{Name: "main", Tokens: s.Step.Training.Tokens}}
	}
	out := make([]step.Spec, len(phases))
	for i, ph := range phases {
		st := s.Step
		if ph.SeqLen > 0 {
			st.Training.SeqLen = ph.SeqLen
		}
		if ph.GlobalBatch > 0 {
			st.Training.GlobalBatch = ph.GlobalBatch
		}
		st.Training.Tokens = ph.Tokens
		if ph.GPUs > 0 && ph.GPUs != st.Cluster.GPUs {
			c, err := cluster.New(st.Cluster.GPU, ph.GPUs, st.Cluster.GPUsPerNode, st.Cluster.Network)
			if err != nil {
				return nil, nil, fmt.Errorf("phase %q: %w", ph.Name, err)
			}
			st.Cluster = c
		}
		if ph.Layout != nil {
			st.Layout = *ph.Layout
		} else if model := st.Layout.TP * st.Layout.PP * st.Layout.CP; model > 0 {
			st.Layout.DP = st.Cluster.GPUs / model
		}
		st.Seed = s.Step.Seed ^ uint64(i)<<32
		out[i] = st
	}
	return out, phases, nil
}

// phaseStep is one phase's simulated step and the work of the phase.
type phaseStep struct {
	spec   step.Spec
	phase  Phase
	res    step.Result
	steps  float64
	workS  float64 // failure-free seconds of training
	tokens float64
}

func simulatePhases(ctx context.Context, s Spec, b Budget, simStep func(context.Context, step.Spec) (step.Result, error)) ([]phaseStep, error) {
	if simStep == nil {
		simStep = step.Simulate
	}
	specs, phases, err := s.PhaseSpecs()
	if err != nil {
		return nil, err
	}
	if err := s.checkStepBudget(specs, b); err != nil {
		return nil, err
	}
	out := make([]phaseStep, len(specs))
	for i, st := range specs {
		res, err := simStep(ctx, st)
		if err != nil {
			if len(specs) > 1 {
				return nil, fmt.Errorf("phase %q: %w", phases[i].Name, err)
			}
			return nil, err
		}
		steps := math.Ceil(phases[i].Tokens / st.Training.BatchTokens())
		out[i] = phaseStep{spec: st, phase: phases[i], res: res, steps: steps, workS: steps * res.StepTime, tokens: phases[i].Tokens}
		if err := s.checkStep(out[i], i, len(specs)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Simulate runs the whole job: the step of every phase, then the run over
// wall-clock time, Monte Carlo over trials.
func Simulate(ctx context.Context, s Spec) (Result, error) { return SimulateWith(ctx, s, Options{}) }

// SimulateWith is Simulate with options.
func SimulateWith(ctx context.Context, s Spec, opt Options) (Result, error) {
	ph, err := simulatePhases(ctx, s, opt.Budget, opt.Step)
	if err != nil {
		return Result{}, err
	}
	mi := mainPhase(ph)
	main := ph[mi].res
	plans, cks := planPhases(s, ph)
	if err := checkProgress(s, plans); err != nil {
		return Result{}, err
	}
	if err := s.checkRunBudget(ph, plans, opt.Budget); err != nil {
		return Result{}, err
	}
	trials, err := monteCarlo(ctx, s, plans, opt)
	if err != nil {
		return Result{}, err
	}
	r := Result{
		Scenario:             s.Name,
		Params:               s.Step.Arch.Params(),
		StepTimeS:            main.StepTime,
		NoiselessStepTimeS:   main.NoiselessStepTime,
		TokensPerS:           main.TokensPerSecond,
		TFLOPSPerGPU:         main.TFLOPSPerGPU,
		MFU:                  main.MFU,
		HFU:                  main.HFU,
		MemoryGiBPerGPU:      fullest(ph) / gib,
		Breakdown:            BreakdownOf(main.Breakdown),
		InterruptionsByCause: map[string]float64{},
		Checkpoint:           cks[mi],
		Trials:               len(trials),
		Seed:                 s.Seed,
		Timeline:             trials[0].events,
	}
	for _, m := range main.Memory {
		r.MemoryGiBByStage = append(r.MemoryGiBByStage, m.Total()/gib)
	}
	n := float64(len(trials))
	var walls, hours, ettrs, energies []float64
	var productive float64
	for _, p := range ph {
		productive += p.workS
	}
	for _, t := range trials {
		days := t.wallS / 86400
		walls = append(walls, days)
		h := 0.0
		for i, w := range t.phaseWallS {
			h += w / 3600 * float64(plans[i].gpus)
		}
		hours = append(hours, h)
		ettrs = append(ettrs, productive/t.wallS)
		energies = append(energies, energyMWh(s, ph, plans, t))
		r.Interruptions += t.unexpected / n
		r.PlannedInterruptions += t.planned / n
		for i, c := range s.Failures.Profile.Causes {
			r.InterruptionsByCause[c.Name] += t.byCause[i] / n
		}
		r.Badput.RestartDays += t.restartS() / 86400 / n
		r.Badput.LostWorkDays += t.lostS / 86400 / n
		r.Badput.CheckpointDays += t.ckptS / 86400 / n
		r.Badput.SlowNodeDays += t.lemonS / 86400 / n
		r.Badput.PhaseChangeDays += t.relaunchS / 86400 / n
		r.Checkpoints += t.checkpoints / n
	}
	for _, p := range plans {
		r.Badput.StragglerDays += p.stragglerS / 86400
	}
	r.TrialWallClockDays = walls
	r.WallClockDaysCI, r.GPUHoursCI, r.ETTRCI = summarize(walls), summarize(hours), summarize(ettrs)
	r.WallClockDays, r.GPUHours, r.ETTR = r.WallClockDaysCI.Mean, r.GPUHoursCI.Mean, r.ETTRCI.Mean
	if r.WallClockDays > 0 {
		r.InterruptionsPerDay = r.Interruptions / r.WallClockDays
		r.PlannedPerDay = r.PlannedInterruptions / r.WallClockDays
	}
	if s.Energy.PUE > 0 {
		e := summarize(energies)
		r.EnergyMWh = &e
	}
	if s.Energy.PricePerGPUHour > 0 {
		c := r.GPUHours * s.Energy.PricePerGPUHour
		r.Cost = &c
		r.Currency = s.Energy.Currency
	}
	for i, p := range ph {
		days := 0.0
		for _, t := range trials {
			days += t.phaseWallS[i] / 86400 / n
		}
		r.GPUs = max(r.GPUs, p.spec.Cluster.GPUs)
		r.Tokens += p.tokens
		r.Steps += p.steps
		r.TotalFLOPs += p.spec.Arch.ModelFLOPsPerToken(p.spec.Training.SeqLen) * p.tokens
		r.Phases = append(r.Phases, PhaseResult{
			Name: p.phase.Name, GPUs: p.spec.Cluster.GPUs, Tokens: p.tokens, SeqLen: p.spec.Training.SeqLen,
			GlobalBatch: p.spec.Training.GlobalBatch, Recompute: p.spec.Layout.Recompute.String(), Steps: p.steps, StepTimeS: p.res.StepTime,
			TFLOPSPerGPU: p.res.TFLOPSPerGPU, MFU: p.res.MFU, WallClockDays: days,
			GPUHours: days * 24 * float64(p.spec.Cluster.GPUs), Breakdown: BreakdownOf(p.res.Breakdown),
			Checkpoint: cks[i],
		})
	}
	if err := checkFinite(s, r); err != nil {
		return Result{}, err
	}
	return r, nil
}

// restartS is the time spent down restarting, less the checkpoints and
// relaunches that happened while down (counted on their own).
func (t trialResult) restartS() float64 {
	// Never below zero: with no restart the difference of the two sums is
	// rounding (−2e-16 days on a failure-free run with phases).
	return max(0, t.downS-t.downOther)
}

// energyMWh is one trial's energy: GPUs at TDP while computing, the work
// lost to failures included (a GPU at
// full matrix load sits at its power limit: 700 W measured on the H100
// during the calibration soak), at half of it while waiting on
// communication or the pipeline (an assumption), at 15% of it while the job
// is down (an assumption), plus the host's share per GPU, times the PUE.
func energyMWh(s Spec, ph []phaseStep, plans []phasePlan, t trialResult) float64 {
	total := 0.0
	for i, p := range ph {
		tdp := p.spec.Cluster.GPU.TDPWatts
		busy := plans[i].computeFrac
		// work that a failure threw away was computed too
		computing := p.workS + t.phaseLostS[i]
		running := computing * (busy + 0.5*(1-busy)) * tdp
		idle := (t.phaseWallS[i] - computing) * 0.15 * tdp
		if idle < 0 {
			idle = 0
		}
		hostJ := t.phaseWallS[i] * s.Energy.HostWattsPerGPU
		total += float64(plans[i].gpus) * (running + idle + hostJ)
	}
	return total * s.Energy.PUE / 3.6e9
}

// mainPhase is the phase with the most tokens: the run's steady state, whose
// step the headline figures (step time, TFLOPS, breakdown) describe.
func mainPhase(ph []phaseStep) int {
	m := 0
	for i, p := range ph {
		if p.tokens > ph[m].tokens {
			m = i
		}
	}
	return m
}

// fullest is the peak memory of the fullest GPU of any phase, bytes.
func fullest(ph []phaseStep) float64 {
	m := 0.0
	for _, p := range ph {
		m = max(m, p.res.Memory[p.res.FullestStage].Total())
	}
	return m
}

// MainStepSpec is the step of the phase with the most tokens (the top-level
// step when there are no phases): what the headline figures describe.
func (s Spec) MainStepSpec() (step.Spec, error) {
	specs, phases, err := s.PhaseSpecs()
	if err != nil {
		return step.Spec{}, err
	}
	m := 0
	for i, p := range phases {
		if p.Tokens > phases[m].Tokens {
			m = i
		}
	}
	return specs[m], nil
}

// MainStep simulates the main step alone, with its timeline when trace is set.
func MainStep(ctx context.Context, s Spec, trace bool) (step.Result, error) {
	st, err := s.MainStepSpec()
	if err != nil {
		return step.Result{}, err
	}
	st.Trace = trace
	return step.Simulate(ctx, st)
}
