package run

import (
	"testing"

	"github.com/clustersim/clustersim/cluster/failure"
)

// TestTimelineForCharts: the recorded trial names a relaunch between phases
// that change GPUs, and a slow node's step-time factor.
func TestTimelineForCharts(t *testing.T) {
	plans := []phasePlan{
		{workS: 86400, intervalS: 3600, stallS: 10, writeS: 10, gpus: 8, lemonRate: 5.0 / 86400},
		{workS: 86400, intervalS: 3600, stallS: 10, writeS: 10, gpus: 16, relaunch: true},
	}
	res := runTrial(plans, []failure.Cause{}, 600, Lemons{Slowdown: 1.25, DetectS: 3600}, 1, 0, true)
	var relaunch, lemon bool
	for i, e := range res.events {
		switch e.Kind {
		case "relaunch":
			relaunch = true
			if i == 0 || res.events[i-1].Kind != "phase" || e.Phase != 1 {
				t.Errorf("relaunch at %d not right after the change to phase 1: %+v", i, res.events[max(i-1, 0):i+1])
			}
		case "lemon":
			lemon = true
			if e.Factor != 1.25 {
				t.Errorf("lemon factor %g, want 1.25", e.Factor)
			}
		}
	}
	if !relaunch || !lemon {
		t.Errorf("relaunch %t, lemon %t in %d events", relaunch, lemon, len(res.events))
	}
}
