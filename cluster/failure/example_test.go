package failure_test

import (
	"fmt"

	"github.com/clustersim/clustersim/cluster/failure"
)

func ExampleProfile_Rates() {
	p, _ := failure.Lookup("llama3")
	_, unexpected, planned := p.Rates(failure.Hardware{GPUs: 16384, Nodes: 2048})
	mtbf := 24 * 60 / unexpected
	fmt.Printf("%.2f unexpected and %.2f planned interruptions a day; one every %.0f minutes\n", unexpected, planned, mtbf)
	fmt.Printf("checkpoint every %.0f s for a 2.8 s write\n", failure.YoungDaly(2.8, mtbf*60))
	// Output:
	// 7.76 unexpected and 0.87 planned interruptions a day; one every 186 minutes
	// checkpoint every 250 s for a 2.8 s write
}
