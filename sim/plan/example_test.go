package plan_test

import (
	"context"
	"fmt"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/plan"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// Search Llama 3 8B layouts on 64 H100s and print the three fastest.
func ExampleSearch() {
	a, _ := model.LookupArch("llama3-8b")
	gpu, _ := cluster.LookupGPU("h100-sxm")
	c, _ := cluster.New(gpu, 64, 8, cluster.Network{ScaleOutGbps: 400, NodesPerPod: 8, Oversubscription: 1, LatencyS: 5e-6})
	s := run.Spec{Name: "llama3-8b", Step: step.Spec{
		Arch:     a,
		Layout:   model.Layout{DPOverlap: true}, // only dp_comm_overlap is taken from the scenario's layout
		Training: model.Training{SeqLen: 8192, GlobalBatch: 128, GradBytes: 4, Tokens: 1e12},
		Cluster:  c,
	}}
	res, err := plan.Search(context.Background(), s, plan.Options{Top: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d layouts, %d fit\n", res.Evaluated, res.Feasible)
	for _, l := range res.Layouts {
		fmt.Printf("%d. tp %d pp %d cp %d dp %d, micro batch %d, v %d, recompute %s, ZeRO %d: %.0f TFLOPS/GPU\n",
			l.Rank, l.TP, l.PP, l.CP, l.DP, l.MicroBatch, l.VirtualStages, l.Recompute, l.ZeRO, l.TFLOPSPerGPU)
	}
	// Output:
	// 44352 layouts, 21204 fit
	// 1. tp 1 pp 1 cp 1 dp 64, micro batch 2, v 1, recompute none, ZeRO 3: 544 TFLOPS/GPU
	// 2. tp 2 pp 1 cp 1 dp 32, micro batch 4, v 1, recompute none, ZeRO 3: 542 TFLOPS/GPU
	// 3. tp 2 pp 1 cp 1 dp 32, micro batch 2, v 1, recompute none, ZeRO 3: 539 TFLOPS/GPU
}
