package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"gonum.org/v1/gonum/stat"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim"
	"github.com/clustersim/clustersim/sim/step"
)

// CheckpointBytesPerParam is the training state a checkpoint saves per
// parameter: bf16 weights (2), fp32 master weights (4) and Adam's two fp32
// moments (8). MODEL.md rounds it to ~16; gradients are not saved.
const CheckpointBytesPerParam = 14

// Options controls a run simulation.
type Options struct {
	// Progress, when set, is called after each finished trial with the
	// number done and the total; it may be called from several goroutines.
	Progress func(done, total int)
	// Budget bounds the work and memory; zero fields mean the defaults.
	Budget Budget
	// Timeline records trial 0's events (Result.Timeline) for charts,
	// decimated beyond MaxTimelineEvents.
	Timeline bool
	// Step simulates each phase's step; nil means step.Simulate. Callers
	// that run many specs sharing a step (a sweep over failure inputs)
	// pass a cache here; it must return what step.Simulate returns for
	// the spec, and must not be handed results it will mutate.
	Step func(context.Context, step.Spec) (step.Result, error)
}

// Interrupted is the error of a run stopped by its context: how many
// trials had finished. It wraps the context's error.
type Interrupted struct {
	Done, Total int
	Err         error
}

func (e *Interrupted) Error() string {
	return fmt.Sprintf("interrupted after %d of %d Monte Carlo trials; no result printed", e.Done, e.Total)
}
func (e *Interrupted) Unwrap() error { return e.Err }

// Checkpoint is how a phase checkpoints.
type Checkpoint struct {
	Bytes     float64 `json:"bytes"`
	WriteS    float64 `json:"write_s"`    // from start to a durable checkpoint
	StallS    float64 `json:"stall_s"`    // training stalled per checkpoint
	IntervalS float64 `json:"interval_s"` // seconds of training between checkpoints (Young/Daly when auto)
	MTBFS     float64 `json:"mtbf_s"`     // mean time between unexpected interruptions
}

// planCheckpoint prices a checkpoint of the job's state for a phase.
func planCheckpoint(s Spec, p phaseStep) Checkpoint { return s.CheckpointOn(p.spec.Cluster) }

// CheckpointOn prices a checkpoint of s's training state on cluster c: its
// size, write and stall time, the job's MTBF there, and the interval
// (Young/Daly when the scenario says auto), as the run simulation uses them.
func (s Spec) CheckpointOn(c cluster.Cluster) Checkpoint {
	params := s.Step.Arch.Params()
	bytes := params * CheckpointBytesPerParam
	// The writers are all the GPUs, each through its own NIC, into storage
	// whose sustained bandwidth caps the total.
	bw := math.Min(s.Failures.StorageBandwidth, float64(c.GPUs)*c.Network.ScaleOutGbps/8*1e9)
	if !(bw > 0) {
		bw = float64(c.GPUs) * c.Network.ScaleOutGbps / 8 * 1e9
	}
	ck := Checkpoint{Bytes: bytes, WriteS: bytes / bw}
	ck.StallS = ck.WriteS
	if s.Failures.AsyncCheckpoint && c.GPU.HostBandwidth > 0 {
		ck.StallS = bytes / float64(c.GPUs) / c.GPU.HostBandwidth
	}
	_, unexpected, _ := s.Failures.Profile.Rates(failure.Hardware{GPUs: c.GPUs, Nodes: c.Nodes()})
	ck.MTBFS = math.Inf(1)
	if unexpected > 0 {
		ck.MTBFS = 86400 / unexpected
	}
	ck.IntervalS = s.Failures.CheckpointIntervalS
	if ck.IntervalS <= 0 {
		ck.IntervalS = failure.YoungDaly(ck.StallS, ck.MTBFS)
		// An asynchronous write must finish before the next one starts:
		// no shorter interval than the part of the write that does not
		// stall training.
		ck.IntervalS = math.Max(ck.IntervalS, ck.WriteS-ck.StallS)
	}
	return ck
}

// ClosedFormETTR is the expected effective training time ratio of s's job
// on cluster c without simulating it: the renewal form for exponential
// failures (failure.RenewalETTR, which the Monte Carlo simulates exactly) for
// the unexpected interruptions, each costing the restart plus its cause's
// recovery and the work since the last checkpoint, with the interval and
// stall of CheckpointOn; planned maintenance costs a checkpoint stall and a
// restart each, without lost work. Lemons and phase changes are left out. It
// does not depend on the layout or the step time: for a fixed cluster it is
// a constant factor on time to train.
func (s Spec) ClosedFormETTR(c cluster.Cluster) float64 {
	ck := s.CheckpointOn(c)
	hw := failure.Hardware{GPUs: c.GPUs, Nodes: c.Nodes()}
	perDay, _, _ := s.Failures.Profile.Rates(hw)
	var unexpected, recovery, plannedDown float64 // per second; recovery and plannedDown: rate-weighted seconds
	for i, cause := range s.Failures.Profile.Causes {
		r := perDay[i] / 86400
		if cause.Planned {
			plannedDown += r * (ck.StallS + s.Failures.RestartS + cause.RecoveryS)
			continue
		}
		unexpected += r
		recovery += r * cause.RecoveryS
	}
	u0 := s.Failures.RestartS
	if unexpected > 0 {
		u0 += recovery / unexpected
	}
	stall := 0.0
	if !math.IsInf(ck.IntervalS, 1) {
		stall = ck.StallS
	}
	ettr := 1.0
	switch {
	case unexpected > 0 && !math.IsInf(ck.IntervalS, 1):
		ettr = failure.RenewalETTR(unexpected, u0, ck.IntervalS, stall)
	case unexpected > 0:
		ettr = 0 // failures without checkpoints: the job restarts from scratch forever
	case stall > 0:
		ettr = 1 / (1 + stall/ck.IntervalS)
	}
	ettr -= plannedDown * ettr
	return max(ettr, 0)
}

