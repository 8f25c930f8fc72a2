package main

import (
	"slices"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
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

// TestTradeoffTwinLabels: in the trade-off chart a top layout that reads
// like the scenario's own (it differs only in TP overlap) and the
// scenario's own both say which they are; other labels stay short.
func TestTradeoffTwinLabels(t *testing.T) {
	own := study.Layout{TP: 8, PP: 16, CP: 1, MicroBatch: 1, VirtualStages: 8, Recompute: "none+ew", ZeRO: 1}
	twin := own
	twin.TPCommOverlap = true
	other := study.Layout{TP: 8, PP: 8, CP: 2, MicroBatch: 1, VirtualStages: 16, Recompute: "none", ZeRO: 1, TPCommOverlap: true}
	spec, _, err := scenarios.Resolve("llama3-405b")
	if err != nil {
		t.Fatal(err)
	}
	r := &review{figures: &figures{Figures: &study.Figures{Spec: spec}}, rv: &study.Review{Tradeoff: &study.Tradeoff{
		GPUs: 16384, Feasible: 3,
		Points: []study.TradeoffPoint{{Rank: 1, Layout: other, Days: 61}, {Rank: 2, Layout: twin, Days: 61.4}},
		Own:    &study.TradeoffPoint{Layout: own, Days: 65.8, Scenario: true},
	}}}
	var got []string
	for _, p := range r.tradeoff().Points {
		got = append(got, p.Label)
	}
	want := []string{"tp8 pp8 cp2 mb1 v16", "tp8 pp16 cp1 mb1 v8 ew with TP overlap", "tp8 pp16 cp1 mb1 v8 ew without TP overlap"}
	if !slices.Equal(got, want) {
		t.Errorf("labels %q, want %q", got, want)
	}
}

// TestShortLayoutScheduleEP: the short form names a non-default pipeline
// schedule and expert parallelism, so that two layouts differing only in
// them read apart.
func TestShortLayoutScheduleEP(t *testing.T) {
	l := study.Layout{TP: 1, PP: 16, CP: 1, MicroBatch: 1, VirtualStages: 1, Recompute: "selective", ZeRO: 1, EP: 64, Schedule: "dualpipe"}
	if got, want := shortLayout(l), "tp1 pp16 cp1 mb1 selective ep64 dualpipe"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
