package step

import (
	"github.com/clustersim/clustersim/sim"
	"github.com/clustersim/clustersim/sim/model"
)

// pipeline is the static part of one replica's step: the order of passes on
// every stage, their noiseless durations, and who feeds whom.
type pipeline struct {
	p, v, m int
	ops     [][]model.Op
	dur     [][]float64 // noiseless seconds of each pass
	// producer of each pass's input (stage, position), -1 if none, and the
	// point-to-point transfer from it
	prodStage, prodPos [][]int32
	delay              [][]float64
	// the pass waiting on this pass's output, -1 if none
	consStage, consPos [][]int32
	firstFwd           [][]int // per stage, per chunk: position of its first forward pass
	lastBwd            [][]int // per stage, per chunk: position of its last backward pass
}

func newPipeline(p, v, m int, dur func(stage int, o model.Op) float64, delay func(from, to int) float64) *pipeline {
	pl := &pipeline{p: p, v: v, m: m}
	pl.ops = make([][]model.Op, p)
	// pos[stage][dir][chunk][mb]
	pos := make([][2][][]int32, p)
	for r := 0; r < p; r++ {
		pl.ops[r] = model.Schedule(r, p, v, m)
		for d := 0; d < 2; d++ {
			pos[r][d] = make([][]int32, v)
			for c := range pos[r][d] {
				pos[r][d][c] = make([]int32, m)
			}
		}
		for i, o := range pl.ops[r] {
			d := 0
			if o.Backward {
				d = 1
			}
			pos[r][d][o.Chunk][o.MicroBatch] = int32(i)
		}
	}
	n := 2 * m * v
	alloc32 := func() [][]int32 {
		x := make([][]int32, p)
		for r := range x {
			x[r] = make([]int32, n)
			for i := range x[r] {
				x[r][i] = -1
			}
		}
		return x
	}
	pl.prodStage, pl.prodPos, pl.consStage, pl.consPos = alloc32(), alloc32(), alloc32(), alloc32()
	pl.dur = make([][]float64, p)
	pl.delay = make([][]float64, p)
	pl.firstFwd = make([][]int, p)
	pl.lastBwd = make([][]int, p)
	for r := 0; r < p; r++ {
		pl.dur[r] = make([]float64, n)
		pl.delay[r] = make([]float64, n)
		pl.firstFwd[r] = make([]int, v)
		pl.lastBwd[r] = make([]int, v)
		for c := range pl.firstFwd[r] {
			pl.firstFwd[r][c] = -1
		}
		for i, o := range pl.ops[r] {
			pl.dur[r][i] = dur(r, o)
			if !o.Backward && pl.firstFwd[r][o.Chunk] < 0 {
				pl.firstFwd[r][o.Chunk] = i
			}
			if o.Backward {
				pl.lastBwd[r][o.Chunk] = i
			}
			ps, pc, dir := -1, o.Chunk, 0
			switch {
			case !o.Backward && r > 0:
				ps = r - 1
			case !o.Backward && o.Chunk > 0:
				ps, pc = p-1, o.Chunk-1
			case o.Backward && r < p-1:
				ps, dir = r+1, 1
			case o.Backward && o.Chunk < v-1:
				ps, pc, dir = 0, o.Chunk+1, 1
			}
			if ps < 0 {
				continue
			}
			j := pos[ps][dir][pc][o.MicroBatch]
			pl.prodStage[r][i], pl.prodPos[r][i] = int32(ps), j
			pl.consStage[ps][j], pl.consPos[ps][j] = int32(r), int32(i)
			pl.delay[r][i] = delay(ps, r)
		}
	}
	return pl
}

