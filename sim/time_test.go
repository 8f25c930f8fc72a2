package sim

import (
	"math"
	"testing"
	"time"
)

func TestTimeConversions(t *testing.T) {
	tests := []struct {
		name    string
		t       Time
		seconds float64
		d       time.Duration
		str     string
	}{
		{"zero", 0, 0, 0, "0s"},
		{"one second", Seconds(1), 1, time.Second, "1s"},
		{"units", 90 * Minute, 5400, 90 * time.Minute, "5400s"},
		{"hour", Hour, 3600, time.Hour, "3600s"},
		{"millisecond", 1.5 * Millisecond, 0.0015, 1500 * time.Microsecond, "0.0015s"},
		{"microsecond", Microsecond, 1e-6, time.Microsecond, "1e-06s"},
		{"nanosecond", Nanosecond, 1e-9, time.Nanosecond, "1e-09s"},
		// Rounded to the nearest nanosecond: 0.4 ns → 0, 0.6 ns → 1 ns.
		{"below a nanosecond", Seconds(0.4e-9), 0.4e-9, 0, "4e-10s"},
		{"rounds up", Seconds(0.6e-9), 0.6e-9, time.Nanosecond, "6e-10s"},
		// time.Duration holds at most about 292 years (math.MaxInt64 ns).
		{"saturates", Seconds(1e12), 1e12, math.MaxInt64, "1e+12s"},
		{"saturates negative", Seconds(-1e12), -1e12, math.MinInt64, "-1e+12s"},
		{"NaN", Time(math.NaN()), math.NaN(), 0, "NaNs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.t.Seconds(); got != tt.seconds && !(math.IsNaN(got) && math.IsNaN(tt.seconds)) {
				t.Errorf("Seconds() = %v, want %v", got, tt.seconds)
			}
			if got := tt.t.Duration(); got != tt.d {
				t.Errorf("Duration() = %v, want %v", got, tt.d)
			}
			if got := tt.t.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}

func TestFromDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want Time
	}{
		{0, 0},
		{time.Second, Second},
		{1500 * time.Millisecond, 1.5},
		{-time.Minute, -Minute},
		{time.Nanosecond, Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := FromDuration(tt.d); got != tt.want {
				t.Errorf("FromDuration(%v) = %v, want %v", tt.d, got, tt.want)
			}
			if back := FromDuration(tt.d).Duration(); back != tt.d {
				t.Errorf("round trip of %v gave %v", tt.d, back)
			}
		})
	}
}
