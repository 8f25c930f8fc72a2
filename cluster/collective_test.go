package cluster

import (
	"math"
	"testing"
)

const gib = 1 << 30

func TestTierBusBW(t *testing.T) {
	h100 := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	a100 := mustCluster(t, "a100-sxm-80g", 1024, 8, Network{ScaleOutGbps: 200, NodesPerPod: 128, Oversubscription: 1, LatencyS: 5e-6})
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		// nccl-tests issue 212: NVLS all-reduce ~480 GB/s, ring 370 GB/s on 8×H100.
		{"h100 nvlink all-reduce", h100.TierBusBW(TierNVLink, AllReduce), 480e9},
		{"h100 nvlink reduce-scatter", h100.TierBusBW(TierNVLink, ReduceScatter), 370e9},
		{"h100 nvlink all-gather", h100.TierBusBW(TierNVLink, AllGather), 370e9},
		// 400 Gb/s = 50 GB/s line rate × 0.94 = 47 GB/s (nccl-tests: 46–48).
		{"h100 pod", h100.TierBusBW(TierPod, AllReduce), 47e9},
		// 47 GB/s / oversubscription 7 = 6.714 GB/s.
		{"h100 spine", h100.TierBusBW(TierSpine, ReduceScatter), 47e9 / 7},
		// A100 has no NVLS: all-reduce on the ring's 230 GB/s (nccl-tests issue 149).
		{"a100 nvlink all-reduce", a100.TierBusBW(TierNVLink, AllReduce), 230e9},
		// HDR 200 Gb/s = 25 GB/s × 0.94 = 23.5 GB/s.
		{"a100 pod", a100.TierBusBW(TierPod, AllGather), 23.5e9},
		// Full bisection: the spine is as fast as the pod.
		{"a100 spine, 1:1", a100.TierBusBW(TierSpine, AllGather), 23.5e9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !approx(tt.got, tt.want, 1e-12) {
				t.Errorf("got %g, want %g", tt.got, tt.want)
			}
		})
	}
}

