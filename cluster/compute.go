package cluster

import "math"

// ComputeModel turns work on one GPU into seconds. Its constants are fitted
// to measurements of the hardware (cluster/calibration/measure.py; the
// timings are in testdata/, and compute_test.go checks the fit against them),
// never to a training result.
//
// Matrix products follow a roofline with a fixed cost per kernel:
//
//	t = max(FLOPs / (peak · GEMMEfficiency) + out / HBMBandwidth, bytes / HBMBandwidth) + GEMMOverheadS
//
// where GEMMEfficiency is the sustained fraction of the dense peak of the
// tensor cores, out the bytes of the bf16 output (2·m·n), bytes every
// operand's and GEMMOverheadS the ramp-up, tail and launch of one kernel
// (it is what makes small or skinny products run far below peak). The
// output's write adds to the tensor-core time rather than hiding under it:
// so the measurements say, fp8 most clearly (an 8192×8192 product with a
// reduction of 1,024 runs at 760 TFLOPS, with 16,384 at 1,280), and fitting
// that form cuts the RMS error of the 15 fp8 shapes from 10.6% to 7.2% and
// of the 511 bf16 shapes from 5.3% to 5.0%. It makes products with a short
// reduction (small hidden sizes, fp8 above all) slower than large ones. Fused
// attention (FlashAttention-style, no s² memory) has its own efficiency,
// fixed cost per kernel and fixed cost per 128-row query tile (a thread
// block's prologue and epilogue) per direction; its backward pass is counted as twice the forward
// FLOPs, as the model-FLOPs convention does. Element-wise kernels are memory
// bound: bytes / (HBMBandwidth · efficiency) + KernelOverheadS, with separate
// efficiencies for streaming kernels (copy, add) and for kernels that reduce
// or combine (normalisation, activations).
type ComputeModel struct {
	GEMMEfficiency    float64 // sustained fraction of the bf16 dense peak, large products
	GEMMOverheadS     float64 // fixed seconds per matrix product
	FP8Efficiency     float64 // sustained fraction of the fp8 dense peak
	FP8OverheadS      float64 // fixed seconds per fp8 matrix product
	MXFP8Efficiency   float64 // sustained fraction of the block-scaled fp8 dense peak
	MXFP8OverheadS    float64 // fixed seconds per block-scaled fp8 matrix product
	FP4Efficiency     float64 // sustained fraction of the fp4 (NVFP4) dense peak
	FP4OverheadS      float64 // fixed seconds per fp4 matrix product
	AttnFwdEfficiency float64 // fraction of the bf16 peak, fused attention forward
	AttnBwdEfficiency float64 // fraction of the bf16 peak, fused attention backward (2× forward FLOPs)
	AttnFwdOverheadS  float64 // fixed seconds per attention forward kernel
	AttnBwdOverheadS  float64 // fixed seconds per attention backward kernel
	// AttnFwdTileS and AttnBwdTileS are the fixed SM-seconds of each
	// query tile (AttentionTile rows of one head of one sequence) an
	// attention kernel runs as one thread block: its prologue and
	// epilogue (loading the tile, writing its output and log-sum-exp, or
	// in the backward its gradients), spread over the GPU's SMs.
	AttnFwdTileS, AttnBwdTileS float64
	// FlashAttention-2's kernels, fitted like the cuDNN ones.
	FA2FwdEfficiency, FA2BwdEfficiency float64
	FA2FwdOverheadS, FA2BwdOverheadS   float64
	FA2FwdTileS, FA2BwdTileS           float64
	StreamEfficiency                   float64 // fraction of HBM bandwidth, streaming element-wise kernels
	ReduceEfficiency                   float64 // fraction of HBM bandwidth, normalisation and activation kernels
	KernelOverheadS                    float64 // fixed seconds per element-wise kernel
	// CommSlowdown is the fraction by which matrix products slow while a
	// communication kernel runs beside them on the same GPU (it takes SMs
	// and HBM bandwidth).
	CommSlowdown float64
}

// MemoryKind says which efficiency a memory-bound kernel runs at.
type MemoryKind int

const (
	// Stream is a streaming element-wise kernel: copy, add, scale, dropout.
	Stream MemoryKind = iota
	// Reduce is a kernel with a reduction or several inputs per output:
	// LayerNorm/RMSNorm, GELU/SwiGLU, softmax, cross-entropy.
	Reduce
)

