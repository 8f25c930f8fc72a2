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
