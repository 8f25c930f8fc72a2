package sim

import (
	"math"
	"strconv"
	"time"
)

// Time is a point in simulated time, or a span of it, in seconds since the
// engine started (or was last [Engine.Reset]). It is the only representation
// of time in the kernel; the functions and methods in this file are the only
// conversions to and from it.
//
// A float64 keeps about 15 significant digits: at one simulated day (86 400 s)
// the resolution is about 15 ps, far finer than any event in a training
// cluster. Sums of times round like any float64 sums, though: ten delays of
// 0.3 s add up to 2.9999999999999996 s. A model that needs an exact grid
// computes k*step instead of adding step k times.
type Time float64

// Units of simulated time.
const (
	Nanosecond  Time = 1e-9
	Microsecond Time = 1e-6
	Millisecond Time = 1e-3
	Second      Time = 1
	Minute      Time = 60
	Hour        Time = 3600
)

// Seconds returns the simulated time s seconds after the start.
func Seconds(s float64) Time { return Time(s) }

// FromDuration converts a wall-clock duration to simulated time.
func FromDuration(d time.Duration) Time { return Time(d.Seconds()) }

// Seconds returns t in seconds.
func (t Time) Seconds() float64 { return float64(t) }

// Duration returns t rounded to the nearest nanosecond, saturating at the
// limits of [time.Duration]. NaN converts to 0.
func (t Time) Duration() time.Duration {
	ns := math.Round(float64(t) * 1e9)
	switch {
	case ns != ns:
		return 0
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(ns)
}

// String formats t in seconds with the fewest digits that read back exactly,
// followed by "s", e.g. "1.5s".
func (t Time) String() string {
	return strconv.FormatFloat(float64(t), 'g', -1, 64) + "s"
}

// maxTime is the largest finite Time.
const maxTime = Time(math.MaxFloat64)