// h100Compute was fitted on 2026-11-26 to cluster/calibration/measure.py's
// timings on one NVIDIA H100 80GB HBM3 (SXM, 132 SMs, driver 580.159.04,
// PyTorch 2.11.0+cu130, cuDNN 9.19), testdata/h100-sxm-2026-11-26-run{1,2}.json:
// 511 bf16 products at the tensor-parallel shapes of the built-in models
// (RMS error of the fit 5.0%, 3.3% on products above 1 TFLOP), 15 fp8
// products (RMS 7.2%), 19 causal and non-causal cuDNN attention shapes (RMS
// 10% forward, 14% backward) and element-wise kernels. The sustained
// large-product rate, 677 TFLOPS on 8192³ (0.71 of the peak on the tensor
// cores plus the output's write), sits below the ~790-800 TFLOPS of a single
// 8192³ product on zeros or in short bursts (stas00/ml-engineering's
// "maximum achievable matmul FLOPS", 794.5) because random data and
// back-to-back products hold the card at its 700 W power limit, as training
// does.
var h100Compute = ComputeModel{
	GEMMEfficiency:    0.71,   // least-squares fit in log time, 511 shapes (RMS 5.0%)
	GEMMOverheadS:     20e-6,  // same fit
	FP8Efficiency:     0.64,   // fit to 15 torch._scaled_mm e4m3 shapes (RMS 7.2%)
	FP8OverheadS:      22e-6,  // same fit
	AttnFwdEfficiency: 0.655,  // cuDNN fused attention (SDPA), 19 shapes, head dim 128
	AttnBwdEfficiency: 0.45,   // same; FlashAttention-2 measured about half of cuDNN
	AttnFwdOverheadS:  48e-6,  // same fit
	AttnBwdOverheadS:  136e-6, // same fit
	AttnFwdTileS:      5e-6,   // same fit (RMS log error 10.3% without the tile term, 8.0% with it)
	AttnBwdTileS:      12e-6,  // same fit (13.8% without, 12.7% with)
	// FlashAttention-2 (flash_attn 2.x) at the same 19 shapes in the same
	// runs, fitted the same way, about half of cuDNN's rate; the tile term takes the
	// forward's RMS from 10.6% to 9.0% and the backward's from 9.8% to
	// 5.1%, and with it the fit no longer underrates long sequences
	// (8-12% too slow at 8K×16K-128K before).
	FA2FwdEfficiency: 0.335,
	FA2FwdOverheadS:  72e-6,
	FA2FwdTileS:      8e-6,
	FA2BwdEfficiency: 0.26,
	FA2BwdOverheadS:  140e-6,
	FA2BwdTileS:      29e-6,
	StreamEfficiency: 0.87,  // copy/add of 256-512 MiB: 2.88-2.97 TB/s of 3.35
	ReduceEfficiency: 0.54,  // RMSNorm and SiLU·mul: 1.77-1.83 TB/s of 3.35
	KernelOverheadS:  21e-6, // a 16-element add, event to event
	// The 150 s soak of run 3 (testdata/h100-sxm-2026-11-26-run3-soak.json)
	// held 695 TFLOPS alone and 671, 641 and 663 beside a concurrent
	// device-to-device copy: 1 - 658.7/695 = 5.2%.
	CommSlowdown: 0.052,
}

// a100Compute has no measurement of its own: the A100 was not available to
// the calibration script. Its sustained GEMM efficiency is the published
// maximum achievable matmul on A100 (271.2 of 312 TFLOPS, stas00/ml-engineering
// compute/accelerator) times the ratio of sustained to best-burst throughput
// measured on the H100 (h100SustainedToBurst, 0.86), as the rate of an
// 8192³ product: with the output's write, a tensor-core efficiency of
// 0.76. The other constants
// are the H100's: the fixed costs are latencies of the software stack, and
// the memory efficiencies fractions of the HBM bandwidth.
var a100Compute = func() ComputeModel {
	c := h100Compute
	c.GEMMEfficiency = efficiencyForRate(a100BF16TFLOPS*1e12, a100HBM80, 271.2e12*h100SustainedToBurst, c.GEMMOverheadS)
	c.FP8Efficiency = 0
	return c
}()

