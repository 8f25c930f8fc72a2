// Package study runs the studies around a scenario that the plot, report
// and sweep commands show: sweeps over scenario keys (points generated
// lazily by index, run in parallel, steps shared between points that
// differ only in what the step does not depend on), the figures of the
// charts (a scenario's run with its scaling, checkpoint and variant
// sweeps), and the data of a capacity review (scaling that re-plans the
// layout at every size, sensitivity to doubtful inputs, where the days go,
// the layout trade-off, cost and provenance).
//
// Results are plain structs; drawing and printing them is the caller's.
//
// # Determinism
//
// The same scenario, overrides and seed give the same results whatever
// the number of CPUs and whether steps are shared: a shared step is the
// step the point would have simulated itself (the cache key is the whole
// step spec, seed included).
package study
