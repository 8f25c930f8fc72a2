// Package sim is the discrete-event kernel of clustersim: a simulated clock and
// a queue of pending events that fire in time order. Models schedule work with
// [Engine.Schedule] (an allocation-free path taking a [Handler] and an int
// argument) or [Engine.AfterFunc] (a closure), keep the returned [EventID] if
// the work may have to be undone, and call [Engine.Cancel] when, say, a failure
// kills in-flight work. [Engine.Run], [Engine.RunUntil] and [Engine.RunContext]
// then fire events until the queue is empty, a time is reached, or a context
// is done. [Parallel] runs independent simulations, one engine each, on a
// bounded number of goroutines. The package uses only the standard library.
//
// # Ordering
//
// Events fire in order of (time, sequence number). The sequence number grows by
// one with every schedule call, so events scheduled for the same [Time] fire in
// the order they were scheduled, and a simulation that makes the same calls
// fires the same events in the same order on every run. Handlers may schedule
// and cancel events while they run; an event scheduled by a handler for the
// current time fires after every event already pending for that time.
//
// # Cost
//
// Pending events live in a 4-ary heap of small structs; each heap entry's
// position is kept in a side table, so scheduling, firing and [Engine.Cancel]
// all take O(log n) time for n pending events. The [Handler] path allocates
// nothing once the engine's tables have grown to the simulation's peak number
// of pending events; [Engine.Reset] keeps those tables for the next simulation.
//
// # Handles
//
// An [EventID] is a small value (a slot number and a generation), never a
// pointer. Slots are reused, but each reuse bumps the slot's generation, so a
// stale handle — for an event that already fired or was cancelled, or from
// before a [Engine.Reset] — never matches a later event: Cancel reports false
// and does nothing. The zero EventID never matches any event.
//
// # Misuse panics
//
// Misuse is a programmer error and panics with a message that starts with
// "sim: ": scheduling at a time before [Engine.Now], a negative delay, a NaN or
// infinite time, a nil handler or function, and calling Step, Run, RunUntil,
// RunContext or Reset from inside a handler. Bad user input is rejected before
// it reaches the kernel.
//
// # Concurrency
//
// An Engine is driven by one goroutine and is not safe for concurrent use.
// Handlers run on that goroutine, one at a time; there are no channels and no
// goroutines inside the kernel. Run independent simulations (Monte Carlo
// trials, sweep points) concurrently with one Engine each.
package sim
