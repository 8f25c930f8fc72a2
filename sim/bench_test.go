package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// nopHandler is a handler that does nothing, so benchmarks time the kernel.
type nopHandler struct{}

func (*nopHandler) Handle(int) {}

// benchDelays returns a table of exponentially distributed delays with mean
// 1 s, drawn once so the timed loop measures the heap, not the generator.
// The length is a power of two so the loop can index it with a mask.
func benchDelays() []Time {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]Time, 1<<16)
	for i := range d {
		d[i] = Time(r.ExpFloat64())
	}
	return d
}

var benchSizes = []int{16, 1 << 10, 1 << 16}

// fill schedules n events at random delays.
func fill(e *Engine, h Handler, d []Time, n int) {
	for i := range n {
		e.Schedule(d[(i*7919)&(len(d)-1)], h, i)
	}
}

// BenchmarkSchedulePop measures one schedule plus one pop (Step) with a
// steady number of events pending, the hold model of event-queue
// benchmarking.
func BenchmarkSchedulePop(b *testing.B) {
	d := benchDelays()
	mask := len(d) - 1
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			var e Engine
			h := &nopHandler{}
			fill(&e, h, d, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.Schedule(d[i&mask], h, i)
				e.Step()
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkAfterFunc is BenchmarkSchedulePop on the closure path, with one
// func value reused so the closure itself does not allocate.
func BenchmarkAfterFunc(b *testing.B) {
	d := benchDelays()
	mask := len(d) - 1
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			var e Engine
			f := func() {}
			for i := range n {
				e.AfterFunc(d[(i*7919)&mask], f)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.AfterFunc(d[i&mask], f)
				e.Step()
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkCancel measures one schedule plus one cancel of an event that is
// pending somewhere inside the heap (the one scheduled n operations ago), with
// n events pending throughout.
func BenchmarkCancel(b *testing.B) {
	d := benchDelays()
	mask := len(d) - 1
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			var e Engine
			h := &nopHandler{}
			ids := make([]EventID, n) // ring of pending events, oldest first
			for i := range ids {
				ids[i] = e.Schedule(d[(i*7919)&mask], h, i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := i % n
				if !e.Cancel(ids[k]) {
					b.Fatal("Cancel of a pending event returned false")
				}
				ids[k] = e.Schedule(d[i&mask], h, i)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cancels/s")
		})
	}
}
