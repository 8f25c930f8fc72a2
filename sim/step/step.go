package step

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// Breakdown attributes one step's time to its parts, in seconds; the parts
// sum to the step time (see the package doc for how they are read off the
// events).
type Breakdown struct {
	Compute   float64 // kernels on the critical stage
	TPComm    float64 // exposed tensor-parallel collectives
	CPComm    float64 // exposed context-parallel collectives
	EPComm    float64 // exposed expert-parallel all-to-alls (MoE dispatch and combine)
	Offload   float64 // waiting for offloaded activations to reach host memory or come back (Layout.OffloadLayers)
	PPBubble  float64 // waiting for the neighbouring stage (and for slower stages at the end)
	PPComm    float64 // waiting for point-to-point transfers between stages
	DPComm    float64 // exposed data-parallel collectives (gradients, parameter gathers)
	Optimizer float64 // the optimizer step
	Straggler float64 // mean step time with noise minus without
}

// Sum is the total of the parts.
func (b Breakdown) Sum() float64 {
	return b.Compute + b.TPComm + b.CPComm + b.EPComm + b.Offload + b.PPBubble + b.PPComm + b.DPComm + b.Optimizer + b.Straggler
}

// Result is what Simulate returns.
type Result struct {
	StepTime          float64   // mean of the noisy steps, seconds
	NoiselessStepTime float64   // the step without noise, seconds
	Samples           []float64 // each noisy step's time
	Breakdown         Breakdown
	TokensPerStep     float64
	ModelFLOPsPerStep float64 // whole cluster, model-FLOPs convention (package model)
	HardwareFLOPs     float64 // whole cluster, with recomputation
	TFLOPSPerGPU      float64
	MFU, HFU          float64
	TokensPerSecond   float64
	Memory            []model.Memory // peak memory per pipeline stage
	FullestStage      int
	CriticalStage     int // the stage the breakdown is read on
	Timeline          Timeline
}

// NotFitError reports a layout that does not fit in GPU memory.
type NotFitError struct {
	GPU      string
	Stage    int
	Memory   model.Memory
	Capacity float64 // bytes
}

func (e *NotFitError) Error() string {
	const gib = 1 << 30
	m := e.Memory
	return fmt.Sprintf("parallelism: needs %.1f GiB per GPU on stage %d (weights %.1f, gradients %.1f, optimizer %.1f, activations %.1f, reserved %.1f) but %s has %.1f GiB; try a larger pp or tp, zero: 3, recompute: full, or a smaller micro_batch",
		m.Total()/gib, e.Stage, m.Weights/gib, m.Gradients/gib, m.Optimizer/gib, m.Activations/gib, m.Reserved/gib, e.GPU, e.Capacity/gib)
}

// CheckFit returns the memory of every stage and a *NotFitError if the
// fullest one exceeds the GPU's capacity.
func CheckFit(a model.Arch, l model.Layout, t model.Training, gpu cluster.GPU) ([]model.Memory, int, error) {
	mem, err := model.StageMemory(a, l, t)
	if err != nil {
		return nil, 0, err
	}
	fullest := 0
	for r, m := range mem {
		if m.Total() > mem[fullest].Total() {
			fullest = r
		}
	}
	if mem[fullest].Total() > gpu.HBMBytes() {
		return mem, fullest, &NotFitError{GPU: gpu.Name, Stage: fullest, Memory: mem[fullest], Capacity: gpu.HBMBytes()}
	}
	return mem, fullest, nil
}

// partsOf is a pass's time split by kind: compute and the exposed waits.
type partsOf [numKinds]float64

// plan is everything about a spec that does not depend on the random draws.
type plan struct {
	spec     Spec
	pl       *pipeline
	parts    [][2]partsOf // per stage per chunk, forward and backward: the split of one pass
	costs    Costs
	blocking []float64 // per pass (flat): seconds of collectives that block the pass (ZeRO-2 without overlap)
	layerFwd timeline
	layerBwd timeline
	weight   []float64 // per model chunk: the weight-gradient part of its backward pass (zero-bubble schedules)
	// slow and needed are what every noisy sample shares (nil without
	// stragglers): each (replica, stage) group's persistent factor
	// (persistentFactors of the spec's seed) and the completion times
	// the data-parallel tails read (neededDone).
	slow   []float64
	needed []int
}

