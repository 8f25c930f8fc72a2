package model_test

import (
	"fmt"

	"github.com/clustersim/clustersim/sim/model"
)

func ExampleArch_ModelFLOPsPerToken() {
	a, _ := model.LookupArch("llama3-405b")
	fmt.Printf("%.4g parameters, %.3g model FLOPs per token at 8K\n", a.Params(), a.ModelFLOPsPerToken(8192))
	// Output: 4.059e+11 parameters, 2.52e+12 model FLOPs per token at 8K
}

func ExampleSchedule() {
	for _, o := range model.Schedule(0, 2, 1, 3) {
		d := "F"
		if o.Backward {
			d = "B"
		}
		fmt.Printf("%s%d ", d, o.MicroBatch)
	}
	fmt.Println()
	// Output: F0 F1 B0 F2 B1 B2
}

// Llama 3 405B's Table 4 layout: 126 layers over 16 stages × 8 virtual
// chunks, one layer each but none in the first and last chunk. With 16
// micro batches per step every forward pass runs before the first backward
// pass, so the middle stages hold all 16 micro batches of their 8 layers.
func ExamplePeakLayerMicroBatches() {
	a, _ := model.LookupArch("llama3-405b")
	l := model.Layout{PP: 16, VirtualStages: 8}
	chunks, _ := l.ChunkLayers(a)
	for _, stage := range []int{0, 1, 15} {
		own := make([]int, l.VirtualStages)
		for c := range own {
			own[c] = chunks[c*l.PP+stage]
		}
		fmt.Printf("stage %d: %d layer-micro-batches\n", stage, model.PeakLayerMicroBatches(stage, l.PP, l.VirtualStages, 16, own))
	}
	// Output:
	// stage 0: 112 layer-micro-batches
	// stage 1: 128 layer-micro-batches
	// stage 15: 112 layer-micro-batches
}
