package cluster

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// calibration is the part of measure.py's output that the fit uses.
type calibration struct {
	Device string `json:"device"`
	GEMM   []struct {
		M, N, K float64
		Seconds float64 `json:"seconds"`
	} `json:"gemm_bf16"`
	FP8 []struct {
		M, N, K float64
		Seconds float64 `json:"seconds"`
	} `json:"gemm_fp8"`
	Attention []struct {
		Backend  string  `json:"backend"`
		B        float64 `json:"b"`
		HQ       float64 `json:"hq"`
		SQ       float64 `json:"sq"`
		SK       float64 `json:"sk"`
		D        float64 `json:"d"`
		Causal   bool    `json:"causal"`
		Fwd      float64 `json:"fwd_s"`
		FwdBwd   float64 `json:"fwdbwd_s"`
		ErrorMsg string  `json:"error"`
	} `json:"attention"`
}

func loadCalibration(t *testing.T, name string) calibration {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var c calibration
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// rmsLog is the root mean square of log(predicted/measured).
func rmsLog(pred, meas []float64) float64 {
	s := 0.0
	for i := range pred {
		d := math.Log(pred[i] / meas[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(pred)))
}

// TestComputeModelFitsH100Measurements checks the H100 constants against the
// timings they were fitted to: the geometric mean of two runs of
// calibration/measure.py on one H100 SXM, 2026-11-26. The bounds are the
// fit's own residuals rounded up, so a change to the constants that makes the
// fit worse fails here.
func TestComputeModelFitsH100Measurements(t *testing.T) {
	r1 := loadCalibration(t, "testdata/h100-sxm-2026-11-26-run1.json")
	r2 := loadCalibration(t, "testdata/h100-sxm-2026-11-26-run2.json")
	if r1.Device != "NVIDIA H100 80GB HBM3" {
		t.Fatalf("calibration device %q", r1.Device)
	}
	g, err := LookupGPU("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	var predAll, measAll, predBig, measBig []float64
	for i, x := range r1.GEMM {
		y := r2.GEMM[i]
		if x.M != y.M || x.N != y.N || x.K != y.K {
			t.Fatalf("runs disagree on shape %d", i)
		}
		meas := math.Sqrt(x.Seconds * y.Seconds)
		pred := g.GEMMTime(x.M, x.N, x.K, BF16)
		predAll, measAll = append(predAll, pred), append(measAll, meas)
		if 2*x.M*x.N*x.K >= 1e12 {
			predBig, measBig = append(predBig, pred), append(measBig, meas)
		}
	}
	var predFP8, measFP8 []float64
	for i, x := range r1.FP8 {
		if 2*x.M*x.N*x.K < 1e10 {
			continue // below the launch-bound regime the fit excluded
		}
		predFP8 = append(predFP8, g.GEMMTime(x.M, x.N, x.K, FP8))
		measFP8 = append(measFP8, math.Sqrt(x.Seconds*r2.FP8[i].Seconds))
	}
	var predF, measF, predB, measB, predF2, measF2, predB2, measB2 []float64
	for i, x := range r1.Attention {
		if (x.Backend != "cudnn" && x.Backend != "flash") || x.ErrorMsg != "" {
			continue
		}
		y := r2.Attention[i]
		f := 4 * x.B * x.HQ * x.SQ * x.SK * x.D
		if x.Causal {
			f /= 2
		}
		tiles := AttentionTiles(x.B, x.HQ, x.SQ)
		mf, mb := math.Sqrt(x.Fwd*y.Fwd), math.Sqrt((x.FwdBwd-x.Fwd)*(y.FwdBwd-y.Fwd))
		if x.Backend == "flash" { // FlashAttention-2
			predF2, measF2 = append(predF2, g.FusedAttentionTime(f, tiles, false, true)), append(measF2, mf)
			predB2, measB2 = append(predB2, g.FusedAttentionTime(f, tiles, true, true)), append(measB2, mb)
			continue
		}
		predF, measF = append(predF, g.AttentionTime(f, tiles, false)), append(measF, mf)
		predB, measB = append(predB, g.AttentionTime(f, tiles, true)), append(measB, mb)
	}
	for _, c := range []struct {
		name       string
		pred, meas []float64
		wantN      int
		maxRMS     float64
	}{
		{"bf16 GEMM, all shapes", predAll, measAll, 511, 0.051},
		{"bf16 GEMM, >= 1 TFLOP", predBig, measBig, 218, 0.034},
		{"fp8 GEMM", predFP8, measFP8, 15, 0.073},
		{"attention forward", predF, measF, 19, 0.081},
		{"attention backward", predB, measB, 19, 0.127},
		{"FlashAttention-2 forward", predF2, measF2, 19, 0.091},
		{"FlashAttention-2 backward", predB2, measB2, 19, 0.052},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.pred) != c.wantN {
				t.Fatalf("%d shapes, want %d", len(c.pred), c.wantN)
			}
			if got := rmsLog(c.pred, c.meas); got > c.maxRMS {
				t.Errorf("RMS log error %.4f > %.3f", got, c.maxRMS)
			}
		})
	}
}

