package failure

import "math"

// GPUsPerLeafSwitch is how many GPUs hang from one leaf switch of a
// rail-optimized fabric: one rail of a 32-node scalable unit (NVIDIA DGX
// SuperPOD reference architecture: 32 nodes per scalable unit, one leaf
// switch per rail). It turns a GPU count into the switches a "switch"-unit
// cause is counted over.
const GPUsPerLeafSwitch = 32

// Hardware is what a job holds.
type Hardware struct {
	GPUs, Nodes int
}

// Switches is the number of leaf switches the job's GPUs hang from.
func (h Hardware) Switches() int { return (h.GPUs + GPUsPerLeafSwitch - 1) / GPUsPerLeafSwitch }

// Units is how many units of u the job holds.
func (h Hardware) Units(u Unit) float64 {
	switch u {
	case PerGPU:
		return float64(h.GPUs)
	case PerNode:
		return float64(h.Nodes)
	case PerSwitch:
		return float64(h.Switches())
	}
	return 1
}

// Rate is the cause's interruptions per day for a job holding h.
func (c Cause) Rate(h Hardware) float64 { return c.RatePerDay * h.Units(c.Unit) }

// Rates returns every cause's interruptions per day for h, and their sum
// split into unexpected and planned.
func (p Profile) Rates(h Hardware) (perCause []float64, unexpected, planned float64) {
	perCause = make([]float64, len(p.Causes))
	for i, c := range p.Causes {
		perCause[i] = c.Rate(h)
		if c.Planned {
			planned += perCause[i]
		} else {
			unexpected += perCause[i]
		}
	}
	return perCause, unexpected, planned
}

// YoungDaly is the checkpoint interval that minimises the expected time lost
// to checkpoints and failures, √(2·δ·M) for a checkpoint that stalls
// training for δ seconds and a mean time between failures of M seconds
// (Young 1974; Daly 2006, first order). It is +Inf without failures.
func YoungDaly(stallS, mtbfS float64) float64 {
	if mtbfS <= 0 || math.IsInf(mtbfS, 1) {
		return math.Inf(1)
	}
	return math.Sqrt(2 * stallS * mtbfS)
}

// RenewalETTR is the effective training time ratio of a job whose
// interruptions arrive as a Poisson process of rate per second (during
// restarts and checkpoints too), that loses the work since its last
// completed checkpoint, restarts in restartS seconds and checkpoints every
// intervalS seconds of training with a stall of stallS. Each interval of
// useful work then takes e^{λu}·(e^{λ(τ+δ)} − 1)/λ seconds of wall clock on
// average (Daly 2006, "A higher order estimate of the optimum checkpoint
// interval for restart dumps", exact for exponential failures), so
// ETTR = λτ·e^{−λu} / (e^{λ(τ+δ)} − 1). It agrees with KokolisETTR to first
// order and stays valid when failures within an interval are common.
func RenewalETTR(ratePerS, restartS, intervalS, stallS float64) float64 {
	if ratePerS <= 0 {
		return intervalS / (intervalS + stallS)
	}
	l := ratePerS
	return l * intervalS * math.Exp(-l*restartS) / math.Expm1(l*(intervalS+stallS))
}

// KokolisETTR is the expected effective training time ratio of Kokolis et
// al. 2024 ("Revisiting Reliability in Large-Scale Machine Learning Research
// Clusters", arXiv:2410.21680): (1 − N·r·(u₀ + Δt/2)) / (1 + w/Δt) for N
// nodes failing at r per node per second, a restart of u₀ seconds, a
// checkpoint every Δt seconds of training that stalls it for w seconds. It
// is valid while failures within an interval are rare (N·r·Δt ≪ 1).
func KokolisETTR(nodes, ratePerNodeS, restartS, intervalS, writeS float64) float64 {
	return (1 - nodes*ratePerNodeS*(restartS+intervalS/2)) / (1 + writeS/intervalS)
}
