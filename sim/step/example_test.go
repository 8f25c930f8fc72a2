package step_test

import (
	"context"
	"fmt"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/step"
)

// One step of Llama 3 70B on 1,024 H100s, without noise: the breakdown sums
// to the step.
func ExampleSimulate() {
	arch, _ := model.LookupArch("llama3-70b")
	gpu, _ := cluster.LookupGPU("h100-sxm")
	c, _ := cluster.New(gpu, 1024, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 128, Oversubscription: 1, LatencyS: 5e-6})
	r, err := step.Simulate(context.Background(), step.Spec{
		Arch:     arch,
		Cluster:  c,
		Layout:   model.Layout{TP: 8, PP: 4, CP: 1, DP: 32, MicroBatch: 1, VirtualStages: 5, SequenceParallel: true, ZeRO: 1, DPOverlap: true},
		Training: model.Training{SeqLen: 8192, GlobalBatch: 512, GradBytes: 4},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := r.Breakdown
	fmt.Printf("step %.2f s = compute %.2f + TP %.2f + bubble %.2f + rest %.2f\n", r.StepTime, b.Compute, b.TPComm, b.PPBubble,
		b.Sum()-b.Compute-b.TPComm-b.PPBubble)
	fmt.Printf("%.0f TFLOPS/GPU, MFU %.1f%%\n", r.TFLOPSPerGPU, 100*r.MFU)
	// Output:
	// step 4.35 s = compute 3.31 + TP 0.67 + bubble 0.33 + rest 0.04
	// 423 TFLOPS/GPU, MFU 42.7%
}
