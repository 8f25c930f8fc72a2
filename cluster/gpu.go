package cluster

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Precision is the arithmetic precision of the tensor-core matrix products,
// named after the training recipes NVIDIA publishes (Transformer Engine).
// The zero value is BF16.
type Precision int

const (
	// BF16 is bfloat16 with fp32 accumulation, the default for LLM training.
	BF16 Precision = iota
	// FP8 is 8-bit floating point (E4M3/E5M2) with one scale per tensor,
	// Transformer Engine's delayed or current scaling (Hopper and later).
	FP8
	// MXFP8 is the OCP microscaling fp8: E4M3/E5M2 elements with one E8M0
	// scale per 32 consecutive elements, scaled in the tensor core. It runs
	// at the fp8 peak and needs Blackwell's block-scaled tensor cores
	// (Transformer Engine: "MXFP8 ... supported on Blackwell"); Hopper and
	// Ampere lack them.
	MXFP8
	// NVFP4 is NVIDIA's 4-bit float: E2M1 elements with one E4M3 scale per
	// 16 elements and one fp32 scale per tensor. It runs at the fp4 peak of
	// Blackwell's tensor cores.
	NVFP4
)

// FP16Alias is accepted for BF16: mixed precision with fp16 products (as
// Megatron-LM, OPT and GPT-NeoX trained) runs at the same dense
// tensor-core rate as bf16 on every GPU of the catalog (NVIDIA A100, H100
// and Blackwell datasheets list equal fp16 and bf16 TFLOPS), and dynamic
// loss scaling adds one scalar check per step.
const FP16Alias = "fp16"

// NumPrecisions is the number of precisions; they are 0 … NumPrecisions-1.
const NumPrecisions = 4

var precisionNames = [NumPrecisions]string{BF16: "bf16", FP8: "fp8", MXFP8: "mxfp8", NVFP4: "nvfp4"}

