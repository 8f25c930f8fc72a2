package sim

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// fired is one event as a handler saw it.
type fired struct {
	t   Time
	arg int
}

// recorder is a Handler that logs every event it handles.
type recorder struct {
	e   *Engine
	log []fired
}

func (r *recorder) Handle(arg int) { r.log = append(r.log, fired{r.e.Now(), arg}) }

// checkHeap fails the test unless e's heap is ordered by (time, seq) and
// every pending slot knows its heap index.
func checkHeap(t *testing.T, e *Engine) {
	t.Helper()
	for i := range e.heap {
		if i > 0 {
			if p := (i - 1) / 4; before(&e.heap[i], &e.heap[p]) != 0 {
				t.Fatalf("heap[%d] %+v fires before its parent heap[%d] %+v", i, e.heap[i], p, e.heap[p])
			}
		}
		if got := e.pos[e.heap[i].slot]; got != int32(i) {
			t.Fatalf("pos of slot %d = %d, want %d", e.heap[i].slot, got, i)
		}
	}
	if got, want := len(e.heap)+len(e.free), len(e.slots); got != want {
		t.Fatalf("%d pending + %d free slots, want %d slots", len(e.heap), len(e.free), want)
	}
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name  string
		times []Time // event i is scheduled at times[i] with arg i, in this order
		want  []int  // args in firing order
	}{
		{"empty", nil, nil},
		{"one", []Time{3}, []int{0}},
		{"ascending", []Time{1, 2, 3}, []int{0, 1, 2}},
		{"descending", []Time{3, 2, 1}, []int{2, 1, 0}},
		{"equal times fire in scheduling order", []Time{5, 5, 5, 5, 5, 5, 5}, []int{0, 1, 2, 3, 4, 5, 6}},
		{"ties among others", []Time{2, 1, 2, 0, 1, 2}, []int{3, 1, 4, 0, 2, 5}},
		{"at time zero", []Time{0, 0, 1e-300, 0}, []int{0, 1, 3, 2}},
		{"negative zero is zero", []Time{0, Time(math.Copysign(0, -1)), 0}, []int{0, 1, 2}},
		{"tiny gaps", []Time{1 + 2e-16, 1, 1 + 4e-16}, []int{1, 0, 2}},
		{"wide range", []Time{1e9, 1e-9, 1, math.MaxFloat64, 0}, []int{4, 1, 2, 0, 3}},
		// More events than one 4-ary node, so sifting crosses levels.
		{"twenty, reversed in pairs",
			[]Time{10, 10, 9, 9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1},
			[]int{18, 19, 16, 17, 14, 15, 12, 13, 10, 11, 8, 9, 6, 7, 4, 5, 2, 3, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New()
			r := &recorder{e: e}
			for i, at := range tt.times {
				e.ScheduleAt(at, r, i)
			}
			if got := e.Pending(); got != len(tt.times) {
				t.Fatalf("Pending() = %d, want %d", got, len(tt.times))
			}
			checkHeap(t, e)
			e.Run()
			var got []int
			for i, f := range r.log {
				got = append(got, f.arg)
				if f.t != tt.times[f.arg] {
					t.Errorf("event %d fired at %v, want %v", f.arg, f.t, tt.times[f.arg])
				}
				if i > 0 && f.t < r.log[i-1].t {
					t.Errorf("time went back from %v to %v", r.log[i-1].t, f.t)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("firing order %v, want %v", got, tt.want)
			}
			if e.Pending() != 0 {
				t.Errorf("Pending() = %d after Run, want 0", e.Pending())
			}
		})
	}
}

// TestSequence checks the sequence numbers behind FIFO order: one per
// schedule call, counting from 0, on both paths.
func TestSequence(t *testing.T) {
	e := New()
	r := &recorder{e: e}
	e.ScheduleAt(1, r, 0)
	e.AtFunc(1, func() {})
	e.Schedule(1, r, 2)
	e.AfterFunc(1, func() {})
	if e.seq != 4 {
		t.Fatalf("seq after 4 schedules = %d, want 4", e.seq)
	}
	var seqs []uint64
	for len(e.heap) > 0 {
		seqs = append(seqs, e.heap[0].seq)
		e.Step()
	}
	if want := []uint64{0, 1, 2, 3}; !slices.Equal(seqs, want) {
		t.Errorf("sequence numbers in firing order %v, want %v", seqs, want)
	}
}

