package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// GroupedKernel is how a grouped matrix product (the experts of a MoE layer
// on one GPU) is run, which sets the fixed cost each further group adds.
type GroupedKernel int

const (
	// SingleLaunch runs every group in one persistent kernel whose tiles
	// the SMs share (DeepGEMM's contiguous grouped GEMM, CUTLASS and
	// cuBLASLt grouped GEMMs, Transformer Engine's fused grouped GEMM path,
	// NVIDIA/TransformerEngine#2669): a group adds its tile setup and part
	// of a wave, a fraction of one product's fixed cost.
	SingleLaunch GroupedKernel = iota
	// MultiStream runs one cuBLAS product per group over a few streams:
	// Transformer Engine's GroupedLinear as first written
	// (NVIDIA/TransformerEngine#853, "Grouped GEMM via multi-stream
	// cuBLAS"; #1386 on why it kept it), what Megatron-Core's TEGroupedMLP
	// ran until the fused path. Every group pays a whole product's launch,
	// ramp-up and tail.
	MultiStream
)

var groupedKernelNames = [...]string{SingleLaunch: "single-launch", MultiStream: "multi-stream"}

func (k GroupedKernel) String() string {
	if k < 0 || int(k) >= len(groupedKernelNames) {
		return fmt.Sprintf("GroupedKernel(%d)", int(k))
	}
	return groupedKernelNames[k]
}

// GroupedKernelNames returns the kernels' names in enumeration order. The
// slice is the caller's.
func GroupedKernelNames() []string { return slices.Clone(groupedKernelNames[:]) }

// ParseGroupedKernel parses "single-launch" or "multi-stream".
func ParseGroupedKernel(s string) (GroupedKernel, error) {
	for i, n := range groupedKernelNames {
		if s == n {
			return GroupedKernel(i), nil
		}
	}
	return 0, fmt.Errorf("unknown grouped GEMM kernel %q (valid: %s)", s, strings.Join(groupedKernelNames[:], ", "))
}

// PerGroupFraction is the fixed cost of each further group, as a fraction
// of one product's fixed cost (GEMMOverheadS and its low-precision
// variants). NVIDIA/TransformerEngine#3134 times 8 groups of 128×2048×2048
// on a B200 (work of a few microseconds): 0.267 ms as multi-stream cuBLAS
// products (33 µs a group, a whole product's fixed cost or more: 1) and
// 0.069 ms as one CUTLASS grouped kernel (one fixed cost and about a
// quarter of it per further group: 0.25).
func (k GroupedKernel) PerGroupFraction() float64 {
	if k == MultiStream {
		return 1
	}
	return 0.25
}

// GroupedGEMMTime returns the seconds of one grouped product of groups
// independent m×k by k×n products (one per expert, m tokens each) run by
// kernel: each group's time without the fixed cost (tensor-core time and
// output write, or HBM traffic, as GEMMTime), summed, plus one product's fixed cost and the kernel's
// PerGroupFraction of it for every further group. Small per-expert m makes
// each group memory bound on its weights, which is what makes fine-grained
// experts run below peak.
func (g GPU) GroupedGEMMTime(groups int, m, n, k float64, p Precision, kernel GroupedKernel) float64 {
	if groups < 1 || m <= 0 || n <= 0 || k <= 0 {
		return 0
	}
	peak, eff, over, elem := g.gemmFit(p)
	one := g.gemmBody(m, n, k, peak, eff, elem)
	return float64(groups)*one + over*(1+kernel.PerGroupFraction()*float64(groups-1))
}