// String returns the scenario spelling ("bf16", "fp8", "mxfp8", "nvfp4"),
// or "Precision(N)" for a value outside the enumeration.
func (p Precision) String() string {
	if p >= 0 && int(p) < len(precisionNames) {
		return precisionNames[p]
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

// PrecisionNames returns the precisions' names in enumeration order. The
// slice is the caller's.
func PrecisionNames() []string { return slices.Clone(precisionNames[:]) }

// ParsePrecision parses a precision name (case-insensitive, surrounding
// spaces ignored). An unknown name gives an *UnknownNameError listing the
// valid names.
func ParsePrecision(s string) (Precision, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for i, name := range precisionNames {
		if t == name {
			return Precision(i), nil
		}
	}
	if t == FP16Alias {
		return BF16, nil
	}
	return 0, &UnknownNameError{Kind: "precision", Name: s, Valid: PrecisionNames()}
}

// UnknownNameError reports a name that is not in one of the package's
// catalogs (GPUs, precisions). Valid lists the accepted names, sorted.
type UnknownNameError struct {
	Kind  string // "gpu", "precision"
	Name  string
	Valid []string
}

func (e *UnknownNameError) Error() string {
	return fmt.Sprintf("cluster: unknown %s %q (valid: %s)", e.Kind, e.Name, strings.Join(e.Valid, ", "))
}

// GPU is the datasheet and measured-communication description of one
// accelerator model. Catalog entries come from LookupGPU; a custom GPU may be
// built by hand and checked with Validate.
type GPU struct {
	Name         string  // catalog name, e.g. "h100-sxm"
	BF16TFLOPS   float64 // dense (no 2:4 sparsity) bf16 tensor-core peak, TFLOPS
	FP8TFLOPS    float64 // dense fp8 tensor-core peak, TFLOPS (0 = unsupported, e.g. A100)
	MXFP8TFLOPS  float64 // dense block-scaled (microscaling) fp8 peak, TFLOPS (0 = unsupported: before Blackwell)
	FP4TFLOPS    float64 // dense fp4 (NVFP4) tensor-core peak, TFLOPS (0 = unsupported: before Blackwell)
	HBMGiB       float64 // HBM capacity, GiB (2^30 bytes)
	HBMBandwidth float64 // HBM bandwidth, bytes/s
	NVLinkGBps   float64 // datasheet NVLink bandwidth per GPU, GB/s, both directions summed (as datasheets print it)
	NICGbps      float64 // default scale-out NIC line rate per GPU, Gb/s
	TDPWatts     float64 // board power, W
	SMs          int     // streaming multiprocessors
	GPUsPerNode  int     // default node size: GPUs in one server or compute tray
	NVLinkDomain int     // default GPUs sharing one NVLink fabric; 0 = one node (GPUsPerNode)

	// Measured collective bus bandwidths inside one NVLink domain
	// (nccl-tests busbw), bytes/s.

	// NVLinkRingBusBW is the ring all-reduce / reduce-scatter / all-gather
	// busbw across the domain's GPUs; it is also NCCL's effective per-GPU
	// NVLink bandwidth, used for point-to-point sends inside a domain.
	NVLinkRingBusBW float64
	// NVLSBusBW is the NVLink SHARP (in-switch reduction) all-reduce busbw
	// across a whole node or more of the domain; 0 where the NVSwitch has no
	// SHARP (A100).
	NVLSBusBW float64

	// HostBandwidth is the achievable GPU-to-host copy bandwidth over PCIe,
	// bytes/s (asynchronous checkpoints snapshot through it).
	HostBandwidth float64

	// Compute turns FLOPs and bytes into seconds (compute.go).
	Compute ComputeModel
}

// PeakFLOPS returns the dense (no 2:4 sparsity) tensor-core peak at
// precision p in FLOP/s, or 0 if the GPU does not support p. It is the
// denominator of MFU for a run at p: an fp8 run's MFU is relative to the fp8
// peak, an nvfp4 run's to the fp4 peak.
func (g GPU) PeakFLOPS(p Precision) float64 {
	switch p {
	case BF16:
		return g.BF16TFLOPS * 1e12
	case FP8:
		return g.FP8TFLOPS * 1e12
	case MXFP8:
		return g.MXFP8TFLOPS * 1e12
	case NVFP4:
		return g.FP4TFLOPS * 1e12
	}
	return 0
}

// Supports reports whether the GPU's tensor cores run precision p.
func (g GPU) Supports(p Precision) bool { return g.PeakFLOPS(p) > 0 }

// Precisions returns the names of the precisions the GPU supports, in
// enumeration order.
func (g GPU) Precisions() []string {
	var out []string
	for p := range Precision(NumPrecisions) {
		if g.Supports(p) {
			out = append(out, p.String())
		}
	}
	return out
}

// Domain returns the default NVLink domain size: NVLinkDomain, or
// GPUsPerNode where that is 0.
func (g GPU) Domain() int {
	if g.NVLinkDomain > 0 {
		return g.NVLinkDomain
	}
	return g.GPUsPerNode
}

// HBMBytes returns the HBM capacity in bytes (HBMGiB · 2^30).
func (g GPU) HBMBytes() float64 { return g.HBMGiB * (1 << 30) }

// Validate reports every field that is NaN, infinite, or out of range, joined
// with errors.Join; each problem is an *InvalidError. Catalog GPUs are valid.
func (g GPU) Validate() error {
	var errs []error
	if g.Name == "" {
		errs = append(errs, &InvalidError{Field: "gpu.name", Value: g.Name, Reason: "must not be empty"})
	}
	positive := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			errs = append(errs, &InvalidError{Field: field, Value: v, Reason: "must be finite and > 0"})
		}
	}
	nonNegative := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			errs = append(errs, &InvalidError{Field: field, Value: v, Reason: "must be finite and >= 0"})
		}
	}
	positive("gpu.bf16_tflops", g.BF16TFLOPS)
	nonNegative("gpu.fp8_tflops", g.FP8TFLOPS)
	nonNegative("gpu.mxfp8_tflops", g.MXFP8TFLOPS)
	nonNegative("gpu.fp4_tflops", g.FP4TFLOPS)
	positive("gpu.hbm_gib", g.HBMGiB)
	positive("gpu.hbm_bandwidth", g.HBMBandwidth)
	nonNegative("gpu.nvlink_gbps", g.NVLinkGBps)
	nonNegative("gpu.nic_gbps", g.NICGbps)
	nonNegative("gpu.tdp_watts", g.TDPWatts)
	if g.SMs < 0 {
		errs = append(errs, &InvalidError{Field: "gpu.sms", Value: g.SMs, Reason: "must be >= 0"})
	}
	if g.GPUsPerNode < 0 {
		errs = append(errs, &InvalidError{Field: "gpu.gpus_per_node", Value: g.GPUsPerNode, Reason: "must be >= 0"})
	}
	if g.NVLinkDomain < 0 || (g.NVLinkDomain > 0 && g.GPUsPerNode > 0 && g.NVLinkDomain%g.GPUsPerNode != 0) {
		errs = append(errs, &InvalidError{Field: "gpu.nvlink_domain", Value: g.NVLinkDomain, Reason: "must be 0 or a multiple of gpu.gpus_per_node"})
	}
	positive("gpu.nvlink_ring_busbw", g.NVLinkRingBusBW)
	nonNegative("gpu.nvls_busbw", g.NVLSBusBW)
	c := g.Compute
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"gpu.compute.gemm_efficiency", c.GEMMEfficiency},
		{"gpu.compute.attn_fwd_efficiency", c.AttnFwdEfficiency},
		{"gpu.compute.attn_bwd_efficiency", c.AttnBwdEfficiency},
		{"gpu.compute.stream_efficiency", c.StreamEfficiency},
		{"gpu.compute.reduce_efficiency", c.ReduceEfficiency},
	} {
		if !(f.v > 0 && f.v <= 1) {
			errs = append(errs, &InvalidError{Field: f.name, Value: f.v, Reason: "must be in (0, 1]"})
		}
	}
	for _, f := range []struct {
		name      string
		supported bool
		v         float64
	}{
		{"gpu.compute.fp8_efficiency", g.FP8TFLOPS > 0, c.FP8Efficiency},
		{"gpu.compute.mxfp8_efficiency", g.MXFP8TFLOPS > 0, c.MXFP8Efficiency},
		{"gpu.compute.fp4_efficiency", g.FP4TFLOPS > 0, c.FP4Efficiency},
	} {
		if f.supported && !(f.v > 0 && f.v <= 1) {
			errs = append(errs, &InvalidError{Field: f.name, Value: f.v, Reason: "must be in (0, 1] where the precision is supported"})
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"gpu.compute.gemm_overhead_s", c.GEMMOverheadS},
		{"gpu.compute.fp8_overhead_s", c.FP8OverheadS},
		{"gpu.compute.mxfp8_overhead_s", c.MXFP8OverheadS},
		{"gpu.compute.fp4_overhead_s", c.FP4OverheadS},
		{"gpu.compute.attn_fwd_overhead_s", c.AttnFwdOverheadS},
		{"gpu.compute.attn_bwd_overhead_s", c.AttnBwdOverheadS},
		{"gpu.compute.attn_fwd_tile_s", c.AttnFwdTileS},
		{"gpu.compute.attn_bwd_tile_s", c.AttnBwdTileS},
		{"gpu.compute.kernel_overhead_s", c.KernelOverheadS},
	} {
		nonNegative(f.name, f.v)
	}
	return errors.Join(errs...)
}

