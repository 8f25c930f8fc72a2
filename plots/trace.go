package plots

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/clustersim/clustersim/sim/step"
)

// TraceEvent is one event of the Chrome trace-event format (the JSON that
// Perfetto and chrome://tracing open): a complete slice ("X"), metadata
// ("M") or a flow arrow ("s" start, "f" finish). Times are microseconds.
type TraceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	ID   int            `json:"id,omitempty"`
	BP   string         `json:"bp,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// TraceFile is the whole trace: the JSON object format of the trace-event
// specification.
type TraceFile struct {
	TraceEvents     []TraceEvent      `json:"traceEvents"`
	DisplayTimeUnit string            `json:"displayTimeUnit"`
	OtherData       map[string]string `json:"otherData,omitempty"`
}

// Thread ids of the streams of a stage. A stream whose slices overlap (two
// transfers in flight at once) spills onto extra lanes, tid = base + 10·lane.
const (
	TidCompute = 1
	TidTP      = 2
	TidCP      = 3
	TidPP      = 4
	TidDP      = 5
)

var streamTids = map[string]int{"compute": TidCompute, "tp": TidTP, "cp": TidCP, "pp": TidPP, "dp": TidDP}

var tidNames = map[int]string{
	TidCompute: "compute (passes, layers, kernels)",
	TidTP:      "TP: tensor-parallel collectives",
	TidCP:      "CP: context-parallel collectives",
	TidPP:      "PP: incoming pipeline transfers",
	TidDP:      "DP: data-parallel collectives",
}

// TraceMeta describes the traced step.
type TraceMeta struct {
	Scenario      string
	CriticalStage int // the stage the breakdown is read on (step.Result.CriticalStage)
	Layout        string
}

// Trace builds the trace of a step's noiseless timeline (step.Result.Timeline
// recorded with Spec.Trace): one process per pipeline stage of one replica,
// a thread per stream. Each pass on the compute thread holds its layers (in
// model order forward, reversed backward; the embedding, or the output head
// and loss, is the remainder of the pass, at its start or end) and each
// layer its kernels; the layers' tensor- and context-parallel collectives
// sit on their threads. Pipeline transfers sit on the receiving stage's PP
// thread with a flow arrow from the producing pass to the consuming one.
func Trace(tl step.Timeline, meta TraceMeta) (TraceFile, error) {
	if tl.Stages < 1 || len(tl.Spans) == 0 {
		return TraceFile{}, fmt.Errorf("plots: trace: empty timeline (was the step simulated with Trace set?)")
	}
	p := tl.Stages
	K := len(tl.ChunkLayers)
	if K == 0 || K%p != 0 {
		return TraceFile{}, fmt.Errorf("plots: trace: %d chunks for %d stages", K, p)
	}
	lf, lb := layerLength(tl.LayerForward), layerLength(tl.LayerBackward)
	firstLayer := make([]int, K)
	for j := 1; j < K; j++ {
		firstLayer[j] = firstLayer[j-1] + tl.ChunkLayers[j-1]
	}
	us := func(s float64) float64 { return math.Round(s*1e9) / 1e3 }
	var xs []TraceEvent // X events before lane assignment
	x := func(stage, tid int, name, cat string, start, end float64, args map[string]any) {
		a, b := us(start), us(end)
		if b <= a {
			return // empty at the trace's nanosecond resolution
		}
		xs = append(xs, TraceEvent{Name: name, Cat: cat, Ph: "X", Ts: a, Dur: math.Round((b-a)*1e3) / 1e3, Pid: stage, Tid: tid, Args: args})
	}
	type passKey struct {
		stage, mb, chunk int
		bwd              bool
	}
	passes := map[passKey]step.Span{}
	hasCP := false
	for _, s := range tl.Spans {
		switch s.Stream {
		case "compute":
			if s.Chunk < 0 {
				// not a pass: the slowdown beside the data-parallel collectives
				x(s.Stage, TidCompute, s.Name, "slowdown", s.Start, s.End, nil)
				continue
			}
			passes[passKey{s.Stage, s.MicroBatch, s.Chunk, s.Backward}] = s
			j := s.Chunk*p + s.Stage
			n := tl.ChunkLayers[j]
			dir, tasks, L := "forward", tl.LayerForward, lf
			if s.Backward {
				dir, tasks, L = "backward", tl.LayerBackward, lb
			}
			lo, hi := firstLayer[j], firstLayer[j]+n-1
			x(s.Stage, TidCompute, s.Name, "pass", s.Start, s.End, map[string]any{
				"micro_batch": s.MicroBatch, "virtual_chunk": s.Chunk, "model_chunk": j, "direction": dir,
				"layers": fmt.Sprintf("%d-%d", lo, hi)})
			wait := 0.0 // activation offload (pp 1: chunk 0 only)
			if j == 0 {
				wait = tl.OffloadForward
				if s.Backward {
					wait = tl.OffloadBackward
				}
			}
			rem := (s.End - s.Start) - float64(n)*L - wait
			if rem < -1e-9*(s.End-s.Start) {
				return TraceFile{}, fmt.Errorf("plots: trace: pass %q on stage %d is %.6g s, shorter than its %d layers of %.6g s", s.Name, s.Stage, s.End-s.Start, n, L)
			}
			rem = max(rem, 0)
			first, last := j == 0, j == K-1
			t := s.Start
			// the remainder before the layers
			var pre, post string
			switch {
			case !s.Backward && first && !last:
				pre = "embedding"
			case !s.Backward && last:
				post = "output head + loss"
				if first {
					post = "embedding, output head + loss"
				}
			case s.Backward && last:
				pre = "output head + loss backward"
				if first {
					pre = "output head + loss backward (embedding backward included)"
				}
			case s.Backward && first:
				post = "embedding backward"
			default:
				post = "other (blocking collectives)"
			}
			if pre != "" {
				x(s.Stage, TidCompute, pre, "layer", t, t+rem, nil)
				t += rem
			}
			for k := 0; k < n; k++ {
				layer := lo + k
				if s.Backward {
					layer = hi - k
				}
				x(s.Stage, TidCompute, fmt.Sprintf("layer %d", layer), "layer", t, t+L, map[string]any{"layer": layer})
				for _, task := range tasks {
					tid := streamTids[task.Stream]
					if task.Stream == "cp" {
						hasCP = true
					}
					x(s.Stage, tid, task.Name, task.Stream, t+task.Start, t+task.End, map[string]any{"layer": layer, "micro_batch": s.MicroBatch})
				}
				t += L
			}
			if wait > 0 {
				x(s.Stage, TidCompute, "activation offload wait", "offload", t, t+wait, nil)
				t += wait
			}
			if pre == "" && post != "" {
				x(s.Stage, TidCompute, post, "layer", t, s.End, nil)
			}
		case "pp":
			x(s.Stage, TidPP, s.Name, "pp", s.Start, s.End, map[string]any{"micro_batch": s.MicroBatch, "virtual_chunk": s.Chunk, "backward": s.Backward})
		case "dp":
			tid := TidDP
			if s.Name == "optimizer" {
				tid = TidCompute
			}
			x(s.Stage, tid, s.Name, "dp", s.Start, s.End, nil)
		}
	}
	// Lanes: a stream whose slices overlap spills to another thread.
	// Compute slices nest (pass > layer > kernel) and are kept on one.
	var out []TraceEvent
	used := map[[2]int]bool{}
	byThread := map[[2]int][]int{}
	for i, e := range xs {
		k := [2]int{e.Pid, e.Tid}
		byThread[k] = append(byThread[k], i)
	}
	keys := make([][2]int, 0, len(byThread))
	for k := range byThread {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		idx := byThread[k]
		if k[1] == TidCompute {
			for _, i := range idx {
				out = append(out, xs[i])
			}
			used[k] = true
			continue
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(xs[a].Ts, xs[b].Ts) })
		var laneEnd []float64
		for _, i := range idx {
			e := xs[i]
			lane := -1
			for l, end := range laneEnd {
				if end <= e.Ts+1e-6 {
					lane = l
					break
				}
			}
			if lane < 0 {
				lane = len(laneEnd)
				laneEnd = append(laneEnd, 0)
			}
			laneEnd[lane] = e.Ts + e.Dur
			e.Tid = k[1] + 10*lane
			used[[2]int{k[0], e.Tid}] = true
			out = append(out, e)
		}
	}
	// Flow arrows along the pipeline: producer pass → consumer pass.
	flow := 0
	for _, s := range tl.Spans {
		if s.Stream != "pp" {
			continue
		}
		src, chunk := s.Stage-1, s.Chunk
		if s.Backward {
			src = s.Stage + 1
		}
		if !s.Backward && s.Stage == 0 {
			src, chunk = p-1, s.Chunk-1
		}
		if s.Backward && s.Stage == p-1 {
			src, chunk = 0, s.Chunk+1
		}
		prod, ok1 := passes[passKey{src, s.MicroBatch, chunk, s.Backward}]
		cons, ok2 := passes[passKey{s.Stage, s.MicroBatch, s.Chunk, s.Backward}]
		if !ok1 || !ok2 {
			return TraceFile{}, fmt.Errorf("plots: trace: transfer %q to stage %d has no producer or consumer pass", s.Name, s.Stage)
		}
		flow++
		name := "activations"
		if s.Backward {
			name = "gradients"
		}
		in := func(sp step.Span, atEnd bool) float64 {
			d := min(us(sp.End)-us(sp.Start), 1) / 2
			if atEnd {
				return us(sp.End) - d
			}
			return us(sp.Start) + d
		}
		out = append(out,
			TraceEvent{Name: name, Cat: "pp", Ph: "s", Ts: in(prod, true), Pid: src, Tid: TidCompute, ID: flow},
			TraceEvent{Name: name, Cat: "pp", Ph: "f", BP: "e", Ts: in(cons, false), Pid: s.Stage, Tid: TidCompute, ID: flow})
	}
	// Metadata: names and order of processes and threads.
	var metas []TraceEvent
	for r := 0; r < p; r++ {
		name := fmt.Sprintf("stage %d", r)
		if r == meta.CriticalStage {
			name += " (critical: the breakdown is read here)"
		}
		metas = append(metas,
			TraceEvent{Name: "process_name", Ph: "M", Pid: r, Args: map[string]any{"name": name}},
			TraceEvent{Name: "process_sort_index", Ph: "M", Pid: r, Args: map[string]any{"sort_index": r}})
		for _, tid := range []int{TidCompute, TidTP, TidCP, TidPP, TidDP} {
			if tid == TidCP && !hasCP {
				continue
			}
			for lane := 0; lane == 0 || used[[2]int{r, tid + 10*lane}]; lane++ {
				name := tidNames[tid]
				if lane > 0 {
					name = fmt.Sprintf("%s (%d)", name, lane+1)
				}
				metas = append(metas,
					TraceEvent{Name: "thread_name", Ph: "M", Pid: r, Tid: tid + 10*lane, Args: map[string]any{"name": name}},
					TraceEvent{Name: "thread_sort_index", Ph: "M", Pid: r, Tid: tid + 10*lane, Args: map[string]any{"sort_index": tid + 10*lane}})
			}
		}
	}
	return TraceFile{
		TraceEvents:     append(metas, out...),
		DisplayTimeUnit: "ms",
		OtherData: map[string]string{
			"scenario":    meta.Scenario,
			"layout":      meta.Layout,
			"step_time_s": fmt.Sprintf("%g", tl.StepTime),
			"note":        "one replica's noiseless step; times in microseconds from the start of the step",
		},
	}, nil
}

// WriteTrace writes Trace's result as JSON.
func WriteTrace(w io.Writer, tl step.Timeline, meta TraceMeta) error {
	f, err := Trace(tl, meta)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	return enc.Encode(f)
}

// layerLength is a layer's pass time: when its last task ends.
func layerLength(tasks []step.LayerTask) float64 {
	l := 0.0
	for _, t := range tasks {
		l = max(l, t.End)
	}
	return l
}
