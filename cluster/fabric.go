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
	// TierNVLink is inside one NVLink domain (a node, or an NVL72 rack of
	// several nodes), over NVLink and NVSwitch.
	TierNVLink Tier = iota
	// TierPod is between NVLink domains inside one full-bisection pod, over
	// the scale-out NICs (one per GPU, rail-optimized).
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
// next tier up (the members per NVLink domain at TierNVLink, the domains per
// pod at TierPod, the pods at TierSpine). Members is a float64 because a group that
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
// Ranks are laid out consecutively: rank r lives in NVLink domain r/D (D =
// Cluster.Domain(), one node unless Network.NVLinkDomain says more), on
// node r/GPUsPerNode, and node n in pod n/NodesPerPod. Then
//
//   - members per domain m: the fewest members that any group of g's shape
//     has in one domain it touches (the worst-placed group; see below);
//   - consecutive domain-level members lie max(D, m·Stride) ranks apart, d
//     nodes, so members per pod (counted in domain-level members) are p = 1
//     if d >= NodesPerPod, else min(Size/m, ⌊NodesPerPod/d⌋);
//   - the rest, Size/(m·p), are pods.
//
// The groups of g's shape are those of a [TP, CP, PP, DP] layout: blocks of
// Size·Stride consecutive ranks, each holding Stride interleaved groups.
// Where D is a multiple of the block, every group lies inside one domain
// (m = Size); where the block is a multiple of D and Stride divides D,
// every domain holds D/Stride members of each group it touches (m =
// D/Stride); a Stride of D or more puts each member in its own domain (m =
// 1). Otherwise domain boundaries cut some blocks unevenly (an NVL72 rack
// of 72 GPUs under a block of 16 or 128, say), and the groups so cut have
// fewer members on one side. A collective over such groups runs in
// lockstep, and the slowest group is the one with the fewest members in a
// domain, since those few GPUs' NICs carry the whole domain's share of
// the scale-out traffic; m is that group's count. A cut at q ranks into a
// block leaves at worst max(1, ⌊q/Stride⌋) members before it (the group
// with the largest offset) and max(1, ⌊(block−q)/Stride⌋) after it;
// domains cut on both sides hold at least ⌊D/Stride⌋. For D = 72 and a
// block of 16 (tp = 8, cp = 2), the block at ranks 64–79 splits each of its
// CP groups one member in each rack: m = 1, and the CP all-gather is
// priced entirely on the NICs.
//
// The pod count is kept fractional where the group does not divide evenly
// into pods: Llama 3's DP group (Size 128, Stride 128 = 16 nodes, 384-node
// pods) has 24 members per pod and 128/24 = 5.33 pods. The fraction is the
// average group size at the spine, which is what the alpha-beta cost needs.
// The domain-level count is likewise fractional (Size/m) where m does not
// divide Size.
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
	m := c.domainMembers(g)
	if m > 1 {
		sp[n] = Span{TierNVLink, m}
		n++
	}
	rest := size / m
	if rest <= 1 {
		return sp, n
	}
	nodeStride := max(float64(c.Domain()), m*float64(g.Stride)) / float64(c.GPUsPerNode)
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

// domainMembers is m of Spans: the fewest members that the worst-placed
// group of g's shape has in one NVLink domain it touches. It loops over at
// most min(blocks, D/gcd(block, D)) blocks (the offsets of blocks against
// domains repeat with that period), at most D, and does not allocate.
func (c Cluster) domainMembers(g Group) float64 {
	size, stride, d := g.Size, g.Stride, c.Domain()
	if stride >= d {
		return 1
	}
	block := size * stride
	if d%block == 0 || (c.GPUs <= d && (size-1)*stride < d) {
		return float64(size) // every group inside one domain
	}
	blocks := max(1, (c.GPUs+block-1)/block)
	worst := size
	for k := range min(blocks, d/GCD(block, d)) {
		first := d - k*block%d // the first domain boundary inside the block, in ranks from its start
		if first >= block {
			continue // the block lies inside one domain
		}
		last := first + (block-1-first)/d*d // the last boundary inside the block
		worst = min(worst, max(1, first/stride), max(1, (block-last)/stride))
		if last > first {
			worst = min(worst, d/stride) // a domain cut on both sides
		}
	}
	return float64(worst)
}

// GCD is the greatest common divisor of a and b (Euclid).
func GCD(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
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