// The catalog. Sources, per field:
//
//   - Peaks, memory, bandwidths, power: the vendor datasheets as copied into
//     the project's reference/published.yaml ("hardware"): NVIDIA A100
//     datasheet (80GB SXM), NVIDIA H100 datasheet (SXM), NVIDIA H200
//     datasheet (SXM), NVIDIA DGX B200 datasheet (per-GPU share of the
//     8-GPU system: 1,440 GB, 64 TB/s HBM, 14.4 TB/s NVLink, 72 PFLOPS fp8
//     and 144 PFLOPS fp4 with sparsity), NVIDIA GB200 NVL72 and GB300 NVL72
//     datasheets (per-GPU share of the 72-GPU rack). Peaks are dense,
//     without 2:4 sparsity (half the datasheets' sparse figures, except
//     where a datasheet prints the dense figure itself).
//   - Block-scaled fp8 (MXFP8) runs at the fp8 peak on Blackwell's
//     fifth-generation tensor cores (NVIDIA Blackwell architecture technical
//     brief: microscaling formats at the rate of their element type); it is
//     0 on Hopper and Ampere, which have no block-scaled tensor cores.
//   - SMs: A100 108 and H100/H200 132 (same GH100 die) from the NVIDIA A100
//     and H100 architecture whitepapers; B200 148 = 2 dies × 74 enabled SMs
//     (Chips and Cheese, "Nvidia's B200: Keeping the CUDA Juggernaut Rolling").
//   - NICs: one per GPU, ConnectX-6 HDR 200 Gb/s in DGX A100, ConnectX-7
//     400 Gb/s in DGX H100/H200/B200 and GB200 NVL72, ConnectX-8 800 Gb/s
//     in GB300 NVL72 (DGX and NVL72 datasheets; published.yaml).
//   - Nodes and NVLink domains: an HGX/DGX server is one node and one NVLink
//     domain of 8 GPUs. A GB200/GB300 NVL72 rack is 18 compute trays of 4
//     GPUs (2 superchips of 1 Grace + 2 Blackwell GPUs; GB300: one board of
//     2 Grace + 4 GPUs) whose NVLink spans all 72 GPUs through 9 NVLink
//     switch trays (NVIDIA GB200 NVL72 and GB300 NVL72 product pages); a
//     tray is a node (failures, NICs), the rack the NVLink domain.
//   - Bus bandwidths: see the constants below.
var catalog = [...]GPU{
	a100SXM("a100-sxm-80g", 80, a100HBM80),
	// The 40 GB part: the same GA100 compute and NVLink, with HBM2. It
	// takes the 80 GB part's tensor-core efficiency (derived at that
	// part's bandwidth, compute.go); its slower HBM enters through
	// HBMBandwidth, as the H200's faster one does.
	a100SXM("a100-sxm-40g", 40, 1.555e12), // NVIDIA A100 40GB SXM datasheet: 40 GB HBM2 at 1,555 GB/s
	{
		Name:            "b200",
		BF16TFLOPS:      2250, // DGX B200 datasheet (published.yaml); HGX B200 at 1,000 W per NVIDIA's Blackwell brief, tabulated at glennklockwood.com/garden/processors/B200
		FP8TFLOPS:       4500, // DGX B200 datasheet: 72 PFLOPS fp8 with sparsity / 8 GPUs / 2 = 4.5 PFLOPS dense
		MXFP8TFLOPS:     4500, // block-scaled fp8 at the fp8 rate (Blackwell technical brief)
		FP4TFLOPS:       9000, // DGX B200 datasheet: 144 PFLOPS fp4 with sparsity / 8 GPUs / 2 = 9 PFLOPS dense
		HBMGiB:          180,  // DGX B200 datasheet: 1,440 GB / 8 GPUs (192 GB of HBM3e, 180 enabled)
		HBMBandwidth:    8e12, // DGX B200 datasheet: 64 TB/s / 8 GPUs
		NVLinkGBps:      1800, // DGX B200 datasheet: NVLink 5, 14.4 TB/s / 8 GPUs
		NICGbps:         400,  // DGX B200: 8× ConnectX-7 400 Gb/s
		TDPWatts:        1000, // HGX B200 GPU board power (published.yaml)
		SMs:             148,  // 2 dies × 74 SMs (Chips and Cheese B200 article)
		GPUsPerNode:     8,    // DGX/HGX B200
		NVLinkRingBusBW: b200NVLinkRingBusBW,
		NVLSBusBW:       b200NVLSBusBW,
		HostBandwidth:   pcie5Host,
		Compute:         b200Compute, // not measured: Hopper's fractions (compute.go)
	},
	{
		Name:            "gb200",
		BF16TFLOPS:      2500,                // GB200 NVL72 datasheet: 360 PFLOPS fp16/bf16 with sparsity / 72 GPUs / 2 (the 1,200 W GB200 configuration)
		FP8TFLOPS:       5000,                // GB200 NVL72 datasheet: 720 PFLOPS fp8/fp6 with sparsity / 72 / 2
		MXFP8TFLOPS:     5000,                // block-scaled fp8 at the fp8 rate (Blackwell technical brief)
		FP4TFLOPS:       10000,               // GB200 NVL72 datasheet: 1,440 PFLOPS fp4 with sparsity / 72 / 2
		HBMGiB:          186,                 // GB200 NVL72 datasheet: 13.4 TB HBM3e / 72 (MLPerf system name "GB200-186GB"; NVML reports 199,715,979,264 bytes = 186 GiB)
		HBMBandwidth:    8e12,                // GB200 NVL72 datasheet: 576 TB/s / 72
		NVLinkGBps:      1800,                // GB200 NVL72 datasheet: NVLink 5, 130 TB/s / 72
		NICGbps:         400,                 // DGX GB200: one ConnectX-7 400 Gb/s per GPU (MLPerf GB200 systems: 4 per 4-GPU tray)
		TDPWatts:        1200,                // NVIDIA Blackwell technical brief: GB200's B200 configured at 1,200 W (tabulated at glennklockwood.com/garden/processors/B200)
		SMs:             148,                 // not published for GB200: assumed the B200's 2 × 74 (third-party spec tables list 148)
		GPUsPerNode:     4,                   // GB200 NVL72 compute tray: 2 superchips × 2 GPUs
		NVLinkDomain:    72,                  // GB200 NVL72: 72 GPUs on one NVLink switch system
		NVLinkRingBusBW: b200NVLinkRingBusBW, // same NVLink 5 links per GPU as B200
		NVLSBusBW:       b200NVLSBusBW,       // coreweave/nccl-tests PR 43: 835-847 GB/s over the 72-GPU NVL72
		HostBandwidth:   c2cHost,
		Compute:         gb200Compute, // not measured: Hopper's fractions (compute.go)
	},
	{
		Name:            "gb300",
		BF16TFLOPS:      2500,                // GB300 NVL72 datasheet: 360 PFLOPS fp16/bf16 with sparsity / 72 / 2 (the same as GB200)
		FP8TFLOPS:       5000,                // GB300 NVL72 datasheet: 720 PFLOPS fp8/fp6 with sparsity / 72 / 2 (the same as GB200)
		MXFP8TFLOPS:     5000,                // block-scaled fp8 at the fp8 rate (Blackwell technical brief)
		FP4TFLOPS:       15000,               // GB300 NVL72 datasheet: 1,080 PFLOPS fp4 dense (printed as such; 1,440 with sparsity) / 72
		HBMGiB:          278,                 // GB300 NVL72 datasheet: 288 GB HBM3e per GPU, "up to 20 TB" per rack usable (Google Cloud A4X Max: "roughly 279 GB per GPU"); NVML reports 298,500,227,072 bytes = 278 GiB
		HBMBandwidth:    8e12,                // GB300 NVL72 datasheet: 576 TB/s / 72
		NVLinkGBps:      1800,                // GB300 NVL72 datasheet: NVLink 5, 130 TB/s / 72
		NICGbps:         800,                 // GB300 NVL72 datasheet: 72 ConnectX-8 SuperNICs, 800 Gb/s each
		TDPWatts:        1400,                // NVIDIA Blackwell Ultra (GB300) configuration: 1,400 W per GPU (glennklockwood.com/garden/processors/B300)
		SMs:             160,                 // NVIDIA technical blog "Inside NVIDIA Blackwell Ultra": 160 SMs across two dies
		GPUsPerNode:     4,                   // GB300 NVL72 compute tray: 2 Grace + 4 Blackwell Ultra GPUs
		NVLinkDomain:    72,                  // GB300 NVL72: 72 GPUs on one NVLink switch system
		NVLinkRingBusBW: b200NVLinkRingBusBW, // same NVLink 5 links per GPU as B200
		NVLSBusBW:       b200NVLSBusBW,       // NVL72 all_reduce_perf, as for GB200
		HostBandwidth:   c2cHost,
		Compute:         gb300Compute, // not measured: Hopper's fractions (compute.go)
	},
	h100SXM,
	{
		// The H800 is the H100 SXM for the Chinese market: the same GH100
		// compute and HBM3, NVLink cut to 400 GB/s (NVIDIA H800 product
		// brief; "an H100 with 400 GB/s NVLink"). DeepSeek-V3's cluster
		// (arXiv:2412.19437 §3.1): 8 H800s per node on NVLink and NVSwitch,
		// 400 Gb/s InfiniBand per GPU; "NVLink offers a bandwidth of 160
		// GB/s" against IB's 50 GB/s (§3.2.2), which is the effective
		// per-GPU NVLink bandwidth used here.
		Name:            "h800",
		BF16TFLOPS:      989.4,   // as H100 SXM (same GH100 compute)
		FP8TFLOPS:       1979,    // as H100 SXM
		HBMGiB:          80,      // as H100 SXM: 80 GB HBM3
		HBMBandwidth:    3.35e12, // as H100 SXM
		NVLinkGBps:      400,     // NVIDIA H800 SXM: NVLink 400 GB/s
		NICGbps:         400,     // DeepSeek-V3 §3.1: 400 Gb/s InfiniBand per GPU
		TDPWatts:        700,     // as H100 SXM
		SMs:             132,     // GH100 SXM5
		GPUsPerNode:     8,       // HGX H800
		NVLinkRingBusBW: h800NVLinkBusBW,
		NVLSBusBW:       h800NVLinkBusBW * hopperNVLSBusBW / hopperNVLinkRingBusBW, // NVLink SHARP's gain on H100 (480/370), at the H800's link rate: an assumption
		HostBandwidth:   pcie5Host,
		Compute:         h100Compute, // the same GH100 silicon at the same 700 W
	},
	{
		Name:            "h200-sxm",
		BF16TFLOPS:      989.4,  // NVIDIA H200 datasheet (same GH100 compute as H100)
		FP8TFLOPS:       1979,   // NVIDIA H200 datasheet: 3,958 with sparsity / 2
		HBMGiB:          141,    // NVIDIA H200 datasheet: 141 GB HBM3e
		HBMBandwidth:    4.8e12, // NVIDIA H200 datasheet: 4.8 TB/s
		NVLinkGBps:      900,    // NVIDIA H200 datasheet: NVLink 4
		NICGbps:         400,    // DGX H200: 8× ConnectX-7 400 Gb/s
		TDPWatts:        700,    // NVIDIA H200 SXM datasheet: up to 700 W
		SMs:             132,    // GH100, as H100 SXM
		GPUsPerNode:     8,      // DGX/HGX H200
		NVLinkRingBusBW: hopperNVLinkRingBusBW,
		NVLSBusBW:       hopperNVLSBusBW,
		HostBandwidth:   pcie5Host,
		Compute:         h100Compute, // same GH100 die; its faster HBM enters through HBMBandwidth
	},
}