func TestCollectiveTime(t *testing.T) {
	const (
		a  = 3.4e-6   // NVLinkLatencyS
		l  = 5e-6     // llama3Net.LatencyS
		ni = 47e9     // 400 Gb/s NIC busbw
		sp = 47e9 / 7 // spine busbw at 1:7
	)
	h100 := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	a100 := mustCluster(t, "a100-sxm-80g", 64, 8, Network{ScaleOutGbps: 200, NodesPerPod: 8, Oversubscription: 1, LatencyS: l})
	b200 := mustCluster(t, "b200", 64, 8, llama3Net)
	// Two pods of two nodes each, 1:7 above the pods.
	twoPods := mustCluster(t, "h100-sxm", 32, 8, Network{ScaleOutGbps: 400, NodesPerPod: 2, Oversubscription: 7, LatencyS: l})

	gb200 := mustCluster(t, "gb200", 1152, 4, gb200Net)
	gb300 := mustCluster(t, "gb300", 1152, 4, Network{ScaleOutGbps: 800, NodesPerPod: 288, Oversubscription: 1, LatencyS: 5e-6, NVLinkDomain: 72})
	tests := []struct {
		name  string
		c     Cluster
		op    Collective
		g     Group
		bytes float64
		want  float64
	}{
		// GB200 NVL72, TP8 on two 4-GPU trays of one rack: NVLink ring,
		// 7/8·2^30/720e9 + min(7, 2·3)·3.4 µs (as for one 8×B200 node).
		{"gb200 tp8 all-gather crosses trays", gb200, AllGather, Group{8, 1}, gib, 7.0/8*gib/720e9 + 6*3.4e-6},
		// TP8 all-reduce holds two whole trays: NVLS, 2·7/8·2^30/830e9 + 6·3.4 µs.
		{"gb200 tp8 all-reduce", gb200, AllReduce, Group{8, 1}, gib, 2*7.0/8*gib/830e9 + 6*3.4e-6},
		// DP2 at stride 72, one member in each of two racks: the NICs,
		// 1/2·2^30/(400e9/8·0.94) + min(1, 2)·5 µs.
		{"gb200 dp2 across racks", gb200, ReduceScatter, Group{2, 72}, gib, 0.5*gib/47e9 + 5e-6},
		// The same on GB300's 800 Gb/s ConnectX-8: β = 100e9·0.94.
		{"gb300 dp2 across racks", gb300, ReduceScatter, Group{2, 72}, gib, 0.5*gib/94e9 + 5e-6},
		// 8×H100 all-reduce of 1 GiB over NVLS: 2·7/8·2^30/480e9 = 3.91468 ms,
		// plus latency min(ring 2·7, tree 2·⌈log2 8⌉ = 6)·3.4 µs = 20.4 µs.
		{"h100 tp8 all-reduce 1GiB", h100, AllReduce, Group{8, 1}, gib, 0.003935083733333334},
		// Reduce-scatter on the ring: 7/8·2^30/370e9 = 2.53925 ms + min(7, 6)·3.4 µs.
		{"h100 tp8 reduce-scatter 1GiB", h100, ReduceScatter, Group{8, 1}, gib, 0.0025596543135135135},
		// All-gather costs what reduce-scatter does.
		{"h100 tp8 all-gather 1GiB", h100, AllGather, Group{8, 1}, gib, 0.0025596543135135135},
		// TP4 is not a whole node, so no NVLS: 2·3/4·2^30/370e9 + min(6, 2·2)·3.4 µs.
		{"h100 tp4 all-reduce 1GiB", h100, AllReduce, Group{4, 1}, gib, 0.004366607394594595},
		// A100, no NVLS: 2·7/8·2^30/230e9 + 6·3.4 µs.
		{"a100 tp8 all-reduce 1GiB", a100, AllReduce, Group{8, 1}, gib, 0.008190174747826087},
		// B200 NVLS 830 GB/s (nccl issue 1807): 2·7/8·2^30/830e9 + 6·3.4 µs.
		{"b200 tp8 all-reduce 1GiB", b200, AllReduce, Group{8, 1}, gib, 0.0022843134843373494},
		// 8 bytes: latency bound, 2·7/8·8/480e9 + 20.4 µs.
		{"h100 tp8 all-reduce 8B", h100, AllReduce, Group{8, 1}, 8, 2.040002916666667e-05},
		// Two nodes, reduce-scatter of 1 GiB: NVLink tier 7/8·2^30/370e9 + 6·3.4 µs,
		// then the pod tier on 2^30/8: 1/2·2^27/47e9 + min(1, 2)·5 µs = 1.42785 ms + 5 µs.
		{"h100 2-node reduce-scatter", h100, ReduceScatter, Group{16, 1}, gib, 0.00399250248372628},
		// Two nodes, all-reduce: 2×NVLink reduce-scatter (ring) + all-reduce
		// over the pod on 2^27: 2·1/2·2^27/47e9 + min(2, 2)·5 µs.
		{"h100 2-node all-reduce", h100, AllReduce, Group{16, 1}, gib, 0.00798500496745256},
		// Hierarchical reduce-scatter across 2 pods at 1:7 (Group{4, 8}: one GPU
		// per node, 2 nodes per pod, 2 pods): pod tier 1/2·2^30/47e9 + 5 µs =
		// 11.4228 ms + 5 µs; spine tier on 2^29: 1/2·2^29/(47e9/7) + min(1, 2)·5 µs
		// = 39.9810 ms + 5 µs.
		{"2 pods reduce-scatter 1:7", twoPods, ReduceScatter, Group{4, 8}, gib, 0.05141253412765957},
		// The all-reduce: pod tier twice, spine all-reduce 2·1/2·2^29/(47e9/7) + 2·5 µs.
		{"2 pods all-reduce 1:7", twoPods, AllReduce, Group{4, 8}, gib, 0.10282506825531915},
		// Llama 3 DP reduce-scatter of 1 GiB (Size 128, Stride 128 = [pod 24, spine 5.33]):
		// pod 23/24·2^30/47e9 + min(23, 2·⌈log2 24⌉ = 10)·5 µs = 21.8937 ms + 50 µs;
		// spine on 2^30/24: (4.333/5.333)·2^30/24/(47e9/7) + min(4.333, 2·3)·5 µs
		// = 5.41392 ms + 21.7 µs.
		{"llama3 dp reduce-scatter", h100, ReduceScatter, Group{128, 128}, gib, 0.02737926292198582},
		// Nothing to move, or nobody to move it to.
		{"zero bytes", h100, AllReduce, Group{128, 128}, 0, 0},
		{"group of one", h100, AllReduce, Group{1, 1}, gib, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.CollectiveTime(tt.op, tt.g, tt.bytes)
			if !approx(got, tt.want, 1e-9) {
				t.Errorf("CollectiveTime(%v, %+v, %g) = %.9g s, want %.9g s", tt.op, tt.g, tt.bytes, got, tt.want)
			}
		})
	}
}

