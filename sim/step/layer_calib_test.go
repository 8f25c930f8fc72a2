package step

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/clustersim/clustersim/sim/model"
)

// TestLayerComputeMatchesPyTorch compares the compute of one layer's
// forward and backward pass, as the coster prices it from the kernel
// calibration, with the same layer run in eager PyTorch on one H100 at the
// tensor-parallel shard shapes, collectives replaced by free stand-ins
// (cluster/calibration/measure.py, section "layer", 2026-11-26; the
// timings are in testdata). The layer benchmark was not used to fit
// anything: it checks that the kernels the coster lists, priced one by one,
// add up to what a framework really spends.
func TestLayerComputeMatchesPyTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/h100-layer-2026-11-26.json")
	if err != nil {
		t.Fatal(err)
	}
	var cal struct {
		Device string `json:"device"`
		Layer  []struct {
			Case                            string
			Hidden, FFN, Heads, KVHeads, TP int
			Tokens, Keys                    int
			FwdBwd                          float64 `json:"fwdbwd_s"`
		} `json:"layer"`
	}
	if err := json.Unmarshal(data, &cal); err != nil {
		t.Fatal(err)
	}
	if len(cal.Layer) != 4 || cal.Device != "NVIDIA H100 80GB HBM3" {
		t.Fatalf("%d layer cases on %q", len(cal.Layer), cal.Device)
	}
	base := llama405(t)
	for _, c := range cal.Layer {
		t.Run(c.Case, func(t *testing.T) {
			s := base
			s.Arch = model.Arch{Name: c.Case, Layers: 1, Hidden: c.Hidden, FFNHidden: c.FFN, Heads: c.Heads, KVHeads: c.KVHeads, Vocab: 128256, MLP: model.SwiGLU}
			cp := c.Keys / c.Tokens
			s.Layout.TP, s.Layout.CP = c.TP, cp
			s.Training.SeqLen = c.Keys
			// the benchmark's weights are bf16 and their gradients
			// accumulate over its repetitions in bf16 (PyTorch's
			// AccumulateGrad), a separate kernel per weight
			s.Training.GradBytes, s.Training.GradAccumulation = 2, model.SeparateAccumulation
			k := newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
			got := k.build(k.layerForward).parts[kCompute] + k.build(k.layerBackward).parts[kCompute]
			if d := got/c.FwdBwd - 1; d < -0.07 || d > 0.07 {
				t.Errorf("coster %.2f ms, PyTorch %.2f ms (%+.1f%%)", got*1e3, c.FwdBwd*1e3, 100*d)
			} else {
				t.Logf("coster %.2f ms, PyTorch %.2f ms (%+.1f%%)", got*1e3, c.FwdBwd*1e3, 100*d)
			}
		})
	}
}
