package scenarios_test

import (
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/clustersim/clustersim/scenarios"
)

// Table 4, row 1, of the Llama 3 paper is row 2 on half the GPUs.
func ExampleBuiltin() {
	spec, _, err := scenarios.Builtin("llama3-405b", "cluster.gpus=8192")
	if err != nil {
		log.Fatal(err)
	}
	c, l, t := spec.Step.Cluster, spec.Step.Layout, spec.Step.Training
	fmt.Printf("%s: %d × %s\n", spec.Name, c.GPUs, c.GPU.Name)
	fmt.Printf("tp %d, pp %d, cp %d, dp %d, %d micro batches per step\n", l.TP, l.PP, l.CP, l.DP, l.MicroBatches(t))
	fmt.Printf("%.0f tokens per step, %g tokens in all\n", t.BatchTokens(), t.Tokens)
	fmt.Printf("failures: %s, restart %g s\n", spec.Failures.Profile.Name, spec.Failures.RestartS)
	// Output:
	// llama3-405b: 8192 × h100-sxm
	// tp 8, pp 16, cp 1, dp 64, 32 micro batches per step
	// 16777216 tokens per step, 1.56e+13 tokens in all
	// failures: llama3, restart 600 s
}

// Problems are reported together, each with its file, line and key.
func ExampleLoad() {
	const file = `name: typo
model: llama3-8b
cluster:
  gpu: h100-sxm
  gpus: 64
parallelism:
  tpp: 8
training:
  seq_len: 8192
  global_batch: 64.5
  tokens: 1T
`
	_, _, err := scenarios.Load(strings.NewReader(file), "typo.yaml")
	var e *scenarios.Error
	if errors.As(err, &e) {
		fmt.Println(err)
	}
	// Output:
	// typo.yaml:7: parallelism.tpp: unknown key "tpp" (did you mean "tp"?); valid keys in parallelism: tp, pp, cp, dp, micro_batch, virtual_stages, sequence_parallel, recompute, recompute_elementwise, zero, tp_comm_overlap, cp_comm, dp_comm_overlap, ep, etp, schedule, offload_layers
	// typo.yaml:10: training.global_batch: 64.5 is not a whole number
}

// A sweep block lists values per key; Sets gives every point's overrides,
// the last key varying fastest, ready for Load.
func ExampleSweep_Sets() {
	sw := scenarios.Sweep{
		{Path: "cluster.gpus", Values: []string{"8192", "16384"}},
		{Path: "cluster.network.oversubscription", Values: []string{"1", "7"}},
	}
	for _, sets := range sw.Sets() {
		spec, _, err := scenarios.Builtin("llama3-405b", sets...)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(strings.Join(sets, " "), "→ dp", spec.Step.Layout.DP)
	}
	// Output:
	// cluster.gpus=8192 cluster.network.oversubscription=1 → dp 64
	// cluster.gpus=8192 cluster.network.oversubscription=7 → dp 64
	// cluster.gpus=16384 cluster.network.oversubscription=1 → dp 128
	// cluster.gpus=16384 cluster.network.oversubscription=7 → dp 128
}
