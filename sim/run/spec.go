package run

import (
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/step"
)

// Spec is a whole training run: what the scenario file describes.
type Spec struct {
	Name        string
	Description string
	// Step is the main phase's step: model, cluster, layout, training, noise.
	// Its Training.Tokens is the whole run's tokens when Phases is empty.
	Step step.Spec
	// Phases split the run; empty means one phase, Step, for all its tokens.
	Phases   []Phase
	Failures Failures
	Energy   Energy
	Trials   int    // Monte Carlo runs of the whole job
	Seed     uint64 // seeds every random draw
	// Sources says where each key the scenario gave comes from, by dotted
	// key ("failures.storage_tbps"): "file:line", or "--set" for an
	// override. Keys left at their defaults are absent. Refusals found
	// while simulating (budgets, a job that never progresses, overflow)
	// name the keys responsible with it.
	Sources map[string]string
}

// Where names key with where it was given: "key (file:line)", "key
// (--set)", or "key (default)" when the scenario left it out.
func (s Spec) Where(key string) string {
	if src, ok := s.Sources[key]; ok {
		return key + " (" + src + ")"
	}
	return key + " (default)"
}

// Phase is a part of the run with its own tokens, batch, sequence length,
// GPU count or layout. Zero fields inherit the main step's.
type Phase struct {
	Name        string
	Tokens      float64
	SeqLen      int
	GlobalBatch int // sequences per step
	GPUs        int
	Layout      *model.Layout // nil: the main layout, with dp = GPUs/(tp·pp·cp)
}

// Failures is the interruption model.
type Failures struct {
	Profile failure.Profile
	// CheckpointIntervalS is the time between checkpoints, seconds; 0 means
	// automatic (the Young/Daly optimum for the job's MTBF and write time).
	CheckpointIntervalS float64
	// RestartS is detection + reschedule + reload per interruption, seconds.
	RestartS float64
	// StorageBandwidth is the checkpoint storage's sustained write
	// bandwidth, bytes/s (Llama 3: 2 TB/s).
	StorageBandwidth float64
	// AsyncCheckpoint overlaps checkpoint writes with training after a
	// short stall to snapshot the state to host memory.
	AsyncCheckpoint bool
	// Lemons are nodes that go slow without failing: they arrive at
	// RatePerNodeDay, slow the whole job by Slowdown until they are found
	// (DetectS seconds later) and replaced with a restart.
	Lemons Lemons
}

// Lemons describes slow nodes; a zero rate turns them off.
type Lemons struct {
	RatePerNodeDay float64
	Slowdown       float64 // step-time factor while a lemon is in the job, e.g. 1.1
	DetectS        float64 // seconds until the lemon is found and drained
}

// Energy holds the optional energy and cost inputs; zero values turn the
// outputs off.
type Energy struct {
	PUE             float64 // power usage effectiveness of the data centre (e.g. 1.1)
	HostWattsPerGPU float64 // CPU, memory, NIC and fan power per GPU, W
	PricePerGPUHour float64 // currency units per GPU-hour
	Currency        string  // the price's currency code (e.g. USD); "" when not set
}