func newPlan(s Spec) *plan {
	pn := &plan{spec: s}
	pc, fwd, bwd := layerPassCosts(s)
	pn.layerFwd, pn.layerBwd = fwd, bwd
	co, err := NewCostsFrom(s, pc)
	if err != nil {
		panic("step: newPlan of an invalid spec: " + err.Error()) // Simulate validates first
	}
	l := s.Layout
	p, v, m := l.PP, l.VirtualStages, co.MicroBatches
	p2p := co.WorstP2P(s)
	pn.parts = make([][2]partsOf, p*v)
	for j := range pn.parts {
		pn.parts[j] = [2]partsOf{co.Forward[j].parts(), co.Backward[j].parts()}
	}
	if l.PipeSchedule == model.SchedDualPipe {
		dualPipeCosts(&co)
	}
	pn.weight = co.Weight
	// The passes' durations (opParts) read the costs as the pipeline is
	// built.
	pn.costs = co
	pn.pl = newPipeline(p, v, m, l.PipeSchedule, func(r int, o model.Op) float64 {
		return sum(pn.opParts(r, o))
	}, func(from, to int) float64 {
		if from > to {
			from, to = to, from
		}
		if from == 0 && to == p-1 && p > 1 {
			return p2p[p-1] // the interleaved wrap
		}
		return p2p[from]
	})

	// Data parallelism.
	pn.blocking = make([]float64, p*pn.pl.n)
	if co.blocking() {
		for r := 0; r < p; r++ {
			for i, o := range pn.pl.ops[r] {
				if c := o.GradChunk(); c >= 0 {
					pn.blocking[r*pn.pl.n+i] = pn.costs.Grad[r][c]
				}
			}
		}
	}
	if s.Noise.Any() {
		pn.slow = pn.persistentFactors(s.Seed)
		pn.needed = pn.neededDone()
	}
	return pn
}

func sum(p partsOf) float64 {
	t := 0.0
	for _, x := range p {
		t += x
	}
	return t
}

// stageTail is when a stage's passes, data-parallel collectives and
// optimizer end.
type stageTail struct {
	computeEnd, dpEnd, optStart, optEnd, end float64
	// slowdown is how much later the passes end because data-parallel
	// collectives ran beside them (cluster.ComputeModel.CommSlowdown); it
	// is part of computeEnd.
	slowdown float64
}

// tail runs stage r's data-parallel stream and optimizer after its passes,
// given when each pass finished on the slowest replica (maxDone) and a
// factor source for the shared activities (nil: noiseless).
func (pn *plan) tail(r int, maxDone []float64, z3End float64, noise func() float64) stageTail {
	l := pn.spec.Layout
	f := func() float64 {
		if noise == nil {
			return 1
		}
		return noise()
	}
	ops := pn.pl.ops[r]
	st := stageTail{computeEnd: maxDone[len(ops)-1]}
	free, hidden := 0.0, 0.0
	coll := func(ready, d float64) {
		start := max(free, ready)
		free = start + d*f()
		hidden += max(0, min(free, st.computeEnd)-start)
	}
	switch {
	case l.ZeRO == 3:
		free = z3End
	case l.ZeRO == 2 && l.DPOverlap:
		for i, o := range ops {
			if c := o.GradChunk(); c >= 0 {
				coll(maxDone[i], pn.costs.Grad[r][c])
			}
		}
	case l.ZeRO == 2:
		// reduced inside the passes (blocking)
	case l.DPOverlap:
		for _, c := range pn.completionOrder(r) {
			end := maxDone[pn.pl.lastBwd[r][c]]
			for _, b := range pn.costs.Buckets[r][c] {
				coll(end-b.BeforeEnd, b.Reduce)
			}
		}
	default:
		total := 0.0
		for _, d := range pn.costs.Grad[r] {
			total += d
		}
		coll(st.computeEnd, total)
	}
	if hidden > 0 {
		// The passes that ran beside the collectives were slowed, and the
		// collectives waiting for their gradients start later by as much.
		st.slowdown = hidden * pn.spec.Cluster.GPU.Compute.CommSlowdown
		st.computeEnd += st.slowdown
		free += st.slowdown
	}
	st.dpEnd = max(free, st.computeEnd)
	st.optStart = st.dpEnd
	st.optEnd = st.optStart + pn.costs.Optimizer[r]*f()
	st.end = st.optEnd
	if l.ZeRO >= 1 && l.ZeRO <= 2 && !l.DPOverlap {
		g := 0.0
		for _, d := range pn.costs.Gather[r] {
			g += d
		}
		st.end += g * f()
	}
	return st
}

