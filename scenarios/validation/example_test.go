package validation_test

import (
	"fmt"

	"github.com/clustersim/clustersim/scenarios/validation"
)

// The model-error band of a GPU type and precision is the 90th percentile
// of |step-time error| over its published runs; a pair without runs gets
// the overall band.
func ExampleAccuracy() {
	var rows []validation.Row
	for i, e := range []float64{-2, 4, -6, 8, 1, -3, 5, 7, -9, 10} {
		rows = append(rows, validation.Row{Case: fmt.Sprint("run ", i), Metric: "step_time_s", GPU: "h100-sxm", Precision: "fp8",
			Published: 1, Predicted: 1 + e/100, ErrorPct: e})
	}
	a := validation.Accuracy(rows)
	for _, gpu := range []string{"h100-sxm", "b200"} {
		m := a.For(gpu, "fp8", false)
		fmt.Printf("%s fp8: ± %.1f%% (mean |error| %.1f%%, %d runs, own runs: %v)\n", gpu, m.BandPct, m.MeanAbsPct, m.Rows, m.Exact)
	}
	fmt.Println(a.For("b200", "fp8", false).Basis)
	// Output:
	// h100-sxm fp8: ± 9.0% (mean |error| 5.5%, 10 runs, own runs: true)
	// b200 fp8: ± 9.0% (mean |error| 5.5%, 10 runs, own runs: false)
	// no published dense run of this GPU and precision (b200 fp8); overall band: 90th percentile of |step-time error| over all 10 published runs (mean |error| 5.5%; clustersim validate)
}
