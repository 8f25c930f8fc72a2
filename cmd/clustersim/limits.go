package main

import (
	"github.com/spf13/pflag"

	"github.com/clustersim/clustersim/sim/run"
)

// limits are the work and memory budgets every simulating command
// enforces before it starts (run.Budget), and the sweep's point limit.
// They are persistent flags of the root command.
type limits struct {
	maxEvents float64
	maxMemory float64
	maxPoints int
}

// DefaultMaxPoints bounds a sweep's points (after sharding): each point is
// a whole run, and a hundred thousand of them is hours of work.
const defaultMaxPoints = 100_000

func (l *limits) addFlags(fs *pflag.FlagSet) {
	fs.Float64Var(&l.maxEvents, "max-events", run.DefaultMaxEvents,
		"refuse a simulation estimated to need more events than this (step passes plus run events over all trials)")
	fs.Float64Var(&l.maxMemory, "max-memory", run.DefaultMaxMemoryBytes,
		"refuse a simulation estimated to hold more memory than this, bytes")
	fs.IntVar(&l.maxPoints, "max-points", defaultMaxPoints, "refuse a sweep (or shard) of more points than this")
}

// budget is the run.Budget of the flags (the defaults when l is nil).
func (l *limits) budget() run.Budget {
	if l == nil {
		return run.Budget{}
	}
	return run.Budget{MaxEvents: l.maxEvents, MaxMemoryBytes: l.maxMemory}
}

func (l *limits) points() int {
	if l == nil || l.maxPoints <= 0 {
		return defaultMaxPoints
	}
	return l.maxPoints
}
