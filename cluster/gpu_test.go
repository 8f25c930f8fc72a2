package cluster

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// approx reports whether got is within rel (relative) of want.
func approx(got, want, rel float64) bool {
	if want == 0 {
		return got == 0
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestGPUNames(t *testing.T) {
	got := GPUNames()
	// The catalog the contract (CONTRACT.md, cluster.gpu) names.
	want := []string{"a100-sxm-40g", "a100-sxm-80g", "b200", "gb200", "gb300", "h100-sxm", "h200-sxm", "h800"}
	if !slices.Equal(got, want) {
		t.Fatalf("GPUNames() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if GPUNames()[0] != "a100-sxm-40g" {
		t.Fatal("GPUNames returned the catalog's own slice")
	}
}

func TestLookupGPU(t *testing.T) {
	tests := []struct {
		name string
		want GPU
	}{
		// Every datasheet figure: reference/published.yaml "hardware";
		// bus bandwidths: published.yaml "collectives_measured" and the
		// nccl-tests/nccl issues cited in gpu.go.
		{"a100-sxm-80g", GPU{Name: "a100-sxm-80g", BF16TFLOPS: 312, FP8TFLOPS: 0, HBMGiB: 80, HBMBandwidth: 2.039e12,
			NVLinkGBps: 600, NICGbps: 200, TDPWatts: 400, SMs: 108, GPUsPerNode: 8,
			NVLinkRingBusBW: 230e9, NVLSBusBW: 0, HostBandwidth: 25.6e9, Compute: a100Compute}},
		{"h100-sxm", GPU{Name: "h100-sxm", BF16TFLOPS: 989.4, FP8TFLOPS: 1979, HBMGiB: 80, HBMBandwidth: 3.35e12,
			NVLinkGBps: 900, NICGbps: 400, TDPWatts: 700, SMs: 132, GPUsPerNode: 8,
			NVLinkRingBusBW: 370e9, NVLSBusBW: 480e9, HostBandwidth: 51.2e9, Compute: h100Compute}},
		{"h200-sxm", GPU{Name: "h200-sxm", BF16TFLOPS: 989.4, FP8TFLOPS: 1979, HBMGiB: 141, HBMBandwidth: 4.8e12,
			NVLinkGBps: 900, NICGbps: 400, TDPWatts: 700, SMs: 132, GPUsPerNode: 8,
			NVLinkRingBusBW: 370e9, NVLSBusBW: 480e9, HostBandwidth: 51.2e9, Compute: h100Compute}},
		{"b200", GPU{Name: "b200", BF16TFLOPS: 2250, FP8TFLOPS: 4500, MXFP8TFLOPS: 4500, FP4TFLOPS: 9000, HBMGiB: 180, HBMBandwidth: 8e12,
			NVLinkGBps: 1800, NICGbps: 400, TDPWatts: 1000, SMs: 148, GPUsPerNode: 8,
			NVLinkRingBusBW: 720e9, NVLSBusBW: 830e9, HostBandwidth: 51.2e9, Compute: b200Compute}},
		// GB200 NVL72 datasheet per GPU (÷72, sparse ÷2): 360/720/1,440 PFLOPS
		// bf16/fp8/fp4 with sparsity, 13.4 TB, 576 TB/s, 130 TB/s NVLink;
		// 4-GPU trays in a 72-GPU NVLink domain; C2C host link 0.8·900/4 GB/s.
		{"gb200", GPU{Name: "gb200", BF16TFLOPS: 2500, FP8TFLOPS: 5000, MXFP8TFLOPS: 5000, FP4TFLOPS: 10000, HBMGiB: 186, HBMBandwidth: 8e12,
			NVLinkGBps: 1800, NICGbps: 400, TDPWatts: 1200, SMs: 148, GPUsPerNode: 4, NVLinkDomain: 72,
			NVLinkRingBusBW: 720e9, NVLSBusBW: 830e9, HostBandwidth: 180e9, Compute: gb200Compute}},
		// GB300 NVL72 datasheet per GPU: bf16/fp8 as GB200, 1,080 PFLOPS
		// fp4 dense / 72, 20 TB usable (278 GiB), 800 Gb/s ConnectX-8, 1,400 W.
		{"gb300", GPU{Name: "gb300", BF16TFLOPS: 2500, FP8TFLOPS: 5000, MXFP8TFLOPS: 5000, FP4TFLOPS: 15000, HBMGiB: 278, HBMBandwidth: 8e12,
			NVLinkGBps: 1800, NICGbps: 800, TDPWatts: 1400, SMs: 160, GPUsPerNode: 4, NVLinkDomain: 72,
			NVLinkRingBusBW: 720e9, NVLSBusBW: 830e9, HostBandwidth: 180e9, Compute: gb300Compute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookupGPU(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("LookupGPU(%q) =\n%+v\nwant\n%+v", tt.name, got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("catalog entry invalid: %v", err)
			}
		})
	}
}

func TestLookupGPUUnknown(t *testing.T) {
	_, err := LookupGPU("H100")
	var unk *UnknownNameError
	if !errors.As(err, &unk) {
		t.Fatalf("LookupGPU(\"H100\") error = %v, want *UnknownNameError", err)
	}
	if unk.Kind != "gpu" || unk.Name != "H100" || !slices.Equal(unk.Valid, GPUNames()) {
		t.Errorf("got %+v", unk)
	}
	const want = `cluster: unknown gpu "H100" (valid: a100-sxm-40g, a100-sxm-80g, b200, gb200, gb300, h100-sxm, h200-sxm, h800)`
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestPeakFLOPSAndHBMBytes(t *testing.T) {
	h100, _ := LookupGPU("h100-sxm")
	a100, _ := LookupGPU("a100-sxm-80g")
	b200, _ := LookupGPU("b200")
	gb200, _ := LookupGPU("gb200")
	gb300, _ := LookupGPU("gb300")
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"h100 bf16", h100.PeakFLOPS(BF16), 989.4e12}, // datasheet, TFLOPS × 1e12
		{"h100 fp8", h100.PeakFLOPS(FP8), 1979e12},
		{"a100 fp8 unsupported", a100.PeakFLOPS(FP8), 0},
		{"unknown precision", h100.PeakFLOPS(Precision(7)), 0},
		// Hopper has no block-scaled or fp4 tensor cores.
		{"h100 mxfp8 unsupported", h100.PeakFLOPS(MXFP8), 0},
		{"h100 nvfp4 unsupported", h100.PeakFLOPS(NVFP4), 0},
		// DGX B200 datasheet: 72 PFLOPS fp8 and 144 PFLOPS fp4 with sparsity
		// over 8 GPUs, halved for dense; MXFP8 at the fp8 rate.
		{"b200 bf16", b200.PeakFLOPS(BF16), 2250e12},
		{"b200 fp8", b200.PeakFLOPS(FP8), 4500e12},
		{"b200 mxfp8", b200.PeakFLOPS(MXFP8), 4500e12},
		{"b200 nvfp4", b200.PeakFLOPS(NVFP4), 9000e12},
		// GB200 NVL72 datasheet: 360, 720, 1,440 PFLOPS with sparsity / 72 / 2.
		{"gb200 bf16", gb200.PeakFLOPS(BF16), 360e15 / 72 / 2},
		{"gb200 fp8", gb200.PeakFLOPS(FP8), 720e15 / 72 / 2},
		{"gb200 mxfp8", gb200.PeakFLOPS(MXFP8), 720e15 / 72 / 2},
		{"gb200 nvfp4", gb200.PeakFLOPS(NVFP4), 1440e15 / 72 / 2},
		// GB300 NVL72 datasheet: bf16 and fp8 as GB200; fp4 1,080 PFLOPS dense / 72.
		{"gb300 bf16", gb300.PeakFLOPS(BF16), 360e15 / 72 / 2},
		{"gb300 fp8", gb300.PeakFLOPS(FP8), 720e15 / 72 / 2},
		{"gb300 mxfp8", gb300.PeakFLOPS(MXFP8), 720e15 / 72 / 2},
		{"gb300 nvfp4", gb300.PeakFLOPS(NVFP4), 1080e15 / 72},
		{"h100 hbm bytes", h100.HBMBytes(), 85899345920}, // 80 · 2^30
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %g, want %g", tt.got, tt.want)
			}
		})
	}
}