// completionOrder lists stage r's chunks in the order their gradients
// complete (their last backward passes).
func (pn *plan) completionOrder(r int) []int {
	order := make([]int, len(pn.pl.lastBwd[r]))
	for c := range order {
		order[c] = c
	}
	slices.SortFunc(order, func(a, b int) int { return pn.pl.lastBwd[r][a] - pn.pl.lastBwd[r][b] })
	return order
}

// gatherReady fills agReady for one replica: with dp_comm_overlap, ZeRO-1/2
// gather the updated parameters at the start of the step, bucket by bucket
// in the order the forward passes need them, and each chunk's first
// forward pass starts when its buckets will all have arrived in time
// (Costs.GatherWait).
func (pn *plan) gatherReady(agReady [][]float64, noise func() float64) {
	for r := range agReady {
		copy(agReady[r], pn.costs.GatherWait(r, noise))
	}
}

func (pn *plan) setupReplica(x *replica) {
	l := pn.spec.Layout
	x.zero3 = l.ZeRO == 3
	if x.zero3 {
		x.z3Buckets, x.z3LayerBwd = pn.costs.Buckets, pn.layerBwd.end
	}
	copy(x.extra, pn.blocking)
}

// Simulate simulates one optimizer step of s.
func Simulate(ctx context.Context, s Spec) (Result, error) {
	if err := s.Validate(); err != nil {
		return Result{}, err
	}
	mem, fullest, err := CheckFit(s.Arch, s.Layout, s.Training, s.Cluster.GPU)
	if err != nil {
		return Result{}, err
	}
	pn := newPlan(s)
	res := Result{Memory: mem, FullestStage: fullest}

	// The noiseless step: one replica stands for all.
	x := newReplica(pn.pl)
	pn.setupReplica(x)
	for k := range x.factor {
		x.factor[k] = 1
	}
	pn.gatherReady(x.agReady, nil)
	x.run()
	tails := make([]stageTail, pn.pl.p)
	n := pn.pl.n
	for r := range tails {
		tails[r] = pn.tail(r, x.done[r*n:(r+1)*n], x.z3Free[r], nil)
	}
	res.NoiselessStepTime, res.CriticalStage = 0, 0
	for r, st := range tails {
		if st.end > res.NoiselessStepTime {
			res.NoiselessStepTime, res.CriticalStage = st.end, r
		}
	}
	res.Breakdown = pn.attribute(x, tails, res.CriticalStage, res.NoiselessStepTime)
	if s.Trace {
		res.Timeline = pn.timeline(x, tails)
	}
	x.release()

	// The noisy steps.
	samples := max(s.Samples, 1)
	if s.Noise.Any() {
		for k := 0; k < samples; k++ {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
			res.Samples = append(res.Samples, pn.noisyStep(k))
		}
	} else {
		res.Samples = []float64{res.NoiselessStepTime}
	}
	for _, t := range res.Samples {
		res.StepTime += t
	}
	res.StepTime /= float64(len(res.Samples))
	// Noise has mean 1 per GPU and synchronisation takes maxima, so on
	// average it cannot make a step faster; a few samples of a small job
	// can land below the noiseless step by chance, and are rounded up so
	// that the straggler part is never negative.
	res.StepTime = max(res.StepTime, res.NoiselessStepTime)
	res.Breakdown.Straggler = res.StepTime - res.NoiselessStepTime
	pn.pl.release()

	a, t := s.Arch, s.Training
	gpus := float64(s.Cluster.GPUs)
	res.TokensPerStep = t.BatchTokens()
	res.ModelFLOPsPerStep = a.ModelFLOPsPerToken(t.SeqLen) * res.TokensPerStep
	res.HardwareFLOPs = HardwareFLOPsPerToken(a, s.Layout, t) * res.TokensPerStep
	res.TFLOPSPerGPU = res.ModelFLOPsPerStep / res.StepTime / gpus / 1e12
	peak := s.Cluster.GPU.PeakFLOPS(t.Precision)
	if peak == 0 {
		peak = s.Cluster.GPU.PeakFLOPS(cluster.BF16)
	}
	res.MFU = res.TFLOPSPerGPU * 1e12 / peak
	res.HFU = res.HardwareFLOPs / res.StepTime / gpus / peak
	res.TokensPerSecond = res.TokensPerStep / res.StepTime
	return res, nil
}