func TestRunUntil(t *testing.T) {
	times := []Time{1, 2, 2, 3, 5}
	tests := []struct {
		until       Time
		wantFired   int
		wantPending int
	}{
		{0, 0, 5},
		{0.5, 0, 5},
		{1, 1, 4}, // an event exactly at the limit fires
		{2, 3, 2},
		{2.5, 3, 2},
		{4.999, 4, 1},
		{5, 5, 0},
		{100, 5, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.until), func(t *testing.T) {
			e := New()
			r := &recorder{e: e}
			for i, at := range times {
				e.ScheduleAt(at, r, i)
			}
			e.RunUntil(tt.until)
			if len(r.log) != tt.wantFired || e.Pending() != tt.wantPending {
				t.Errorf("fired %d, pending %d; want %d, %d", len(r.log), e.Pending(), tt.wantFired, tt.wantPending)
			}
			if e.Now() != tt.until {
				t.Errorf("Now() = %v, want %v", e.Now(), tt.until)
			}
			// The rest fires on a later run, at its own times.
			e.Run()
			if len(r.log) != len(times) {
				t.Errorf("fired %d in all, want %d", len(r.log), len(times))
			}
			if want := max(tt.until, 5); e.Now() != want {
				t.Errorf("Now() after Run = %v, want %v", e.Now(), want)
			}
		})
	}
}

func TestRunUntilRepeated(t *testing.T) {
	// A clock ticking every 0.25 s (exact in binary), sampled every second.
	e := New()
	ticks := 0
	var tick func()
	tick = func() { ticks++; e.AfterFunc(0.25, tick) }
	e.AtFunc(0, tick)
	for s := 1; s <= 4; s++ {
		e.RunUntil(Time(s))
		// Ticks at 0, 0.25, …, s: 4s+1 of them.
		if want := 4*s + 1; ticks != want {
			t.Errorf("after RunUntil(%d): %d ticks, want %d", s, ticks, want)
		}
		if e.Now() != Time(s) || e.Pending() != 1 {
			t.Errorf("after RunUntil(%d): Now %v, Pending %d; want %d, 1", s, e.Now(), e.Pending(), s)
		}
	}
}

func TestStep(t *testing.T) {
	e := New()
	if e.Step() {
		t.Fatal("Step on an empty engine returned true")
	}
	r := &recorder{e: e}
	e.ScheduleAt(2, r, 7)
	e.ScheduleAt(1, r, 8)
	for i, want := range []fired{{1, 8}, {2, 7}} {
		if !e.Step() {
			t.Fatalf("Step %d returned false", i)
		}
		if got := r.log[i]; got != want {
			t.Errorf("Step %d fired %+v, want %+v", i, got, want)
		}
	}
	if e.Step() {
		t.Error("Step after the last event returned true")
	}
}

func TestStop(t *testing.T) {
	e := New()
	r := &recorder{e: e}
	for i := range 10 {
		e.ScheduleAt(Time(i), r, i)
	}
	e.AtFunc(3, e.Stop) // after the handler for arg 3
	e.Run()
	if len(r.log) != 4 || e.Now() != 3 || e.Pending() != 6 {
		t.Errorf("Stop at 3: fired %d, Now %v, pending %d; want 4, 3, 6", len(r.log), e.Now(), e.Pending())
	}
	e.AtFunc(5.5, e.Stop)
	e.RunUntil(8)
	if len(r.log) != 6 || e.Now() != 5.5 {
		t.Errorf("Stop in RunUntil(8): fired %d, Now %v; want 6, 5.5", len(r.log), e.Now())
	}
	e.Stop() // outside a run: no effect on the next one
	e.Run()
	if len(r.log) != 10 || e.Pending() != 0 {
		t.Errorf("Run after Stop outside a run: fired %d, pending %d; want 10, 0", len(r.log), e.Pending())
	}
}

