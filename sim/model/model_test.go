package model

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func near(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

func TestParams(t *testing.T) {
	for _, c := range []struct {
		name string
		want float64 // arXiv:2407.21783 Table 3 / Meta's model cards (published.yaml "architectures")
	}{
		{"llama3-8b", 8.03e9},
		{"llama3-70b", 70.6e9},
		{"llama3-405b", 405.9e9},
		{"gpt3-175b", 174.6e9}, // Brown et al. 2020: "175B"; with the 51,200 vocabulary, untied head
		{"llama3.1-8b", 8.03e9},
		{"llama3.1-70b", 70.6e9},
		{"llama3.1-405b", 405.9e9},
		{"llama-7b", 6.738e9},       // the released checkpoint's 6,738,415,616
		{"llama-13b", 13.016e9},     // 13,015,864,320
		{"llama-33b", 32.53e9},      // 32,528,943,616
		{"llama2-7b", 6.738e9},      // the released checkpoint's 6,738,415,616
		{"llama2-13b", 13.016e9},    // 13,015,864,320
		{"llama2-70b", 68.98e9},     // 68,976,648,192
		{"llama-65b", 65.2e9},       // arXiv:2302.13971 Table 2
		{"mistral-7b", 7.242e9},     // the released checkpoint's 7,241,732,096
		{"bloom-176b", 176.25e9},    // arXiv:2211.05100: 176,247,271,424
		{"gpt-neox-20b", 20.55e9},   // arXiv:2204.06745: 20,554,567,680
		{"nemotron4-15b", 15.7e9},   // arXiv:2402.16819: 3.2B embedding + 12.5B other
		{"nemotron4-340b", 341.0e9}, // arXiv:2406.11704: 9.4B embedding + 331.6B other
		{"mt-nlg-530b", 530e9},      // arXiv:2201.11990: "530 billion"
		{"opt-175b", 175e9},         // arXiv:2205.01068: "175B"
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := LookupArch(c.name)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Params(); !near(got, c.want, 0.005) {
				t.Errorf("Params() = %.4g, want %.4g ± 0.5%%", got, c.want)
			}
		})
	}
}

func TestLayerParamsByHand(t *testing.T) {
	a, _ := LookupArch("llama3-405b")
	// Q and O: 16384² each; K and V: 16384·1024 each (8 KV heads × 128);
	// SwiGLU: 3·16384·53248; two norms of 16384.
	want := 2*16384.0*16384 + 2*16384.0*1024 + 3*16384.0*53248 + 2*16384
	if got := a.LayerParams(); got != want {
		t.Errorf("LayerParams() = %v, want %v", got, want)
	}
	// Embedding 128256·16384 and an untied head of the same size, plus the final norm.
	if got, want := a.Params(), 126*want+2*128256*16384.0+16384; got != want {
		t.Errorf("Params() = %v, want %v", got, want)
	}
}

func TestModelFLOPsPerToken(t *testing.T) {
	a, _ := LookupArch("llama3-405b")
	n := a.MatmulParams()
	// 6·N_matmul + 6·L·s·h_attn with L = 126, s = 8192, h_attn = 16384.
	want := 6*n + 6*126*8192*16384.0
	if got := a.ModelFLOPsPerToken(8192); got != want {
		t.Errorf("ModelFLOPsPerToken(8192) = %v, want %v", got, want)
	}
	// N_matmul leaves out the embedding lookup: Params − V·h − the norms.
	if got, want := n, a.Params()-128256*16384.0-(2*126+1)*16384.0; got != want {
		t.Errorf("MatmulParams() = %v, want %v", got, want)
	}
	// Non-causal counting doubles the attention term: at 128K it is 40% more.
	if got, want := a.NonCausalFLOPsPerToken(131072)-a.ModelFLOPsPerToken(131072), 6*126*131072*16384.0; got != want {
		t.Errorf("non-causal extra = %v, want %v", got, want)
	}
}

func TestChunkLayers(t *testing.T) {
	l405, _ := LookupArch("llama3-405b")
	gpt, _ := LookupArch("gpt3-175b")
	ones := make([]int, 128)
	for i := range ones {
		ones[i] = 1
	}
	ones[0], ones[127] = 0, 0
	stages := []int{7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7}
	for _, c := range []struct {
		name string
		a    Arch
		pp   int
		v    int
		want []int
	}{
		// Llama 3: one layer fewer on the first and last stage (126 = 16·8 − 2).
		{"llama3 pp16", l405, 16, 1, stages},
		// With one layer per virtual chunk the first chunk holds only the
		// embedding and the last only the output head (arXiv:2407.21783 §3.3.2).
		{"llama3 pp16 v8", l405, 16, 8, ones},
		{"gpt3 pp16 even", gpt, 16, 1, slices.Repeat([]int{6}, 16)},
		{"gpt3 pp8 v2", gpt, 8, 2, slices.Repeat([]int{6}, 16)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Layout{PP: c.pp, VirtualStages: c.v}.ChunkLayers(c.a)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("ChunkLayers = %v, want %v", got, c.want)
			}
		})
	}
	_, err := Layout{PP: 5, VirtualStages: 1}.ChunkLayers(l405)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "parallelism.pp" {
		t.Fatalf("126 layers over 5 stages: err = %v, want a parallelism.pp FieldError", err)
	}
}

