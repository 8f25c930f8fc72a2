package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Quantity is a number written with an optional SI suffix: K, M, G, T, P
// (×1e3 … ×1e15), B for billions as counts are written (300B tokens, 405B
// parameters: B = G = 1e9), or the binary Ki, Mi, Gi, Ti, Pi (×2^10 …
// ×2^50), in
// plain or scientific notation, with underscores between digits allowed:
// 16384, 16_384, 16K, 15.6T, 1.3e6, 16Mi. Marshal writes it back in the
// shortest form that reads back to the same float64, with an SI suffix
// where one fits (15.6T).
type Quantity float64

// Duration is a span of time in seconds, written as a number of seconds or
// a number with a unit s, m, h or d: 90s, 15m, 2h, 54d, 3600.
type Duration float64

// Interval is a checkpoint interval: "auto" (0, the Young/Daly optimum) or
// a Duration.
type Interval float64

const (
	maxInt      = math.MaxInt32 // the largest integer key accepted
	numberForms = "a number: digits with an optional SI suffix K, M, G, T, P (×1e3 … ×1e15), B for billions (= G), or Ki, Mi, Gi, Ti, Pi (×2^10 … ×2^50), e.g. 16384, 16_384, 16K, 300B, 15.6T, 1.3e6, 16Mi"
	durForms    = "a duration: a number of seconds or a number with a unit s, m, h or d, e.g. 90s, 15m, 2h, 54d"
)

var (
	decimalRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)
	integerRE = regexp.MustCompile(`^[+-]?[0-9]+$`)
)

var siSuffixes = []struct {
	s      string
	exp10  int // decimal exponent, or
	exp2   int // binary exponent
	binary bool
}{
	{"Ki", 0, 10, true}, {"Mi", 0, 20, true}, {"Gi", 0, 30, true}, {"Ti", 0, 40, true}, {"Pi", 0, 50, true},
	{"K", 3, 0, false}, {"k", 3, 0, false}, {"M", 6, 0, false}, {"G", 9, 0, false}, {"B", 9, 0, false}, {"T", 12, 0, false}, {"P", 15, 0, false},
}

// stripUnderscores removes underscores that sit between two digits and
// reports false when one does not.
func stripUnderscores(s string) (string, bool) {
	if !strings.Contains(s, "_") {
		return s, true
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
				return "", false
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

// ParseQuantity parses a Quantity (see its doc). NaN and infinities are
// rejected.
func ParseQuantity(s string) (float64, error) {
	bad := fmt.Errorf("bad number %q: want %s", s, numberForms)
	t, ok := stripUnderscores(strings.TrimSpace(s))
	if !ok || t == "" {
		return 0, bad
	}
	mant := t
	var exp10, exp2 int
	for _, suf := range siSuffixes {
		if m, ok := strings.CutSuffix(t, suf.s); ok {
			mant, exp10, exp2 = m, suf.exp10, suf.exp2
			break
		}
	}
	if !decimalRE.MatchString(mant) || (mant != t && strings.ContainsAny(mant, "eE")) {
		return 0, bad
	}
	if exp10 != 0 {
		mant += "e" + strconv.Itoa(exp10) // correctly rounded: 15.6T is the float nearest 15.6e12
	}
	v, err := strconv.ParseFloat(mant, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q is out of range", s)
	}
	v = math.Ldexp(v, exp2)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("number %q is out of range", s)
	}
	return v, nil
}

// parseInt parses an integer key: a Quantity that is whole after suffix
// expansion, in [-maxInt, maxInt].
func parseInt(s string) (int64, error) {
	t, ok := stripUnderscores(strings.TrimSpace(s))
	if ok && integerRE.MatchString(t) {
		v, err := strconv.ParseInt(t, 10, 64)
		if err != nil || v > maxInt || v < -maxInt {
			return 0, fmt.Errorf("%s is too large (at most %d)", s, maxInt)
		}
		return v, nil
	}
	v, err := ParseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("bad whole number %q: want %s", s, strings.TrimPrefix(numberForms, "a number: "))
	}
	if v != math.Trunc(v) {
		if f := strconv.FormatFloat(v, 'f', -1, 64); f != strings.TrimSpace(s) {
			return 0, fmt.Errorf("%s is %s, not a whole number", s, f)
		}
		return 0, fmt.Errorf("%s is not a whole number", s)
	}
	if v > maxInt || v < -maxInt {
		return 0, fmt.Errorf("%s is too large (at most %d)", s, maxInt)
	}
	return int64(v), nil
}

