// Package run simulates a whole training run over wall-clock time: the step
// time of every phase from package sim/step, then interruptions,
// checkpoints, restarts and phase changes as events on the kernel (package
// sim), Monte Carlo over independent trials.
//
// # The run as events
//
// A trial is one run. Its events are failure arrivals (a Poisson process
// whose rate is the failure profile's causes summed over the hardware the
// current phase holds: per GPU, node, leaf switch or job), the end of a
// restart, the start and end of each checkpoint, lemon nodes appearing and
// being found, and phase ends. Between events, training progresses at the
// phase's step rate (slower while a lemon is in the job); steps are not
// simulated one by one.
//
// Failures arrive in wall-clock time whatever the job is doing: one during a
// restart restarts it again, and counts. An unexpected interruption loses the
// work since the last completed checkpoint and costs the restart time plus
// the cause's own recovery time. Planned maintenance is announced: the job
// checkpoints first and loses nothing. A checkpoint stalls training for its
// whole write (synchronous) or for a snapshot to host memory over PCIe
// (asynchronous), and counts only once written. Its size is 14 bytes per
// parameter; it is written by every GPU through its NIC into storage whose
// sustained bandwidth caps the total. `checkpoint_interval: auto` is the
// Young/Daly interval √(2·δ·M) for the stall δ and the mean time between
// unexpected interruptions M. A phase that changes the GPU count or the
// layout checkpoints and relaunches.
//
// # Monte Carlo
//
// Trials run in parallel on GOMAXPROCS goroutines, one engine each; trial i
// draws from its own PCG stream seeded by (seed, i), and results are combined
// in trial order, so the output does not depend on the number of
// goroutines. Means and 90% intervals (5th and 95th percentiles) are
// reported for wall-clock days, GPU-hours, ETTR and energy.
//
// # Budgets and refusals
//
// Every simulation is estimated before the work it bounds starts (Budget):
// the step's passes and memory from the layout, batch and straggler samples
// before the step; the run's events from the closed-form ETTR, the failure
// rates and the checkpoint interval, times the trials, before any trial.
// Beyond the budget, a *LimitError names the keys responsible (with
// Spec.Sources: file:line, --set or default), the estimate and the flag that
// raises the limit. A step that is not finite, a run of more than
// MaxRunDays of failure-free training, and a job that never progresses
// (interruptions faster than a restart or a checkpoint completes) are
// refused with an *InputError naming the real cause. A last check refuses
// any result with a NaN or an infinity (checkpoint intervals and MTBFs
// without failures excepted: they are written as null). Trial 0's timeline
// is recorded only when asked (Options.Timeline, for charts) and decimated
// beyond MaxTimelineEvents.
//
// # Energy and cost
//
// GPUs draw their TDP while computing (the H100 sat at its 700 W limit under
// sustained products in our calibration soak), half of it while waiting on
// communication or the pipeline, and 15% of it while the job is down (both
// assumptions); hosts add a fixed power per GPU; the PUE multiplies all of
// it. Cost is GPU-hours times a price per GPU-hour.
package run
