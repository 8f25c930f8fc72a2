package run

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/step"
)

// TestClosedFormETTR compares Spec.ClosedFormETTR with the Monte Carlo
// run simulation for Llama 3 405B's reliability record (arXiv:2407.21783
// Table 5, planned maintenance included) on 4,096 to 16,384 GPUs, with
// Young/Daly checkpoints and a 10-minute restart.
func TestClosedFormETTR(t *testing.T) {
	a, _ := model.LookupArch("llama3-405b")
	gpu, _ := cluster.LookupGPU("h100-sxm")
	prof, _ := failure.Lookup("llama3")
	for _, gpus := range []int{4096, 16384} {
		c, err := cluster.New(gpu, gpus, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6})
		if err != nil {
			t.Fatal(err)
		}
		s := Spec{Step: step.Spec{Arch: a, Cluster: c}, Trials: 200, Seed: 5,
			Failures: Failures{Profile: prof, RestartS: 600, StorageBandwidth: 2e12}}
		ph := []phaseStep{{spec: s.Step, workS: 40 * 86400, res: step.Result{StepTime: 1}}}
		plans, _ := planPhases(s, ph)
		trials, err := monteCarlo(context.Background(), s, plans, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mc := 0.0
		for _, tr := range trials {
			mc += ph[0].workS / tr.wallS / float64(len(trials))
		}
		if got := s.ClosedFormETTR(c); math.Abs(got-mc) > 0.01 {
			t.Errorf("%d GPUs: closed form %.4f, Monte Carlo %.4f", gpus, got, mc)
		} else {
			t.Logf("%d GPUs: closed form %.4f, Monte Carlo %.4f", gpus, got, mc)
		}
	}
}

// TestCheckpointJSON: a job without failures has an infinite MTBF and
// checkpoint interval, which JSON writes as null and reads back as +Inf.
func TestCheckpointJSON(t *testing.T) {
	in := Checkpoint{Bytes: 1e12, WriteS: 5, StallS: 5, IntervalS: math.Inf(1), MTBFS: math.Inf(1)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"bytes":1000000000000,"write_s":5,"stall_s":5,"interval_s":null,"mtbf_s":null}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var out Checkpoint
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip %+v, want %+v", out, in)
	}
	fin := Checkpoint{Bytes: 1, WriteS: 2, StallS: 3, IntervalS: 4, MTBFS: 5}
	b, _ = json.Marshal(fin)
	out = Checkpoint{}
	if err := json.Unmarshal(b, &out); err != nil || out != fin {
		t.Errorf("round trip of %+v: %+v, %v", fin, out, err)
	}
}
