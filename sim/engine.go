package sim

import (
	"context"
	"fmt"
	"math"
)

// A Handler reacts to an event scheduled with [Engine.Schedule] or
// [Engine.ScheduleAt]. Handle receives the int given when the event was
// scheduled; a handler that needs the engine (to read [Engine.Now] or to
// schedule follow-up events) keeps a pointer to it.
//
// Scheduling a Handler allocates nothing when the handler's dynamic value is a
// pointer, so one handler value can serve many events, told apart by arg.
type Handler interface {
	Handle(arg int)
}

// funcHandler adapts a func() to Handler. A func value is pointer-shaped, so
// converting one to Handler does not allocate.
type funcHandler func()

func (f funcHandler) Handle(int) { f() }

// An EventID identifies a scheduled event so that it can be cancelled. It is a
// small value: copy it freely. The zero EventID matches no event.
type EventID struct {
	gen  uint64 // generation of the slot when the event was scheduled
	slot uint32 // index into Engine.slots
}

// An Engine is a discrete-event simulation: a clock and a queue of pending
// events. The zero value is an empty engine at time 0, ready to use.
//
// An Engine is not safe for concurrent use; see the package documentation.
type Engine struct {
	now     Time
	seq     uint64   // sequence number of the next scheduled event
	heap    []item   // pending events, a 4-ary min-heap by (t, seq)
	slots   []slot   // per-event data, indexed by item.slot and EventID.slot
	pos     []int32  // heap index of each pending slot's item
	free    []uint32 // unused slots, reused last in first out
	running bool     // inside Step, Run, RunUntil or RunContext
	stopped bool     // Stop was called during the current run
}

// slot holds what an event needs besides its heap key. A slot is pending
// while its event is in the heap; gen changes every time it stops being
// pending, which is what makes stale EventIDs harmless.
type slot struct {
	h   Handler
	arg int
	gen uint64
}

// New returns an empty engine at time 0. It is the same as new(Engine).
func New() *Engine { return new(Engine) }

// Now returns the current simulated time: the time of the event that fired
// last, or the time given to the last RunUntil, whichever is later.
func (e *Engine) Now() Time { return e.now }

// Pending returns the number of events scheduled and not yet fired or
// cancelled.
func (e *Engine) Pending() int { return len(e.heap) }

// Reset empties the engine for another simulation: it drops every pending
// event and sets the time and the sequence number back to 0. It keeps the
// memory the engine has grown, so a reset engine schedules without
// allocating. EventIDs from before Reset stay stale forever.
func (e *Engine) Reset() {
	if e.running {
		panic("sim: Reset called from a handler")
	}
	for _, it := range e.heap {
		e.release(it.slot)
	}
	e.heap = e.heap[:0]
	e.now = 0
	e.seq = 0
	e.stopped = false
}

// ScheduleAt schedules h.Handle(arg) to run at time t, which must be finite
// and not before Now. Events at the same time fire in the order they were
// scheduled.
func (e *Engine) ScheduleAt(t Time, h Handler, arg int) EventID {
	if !(t >= e.now && t <= maxTime) {
		e.badTime("ScheduleAt", t)
	}
	if h == nil {
		panic("sim: ScheduleAt with a nil Handler")
	}
	return e.push(t, h, arg)
}

// Schedule schedules h.Handle(arg) to run delay after Now. The delay must be
// finite and not negative; a zero delay fires after every event already
// pending for the current time.
func (e *Engine) Schedule(delay Time, h Handler, arg int) EventID {
	t := e.now + delay
	if !(delay >= 0 && t <= maxTime) {
		e.badDelay("Schedule", delay)
	}
	if h == nil {
		panic("sim: Schedule with a nil Handler")
	}
	return e.push(t, h, arg)
}

// AtFunc schedules f to run at time t, which must be finite and not before
// Now. It is a convenience over [Engine.ScheduleAt]; the closure costs an
// allocation if it captures variables.
func (e *Engine) AtFunc(t Time, f func()) EventID {
	if !(t >= e.now && t <= maxTime) {
		e.badTime("AtFunc", t)
	}
	if f == nil {
		panic("sim: AtFunc with a nil func")
	}
	return e.push(t, funcHandler(f), 0)
}

// AfterFunc schedules f to run delay after Now. The delay must be finite and
// not negative. It is a convenience over [Engine.Schedule].
func (e *Engine) AfterFunc(delay Time, f func()) EventID {
	t := e.now + delay
	if !(delay >= 0 && t <= maxTime) {
		e.badDelay("AfterFunc", delay)
	}
	if f == nil {
		panic("sim: AfterFunc with a nil func")
	}
	return e.push(t, funcHandler(f), 0)
}

// Cancel removes the pending event id in O(log n) time and reports whether it
// did. It returns false, and does nothing, if the event already fired (or is
// firing now), was cancelled, or id is the zero EventID.
func (e *Engine) Cancel(id EventID) bool {
	if uint64(id.slot) >= uint64(len(e.slots)) {
		return false
	}
	s := &e.slots[id.slot]
	if s.gen != id.gen {
		return false
	}
	e.remove(int(e.pos[id.slot]))
	e.release(id.slot)
	return true
}