func TestPrecision(t *testing.T) {
	tests := []struct {
		in      string
		want    Precision
		wantErr bool
	}{
		{"bf16", BF16, false},
		{"fp8", FP8, false},
		{" FP8 ", FP8, false},
		{"mxfp8", MXFP8, false},
		{"NVFP4", NVFP4, false},
		{"fp4", 0, true},      // the recipe is named nvfp4
		{"fp16", BF16, false}, // accepted as bf16 (FP16Alias)
		{"fp32", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrecision(tt.in)
			if tt.wantErr {
				var unk *UnknownNameError
				if !errors.As(err, &unk) || !slices.Equal(unk.Valid, []string{"bf16", "fp8", "mxfp8", "nvfp4"}) {
					t.Fatalf("ParsePrecision(%q) error = %v, want *UnknownNameError listing bf16, fp8, mxfp8, nvfp4", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePrecision(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, _ := ParsePrecision(got.String()); back != got {
				t.Errorf("round trip %v -> %q -> %v", got, got.String(), back)
			}
		})
	}
	if s := Precision(9).String(); s != "Precision(9)" {
		t.Errorf("Precision(9).String() = %q", s)
	}
	var zero Precision
	if zero != BF16 {
		t.Error("zero Precision is not BF16")
	}
}

func TestGPUValidate(t *testing.T) {
	bad := GPU{
		Name:            "",
		BF16TFLOPS:      math.NaN(),
		FP8TFLOPS:       -1,
		HBMGiB:          0,
		HBMBandwidth:    math.Inf(1),
		NVLinkGBps:      900,
		SMs:             -1,
		NVLinkRingBusBW: 0,
		NVLSBusBW:       math.NaN(),
		Compute:         h100Compute,
	}
	bad.Compute.GEMMEfficiency = 1.5
	bad.Compute.KernelOverheadS = -1
	err := bad.Validate()
	want := []string{"gpu.name", "gpu.bf16_tflops", "gpu.fp8_tflops", "gpu.hbm_gib", "gpu.hbm_bandwidth",
		"gpu.sms", "gpu.nvlink_ring_busbw", "gpu.nvls_busbw", "gpu.compute.gemm_efficiency", "gpu.compute.kernel_overhead_s"}
	if got := invalidFields(t, err); !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
}

// invalidFields unwraps a (possibly nested) errors.Join of *InvalidError and
// returns their fields in order.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var fields []string
		for _, e := range joined.Unwrap() {
			fields = append(fields, invalidFields(t, e)...)
		}
		return fields
	}
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v (%T) is not an *InvalidError", err, err)
	}
	return []string{inv.Field}
}

func TestSupportedPrecisions(t *testing.T) {
	for _, tt := range []struct {
		gpu  string
		want []string
	}{
		{"a100-sxm-80g", []string{"bf16"}},
		{"h100-sxm", []string{"bf16", "fp8"}},
		{"h200-sxm", []string{"bf16", "fp8"}},
		{"b200", []string{"bf16", "fp8", "mxfp8", "nvfp4"}},
		{"gb200", []string{"bf16", "fp8", "mxfp8", "nvfp4"}},
		{"gb300", []string{"bf16", "fp8", "mxfp8", "nvfp4"}},
	} {
		g, err := LookupGPU(tt.gpu)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Precisions(); !slices.Equal(got, tt.want) {
			t.Errorf("%s.Precisions() = %v, want %v", tt.gpu, got, tt.want)
		}
		if err := g.Validate(); err != nil {
			t.Errorf("%s: %v", tt.gpu, err)
		}
	}
}