// Blackwell (B200, GB200, GB300) has no measurement here: nobody in the
// project has run cluster/calibration/measure.py on one. Until someone
// does, each Blackwell GPU type takes the H100's fitted fractions of peak
// and of HBM bandwidth and its fixed costs (an assumption, documented in
// the package doc), and the block-scaled precisions, which the H100 cannot
// run, take the H100's fp8 fraction and fixed cost: MXFP8 and NVFP4 kernels
// are assumed to reach the same share of their (higher) peaks as
// per-tensor fp8 does of its own. Each GPU type has its own variable so that
// a fit on that GPU (one documented fit per type, as h100Compute) replaces
// exactly one of them.
//
// The 8- and 4-bit product efficiencies are the one documented fit per GPU
// type that issue 8 allows where no kernel could be measured: for each
// Blackwell type and precision, the efficiency that makes the median
// step-time error of the published dense Megatron-Bridge rows of that type
// and precision zero (scenarios/validation.FitEfficiencies: method, data and
// residuals; TestBlackwellFit re-derives these numbers from the rows). The
// fits read as power: the 1,400 W GB300 sustains 0.72 of its fp8 peak, the
// 1,200 W GB200 0.51 and the 1,000 W B200 0.57, and MXFP8 and NVFP4 recipes
// (block scales, bf16 first and last layers, Hadamard transforms) reach less
// of their peaks. B200 has no dense NVFP4 row: it takes GB200's fit (the
// same die). bf16 stays at the H100's fraction: no dense bf16 row exists.
var (
	b200Compute  = fittedBlackwell(0.57, 0.515, 0.41)
	gb200Compute = fittedBlackwell(0.51, 0.51, 0.41)
	gb300Compute = fittedBlackwell(0.72, 0.695, 0.435)
)

// fittedBlackwell is unmeasuredBlackwell with fitted fp8, MXFP8 and NVFP4
// product efficiencies.
func fittedBlackwell(fp8, mxfp8, fp4 float64) ComputeModel {
	c := unmeasuredBlackwell()
	c.FP8Efficiency, c.MXFP8Efficiency, c.FP4Efficiency = fp8, mxfp8, fp4
	return c
}

// unmeasuredBlackwell is h100Compute with the block-scaled precisions set
// to the H100's fp8 fit.
func unmeasuredBlackwell() ComputeModel {
	c := h100Compute
	c.MXFP8Efficiency, c.MXFP8OverheadS = c.FP8Efficiency, c.FP8OverheadS
	c.FP4Efficiency, c.FP4OverheadS = c.FP8Efficiency, c.FP8OverheadS
	return c
}

// gemmFit returns the sustained efficiency and fixed cost of a matrix
// product at precision p, and the bytes per input element (scales
// included): 2 for bf16; 1 for fp8; 1 + 1/32 for MXFP8 (an E8M0 scale per
// 32 elements); 1/2 + 1/16 for NVFP4 (an E4M3 scale per 16 elements; the
// one fp32 scale per tensor is negligible). A precision the GPU lacks falls
// back to bf16 (scenarios refuse such a run before it gets here).
func (g GPU) gemmFit(p Precision) (peak, eff, overhead, elem float64) {
	c := g.Compute
	if g.Supports(p) {
		switch p {
		case FP8:
			return g.PeakFLOPS(p), c.FP8Efficiency, c.FP8OverheadS, 1
		case MXFP8:
			return g.PeakFLOPS(p), c.MXFP8Efficiency, c.MXFP8OverheadS, 1 + 1.0/32
		case NVFP4:
			return g.PeakFLOPS(p), c.FP4Efficiency, c.FP4OverheadS, 0.5 + 1.0/16
		}
	}
	return g.PeakFLOPS(BF16), c.GEMMEfficiency, c.GEMMOverheadS, 2
}

// h100SustainedToBurst is the H100's modelled rate on an 8192³ bf16 product
// (its fitted efficiency with the output's write and the fixed cost, 677
// TFLOPS) over its best measured single product (785 TFLOPS, 8192³, run 1
// of the calibration).
var h100SustainedToBurst = 2 * math.Pow(8192, 3) / h100SXM.GEMMTime(8192, 8192, 8192, BF16) / 785e12

