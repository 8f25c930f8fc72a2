package run

import "github.com/clustersim/clustersim/sim/step"

// Breakdown is step.Breakdown with the contract's JSON keys (CONTRACT.md,
// breakdown_s).
type Breakdown struct {
	Compute   float64 `json:"compute"`
	TPComm    float64 `json:"tp_comm"`
	CPComm    float64 `json:"cp_comm"`
	EPComm    float64 `json:"ep_comm,omitempty"` // MoE expert-parallel all-to-alls; absent for dense models
	Offload   float64 `json:"offload,omitempty"` // waiting for late activation-offload copies; absent when none is late
	PPBubble  float64 `json:"pp_bubble"`
	PPComm    float64 `json:"pp_comm"`
	DPComm    float64 `json:"dp_comm"`
	Optimizer float64 `json:"optimizer"`
	Straggler float64 `json:"straggler"`
}

// BreakdownOf is b with the contract's JSON keys.
func BreakdownOf(b step.Breakdown) Breakdown {
	return Breakdown{Compute: b.Compute, TPComm: b.TPComm, CPComm: b.CPComm, EPComm: b.EPComm, Offload: b.Offload, PPBubble: b.PPBubble, PPComm: b.PPComm,
		DPComm: b.DPComm, Optimizer: b.Optimizer, Straggler: b.Straggler}
}

// Interval is a mean and a 90% interval (5th and 95th percentiles) over
// Monte Carlo trials.
type Interval struct {
	Mean float64 `json:"mean"`
	P5   float64 `json:"p5"`
	P95  float64 `json:"p95"`
}

// PhaseResult is one phase of the run.
type PhaseResult struct {
	Name        string  `json:"name"`
	GPUs        int     `json:"gpus"`
	Tokens      float64 `json:"tokens"`
	SeqLen      int     `json:"seq_len"`
	GlobalBatch int     `json:"global_batch"`
	// Recompute is the phase's activation recomputation ("none",
	// "selective", "full"): phases of one scenario may differ under auto.
	Recompute     string    `json:"recompute"`
	Steps         float64   `json:"steps"`
	StepTimeS     float64   `json:"step_time_s"`
	TFLOPSPerGPU  float64   `json:"tflops_per_gpu"`
	MFU           float64   `json:"mfu"`
	WallClockDays float64   `json:"wall_clock_days"`
	GPUHours      float64   `json:"gpu_hours"`
	Breakdown     Breakdown `json:"breakdown_s"`
	// Checkpoint is how this phase checkpoints (its interval is the
	// phase's Young/Daly optimum when the interval is auto).
	Checkpoint Checkpoint `json:"checkpoint"`
}

// Result is a whole run's outcome, with the JSON keys of CONTRACT.md's
// `run --format json` (and more).
type Result struct {
	Scenario             string             `json:"scenario"`
	GPUs                 int                `json:"gpus"`
	Params               float64            `json:"params"`
	StepTimeS            float64            `json:"step_time_s"`
	NoiselessStepTimeS   float64            `json:"noiseless_step_time_s"`
	TokensPerS           float64            `json:"tokens_per_s"`
	TFLOPSPerGPU         float64            `json:"tflops_per_gpu"`
	MFU                  float64            `json:"mfu"`
	HFU                  float64            `json:"hfu"`
	MemoryGiBPerGPU      float64            `json:"memory_gib_per_gpu"`
	MemoryGiBByStage     []float64          `json:"memory_gib_by_stage"`
	Breakdown            Breakdown          `json:"breakdown_s"`
	WallClockDays        float64            `json:"wall_clock_days"`
	WallClockDaysCI      Interval           `json:"wall_clock_days_90"`
	GPUHours             float64            `json:"gpu_hours"`
	GPUHoursCI           Interval           `json:"gpu_hours_90"`
	ETTR                 float64            `json:"ettr"`
	ETTRCI               Interval           `json:"ettr_90"`
	Interruptions        float64            `json:"interruptions"`
	PlannedInterruptions float64            `json:"planned_interruptions"`
	InterruptionsPerDay  float64            `json:"interruptions_per_day"`
	InterruptionsByCause map[string]float64 `json:"interruptions_by_cause"`
	Badput               Badput             `json:"badput_days"`
	Checkpoint           Checkpoint         `json:"checkpoint"`
	Checkpoints          float64            `json:"checkpoints"`
	PlannedPerDay        float64            `json:"planned_interruptions_per_day"`
	EnergyMWh            *Interval          `json:"energy_mwh,omitempty"`
	Cost                 *float64           `json:"cost,omitempty"`
	Currency             string             `json:"currency,omitempty"` // of cost: energy.currency
	TotalFLOPs           float64            `json:"total_flops"`
	Tokens               float64            `json:"tokens"`
	Steps                float64            `json:"steps"`
	Phases               []PhaseResult      `json:"phases"`
	Trials               int                `json:"trials"`
	Seed                 uint64             `json:"seed"`
	// SixNDFLOPs is 6·N·D with N every parameter (embeddings included) and
	// D the run's tokens, the usual back-of-envelope count beside
	// TotalFLOPs (which counts attention and leaves out the input
	// embedding). The simulation leaves it 0; the caller (cmd/clustersim)
	// sets it with the model error.
	SixNDFLOPs float64 `json:"six_nd_flops"`
	// ModelErrorPct is the model-error band of the step time, percent
	// (CONTRACT.md model_error_pct): how far the step model has been from
	// published runs of the scenario's GPU type and precision. Days,
	// GPU-hours and TFLOPS scale with the step time and carry the same
	// band. It is not a Monte Carlo interval: trials do not vary the step
	// model. The simulation leaves it 0; the caller sets it from the
	// validation suite (scenarios/validation, accuracy.json).
	ModelErrorPct float64 `json:"model_error_pct"`
	// ModelError is what ModelErrorPct rests on; nil when not set.
	ModelError *ModelError `json:"model_error,omitempty"`
	// Timeline is the first trial's interruptions, checkpoints and phase
	// changes, for charts.
	Timeline []Event `json:"-"`
	// TrialWallClockDays is each trial's wall-clock days, in trial order
	// (the distribution behind wall_clock_days_90), for charts.
	TrialWallClockDays []float64 `json:"-"`
}

// ModelError is the model-error band of the step time and what it rests
// on (Result.ModelErrorPct).
type ModelError struct {
	BandPct    float64 `json:"band_pct"`     // the band, ±percent
	MeanAbsPct float64 `json:"mean_abs_pct"` // mean |error| of the same rows, percent
	Rows       int     `json:"rows"`         // published runs compared
	// Exact is false when no published run of the GPU type and precision
	// was compared and the band is the overall one.
	Exact bool   `json:"exact"`
	Basis string `json:"basis"` // in words, e.g. "90th percentile of |step-time error| over 13 published h100-sxm fp8 runs ..."
}

// Badput is the mean wall-clock days lost, by kind.
type Badput struct {
	RestartDays     float64 `json:"restart"`      // down: detection, rescheduling, reloading
	LostWorkDays    float64 `json:"lost_work"`    // work redone since the last checkpoint
	CheckpointDays  float64 `json:"checkpoint"`   // training stalled by checkpoint writes
	SlowNodeDays    float64 `json:"slow_nodes"`   // slower steps while a lemon node is in the job
	PhaseChangeDays float64 `json:"phase_change"` // checkpoint and relaunch between phases
	StragglerDays   float64 `json:"stragglers"`   // step-level straggler time (inside productive time)
}
