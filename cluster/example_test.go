package cluster_test

import (
	"fmt"

	"github.com/clustersim/clustersim/cluster"
)

func ExampleLookupGPU() {
	g, err := cluster.LookupGPU("h100-sxm")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %.1f TFLOPS bf16, %.0f TFLOPS fp8, %.0f GiB at %.2f TB/s\n",
		g.Name, g.BF16TFLOPS, g.FP8TFLOPS, g.HBMGiB, g.HBMBandwidth/1e12)
	fmt.Printf("NVLink busbw: ring %.0f GB/s, NVLS %.0f GB/s\n", g.NVLinkRingBusBW/1e9, g.NVLSBusBW/1e9)

	g, _ = cluster.LookupGPU("h100") // an alias
	fmt.Println(g.Name)
	_, err = cluster.LookupGPU("v100")
	fmt.Println(err)
	// Output:
	// h100-sxm: 989.4 TFLOPS bf16, 1979 TFLOPS fp8, 80 GiB at 3.35 TB/s
	// NVLink busbw: ring 370 GB/s, NVLS 480 GB/s
	// h100-sxm
	// cluster: unknown gpu "v100" (valid: a100-sxm-40g, a100-sxm-80g, b200, gb200, gb300, h100-sxm, h200-sxm, h800)
}

func ExampleCluster_CollectiveTime() {
	gpu, _ := cluster.LookupGPU("h100-sxm")
	// Llama 3 405B: 16,384 H100s, 400 Gb/s per GPU, 384-node pods, 1:7 above.
	c, err := cluster.New(gpu, 16384, 8, cluster.Network{
		ScaleOutGbps: 400, NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := cluster.Group{Size: 8, Stride: 1}     // tensor parallel: one node
	dp := cluster.Group{Size: 128, Stride: 128} // data parallel: stride tp·pp
	fmt.Println("dp spans:", c.Spans(dp))
	const gib = 1 << 30
	fmt.Printf("tp all-reduce of 1 GiB:     %6.2f ms\n", 1e3*c.CollectiveTime(cluster.AllReduce, tp, gib))
	fmt.Printf("dp reduce-scatter of 1 GiB: %6.2f ms\n", 1e3*c.CollectiveTime(cluster.ReduceScatter, dp, gib))
	// Output:
	// dp spans: [pod×24 spine×5.333]
	// tp all-reduce of 1 GiB:       3.94 ms
	// dp reduce-scatter of 1 GiB:  27.38 ms
}
