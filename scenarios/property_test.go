package scenarios

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// randomScenario writes a random valid scenario: every key across its
// accepted range, extremes included (a bandwidth of 1e-300, a latency of
// 1e9 µs, 2^31 GPUs, 1e16 tokens), with the layout mostly chosen to divide
// so that most scenarios run. Trials are 1 to 3, to keep the test fast.
func randomScenario(r *rand.Rand) string {
	var b strings.Builder
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	logU := func(lo, hi float64) float64 { return math.Exp(math.Log(lo) + r.Float64()*(math.Log(hi)-math.Log(lo))) }
	q := func(v float64) string { return fmt.Sprintf("%.4g", v) }
	extreme := func(p float64) bool { return r.Float64() < p }

	fmt.Fprintf(&b, "name: random\n")
	heads, kv, layers := 32, 8, 32
	switch r.IntN(3) {
	case 0:
		fmt.Fprintf(&b, "model: llama3-8b\n")
	case 1:
		fmt.Fprintf(&b, "model: %s\n", pick("llama3-70b", "gpt3-175b", "llama3-405b"))
		heads, kv, layers = 8, 8, 8 // tp below divides these models' heads too
	default:
		heads = 1 << r.IntN(6)
		kv = heads >> r.IntN(bits(heads)+1)
		kv = max(kv, 1)
		layers = 1 + r.IntN(48)
		hd := 16 << r.IntN(4)
		fmt.Fprintf(&b, "model:\n  layers: %d\n  hidden: %d\n  ffn_hidden: %d\n  heads: %d\n  kv_heads: %d\n  vocab: %d\n  mlp: %s\n  tied_embeddings: %t\n",
			layers, heads*hd, heads*hd*(1+r.IntN(4)), heads, kv, 1000+r.IntN(130000), pick("swiglu", "gelu"), r.IntN(2) == 0)
	}
	gpn := 8
	tp := 1 << r.IntN(4)
	for tp > 1 && (heads%tp != 0 || kv%tp != 0 && tp%kv != 0) {
		tp /= 2
	}
	pp := 1
	for _, c := range []int{1, 2, 4} {
		if layers%c == 0 && r.IntN(2) == 0 {
			pp = c
		}
	}
	cp := 1 << r.IntN(2)
	dp := 1 + r.IntN(16)
	if tp*pp*cp*dp%gpn != 0 {
		dp = gpn * dp / cluster.GCD(gpn, tp*pp*cp*dp) // whole nodes
		dp = max(dp, 1)
	}
	for tp*pp*cp*dp%gpn != 0 {
		dp++
	}
	gpus := tp * pp * cp * dp
	mb := 1 << r.IntN(2)
	gb := dp * mb * pp * (1 + r.IntN(8))
	if extreme(0.02) {
		gpus, dp, gb = 2147483640, 2147483640/(tp*pp*cp), 0 // refused or over budget
	}
	fmt.Fprintf(&b, "cluster:\n  gpu: %s\n  gpus: %d\n  gpus_per_node: %d\n  network:\n", pick("a100-sxm-80g", "h100-sxm", "h200-sxm", "b200"), gpus, gpn)
	switch {
	case extreme(0.05):
		fmt.Fprintf(&b, "    scale_out_gbps: %s\n", pick("1e-300", "1e-9", "0.001", "1e6"))
	default:
		fmt.Fprintf(&b, "    scale_out_gbps: %s\n", q(logU(10, 3200)))
	}
	fmt.Fprintf(&b, "    oversubscription: %s\n    latency_us: %s\n    nodes_per_pod: %d\n",
		q(1+logU(1e-3, 100)*float64(r.IntN(2))), pick("0", "5", q(logU(0.1, 100)), "1e9"), 1+r.IntN(64))
	fmt.Fprintf(&b, "parallelism:\n  tp: %d\n  pp: %d\n  cp: %d\n  dp: %d\n  micro_batch: %d\n  recompute: %s\n  zero: %d\n  tp_comm_overlap: %t\n  dp_comm_overlap: %t\n  recompute_elementwise: %t\n",
		tp, pp, cp, dp, mb, pick("none", "selective", "full"), r.IntN(4), r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(2) == 0)
	if gb == 0 {
		gb = 1073741820
	}
	seq := 128 << r.IntN(7)
	if extreme(0.02) {
		seq = 131072
	}
	tokens := q(logU(1e6, 1e12))
	if extreme(0.03) {
		tokens = pick("1e16", "10P", "300B", "15.6T")
	}
	fmt.Fprintf(&b, "training:\n  seq_len: %d\n  global_batch: %d\n  tokens: %s\n  precision: %s\n  grad_precision: %s\n  grad_accumulation: %s\n  attention: %s\n",
		seq, gb, tokens, pick("bf16", "bf16", "fp8"), pick("fp32", "bf16"), pick("separate", "fused"), pick("flash", "flash", "unfused"))
	if r.IntN(2) == 0 {
		fmt.Fprintf(&b, "stragglers:\n  cv: %s\n  gpu_cv: %s\n  slow_node_fraction: %s\n  slow_node_factor: %s\n  samples: %d\n",
			pick("0", "1", q(r.Float64()*0.1)), pick("0", "1", q(r.Float64()*0.1)), pick("0", "1", q(r.Float64())), pick("1", "10", q(1+r.Float64())), 1+r.IntN(3))
	}
	switch r.IntN(4) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "failures:\n  profile: none\n")
	default:
		if r.IntN(2) == 0 {
			fmt.Fprintf(&b, "failures:\n  profile: llama3\n")
		} else {
			fmt.Fprintf(&b, "failures:\n  profile:\n    a: {rate: %s, per: %s}\n    b: {rate: %s, per: job, planned: true, recovery: %s}\n",
				q(logU(1e-7, 1e-2)), pick("gpu", "node", "switch", "job"), q(logU(1e-3, 10)), pick("0s", "1m", "2h"))
		}
		fmt.Fprintf(&b, "  checkpoint_interval: %s\n  restart: %s\n  storage_tbps: %s\n  async_checkpoint: %t\n",
			pick("auto", "auto", "1s", "30m", "30d"), pick("0s", "10m", "15m", "1d"), pick("2", "1e-9", "1e-12", "1e3", q(logU(0.01, 10))), r.IntN(2) == 0)
		if r.IntN(3) == 0 {
			fmt.Fprintf(&b, "  lemons:\n    rate: %s\n    slowdown: %s\n    detect: %s\n", q(logU(1e-5, 1)), pick("1", "1.1", "10"), pick("1s", "1h", "10d"))
		}
	}
	if r.IntN(2) == 0 {
		fmt.Fprintf(&b, "energy:\n  pue: %s\n  host_watts_per_gpu: %s\n  price_per_gpu_hour: %s\n", pick("0", "1", "1.1", "3"), pick("0", "300"), pick("0", "2.5"))
	}
	fmt.Fprintf(&b, "trials: %d\nseed: %d\n", 1+r.IntN(3), r.Uint64())
	return b.String()
}