// h100SXM is the H100 SXM5, the GPU the compute model was measured on; a
// variable of its own so that compute.go can price products on it.
var h100SXM = GPU{
	Name:            "h100-sxm",
	BF16TFLOPS:      989.4,   // NVIDIA H100 SXM datasheet: 1,979 with sparsity / 2
	FP8TFLOPS:       1979,    // NVIDIA H100 SXM datasheet: 3,958 with sparsity / 2
	HBMGiB:          80,      // NVIDIA H100 SXM datasheet
	HBMBandwidth:    3.35e12, // NVIDIA H100 SXM datasheet: 3.35 TB/s
	NVLinkGBps:      900,     // NVIDIA H100 SXM datasheet: NVLink 4, 18 links
	NICGbps:         400,     // DGX H100: 8× ConnectX-7 400 Gb/s
	TDPWatts:        700,     // NVIDIA H100 SXM datasheet
	SMs:             132,     // NVIDIA H100 Tensor Core GPU architecture whitepaper (SXM5)
	GPUsPerNode:     8,       // DGX/HGX H100
	NVLinkRingBusBW: hopperNVLinkRingBusBW,
	NVLSBusBW:       hopperNVLSBusBW,
	HostBandwidth:   pcie5Host,
	Compute:         h100Compute, // measured, compute.go
}

