package main

import (
	"testing"

	"github.com/clustersim/clustersim/scenarios/study"
)

// TestOverlapLabel: two layouts whose short forms agree are told apart by
// their TP overlap in the first screen's answer.
func TestOverlapLabel(t *testing.T) {
	l := study.Layout{TP: 8, PP: 16, CP: 1, MicroBatch: 1, VirtualStages: 8, Recompute: "none+ew", ZeRO: 1}
	if got := overlapLabel(shortLayout(l), l); got != "tp8 pp16 cp1 mb1 v8 ew without TP overlap" {
		t.Errorf("got %q", got)
	}
	l.TPCommOverlap = true
	if got := overlapLabel(shortLayout(l), l); got != "tp8 pp16 cp1 mb1 v8 ew with TP overlap" {
		t.Errorf("got %q", got)
	}
}
