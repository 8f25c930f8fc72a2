package step

import (
	"sync"

	"github.com/clustersim/clustersim/sim"
	"github.com/clustersim/clustersim/sim/model"
)

// pipeline is the static part of one replica's step: the order of passes on
// every stage and who feeds whom (its shape), and the passes' noiseless
// durations and transfers.
type pipeline struct {
	*shape
	dur   []float64    // noiseless seconds of each pass
	delay [][2]float64 // point-to-point transfer from each producer
}

// shape is the order of passes on every stage and who feeds whom, which
// depend only on the stages, chunks, micro batches and schedule: steps of
// the same shape share it (shapeFor). Passes are numbered flat: pass i of
// stage r is r·n + i, with n the most passes any stage runs (2·m·v for
// 1F1B; stages of DualPipe run different numbers, and the slots past a
// stage's last pass are unused). It is never modified once built.
type shape struct {
	p, v, m, n int
	ops        [][]model.Op
	prod       [][2]int32 // the passes whose outputs this pass needs, -1 if none (two for DualPipe's overlapped pairs)
	cons       [][2]int32 // the passes that need this pass's output, each times 2 plus the slot of prod it fills; -1 if none
	gather     []int16    // the chunk whose parameter gather this pass waits for (its first forward), -1 if none
	inputs     []int8     // how many producers each pass has
	// class[k] is pass k's kind (forward, backward, ... of which chunks)
	// among classes[r] of its stage r: the passes of one class differ only
	// in their micro batches, and last as long.
	class    []int16
	classes  [][]model.Op
	firstFwd [][]int // per stage, per chunk: position of its first forward pass
	lastBwd  [][]int // per stage, per chunk: position of the pass that completes its gradients
}

// position maps chunk c of stage r to its place in the model's order of
// chunks (K of them), and back: chunk j = c·pp + r of the interleaved
// schedules; for DualPipe, chunk 0 of rank r is stage r and chunk 1 stage
// pp−1−r of the micro batches fed from the other end.
type position struct {
	p, K int
	dual bool
}

func (q position) of(r, c int) int {
	switch {
	case q.dual && c == 1:
		return q.p - 1 - r
	case q.dual:
		return r
	}
	return c*q.p + r
}

func (q position) at(j, c int) (stage, chunk int) {
	switch {
	case q.dual && c == 1:
		return q.p - 1 - j, 1
	case q.dual:
		return j, 0
	}
	return j % q.p, j / q.p
}

// newPipeline is the pipeline of shape (p, v, m, kind) with each pass of
// stage r lasting dur(r, pass), which must not depend on the pass's micro
// batches (it is asked once per class of passes), and each transfer from
// stage from to stage to taking delay(from, to).
func newPipeline(p, v, m int, kind model.PipeSchedule, dur func(stage int, o model.Op) float64, delay func(from, to int) float64) *pipeline {
	sh := shapeFor(p, v, m, kind)
	n := sh.n
	pl, _ := pipelines.Get().(*pipeline)
	if pl == nil {
		pl = &pipeline{}
	}
	pl.shape = sh
	pl.dur, pl.delay = resize(pl.dur, p*n), resize(pl.delay, p*n)
	clear(pl.dur)
	clear(pl.delay)
	var durs []float64
	for r, ops := range sh.ops {
		durs = durs[:0]
		for _, o := range sh.classes[r] {
			durs = append(durs, dur(r, o))
		}
		for i := range ops {
			k := r*n + i
			pl.dur[k] = durs[sh.class[k]]
			for slot, src := range sh.prod[k] {
				if src >= 0 {
					pl.delay[k][slot] = delay(int(src)/n, r)
				}
			}
		}
	}
	return pl
}

// pipelines keeps released pipelines' buffers for the next step.
var pipelines sync.Pool

// release hands pl's buffers back for the next pipeline; pl is not used
// again.
func (pl *pipeline) release() {
	pl.shape = nil
	pipelines.Put(pl)
}

// shapeKey is what a shape depends on.
type shapeKey struct {
	p, v, m int
	kind    model.PipeSchedule
}

// shapes keeps the shapes built, up to maxShapePasses passes in all (a
// shape takes about 70 bytes a pass) and a quarter of that each: a
// layout search simulates many layouts of a few dozen shapes.
var shapes struct {
	sync.Mutex
	m      map[shapeKey]*shape
	passes int
}

