package plots

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// niceStep is the 1, 2 or 5 × 10^k step that gives about n intervals
// over span.
func niceStep(span float64, n int) float64 {
	if !(span > 0) || n < 1 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// linearTicks are about N major ticks at round values, labelled with as
// few decimals as the step needs (thousands grouped), with a minor tick
// between each pair.
type linearTicks struct {
	N      int
	Suffix string  // appended to each label, e.g. "%"
	Scale  float64 // label = value × Scale (0 means 1)
}

func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	n := t.N
	if n == 0 {
		n = 6
	}
	step := niceStep(hi-lo, n)
	scale := t.Scale
	if scale == 0 {
		scale = 1
	}
	dec := max(0, int(-math.Floor(math.Log10(step*scale)+1e-9)))
	if frac := step * scale / math.Pow(10, math.Floor(math.Log10(step*scale)+1e-9)); frac == 2.5 {
		dec++
	}
	var ticks []plot.Tick
	first := math.Ceil(lo/step-1e-9) * step
	for v := first - step; v <= hi+step*1e-9; v += step {
		if v >= lo-step*1e-9 {
			x := v
			if math.Abs(x) < step*1e-9 {
				x = 0
			}
			ticks = append(ticks, plot.Tick{Value: x, Label: formatTick(x*scale, dec) + t.Suffix})
		}
		if m := v + step/2; m >= lo && m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	return ticks
}

func formatTick(v float64, dec int) string {
	if dec == 0 && math.Abs(v) >= 10000 {
		return thousands(int(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// The log axes plot the logarithm of the data on a linear axis (gonum
// centres axis labels at the arithmetic middle of a log axis's range, which
// pushes them off the plot) and label the ticks with the original values.

// log2Ticks label the powers of two of an axis of log2(x) (GPU counts).
type log2Ticks struct{}

func (log2Ticks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Ceil(lo - 1e-9); e <= hi+1e-9; e++ {
		ticks = append(ticks, plot.Tick{Value: e, Label: thousands(int(math.Pow(2, e)))})
	}
	return ticks
}

// log10Ticks label 1, 2 and 5 × 10^k on an axis of log10(x).
type log10Ticks struct{}

func (log10Ticks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if l := math.Log10(v); l >= lo-1e-9 && l <= hi+1e-9 {
				label := strconv.FormatFloat(v, 'g', -1, 64)
				if v >= 1000 {
					label = thousands(int(v))
				}
				ticks = append(ticks, plot.Tick{Value: l, Label: label})
			}
		}
	}
	return ticks
}

// durationTicks label an axis of log10(seconds) at round durations.
type durationTicks struct{}

var roundDurations = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400}

func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
	var in []float64
	for _, d := range roundDurations {
		if l := math.Log10(d); l >= lo-1e-9 && l <= hi+1e-9 {
			in = append(in, d)
		}
	}
	// keep about eight labelled ticks
	every := max(1, (len(in)+7)/8)
	var ticks []plot.Tick
	for i, d := range in {
		t := plot.Tick{Value: math.Log10(d)}
		if i%every == 0 {
			t.Label = shortDuration(d)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// shortDuration is a tick label: 30s, 5m, 2h, 1d.
func shortDuration(s float64) string {
	switch {
	case s >= 86400 && math.Mod(s, 86400) == 0:
		return fmt.Sprintf("%.0fd", s/86400)
	case s >= 3600 && math.Mod(s, 3600) == 0:
		return fmt.Sprintf("%.0fh", s/3600)
	case s >= 60 && math.Mod(s, 60) == 0:
		return fmt.Sprintf("%.0fm", s/60)
	}
	return fmt.Sprintf("%gs", s)
}

// clockTicks label an axis of hours since the start of the run with the
// time of day, naming the day on the first tick and at each midnight.
type clockTicks struct{}

func (clockTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	step := 24.0
	for _, s := range []float64{1.0 / 12, 1.0 / 6, 0.25, 0.5, 1, 2, 3, 6, 12} {
		if span/s <= 8 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	first := true
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+1e-9; v += step {
		day := math.Floor(v/24 + 1e-9)
		mins := int(math.Round((v - day*24) * 60))
		label := fmt.Sprintf("%02d:%02d", mins/60, mins%60)
		if first || mins == 0 {
			label = fmt.Sprintf("day %.0f %s", day, label)
		}
		first = false
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		if m := v + step/2; m <= hi {
			ticks = append(ticks, plot.Tick{Value: m})
		}
	}
	return ticks
}
