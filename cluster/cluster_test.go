package cluster

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// llama3Net is the Llama 3 405B fabric (arXiv:2407.21783 §3.3.1, as in
// reference/published.yaml): 400 Gb/s RoCE per GPU, 3,072-GPU (384-node)
// full-bisection pods, 1:7 oversubscribed above; 5 µs per hop (the
// scenario example's latency_us).
var llama3Net = Network{ScaleOutGbps: 400, NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6}

// gb200Net is a GB200 NVL72 cluster's network: the catalog's 400 Gb/s
// ConnectX-7 per GPU, 72-GPU NVLink racks of 4-GPU trays, one full-bisection
// pod of 288 trays (1,152 GPUs), 5 µs per hop.
var gb200Net = Network{ScaleOutGbps: 400, NodesPerPod: 288, Oversubscription: 1, LatencyS: 5e-6, NVLinkDomain: 72}

// mustCluster builds a cluster of the named catalog GPU or fails the test.
func mustCluster(t testing.TB, gpu string, gpus, perNode int, net Network) Cluster {
	t.Helper()
	g, err := LookupGPU(gpu)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(g, gpus, perNode, net)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCounts(t *testing.T) {
	tests := []struct {
		name                string
		gpus, perNode       int
		nodesPerPod         int
		wantNodes, wantPods int
	}{
		// Llama 3 405B: 16,384 GPUs = 2,048 nodes; 2048/384 = 5.33 → 6 pods.
		{"llama3 16k", 16384, 8, 384, 2048, 6},
		// 8,192 GPUs = 1,024 nodes; 1024/384 = 2.67 → 3 pods.
		{"llama3 8k", 8192, 8, 384, 1024, 3},
		// Exactly one pod: 3,072 GPUs = 384 nodes.
		{"one pod", 3072, 8, 384, 384, 1},
		// One node.
		{"one node", 8, 8, 384, 1, 1},
		// GB200 NVL72-style node of 72 GPUs: 144/72 = 2 nodes, 1 pod of 18.
		{"nvl72", 144, 72, 18, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := llama3Net
			net.NodesPerPod = tt.nodesPerPod
			c := mustCluster(t, "h100-sxm", tt.gpus, tt.perNode, net)
			if c.Nodes() != tt.wantNodes || c.Pods() != tt.wantPods {
				t.Errorf("Nodes, Pods = %d, %d; want %d, %d", c.Nodes(), c.Pods(), tt.wantNodes, tt.wantPods)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	h100, _ := LookupGPU("h100-sxm")
	tests := []struct {
		name          string
		gpu           GPU
		gpus, perNode int
		net           Network
		want          []string // every problem, in New's order
	}{
		{"zero gpus", h100, 0, 8, llama3Net, []string{"gpus"}},
		{"negative per node", h100, 16, -8, llama3Net, []string{"gpus_per_node"}},
		{"partial node", h100, 12, 8, llama3Net, []string{"gpus"}},
		{"domain not whole nodes", h100, 16, 4, Network{ScaleOutGbps: 400, NodesPerPod: 4, Oversubscription: 1, NVLinkDomain: 6}, []string{"nvlink_domain"}},
		{"negative domain", h100, 16, 8, Network{ScaleOutGbps: 400, NodesPerPod: 4, Oversubscription: 1, NVLinkDomain: -72}, []string{"nvlink_domain"}},
		{"nan nic", h100, 16, 8, Network{ScaleOutGbps: math.NaN(), NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6}, []string{"network.scale_out_gbps"}},
		{"inf nic", h100, 16, 8, Network{ScaleOutGbps: math.Inf(1), NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6}, []string{"network.scale_out_gbps"}},
		{"zero nic", h100, 16, 8, Network{ScaleOutGbps: 0, NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6}, []string{"network.scale_out_gbps"}},
		{"oversubscription below 1", h100, 16, 8, Network{ScaleOutGbps: 400, NodesPerPod: 384, Oversubscription: 0.5, LatencyS: 5e-6}, []string{"network.oversubscription"}},
		{"bad gpu", GPU{Name: "x", BF16TFLOPS: 1, HBMGiB: 1, HBMBandwidth: 1, Compute: h100Compute}, 16, 8, llama3Net,
			[]string{"gpu.nvlink_ring_busbw"}},
		{
			"everything at once", GPU{Compute: h100Compute}, 12, 8,
			Network{ScaleOutGbps: math.NaN(), NodesPerPod: 0, Oversubscription: math.Inf(1), LatencyS: -1},
			[]string{
				"gpu.name", "gpu.bf16_tflops", "gpu.hbm_gib", "gpu.hbm_bandwidth", "gpu.nvlink_ring_busbw",
				"gpus", "network.scale_out_gbps", "network.nodes_per_pod", "network.oversubscription", "network.latency_s",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.gpu, tt.gpus, tt.perNode, tt.net)
			if err == nil {
				t.Fatalf("New accepted %+v", c)
			}
			if c != (Cluster{}) {
				t.Errorf("New returned a non-zero Cluster with an error: %+v", c)
			}
			if got := invalidFields(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("fields = %v, want %v\nerror: %v", got, tt.want, err)
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Errorf("errors.As(*InvalidError) failed on %v", err)
			}
		})
	}
}
