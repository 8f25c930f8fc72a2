// Package run simulates a whole training run over wall-clock time: the step
// time from package sim/step, progress through the run's phases, and (with a
// failure profile) interruptions, checkpoints and restarts.
package run