// The A100's bf16 peak and the 80 GB part's HBM bandwidth, which
// compute.go's A100 efficiency is derived at.
const (
	a100BF16TFLOPS = 312      // NVIDIA A100 datasheet, bf16 tensor dense
	a100HBM80      = 2.039e12 // NVIDIA A100 80GB datasheet: 80 GB HBM2e at 2,039 GB/s
)

// a100SXM is an A100 SXM with hbmGiB GiB of HBM at hbmBandwidth bytes/s.
func a100SXM(name string, hbmGiB, hbmBandwidth float64) GPU {
	return GPU{
		Name:            name,
		BF16TFLOPS:      a100BF16TFLOPS,
		FP8TFLOPS:       0, // Ampere has no fp8 tensor cores
		HBMGiB:          hbmGiB,
		HBMBandwidth:    hbmBandwidth,
		NVLinkGBps:      600, // NVIDIA A100 datasheet: NVLink 3, 12 links
		NICGbps:         200, // DGX A100: 8× HDR 200 Gb/s
		TDPWatts:        400, // NVIDIA A100 SXM datasheet
		SMs:             108, // NVIDIA A100 Tensor Core GPU architecture whitepaper
		GPUsPerNode:     8,   // DGX/HGX A100
		NVLinkRingBusBW: a100NVLinkRingBusBW,
		NVLSBusBW:       0, // third-generation NVSwitch SHARP arrived with Hopper
		HostBandwidth:   pcie4Host,
		Compute:         a100Compute,
	}
}