func TestRunContext(t *testing.T) {
	const total = 10_000
	tests := []struct {
		name     string
		cancelAt int // arg of the event whose handler cancels; -1: never; 0 before the run
		want     error
	}{
		{"never cancelled", -1, nil},
		{"cancelled before the run", 0, context.Canceled},
		{"cancelled by a handler", 10, context.Canceled},
		{"cancelled late", 5000, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e := New()
			n := 0
			for i := range total {
				e.AtFunc(Time(i), func() {
					n++
					if i == tt.cancelAt {
						cancel()
					}
				})
			}
			if tt.cancelAt == 0 {
				cancel()
			}
			err := e.RunContext(ctx)
			if err != tt.want {
				t.Fatalf("RunContext = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				if n != total {
					t.Errorf("fired %d, want %d", n, total)
				}
				return
			}
			// It stops within ctxCheckEvery events of the cancel and leaves
			// the rest pending.
			first := 0
			if tt.cancelAt > 0 {
				first = tt.cancelAt + 1
			}
			if n < first || n > first+ctxCheckEvery || e.Pending() != total-n {
				t.Errorf("fired %d, pending %d; want %d to %d fired and the rest pending", n, e.Pending(), first, first+ctxCheckEvery)
			}
			e.Run()
			if n != total {
				t.Errorf("fired %d after resuming, want %d", n, total)
			}
		})
	}
}

func TestRunContextBackgroundAndStop(t *testing.T) {
	e := New()
	n := 0
	for i := range 5 {
		e.AtFunc(Time(i), func() { n++ })
	}
	e.AtFunc(2, e.Stop)
	if err := e.RunContext(context.Background()); err != nil || n != 3 {
		t.Errorf("RunContext with Stop at 2 = %v, fired %d; want nil, 3", err, n)
	}
	if err := e.RunContext(context.Background()); err != nil || n != 5 {
		t.Errorf("RunContext = %v, fired %d; want nil, 5", err, n)
	}
}

func TestCancel(t *testing.T) {
	e := New()
	r := &recorder{e: e}
	a := e.ScheduleAt(1, r, 1)
	b := e.ScheduleAt(2, r, 2)
	c := e.AtFunc(3, func() { r.log = append(r.log, fired{e.Now(), 3}) })

	tests := []struct {
		name string
		id   EventID
		want bool
	}{
		{"pending", b, true},
		{"already cancelled", b, false},
		{"pending closure", c, true},
		{"zero EventID", EventID{}, false},
		{"slot out of range", EventID{gen: 1, slot: 1000}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.Cancel(tt.id); got != tt.want {
				t.Errorf("Cancel = %v, want %v", got, tt.want)
			}
			checkHeap(t, e)
		})
	}
	e.Run()
	if want := []fired{{1, 1}}; !slices.Equal(r.log, want) {
		t.Errorf("fired %v, want %v", r.log, want)
	}
	if e.Cancel(a) {
		t.Error("Cancel of a fired event returned true")
	}

	// Slots are reused: a stale handle must not cancel the event that now
	// holds its slot.
	d := e.ScheduleAt(5, r, 5)
	if d.slot != a.slot && d.slot != b.slot && d.slot != c.slot {
		t.Fatalf("slot %d was not reused", d.slot)
	}
	for _, stale := range []EventID{a, b, c} {
		if e.Cancel(stale) {
			t.Errorf("stale %+v cancelled the event in its slot", stale)
		}
	}
	if e.Pending() != 1 {
		t.Errorf("Pending() = %d, want 1", e.Pending())
	}

	// Handles from before a Reset stay stale.
	e.Reset()
	f := e.ScheduleAt(5, r, 6)
	if e.Cancel(d) {
		t.Error("a handle from before Reset cancelled an event")
	}
	if !e.Cancel(f) {
		t.Error("Cancel of a pending event after Reset returned false")
	}
}

// TestCancelEveryPosition cancels each event of a heap in turn, so removal is
// tried at the root, at leaves, at the last index and in between.
func TestCancelEveryPosition(t *testing.T) {
	const n = 100
	r := rand.New(rand.NewPCG(3, 4))
	times := make([]Time, n)
	for i := range times {
		times[i] = Time(r.IntN(20)) // ties on purpose
	}
	for victim := range n {
		t.Run(fmt.Sprint(victim), func(t *testing.T) {
			e := New()
			rec := &recorder{e: e}
			ids := make([]EventID, n)
			for i, at := range times {
				ids[i] = e.ScheduleAt(at, rec, i)
			}
			if !e.Cancel(ids[victim]) {
				t.Fatal("Cancel returned false")
			}
			checkHeap(t, e)
			e.Run()
			if len(rec.log) != n-1 {
				t.Fatalf("fired %d, want %d", len(rec.log), n-1)
			}
			for i, f := range rec.log {
				if f.arg == victim {
					t.Fatal("the cancelled event fired")
				}
				if i > 0 {
					p := rec.log[i-1]
					if f.t < p.t || f.t == p.t && f.arg < p.arg {
						t.Fatalf("%+v fired after %+v", f, p)
					}
				}
			}
		})
	}
}

