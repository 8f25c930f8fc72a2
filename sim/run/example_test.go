package run_test

import (
	"context"
	"fmt"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// A Llama 3 8B run on 512 H100s with Llama 3's failure rates.
func ExampleSimulate() {
	arch, _ := model.LookupArch("llama3-8b")
	gpu, _ := cluster.LookupGPU("h100-sxm")
	c, _ := cluster.New(gpu, 512, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 64, Oversubscription: 1, LatencyS: 5e-6})
	prof, _ := failure.Lookup("llama3")
	spec := run.Spec{
		Name: "llama3-8b-512",
		Step: step.Spec{
			Arch:     arch,
			Cluster:  c,
			Layout:   model.Layout{TP: 2, PP: 1, CP: 1, DP: 256, MicroBatch: 1, VirtualStages: 1, SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			Training: model.Training{SeqLen: 8192, GlobalBatch: 512, Tokens: 1e12, GradBytes: 4},
		},
		Failures: run.Failures{Profile: prof, RestartS: 600, StorageBandwidth: 2e12},
		Trials:   20,
		Seed:     1,
	}
	r, err := run.Simulate(context.Background(), spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.0f TFLOPS/GPU, %.1f days, ETTR %.3f, %.1f interruptions\n", r.TFLOPSPerGPU, r.WallClockDays, r.ETTR, r.Interruptions)
	// Output:
	// 490 TFLOPS/GPU, 2.4 days, ETTR 0.981, 3.5 interruptions
}