func TestComputeTimes(t *testing.T) {
	const out8192 = 2 * 8192 * 8192.0 // bytes of an 8192×8192 bf16 output
	// The H100's modelled 8192³ bf16 rate over its best measured one.
	h100Rate8192 := 2 * math.Pow(8192, 3) / (2*math.Pow(8192, 3)/(989.4e12*0.71) + out8192/3.35e12 + 20e-6) / 785e12
	h100, _ := LookupGPU("h100-sxm")
	a100, _ := LookupGPU("a100-sxm-80g")
	gb200, _ := LookupGPU("gb200")
	gb300, _ := LookupGPU("gb300")
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		// 2·8192³ FLOPs / (989.4e12 · 0.71) + the 2·8192² output bytes at
		// 3.35 TB/s (40.1 µs) + 20 µs.
		{"h100 8192³ bf16", h100.GEMMTime(8192, 8192, 8192, BF16), 2*math.Pow(8192, 3)/(989.4e12*0.71) + out8192/3.35e12 + 20e-6},
		// fp8: 2·8192³ / (1979e12 · 0.64) + 40.1 µs + 22 µs.
		{"h100 8192³ fp8", h100.GEMMTime(8192, 8192, 8192, FP8), 2*math.Pow(8192, 3)/(1979e12*0.64) + out8192/3.35e12 + 22e-6},
		// A100 has no fp8: falls back to bf16, at which an 8192³ product
		// runs at 271.2 TFLOPS times the H100's modelled over best measured
		// rate (785 TFLOPS).
		{"a100 8192³ fp8 falls back", a100.GEMMTime(8192, 8192, 8192, FP8), 2 * math.Pow(8192, 3) / (271.2e12 * h100Rate8192)},
		// A skinny 8192×8192×8 product is bound by its output: 1.07 GFLOP
		// (1.5 µs of math) and the 134.2 MB output's write (40.1 µs) take
		// longer than moving all 134.5 MB at once (40.2 µs).
		{"h100 skinny product is bound by its output", h100.GEMMTime(8192, 8192, 8, BF16), 2*8192*8192*8/(989.4e12*0.71) + out8192/3.35e12 + 20e-6},
		// 1 GB streamed at 0.87 · 3.35 TB/s + 21 µs.
		{"h100 stream 1 GB", h100.MemoryTime(1e9, Stream), 1e9/(3.35e12*0.87) + 21e-6},
		{"h100 reduce 1 GB", h100.MemoryTime(1e9, Reduce), 1e9/(3.35e12*0.54) + 21e-6},
		// 1e12 forward FLOPs at 0.61 of peak + 56 µs; backward 2e12 at 0.43 + 160 µs.
		// 1,024 tiles (16 heads of 8,192 rows) over 132 SMs
		{"h100 attention fwd", h100.AttentionTime(1e12, 1024, false), 1e12/(989.4e12*0.655) + 48e-6 + 1024*5e-6/132},
		{"h100 attention bwd", h100.AttentionTime(1e12, 1024, true), 2e12/(989.4e12*0.45) + 136e-6 + 1024*12e-6/132},
		{"attention tiles", AttentionTiles(2, 16, 8200), 2 * 16 * 65},
		{"zero GEMM", h100.GEMMTime(0, 10, 10, BF16), 0},
		// Blackwell takes the fitted efficiencies (compute.go) and the H100's
		// fixed costs, with the output's 2·8192² bytes at 8 TB/s (16.8 µs):
		// 2·8192³ / (5000e12 · 0.51) + 16.8 µs + 22 µs on GB200 mxfp8;
		// 2·8192³ / (10000e12 · 0.41) at nvfp4; GB300's fp4 peak is 15000
		// TFLOPS. All compute bound: nvfp4 moves (1/2+1/16)·2·8192² +
		// 2·8192² bytes = 210 MB, 26 µs at 8 TB/s, against 183 µs of math on
		// GB200.
		{"gb200 8192³ mxfp8", gb200.GEMMTime(8192, 8192, 8192, MXFP8), 2*math.Pow(8192, 3)/(5000e12*0.51) + out8192/8e12 + 22e-6},
		{"gb200 8192³ nvfp4", gb200.GEMMTime(8192, 8192, 8192, NVFP4), 2*math.Pow(8192, 3)/(10000e12*0.41) + out8192/8e12 + 22e-6},
		{"gb300 8192³ nvfp4", gb300.GEMMTime(8192, 8192, 8192, NVFP4), 2*math.Pow(8192, 3)/(15000e12*0.435) + out8192/8e12 + 22e-6},
		{"gb200 8192³ bf16", gb200.GEMMTime(8192, 8192, 8192, BF16), 2*math.Pow(8192, 3)/(2500e12*0.71) + out8192/8e12 + 20e-6},
		// Reading a whole 8192×8192 weight for 8 rows is memory bound:
		// 2·(8·8192+8192²) + 2·8·8192 bytes at 3.35 TB/s (40.1 µs) against
		// 1.5 µs of math and 0.04 µs of output.
		{"h100 weight-streaming product is memory bound", h100.GEMMTime(8, 8192, 8192, BF16), (2*(8*8192+8192*8192.0)+2*8*8192)/3.35e12 + 20e-6},
		// A skinny nvfp4 product is bound by its output's write too.
		{"gb200 skinny nvfp4", gb200.GEMMTime(8192, 8192, 8, NVFP4), 2*8192*8192*8/(10000e12*0.41) + out8192/8e12 + 22e-6},
		// H100 has no mxfp8: priced as bf16 (scenarios refuse it first).
		{"h100 mxfp8 falls back", h100.GEMMTime(8192, 8192, 8192, MXFP8), 2*math.Pow(8192, 3)/(989.4e12*0.71) + out8192/3.35e12 + 20e-6},
		{"zero bytes", h100.MemoryTime(0, Stream), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if math.Abs(c.got-c.want) > 1e-9*math.Max(1, c.want) {
				t.Errorf("got %.9g s, want %.9g s", c.got, c.want)
			}
		})
	}
}