func TestCancelFromHandler(t *testing.T) {
	e := New()
	r := &recorder{e: e}
	var self, sameTime, later, early EventID
	early = e.ScheduleAt(0.5, r, 0)
	self = e.AtFunc(1, func() {
		if e.Cancel(self) {
			t.Error("an event cancelled itself while firing")
		}
		if e.Cancel(early) {
			t.Error("Cancel of an event that fired earlier returned true")
		}
		if !e.Cancel(sameTime) {
			t.Error("Cancel of a pending event at the same time returned false")
		}
		if !e.Cancel(later) {
			t.Error("Cancel of a later event returned false")
		}
	})
	sameTime = e.ScheduleAt(1, r, 1)
	later = e.ScheduleAt(2, r, 2)
	e.ScheduleAt(3, r, 3)
	e.Run()
	if want := []fired{{0.5, 0}, {3, 3}}; !slices.Equal(r.log, want) {
		t.Errorf("fired %v, want %v", r.log, want)
	}
}

func TestScheduleFromHandler(t *testing.T) {
	e := New()
	var order []string
	log := func(s string) func() {
		return func() { order = append(order, fmt.Sprintf("%s@%v", s, e.Now())) }
	}
	e.AtFunc(1, func() {
		log("a")()
		e.AfterFunc(0, log("a+0")) // after b, already pending for t=1
		e.AfterFunc(1, log("a+1"))
		e.AtFunc(1.5, log("a@1.5"))
	})
	e.AtFunc(1, log("b"))
	e.AtFunc(2, log("c")) // before a+1: scheduled first
	e.Run()
	want := []string{"a@1s", "b@1s", "a+0@1s", "a@1.5@1.5s", "c@2s", "a+1@2s"}
	if !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}

func TestChain(t *testing.T) {
	// A handler that reschedules itself: event k fires at k*0.5 s.
	e := New()
	c := &chain{e: e, left: 1000}
	e.Schedule(0, c, 0)
	e.Run()
	if c.n != 1001 || c.last != 1000 || e.Now() != 500 {
		t.Errorf("fired %d, last arg %d, Now %v; want 1001, 1000, 500s", c.n, c.last, e.Now())
	}
}

type chain struct {
	e       *Engine
	left    int
	n, last int
}

func (c *chain) Handle(arg int) {
	c.n++
	c.last = arg
	if c.left > 0 {
		c.left--
		c.e.Schedule(0.5, c, arg+1)
	}
}

func TestReset(t *testing.T) {
	e := New()
	r := &recorder{e: e}
	for i := range 100 {
		e.ScheduleAt(Time(i), r, i)
	}
	e.RunUntil(49.5)
	e.Reset()
	if e.Now() != 0 || e.Pending() != 0 || e.seq != 0 {
		t.Fatalf("after Reset: Now %v, Pending %d, seq %d; want 0, 0, 0", e.Now(), e.Pending(), e.seq)
	}
	checkHeap(t, e)
	for _, s := range e.slots {
		if s.h != nil {
			t.Fatal("Reset kept a reference to a handler")
		}
	}
	// The memory is reused: a simulation of the same size allocates nothing.
	allocs := testing.AllocsPerRun(10, func() {
		for i := range 100 {
			e.ScheduleAt(Time(i), r, i)
		}
		e.Reset()
	})
	if allocs != 0 {
		t.Errorf("%v allocations to refill a reset engine, want 0", allocs)
	}
	r.log = r.log[:0]
	e.ScheduleAt(0, r, 1)
	e.Run()
	if want := []fired{{0, 1}}; !slices.Equal(r.log, want) {
		t.Errorf("after Reset fired %v, want %v", r.log, want)
	}
}

func TestZeroValue(t *testing.T) {
	var e Engine
	n := 0
	e.AfterFunc(1, func() { n++ })
	e.Run()
	if n != 1 || e.Now() != 1 {
		t.Errorf("zero Engine: fired %d, Now %v; want 1, 1s", n, e.Now())
	}
}

// TestNoAllocs checks the Handler path allocates nothing in steady state.
func TestNoAllocs(t *testing.T) {
	e := New()
	h := &nopHandler{}
	for i := range 1000 {
		e.Schedule(Time(i%7), h, i)
	}
	f := func() {}
	tests := []struct {
		name string
		op   func()
	}{
		{"Schedule+Step", func() { e.Schedule(3, h, 0); e.Step() }},
		{"ScheduleAt+Cancel", func() { e.Cancel(e.ScheduleAt(e.Now()+2, h, 0)) }},
		{"AfterFunc+Step", func() { e.AfterFunc(3, f); e.Step() }},
		{"Schedule+RunUntil", func() { e.Schedule(1, h, 0); e.RunUntil(e.Now() + 0.001) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if allocs := testing.AllocsPerRun(1000, tt.op); allocs != 0 {
				t.Errorf("%v allocations per op, want 0", allocs)
			}
		})
	}
}