func TestSchedule(t *testing.T) {
	f := func(mb, c int) Op { return Op{MicroBatch: mb, Chunk: c} }
	b := func(mb, c int) Op { return Op{MicroBatch: mb, Chunk: c, Backward: true} }
	for _, c := range []struct {
		name            string
		stage, pp, v, m int
		want            []Op
	}{
		// PipeDream-flush 1F1B, 4 stages, 6 micro batches: stage 0 warms up
		// with 3 forwards, alternates, then drains 3 backwards.
		{"1F1B stage 0", 0, 4, 1, 6, []Op{f(0, 0), f(1, 0), f(2, 0), f(3, 0), b(0, 0), f(4, 0), b(1, 0), f(5, 0), b(2, 0), b(3, 0), b(4, 0), b(5, 0)}},
		// The last stage alternates from the start.
		{"1F1B last stage", 3, 4, 1, 3, []Op{f(0, 0), b(0, 0), f(1, 0), b(1, 0), f(2, 0), b(2, 0)}},
		// Interleaved, 2 stages × 2 chunks, 4 micro batches: warm-up of
		// 2·(2−0−1) + (2−1)·2 = 4 forwards on stage 0; forwards run pp micro
		// batches of chunk 0, then the same of chunk 1; backwards start at
		// the last chunk.
		{"interleaved stage 0", 0, 2, 2, 4, []Op{
			f(0, 0), f(1, 0), f(0, 1), f(1, 1),
			f(2, 0), b(0, 1), f(3, 0), b(1, 1), f(2, 1), b(0, 0), f(3, 1), b(1, 0),
			b(2, 1), b(3, 1), b(2, 0), b(3, 0)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Schedule(c.stage, c.pp, c.v, c.m); !slices.Equal(got, c.want) {
				t.Errorf("Schedule = %v\nwant      %v", got, c.want)
			}
		})
	}
}

func TestPeakInFlight(t *testing.T) {
	// In 1F1B, stage r holds pp−r micro batches at its peak (Narayanan et al. 2021).
	for r := 0; r < 8; r++ {
		_, got := PeakInFlight(Schedule(r, 8, 1, 32), []int{1})
		if got != 8-r {
			t.Errorf("stage %d holds %d micro batches, want %d", r, got, 8-r)
		}
	}
	// Interleaved stage 0 with m = 4·pp: the warm-up of 2(pp−1) + (v−1)·pp
	// chunk passes plus the one in the steady state.
	if _, got := PeakInFlight(Schedule(0, 4, 2, 16), []int{1, 1}); got != 2*3+4+1 {
		t.Errorf("interleaved stage 0 holds %d chunk passes, want 11", got)
	}
}

func TestActivationBytesKorthikanti(t *testing.T) {
	// GPT-3-style layer (GELU, f = 4h, MHA, dropout) without fused attention:
	// Korthikanti et al. 2022 Table 2 per token (s·b = 1):
	// SP: h·(34 + 5·a·s/h)/t; TP without SP: h·(10 + 24/t + 5·a·s/(h·t)).
	a := Arch{Layers: 1, Hidden: 12288, FFNHidden: 4 * 12288, Heads: 96, KVHeads: 96, Vocab: 51200, MLP: GELU, Dropout: true}
	tr := Training{SeqLen: 2048, Attention: Unfused}
	h, s, heads, tp := 12288.0, 2048.0, 96.0, 8.0
	for _, c := range []struct {
		name string
		l    Layout
		want float64
	}{
		{"sequence parallel", Layout{TP: 8, SequenceParallel: true}, h * (34 + 5*heads*s/h) / tp},
		{"tensor parallel only", Layout{TP: 8}, h * (10 + 24/tp + 5*heads*s/(h*tp))},
		{"full recompute", Layout{TP: 8, SequenceParallel: true, Recompute: RecomputeFull}, 2 * h / tp},
		{"selective recompute", Layout{TP: 8, SequenceParallel: true, Recompute: RecomputeSelective}, h * 34 / tp},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := a.ActivationBytesPerToken(c.l, tr); !near(got, c.want, 1e-12) {
				t.Errorf("got %v bytes/token, want %v", got, c.want)
			}
		})
	}
}

