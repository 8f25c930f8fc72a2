package study

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
)

// TestScaling405B is the acceptance of issue 9: llama3-405b re-planned at
// every power of two from 1,024 to 65,536 GPUs has a layout at each, with
// the batch fixed at the scenario's 2,048 sequences of 8,192 tokens.
func TestScaling405B(t *testing.T) {
	sizes := DefaultScalingGPUs
	if testing.Short() {
		sizes = []int{1024, 65536} // the two ends of the range
	}
	st, err := Scaling(context.Background(), "llama3-405b", nil, ScalingOptions{GPUs: sizes})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Points) != len(sizes) || st.GlobalBatch != 2048 || st.SeqLen != 8192 || st.Batch != BatchFixed {
		t.Fatalf("%d points, batch %d × %d (%s)", len(st.Points), st.GlobalBatch, st.SeqLen, st.Batch)
	}
	for i, p := range st.Points {
		t.Logf("%6d GPUs: %v step %.2fs days %.1f gpu-h %.3g ettr %.3f mfu %.3f feasibles %d %s", p.GPUs, p.Layout, p.StepTimeS, p.Days, p.GPUHours, p.ETTR, p.MFU, p.Feasibles, p.Reason)
		if !p.Feasible {
			t.Errorf("%d GPUs: no layout: %s", p.GPUs, p.Reason)
			continue
		}
		l := p.Layout
		// every GPU is used and dp × micro batch divides the batch
		if l.TP*l.PP*l.CP*l.DP != p.GPUs || 2048%(l.DP*l.MicroBatch) != 0 {
			t.Errorf("%d GPUs: layout %v does not use them all or divide the batch", p.GPUs, l)
		}
		// GPU-hours = days × 24 × GPUs
		if d := p.GPUHours - p.Days*24*float64(p.GPUs); d*d > 1e-6*p.GPUHours*p.GPUHours {
			t.Errorf("%d GPUs: %g GPU-hours, days %g", p.GPUs, p.GPUHours, p.Days)
		}
		if i > 0 && !(p.Days < st.Points[i-1].Days) {
			t.Errorf("%d GPUs: %g days, not fewer than %g on half the GPUs", p.GPUs, p.Days, st.Points[i-1].Days)
		}
	}
}

// TestScalingSharesThePlan: the scaling study's point at the scenario's
// own size, taken from the trade-off's search (as ReviewOf does), is the
// one its own search gives.
func TestScalingSharesThePlan(t *testing.T) {
	spec, _, err := scenarios.ResolveAnyLayout("llama3-8b")
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := tradeoffSearch(context.Background(), spec, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	g := spec.Step.Cluster.GPUs
	alone, err := Scaling(context.Background(), "llama3-8b", nil, ScalingOptions{GPUs: []int{g}})
	if err != nil {
		t.Fatal(err)
	}
	var asked int
	shared, err := Scaling(context.Background(), "llama3-8b", nil, ScalingOptions{GPUs: []int{g},
		planned: &pending{gpus: g, wait: func() *searched { asked++; return s }}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(alone, shared) {
		t.Errorf("from the trade-off's search %+v\nits own search %+v", shared.Points, alone.Points)
	}
	scaled, _, err := scenarios.ResolveAnyLayout("llama3-8b", "trials=20", fmt.Sprintf("cluster.gpus=%d", g))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := s.bestFor(scaled); !ok || asked != 1 || !shared.Points[0].Feasible {
		t.Errorf("the trade-off's search was not used (asked %d, usable %v): %+v", asked, ok, shared.Points[0])
	}
}