func TestHandlerPanicLeavesEngineUsable(t *testing.T) {
	e := New()
	r := &recorder{e: e}
	e.AtFunc(1, func() { panic("boom") })
	e.ScheduleAt(2, r, 2)
	func() {
		defer func() {
			if recover() != "boom" {
				t.Fatal("the handler's panic did not reach Run's caller")
			}
		}()
		e.Run()
	}()
	e.Run()
	if want := []fired{{2, 2}}; !slices.Equal(r.log, want) {
		t.Errorf("after a handler panic fired %v, want %v", r.log, want)
	}
}

// mustPanic runs f and fails unless it panics with a string starting with
// "sim: " and containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		msg, ok := r.(string)
		if !ok || !strings.HasPrefix(msg, "sim: ") || !strings.Contains(msg, want) {
			t.Fatalf("panic %#v, want a string starting with %q and containing %q", r, "sim: ", want)
		}
	}()
	f()
}

func TestPanics(t *testing.T) {
	nan := Time(math.NaN())
	inf := Time(math.Inf(1))
	h := &nopHandler{}
	f := func() {}
	tests := []struct {
		name string
		want string
		op   func(e *Engine) // e is at time 5 with one event pending at 10
	}{
		{"ScheduleAt past", "ScheduleAt at 4s, before Now 5s", func(e *Engine) { e.ScheduleAt(4, h, 0) }},
		{"ScheduleAt NaN", "NaN", func(e *Engine) { e.ScheduleAt(nan, h, 0) }},
		{"ScheduleAt +Inf", "infinite", func(e *Engine) { e.ScheduleAt(inf, h, 0) }},
		{"ScheduleAt -Inf", "infinite", func(e *Engine) { e.ScheduleAt(-inf, h, 0) }},
		{"ScheduleAt nil", "nil Handler", func(e *Engine) { e.ScheduleAt(6, nil, 0) }},
		{"Schedule negative", "negative delay -1s", func(e *Engine) { e.Schedule(-1, h, 0) }},
		{"Schedule negative tiny", "negative delay", func(e *Engine) { e.Schedule(-1e-300, h, 0) }},
		{"Schedule NaN", "NaN delay", func(e *Engine) { e.Schedule(nan, h, 0) }},
		{"Schedule +Inf", "infinite delay", func(e *Engine) { e.Schedule(inf, h, 0) }},
		{"Schedule nil", "nil Handler", func(e *Engine) { e.Schedule(1, nil, 0) }},
		{"AtFunc past", "AtFunc at 0s, before Now 5s", func(e *Engine) { e.AtFunc(0, f) }},
		{"AtFunc NaN", "NaN", func(e *Engine) { e.AtFunc(nan, f) }},
		{"AtFunc nil", "nil func", func(e *Engine) { e.AtFunc(6, nil) }},
		{"AfterFunc negative", "negative delay", func(e *Engine) { e.AfterFunc(-2, f) }},
		{"AfterFunc +Inf", "infinite delay", func(e *Engine) { e.AfterFunc(inf, f) }},
		{"AfterFunc nil", "nil func", func(e *Engine) { e.AfterFunc(1, nil) }},
		{"RunUntil past", "RunUntil at 1s, before Now 5s", func(e *Engine) { e.RunUntil(1) }},
		{"RunUntil NaN", "NaN", func(e *Engine) { e.RunUntil(nan) }},
		{"RunUntil +Inf", "infinite", func(e *Engine) { e.RunUntil(inf) }},
		{"Step in handler", "Step called from a handler", func(e *Engine) { e.AtFunc(6, func() { e.Step() }); e.Run() }},
		{"Run in handler", "Run called from a handler", func(e *Engine) { e.AtFunc(6, e.Run); e.Step() }},
		{"RunUntil in handler", "RunUntil called from a handler", func(e *Engine) { e.AtFunc(6, func() { e.RunUntil(7) }); e.Run() }},
		{"RunContext in handler", "RunContext called from a handler", func(e *Engine) {
			e.AtFunc(6, func() { _ = e.RunContext(context.Background()) })
			e.Run()
		}},
		{"Reset in handler", "Reset called from a handler", func(e *Engine) { e.AtFunc(6, e.Reset); e.Run() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New()
			e.ScheduleAt(10, h, 0)
			e.RunUntil(5)
			mustPanic(t, tt.want, func() { tt.op(e) })
			// A rejected call leaves the engine as it was.
			checkHeap(t, e)
		})
	}
}

