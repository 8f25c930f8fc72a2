package step

import (
	"errors"
	"fmt"
	"math"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// Noise is the straggler model: every timed activity of a GPU is scaled by a
// factor drawn from a lognormal distribution with mean 1 and coefficient of
// variation CV, times the GPU's own persistent speed factor (mean 1, GPUCV),
// and an activity shared by several GPUs (a tensor-parallel layer, a
// collective) ends when its slowest member does. A fraction of nodes may be
// persistently slow ("lemons").
type Noise struct {
	CV float64 // coefficient of variation of one GPU's activity time, drawn per activity; 0 turns it off
	// GPUCV is the coefficient of variation of a GPU's persistent speed:
	// identical GPUs run at different speeds under their power limit
	// (manufacturing variability), drawn once per GPU and kept for the run.
	GPUCV            float64
	SlowNodeFraction float64 // fraction of nodes that are persistently slow
	SlowNodeFactor   float64 // their time factor, e.g. 1.1 for 10% slower
}

// Any reports whether n has stragglers: whether any of its sources is on.
// Without them every replica runs the noiseless step, so a step needs no
// noisy samples (Simulate) and a run's budget counts none (package run).
func (n Noise) Any() bool {
	return n.CV > 0 || n.GPUCV > 0 || n.SlowNodeFraction > 0
}

// DefaultCV is the default coefficient of variation of an activity's time,
// drawn afresh for every activity: 0.33%, the spread of the 143 one-second
// throughput windows of the 150 s soak of back-to-back bf16 products on one
// H100 (cluster/testdata/h100-sxm-2026-11-26-run3-soak.json: 695 TFLOPS,
// σ/mean 0.33%). Within a run a GPU's speed barely moves from one product
// to the next; what varies is the speed it settles at (DefaultGPUCV).
//
// Until 2026-12 this was 2%, the spread of the same products between the
// two calibration runs. That spread is between runs, not between the passes
// of one run, and drawing it afresh per pass made the straggler cost grow
// with every synchronisation group's size: NeMo's long-context rows, whose
// tp·cp groups grow from 1 to 256 GPUs, drifted from +2% to +24% too slow,
// while the rows at several scales of one recipe (validate's weak-scaling
// table) show no such growth.
const DefaultCV = 0.0033

// DefaultGPUCV is the default spread of persistent GPU speed, drawn once per
// GPU and kept for the run: 2%. Two measurements agree on it. The same bf16
// products on one H100 ran at speeds 2.2% apart (σ of the log ratio / √2
// over 451 products above 0.1 TFLOP, by median absolute deviation) between
// the two calibration runs of 2026-11-26 (cluster/testdata): a card's speed
// under its power limit is a state it settles in, not a constant. Sinha et
// al., "Not All GPUs Are Created Equal" (SC22, arXiv:2208.11035), measured
// an average performance variation of 8% between identical GPUs of large
// clusters under the same load; read as a ±2σ range that is σ = 2% (as the
// whisker-to-whisker range of their box plots, ±2.7σ, it would be 1.5%).
// Their outliers, up to 1.5× slower than the median, are what
// SlowNodeFraction models.
const DefaultGPUCV = 0.02

// Spec is one training step to simulate.
type Spec struct {
	Arch     model.Arch
	Layout   model.Layout
	Training model.Training
	Cluster  cluster.Cluster
	Noise    Noise
	Seed     uint64
	// Samples is the number of noisy steps simulated; their mean is the
	// step time. 0 means 1.
	Samples int
	// Trace records the noiseless step's timeline in Result.Timeline.
	Trace bool
}

// Validate reports every problem with the spec, joined.
func (s Spec) Validate() error {
	var errs []error
	if err := s.Arch.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Layout.Validate(s.Arch, s.Training, s.Cluster.GPUs); err != nil {
		errs = append(errs, err)
	}
	if s.Training.SeqLen < 1 {
		errs = append(errs, &model.FieldError{Field: "training.seq_len", Value: s.Training.SeqLen, Reason: "must be >= 1"})
	}
	if s.Training.GlobalBatch < 1 {
		errs = append(errs, &model.FieldError{Field: "training.global_batch", Value: s.Training.GlobalBatch, Reason: "must be >= 1"})
	}
	if s.Training.GradBytes != 2 && s.Training.GradBytes != 4 {
		errs = append(errs, &model.FieldError{Field: "training.grad_precision", Value: s.Training.GradBytes, Reason: "bytes must be 2 (bf16) or 4 (fp32)"})
	}
	n := s.Noise
	if !(n.CV >= 0 && n.CV <= 1) {
		errs = append(errs, &model.FieldError{Field: "stragglers.cv", Value: n.CV, Reason: "must be in [0, 1]"})
	}
	if !(n.GPUCV >= 0 && n.GPUCV <= 1) {
		errs = append(errs, &model.FieldError{Field: "stragglers.gpu_cv", Value: n.GPUCV, Reason: "must be in [0, 1]"})
	}
	if !(n.SlowNodeFraction >= 0 && n.SlowNodeFraction <= 1) {
		errs = append(errs, &model.FieldError{Field: "stragglers.slow_node_fraction", Value: n.SlowNodeFraction, Reason: "must be in [0, 1]"})
	}
	if n.SlowNodeFraction > 0 && !(n.SlowNodeFactor >= 1 && !math.IsInf(n.SlowNodeFactor, 0)) {
		errs = append(errs, &model.FieldError{Field: "stragglers.slow_node_factor", Value: n.SlowNodeFactor, Reason: "must be finite and >= 1"})
	}
	if s.Samples < 0 {
		errs = append(errs, fmt.Errorf("step: samples %d < 0", s.Samples))
	}
	return errors.Join(errs...)
}