func planPhases(s Spec, ph []phaseStep) ([]phasePlan, []Checkpoint) {
	plans := make([]phasePlan, len(ph))
	cks := make([]Checkpoint, len(ph))
	for i, p := range ph {
		c := p.spec.Cluster
		hw := failure.Hardware{GPUs: c.GPUs, Nodes: c.Nodes()}
		perDay, _, _ := s.Failures.Profile.Rates(hw)
		ck := planCheckpoint(s, p)
		cks[i] = ck
		pl := phasePlan{workS: p.workS, intervalS: ck.IntervalS, stallS: ck.StallS, writeS: ck.WriteS, gpus: c.GPUs,
			stragglerS: p.steps * p.res.Breakdown.Straggler, computeFrac: p.res.Breakdown.Compute / p.res.StepTime}
		for _, r := range perDay {
			pl.rates = append(pl.rates, r/86400)
			pl.total += r / 86400
		}
		if s.Failures.Lemons.RatePerNodeDay > 0 && s.Failures.Lemons.Slowdown > 1 {
			pl.lemonRate = s.Failures.Lemons.RatePerNodeDay * float64(hw.Nodes) / 86400
		}
		if i > 0 {
			prev := ph[i-1].spec
			pl.relaunch = prev.Cluster.GPUs != c.GPUs || prev.Layout != p.spec.Layout
		}
		plans[i] = pl
	}
	return plans, cks
}

// monteCarlo runs the trials in parallel, one engine each; trial i draws
// from its own stream (seed, i), so the results do not depend on how many
// goroutines ran them.
func monteCarlo(ctx context.Context, s Spec, plans []phasePlan, opt Options) ([]trialResult, error) {
	n := max(s.Trials, 1)
	out := make([]trialResult, n)
	var done atomic.Int64
	var runaway atomic.Bool
	sim.Parallel(ctx, n, 0, func(i int) {
		r, err := runTrialContext(ctx, plans, s.Failures.Profile.Causes, s.Failures.RestartS, s.Failures.Lemons, s.Seed, uint64(i), i == 0 && opt.Timeline)
		if err != nil {
			return // stopped by ctx
		}
		if r.runaway {
			runaway.Store(true)
		}
		out[i] = r
		d := int(done.Add(1))
		if opt.Progress != nil {
			opt.Progress(d, n)
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, &Interrupted{Done: int(done.Load()), Total: n, Err: err}
	}
	if runaway.Load() {
		return nil, errNeverFinishes
	}
	return out, nil
}

// errNeverFinishes reports a run that the event guard stopped.
var errNeverFinishes = errors.New("run: the job does not finish: interruptions come faster than restarts and checkpoints complete (a trial exceeded 50 million events)")

// CheckProgressOn is checkProgress for s's job on cluster c, for callers
// (a layout search) that price runs without simulating them.
func (s Spec) CheckProgressOn(c cluster.Cluster) error {
	ck := s.CheckpointOn(c)
	perDay, _, _ := s.Failures.Profile.Rates(failure.Hardware{GPUs: c.GPUs, Nodes: c.Nodes()})
	total := 0.0
	for _, r := range perDay {
		total += r / 86400
	}
	return checkProgress(s, []phasePlan{{total: total, stallS: ck.StallS, intervalS: ck.IntervalS}})
}

// checkProgress refuses a run whose interruptions outpace its restarts: to
// come back up, a restart (and, before any progress is kept, a checkpoint)
// must fit between two interruptions, which a job with interruption rate λ
// manages with probability e^{−λ·(restart + stall)}; when λ·(restart +
// stall) exceeds 20 the expected wait is longer than e^20 mean times
// between interruptions.
func checkProgress(s Spec, plans []phasePlan) error {
	for i, p := range plans {
		if x := p.total * (s.Failures.RestartS + p.stallS); x > 20 {
			return s.neverProgresses(i, p)
		}
	}
	return nil
}

func fmtSeconds(x float64) string {
	switch {
	case x < 120:
		return fmt.Sprintf("%.3g s", x)
	case x < 7200:
		return fmt.Sprintf("%.3g min", x/60)
	case x < 2*86400:
		return fmt.Sprintf("%.3g h", x/3600)
	}
	return fmt.Sprintf("%.3g days", x/86400)
}

// summarize returns the mean and the 5th and 95th percentiles.
func summarize(x []float64) Interval {
	s := slices.Clone(x)
	slices.Sort(s)
	return Interval{
		Mean: stat.Mean(s, nil),
		P5:   stat.Quantile(0.05, stat.Empirical, s, nil),
		P95:  stat.Quantile(0.95, stat.Empirical, s, nil),
	}
}
