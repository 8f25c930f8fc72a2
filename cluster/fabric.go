package cluster

import (
	"fmt"
	"math"
)

// NICBusBWEfficiency is the fraction of a NIC's line rate that NCCL reaches
// as bus bandwidth. nccl-tests on one 400 Gb/s NIC per GPU reach 46–48 GB/s
// busbw of the 50 GB/s line rate (NVIDIA/nccl-tests issues 212 and 290, as in
// reference/published.yaml collectives_measured): 47/50 = 0.94. NVIDIA's
// rule of thumb for HDR is consistent: "24GB/s is the peak performance per
// 200G NIC" of 25 GB/s (S. Jeaugey, NVIDIA/nccl-tests issue 119). A 200 Gb/s
// HDR NIC therefore gives 23.5 GB/s.
const NICBusBWEfficiency = 0.94

// NVLinkLatencyS is the per-step latency (alpha) of a collective inside an
// NVLink node, in seconds: NCCL's own tuning model charges 3.4 µs per ring
// step over NVLink with the Simple protocol, the one used for large
// training buffers (hwLat[NVLINK][Ring][Simple] in NVIDIA/nccl
// src/graph/tuning.cc). Small-message nccl-tests latencies on one 8-GPU
// node are of the same order (tens of µs for the 2(n-1)=14 steps of a ring
// all-reduce).
const NVLinkLatencyS = 3.4e-6

// Tier is a level of the network that a parallel group's traffic crosses.
type Tier int

const (
	// TierNVLink is inside one node, over NVLink and NVSwitch.
	TierNVLink Tier = iota
	// TierPod is between nodes of one full-bisection pod, over the
	// scale-out NICs (one per GPU, rail-optimized).
	TierPod
	// TierSpine is between pods, over the oversubscribed spine.
	TierSpine
)

const numTiers = 3

var tierNames = [numTiers]string{TierNVLink: "nvlink", TierPod: "pod", TierSpine: "spine"}

// String returns "nvlink", "pod" or "spine".
func (t Tier) String() string {
	if t >= 0 && t < numTiers {
		return tierNames[t]
	}
	return fmt.Sprintf("Tier(%d)", int(t))
}

// Group is a parallel group (TP, CP, PP or DP) of Size ranks spaced Stride
// apart: r0, r0+Stride, …, r0+(Size-1)·Stride. With Megatron/Llama 3 rank
// order [TP, CP, PP, DP], TP has stride 1, CP stride tp, PP stride tp·cp and
// DP stride tp·cp·pp. The group is assumed aligned: r0 is a multiple of the
// span of its lower tiers, as it is for every group of such a layout.
type Group struct {
	Size   int
	Stride int
}

// Span is one level of a group's hierarchical factorisation: Members is the
// number of the group's members at Tier that lie below one member of the
// next tier up (the members per node at TierNVLink, the nodes per pod at
// TierPod, the pods at TierSpine). Members is a float64 because a group that
// does not divide evenly into pods spans a fractional number of them on
// average (see Cluster.Spans).
type Span struct {
	Tier    Tier
	Members float64
}

// String returns e.g. "pod×24" or "spine×5.333" (Members to 4 significant digits).
func (s Span) String() string { return fmt.Sprintf("%s×%.4g", s.Tier, s.Members) }

// CheckGroup reports whether g is a group of this cluster: Size and Stride at
// least 1 and every member a rank below GPUs. The cost methods check only the
// first two (cheaply) and panic on them; callers that build groups from
// user input should call CheckGroup first.
func (c Cluster) CheckGroup(g Group) error {
	switch {
	case g.Size < 1:
		return &InvalidError{Field: "group.size", Value: g.Size, Reason: "must be >= 1"}
	case g.Stride < 1:
		return &InvalidError{Field: "group.stride", Value: g.Stride, Reason: "must be >= 1"}
	case (g.Size-1)*g.Stride >= c.GPUs:
		return &InvalidError{Field: "group", Value: g,
			Reason: fmt.Sprintf("spans %d ranks, more than the cluster's %d GPUs", (g.Size-1)*g.Stride+1, c.GPUs)}
	}
	return nil
}

// Spans returns the hierarchical factorisation of g over the tiers, lowest
// first, omitting tiers where the group has a single member; the product of
// the Members is g.Size, and a group of one has no spans.
//
// Ranks are laid out consecutively: rank r lives on node r/GPUsPerNode and
// node n in pod n/NodesPerPod. Then
//
//   - members per node m = 1 if Stride >= GPUsPerNode, else
//     min(Size, ⌊GPUsPerNode/Stride⌋);
//   - consecutive node-level members lie d = max(1, m·Stride/GPUsPerNode)
//     nodes apart, so members per pod (counted in node-level members) are
//     p = 1 if d >= NodesPerPod, else min(Size/m, ⌊NodesPerPod/d⌋);
//   - the rest, Size/(m·p), are pods.
//
// The pod count is kept fractional where the group does not divide evenly
// into pods: Llama 3's DP group (Size 128, Stride 128 = 16 nodes, 384-node
// pods) has 24 members per pod and 128/24 = 5.33 pods. The fraction is the
// average group size at the spine, which is what the alpha-beta cost needs.
func (c Cluster) Spans(g Group) []Span {
	sp, n := c.spans(g)
	if n == 0 {
		return nil
	}
	out := make([]Span, n)
	copy(out, sp[:n])
	return out
}

// spans is Spans into a fixed-size array, without allocation.
func (c Cluster) spans(g Group) (sp [numTiers]Span, n int) {
	checkGroup(g)
	size := float64(g.Size)
	if g.Size == 1 {
		return sp, 0
	}
	m := 1.0
	if g.Stride < c.GPUsPerNode {
		m = min(size, float64(c.GPUsPerNode/g.Stride))
	}
	if m > 1 {
		sp[n] = Span{TierNVLink, m}
		n++
	}
	rest := size / m
	if rest <= 1 {
		return sp, n
	}
	nodeStride := max(1, m*float64(g.Stride)/float64(c.GPUsPerNode))
	p := 1.0
	if npp := float64(c.Network.NodesPerPod); nodeStride < npp {
		p = min(rest, math.Floor(npp/nodeStride))
	}
	if p > 1 {
		sp[n] = Span{TierPod, p}
		n++
	}
	rest /= p
	if rest > 1 {
		sp[n] = Span{TierSpine, rest}
		n++
	}
	return sp, n
}

// checkGroup panics on a group the cost methods cannot price; it is a
// programmer error, as user input is checked with CheckGroup upstream.
func checkGroup(g Group) {
	if g.Size < 1 || g.Stride < 1 {
		panic("cluster: invalid group: Size and Stride must be >= 1")
	}
}

// nicBusBW is the scale-out bus bandwidth one GPU's NIC achieves, bytes/s.
func (c Cluster) nicBusBW() float64 {
	return c.Network.ScaleOutGbps * (1e9 / 8) * NICBusBWEfficiency
}
