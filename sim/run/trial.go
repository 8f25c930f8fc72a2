package run

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim"
)

// phasePlan is what the wall-clock simulation needs to know of a phase.
type phasePlan struct {
	workS       float64   // failure-free seconds of training (steps × step time)
	rates       []float64 // interruptions per second, per cause
	total       float64   // their sum
	lemonRate   float64   // lemons per second
	intervalS   float64   // seconds of training between checkpoints
	stallS      float64   // training stalled per checkpoint
	writeS      float64   // from the start of a checkpoint to its completion
	relaunch    bool      // entering this phase needs a checkpoint and a restart (new GPUs or layout)
	gpus        int
	stragglerS  float64 // part of workS that is step-level straggler time
	computeFrac float64 // compute share of the step, for power
}

// writeTailS is how long a checkpoint's write runs on after its stall
// ends: the part of an asynchronous write that overlaps training.
func (p phasePlan) writeTailS() float64 { return math.Max(0, p.writeS-p.stallS) }

// fastForwards reports whether each checkpoint's write completes within
// the running part that follows its stall, so that none is skipped and a
// trial may run the checkpoints between two interruptions in one step
// (trial.fastForward; checkRunBudget counts on it).
func (p phasePlan) fastForwards() bool { return p.writeTailS() <= p.intervalS }

// trialResult is one Monte Carlo trial's outcome.
type trialResult struct {
	wallS       float64
	phaseWallS  []float64 // wall-clock seconds spent in each phase (its downtime included)
	byCause     []float64 // interruptions per cause
	unexpected  float64
	planned     float64
	lostS       float64   // work redone after failures
	phaseLostS  []float64 // the same, per phase
	runaway     bool      // stopped by the event guard
	ckptS       float64   // training stalled by checkpoints
	lemonS      float64   // extra time from slow nodes
	relaunchS   float64   // phase changes
	downS       float64   // down, all causes
	downOther   float64   // the part of downS counted in ckptS or relaunchS
	checkpoints float64
	// the timeline of one trial, for charts
	events []Event
}

// Event is one moment of a trial's timeline, for charts.
type Event struct {
	TimeS float64 `json:"time_s"`
	Kind  string  `json:"kind"` // "failure", "planned", "restart_done", "checkpoint", "phase", "relaunch", "lemon", "lemon_replaced"
	Cause string  `json:"cause,omitempty"`
	Phase int     `json:"phase"`
	LostS float64 `json:"lost_s,omitempty"`
	// Factor is a "lemon" event's step-time factor (the job runs that much
	// slower until "lemon_replaced"); 0 otherwise.
	Factor float64 `json:"factor,omitempty"`
}

// event kinds on the trial's engine
const (
	evFailure = iota
	evUp
	evCkptStart
	evCkptStallEnd
	evCkptWritten
	evPhaseEnd
	evLemon
	evLemonFound
)

type mode int

const (
	running mode = iota
	stalled      // a synchronous checkpoint write or an asynchronous snapshot
	down         // restarting
)

// trial is one run over wall-clock time on the event kernel. Progress
// between events accrues at the phase's step rate, slowed while a lemon is
// in the job; only failures, restarts, checkpoints, lemons and phase
// changes are events.
type trial struct {
	eng    sim.Engine
	phases []phasePlan
	causes []failure.Cause
	restS  float64
	rng    *rand.Rand
	record bool
	res    trialResult

	ph        int
	mode      mode
	work      float64 // training done in the phase, seconds of failure-free work
	ckptWork  float64 // work saved by the last completed checkpoint
	snapWork  float64 // work in the checkpoint being written
	segStart  float64 // when the current running segment began
	phaseT0   float64 // wall time the phase began
	slow      float64 // 1, or the lemon slowdown
	downUntil float64
	downSince float64

	failureEv, ckptEv, writeEv, phaseEv, lemonEv, upEv sim.EventID
	writing                                            bool // an asynchronous write is in flight
	lemonSlowdown, lemonDetect                         float64
	events                                             int // handled, for the runaway guard
	// failureAt and lemonAt are when the pending failure and lemon
	// arrive (+Inf when none is pending), for fastForward.
	failureAt, lemonAt float64
}

// maxTrialEvents bounds one trial: a run whose failures outpace its
// restarts never finishes, and the guard turns that into an error instead
// of a hang.
const maxTrialEvents = 50_000_000

func (t *trial) now() float64 { return float64(t.eng.Now()) }

// accrue brings work up to now.
func (t *trial) accrue() {
	now := t.now()
	if t.mode == running {
		d := now - t.segStart
		t.work += d / t.slow
		if t.slow > 1 {
			t.res.lemonS += d - d/t.slow
		}
	}
	t.segStart = now
}

// MaxTimelineEvents bounds the recorded timeline of trial 0: beyond it,
// checkpoints are no longer recorded (they are most of a long run's
// events; the charts draw them only in a zoom on the first hours), and
// beyond four times it nothing is.
const MaxTimelineEvents = 100_000