const maxShapePasses = 1 << 20

// shapeFor returns the shape of p stages, v chunks each and m micro
// batches under schedule kind, from shapes when it was built before.
func shapeFor(p, v, m int, kind model.PipeSchedule) *shape {
	key := shapeKey{p, v, m, kind}
	shapes.Lock()
	sh := shapes.m[key]
	shapes.Unlock()
	if sh != nil {
		return sh
	}
	sh = newShape(p, v, m, kind)
	if n := p * sh.n; n <= maxShapePasses/4 {
		shapes.Lock()
		if shapes.m == nil || shapes.passes+n > maxShapePasses {
			shapes.m, shapes.passes = map[shapeKey]*shape{}, 0
		}
		if _, ok := shapes.m[key]; !ok {
			shapes.m[key] = sh
			shapes.passes += n
		}
		shapes.Unlock()
	}
	return sh
}

// classKey numbers op's class: its chunk, its pair's chunk and its kind,
// below 2·chunks·16.
func classKey(o model.Op) int {
	k := (o.Chunk*2 + o.PairChunk) * 16
	for i, b := range [...]bool{o.Backward, o.Split, o.Weight, o.Paired} {
		if b {
			k |= 1 << i
		}
	}
	return k
}

func newShape(p, v, m int, kind model.PipeSchedule) *shape {
	pl := &shape{p: p, v: v, m: m}
	pl.ops = make([][]model.Op, p)
	for r := range pl.ops {
		pl.ops[r] = model.ScheduleFor(kind, r, p, v, m)
		pl.n = max(pl.n, len(pl.ops[r]))
	}
	n := pl.n
	q := position{p: p, K: p * v, dual: kind == model.SchedDualPipe}
	chunks := v
	if q.dual {
		q.K, chunks = p, 2
		pl.v = 2 // the two directions' chunks, for the per-chunk state
	}
	// pos[stage][dir][chunk][mb]: flat index of that pass
	pos := make([][2][][]int32, p)
	for r := 0; r < p; r++ {
		for d := 0; d < 2; d++ {
			pos[r][d] = make([][]int32, chunks)
			for c := range pos[r][d] {
				pos[r][d][c] = make([]int32, m)
			}
		}
		for i, o := range pl.ops[r] {
			k := int32(r*n + i)
			switch {
			case o.Weight:
			case o.Paired:
				pos[r][0][o.Chunk][o.MicroBatch] = k
				pos[r][1][o.PairChunk][o.PairMicroBatch] = k
			case o.Backward:
				pos[r][1][o.Chunk][o.MicroBatch] = k
			default:
				pos[r][0][o.Chunk][o.MicroBatch] = k
			}
		}
	}
	pl.prod = make([][2]int32, p*n)
	pl.cons = make([][2]int32, p*n)
	pl.gather = make([]int16, p*n)
	pl.inputs = make([]int8, p*n)
	pl.class = make([]int16, p*n)
	pl.classes = make([][]model.Op, p)
	index := make([]int16, 2*chunks*16) // by classKey: 1 + the class, 0 for none yet
	for r, ops := range pl.ops {
		clear(index)
		for i, o := range ops {
			key := classKey(o)
			if index[key] == 0 {
				o.MicroBatch, o.PairMicroBatch = 0, 0
				pl.classes[r] = append(pl.classes[r], o)
				index[key] = int16(len(pl.classes[r]))
			}
			pl.class[r*n+i] = index[key] - 1
		}
	}
	for k := range pl.prod {
		pl.prod[k], pl.cons[k], pl.gather[k] = [2]int32{-1, -1}, [2]int32{-1, -1}, -1
	}
	pl.firstFwd = make([][]int, p)
	pl.lastBwd = make([][]int, p)
	link := func(k int, r int, slot int, backward bool, c, mb int) {
		j := q.of(r, c)
		var ps, pc, dir int
		switch {
		case !backward && j > 0:
			ps, pc = q.at(j-1, c)
		case backward && j < q.K-1:
			ps, pc = q.at(j+1, c)
			dir = 1
		default:
			return
		}
		src := pos[ps][dir][pc][mb]
		pl.prod[k][slot] = src
		pl.inputs[k]++
		if pl.cons[src][0] < 0 {
			pl.cons[src][0] = int32(2*k + slot)
		} else {
			pl.cons[src][1] = int32(2*k + slot)
		}
	}
	for r := 0; r < p; r++ {
		pl.firstFwd[r] = make([]int, chunks)
		pl.lastBwd[r] = make([]int, chunks)
		for c := range pl.firstFwd[r] {
			pl.firstFwd[r][c] = -1
		}
		for i, o := range pl.ops[r] {
			k := r*n + i
			if !o.Backward && pl.firstFwd[r][o.Chunk] < 0 {
				pl.firstFwd[r][o.Chunk] = i
				pl.gather[k] = int16(o.Chunk)
			}
			switch {
			case o.Paired:
				pl.lastBwd[r][o.PairChunk] = i
			case o.Backward && !o.Split:
				pl.lastBwd[r][o.Chunk] = i
			}
			switch {
			case o.Weight:
			case o.Paired:
				link(k, r, 0, false, o.Chunk, o.MicroBatch)
				link(k, r, 1, true, o.PairChunk, o.PairMicroBatch)
			default:
				link(k, r, 0, o.Backward, o.Chunk, o.MicroBatch)
			}
		}
	}
	return pl
}

