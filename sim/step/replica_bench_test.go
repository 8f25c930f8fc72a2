package step

import "testing"

// BenchmarkReplica is one pipeline replica of llama3-405b's step (16 stages
// × 256 passes), the unit the noisy step repeats for every replica.
func BenchmarkReplica(b *testing.B) {
	pn := newPlan(llama405(b))
	x := newReplica(pn.pl)
	pn.setupReplica(x)
	for k := range x.factor {
		x.factor[k] = 1
	}
	events := float64(len(x.done))
	for b.Loop() {
		x.run()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/events, "ns/pass")
}