// randomN sets the number of random scenarios (go test ./scenarios -run
// RandomScenarios -random.n 10000).
var randomN = flag.Int("random.n", 0, "random scenarios TestRandomScenarios runs (0: 10,000; 200 with -short; 1,000 with -race)")

// refusal reports whether err is a clean refusal of bad input: a typed
// error of the kinds the command line maps to exit status 2.
func refusal(err error) bool {
	var se *Error
	var le *run.LimitError
	var ie *run.InputError
	var nf *step.NotFitError
	var fe *model.FieldError
	return errors.As(err, &se) || errors.As(err, &le) || errors.As(err, &ie) || errors.As(err, &nf) || errors.As(err, &fe)
}

// TestRandomScenarios runs random valid scenarios end to end: each either
// runs, with finite outputs, a breakdown that sums to the step within 1%
// and 0 < ETTR <= 1, or is refused cleanly (a typed bad-input error). Same
// seed, same scenarios: a failure names its seed and index.
func TestRandomScenarios(t *testing.T) {
	n := 10000 // the figure; about 30 s on two cores
	switch {
	case *randomN > 0:
		n = *randomN
	case testing.Short():
		n = 200
	case raceEnabled:
		n = 1000
	}
	r := rand.New(rand.NewPCG(10, 10))
	ran, refused := 0, 0
	for i := range n {
		src := randomScenario(r)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("scenario %d panicked: %v\n%s", i, p, src)
				}
			}()
			spec, _, err := Load(strings.NewReader(src), "random.yaml")
			if err == nil {
				_, err = func() (run.Result, error) {
					// a small budget keeps the test fast; beyond it is a
					// refusal, which is checked too
					res, err := run.SimulateWith(context.Background(), spec, run.Options{Budget: run.Budget{MaxEvents: 1e6}})
					if err == nil {
						checkResult(t, i, src, res)
					}
					return res, err
				}()
			}
			switch {
			case err == nil:
				ran++
			case refusal(err):
				refused++
			default:
				t.Errorf("scenario %d: %v is neither a result nor a clean refusal\n%s", i, err, src)
			}
		}()
	}
	t.Logf("%d scenarios: %d ran, %d refused", n, ran, refused)
	if ran < n/5 {
		t.Errorf("only %d of %d random scenarios ran: the generator makes too few valid ones", ran, n)
	}
}

func checkResult(t *testing.T, i int, src string, r run.Result) {
	t.Helper()
	if err := run.CheckFinite(r); err != nil {
		t.Errorf("scenario %d: %v\n%s", i, err, src)
	}
	b := r.Breakdown
	sum := b.Compute + b.TPComm + b.CPComm + b.PPBubble + b.PPComm + b.DPComm + b.Optimizer + b.Straggler
	if !(r.StepTimeS > 0) || math.Abs(sum-r.StepTimeS) > 0.01*r.StepTimeS {
		t.Errorf("scenario %d: breakdown sums to %g, step %g\n%s", i, sum, r.StepTimeS, src)
	}
	if !(r.ETTR > 0 && r.ETTR <= 1+1e-12) {
		t.Errorf("scenario %d: ETTR %g not in (0, 1]\n%s", i, r.ETTR, src)
	}
	if !(r.WallClockDays > 0) {
		t.Errorf("scenario %d: wall clock %g days\n%s", i, r.WallClockDays, src)
	}
}
