package run

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/step"
)

// Budget bounds the work and memory one simulation may ask for. Both are
// estimated from the spec before the work they bound starts (the step
// simulation's passes before the step, the run's events once the step
// time is known, before any trial); an input beyond them is refused with a
// *LimitError naming the keys responsible. Zero fields mean the defaults.
type Budget struct {
	// MaxEvents bounds the events of one simulation: every pass of every
	// (stage, replica) of every straggler sample of the step, plus every
	// failure, restart, checkpoint and phase change of every trial.
	MaxEvents float64
	// MaxMemoryBytes bounds the memory the simulation holds at once.
	MaxMemoryBytes float64
}

// Default limits. DefaultMaxEvents is about four seconds on two cores
// (measured: 1,000 trials of llama3-405b-128k, 1.35e8 estimated events,
// take 4.9 s; 1,000 of llama3-405b, 7.3e7, fit); DefaultMaxMemoryBytes is
// 1 GiB.
const (
	DefaultMaxEvents      = 1e8
	DefaultMaxMemoryBytes = 1 << 30
	// MaxRunDays bounds a run's failure-free training time: nobody plans a
	// run of more than 100,000 days (274 years), and the bound keeps
	// GPU-hours, energy and cost finite.
	MaxRunDays = 1e5
)

func (b Budget) events() float64 {
	if b.MaxEvents > 0 {
		return b.MaxEvents
	}
	return DefaultMaxEvents
}

func (b Budget) memory() float64 {
	if b.MaxMemoryBytes > 0 {
		return b.MaxMemoryBytes
	}
	return DefaultMaxMemoryBytes
}

// LimitError refuses an input whose estimated work or memory exceeds the
// budget; it is bad input (exit status 2), not a failure.
type LimitError struct {
	What     string   // "events" or "memory (bytes)"
	Estimate float64  // what the input asks for
	Limit    float64  // the budget
	Keys     []string // the keys responsible, each with where it was given (Spec.Where)
	Detail   string   // how the estimate is made up
	Flag     string   // the command-line flag that raises the limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s: needs about %.3g %s (%s), over the limit of %.3g; lower them, or raise the limit with %s",
		strings.Join(e.Keys, ", "), e.Estimate, e.What, e.Detail, e.Limit, e.Flag)
}

// InputError refuses an input that is valid key by key but whose
// combination has no finite answer: a job that never makes progress, a step
// or run that overflows. It names the keys responsible (exit status 2).
type InputError struct {
	Keys []string // each with where it was given (Spec.Where)
	Msg  string
}

func (e *InputError) Error() string { return strings.Join(e.Keys, ", ") + ": " + e.Msg }

// Flags that raise the limits, named in refusals; the command line defines
// them.
const (
	FlagMaxEvents = "--max-events"
	FlagMaxMemory = "--max-memory"
)

// perOpBytes is the memory the step simulation holds per pass of one
// replica: the schedule's op, its completion time, noise factor and
// blocking time, on each worker's replica and the noiseless one (measured:
// about 90 bytes per pass per replica; 16 replicas allow for GOMAXPROCS up
// to 15).
const perOpBytes = 96 * 16

// stepWork estimates the step simulation of st: its passes (events) and the
// memory it holds.
func stepWork(st step.Spec) (events, bytes float64) {
	l := st.Layout
	pp, v := float64(max(l.PP, 1)), float64(max(l.VirtualStages, 1))
	dp, mb := float64(max(l.DP, 1)), float64(max(l.MicroBatch, 1))
	m := math.Ceil(float64(st.Training.GlobalBatch) / (dp * mb))
	passes := pp * v * 2 * m // one replica
	samples := 0.0
	n := st.Noise
	if n.Any() {
		samples = float64(max(st.Samples, 1))
	}
	events = passes * (1 + samples*dp)
	bytes = passes*perOpBytes + 8*samples
	if samples > 0 {
		bytes += 8 * dp * pp // each (replica, stage)'s persistent speed
		if n.SlowNodeFraction > 0 {
			bytes += float64(st.Cluster.Nodes())
		}
	}
	return events, bytes
}

