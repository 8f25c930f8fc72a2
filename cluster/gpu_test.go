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
	want := []string{"a100-sxm-80g", "b200", "h100-sxm", "h200-sxm"}
	if !slices.Equal(got, want) {
		t.Fatalf("GPUNames() = %v, want %v", got, want)
	}
	got[0] = "mutated"
	if GPUNames()[0] != "a100-sxm-80g" {
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
		{"b200", GPU{Name: "b200", BF16TFLOPS: 2250, FP8TFLOPS: 4500, HBMGiB: 180, HBMBandwidth: 8e12,
			NVLinkGBps: 1800, NICGbps: 400, TDPWatts: 1000, SMs: 148, GPUsPerNode: 8,
			NVLinkRingBusBW: 720e9, NVLSBusBW: 830e9, HostBandwidth: 51.2e9, Compute: h100Compute}},
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
	const want = `cluster: unknown gpu "H100" (valid: a100-sxm-80g, b200, gb200, gb300, h100-sxm, h200-sxm)`
	if err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestPeakFLOPSAndHBMBytes(t *testing.T) {
	h100, _ := LookupGPU("h100-sxm")
	a100, _ := LookupGPU("a100-sxm-80g")
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"h100 bf16", h100.PeakFLOPS(BF16), 989.4e12}, // datasheet, TFLOPS × 1e12
		{"h100 fp8", h100.PeakFLOPS(FP8), 1979e12},
		{"a100 fp8 unsupported", a100.PeakFLOPS(FP8), 0},
		{"unknown precision", h100.PeakFLOPS(Precision(7)), 0},
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
		{"fp16", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePrecision(tt.in)
			if tt.wantErr {
				var unk *UnknownNameError
				if !errors.As(err, &unk) || !slices.Equal(unk.Valid, []string{"bf16", "fp8"}) {
					t.Fatalf("ParsePrecision(%q) error = %v, want *UnknownNameError listing bf16, fp8", tt.in, err)
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
