package plan

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

func newCluster(t testing.TB, gpu string, gpus int, gbps float64, nodesPerPod int, oversub float64) cluster.Cluster {
	t.Helper()
	g, err := cluster.LookupGPU(gpu)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.New(g, gpus, 8, cluster.Network{ScaleOutGbps: gbps, NodesPerPod: nodesPerPod, Oversubscription: oversub, LatencyS: 5e-6})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func llama3(t testing.TB) failure.Profile {
	p, err := failure.Lookup("llama3")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// llama405 is the built-in llama3-405b scenario: Llama 3 405B on 16,384
// H100s with Table 4 row 2's layout (arXiv:2407.21783).
func llama405(t testing.TB) run.Spec {
	a, _ := model.LookupArch("llama3-405b")
	return run.Spec{
		Name: "llama3-405b",
		Step: step.Spec{
			Arch:     a,
			Layout:   model.Layout{TP: 8, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 8, SequenceParallel: true, ZeRO: 1, DPOverlap: true, RecomputeElementwise: true},
			Training: model.Training{SeqLen: 8192, GlobalBatch: 2048, GradBytes: 4, Tokens: 15.6e12},
			Cluster:  newCluster(t, "h100-sxm", 16384, 400, 384, 7),
		},
		Failures: run.Failures{Profile: llama3(t), RestartS: 600, StorageBandwidth: 2e12},
	}
}

// twenty is a 20-layer, 2.7B-parameter model on 64 H100s: small enough to
// simulate every feasible layout.
func twenty(t testing.TB) run.Spec {
	a := model.Arch{Name: "twenty", Layers: 20, Hidden: 3072, FFNHidden: 8192, Heads: 24, KVHeads: 8, Vocab: 32000, MLP: model.SwiGLU}
	return run.Spec{
		Name: "twenty",
		Step: step.Spec{
			Arch:     a,
			Layout:   model.Layout{TP: 2, PP: 2, CP: 1, DP: 16, MicroBatch: 1, VirtualStages: 1, SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			Training: model.Training{SeqLen: 4096, GlobalBatch: 256, GradBytes: 4, Tokens: 1e11},
			Cluster:  newCluster(t, "h100-sxm", 64, 400, 4, 4),
		},
		Failures: run.Failures{Profile: llama3(t), RestartS: 600, StorageBandwidth: 2e12},
	}
}

// gpt530 is the 530B GPT of Calculon's search (Isaev et al., SC23:
// "Calculon: a methodology and tool for high-level co-design of systems
// and large language models"): 105 layers, hidden 20,480, 128 heads,
// sequence 2,048, global batch 2,560, GELU, vocabulary 51,200, on 5,120
// A100 80 GB with 200 Gb/s NICs (Megatron-Turing NLG's 270B tokens).
func gpt530(t testing.TB) run.Spec {
	a := model.Arch{Name: "gpt-530b", Layers: 105, Hidden: 20480, FFNHidden: 4 * 20480, Heads: 128, KVHeads: 128, Vocab: 51200, MLP: model.GELU, Dropout: true}
	return run.Spec{
		Name: "gpt-530b",
		Step: step.Spec{
			Arch:     a,
			Layout:   model.Layout{TP: 8, PP: 35, CP: 1, DP: 1, MicroBatch: 1, VirtualStages: 1, SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			Training: model.Training{SeqLen: 2048, GlobalBatch: 2560, GradBytes: 4, Tokens: 270e9},
			Cluster:  newCluster(t, "a100-sxm-80g", 5120, 200, 640, 1),
		},
		Failures: run.Failures{Profile: llama3(t), RestartS: 600, StorageBandwidth: 2e12},
	}
}

// TestPrunedEqualsExhaustive: the pruned search ranks the top 10 exactly
// as simulating every feasible layout does.
func TestPrunedEqualsExhaustive(t *testing.T) {
	for _, c := range []struct {
		name string
		spec func(testing.TB) run.Spec
	}{
		{"20 layers on 64 GPUs", twenty},
		{"llama3-8b on 64 GPUs", func(t testing.TB) run.Spec {
			s := twenty(t)
			s.Step.Arch, _ = model.LookupArch("llama3-8b")
			s.Step.Training.GlobalBatch = 128
			return s
		}},
		{"20 layers on 64 GPUs with stragglers", stragglers(twenty)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var opt Options
			if testing.Short() && strings.Contains(c.name, "stragglers") {
				// every feasible layout is simulated with stragglers: with
				// -short, over one micro-batch size
				opt.MicroBatches = []int{1}
			}
			s := c.spec(t)
			pruned, err := Search(context.Background(), s, opt)
			if err != nil {
				t.Fatal(err)
			}
			ex := opt
			ex.Exhaustive = true
			all, err := Search(context.Background(), s, ex)
			if err != nil {
				t.Fatal(err)
			}
			if len(pruned.Layouts) != 10 {
				t.Fatalf("%d layouts ranked, want 10", len(pruned.Layouts))
			}
			if !reflect.DeepEqual(pruned.Layouts, all.Layouts) {
				for i := range pruned.Layouts {
					p, a := pruned.Layouts[i], all.Layouts[i]
					t.Errorf("%d: pruned %+v %.6f s, exhaustive %+v %.6f s", i+1, p.Layout, p.StepTimeS, a.Layout, a.StepTimeS)
				}
			}
			if all.Simulated != all.Feasible || pruned.Simulated >= pruned.Feasible {
				t.Errorf("simulated %d of %d feasible (exhaustive: %d of %d)", pruned.Simulated, pruned.Feasible, all.Simulated, all.Feasible)
			}
			t.Logf("%d evaluated, %d feasible, %d simulated by the pruned search", pruned.Evaluated, pruned.Feasible, pruned.Simulated)
		})
	}
}

// TestLayoutsFit: every ranked layout fits in memory by the simulator's
// own check, is valid, and the ranking is by step time.
func TestLayoutsFit(t *testing.T) {
	s := twenty(t)
	res, err := Search(context.Background(), s, Options{Top: 50})
	if err != nil {
		t.Fatal(err)
	}
	prev := 0.0
	for _, r := range res.Layouts {
		if err := r.Layout.Validate(s.Step.Arch, s.Step.Training, s.Step.Cluster.GPUs); err != nil {
			t.Errorf("%+v: %v", r.Layout, err)
		}
		if _, _, err := step.CheckFit(s.Step.Arch, r.Layout, s.Step.Training, s.Step.Cluster.GPU); err != nil {
			t.Errorf("%+v: %v", r.Layout, err)
		}
		if r.MemoryGiBPerGPU > s.Step.Cluster.GPU.HBMGiB {
			t.Errorf("%+v: %.1f GiB", r.Layout, r.MemoryGiBPerGPU)
		}
		if r.StepTimeS < prev || r.LowerBoundS > r.StepTimeS*(1+1e-9) {
			t.Errorf("rank %d: step %.6f s after %.6f s, bound %.6f s", r.Rank, r.StepTimeS, prev, r.LowerBoundS)
		}
		prev = r.StepTimeS
	}
	n := res.Feasible
	for _, r := range res.Rejected {
		n += r.Count
	}
	if n != res.Evaluated {
		t.Errorf("feasible + rejected = %d, evaluated %d", n, res.Evaluated)
	}
}

// TestBeatsTable4: on Llama 3 405B's cluster the search finds a layout at
// least as fast as the one Meta used (Table 4 row 2), which is the
// baseline.
func TestBeatsTable4(t *testing.T) {
	res, err := Search(context.Background(), llama405(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Baseline == nil {
		t.Fatal("no baseline: Table 4's layout should be valid and fit")
	}
	best := res.Layouts[0]
	if best.StepTimeS > res.Baseline.StepTimeS {
		t.Errorf("best %+v at %.4f s is slower than Table 4's %.4f s", best.Layout, best.StepTimeS, res.Baseline.StepTimeS)
	}
	if best.MemoryGiBPerGPU > 80 {
		t.Errorf("best layout needs %.1f GiB", best.MemoryGiBPerGPU)
	}
	t.Logf("best %+v: %.4f s (Table 4: %.4f s, rank %d); %d evaluated, %d feasible, %d simulated",
		best.Layout, best.StepTimeS, res.Baseline.StepTimeS, res.Baseline.Rank, res.Evaluated, res.Feasible, res.Simulated)
	if math.Abs(best.WallClockDays-res.Steps*best.StepTimeS/res.ETTR/86400) > 1e-9 {
		t.Errorf("wall clock %.3f days, want steps × step / ETTR", best.WallClockDays)
	}
}

// TestDeterministic: one worker or many, the result is the same.
func TestDeterministic(t *testing.T) {
	s := twenty(t)
	one, err := Search(context.Background(), s, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	many, err := Search(context.Background(), s, Options{Workers: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, many) {
		t.Errorf("1 worker: %+v\n7 workers: %+v", one, many)
	}
}

// TestQuietRanking: Options.Quiet's ranking is what a search of the job
// without stragglers returns, and the ranking beside it is the search's
// own, with stragglers and without (when the two rankings are the same
// job's and share every step).
func TestQuietRanking(t *testing.T) {
	for _, c := range []struct {
		name string
		spec func(testing.TB) run.Spec
	}{{"stragglers", stragglers(twenty)}, {"no stragglers", twenty}} {
		t.Run(c.name, func(t *testing.T) {
			s := c.spec(t)
			opt := Options{Top: 3, MicroBatches: []int{1, 2}}
			alone, err := Search(context.Background(), s, opt)
			if err != nil {
				t.Fatal(err)
			}
			q := s
			q.Step.Noise = step.Noise{}
			qopt := opt
			qopt.Top = 12
			quiet, err := Search(context.Background(), q, qopt)
			if err != nil {
				t.Fatal(err)
			}
			opt.Quiet = 12
			both, err := Search(context.Background(), s, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(both.Quiet) != 12 || !reflect.DeepEqual(both.Quiet, quiet.Layouts) || !reflect.DeepEqual(both.QuietBaseline, quiet.Baseline) {
				t.Errorf("quiet ranking %+v\nwant %+v", both.Quiet, quiet.Layouts)
			}
			both.Quiet, both.QuietBaseline = nil, nil
			if !reflect.DeepEqual(both, alone) {
				t.Errorf("ranking with a quiet one %+v\nwant %+v", both, alone)
			}
		})
	}
}

// TestMemoryIgnoresTPOverlap: a layout's memory does not depend on
// tp_comm_overlap, which lets the search price it once for both (bound).
func TestMemoryIgnoresTPOverlap(t *testing.T) {
	s := twenty(t).Step
	n := 0
	err := enumerate(s.Arch, s.Training, s.Cluster.GPUs, s.Cluster.GPUsPerNode, s.Cluster.Domain(), true, Options{MicroBatches: DefaultMicroBatches}, func(l model.Layout, reason string) error {
		if reason != "" || !l.TPOverlap {
			return nil
		}
		on, err := model.StageMemory(s.Arch, l, s.Training)
		if err != nil {
			return err
		}
		l.TPOverlap = false
		off, err := model.StageMemory(s.Arch, l, s.Training)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(on, off) {
			t.Errorf("%+v: memory %v with tp_comm_overlap, %v without", l, on, off)
		}
		n++
		return nil
	})
	if err != nil || n < 100 {
		t.Fatalf("%d layouts compared: %v", n, err)
	}
}

// TestCancel: a cancelled search returns what it has and the context's
// error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Search(ctx, twenty(t), Options{})
	if err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.Complete {
		t.Error("a cancelled search says it is complete")
	}
}

// TestGPT530Space: the 530B search space of the benchmark has at least
// 8,112 layouts.
func TestGPT530Space(t *testing.T) {
	res, err := Search(context.Background(), gpt530(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Evaluated < 8112 {
		t.Errorf("%d layouts evaluated, want >= 8,112", res.Evaluated)
	}
	t.Logf("%d evaluated, %d feasible, %d simulated; best %+v %.3f s; rejected %v", res.Evaluated, res.Feasible, res.Simulated, res.Layouts[0].Layout, res.Layouts[0].StepTimeS, res.Rejected)
}

// BenchmarkSearch is the search of Calculon's 530B GPT on 5,120 A100s; it
// reports layouts evaluated per second of wall time.
func BenchmarkSearch(b *testing.B) {
	for _, c := range []struct {
		name string
		spec func(testing.TB) run.Spec
	}{{"gpt530b-5120xA100", gpt530}, {"llama3-405b-16384xH100", llama405},
		{"llama3-405b-16384xH100-stragglers", stragglers(llama405)}} {
		b.Run(c.name, func(b *testing.B) {
			s := c.spec(b)
			n := 0
			for b.Loop() {
				res, err := Search(context.Background(), s, Options{})
				if err != nil {
					b.Fatal(err)
				}
				n += res.Evaluated
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "layouts/s")
		})
	}
}

// stragglers is spec with the default straggler model, as a scenario
// without a stragglers section gets it.
func stragglers(spec func(testing.TB) run.Spec) func(testing.TB) run.Spec {
	return func(t testing.TB) run.Spec {
		s := spec(t)
		s.Step.Noise = step.Noise{CV: step.DefaultCV, GPUCV: step.DefaultGPUCV}
		s.Step.Samples, s.Step.Seed, s.Seed, s.Trials = 1, 1, 1, 20
		return s
	}
}

// TestRanksWithStragglers: with stragglers the ranking is by the mean
// noisy step, the one run.Simulate reports for the layout, and the days are
// run's within Monte Carlo noise (the closed form is its expectation).
func TestRanksWithStragglers(t *testing.T) {
	s := stragglers(twenty)(t)
	res, err := Search(context.Background(), s, Options{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.DaysFrom != DaysClosedForm {
		t.Errorf("days from %q", res.DaysFrom)
	}
	prev := 0.0
	for _, r := range res.Layouts {
		if r.StepTimeS < prev || r.NoiselessStepTimeS >= r.StepTimeS || r.LowerBoundS > r.NoiselessStepTimeS*(1+1e-9) {
			t.Errorf("rank %d: step %.6f s after %.6f s, noiseless %.6f s, bound %.6f s", r.Rank, r.StepTimeS, prev, r.NoiselessStepTimeS, r.LowerBoundS)
		}
		prev = r.StepTimeS
		rs := s
		rs.Step.Layout = r.Layout
		got, err := run.Simulate(context.Background(), rs)
		if err != nil {
			t.Fatal(err)
		}
		if got.StepTimeS != r.StepTimeS {
			t.Errorf("rank %d: step %.6f s, run's %.6f s", r.Rank, r.StepTimeS, got.StepTimeS)
		}
		if d := math.Abs(r.WallClockDays/got.WallClockDays - 1); d > 0.01 {
			t.Errorf("rank %d: %.4f days, run's %.4f", r.Rank, r.WallClockDays, got.WallClockDays)
		}
	}
}

// TestDaysFromRunWithLemons: slow nodes are outside the closed form, so the
// ranked layouts' days are run's own.
func TestDaysFromRunWithLemons(t *testing.T) {
	s := stragglers(twenty)(t)
	s.Failures.Lemons = run.Lemons{RatePerNodeDay: 0.01, Slowdown: 1.2, DetectS: 86400}
	res, err := Search(context.Background(), s, Options{Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.DaysFrom != DaysRunSimulation {
		t.Fatalf("days from %q", res.DaysFrom)
	}
	for _, r := range res.Layouts {
		rs := s
		rs.Step.Layout = r.Layout
		got, err := run.Simulate(context.Background(), rs)
		if err != nil {
			t.Fatal(err)
		}
		if got.WallClockDays != r.WallClockDays {
			t.Errorf("rank %d: %.4f days, run's %.4f", r.Rank, r.WallClockDays, got.WallClockDays)
		}
		if closed := wallClockDays(res, r.StepTimeS); r.WallClockDays <= closed {
			t.Errorf("rank %d: %.4f days with slow nodes, %.4f without", r.Rank, r.WallClockDays, closed)
		}
	}
}

// TestTPInNVLinkDomain: on GB200 NVL72 racks (4 GPUs a node, 72 on one
// NVLink fabric) tp ranges over the domain's divisors up to 8, not only
// the node's 4; on H100 nodes it stays inside the node.
func TestTPInNVLinkDomain(t *testing.T) {
	a, _ := model.LookupArch("llama3-70b")
	for _, c := range []struct {
		gpu          string
		perNode, dom int
		want         []int
	}{
		{"gb200", 4, 72, []int{1, 2, 3, 4, 6, 8}},
		{"h100-sxm", 8, 0, []int{1, 2, 4, 8}},
	} {
		g, err := cluster.LookupGPU(c.gpu)
		if err != nil {
			t.Fatal(err)
		}
		cl, err := cluster.New(g, 576, c.perNode, cluster.Network{ScaleOutGbps: 400, NVLinkDomain: c.dom, NodesPerPod: 576 / c.perNode, Oversubscription: 1, LatencyS: 5e-6})
		if err != nil {
			t.Fatal(err)
		}
		if got := tpCandidates(a, cl.GPUs, cl.GPUsPerNode, cl.Domain(), false); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: tp candidates %v, want %v", c.gpu, got, c.want)
		}
		s := run.Spec{Name: "llama3-70b", Step: step.Spec{Arch: a,
			Layout:   model.Layout{TP: 4, PP: 4, CP: 1, DP: 36, MicroBatch: 1, VirtualStages: 1, SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			Training: model.Training{SeqLen: 8192, GlobalBatch: 576, GradBytes: 4, Tokens: 1e12}, Cluster: cl},
			Failures: run.Failures{Profile: llama3(t), RestartS: 600, StorageBandwidth: 2e12}}
		res, err := Search(context.Background(), s, Options{Top: 5})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, r := range res.Layouts {
			seen[r.TP] = true
			if d := cl.Domain(); d%r.TP != 0 {
				t.Errorf("%s: tp %d leaves the %d-GPU NVLink domain", c.gpu, r.TP, d)
			}
		}
		t.Logf("%s: %d evaluated, best %+v %.3f s; tp of the top 5: %v", c.gpu, res.Evaluated, res.Layouts[0].Layout, res.Layouts[0].StepTimeS, seen)
	}
}