// stepKeys are the keys that make a step simulation large.
func (s Spec) stepKeys(events bool) []string {
	keys := []string{"cluster.gpus", "training.global_batch", "parallelism.micro_batch", "parallelism.pp", "parallelism.virtual_stages"}
	if events {
		keys = append(keys, "stragglers.samples")
	}
	return s.wheres(keys)
}

func (s Spec) wheres(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = s.Where(k)
	}
	return out
}

// CheckStepBudget refuses, before simulating, a main step (s.Step) whose
// passes or memory exceed b, as Simulate would: for callers that simulate
// the step alone (validation's step-time cases).
func (s Spec) CheckStepBudget(b Budget) error { return s.checkStepBudget([]step.Spec{s.Step}, b) }

// checkStepBudget refuses, before simulating, steps whose passes or memory
// exceed the budget.
func (s Spec) checkStepBudget(specs []step.Spec, b Budget) error {
	var events, bytes float64
	for _, st := range specs {
		e, m := stepWork(st)
		events += e
		bytes = max(bytes, m)
	}
	if events > b.events() {
		return &LimitError{What: "events", Estimate: events, Limit: b.events(), Keys: s.stepKeys(true), Flag: FlagMaxEvents,
			Detail: "passes of the step: pipeline stages × virtual stages × 2 × micro batches, for the noiseless step and for every replica of every straggler sample"}
	}
	if bytes > b.memory() {
		return &LimitError{What: "bytes of memory", Estimate: bytes, Limit: b.memory(), Keys: s.stepKeys(false), Flag: FlagMaxMemory,
			Detail: "the step's schedule: pipeline stages × virtual stages × 2 × micro batches per replica"}
	}
	return nil
}

// trialBytes is the memory one trial's result holds after it finishes.
func trialBytes(phases, causes int) float64 { return 320 + 24*float64(phases) + 8*float64(causes) + 48 }

// trialOverhead is what a trial costs beyond its events, counted in events
// (its engine, its random stream, its result).
const trialOverhead = 20

// checkRunBudget refuses, before any trial, a run whose events or memory
// exceed the budget, and one that never makes progress (an expected
// time to train that is infinite). The estimate per trial uses the
// closed-form ETTR: each phase's wall clock is its work over the ETTR; it
// has 2 events per interruption and lemon, 3 per checkpoint. A trial runs
// the checkpoints between two interruptions in one step (fastForward)
// when each write completes within the next running part, leaving about
// two cycles per gap one by one; the one trial that records its timeline
// runs every checkpoint.
func (s Spec) checkRunBudget(ph []phaseStep, plans []phasePlan, b Budget) error {
	perTrial, recorded := 0.0, 0.0
	var failures, ckpts float64
	for i, p := range plans {
		ettr := s.ClosedFormETTR(ph[i].spec.Cluster)
		if !(ettr > 0) {
			return s.neverProgresses(i, p)
		}
		wall := p.workS / ettr
		f := p.total * wall
		c := 0.0
		if p.intervalS > 0 && !math.IsInf(p.intervalS, 1) {
			c = wall / p.intervalS
		}
		failures += f
		ckpts += c
		recorded += 3 * c
		if p.fastForwards() {
			c = math.Min(c, 3*(f+p.lemonRate*wall+1))
		}
		perTrial += 2*f + 3*c + 3*p.lemonRate*wall + 2
	}
	trials := float64(max(s.Trials, 1))
	events := trials*(perTrial+trialOverhead) + recorded
	if !(events <= b.events()) {
		keys := []string{"trials"}
		if failures > 1 || ckpts > 1 {
			keys = append(keys, "training.tokens")
		}
		if failures > 1 {
			keys = append(keys, "failures.profile", "failures.restart")
		}
		if ckpts > 1 {
			keys = append(keys, "failures.checkpoint_interval")
		}
		return &LimitError{What: "events", Estimate: events, Limit: b.events(), Keys: s.wheres(keys), Flag: FlagMaxEvents,
			Detail: fmt.Sprintf("%.3g trials × (%.3g interruptions + %.3g checkpoints, a few events each)", trials, failures, ckpts)}
	}
	causes := len(s.Failures.Profile.Causes)
	bytes := trials * (trialBytes(len(plans), causes) + 4*8) // + the summaries' per-trial values
	if bytes > b.memory() {
		return &LimitError{What: "bytes of memory", Estimate: bytes, Limit: b.memory(), Keys: s.wheres([]string{"trials"}), Flag: FlagMaxMemory,
			Detail: fmt.Sprintf("%.3g trials × %.0f bytes per trial's result", trials, trialBytes(len(plans), causes)+32)}
	}
	return nil
}

