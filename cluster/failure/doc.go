// Package failure describes how often a training job is interrupted and
// what each interruption costs: failure profiles made of causes, each with a
// rate per unit of hardware it lives in (GPU, node, switch) or per job-day
// (software, maintenance), and a detection-and-recovery time.
//
// It is pure: rates and arithmetic, no events and no randomness; the run
// simulator (package sim/run) draws the arrivals.
package failure
