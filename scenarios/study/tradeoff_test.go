package study

import (
	"context"
	"math"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
)

func TestTradeoff(t *testing.T) {
	spec, _, err := scenarios.ResolveAnyLayout("llama3-8b")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := TradeoffOf(context.Background(), spec, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Points) != 20 || tr.Own == nil || !tr.Own.Scenario {
		t.Fatalf("%d points, own %+v", len(tr.Points), tr.Own)
	}
	// headroom is the catalog's HBM capacity less the fullest GPU's memory; ranks 1..20 in order of days
	for i, p := range tr.Points {
		if p.Rank != i+1 || math.Abs(p.HeadroomGiB-(tr.HBMGiB-p.MemoryGiB)) > 1e-12 || p.HeadroomGiB < 0 {
			t.Errorf("point %d: %+v (HBM %g)", i, p, tr.HBMGiB)
		}
		if i > 0 && p.Days < tr.Points[i-1].Days {
			t.Errorf("point %d: %g days, better than rank %d's %g", i, p.Days, i, tr.Points[i-1].Days)
		}
	}
	if tr.Own.Days < tr.Points[0].Days {
		t.Errorf("the scenario's layout (%g days) beats the plan's best (%g)", tr.Own.Days, tr.Points[0].Days)
	}
}