// neverProgresses explains why phase i's job never finishes, naming the
// real cause: checkpoints that take longer than the time between
// interruptions, restarts that do, or failures without checkpoints.
func (s Spec) neverProgresses(i int, p phasePlan) error {
	where := ""
	if len(s.Phases) > 1 {
		where = fmt.Sprintf(" (phase %d)", i)
	}
	if p.total <= 0 {
		return &InputError{Keys: s.wheres([]string{"failures"}), Msg: "the job never makes progress" + where}
	}
	mtbf := 1 / p.total
	rateKeys := []string{"failures.profile", "cluster.gpus"}
	switch {
	case math.IsInf(p.intervalS, 1) || !(p.intervalS > 0):
		return &InputError{Keys: s.wheres(append([]string{"failures.checkpoint_interval"}, rateKeys...)),
			Msg: fmt.Sprintf("interrupted every %s on average%s but never checkpointed: the job restarts from the beginning forever", fmtSeconds(mtbf), where)}
	case p.stallS >= s.Failures.RestartS:
		ck := s.CheckpointOn(s.phaseCluster(i))
		keys := []string{"failures.storage_tbps"}
		if s.Failures.StorageBandwidth > 0 && ck.Bytes/s.Failures.StorageBandwidth < ck.WriteS*0.99 {
			keys = []string{"cluster.network.scale_out_gbps"}
		}
		if !s.Failures.AsyncCheckpoint {
			keys = append(keys, "failures.async_checkpoint")
		}
		keys = append(keys, rateKeys...)
		return &InputError{Keys: s.wheres(keys),
			Msg: fmt.Sprintf("a checkpoint stalls training for %s (%.3g GB written at %.3g GB/s) but interruptions come every %s on average%s: the job never makes progress; give the checkpoint storage more bandwidth, use async_checkpoint, or lower the failure rates",
				fmtSeconds(p.stallS), ck.Bytes/1e9, ck.Bytes/ck.WriteS/1e9, fmtSeconds(mtbf), where)}
	default:
		return &InputError{Keys: s.wheres(append([]string{"failures.restart"}, rateKeys...)),
			Msg: fmt.Sprintf("a restart takes %s but interruptions come every %s on average%s: the job never makes progress; lower the restart time or the failure rates",
				fmtSeconds(s.Failures.RestartS), fmtSeconds(mtbf), where)}
	}
}

// phaseCluster is phase i's cluster (the main one when it keeps it).
func (s Spec) phaseCluster(i int) cluster.Cluster {
	specs, _, err := s.PhaseSpecs()
	if err != nil || i >= len(specs) {
		return s.Step.Cluster
	}
	return specs[i].Cluster
}