// NoisyLowerBound is a lower bound of Simulate(ctx, s).StepTime from the
// noisy steps of only the replicas (count of them, at least one) whose
// persistent slowdowns (slow GPUs and nodes) are the largest: a noisy step
// lasts as long as its slowest replica, so the same draws over fewer
// replicas give a step no longer, sample by sample. A layout search rules
// a layout out with it before simulating every replica. Without
// stragglers it is the noiseless step.
func NoisyLowerBound(ctx context.Context, s Spec, count int) (float64, error) {
	if !s.Noise.Any() {
		// Simulate validates the spec and checks its fit.
		r, err := Simulate(ctx, s)
		return r.NoiselessStepTime, err
	}
	if err := s.Validate(); err != nil {
		return 0, err
	}
	if _, _, err := CheckFit(s.Arch, s.Layout, s.Training, s.Cluster.GPU); err != nil {
		return 0, err
	}
	pn := newPlan(s)
	defer pn.pl.release() // on every path: a cancelled search returns early
	l := s.Layout
	slow := pn.slow
	worst := make([]float64, l.DP) // each replica's slowest stage
	order := make([]int, l.DP)
	for d := range order {
		order[d] = d
		for r := range l.PP {
			worst[d] = max(worst[d], slow[d*l.PP+r])
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(worst[b], worst[a]) })
	order = order[:min(max(count, 1), l.DP)]
	samples := max(s.Samples, 1)
	mean := 0.0
	for k := range samples {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		mean += pn.noisyStepOf(k, order)
	}
	return mean / float64(samples), nil
}

// HardwareFLOPsPerToken is the model FLOPs plus recomputation: full
// recompute re-runs every layer's forward pass (2·N_layers plus the
// attention core), selective recompute the attention core where it is
// unfused (fused attention has nothing to recompute). Unfused attention
// computes the whole s×s score matrix, so its attention FLOPs are counted
// without the causal halving.
func HardwareFLOPsPerToken(a model.Arch, l model.Layout, t model.Training) float64 {
	f := a.ModelFLOPsPerToken(t.SeqLen)
	core := a.AttentionCoreFwdFLOPsPerToken(t.SeqLen) * float64(a.Layers) // causal forward
	if t.Attention == model.Unfused {
		f += 3 * core
		core *= 2
	}
	switch l.Recompute {
	case model.RecomputeFull:
		f += 2*a.ActiveLayerMatmulParams() + core
	case model.RecomputeSelective:
		if t.Attention == model.Unfused {
			f += core
		}
	}
	return f
}

// noisyStep simulates every replica with fresh draws for sample k and
// returns the step time.
func (pn *plan) noisyStep(k int) float64 { return pn.noisyStepOf(k, nil) }

