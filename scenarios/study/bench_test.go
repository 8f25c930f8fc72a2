package study

import (
	"context"
	"testing"
)

// BenchmarkSweep240 is the sweep of issue 9: 240 points of llama3-70b over
// 4 GPU counts × 4 oversubscriptions × 5 restart times × 3 straggler
// spreads, 48 distinct steps. Points per second = 240 / (ns/op / 1e9);
// the acceptance is >= 40 points/s on 2 cores (<= 6 s per op).
func BenchmarkSweep240(b *testing.B) {
	def, err := Define("llama3-70b", nil, []string{"cluster.gpus=1024,2048,4096,8192", "cluster.network.oversubscription=1,2,4,7",
		"failures.restart=5m,10m,15m,30m,60m", "stragglers.cv=0.01,0.02,0.04"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rows, err := RunPoints(context.Background(), def, PointOptions{})
		if err != nil || len(rows) != 240 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
	b.ReportMetric(240/(b.Elapsed().Seconds()/float64(b.N)), "points/s")
}

// BenchmarkReview is the data of `report` (issue 9's acceptance: report
// llama3-405b <= 3 s, llama3-405b-pretrain <= 5 s on 2 cores, plan and
// sensitivity included): the figures, the re-planned scaling from 1,024
// to 65,536 GPUs, the sensitivity, the waterfall and the trade-off.
func BenchmarkReview(b *testing.B) {
	for _, name := range []string{"llama3-405b", "llama3-405b-pretrain"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := ReviewOf(context.Background(), name, nil, ReviewOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