// efficiencyForRate is the tensor-core efficiency under which an 8192³
// bf16 product runs at rate FLOP/s on a GPU of the given peak and HBM
// bandwidth, with a fixed cost over seconds per product: gemmBody's
// compute-bound branch solved for the efficiency.
func efficiencyForRate(peak, hbm, rate, over float64) float64 {
	const n = 8192
	f := 2.0 * n * n * n
	return f / (peak * (f/rate - 2*n*n/hbm - over))
}

// GEMMTime returns the seconds of an m×k by k×n matrix product at precision
// p: the tensor-core time and the output's write, or the HBM traffic of
// reading both operands and writing the output once if that is longer,
// plus the fixed cost of a kernel (ComputeModel).
// Zero-sized products cost nothing. A precision the GPU does not support is
// priced as bf16.
func (g GPU) GEMMTime(m, n, k float64, p Precision) float64 {
	if m <= 0 || n <= 0 || k <= 0 {
		return 0
	}
	peak, eff, over, elem := g.gemmFit(p)
	return g.gemmBody(m, n, k, peak, eff, elem) + over
}

// gemmBody is a product's time without its fixed cost: the tensor-core
// time and the bf16 output's write, or reading the inputs (elem bytes per
// element) and writing the output if that is longer.
func (g GPU) gemmBody(m, n, k, peak, eff, elem float64) float64 {
	out := 2 * m * n
	return math.Max(2*m*n*k/(peak*eff)+out/g.HBMBandwidth, (elem*(m*k+k*n)+out)/g.HBMBandwidth)
}

// AttentionTile is the rows of queries one thread block of a fused
// attention kernel takes (FlashAttention-2's and cuDNN's 128-row tiles at
// head dimension 128).
const AttentionTile = 128

// AttentionTiles returns the query tiles of an attention kernel over
// batch sequences of heads heads with sq query rows each: the thread blocks
// it runs.
func AttentionTiles(batch, heads, sq float64) float64 {
	return batch * heads * math.Ceil(sq/AttentionTile)
}

// AttentionTime returns the seconds of one fused attention kernel doing
// fwdFLOPs of forward work (4·b·heads·s_q·s_k·head_dim, halved under a causal
// mask) in tiles thread blocks (AttentionTiles); with backward it is the
// backward kernel, which does twice that.
func (g GPU) AttentionTime(fwdFLOPs, tiles float64, backward bool) float64 {
	c := g.Compute
	if backward {
		return g.attentionFit(2*fwdFLOPs, tiles, c.AttnBwdEfficiency, c.AttnBwdOverheadS, c.AttnBwdTileS)
	}
	return g.attentionFit(fwdFLOPs, tiles, c.AttnFwdEfficiency, c.AttnFwdOverheadS, c.AttnFwdTileS)
}

// attentionFit prices an attention kernel of flops by one fit: a fraction
// of the bf16 peak, a fixed cost per kernel and a fixed cost per tile,
// the tiles spread over the GPU's SMs.
func (g GPU) attentionFit(flops, tiles, eff, over, perTile float64) float64 {
	if flops <= 0 {
		return 0
	}
	t := flops/(g.PeakFLOPS(BF16)*eff) + over
	if g.SMs > 0 {
		t += tiles * perTile / float64(g.SMs)
	}
	return t
}

// FusedAttentionTime is AttentionTime for the cuDNN kernel, or with fa2 for
// FlashAttention-2, priced by its own fit (FA2FwdEfficiency and so on).
func (g GPU) FusedAttentionTime(fwdFLOPs, tiles float64, backward, fa2 bool) float64 {
	if !fa2 {
		return g.AttentionTime(fwdFLOPs, tiles, backward)
	}
	c := g.Compute
	if backward {
		return g.attentionFit(2*fwdFLOPs, tiles, c.FA2BwdEfficiency, c.FA2BwdOverheadS, c.FA2BwdTileS)
	}
	return g.attentionFit(fwdFLOPs, tiles, c.FA2FwdEfficiency, c.FA2FwdOverheadS, c.FA2FwdTileS)
}

// MemoryTime returns the seconds of a memory-bound kernel moving bytes
// (reads plus writes) through HBM.
func (g GPU) MemoryTime(bytes float64, kind MemoryKind) float64 {
	if bytes <= 0 {
		return 0
	}
	eff := g.Compute.StreamEfficiency
	if kind == Reduce {
		eff = g.Compute.ReduceEfficiency
	}
	return bytes/(g.HBMBandwidth*eff) + g.Compute.KernelOverheadS
}