// TestCollectiveInvariants checks the package doc's invariants over many
// groups and sizes.
func TestCollectiveInvariants(t *testing.T) {
	clusters := map[string]Cluster{
		"h100 llama3": mustCluster(t, "h100-sxm", 16384, 8, llama3Net),
		"a100 1:1":    mustCluster(t, "a100-sxm-80g", 1024, 8, Network{ScaleOutGbps: 200, NodesPerPod: 32, Oversubscription: 1, LatencyS: 2e-6}),
		"b200 small":  mustCluster(t, "b200", 256, 8, Network{ScaleOutGbps: 400, NodesPerPod: 4, Oversubscription: 3, LatencyS: 10e-6}),
		"gb200 nvl72": mustCluster(t, "gb200", 1152, 4, gb200Net),
	}
	groups := []Group{{2, 1}, {4, 1}, {8, 1}, {16, 1}, {16, 8}, {32, 4}, {64, 128}, {128, 128}, {8, 2048}, {24, 8}}
	sizes := []float64{1, 4096, 1 << 20, 1 << 30, 1e11}
	for name, c := range clusters {
		for _, g := range groups {
			if c.CheckGroup(g) != nil {
				continue
			}
			for _, s := range sizes {
				ar := c.CollectiveTime(AllReduce, g, s)
				rs := c.CollectiveTime(ReduceScatter, g, s)
				ag := c.CollectiveTime(AllGather, g, s)
				if !(ar > 0 && rs > 0 && ag > 0) || math.IsInf(ar, 0) {
					t.Errorf("%s %+v %g: non-positive or infinite times %g %g %g", name, g, s, ar, rs, ag)
				}
				if rs != ag {
					t.Errorf("%s %+v %g: reduce-scatter %g != all-gather %g", name, g, s, rs, ag)
				}
				if ar > rs+ag*(1+1e-12) {
					t.Errorf("%s %+v %g: all-reduce %g > reduce-scatter + all-gather %g", name, g, s, ar, rs+ag)
				}
				// Linear in bytes beyond the latency: T(2S) - T(S) = T(S) - T(0+).
				lat := c.CollectiveTime(AllReduce, g, 1e-300)
				if d1, d2 := ar-lat, c.CollectiveTime(AllReduce, g, 2*s)-lat; !approx(d2, 2*d1, 1e-6) {
					t.Errorf("%s %+v %g: bandwidth term not linear: %g vs 2·%g", name, g, s, d2, d1)
				}
			}
		}
	}
}

func TestCollectiveMonotoneInOversubscription(t *testing.T) {
	prev := 0.0
	for _, o := range []float64{1, 2, 4, 7, 16} {
		net := llama3Net
		net.Oversubscription = o
		c := mustCluster(t, "h100-sxm", 16384, 8, net)
		got := c.CollectiveTime(ReduceScatter, Group{128, 128}, gib)
		if got <= prev {
			t.Errorf("oversubscription %g: %g s, not slower than %g s", o, got, prev)
		}
		prev = got
	}
}

func TestSendRecvTime(t *testing.T) {
	c := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	tests := []struct {
		name              string
		bytes             float64
		sameNode, samePod bool
		want              float64
	}{
		// NVLink: 2^30/370e9 + 3.4 µs.
		{"same node", gib, true, true, 0.0029054049297297297},
		// sameNode implies samePod, whatever samePod says.
		{"same node, samePod false", gib, true, false, 0.0029054049297297297},
		// NIC: 2^30/47e9 + 5 µs.
		{"same pod", gib, false, true, 0.022850570723404257},
		// Spine: 2^30/(47e9/7) + 5 µs.
		{"across pods", gib, false, false, 0.1599239950638298},
		{"zero bytes", 0, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.SendRecvTime(tt.bytes, tt.sameNode, tt.samePod)
			if !approx(got, tt.want, 1e-9) {
				t.Errorf("SendRecvTime(%g, %v, %v) = %.9g, want %.9g", tt.bytes, tt.sameNode, tt.samePod, got, tt.want)
			}
		})
	}
}

