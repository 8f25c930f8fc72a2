package scenarios

import (
	"math"
	"testing"
)

// FuzzParseQuantity: the quantity parser never panics, accepts only finite
// numbers, and what it accepts survives format → parse unchanged (the
// form Marshal writes). The seed corpus runs with plain go test.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"16384", "16_384", "16K", "15.6T", "300B", "1.3e6", "16Mi", "1e-300", "10P", "0",
		"-1", "1e309", "NaN", "Inf", "+Inf", "0x10", "1_", "_1", "1__0", "1.5Pi", "1e3K", "B", "", " 7 ", "1.", ".5", "5e", "9999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseQuantity(s)
		if err != nil {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("ParseQuantity(%q) = %v", s, v)
		}
		back, err := ParseQuantity(formatQuantity(v))
		if err != nil || back != v {
			t.Fatalf("ParseQuantity(%q) = %v, formatted %q, reparsed %v, %v", s, v, formatQuantity(v), back, err)
		}
	})
}

// FuzzParseDuration: the duration parser never panics and accepts only
// finite, non-negative spans.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "15m", "2h", "54d", "3600", "0", "-1s", "1e309s", "NaN", "1.5h", "h", "", "15 m", "1e-300d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseDuration(s)
		if err != nil {
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("ParseDuration(%q) = %v", s, v)
		}
	})
}
