// Package plots draws clustersim's results for people: the charts (PNG and
// SVG, with gonum/plot), the capacity-planning review report (one
// self-contained HTML page) and the simulated step as a Chrome trace-event
// file for Perfetto. It is the only package that imports gonum/plot.
//
// # Results in, pictures out
//
// Every function takes results — run.Result, step.Timeline, model.Memory, or
// the small point types declared here for sweeps — and never runs a
// simulation: the command line gathers the data (the run, the sweeps, the
// validation table) and hands it over. A chart constructor returns a
// [*Chart], which renders to any writer as PNG or SVG ([Chart.Render]), to a
// directory ([Chart.Save]) or inline into HTML ([Chart.InlineSVG]). New
// charts follow the same shape: a constructor from plain data to *Chart, with
// the data it plots available to tests as a plain function of the inputs.
//
// # Conventions
//
//   - Every chart has a title, axis labels with units, and a legend that
//     names what each colour is; colours come from the Okabe–Ito palette,
//     which stays distinguishable for colour-blind readers and in greyscale
//     print.
//   - Text is Liberation Sans (embedded in gonum/plot); SVG output names
//     Arimo, Arial and Helvetica as fallbacks, which have the same metrics,
//     so labels keep their place in a browser without Liberation.
//   - Times are wall-clock days for whole runs and seconds for a step; the
//     trace is in microseconds, as the trace-event format wants.
//
// # The utilization timeline
//
// [UtilizationSegments] replays trial 0's timeline (run.Result.Timeline) as
// piecewise-constant useful throughput: the phase's TFLOPS/GPU while
// training, divided by the slowdown while a slow node is in the job; zero
// while the job is down (detection, restart, relaunch between phases), while
// a checkpoint stalls training, and while work lost to a failure is being
// redone (the first lost_s seconds of training after the restart). Its
// time-average is therefore the useful model FLOPs of the run over its
// wall-clock time: TFLOPS/GPU × ETTR for a one-phase run.
package plots