func TestP2PTime(t *testing.T) {
	gb200 := mustCluster(t, "gb200", 1152, 4, gb200Net)
	h100 := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	tests := []struct {
		name string
		c    Cluster
		a, b int
		want float64
	}{
		// Ranks 0 and 68: different trays, the same 72-GPU rack: NVLink,
		// 2^30/720e9 + 3.4 µs.
		{"gb200 same rack", gb200, 0, 68, gib/720e9 + 3.4e-6},
		// Ranks 68 and 72: neighbouring racks, one pod: the NIC, 2^30/47e9 + 5 µs.
		{"gb200 next rack", gb200, 68, 72, gib/47e9 + 5e-6},
		// On 8-GPU nodes the domain is the node: ranks 0 and 8 use the NIC.
		{"h100 next node", h100, 0, 8, gib/47e9 + 5e-6},
		{"h100 same node", h100, 0, 7, gib/370e9 + 3.4e-6},
		// Nodes 0 and 384 are in different pods: the spine, 2^30/(47e9/7) + 5 µs.
		{"h100 next pod", h100, 0, 384 * 8, gib/(47e9/7) + 5e-6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.P2PTime(gib, tt.a, tt.b); !approx(got, tt.want, 1e-9) {
				t.Errorf("P2PTime(%d, %d) = %.9g, want %.9g", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestCostsPanicOnProgrammerErrors(t *testing.T) {
	c := mustCluster(t, "h100-sxm", 16, 8, llama3Net)
	cases := map[string]func(){
		"negative bytes":     func() { c.CollectiveTime(AllReduce, Group{8, 1}, -1) },
		"NaN bytes":          func() { c.CollectiveTime(AllReduce, Group{8, 1}, math.NaN()) },
		"zero stride":        func() { c.CollectiveTime(AllReduce, Group{8, 0}, 1) },
		"zero size":          func() { c.CollectiveTime(AllGather, Group{0, 1}, 1) },
		"unknown collective": func() { c.CollectiveTime(Collective(3), Group{8, 1}, 1) },
		"negative p2p bytes": func() { c.SendRecvTime(-1, true, true) },
		"unknown tier":       func() { c.TierBusBW(Tier(3), AllReduce) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			f()
		})
	}
}

func TestCollectiveString(t *testing.T) {
	for op, want := range map[Collective]string{AllReduce: "all-reduce", ReduceScatter: "reduce-scatter", AllGather: "all-gather", Collective(9): "Collective(9)"} {
		if got := op.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(op), got, want)
		}
	}
}

func TestCollectiveTimeDoesNotAllocate(t *testing.T) {
	c := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	var sink float64
	allocs := testing.AllocsPerRun(100, func() {
		sink += c.CollectiveTime(AllReduce, Group{128, 128}, gib)
		sink += c.CollectiveTime(ReduceScatter, Group{16384, 1}, gib)
		sink += c.SendRecvTime(gib, false, false)
	})
	if allocs != 0 {
		t.Errorf("%g allocations per run, want 0", allocs)
	}
	_ = sink
}

func BenchmarkCollectiveTime(b *testing.B) {
	c := mustCluster(b, "h100-sxm", 16384, 8, llama3Net)
	cases := []struct {
		name string
		op   Collective
		g    Group
	}{
		{"tp8-allreduce", AllReduce, Group{8, 1}},
		{"tp16-reducescatter", ReduceScatter, Group{16, 1}},
		{"dp128-allreduce", AllReduce, Group{128, 128}},
		{"all16384-allgather", AllGather, Group{16384, 1}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink float64
			for b.Loop() {
				sink += c.CollectiveTime(bc.op, bc.g, 268435456)
			}
			_ = sink
		})
	}
}