// passState is what the simulation reads and writes of one pass, kept
// together for locality.
type passState struct {
	arrival float64 // when its inputs have arrived (0 without a producer)
	pending int8    // inputs not yet produced
	dur     float64 // its duration: base × factor + extra
	start   float64
}

// replica simulates one pipeline replica's passes on the event kernel: one
// event per pass, at its end.
type replica struct {
	pl      *pipeline
	eng     sim.Engine
	next    []int32 // per stage: the position of its next pass
	busy    []bool
	st      []passState // per pass, what try reads together
	done    []float64
	factor  []float64   // time factor of each pass (noise, slow GPUs)
	extra   []float64   // seconds added to a pass (a blocking collective), not scaled
	agReady [][]float64 // per stage, per chunk: when its parameters are gathered
	agBack  []float64   // agReady's rows
	// zero3: a per-stage data-parallel stream gathering each pass's
	// parameters ahead of it and reducing its gradients after it
	zero3      bool
	z3Buckets  [][][]Bucket // per stage, per chunk: the layers gathered and reduced
	z3LayerBwd float64      // one layer's backward pass, seconds
	z3Free     []float64
	z3Ready    []float64 // per pass: parameters gathered
}

// newReplica returns a replica of pl's step, in the buffers of a released
// replica when there is one (replicas). Every field is set here, by run,
// by setupReplica or by the caller (factor, agReady's gathered chunks)
// before it is read.
func newReplica(pl *pipeline) *replica {
	x, _ := replicas.Get().(*replica)
	if x == nil {
		x = &replica{}
	}
	total := pl.p * pl.n
	x.pl = pl
	x.next = resize(x.next, pl.p)
	x.busy = resize(x.busy, pl.p)
	x.st = resize(x.st, total)
	x.done = resize(x.done, total)
	x.factor = resize(x.factor, total)
	x.extra = resize(x.extra, total)
	clear(x.extra)                   // no blocking collectives unless setupReplica copies them in
	x.zero3, x.z3LayerBwd = false, 0 // a released ZeRO-3 replica's mode does not carry over
	x.z3Free = resize(x.z3Free, pl.p)
	x.z3Ready = resize(x.z3Ready, total)
	x.agBack = resize(x.agBack, pl.p*pl.v)
	clear(x.agBack) // DualPipe's second chunk waits for no gather
	x.agReady = resize(x.agReady, pl.p)
	for r := range x.agReady {
		x.agReady[r] = x.agBack[r*pl.v : (r+1)*pl.v : (r+1)*pl.v]
	}
	return x
}

// replicas keeps released replicas' buffers (and their engines' tables)
// for the next step, of whatever shape.
var replicas sync.Pool

// release hands x's buffers back for the next replica; x is not used
// again.
func (x *replica) release() {
	x.pl, x.z3Buckets = nil, nil
	replicas.Put(x)
}

// resize returns s with length n, reusing its array when it is large
// enough (the contents are left as they are).
func resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

func make2(rows, cols int) [][]float64 {
	a := make([][]float64, rows)
	back := make([]float64, rows*cols) // one allocation for all rows
	for r := range a {
		a[r] = back[r*cols : (r+1)*cols : (r+1)*cols]
	}
	return a
}

