package step

import (
	"math"
	"testing"

	"github.com/clustersim/clustersim/sim/model"
)

// bubble runs a compute-only pipeline (no transfers) of the given
// schedule with forward tf, full backward tb (weight gradient tw of it)
// and, for DualPipe, an overlapped pair of tf+tb, and returns the step
// minus each stage's ideal work.
func bubble(t *testing.T, kind model.PipeSchedule, p, m int, tf, tb, tw float64, ideal float64) float64 {
	t.Helper()
	pl := newPipeline(p, 1, m, kind, func(_ int, o model.Op) float64 {
		switch {
		case o.Weight:
			return tw
		case o.Paired:
			return tf + tb
		case o.Backward && o.Split:
			return tb - tw
		case o.Backward:
			return tb
		}
		return tf
	}, func(int, int) float64 { return 0 })
	x := newReplica(pl)
	for k := range x.factor {
		x.factor[k] = 1
	}
	x.run()
	end := 0.0
	for r := range pl.ops {
		for i := range pl.ops[r] {
			if x.done[r*pl.n+i] < 0 {
				t.Fatalf("stage %d pass %d never ran", r, i)
			}
		}
		end = max(end, x.done[r*pl.n+len(pl.ops[r])-1])
	}
	return end - ideal
}

// TestZBH1Bubble checks ZB-H1's bubble against Qi et al. 2023 ("Zero Bubble
// Pipeline Parallelism", arXiv:2401.10241, §3.1): (p−1)(T_F + T_B − T_W)
// with T_B the input-gradient pass, against 1F1B's (p−1)(T_F + T_B + T_W).
func TestZBH1Bubble(t *testing.T) {
	for _, c := range []struct {
		p, m       int
		tf, tb, tw float64 // tb: the input-gradient pass alone
	}{{4, 8, 1, 1, 1}, {8, 24, 1, 1, 1}, {4, 8, 1, 1.2, 0.8}, {8, 32, 2, 1, 1}, {16, 64, 1, 1.1, 0.9}} {
		got := bubble(t, model.SchedZBH1, c.p, c.m, c.tf, c.tb+c.tw, c.tw, float64(c.m)*(c.tf+c.tb+c.tw))
		want := float64(c.p-1) * (c.tf + c.tb - c.tw)
		if math.Abs(got-want) > 0.01*want {
			t.Errorf("p %d m %d F %g B %g W %g: bubble %.4g, want (p−1)(F+B−W) = %.4g", c.p, c.m, c.tf, c.tb, c.tw, got, want)
		}
		old := bubble(t, model.Sched1F1B, c.p, c.m, c.tf, c.tb+c.tw, c.tw, float64(c.m)*(c.tf+c.tb+c.tw))
		if want1 := float64(c.p-1) * (c.tf + c.tb + c.tw); math.Abs(old-want1) > 0.01*want1 {
			t.Errorf("1F1B bubble %.4g, want %.4g", old, want1)
		}
	}
	// At most pp micro batches in flight on any stage: 1F1B's peak.
	for r := 0; r < 8; r++ {
		held, peak := 0, 0
		for _, o := range model.ScheduleZBH1(r, 8, 32) {
			switch {
			case !o.Backward:
				held++
			case o.Weight:
				held--
			}
			peak = max(peak, held)
		}
		if peak > 8 {
			t.Errorf("stage %d holds %d micro batches, more than pp = 8", r, peak)
		}
	}
}

// TestDualPipeBubble checks DualPipe against the DeepSeek-V3 report
// (arXiv:2412.19437, Table 2): bubble (PP/2−1)(F&B + B − 3W), with F a
// forward chunk, B a full backward chunk, W its weight part and F&B an
// overlapped pair (compute only: F + B), over the ideal m·(F+B) of each
// rank (m micro batches, half from each end). The formula is exact when
// W = F = B/2, the proportions it is usually drawn with (the report's
// Figure 5; a forward of one unit, a backward of two).
func TestDualPipeBubble(t *testing.T) {
	for _, c := range []struct{ p, m int }{{4, 8}, {8, 16}, {8, 32}, {16, 64}, {16, 40}} {
		const tf, tb, tw = 1.0, 2.0, 1.0
		got := bubble(t, model.SchedDualPipe, c.p, c.m, tf, tb, tw, float64(c.m)*(tf+tb))
		want := float64(c.p/2-1) * ((tf + tb) + tb - 3*tw)
		if math.Abs(got-want) > 0.01*want {
			t.Errorf("p %d m %d: bubble %.4g, want (PP/2−1)(F&B+B−3W) = %.4g", c.p, c.m, got, want)
		}
	}
}