func TestStageMemoryByHand(t *testing.T) {
	// Llama 3 405B, Table 4 row 2 layout with ZeRO-1 and element-wise
	// recompute; stage 1 holds 8 layers (v = 8: chunks 1, 17, …, 113).
	a, _ := LookupArch("llama3-405b")
	l := Layout{TP: 8, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 8, SequenceParallel: true, ZeRO: 1, RecomputeElementwise: true}
	tr := Training{SeqLen: 8192, GlobalBatch: 2048, GradBytes: 4}
	mem, err := StageMemory(a, l, tr)
	if err != nil {
		t.Fatal(err)
	}
	params := 8 * a.LayerParams() / 8
	// Per token per layer on one GPU: Q 2·2048, K and V 2·2·128, the
	// attention output 2·2048, SwiGLU gate and up 2·2·6656, log-sum-exp
	// 4·16 heads; sequence-parallel norms' inputs 2·2·16384/8.
	perToken := 2*2048.0 + 2*2*128 + 2*2048 + 2*2*6656 + 4*16 + 2*2*16384/8.0
	// m = 16 = pp: every forward pass runs before the first backward, so
	// stage 1 holds 16 micro batches of its 8 layers, plus the working
	// layer (with the norm outputs and the SwiGLU product, 2·2·16384/8 +
	// 2·6656 bytes/token more).
	working := (perToken + 2*2*16384/8.0 + 2*6656) * 8192
	want := Memory{
		Weights:     2 * params,
		Gradients:   4 * params,
		Optimizer:   12 * params / 128,
		Activations: 128*perToken*8192 + working,
		Reserved:    ReservedBytes,
	}
	got := mem[1]
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"weights", got.Weights, want.Weights}, {"gradients", got.Gradients, want.Gradients},
		{"optimizer", got.Optimizer, want.Optimizer}, {"activations", got.Activations, want.Activations},
		{"reserved", got.Reserved, want.Reserved},
	} {
		if !near(f.got, f.want, 1e-12) {
			t.Errorf("%s = %.6g, want %.6g", f.name, f.got, f.want)
		}
	}
}

