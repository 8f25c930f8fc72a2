package cluster

import "math"

// GroupedGEMMPerGroupFraction is the fixed cost of each further group of a
// grouped matrix product (the experts of a MoE layer on one GPU, as
// Transformer Engine's GroupedLinear and Megatron-Core's TEGroupedMLP run
// them), as a fraction of one product's fixed cost (GEMMOverheadS and its
// low-precision variants). Transformer Engine runs a grouped product as one
// cuBLAS product per group spread over a few streams
// (transformer_engine/pytorch/module/grouped_linear.py: general_grouped_gemm
// with get_multi_stream_cublas_workspace, i.e. nvte_multi_stream_cublas_gemm),
// so every group pays a whole kernel's launch, ramp-up and tail: 1. (The
// previous 0.25 assumed one persistent grouped kernel; with it the
// Megatron-Bridge MoE rows were 16% too fast on average, and the rows with
// many local experts, e.g. 32 of DeepSeek-V3's on 8 B200s, 30-45% too fast.)
const GroupedGEMMPerGroupFraction = 1.0

// GroupedGEMMTime returns the seconds of one grouped product of groups
// independent m×k by k×n products (one per expert, m tokens each): each
// group's roofline (tensor-core time or HBM traffic, as GEMMTime), summed,
// plus one kernel's fixed cost and GroupedGEMMPerGroupFraction of it for
// every further group. Small per-expert m makes each group memory bound on
// its weights, which is what makes fine-grained experts run below peak.
func (g GPU) GroupedGEMMTime(groups int, m, n, k float64, p Precision) float64 {
	if groups < 1 || m <= 0 || n <= 0 || k <= 0 {
		return 0
	}
	peak, eff, over, elem := g.gemmFit(p)
	flops := 2 * m * n * k
	bytes := elem*(m*k+k*n) + 2*m*n
	one := math.Max(flops/(peak*eff), bytes/g.HBMBandwidth)
	return float64(groups)*one + over*(1+GroupedGEMMPerGroupFraction*float64(groups-1))
}
