package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// eps is the trace's resolution: times are rounded to nanoseconds.
const eps = 2e-3 // µs

func num64(v any) float64 {
	f, _ := v.(float64)
	return f
}

// TestTrace runs the trace command into a buffer and checks the events
// against the simulated step: no two slices overlap on one stream (slices
// on the compute thread nest: pass > layer > kernel), every pass starts
// after its producer's pass ends plus the transfer, and the per-stream
// totals equal the step's timeline and breakdown.
func TestTrace(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []string
	}{
		{"llama3-70b", nil}, // pp 4 interleaved over 5 chunks
		{"llama3-70b", []string{"training.seq_len=16384", "parallelism.cp=2", "parallelism.tp_comm_overlap=true", "parallelism.virtual_stages=1"}},
		{"llama3-8b", nil}, // pp 1: embedding and head in one pass
	} {
		t.Run(fmt.Sprint(c.name, c.sets), func(t *testing.T) {
			var out bytes.Buffer
			if err := runTrace(context.Background(), &streams{out: &out}, &traceOptions{scenario: c.name, sets: c.sets, out: "-"}); err != nil {
				t.Fatal(err)
			}
			var f plots.TraceFile
			if err := json.Unmarshal(out.Bytes(), &f); err != nil {
				t.Fatal(err)
			}
			spec, _, err := scenarios.Resolve(c.name, c.sets...)
			if err != nil {
				t.Fatal(err)
			}
			res, err := run.MainStep(context.Background(), spec, true)
			if err != nil {
				t.Fatal(err)
			}
			checkTrace(t, f, res, spec.Step)
		})
	}
}