// TestAgainstReference runs random schedules, cancels and steps against a
// plain list sorted by (time, seq), with many equal times.
func TestAgainstReference(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0x5eed))
			e := New()
			rec := &recorder{e: e}

			type ref struct {
				t   Time
				seq int // = arg: the index of the schedule call
			}
			var pending []ref     // the reference queue
			var ids []EventID     // every handle issued, by seq
			isPending := []bool{} // by seq
			for op := range 5000 {
				switch k := r.IntN(10); {
				case k < 5: // schedule, at a quarter-second grid for ties
					seq := len(ids)
					d := Time(r.IntN(12)) / 4
					var id EventID
					if r.IntN(2) == 0 {
						id = e.Schedule(d, rec, seq)
					} else {
						id = e.ScheduleAt(e.Now()+d, rec, seq)
					}
					ids = append(ids, id)
					isPending = append(isPending, true)
					pending = append(pending, ref{e.Now() + d, seq})
				case k < 7: // cancel any handle ever issued
					if len(ids) == 0 {
						continue
					}
					seq := r.IntN(len(ids))
					if got, want := e.Cancel(ids[seq]), isPending[seq]; got != want {
						t.Fatalf("op %d: Cancel(event %d) = %v, want %v", op, seq, got, want)
					}
					if isPending[seq] {
						isPending[seq] = false
						pending = slices.DeleteFunc(pending, func(x ref) bool { return x.seq == seq })
					}
				default: // step
					slices.SortFunc(pending, func(a, b ref) int {
						if a.t != b.t {
							if a.t < b.t {
								return -1
							}
							return 1
						}
						return a.seq - b.seq
					})
					n := len(rec.log)
					if got := e.Step(); got != (len(pending) > 0) {
						t.Fatalf("op %d: Step() = %v with %d pending", op, got, len(pending))
					}
					if len(pending) == 0 {
						continue
					}
					want := pending[0]
					pending = pending[1:]
					isPending[want.seq] = false
					if got := rec.log[n]; got != (fired{want.t, want.seq}) {
						t.Fatalf("op %d: fired %+v, want %+v", op, got, want)
					}
				}
				if e.Pending() != len(pending) {
					t.Fatalf("op %d: Pending() = %d, want %d", op, e.Pending(), len(pending))
				}
				if op%97 == 0 {
					checkHeap(t, e)
				}
			}
			checkHeap(t, e)
		})
	}
}

// process is a randomized model: each event schedules one or two follow-ups
// at random delays and sometimes cancels an outstanding one. All randomness
// comes from its own seeded source.
type process struct {
	e    *Engine
	r    *rand.Rand
	ids  []EventID
	log  []fired
	next int
}

func (p *process) Handle(arg int) {
	p.log = append(p.log, fired{p.e.Now(), arg})
	if len(p.log) > 20_000 {
		return
	}
	for range 1 + p.r.IntN(2) {
		p.next++
		p.ids = append(p.ids, p.e.Schedule(Time(p.r.ExpFloat64()), p, p.next))
	}
	if len(p.ids) > 0 && p.r.IntN(4) == 0 {
		p.e.Cancel(p.ids[p.r.IntN(len(p.ids))])
	}
}

func runProcess(e *Engine, seed uint64) []fired {
	p := &process{e: e, r: rand.New(rand.NewPCG(seed, 1))}
	for i := range 50 {
		e.ScheduleAt(Time(i%5), p, -i)
	}
	e.Run()
	return p.log
}

func TestDeterminism(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e1, e2 := New(), New()
			a, b := runProcess(e1, seed), runProcess(e2, seed)
			if len(a) < 1000 {
				t.Fatalf("only %d events fired; the model is too small to test", len(a))
			}
			if !slices.Equal(a, b) {
				t.Fatal("two engines given the same operations fired different events")
			}
			e1.Reset()
			if c := runProcess(e1, seed); !slices.Equal(a, c) {
				t.Fatal("a reset engine fired different events from a new one")
			}
		})
	}
}