// parseUint parses a non-negative integer up to 2^64-1 (the seed).
func parseUint(s string) (uint64, error) {
	t, ok := stripUnderscores(strings.TrimSpace(s))
	if ok && integerRE.MatchString(t) && !strings.HasPrefix(t, "-") {
		v, err := strconv.ParseUint(strings.TrimPrefix(t, "+"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is too large (at most %d)", s, uint64(math.MaxUint64))
		}
		return v, nil
	}
	v, err := ParseQuantity(s)
	if err != nil || v < 0 || v != math.Trunc(v) || v >= 1<<64 {
		return 0, fmt.Errorf("bad seed %q: want a whole number from 0 to %d", s, uint64(math.MaxUint64))
	}
	return uint64(v), nil
}

var durationUnits = []struct {
	s       string
	seconds float64
}{{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}

// ParseDuration parses a Duration (see its doc) into seconds. Negative,
// NaN and infinite durations are rejected.
func ParseDuration(s string) (float64, error) {
	bad := fmt.Errorf("bad duration %q: want %s", s, durForms)
	t, ok := stripUnderscores(strings.TrimSpace(s))
	if !ok || t == "" {
		return 0, bad
	}
	mant, unit := t, 1.0
	for _, u := range durationUnits {
		if m, ok := strings.CutSuffix(t, u.s); ok {
			mant, unit = m, u.seconds
			break
		}
	}
	if !decimalRE.MatchString(mant) {
		return 0, bad
	}
	v, err := strconv.ParseFloat(mant, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	v *= unit
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("duration %q is out of range", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return v, nil
}

// formatQuantity writes v in the shortest form that ParseQuantity reads back
// to v exactly, with an SI suffix where the value is at least 1,000.
func formatQuantity(v float64) string {
	plain := strconv.FormatFloat(v, 'g', -1, 64)
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return plain
	}
	// Shortest decimal digits and exponent: d.ddd e±x.
	e := strconv.FormatFloat(math.Abs(v), 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	if exp < 3 {
		if exp >= -4 {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return plain
	}
	if exp > 20 {
		return plain // beyond P with many zeros: scientific notation reads better
	}
	k := min(exp/3*3, 15)
	// Place the decimal point exp-k+1 digits in.
	point := exp - k + 1
	for len(digits) < point {
		digits += "0"
	}
	s := digits[:point]
	if frac := digits[point:]; frac != "" {
		s += "." + frac
	}
	s += map[int]string{3: "K", 6: "M", 9: "G", 12: "T", 15: "P"}[k]
	if v < 0 {
		s = "-" + s
	}
	if back, err := ParseQuantity(s); err != nil || back != v {
		return plain
	}
	return s
}

// formatDuration writes seconds in the largest unit that gives a whole
// number and reads back to the same float64 (54d, 2h, 15m, 90s), else in the
// unit that gives the shortest exact text.
func formatDuration(sec float64) string {
	best := strconv.FormatFloat(sec, 'g', -1, 64) + "s"
	for _, u := range durationUnits {
		q := sec / u.seconds
		s := strconv.FormatFloat(q, 'f', -1, 64) + u.s
		if back, err := ParseDuration(s); err != nil || back != sec {
			continue
		}
		if q == math.Trunc(q) && len(s) <= 12 {
			return s
		}
		if len(s) < len(best) {
			best = s
		}
	}
	return best
}