func (t *trial) emit(kind, cause string, lost float64) {
	if n := len(t.res.events); n >= 4*MaxTimelineEvents || (n >= MaxTimelineEvents && kind == "checkpoint") {
		return
	}
	if t.record {
		t.res.events = append(t.res.events, Event{TimeS: t.now(), Kind: kind, Cause: cause, Phase: t.ph, LostS: lost})
	}
}

func (t *trial) scheduleFailure() {
	t.eng.Cancel(t.failureEv)
	p := t.phases[t.ph]
	t.failureAt, t.lemonAt = math.Inf(1), math.Inf(1)
	if p.total > 0 {
		d := t.rng.ExpFloat64() / p.total
		t.failureEv = t.eng.Schedule(sim.Time(d), t, evFailure)
		t.failureAt = t.now() + d
	}
	t.eng.Cancel(t.lemonEv)
	if p.lemonRate > 0 && t.slow == 1 {
		d := t.rng.ExpFloat64() / p.lemonRate
		t.lemonEv = t.eng.Schedule(sim.Time(d), t, evLemon)
		t.lemonAt = t.now() + d
	}
}

// fastForward runs whole checkpoint cycles at once. Between a failure (or
// lemon) and the next, a running job only checkpoints: every cycle trains
// intervalS, stalls stallS and completes the previous cycle's write, and
// draws nothing at random. At the end of a checkpoint stall, with the
// write in flight finishing within the next running part, fastForward
// applies k such cycles in one step — k chosen so that the next failure,
// lemon and phase end all fall at least a cycle after them — and schedules
// the in-flight write, the next checkpoint and the phase end from there.
// The result is the event-by-event one (the same random draws, the same
// counts), up to rounding; trial 0's recorded timeline keeps every event.
func (t *trial) fastForward() {
	p := t.phases[t.ph]
	if t.record || t.slow != 1 || t.mode != running || !t.writing || math.IsInf(p.intervalS, 1) {
		return
	}
	iv, st, w := p.intervalS, p.stallS, p.writeTailS()
	if !p.fastForwards() || !(iv > 0) {
		return // the write outlasts the running part: checkpoints get skipped, one by one
	}
	now := t.now()
	cycle := iv + st
	k := math.Min(math.Floor((math.Min(t.failureAt, t.lemonAt)-now)/cycle), math.Floor((p.workS-t.work)/iv)) - 1
	if !(k >= 1) {
		return
	}
	k = math.Min(k, float64(maxTrialEvents))
	t.eng.Cancel(t.writeEv)
	t.eng.Cancel(t.ckptEv)
	t.eng.Cancel(t.phaseEv)
	t.work += k * iv
	t.ckptWork = t.work - iv // the last cycle's predecessor is written
	t.snapWork = t.work      // the last cycle's own write is in flight
	t.res.checkpoints += k
	t.res.ckptS += k * st
	t.events += 3 * int(k)
	end := now + k*cycle
	t.segStart = end
	t.writeEv = t.eng.ScheduleAt(sim.Time(end+w), t, evCkptWritten)
	t.ckptEv = t.eng.ScheduleAt(sim.Time(end+iv), t, evCkptStart)
	t.phaseEv = t.eng.ScheduleAt(sim.Time(end+math.Max(0, p.workS-t.work)), t, evPhaseEnd)
}

// resume starts a running segment: the phase end and the next checkpoint
// are scheduled from here.
func (t *trial) resume() {
	t.mode = running
	t.segStart = t.now()
	t.schedulePhaseEnd()
	p := t.phases[t.ph]
	t.eng.Cancel(t.ckptEv)
	if !math.IsInf(p.intervalS, 1) {
		t.ckptEv = t.eng.Schedule(sim.Time(p.intervalS*t.slow), t, evCkptStart)
	}
}

// schedulePhaseEnd (re)schedules the moment the phase's work is done at the
// current rate.
func (t *trial) schedulePhaseEnd() {
	t.eng.Cancel(t.phaseEv)
	t.phaseEv = t.eng.Schedule(sim.Time(math.Max(0, t.phases[t.ph].workS-t.work)*t.slow), t, evPhaseEnd)
}

// goDown stops training for d seconds of restart; a checkpoint in progress
// is lost.
func (t *trial) goDown(d float64) {
	t.accrue()
	t.mode = down
	t.eng.Cancel(t.phaseEv)
	t.eng.Cancel(t.ckptEv)
	t.eng.Cancel(t.writeEv)
	t.writing = false
	until := t.now() + d
	if t.downUntil == 0 {
		t.downSince = t.now()
	}
	if until > t.downUntil {
		t.eng.Cancel(t.upEv)
		t.downUntil = until
		t.upEv = t.eng.ScheduleAt(sim.Time(until), t, evUp)
	}
}