// run simulates the step from time 0 and returns when every pass is done.
func (x *replica) run() {
	x.eng.Reset()
	for r := range x.next {
		x.next[r] = 0
		x.busy[r] = false
		x.z3Free[r] = 0
	}
	for k := range x.done {
		x.done[k] = -1
		x.st[k] = passState{pending: x.pl.inputs[k], dur: x.pl.dur[k]*x.factor[k] + x.extra[k]}
	}
	if x.zero3 {
		for r := range x.next {
			x.z3Issue(r, 0, 0)
		}
	}
	for r := range x.next {
		x.try(r, 0)
	}
	x.eng.Run()
}

// z3Issue starts the parameter all-gathers for pass i of stage r at time t
// (when the pass before it starts: one pass of prefetch), layer by layer in
// the order the pass needs them, and sets the earliest start of the pass:
// every layer's weights must have arrived by the time the pass reaches it.
func (x *replica) z3Issue(r, i int, t float64) {
	if i >= len(x.pl.ops[r]) {
		return
	}
	o := x.pl.ops[r][i]
	pass := x.pl.dur[r*x.pl.n+i]
	free := max(t, x.z3Free[r])
	ready := 0.0
	gather := func(chunk int, backward bool) {
		bs := x.z3Buckets[r][chunk]
		for j := range bs {
			b := bs[j] // backward order
			need := max(0, pass-b.BeforeEnd-x.z3LayerBwd)
			if !backward {
				b = bs[len(bs)-1-j]
				need = b.AfterStart
			}
			free += b.Gather
			ready = max(ready, free-need)
		}
	}
	switch {
	case !o.ReadsWeights():
	case o.Paired:
		gather(o.Chunk, false)
		gather(o.PairChunk, true)
	default:
		gather(o.Chunk, o.Backward)
	}
	x.z3Free[r] = free
	x.z3Ready[r*x.pl.n+i] = ready
}

// z3Reduce queues the reduce-scatters of chunk's buckets, each when pass k
// has produced its gradients.
func (x *replica) z3Reduce(r, k, chunk int, now float64) {
	start, base := x.st[k].start, x.pl.dur[k]
	scale := 1.0
	if base > 0 {
		scale = (now - start) / base
	}
	for _, b := range x.z3Buckets[r][chunk] {
		x.z3Free[r] = max(x.z3Free[r], start+(base-b.BeforeEnd)*scale) + b.Reduce
	}
}

// try starts stage r's next pass at the earliest time (not before now) its
// input and parameters allow; if its input is not produced yet, the
// producer's completion will call try again.
func (x *replica) try(r int, now float64) {
	i := int(x.next[r])
	pl := x.pl
	if x.busy[r] || i >= len(pl.ops[r]) {
		return
	}
	k := r*pl.n + i
	ps := &x.st[k]
	if ps.pending > 0 {
		return // the producer will call again
	}
	ready := ps.arrival
	if ready < now {
		ready = now
	}
	if c := pl.gather[k]; c >= 0 && x.agReady[r][c] > ready {
		ready = x.agReady[r][c]
	}
	if x.zero3 {
		ready = max(ready, x.z3Ready[k])
		x.z3Issue(r, i+1, ready)
	}
	x.busy[r] = true
	ps.start = ready
	x.eng.ScheduleAt(sim.Time(ready+ps.dur), x, r)
}

// Handle ends stage r's current pass.
func (x *replica) Handle(r int) {
	pl := x.pl
	k := r*pl.n + int(x.next[r])
	now := float64(x.eng.Now())
	x.done[k] = now
	x.next[r]++
	x.busy[r] = false
	if c := pl.ops[r][k-r*pl.n].GradChunk(); x.zero3 && c >= 0 {
		x.z3Reduce(r, k, c, now)
	}
	x.try(r, now)
	for _, e := range pl.cons[k] {
		if e < 0 {
			break
		}
		c, slot := e>>1, e&1
		cst := &x.st[c]
		if a := now + pl.delay[c][slot]; a > cst.arrival {
			cst.arrival = a // times are finite and not negative: max without its NaN and signed-zero cases
		}
		cst.pending--
		cs := int(c) / pl.n
		if cst.pending == 0 && int(x.next[cs]) == int(c)-cs*pl.n {
			x.try(cs, now)
		}
	}
}
