package cluster

import (
	"errors"
	"testing"
)

func TestCheckGroup(t *testing.T) {
	c := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	tests := []struct {
		g     Group
		field string // "" = valid
	}{
		{Group{8, 1}, ""},
		{Group{128, 128}, ""},      // last member rank 127·128 = 16,256 < 16,384
		{Group{1, 16384}, ""},      // a group of one
		{Group{129, 128}, "group"}, // last member rank 128·128 = 16,384: off the end
		{Group{0, 1}, "group.size"},
		{Group{8, 0}, "group.stride"},
	}
	for _, tt := range tests {
		err := c.CheckGroup(tt.g)
		var inv *InvalidError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("CheckGroup(%+v) = %v, want nil", tt.g, err)
		case tt.field != "" && (!errors.As(err, &inv) || inv.Field != tt.field):
			t.Errorf("CheckGroup(%+v) = %v, want an *InvalidError on %q", tt.g, err, tt.field)
		}
	}
}

func TestSpans(t *testing.T) {
	llama := mustCluster(t, "h100-sxm", 16384, 8, llama3Net)
	gb200 := mustCluster(t, "gb200", 1152, 4, gb200Net)
	tests := []struct {
		name string
		c    Cluster
		g    Group
		want []Span
	}{
		// TP8 fills an 8-GPU node.
		{"tp8", llama, Group{8, 1}, []Span{{TierNVLink, 8}}},
		// TP4: half a node.
		{"tp4", llama, Group{4, 1}, []Span{{TierNVLink, 4}}},
		// A group of one crosses nothing.
		{"single", llama, Group{1, 1}, nil},
		// TP16 over two nodes: 8 per node, 2 nodes.
		{"tp16", llama, Group{16, 1}, []Span{{TierNVLink, 8}, {TierPod, 2}}},
		// Llama 3 405B DP (tp8·pp16 = stride 128 GPUs = 16 nodes): a 384-node
		// pod holds 384/16 = 24 members; 128/24 = 5.33 pods.
		{"llama3 dp128", llama, Group{128, 128}, []Span{{TierPod, 24}, {TierSpine, 128.0 / 24}}},
		// Llama 3 on 8,192 GPUs, DP 64: 24 per pod, 64/24 = 2.67 pods.
		{"llama3 dp64", llama, Group{64, 128}, []Span{{TierPod, 24}, {TierSpine, 64.0 / 24}}},
		// Llama 3 PP16 (stride tp = 8 = one node): 16 consecutive nodes, one pod.
		{"llama3 pp16", llama, Group{16, 8}, []Span{{TierPod, 16}}},
		// Llama 3 long context CP16 (stride 8): 16 nodes in one pod.
		{"llama3 cp16", llama, Group{16, 8}, []Span{{TierPod, 16}}},
		// Long-context DP8 (stride tp·cp·pp = 8·16·16 = 2048 GPUs = 256 nodes):
		// ⌊384/256⌋ = 1 per pod, so all 8 members are across the spine.
		{"llama3 long dp8", llama, Group{8, 2048}, []Span{{TierSpine, 8}}},
		// DP with stride 4 on 8-GPU nodes (tp4): 8/4 = 2 per node, the
		// node-level members are 2·4/8 = 1 node apart, 16/2 = 8 nodes in a pod.
		{"dp stride 4", llama, Group{16, 4}, []Span{{TierNVLink, 2}, {TierPod, 8}}},
		// Whole cluster: 8 per node, 384 nodes per pod, 2048/384 = 5.33 pods.
		{"everything", llama, Group{16384, 1}, []Span{{TierNVLink, 8}, {TierPod, 384}, {TierSpine, 2048.0 / 384}}},
		// Stride of exactly one pod (384 nodes · 8): one member per pod.
		{"stride one pod", llama, Group{4, 3072}, []Span{{TierSpine, 4}}},
		// Stride 3 does not divide the node: the block of 12 ranks is cut at
		// rank 8, and the group at offset 0 (ranks 0, 3, 6 | 9) has one member
		// on the second node, max(1, ⌊(12−8)/3⌋) = 1: the worst-placed group
		// sends everything over its NICs, 4 domain-level members 3 ranks
		// apart, max(8, 1·3)/8 = 1 node apart, all in one pod.
		{"stride 3", llama, Group{4, 3}, []Span{{TierPod, 4}}},
		// GB200 NVL72 (4-GPU trays, 72-GPU racks, 1,152 GPUs = 16 racks, one pod):
		// TP8 spans two trays but lies inside one rack (72 = 9·8).
		{"gb200 tp8", gb200, Group{8, 1}, []Span{{TierNVLink, 8}}},
		// TP8·PP9 = 72: the PP group fills a rack exactly.
		{"gb200 pp9 stride 8", gb200, Group{9, 8}, []Span{{TierNVLink, 9}}},
		// DP2 at stride 72: one member per rack; racks are 72/4 = 18 trays
		// apart, ⌊288/18⌋ = 16 per pod ≥ 2: the pod tier (NICs).
		{"gb200 dp2 two racks", gb200, Group{2, 72}, []Span{{TierPod, 2}}},
		// CP2 under TP8 (stride 8, block 16): the block at ranks 64–79 is
		// cut at 72, one member on each side: m = 1, the NICs.
		{"gb200 cp2 cut block", gb200, Group{2, 8}, []Span{{TierPod, 2}}},
		// PP16 under TP8 (block 128): the block at ranks 384–511 is cut at
		// 504 = 7·72 leaving one member (rank 504 + offset 0) in rack 7.
		{"gb200 pp16 cut block", gb200, Group{16, 8}, []Span{{TierPod, 16}}},
		// Block 144 = 2 racks, stride 16 does not divide 72: each rack holds
		// ⌊72/16⌋ = 4 of the worst group (offset 15: 15, 31, 47, 63 | 79 …):
		// 4 per rack, 9/4 = 2.25 rack-level members.
		{"gb200 stride 16 over two racks", gb200, Group{9, 16}, []Span{{TierNVLink, 4}, {TierPod, 9.0 / 4}}},
		// The whole cluster: 72 per rack, 16 racks in the pod.
		{"gb200 everything", gb200, Group{1152, 1}, []Span{{TierNVLink, 72}, {TierPod, 16}}},
		// Stride 2 with Size 2 fits in a node: min(2, 8/2) = 2.
		{"small stride 2", llama, Group{2, 2}, []Span{{TierNVLink, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.Spans(tt.g)
			if len(got) != len(tt.want) {
				t.Fatalf("Spans(%+v) = %v, want %v", tt.g, got, tt.want)
			}
			prod := 1.0
			for i := range got {
				if got[i].Tier != tt.want[i].Tier || !approx(got[i].Members, tt.want[i].Members, 1e-12) {
					t.Errorf("Spans(%+v) = %v, want %v", tt.g, got, tt.want)
				}
				if got[i].Members <= 1 {
					t.Errorf("span %v has <= 1 member", got[i])
				}
				prod *= got[i].Members
			}
			if !approx(prod, float64(tt.g.Size), 1e-12) {
				t.Errorf("product of members %g != Size %d", prod, tt.g.Size)
			}
		})
	}
}

func TestSpansPanicsOnBadGroup(t *testing.T) {
	c := mustCluster(t, "h100-sxm", 16, 8, llama3Net)
	for _, g := range []Group{{0, 1}, {-1, 1}, {8, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Spans(%+v) did not panic", g)
				}
			}()
			c.Spans(g)
		}()
	}
}

func TestTierString(t *testing.T) {
	for tier, want := range map[Tier]string{TierNVLink: "nvlink", TierPod: "pod", TierSpine: "spine", Tier(5): "Tier(5)"} {
		if got := tier.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(tier), got, want)
		}
	}
}
