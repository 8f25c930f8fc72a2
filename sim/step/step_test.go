package step

import (
	"context"
	"errors"
	"math"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

func h100Cluster(t testing.TB, gpus int) cluster.Cluster {
	t.Helper()
	gpu, err := cluster.LookupGPU("h100-sxm")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.New(gpu, gpus, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// llama405 is Llama 3 405B's Table 4 row 2 layout (arXiv:2407.21783).
func llama405(t testing.TB) Spec {
	a, err := model.LookupArch("llama3-405b")
	if err != nil {
		t.Fatal(err)
	}
	return Spec{
		Arch:     a,
		Layout:   model.Layout{TP: 8, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 8, SequenceParallel: true, ZeRO: 1, DPOverlap: true, RecomputeElementwise: true},
		Training: model.Training{SeqLen: 8192, GlobalBatch: 2048, GradBytes: 4},
		Cluster:  h100Cluster(t, 16384),
		Noise:    Noise{CV: DefaultCV, GPUCV: DefaultGPUCV},
		Seed:     1,
	}
}

// TestClosedForm checks the event simulation against an independent
// closed-form step time without noise: the slowest stage's own passes
// (m micro batches through each of its chunks) plus the interleaved 1F1B
// bubble of (pp − 1) chunk passes, t̄_f + t̄_b the mean over chunks
// (Narayanan et al. 2021 §2.2: (pp−1)/v of a stage's per-micro-batch time),
// plus one point-to-point transfer per hop on the way down and back up,
// plus the data-parallel work that cannot overlap: the part of the first
// chunk's parameter gathers the first forward pass cannot hide, the queue
// of the layers' gradient reduce-scatters in the cool-down, and the
// optimizer.
// The model's vocabulary is tiny so that the head does not unbalance the
// stages.
func TestClosedForm(t *testing.T) {
	a := model.Arch{Name: "uniform", Layers: 48, Hidden: 8192, FFNHidden: 28672, Heads: 64, KVHeads: 8, Vocab: 256, MLP: model.SwiGLU}
	for _, c := range []struct {
		name                   string
		tp, pp, dp, v, mb, gbs int
		sp, tpOverlap          bool
	}{
		{"pp1", 8, 1, 16, 1, 1, 128, true, false},
		{"1F1B pp4", 8, 4, 8, 1, 1, 64, true, false},
		{"1F1B pp8 mb2", 4, 8, 4, 1, 2, 128, true, false},
		{"interleaved pp4 v2", 8, 4, 8, 2, 1, 128, true, false},
		{"interleaved pp8 v3", 8, 8, 2, 3, 1, 64, true, true},
		{"tp2 no SP", 2, 4, 16, 1, 1, 256, false, false},
		{"interleaved pp2 v4 tp4", 4, 2, 16, 4, 1, 256, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Spec{
				Arch:     a,
				Layout:   model.Layout{TP: c.tp, PP: c.pp, CP: 1, DP: c.dp, MicroBatch: c.mb, VirtualStages: c.v, SequenceParallel: c.sp, TPOverlap: c.tpOverlap, ZeRO: 1, DPOverlap: true},
				Training: model.Training{SeqLen: 4096, GlobalBatch: c.gbs, GradBytes: 4},
				Cluster:  h100Cluster(t, c.tp*c.pp*c.dp),
			}
			res, err := Simulate(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			pn := newPlan(s)
			m := float64(s.Layout.MicroBatches(s.Training))
			var mean float64
			stages := make([]float64, c.pp)
			for j, pr := range pn.parts {
				mean += (sum(pr[0]) + sum(pr[1])) / float64(len(pn.parts))
				stages[j%c.pp] += m * (sum(pr[0]) + sum(pr[1]))
			}
			slowest := slices.Max(stages)
			d := 0.0
			if c.pp > 1 {
				d = pn.pl.delay[pn.pl.n][0] // one hop: stage 1's first pass
			}
			p := float64(c.pp)
			// The first forward pass waits until its parameters arrive in
			// time: the gathers run back to back in forward order, and the
			// pass reaches bucket q afterStart after it begins.
			gathered, wait := 0.0, 0.0
			bs := pn.costs.Buckets[0][0]
			for q := len(bs) - 1; q >= 0; q-- {
				gathered += bs[q].Gather
				wait = math.Max(wait, gathered-bs[q].AfterStart)
			}
			pipe := wait + slowest + (p-1)*mean + 2*(p-1)*d
			// Stage 0 ends the step. In its cool-down it runs the last pp
			// backward passes of each chunk, from the last chunk down, one
			// mean backward pass apart; each layer's gradients are complete
			// a layer's backward time apart within the chunk's last pass,
			// and each bucket's reduce-scatter starts when its gradients are
			// complete and the previous one is done.
			var tb float64
			for _, pr := range pn.parts {
				tb += sum(pr[1]) / float64(len(pn.parts))
			}
			free := 0.0
			for ch := c.v - 1; ch >= 0; ch-- {
				end := pipe - float64(ch)*p*tb
				for _, b := range pn.costs.Buckets[0][ch] {
					free = math.Max(free, end-b.BeforeEnd) + b.Reduce
				}
			}
			want := free + pn.costs.Optimizer[0]
			if got := res.NoiselessStepTime; math.Abs(got/want-1) > 0.01 {
				t.Errorf("simulated %.4f s, closed form %.4f s (%+.2f%%)", got, want, (got/want-1)*100)
			}
			if res.StepTime != res.NoiselessStepTime || res.Breakdown.Straggler != 0 {
				t.Errorf("without noise the step time %v differs from the noiseless %v", res.StepTime, res.NoiselessStepTime)
			}
		})
	}
}

// TestTextbookBubble runs compute-only pipelines (constant pass times, no
// transfers) and checks the idle fraction against Narayanan et al. 2021:
// (pp−1)/m for 1F1B and (pp−1)/(v·m) interleaved, as a fraction of the
// ideal time m·(t_f + t_b).
func TestTextbookBubble(t *testing.T) {
	for _, c := range []struct{ p, v, m int }{{4, 1, 8}, {8, 1, 32}, {16, 1, 16}, {4, 2, 8}, {16, 8, 16}, {8, 4, 64}, {8, 3, 32}} {
		const tf, tb = 1.0, 2.0
		pl := newPipeline(c.p, c.v, c.m, model.Sched1F1B, func(_ int, o model.Op) float64 {
			if o.Backward {
				return tb / float64(c.v)
			}
			return tf / float64(c.v)
		}, func(int, int) float64 { return 0 })
		x := newReplica(pl)
		for k := range x.factor {
			x.factor[k] = 1
		}
		x.run()
		end := slices.Max(x.done)
		ideal := float64(c.m) * (tf + tb)
		got := end/ideal - 1
		want := float64(c.p-1) / float64(c.v*c.m)
		if math.Abs(got-want) > 0.01*want {
			t.Errorf("pp %d v %d m %d: bubble %.4f, textbook %.4f", c.p, c.v, c.m, got, want)
		}
	}
}

// TestStragglersGrowWithReplicas: with noise on, the mean step time rises
// with the number of data-parallel replicas, because the gradient
// collectives wait for the slowest one.
func TestStragglersGrowWithReplicas(t *testing.T) {
	a, _ := model.LookupArch("llama3-8b")
	prev := 0.0
	for _, dp := range []int{1, 4, 16, 64} {
		s := Spec{
			Arch:     a,
			Layout:   model.Layout{TP: 2, PP: 4, CP: 1, DP: dp, MicroBatch: 1, VirtualStages: 1, SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			Training: model.Training{SeqLen: 4096, GlobalBatch: 8 * dp, GradBytes: 4},
			Cluster:  h100Cluster(t, 8*dp),
			Noise:    Noise{CV: 0.02, GPUCV: 0.015},
			Seed:     7,
			Samples:  6,
		}
		res, err := Simulate(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if res.StepTime <= prev {
			t.Errorf("dp %d: mean step %.5f s, not above dp/4's %.5f s", dp, res.StepTime, prev)
		}
		if res.StepTime <= res.NoiselessStepTime {
			t.Errorf("dp %d: noisy %.5f s not above noiseless %.5f s", dp, res.StepTime, res.NoiselessStepTime)
		}
		prev = res.StepTime
	}
}

func TestBreakdownSumsToStepTime(t *testing.T) {
	s := llama405(t)
	for _, c := range []struct {
		name string
		edit func(*Spec)
	}{
		{"table 4 row 2", func(*Spec) {}},
		{"128K with CP", func(s *Spec) {
			s.Layout.CP, s.Layout.DP = 16, 8
			s.Training.SeqLen, s.Training.GlobalBatch = 131072, 128
		}},
		{"zero 2, no overlap", func(s *Spec) { s.Layout.ZeRO, s.Layout.DPOverlap = 2, false }},
		{"zero 3", func(s *Spec) { s.Layout.ZeRO = 3 }},
		{"tp overlap, no noise", func(s *Spec) { s.Layout.TPOverlap, s.Noise = true, Noise{} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := s
			c.edit(&s)
			res, err := Simulate(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			b := res.Breakdown
			if math.Abs(b.Sum()/res.StepTime-1) > 1e-9 {
				t.Errorf("breakdown sums to %.6f s, step %.6f s: %+v", b.Sum(), res.StepTime, b)
			}
			for _, v := range []float64{b.Compute, b.TPComm, b.CPComm, b.PPBubble, b.PPComm, b.DPComm, b.Optimizer} {
				if v < 0 || math.IsNaN(v) {
					t.Errorf("negative or NaN part: %+v", b)
				}
			}
			if s.Layout.CP > 1 && b.CPComm <= 0 {
				t.Errorf("context parallelism shows no cp_comm: %+v", b)
			}
		})
	}
}

// TestTable4Causes: the two throughput drops of Llama 3's Table 4 show in
// the breakdown. Halving the batch per data-parallel group (8K → 16K GPUs)
// doubles the pipeline bubble's share; the 128K layout pays for
// context-parallel communication that the 8K one does not.
func TestTable4Causes(t *testing.T) {
	row2 := llama405(t)
	row1 := row2
	row1.Cluster, row1.Layout.DP = h100Cluster(t, 8192), 64
	row3 := row2
	row3.Layout.CP, row3.Layout.DP = 16, 8
	row3.Training.SeqLen, row3.Training.GlobalBatch = 131072, 128
	var res [3]Result
	for i, s := range []Spec{row1, row2, row3} {
		var err error
		if res[i], err = Simulate(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	share := func(r Result) float64 { return r.Breakdown.PPBubble / r.StepTime }
	// (pp−1)/(v·m) of the ideal: 15/256 at m = 32, 15/128 at m = 16.
	if s1, s2 := share(res[0]), share(res[1]); !(s2 > 1.7*s1) {
		t.Errorf("bubble share %.3f at 8K GPUs, %.3f at 16K: want about double", s1, s2)
	}
	if res[0].TFLOPSPerGPU <= res[1].TFLOPSPerGPU || res[1].TFLOPSPerGPU <= res[2].TFLOPSPerGPU {
		t.Errorf("TFLOPS/GPU %.0f, %.0f, %.0f: want decreasing like 430, 400, 380",
			res[0].TFLOPSPerGPU, res[1].TFLOPSPerGPU, res[2].TFLOPSPerGPU)
	}
	if res[1].Breakdown.CPComm != 0 || res[2].Breakdown.CPComm <= 0 {
		t.Errorf("cp_comm %v at 8K, %v at 128K", res[1].Breakdown.CPComm, res[2].Breakdown.CPComm)
	}
}

func TestDeterministic(t *testing.T) {
	s := llama405(t)
	s.Samples = 2
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first Result
	for i, procs := range []int{1, 2, 1} {
		runtime.GOMAXPROCS(procs)
		res, err := Simulate(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res
			continue
		}
		if !reflect.DeepEqual(res, first) {
			t.Fatalf("GOMAXPROCS=%d changed the result: step %v vs %v", procs, res.StepTime, first.StepTime)
		}
	}
	s.Seed = 2
	other, err := Simulate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if other.StepTime == first.StepTime {
		t.Error("a different seed gave the same step time")
	}
}

func TestNotFit(t *testing.T) {
	s := llama405(t)
	s.Layout.PP, s.Layout.DP, s.Layout.VirtualStages = 1, 2048, 1
	_, err := Simulate(context.Background(), s)
	var nf *NotFitError
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want *NotFitError", err)
	}
	// All 126 layers, the embedding and the head on one tensor-parallel
	// group: 405.9e9/8 parameters at 2 + 4 bytes, far above 80 GiB.
	if nf.Memory.Weights+nf.Memory.Gradients < 6*405e9/8 || nf.Capacity != 80*(1<<30) {
		t.Errorf("memory %+v, capacity %v", nf.Memory, nf.Capacity)
	}
}

// TestTPOverlap: splitting the collectives into pieces that pipeline with
// the products hides part of them; without overlap every forward
// collective is exposed.
func TestTPOverlap(t *testing.T) {
	s := llama405(t)
	k := newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
	plain := k.build(k.layerForward)
	if math.Abs(plain.parts[kTP]-plain.comm[kTP]) > 1e-12 {
		t.Errorf("without overlap exposed TP %v != total TP %v", plain.parts[kTP], plain.comm[kTP])
	}
	// Four collectives of 2·8192·16384 bytes over 8 GPUs at 370 GB/s ring busbw
	// (7/8 of the buffer each) plus 6 NVLink latencies (a tree's 2·log2 8
	// beats a ring's 7).
	want := 4 * (7.0/8*2*8192*16384/370e9 + 6*cluster.NVLinkLatencyS)
	if math.Abs(plain.comm[kTP]-want) > 1e-9 {
		t.Errorf("forward TP time %v, want %v", plain.comm[kTP], want)
	}
	s.Layout.TPOverlap = true
	k = newCoster(s.Arch, s.Layout, s.Training, s.Cluster)
	ov := k.build(k.layerForward)
	if !(ov.parts[kTP] < 0.5*plain.parts[kTP]) || !(ov.end < plain.end) {
		t.Errorf("overlap: exposed TP %v (plain %v), layer %v (plain %v)", ov.parts[kTP], plain.parts[kTP], ov.end, plain.end)
	}
}

func TestMaxLognormal(t *testing.T) {
	// E[max of n] for a lognormal with CV 2%: close to 1 + σ·E[max of n
	// standard normals] (1.4236 for n = 8, 3.8 for n = 10^4, tabulated).
	for _, c := range []struct {
		n    int
		zbar float64
	}{{1, 0}, {8, 1.4236}, {128, 2.5882}} {
		m := newMaxLognormal(0.02, c.n)
		want := 1 + 0.02*c.zbar
		if got := m.mean(); math.Abs(got-want) > 0.0015 {
			t.Errorf("n %d: E[max] %.5f, want ≈ %.5f", c.n, got, want)
		}
	}
}

func BenchmarkStep(b *testing.B) {
	for _, c := range []struct {
		name string
		cv   float64
	}{{"llama3-405b-16k-stragglers", DefaultCV}, {"llama3-405b-16k-noiseless", 0}} {
		b.Run(c.name, func(b *testing.B) {
			s := llama405(b)
			s.Noise.CV = c.cv
			if c.cv == 0 {
				s.Noise.GPUCV = 0
			}
			for b.Loop() {
				if _, err := Simulate(context.Background(), s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSharedShapes: steps of one pipeline shape share its order of passes
// and reuse each other's replica buffers, and simulate as they do alone:
// a ZeRO-3 step with stragglers, then a ZeRO-1 one of the same shape, then
// the first again give the first's result twice.
func TestSharedShapes(t *testing.T) {
	a := llama405(t)
	a.Layout.ZeRO, a.Layout.DP, a.Cluster = 3, 16, h100Cluster(t, 2048)
	a.Training.GlobalBatch = 256
	b := a
	b.Layout.ZeRO, b.Layout.DPOverlap, b.Noise = 1, false, Noise{}
	first, again := simulateAround(t, a, b)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("the same step after another of its shape: %+v\nfirst: %+v", again, first)
	}
	if shapeFor(16, 8, 16, a.Layout.PipeSchedule) != shapeFor(16, 8, 16, b.Layout.PipeSchedule) {
		t.Error("two steps of one shape do not share it")
	}
}

// simulateAround simulates a, then other, then a again, and returns a's
// two results.
func simulateAround(t *testing.T, a, other Spec) (first, again Result) {
	t.Helper()
	var err error
	if first, err = Simulate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if _, err = Simulate(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if again, err = Simulate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return first, again
}

// TestReusedReplicas: a replica's buffers, reused for a step of another
// shape, start it as new ones do: a DualPipe step (two chunks, only the
// first waits for its parameters) after an interleaved one whose every
// chunk waited for its gathers.
func TestReusedReplicas(t *testing.T) {
	dual := llama405(t)
	dual.Noise = Noise{}
	dual.Layout.VirtualStages, dual.Layout.PipeSchedule = 1, model.SchedDualPipe
	dual.Layout.DP, dual.Cluster = 64, h100Cluster(t, 8192) // 32 micro batches, 2·pp
	dual.Layout.Recompute = model.RecomputeFull
	inter := llama405(t)
	inter.Noise, inter.Layout.PP, inter.Layout.VirtualStages, inter.Layout.DP = Noise{}, 8, 16, 256
	inter.Layout.Recompute = model.RecomputeFull
	runtime.GC() // empties the pool of released replicas
	runtime.GC()
	fresh, reused := simulateAround(t, dual, inter)
	if !reflect.DeepEqual(fresh, reused) {
		t.Errorf("after another step %+v\nfresh %+v", reused.Breakdown, fresh.Breakdown)
	}
}

// TestNoisyLowerBound: the noisy steps of the replicas with the largest
// persistent slowdowns are a lower bound of the step with every replica,
// equal to it with all of them, and within a tenth of the stragglers' share
// of it with an eighth (the slow GPUs set the pace).
func TestNoisyLowerBound(t *testing.T) {
	s := llama405(t)
	s.Samples = 3
	full, err := Simulate(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	prev := 0.0
	for _, count := range []int{1, 4, 16, 64, 128} {
		lb, err := NoisyLowerBound(context.Background(), s, count)
		if err != nil {
			t.Fatal(err)
		}
		if lb > full.StepTime || lb < prev {
			t.Errorf("%d replicas: bound %.6f s, step %.6f s, %d fewer replicas' %.6f s", count, lb, full.StepTime, count, prev)
		}
		prev = lb
	}
	mean := 0.0
	for _, x := range full.Samples {
		mean += x
	}
	if mean /= float64(len(full.Samples)); prev != mean {
		t.Errorf("every replica: bound %v, mean of the samples %v", prev, mean)
	}
	eighth, err := NoisyLowerBound(context.Background(), s, 16)
	if err != nil {
		t.Fatal(err)
	}
	if straggle := full.StepTime - full.NoiselessStepTime; eighth < full.NoiselessStepTime+0.9*straggle {
		t.Errorf("an eighth of the replicas: bound %.6f s, noiseless %.6f s, step %.6f s", eighth, full.NoiselessStepTime, full.StepTime)
	}
	t.Logf("noiseless %.4f s, an eighth of the replicas %.4f s, every replica %.4f s", full.NoiselessStepTime, eighth, full.StepTime)
}
