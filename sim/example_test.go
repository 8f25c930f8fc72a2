package sim_test

import (
	"fmt"

	"github.com/clustersim/clustersim/sim"
)

// Two processes play ping-pong: each answers the other after its own delay.
func Example() {
	e := sim.New()
	var ping, pong func()
	rounds := 0
	ping = func() {
		fmt.Println(e.Now(), "ping")
		e.AfterFunc(1.5*sim.Second, pong)
	}
	pong = func() {
		fmt.Println(e.Now(), "pong")
		if rounds++; rounds < 3 {
			e.AfterFunc(500*sim.Millisecond, ping)
		}
	}
	e.AtFunc(0, ping)
	e.Run()
	fmt.Println("done at", e.Now())
	// Output:
	// 0s ping
	// 1.5s pong
	// 2s ping
	// 3.5s pong
	// 4s ping
	// 5.5s pong
	// done at 5.5s
}

// queue is a single-server first-in-first-out queue with a fixed service
// time. It is its own Handler: Handle(c) for c >= 0 is the arrival of
// customer c, Handle(depart) the end of a service.
type queue struct {
	e         *sim.Engine
	service   sim.Time
	arrivals  []sim.Time // arrival time by customer
	line      []int      // customers waiting, first in first
	busy      bool
	totalWait sim.Time
}

const depart = -1

func (q *queue) Handle(arg int) {
	if arg == depart {
		q.busy = false
	} else {
		q.line = append(q.line, arg)
	}
	if q.busy || len(q.line) == 0 {
		return
	}
	c := q.line[0]
	q.line = q.line[1:]
	wait := q.e.Now() - q.arrivals[c]
	q.totalWait += wait
	fmt.Printf("%-4v customer %d starts after waiting %v\n", q.e.Now(), c, wait)
	q.busy = true
	q.e.Schedule(q.service, q, depart)
}

// A queue with one server taking 2 s per customer, on the allocation-free
// Handler path: one handler value serves every event, told apart by arg.
func ExampleEngine_Schedule() {
	e := sim.New()
	q := &queue{e: e, service: 2 * sim.Second, arrivals: []sim.Time{0, 1, 1.5, 6, 6.5, 7}}
	for c, t := range q.arrivals {
		e.ScheduleAt(t, q, c)
	}
	e.Run()
	fmt.Printf("mean wait %.3f s, all served at %v\n", q.totalWait.Seconds()/float64(len(q.arrivals)), e.Now())
	// Output:
	// 0s   customer 0 starts after waiting 0s
	// 2s   customer 1 starts after waiting 1s
	// 4s   customer 2 starts after waiting 2.5s
	// 6s   customer 3 starts after waiting 0s
	// 8s   customer 4 starts after waiting 1.5s
	// 10s  customer 5 starts after waiting 3s
	// mean wait 1.333 s, all served at 12s
}

// A failure cancels in-flight work: the training step due at 10 s is lost
// when a node fails at 7 s, and runs again after a 5 s recovery.
func ExampleEngine_Cancel() {
	e := sim.New()
	step := e.AtFunc(10, func() { fmt.Println(e.Now(), "step done") })
	e.AtFunc(7, func() {
		fmt.Println(e.Now(), "node failed; step cancelled:", e.Cancel(step))
		e.AfterFunc(5+10, func() { fmt.Println(e.Now(), "step redone") })
	})
	e.Run()
	fmt.Println("cancel again:", e.Cancel(step))
	// Output:
	// 7s node failed; step cancelled: true
	// 22s step redone
	// cancel again: false
}

// RunUntil advances the clock to a point in time, firing everything due by
// then, so a model can be sampled at fixed intervals.
func ExampleEngine_RunUntil() {
	e := sim.New()
	ticks := 0
	var tick func()
	tick = func() {
		ticks++
		e.AfterFunc(0.25, tick) // a binary fraction: the sums are exact
	}
	e.AtFunc(0, tick)
	for _, t := range []sim.Time{1, 2, 3} {
		e.RunUntil(t)
		fmt.Printf("at %v: %d ticks, %d pending\n", e.Now(), ticks, e.Pending())
	}
	// Output:
	// at 1s: 5 ticks, 1 pending
	// at 2s: 9 ticks, 1 pending
	// at 3s: 13 ticks, 1 pending
}
