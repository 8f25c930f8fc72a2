package scenarios_test

import (
	"context"
	"testing"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/plan"
	"github.com/clustersim/clustersim/sim/run"
)

// BenchmarkRunDeepSeekV3 is `clustersim run deepseek-v3` without the
// output (issue 11's budget: 0.5 s).
func BenchmarkRunDeepSeekV3(b *testing.B) {
	s, _, err := scenarios.Builtin("deepseek-v3")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := run.Simulate(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanDeepSeekV3 is `clustersim plan deepseek-v3` on its 2,048
// GPUs (issue 11's budget: 2 s).
func BenchmarkPlanDeepSeekV3(b *testing.B) {
	s, _, err := scenarios.Builtin("deepseek-v3")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := plan.Search(context.Background(), s, plan.Options{Top: 5}); err != nil {
			b.Fatal(err)
		}
	}
}
