package cluster

import (
	"fmt"
	"math"
)

// Collective is a collective operation priced by CollectiveTime.
type Collective int

const (
	// AllReduce: every rank ends with the sum of all ranks' buffers.
	AllReduce Collective = iota
	// ReduceScatter: every rank ends with its 1/n slice of the sum.
	ReduceScatter
	// AllGather: every rank ends with the concatenation of all slices.
	AllGather
)

var collectiveNames = [...]string{AllReduce: "all-reduce", ReduceScatter: "reduce-scatter", AllGather: "all-gather"}

// String returns "all-reduce", "reduce-scatter" or "all-gather".
func (op Collective) String() string {
	if op >= 0 && int(op) < len(collectiveNames) {
		return collectiveNames[op]
	}
	return fmt.Sprintf("Collective(%d)", int(op))
}

// TierBusBW returns the bus bandwidth β (bytes/s) that op achieves across
// tier t:
//
//   - TierNVLink: the GPU's NVLSBusBW for an all-reduce where the GPU has
//     NVLink SHARP, else NVLinkRingBusBW. (CollectiveTime uses NVLS only for
//     a group with at least a whole node's GPUs in the domain that
//     all-reduces at the NVLink tier.)
//   - TierPod: the NIC's line rate × NICBusBWEfficiency.
//   - TierSpine: the pod bandwidth / Oversubscription. Every GPU of a pod
//     crosses the spine at once in the lockstep collectives this prices (all
//     DP replicas reduce their gradients together), so the spine's bandwidth
//     is shared by all the groups crossing it: each GPU gets 1/Oversubscription
//     of its NIC.
func (c Cluster) TierBusBW(t Tier, op Collective) float64 {
	switch t {
	case TierNVLink:
		if op == AllReduce && c.GPU.NVLSBusBW > 0 {
			return c.GPU.NVLSBusBW
		}
		return c.GPU.NVLinkRingBusBW
	case TierPod:
		return c.nicBusBW()
	case TierSpine:
		return c.nicBusBW() / c.Network.Oversubscription
	}
	panic(fmt.Sprintf("cluster: unknown tier %d", int(t)))
}

// alpha is the per-step latency of tier t, seconds.
func (c Cluster) alpha(t Tier) float64 {
	if t == TierNVLink {
		return NVLinkLatencyS
	}
	return c.Network.LatencyS
}

// CollectiveTime returns the seconds op takes over group g for a buffer of
// bytes: all-reduce's buffer, reduce-scatter's input, all-gather's output.
//
// Each tier of g.Spans (n members, bus bandwidth β, step latency α) costs,
// alpha-beta style,
//
//	reduce-scatter or all-gather: (n-1)/n · S/β + min(n-1, 2⌈log2 n⌉)·α
//	all-reduce:                  2(n-1)/n · S/β + min(2(n-1), 2⌈log2 n⌉)·α
//
// where the latency is the smaller of a ring's and a tree's (NCCL switches
// to trees when latency dominates) and β is the ring's. Across tiers the
// collective is hierarchical: a reduce-scatter goes up the tiers, each tier
// working on the data already reduced below it (S divided by the product of
// the lower tiers' members); an all-gather mirrors it down; an all-reduce is
// a reduce-scatter up to the top tier, an all-reduce there, and an
// all-gather back down. The tiers' times add (no overlap between tiers).
//
// A zero-byte buffer or a group of one costs 0. CollectiveTime does not
// allocate. It panics on a group with Size or Stride below 1, a negative or
// NaN byte count, or an unknown op: programmer errors (see CheckGroup).
func (c Cluster) CollectiveTime(op Collective, g Group, bytes float64) float64 {
	if op < AllReduce || op > AllGather {
		panic("cluster: unknown collective")
	}
	checkBytes(bytes)
	sp, n := c.spans(g)
	if n == 0 || bytes == 0 {
		return 0
	}
	total := 0.0
	data := bytes
	for i, s := range sp[:n] {
		m := s.Members
		a := c.alpha(s.Tier)
		tree := 2 * math.Ceil(math.Log2(m))
		if op == AllReduce && i == n-1 {
			// All-reduce at the top tier.
			beta := c.GPU.NVLinkRingBusBW
			switch {
			case s.Tier != TierNVLink:
				beta = c.TierBusBW(s.Tier, AllReduce)
			case c.GPU.NVLSBusBW > 0 && m >= float64(c.GPUsPerNode):
				beta = c.GPU.NVLSBusBW // NVLink SHARP over a whole node or more of the domain
			}
			return total + 2*(m-1)/m*data/beta + min(2*(m-1), tree)*a
		}
		// Reduce-scatter (or all-gather) at this tier, on ring bandwidth.
		t := (m-1)/m*data/c.TierBusBW(s.Tier, ReduceScatter) + min(m-1, tree)*a
		if op == AllReduce {
			t *= 2 // reduce-scatter on the way up, all-gather on the way down
		}
		total += t
		data /= m
	}
	return total
}

// SendRecvTime returns the seconds of a point-to-point transfer of bytes
// (a pipeline-stage boundary): over NVLink at the GPU's NVLinkRingBusBW (the
// effective NVLink bandwidth NCCL achieves) if sameDomain (the same NVLink
// domain: the same node on 8-GPU servers, the same rack on NVL72); else over
// the NIC at the pod tier's bus bandwidth if samePod; else across the spine
// at the spine tier's, shared as in TierBusBW. Plus one step latency of the
// tier. sameDomain implies samePod. Zero bytes cost 0; negative or NaN bytes
// panic. P2PTime works the flags out from two ranks.
func (c Cluster) SendRecvTime(bytes float64, sameDomain bool, samePod bool) float64 {
	checkBytes(bytes)
	if bytes == 0 {
		return 0
	}
	t := TierSpine
	switch {
	case sameDomain:
		t = TierNVLink
	case samePod:
		t = TierPod
	}
	return bytes/c.TierBusBW(t, ReduceScatter) + c.alpha(t)
}

func checkBytes(bytes float64) {
	if !(bytes >= 0) {
		panic("cluster: byte count must be >= 0 and not NaN")
	}
}

// P2PTime returns SendRecvTime for a transfer of bytes from rank a to rank b
// under the consecutive layout of Spans: the same domain if a/D == b/D (D =
// Domain()), the same pod if their nodes a/GPUsPerNode and b/GPUsPerNode
// share a pod. It panics on a negative rank (a programmer error).
func (c Cluster) P2PTime(bytes float64, a, b int) float64 {
	if a < 0 || b < 0 {
		panic("cluster: negative rank")
	}
	d, g, npp := c.Domain(), c.GPUsPerNode, c.Network.NodesPerPod
	return c.SendRecvTime(bytes, a/d == b/d, a/g/npp == b/g/npp)
}
