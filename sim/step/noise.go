package step

import (
	"math"
	"math/rand/v2"
)

// maxLognormal samples the largest of n independent lognormal factors with
// mean 1 and coefficient of variation cv: F⁻¹(U^{1/n}) for the lognormal
// quantile F⁻¹. A table of the quantile function at tableSize points with
// linear interpolation makes a draw cost a few nanoseconds; the top bin,
// where the quantile grows without bound, is computed exactly.
type maxLognormal struct {
	mu, sigma float64
	n         float64
	table     [tableSize + 1]float64
}

const tableSize = 4096

func newMaxLognormal(cv float64, n int) *maxLognormal {
	s2 := math.Log1p(cv * cv)
	m := &maxLognormal{mu: -s2 / 2, sigma: math.Sqrt(s2), n: float64(n)}
	for i := 0; i < tableSize; i++ {
		m.table[i] = m.exact((float64(i) + 0.5) / tableSize)
	}
	m.table[tableSize] = m.table[tableSize-1]
	return m
}

// exact is the quantile of the maximum at probability u.
func (m *maxLognormal) exact(u float64) float64 {
	v := math.Exp(math.Log(u) / m.n) // U^{1/n}
	z := -math.Sqrt2 * math.Erfcinv(2*v)
	return math.Exp(m.mu + m.sigma*z)
}

// draw returns one factor.
func (m *maxLognormal) draw(r *rand.Rand) float64 {
	u := r.Float64()
	x := u*tableSize - 0.5
	if x < 0 {
		return m.table[0]
	}
	i := int(x)
	if i >= tableSize-1 {
		if u <= 0 || u >= 1 {
			return m.table[tableSize-1]
		}
		return m.exact(u)
	}
	f := x - float64(i)
	return m.table[i] + f*(m.table[i+1]-m.table[i])
}

// mean is E[max], by the trapezoid rule over the table (for tests and docs).
func (m *maxLognormal) mean() float64 {
	s := 0.0
	for i := 0; i < tableSize; i++ {
		s += m.table[i]
	}
	return s / tableSize
}

// splitmix64 mixes a 64-bit key into a well-distributed one (Steele et al.
// 2014); it derives independent seeds for samples, replicas and nodes.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