// Step fires the earliest pending event and reports whether there was one.
func (e *Engine) Step() bool {
	if e.running {
		panic("sim: Step called from a handler")
	}
	if len(e.heap) == 0 {
		return false
	}
	e.running = true
	defer e.done()
	e.fire()
	return true
}

// Run fires events until none are pending or a handler calls Stop.
func (e *Engine) Run() {
	e.start("Run")
	defer e.done()
	for len(e.heap) > 0 && !e.stopped {
		e.fire()
	}
}

// RunUntil fires every pending event with a time at or before t, then sets
// Now to t. It returns early, leaving Now at the last event's time, if a
// handler calls Stop. t must be finite and not before Now.
func (e *Engine) RunUntil(t Time) {
	if !(t >= e.now && t <= maxTime) {
		e.badTime("RunUntil", t)
	}
	e.start("RunUntil")
	defer e.done()
	k := key(t)
	for len(e.heap) > 0 && e.heap[0].tbits <= k && !e.stopped {
		e.fire()
	}
	if !e.stopped {
		e.now = t
	}
}

// ctxCheckEvery is how many events RunContext fires between looks at its
// context: often enough to stop within microseconds of wall time, rarely
// enough to cost nothing measurable per event.
const ctxCheckEvery = 1024

// RunContext is Run that also stops, between events, once ctx is done; it
// then returns ctx.Err() and leaves the remaining events pending, so a later
// run can resume. It looks at ctx before the first event and then every
// 1024 events. It returns nil when no events remain or a handler calls Stop.
func (e *Engine) RunContext(ctx context.Context) error {
	e.start("RunContext")
	defer e.done()
	done := ctx.Done()
	if done == nil { // never cancelled, e.g. context.Background
		for len(e.heap) > 0 && !e.stopped {
			e.fire()
		}
		return nil
	}
	for n := 0; len(e.heap) > 0 && !e.stopped; n++ {
		if n%ctxCheckEvery == 0 {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		e.fire()
	}
	return nil
}

// Stop makes the Run, RunUntil or RunContext in progress return once the
// current handler returns. Called outside a run, it has no effect.
func (e *Engine) Stop() {
	if e.running {
		e.stopped = true
	}
}

func (e *Engine) start(name string) {
	if e.running {
		panic("sim: " + name + " called from a handler")
	}
	e.running = true
	e.stopped = false
}

// done ends a Step or run. It is deferred, so a panicking handler leaves the
// engine usable: the event that panicked has already been removed.
func (e *Engine) done() {
	e.running = false
	e.stopped = false
}

// fire removes the earliest event, advances the clock to it and calls its
// handler. The slot is released first, so the handler may reuse it and
// Cancel of the firing event reports false.
func (e *Engine) fire() {
	top := e.heap[0]
	e.popRoot()
	s := &e.slots[top.slot]
	h, arg := s.h, s.arg
	e.release(top.slot)
	e.now = top.time()
	h.Handle(arg)
}

// push adds a validated event and returns its handle.
func (e *Engine) push(t Time, h Handler, arg int) EventID {
	var idx uint32
	if n := len(e.free); n > 0 {
		idx = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		if len(e.slots) >= math.MaxInt32 {
			panic("sim: too many pending events")
		}
		idx = uint32(len(e.slots))
		e.slots = append(e.slots, slot{gen: 1}) // gen 0 is the zero EventID's
		e.pos = append(e.pos, 0)
	}
	s := &e.slots[idx]
	s.h = h
	s.arg = arg
	it := item{tbits: key(t), seq: e.seq, slot: idx}
	e.seq++
	e.heap = append(e.heap, it)
	e.up(len(e.heap)-1, it)
	return EventID{gen: s.gen, slot: idx}
}

// release makes a slot unused: it drops the handler so the garbage collector
// can reclaim it, and bumps the generation so old EventIDs go stale.
func (e *Engine) release(idx uint32) {
	s := &e.slots[idx]
	s.h = nil
	s.gen++
	e.free = append(e.free, idx)
}

func (e *Engine) badTime(op string, t Time) {
	switch {
	case t != t:
		panic("sim: " + op + " at NaN time")
	case t > maxTime || t < -maxTime:
		panic(fmt.Sprintf("sim: %s at infinite time %v", op, float64(t)))
	default:
		panic(fmt.Sprintf("sim: %s at %v, before Now %v", op, t, e.now))
	}
}

func (e *Engine) badDelay(op string, d Time) {
	switch {
	case d != d:
		panic("sim: " + op + " with NaN delay")
	case d < 0:
		panic(fmt.Sprintf("sim: %s with negative delay %v", op, d))
	case d > maxTime:
		panic(fmt.Sprintf("sim: %s with infinite delay %v", op, float64(d)))
	default:
		panic(fmt.Sprintf("sim: %s with delay %v: time overflows at Now %v", op, d, e.now))
	}
}