// noisyStepOf is noisyStep over only the replicas listed (all when nil):
// with the same draws, so below noisyStep(k) when some are left out.
func (pn *plan) noisyStepOf(k int, replicas []int) float64 {
	s := pn.spec
	l := s.Layout
	seed := splitmix64(s.Seed ^ splitmix64(uint64(k)+1))
	groupNoise := newMaxLognormal(s.Noise.CV, l.TP*l.CP)
	sharedNoise := newMaxLognormal(s.Noise.CV, l.TP*l.CP*l.DP)
	slow, needed := pn.slow, pn.needed

	// Shared activities: the parameter gathers at the start are one
	// collective per stage and chunk for all replicas.
	shared := rand.New(rand.NewPCG(seed, 0))
	sharedDraw := func() float64 { return sharedNoise.draw(shared) }
	if s.Noise.CV == 0 {
		sharedDraw = nil
	}
	agReady := make([][]float64, pn.pl.p)
	for r := range agReady {
		agReady[r] = make([]float64, pn.pl.v)
	}
	pn.gatherReady(agReady, sharedDraw)

	count := l.DP
	if replicas != nil {
		count = len(replicas)
	}
	workers := min(runtime.GOMAXPROCS(0), count)
	maxDone := make([][]float64, workers)
	z3 := make([][]float64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			x := newReplica(pn.pl)
			pn.setupReplica(x)
			for r := range x.agReady {
				copy(x.agReady[r], agReady[r])
			}
			n := pn.pl.n
			md := make([]float64, pn.pl.p*n)
			zf := make([]float64, pn.pl.p)
			for j := w; j < count; j += workers {
				d := j
				if replicas != nil {
					d = replicas[j]
				}
				rng := rand.New(rand.NewPCG(seed, uint64(d)+1))
				for r := 0; r < pn.pl.p; r++ {
					sf := slow[d*pn.pl.p+r]
					f := x.factor[r*n : (r+1)*n]
					for i := range f {
						f[i] = sf
						if s.Noise.CV > 0 {
							f[i] *= groupNoise.draw(rng)
						}
					}
				}
				x.run()
				for _, k := range needed {
					if t := x.done[k]; t > md[k] {
						md[k] = t
					}
				}
				for r := range zf {
					zf[r] = max(zf[r], x.z3Free[r])
				}
			}
			maxDone[w], z3[w] = md, zf
			x.release()
		}(w)
	}
	wg.Wait()
	md := maxDone[0]
	for w := 1; w < workers; w++ {
		for k, t := range maxDone[w] {
			md[k] = max(md[k], t)
		}
	}
	end := 0.0
	n := pn.pl.n
	for r := 0; r < pn.pl.p; r++ {
		z := z3[0][r]
		for w := 1; w < workers; w++ {
			z = max(z, z3[w][r])
		}
		end = max(end, pn.tail(r, md[r*n:(r+1)*n], z, sharedDraw).end)
	}
	return end
}

// neededDone lists the completion times (flat pass indices) the
// data-parallel tails read: each stage's last pass and, per chunk, its last
// backward pass (every backward pass under ZeRO-2/3). A noisy step keeps
// only these of every replica.
func (pn *plan) neededDone() []int {
	var needed []int
	for r := 0; r < pn.pl.p; r++ {
		for i, o := range pn.pl.ops[r] {
			c := o.GradChunk()
			last := i == len(pn.pl.ops[r])-1 || (c >= 0 && (pn.spec.Layout.ZeRO >= 2 || pn.pl.lastBwd[r][c] == i))
			if last {
				needed = append(needed, r*pn.pl.n+i)
			}
		}
	}
	return needed
}

// persistentFactors returns each (replica, stage) group's persistent time
// factor: the slowest of its GPUs' own speeds (GPUCV), times SlowNodeFactor
// if it sits on a slow node. They depend on the seed only, not on the
// sample: a slow GPU stays slow for the run.
func (pn *plan) persistentFactors(seed uint64) []float64 {
	s := pn.spec
	l := s.Layout
	out := make([]float64, l.DP*l.PP)
	width := l.TP * l.CP
	speed := newMaxLognormal(s.Noise.GPUCV, width)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b9))
	for i := range out {
		out[i] = 1
		if s.Noise.GPUCV > 0 {
			out[i] = speed.draw(rng)
		}
	}
	if s.Noise.SlowNodeFraction <= 0 {
		return out
	}
	g := s.Cluster.GPUsPerNode
	slowNode := make([]bool, s.Cluster.Nodes())
	for n := range slowNode {
		u := float64(splitmix64(seed^0x51ed^uint64(n)<<20)>>11) / (1 << 53)
		slowNode[n] = u < s.Noise.SlowNodeFraction
	}
	for d := 0; d < l.DP; d++ {
		for r := 0; r < l.PP; r++ {
			first := (d*l.PP + r) * width
			for n := first / g; n <= (first+width-1)/g; n++ {
				if slowNode[n] {
					out[d*l.PP+r] *= s.Noise.SlowNodeFactor
					break
				}
			}
		}
	}
	return out
}