func TestValidate(t *testing.T) {
	a, _ := LookupArch("llama3-405b")
	tr := Training{SeqLen: 8192, GlobalBatch: 2048, GradBytes: 4}
	good := Layout{TP: 8, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 8, ZeRO: 1}
	if err := good.Validate(a, tr, 16384); err != nil {
		t.Fatalf("Table 4 layout rejected: %v", err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*Layout, *Training)
		gpus  int
		field string
	}{
		{"product", func(l *Layout, _ *Training) {}, 8192, "parallelism"},
		{"heads", func(l *Layout, _ *Training) { l.TP, l.DP = 3, 2048*16/3 }, 16384, "parallelism.tp"},
		{"batch", func(_ *Layout, t *Training) { t.GlobalBatch = 2000 }, 16384, "training.global_batch"},
		{"interleave", func(l *Layout, t *Training) { t.GlobalBatch = 128 * 24 }, 16384, "parallelism.virtual_stages"},
		{"layers", func(l *Layout, _ *Training) { l.PP, l.DP = 32, 64; l.VirtualStages = 3 }, 16384, "parallelism.pp"},
		{"zero", func(l *Layout, _ *Training) { l.ZeRO = 4 }, 16384, "parallelism.zero"},
		{"cp", func(l *Layout, t *Training) { l.CP, l.DP = 3, 128; t.SeqLen = 8191 }, 8 * 16 * 3 * 128, "parallelism.cp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, tr := good, tr
			c.edit(&l, &tr)
			err := l.Validate(a, tr, c.gpus)
			var fe *FieldError
			found := false
			for _, e := range unjoin(err) {
				if errors.As(e, &fe) && fe.Field == c.field {
					found = true
				}
			}
			if !found {
				t.Errorf("Validate() = %v, want a %s error", err, c.field)
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestPeakLayerMicroBatches checks the closed form against walking the
// schedule (PeakInFlight) for every stage of many layouts: 1F1B and
// interleaved, fewer micro batches than stages, and the uneven first and
// last chunks of Layout.ChunkLayers (Llama 3's layout removes a layer from
// each), plus arbitrary uneven chunks.
func TestPeakLayerMicroBatches(t *testing.T) {
	archs := []Arch{{Layers: 126}, {Layers: 32}, {Layers: 105}, {Layers: 20}, {Layers: 7}}
	n := 0
	for _, a := range archs {
		for pp := 1; pp <= 24; pp++ {
			for v := 1; v <= 8; v++ {
				chunks, err := Layout{PP: pp, VirtualStages: v}.ChunkLayers(a)
				if err != nil {
					continue
				}
				for _, m := range []int{1, 2, 3, pp, 2 * pp, 3*pp + 1, 4 * pp} {
					if v > 1 && m%pp != 0 {
						continue // Layout.Validate refuses it
					}
					for r := 0; r < pp; r++ {
						stage := make([]int, v)
						for c := range stage {
							stage[c] = chunks[c*pp+r]
						}
						_, want := PeakInFlight(Schedule(r, pp, v, m), stage)
						if got := PeakLayerMicroBatches(r, pp, v, m, stage); got != want {
							t.Fatalf("%d layers, pp %d, v %d, m %d, stage %d (chunks %v): closed form %d, schedule %d",
								a.Layers, pp, v, m, r, stage, got, want)
						}
						n++
					}
				}
			}
		}
	}
	// Arbitrary chunk sizes, deterministic pseudo-random.
	x := uint64(1)
	next := func(k int) int { x = x*6364136223846793005 + 1442695040888963407; return int(x>>33) % k }
	for range 2000 {
		pp, v := 1+next(8), 1+next(5)
		m := pp * (1 + next(4))
		if v == 1 {
			m = 1 + next(20)
		}
		r := next(pp)
		stage := make([]int, v)
		for c := range stage {
			stage[c] = next(5)
		}
		_, want := PeakInFlight(Schedule(r, pp, v, m), stage)
		if got := PeakLayerMicroBatches(r, pp, v, m, stage); got != want {
			t.Fatalf("pp %d, v %d, m %d, stage %d, chunks %v: closed form %d, schedule %d", pp, v, m, r, stage, got, want)
		}
		n++
	}
	if n < 5000 {
		t.Errorf("only %d cases checked", n)
	}
}

func BenchmarkStageMemory(b *testing.B) {
	a, _ := LookupArch("llama3-405b")
	l := Layout{TP: 8, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 8, SequenceParallel: true, ZeRO: 1}
	tr := Training{SeqLen: 8192, GlobalBatch: 2048, GradBytes: 4}
	for b.Loop() {
		if _, err := StageMemory(a, l, tr); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGradientsOncePerMicroBatch: under every schedule each chunk's weight
// gradients of each micro batch are produced by exactly one pass (a full
// backward, a weight-gradient pass or DualPipe's overlapped pair), never
// by a forward or input-gradient pass; and the weights are read by every
// pass but the weight-gradient ones. The data-parallel collectives follow
// these passes (sim/step), so a schedule that split a backward pass in two
// must not reduce its gradients twice.
func TestGradientsOncePerMicroBatch(t *testing.T) {
	for _, c := range []struct {
		kind     PipeSchedule
		pp, v, m int
	}{
		{Sched1F1B, 4, 1, 8}, {SchedInterleaved, 4, 2, 8}, {SchedZBH1, 4, 1, 8}, {SchedZBH1, 2, 1, 5},
		{SchedDualPipe, 4, 1, 8}, {SchedDualPipe, 8, 1, 20},
	} {
		for r := 0; r < c.pp; r++ {
			ops := ScheduleFor(c.kind, r, c.pp, c.v, c.m)
			type key struct{ chunk, mb int }
			fwd, grads, reads := map[key]int{}, map[key]int{}, 0
			for _, o := range ops {
				if !o.Backward {
					fwd[key{o.Chunk, o.MicroBatch}]++
				}
				switch g := o.GradChunk(); {
				case o.Paired:
					grads[key{g, o.PairMicroBatch}]++
				case g >= 0:
					grads[key{g, o.MicroBatch}]++
				}
				if o.ReadsWeights() {
					reads++
				}
				if o.Weight && o.ReadsWeights() || o.Split && o.GradChunk() >= 0 {
					t.Fatalf("%v pp %d stage %d: op %+v", c.kind, c.pp, r, o)
				}
			}
			if len(grads) != len(fwd) {
				t.Errorf("%v pp %d stage %d: gradients of %d (chunk, micro batch) pairs, forward passes of %d", c.kind, c.pp, r, len(grads), len(fwd))
			}
			for k, n := range grads {
				if n != 1 || fwd[k] != 1 {
					t.Errorf("%v pp %d stage %d: chunk %d micro batch %d: gradients produced %d times, forward passes %d", c.kind, c.pp, r, k.chunk, k.mb, n, fwd[k])
				}
			}
			// 1F1B: m·v forward and m·v backward passes read the weights;
			// ZB-H1 adds m weight-gradient passes that do not.
			wantReads := len(ops)
			if c.kind == SchedZBH1 {
				wantReads = 2 * c.m
			}
			if c.kind != SchedDualPipe && reads != wantReads {
				t.Errorf("%v pp %d stage %d: %d passes read the weights, want %d", c.kind, c.pp, r, reads, wantReads)
			}
		}
	}
}