// Host links: PCIe 4.0 x16 (A100) carries 32 GB/s per direction and PCIe 5.0
// x16 (H100, H200, B200) 64 GB/s (PCI-SIG specifications; NVIDIA
// datasheets); a device-to-host copy achieves about 80% of that. On
// GB200/GB300 the GPUs reach their Grace CPU over NVLink-C2C, 900 GB/s
// both directions summed (GB200 NVL72 datasheet), assumed shared by the
// superchip's two GPUs: 225 GB/s per GPU per direction, at the same 80%.
const (
	pcie4Host = 0.8 * 32e9
	pcie5Host = 0.8 * 64e9
	c2cHost   = 0.8 * 900e9 / 2 / 2
)

// Measured (or, where marked, derived) nccl-tests bus bandwidths inside one
// 8-GPU NVSwitch node, bytes/s.
const (
	// a100NVLinkRingBusBW: NVIDIA/nccl-tests issue 149 (S. Jeaugey, NVIDIA):
	// 12 NVLink3 links × ~20 GB/s effective = 240 GB/s, "but some other
	// bottlenecks on the GPUs limits it to ~230GB/s" (8×A100 all_reduce_perf);
	// nccl-tests issue 175 measured 232.5 GB/s on one 8×A100 node, and NCCL's
	// own tuning model caps sm80 busbw at 235 GB/s (src/graph/tuning.cc).
	a100NVLinkRingBusBW = 230e9

	// hopperNVLinkRingBusBW: NVIDIA/nccl-tests issue 212 (S. Jeaugey): 450
	// GB/s line rate less ~20% protocol overhead gives "an effective NVLink
	// bandwidth of 370GB/s", the busbw of non-all-reduce operations or of
	// NCCL_ALGO=RING (also published.yaml collectives_measured). H200 has the
	// same NVLink4/NVSwitch fabric.
	hopperNVLinkRingBusBW = 370e9

	// hopperNVLSBusBW: NVIDIA/nccl-tests issue 212 (S. Jeaugey): with NVLink
	// SHARP "On 8 GPUs, you should reach a peak busBw of ~480GB/s"
	// (published.yaml collectives_measured, issues 212/290). On 8×H200,
	// nccl-tests issue 272 measured a 475 GB/s peak.
	hopperNVLSBusBW = 480e9

	// b200NVLinkRingBusBW is derived, not measured: no public 8×B200 ring
	// busbw was found. NCCL's topology model gives Blackwell 40.1 GB/s
	// effective per NVLink5 link (SM100_NVLINK_BW in src/graph/topo.h; the
	// "maxBw 721.8" of NVIDIA/nccl issue 1807) × 18 links = 721.8 GB/s. The
	// same model for Hopper (SM90_NVLINK_BW 20.6 × 18 = 370.8) reproduces the
	// measured 370 GB/s; scaling H100's measured ratio to line rate
	// (370/450 × 900) would give 740 GB/s, within 3%.
	b200NVLinkRingBusBW = 720e9

	// b200NVLSBusBW: NVIDIA/nccl issue 1807, all_reduce_perf on one 8×B200
	// node with NCCL 2.27 reached "830+" GB/s busbw; a 72-GPU GB200 NVL72
	// all_reduce_perf in coreweave/nccl-tests pull request 43 peaks at
	// 835-847 GB/s on the same NVLink5 generation.
	b200NVLSBusBW = 830e9

	// h800NVLinkBusBW: DeepSeek-V3 technical report (arXiv:2412.19437
	// §3.2.2): on their H800 nodes "NVLink offers a bandwidth of 160 GB/s",
	// the achieved figure they balance IB traffic against. It is 0.4 of
	// the 400 GB/s datasheet figure, close to H100's 370/900 = 0.41.
	h800NVLinkBusBW = 160e9
)

// gpuAliases are the short names papers and tables use for the catalog's
// parts: the SXM form factor of training clusters and, for the A100, the
// 80 GB part unless 40 GB is said.
var gpuAliases = map[string]string{
	"a100": "a100-sxm-80g", "a100-80g": "a100-sxm-80g", "a100-40g": "a100-sxm-40g",
	"h100": "h100-sxm", "h100-80g": "h100-sxm", "h200": "h200-sxm",
}

// LookupGPU returns the catalog entry named name (exact, lower case, or
// one of gpuAliases). An unknown name gives an *UnknownNameError listing
// the valid names.
func LookupGPU(name string) (GPU, error) {
	if full, ok := gpuAliases[name]; ok {
		name = full
	}
	for _, g := range catalog {
		if g.Name == name {
			return g, nil
		}
	}
	return GPU{}, &UnknownNameError{Kind: "gpu", Name: name, Valid: GPUNames()}
}

// GPUNames returns the catalog's names, sorted. The slice is the caller's.
func GPUNames() []string {
	names := make([]string, len(catalog))
	for i, g := range catalog {
		names[i] = g.Name
	}
	slices.Sort(names)
	return names
}