// checkStep refuses a step whose time is not a positive finite number or
// whose run would take more than MaxRunDays of failure-free training,
// naming the keys behind the part of the step that dominates.
func (s Spec) checkStep(p phaseStep, phase int, phases int) error {
	t := p.res.StepTime
	days := p.workS / 86400
	if t > 0 && !math.IsInf(t, 0) && days <= MaxRunDays {
		return nil
	}
	where := ""
	if phases > 1 {
		where = fmt.Sprintf(" (phase %q)", p.phase.Name)
	}
	b := p.res.Breakdown
	parts := []struct {
		v    float64
		name string
		keys []string
	}{
		{b.Compute, "compute", []string{"cluster.gpu", "model", "training.seq_len", "parallelism.micro_batch"}},
		{b.TPComm, "tensor-parallel communication", []string{"parallelism.tp", "cluster.gpus_per_node", "cluster.network.scale_out_gbps", "cluster.network.latency_us"}},
		{b.CPComm, "context-parallel communication", []string{"parallelism.cp", "cluster.network.scale_out_gbps", "cluster.network.latency_us"}},
		{b.EPComm, "expert-parallel communication", []string{"parallelism.ep", "training.moe_dispatcher", "cluster.gpus_per_node", "cluster.network.scale_out_gbps"}},
		{b.Offload, "activation offload", []string{"parallelism.offload_layers"}},
		{b.PPBubble, "the pipeline bubble", []string{"parallelism.pp", "training.global_batch", "parallelism.micro_batch"}},
		{b.PPComm, "pipeline communication", []string{"cluster.network.scale_out_gbps", "cluster.network.latency_us", "cluster.network.oversubscription"}},
		{b.DPComm, "data-parallel communication", []string{"cluster.network.scale_out_gbps", "cluster.network.latency_us", "cluster.network.oversubscription"}},
		{b.Optimizer, "the optimizer", []string{"cluster.gpu", "parallelism.zero"}},
		{b.Straggler, "stragglers", []string{"stragglers.cv", "stragglers.gpu_cv", "stragglers.slow_node_factor"}},
	}
	top := 0
	for i, q := range parts {
		if q.v > parts[top].v || math.IsNaN(parts[top].v) {
			top = i
		}
	}
	if !(t > 0) || math.IsInf(t, 0) {
		return &InputError{Keys: s.wheres(parts[top].keys),
			Msg: fmt.Sprintf("the step time%s is %v, mostly %s: no finite answer", where, t, parts[top].name)}
	}
	keys := []string{"training.tokens"}
	if t > 3600 {
		keys = parts[top].keys
	}
	return &InputError{Keys: s.wheres(keys),
		Msg: fmt.Sprintf("the run%s needs %.3g days of training without failures (%.3g steps of %s, %.0f%% of it %s), more than the %g days anything is planned for",
			where, days, p.steps, fmtSeconds(t), 100*parts[top].v/t, parts[top].name, float64(MaxRunDays))}
}

// checkFinite is the last guard: it refuses a result with a NaN or an
// infinity anywhere an output could print or encode it, naming the field.
// Checkpoint intervals and MTBFs may be infinite (no failures): they are
// written as null and never printed as numbers.
func checkFinite(s Spec, r Result) error {
	if err := CheckFinite(r); err != nil {
		return &InputError{Keys: s.wheres([]string{"training.tokens", "cluster.gpus"}), Msg: err.Error() + ": no finite answer"}
	}
	return nil
}

// CheckFinite reports the fields of r that are NaN or infinite (checkpoint
// intervals and MTBFs may be infinite: they are written as null).
func CheckFinite(r Result) error {
	var bad []string
	walkFloats(reflect.ValueOf(r), "", func(path string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if strings.HasSuffix(path, ".IntervalS") || strings.HasSuffix(path, ".MTBFS") {
				return
			}
			bad = append(bad, fmt.Sprintf("%s = %v", path, v))
		}
	})
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	if len(bad) > 5 {
		bad = append(bad[:5], "…")
	}
	return fmt.Errorf("the result is not finite (%s)", strings.Join(bad, ", "))
}

// walkFloats calls f with every float64 reachable from v.
func walkFloats(v reflect.Value, path string, f func(string, float64)) {
	switch v.Kind() {
	case reflect.Float64:
		f(path, v.Float())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkFloats(v.Elem(), path, f)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if t.Field(i).IsExported() {
				walkFloats(v.Field(i), path+"."+t.Field(i).Name, f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkFloats(v.Index(i), path+"[]", f)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			walkFloats(it.Value(), path+"["+fmt.Sprint(it.Key().Interface())+"]", f)
		}
	}
}