func checkTrace(t *testing.T, f plots.TraceFile, res step.Result, st step.Spec) {
	t.Helper()
	p, v := st.Layout.PP, st.Layout.VirtualStages
	type key struct{ pid, tid int }
	threads := map[key][]plots.TraceEvent{}
	names := map[key]string{}
	procs := map[int]string{}
	for _, e := range f.TraceEvents {
		switch e.Ph {
		case "X":
			if e.Dur <= 0 {
				t.Errorf("slice %q with duration %g", e.Name, e.Dur)
			}
			threads[key{e.Pid, e.Tid}] = append(threads[key{e.Pid, e.Tid}], e)
		case "M":
			if e.Name == "thread_name" {
				names[key{e.Pid, e.Tid}] = e.Args["name"].(string)
			}
			if e.Name == "process_name" {
				procs[e.Pid] = e.Args["name"].(string)
			}
		}
	}
	if len(procs) != p {
		t.Errorf("%d processes, want one per stage (%d)", len(procs), p)
	}
	for k := range threads {
		if names[k] == "" {
			t.Errorf("thread %v has no name", k)
		}
	}
	// No overlap on a stream; nesting on the compute thread.
	for k, evs := range threads {
		slices.SortStableFunc(evs, func(a, b plots.TraceEvent) int {
			if a.Ts != b.Ts {
				return cmpF(a.Ts, b.Ts)
			}
			return cmpF(b.Dur, a.Dur)
		})
		var stack []plots.TraceEvent
		for _, e := range evs {
			for len(stack) > 0 && stack[len(stack)-1].Ts+stack[len(stack)-1].Dur <= e.Ts+eps {
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				if k.tid != plots.TidCompute || e.Ts+e.Dur > top.Ts+top.Dur+eps {
					t.Fatalf("stage %d %s: %q [%g, %g] overlaps %q [%g, %g]", k.pid, names[k], e.Name, e.Ts, e.Ts+e.Dur, top.Name, top.Ts, top.Ts+top.Dur)
				}
			}
			stack = append(stack, e)
		}
	}
	// Pipeline dependencies.
	type passKey struct {
		stage, mb, chunk int
		bwd              bool
	}
	passes := map[passKey]plots.TraceEvent{}
	for k, evs := range threads {
		if k.tid != plots.TidCompute {
			continue
		}
		for _, e := range evs {
			if e.Cat == "pass" {
				passes[passKey{e.Pid, int(num64(e.Args["micro_batch"])), int(num64(e.Args["virtual_chunk"])), e.Args["direction"] == "backward"}] = e
			}
		}
	}
	m := st.Layout.MicroBatches(st.Training)
	if len(passes) != p*2*m*v {
		t.Errorf("%d passes, want 2·m·v·p = %d", len(passes), p*2*m*v)
	}
	transfers := 0
	for k, evs := range threads {
		if k.tid%10 != plots.TidPP {
			continue
		}
		for _, e := range evs {
			transfers++
			mb, c, bwd := int(num64(e.Args["micro_batch"])), int(num64(e.Args["virtual_chunk"])), e.Args["backward"] == true
			src, pc := k.pid-1, c
			switch {
			case bwd && k.pid == p-1:
				src, pc = 0, c+1
			case bwd:
				src = k.pid + 1
			case k.pid == 0:
				src, pc = p-1, c-1
			}
			prod, ok := passes[passKey{src, mb, pc, bwd}]
			cons, ok2 := passes[passKey{k.pid, mb, c, bwd}]
			if !ok || !ok2 {
				t.Fatalf("transfer %q on stage %d: producer or consumer missing", e.Name, k.pid)
			}
			if math.Abs(e.Ts-(prod.Ts+prod.Dur)) > eps {
				t.Errorf("%q starts at %g, its producer %q on stage %d ends at %g", e.Name, e.Ts, prod.Name, src, prod.Ts+prod.Dur)
			}
			if cons.Ts < e.Ts+e.Dur-eps {
				t.Errorf("pass %q on stage %d starts at %g, before its input arrives at %g", cons.Name, k.pid, cons.Ts, e.Ts+e.Dur)
			}
		}
	}
	// every pass but the pipeline's first forward and last backward of a
	// micro batch has an input
	if want := p*2*m*v - 2*m; transfers != want {
		t.Errorf("%d transfers, want %d", transfers, want)
	}
	// Totals per stream against the step's timeline, stage by stage.
	tl := res.Timeline
	for r := 0; r < p; r++ {
		want := map[string]float64{}
		for _, s := range tl.Spans {
			if s.Stage == r {
				name := s.Stream
				if s.Name == "optimizer" {
					name = "optimizer"
				}
				want[name] += (s.End - s.Start) * 1e6
			}
		}
		got := map[string]float64{}
		var tp, cp, layers float64
		for k, evs := range threads {
			if k.pid != r {
				continue
			}
			for _, e := range evs {
				switch {
				case e.Cat == "pass":
					got["compute"] += e.Dur
				case e.Cat == "slowdown":
					// compute slowed beside the data-parallel collectives
					got["compute"] += e.Dur
					layers += e.Dur
				case e.Name == "optimizer":
					got["optimizer"] += e.Dur
				case e.Cat == "layer":
					layers += e.Dur
				case k.tid%10 == plots.TidPP:
					got["pp"] += e.Dur
				case k.tid%10 == plots.TidDP:
					got["dp"] += e.Dur
				case e.Cat == "tp":
					tp += e.Dur
				case e.Cat == "cp":
					cp += e.Dur
				}
			}
		}
		for s, w := range want {
			if math.Abs(got[s]-w) > 1e-6*w+eps*float64(len(tl.Spans)) {
				t.Errorf("stage %d %s: %g µs in the trace, %g in the timeline", r, s, got[s], w)
			}
		}
		// the layers and the embedding/head fill their passes
		if math.Abs(layers-got["compute"]) > 1e-6*layers {
			t.Errorf("stage %d: layers %g µs, passes %g", r, layers, got["compute"])
		}
		// each layer's TP and CP collectives, layer by layer
		var wantTP, wantCP float64
		for _, s := range tl.Spans {
			if s.Stage != r || s.Stream != "compute" || s.Chunk < 0 {
				continue
			}
			tasks := tl.LayerForward
			if s.Backward {
				tasks = tl.LayerBackward
			}
			n := float64(tl.ChunkLayers[s.Chunk*p+r])
			for _, task := range tasks {
				switch task.Stream {
				case "tp":
					wantTP += n * (task.End - task.Start) * 1e6
				case "cp":
					wantCP += n * (task.End - task.Start) * 1e6
				}
			}
		}
		if math.Abs(tp-wantTP) > 1e-6*wantTP+1 || math.Abs(cp-wantCP) > 1e-6*wantCP+1 {
			t.Errorf("stage %d: TP %g µs (want %g), CP %g µs (want %g)", r, tp, wantTP, cp, wantCP)
		}
		if r == res.CriticalStage {
			// The breakdown is read on this stage: its passes are its compute
			// plus exposed TP and CP; hidden collectives only add to the tracks.
			b := res.Breakdown
			if w := (b.Compute + b.TPComm + b.CPComm) * 1e6; math.Abs(got["compute"]-w) > 1e-6*w {
				t.Errorf("critical stage passes %g µs, breakdown compute+tp+cp %g", got["compute"], w)
			}
			if tp < b.TPComm*1e6*(1-1e-6) || cp < b.CPComm*1e6*(1-1e-6) {
				t.Errorf("critical stage TP %g, CP %g µs below the exposed %g, %g", tp, cp, b.TPComm*1e6, b.CPComm*1e6)
			}
			if !(cp > 0) != (st.Layout.CP == 1) {
				t.Errorf("CP track %g µs with cp %d", cp, st.Layout.CP)
			}
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
