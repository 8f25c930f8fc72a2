package cluster

// DeepEPSMs is the streaming multiprocessors DeepSeek's all-to-all kernels
// (DeepEP) occupy while they run: "only 20 SMs are sufficient to fully
// utilize the bandwidths of IB and NVLink" (DeepSeek-V3, arXiv:2412.19437
// §3.2.2, on the H800's 132). Compute overlapped with them runs on the
// rest.
const DeepEPSMs = 20

// AllToAllTime returns the seconds of an all-to-all among the GPUs ranks
// (global ranks under the consecutive layout of Spans), in which every
// member sends bytes in all, bytes/n to each of the n members (itself
// included, which costs nothing): the dispatch and combine of
// mixture-of-experts layers.
//
// Alpha-beta, priced for the first member (the groups are aligned, so every
// member sees the same mix of peers): the share of the buffer bound for
// peers in its NVLink domain crosses NVLink at NVLinkRingBusBW (NCCL's
// effective per-GPU NVLink bandwidth, which its all-to-all reaches on an
// NVSwitch); the share for other domains leaves through the GPU's NIC, at
// the pod tier's bandwidth for peers in the same pod and the spine tier's
// (divided by the oversubscription) for the rest. NVLink and the NIC work at
// once, so the time is the larger of the two, plus one step latency of the
// farthest tier crossed: NCCL issues the n−1 sends and receives of an
// all-to-all together, in one grouped call.
//
// A group of one, or zero bytes, costs 0. Negative or NaN bytes panic.
func (c Cluster) AllToAllTime(ranks []int, bytes float64) float64 {
	checkBytes(bytes)
	n := len(ranks)
	if n <= 1 || bytes == 0 {
		return 0
	}
	di, pi, si := c.PeerTiers(ranks)
	dom, pod, spine := float64(di), float64(pi), float64(si)
	share := bytes / float64(n)
	return c.ExchangeTime(share*dom, share*pod, share*spine)
}

// PeerTiers counts, for the first of ranks, how many of the others share
// its NVLink domain, how many its pod only, and how many lie across the
// spine (the consecutive layout of Spans).
func (c Cluster) PeerTiers(ranks []int) (domain, pod, spine int) {
	if len(ranks) == 0 {
		return 0, 0, 0
	}
	d, g, npp := c.Domain(), c.GPUsPerNode, c.Network.NodesPerPod
	me := ranks[0]
	for _, r := range ranks[1:] {
		switch {
		case r/d == me/d:
			domain++
		case r/g/npp == me/g/npp:
			pod++
		default:
			spine++
		}
	}
	return domain, pod, spine
}

// ExchangeTime is the seconds of an exchange in which one GPU moves nvlink
// bytes over NVLink and pod and spine bytes through its NIC at once (as
// AllToAllTime prices them), plus one step latency of the farthest tier
// with traffic.
func (c Cluster) ExchangeTime(nvlink, pod, spine float64) float64 {
	checkBytes(nvlink)
	checkBytes(pod)
	checkBytes(spine)
	if nvlink+pod+spine == 0 {
		return 0
	}
	top := TierNVLink
	switch {
	case spine > 0:
		top = TierSpine
	case pod > 0:
		top = TierPod
	}
	nic := pod/c.TierBusBW(TierPod, ReduceScatter) + spine/c.TierBusBW(TierSpine, ReduceScatter)
	return max(nvlink/c.GPU.NVLinkRingBusBW, nic) + c.alpha(top)
}