// replica simulates one pipeline replica's passes on the event kernel: one
// event per pass, at its end.
type replica struct {
	pl      *pipeline
	eng     sim.Engine
	next    []int
	busy    []bool
	start   [][]float64
	done    [][]float64
	factor  [][]float64 // time factor of each pass (noise, slow nodes, blocking extras)
	extra   [][]float64 // seconds added to a pass (a blocking collective), not scaled
	agReady [][]float64 // per stage, per chunk: when its parameters are gathered
	// zero3: a per-stage data-parallel stream gathering each pass's
	// parameters ahead of it and reducing its gradients after it
	zero3              bool
	z3Gather, z3Reduce [][]float64 // per stage, per chunk: collective seconds (noise applied at draw)
	z3Free             []float64
	z3Ready            [][]float64 // per pass: parameters gathered
}

func newReplica(pl *pipeline) *replica {
	x := &replica{pl: pl}
	p, n := pl.p, 2*pl.m*pl.v
	x.next = make([]int, p)
	x.busy = make([]bool, p)
	mk := func(w int) [][]float64 {
		a := make([][]float64, p)
		for r := range a {
			a[r] = make([]float64, w)
		}
		return a
	}
	x.start, x.done, x.factor, x.extra = mk(n), mk(n), mk(n), mk(n)
	x.agReady = mk(pl.v)
	x.z3Free = make([]float64, p)
	x.z3Ready = mk(n)
	return x
}

// run simulates the step from time 0 and returns when every pass is done.
func (x *replica) run() {
	x.eng.Reset()
	for r := range x.next {
		x.next[r] = 0
		x.busy[r] = false
		x.z3Free[r] = 0
		for i := range x.done[r] {
			x.done[r][i] = -1
		}
	}
	if x.zero3 {
		for r := range x.next {
			x.z3Issue(r, 0, 0)
		}
	}
	for r := range x.next {
		x.try(r)
	}
	x.eng.Run()
}

// z3Issue starts the parameter all-gather for pass i of stage r at time t
// (when the pass before it starts: one pass of prefetch).
func (x *replica) z3Issue(r, i int, t float64) {
	if i >= len(x.pl.ops[r]) {
		return
	}
	s := max(t, x.z3Free[r])
	x.z3Free[r] = s + x.z3Gather[r][x.pl.ops[r][i].Chunk]
	x.z3Ready[r][i] = x.z3Free[r]
}

// try starts stage r's next pass if its input has arrived; otherwise the
// producer's completion will call try again.
func (x *replica) try(r int) {
	i := x.next[r]
	if x.busy[r] || i >= len(x.pl.ops[r]) {
		return
	}
	now := float64(x.eng.Now())
	ready := now
	if ps := x.pl.prodStage[r][i]; ps >= 0 {
		d := x.done[ps][x.pl.prodPos[r][i]]
		if d < 0 {
			return
		}
		ready = max(ready, d+x.pl.delay[r][i])
	}
	o := x.pl.ops[r][i]
	if !o.Backward && x.pl.firstFwd[r][o.Chunk] == i {
		ready = max(ready, x.agReady[r][o.Chunk])
	}
	if x.zero3 {
		ready = max(ready, x.z3Ready[r][i])
		x.z3Issue(r, i+1, ready)
	}
	x.busy[r] = true
	x.start[r][i] = ready
	end := ready + x.pl.dur[r][i]*x.factor[r][i] + x.extra[r][i]
	x.eng.ScheduleAt(sim.Time(end), x, r)
}

// Handle ends stage r's current pass.
func (x *replica) Handle(r int) {
	i := x.next[r]
	now := float64(x.eng.Now())
	x.done[r][i] = now
	x.next[r]++
	x.busy[r] = false
	if x.zero3 && x.pl.ops[r][i].Backward {
		s := max(now, x.z3Free[r])
		x.z3Free[r] = s + x.z3Reduce[r][x.pl.ops[r][i].Chunk]
	}
	x.try(r)
	if cs := x.pl.consStage[r][i]; cs >= 0 && x.next[cs] == int(x.pl.consPos[r][i]) {
		x.try(int(cs))
	}
}