func (t *trial) Handle(kind int) {
	t.events++
	if t.events > maxTrialEvents {
		t.res.runaway = true
		t.eng.Stop()
		return
	}
	p := t.phases[t.ph]
	switch kind {
	case evFailure:
		t.accrue()
		u := t.rng.Float64() * p.total
		c := len(p.rates) - 1
		for i, r := range p.rates {
			if u < r {
				c = i
				break
			}
			u -= r
		}
		cause := t.causes[c]
		t.res.byCause[c]++
		lost := 0.0
		if cause.Planned {
			t.res.planned++
			// Maintenance is announced: the job checkpoints, then stops.
			t.res.ckptS += p.stallS
			t.res.downOther += p.stallS
			t.ckptWork = t.work
			t.emit("planned", cause.Name, 0)
			t.goDown(p.stallS + t.restS + cause.RecoveryS)
		} else {
			t.res.unexpected++
			if t.mode != down {
				lost = t.work - t.ckptWork
				t.res.lostS += lost
				t.res.phaseLostS[t.ph] += lost
				t.work = t.ckptWork
			}
			t.emit("failure", cause.Name, lost)
			t.goDown(t.restS + cause.RecoveryS)
		}
		t.scheduleFailure()
	case evUp:
		t.res.downS += t.now() - t.downSince
		t.downUntil = 0
		t.emit("restart_done", "", 0)
		t.resume()
	case evCkptStart:
		// Training stalls: for the whole write (synchronous) or for the
		// snapshot to host memory (asynchronous). An asynchronous write
		// still in flight is not abandoned: this checkpoint is skipped.
		if t.writing {
			t.ckptEv = t.eng.Schedule(sim.Time(p.intervalS*t.slow), t, evCkptStart)
			return
		}
		t.accrue()
		t.snapWork = t.work
		t.mode = stalled
		t.eng.Cancel(t.phaseEv)
		t.res.ckptS += p.stallS
		t.ckptEv = t.eng.Schedule(sim.Time(p.stallS), t, evCkptStallEnd)
	case evCkptStallEnd:
		t.accrue()
		t.resume()
		t.writing = true
		t.writeEv = t.eng.Schedule(sim.Time(p.writeTailS()), t, evCkptWritten)
		t.fastForward()
	case evCkptWritten:
		t.writing = false
		t.ckptWork = t.snapWork
		t.res.checkpoints++
		t.emit("checkpoint", "", 0)
	case evPhaseEnd:
		t.accrue()
		t.res.phaseWallS[t.ph] = t.now() - t.phaseT0
		if t.ph == len(t.phases)-1 {
			t.eng.Stop()
			return
		}
		t.ph++
		t.phaseT0 = t.now()
		t.work, t.ckptWork = 0, 0
		t.eng.Cancel(t.writeEv)
		t.writing = false
		t.emit("phase", "", 0)
		next := t.phases[t.ph]
		t.scheduleFailure()
		if next.relaunch {
			t.emit("relaunch", "", 0)
			t.res.relaunchS += p.stallS + t.restS
			t.res.downOther += p.stallS + t.restS
			t.goDown(p.stallS + t.restS)
			return
		}
		t.resume()
	case evLemon:
		t.accrue()
		t.lemonAt = math.Inf(1)
		t.slow = t.lemonSlowdown
		t.emit("lemon", "", 0)
		if n := len(t.res.events); t.record && n > 0 && t.res.events[n-1].Kind == "lemon" {
			t.res.events[n-1].Factor = t.slow
		}
		if t.mode == running {
			t.schedulePhaseEnd() // at the slower rate
		}
		t.eng.Schedule(sim.Time(t.lemonDetect), t, evLemonFound)
	case evLemonFound:
		t.accrue()
		t.slow = 1
		t.emit("lemon_replaced", "", 0)
		// the node is drained: checkpoint and restart without it
		t.res.ckptS += p.stallS
		t.res.downOther += p.stallS
		t.ckptWork = t.work
		t.goDown(p.stallS + t.restS)
		t.scheduleFailure()
	}
}

// runTrial simulates one trial to its end.
func runTrial(phases []phasePlan, causes []failure.Cause, restartS float64, lemons Lemons, seed, index uint64, record bool) trialResult {
	r, _ := runTrialContext(context.Background(), phases, causes, restartS, lemons, seed, index, record)
	return r
}

// runTrialContext is runTrial stopping when ctx is done.
func runTrialContext(ctx context.Context, phases []phasePlan, causes []failure.Cause, restartS float64, lemons Lemons, seed, index uint64, record bool) (trialResult, error) {
	t := &trial{phases: phases, causes: causes, restS: restartS, slow: 1, record: record,
		rng: rand.New(rand.NewPCG(seed, index)), lemonSlowdown: lemons.Slowdown, lemonDetect: lemons.DetectS}
	t.res.phaseWallS = make([]float64, len(phases))
	t.res.phaseLostS = make([]float64, len(phases))
	t.res.byCause = make([]float64, len(causes))
	t.scheduleFailure()
	t.resume()
	if err := t.eng.RunContext(ctx); err != nil {
		return trialResult{}, err
	}
	t.res.wallS = t.now()
	return t.res, nil
}
