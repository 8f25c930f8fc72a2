// Package cluster holds the hardware facts and communication cost models of
// a GPU training cluster: a catalog of GPUs, the node and pod structure of
// the cluster and its network, the placement of parallel groups on that
// network, and the time of collectives and point-to-point transfers.
//
// It is pure: no I/O, no events, no randomness, standard library only. The
// simulation packages above it ask it what things cost; scenario parsing
// (names, units, defaults) happens above it too.
//
// # Hardware
//
// LookupGPU returns datasheet figures (dense tensor-core peaks, HBM, NVLink,
// NIC, power, SMs) and, per GPU, two measured nccl-tests bus bandwidths
// inside one 8-GPU NVSwitch node: the ring busbw and the NVLink SHARP (NVLS)
// all-reduce busbw. Every figure names its source next to it in gpu.go;
// the one derived figure (B200 ring busbw) says how it was derived.
//
// # Cluster and fabric
//
// A Cluster is GPUs GPUs, GPUsPerNode to an NVLink node, on a rail-optimized
// Clos network with one NIC per GPU: nodes inside a pod of NodesPerPod have
// full bisection; between pods the bandwidth is divided by Oversubscription
// (Llama 3: 384-node pods, 1:7 above). Ranks are laid out consecutively
// (rank r on node r/GPUsPerNode, node n in pod n/NodesPerPod), in the
// Megatron/Llama 3 order [TP, CP, PP, DP], so a Group{Size, Stride} crosses up
// to three tiers: TierNVLink, TierPod and TierSpine. Cluster.Spans factorises
// a group over the tiers it crosses.
//
// # Cost model
//
// Collectives use the alpha-beta model with β the bus bandwidth a real NCCL
// achieves (nccl-tests busbw), not the line rate:
//
//	ring all-reduce:            2(n-1)/n · S/β + 2(n-1)·α
//	reduce-scatter, all-gather:  (n-1)/n · S/β +  (n-1)·α
//
// with, at each tier, the latency term replaced by a tree's 2⌈log2 n⌉·α when
// that is smaller. Groups that cross several tiers run hierarchically:
// reduce-scatter up the tiers on data already reduced below, all-gather back
// down, all-reduce as reduce-scatter up, all-reduce at the top tier,
// all-gather down; tier times add. β per tier:
//
//   - NVLink: the ring busbw; the NVLS busbw for an all-reduce by a group that
//     is exactly one whole node, on GPUs whose NVSwitch has SHARP (Hopper and
//     later). A group spanning nodes reduce-scatters and all-gathers inside
//     the node on the ring busbw.
//   - Pod: the NIC line rate × NICBusBWEfficiency (0.94).
//   - Spine: the pod β / Oversubscription.
//
// α is NVLinkLatencyS inside a node and Network.LatencyS across the NICs.
//
// # Assumptions
//
//   - Shared tiers: a group's β at a tier is what each of its GPUs gets when
//     every GPU in the cluster communicates at once, as in the lockstep TP,
//     CP and DP collectives this prices. Inside a node each GPU has its own
//     NVLink and NIC, so groups side by side do not slow each other; at the
//     spine, every GPU of a pod crosses at once, so each gets
//     1/Oversubscription of its NIC ("shared by groups crossing the same tier").
//   - Stride that does not divide the node: members per node are rounded
//     down, and a group that does not divide evenly into pods has a
//     fractional pod count (the average), kept as a float.
//   - Groups are aligned: a group's first rank is a multiple of the span of
//     its lower tiers, as it is for every group of a [TP, CP, PP, DP] layout,
//     so a group whose sizes divide the node and pod fills them evenly.
//   - No contention between different collectives running at the same time
//     on the same tier (e.g. a DP reduce-scatter overlapping a PP send):
//     the step simulation decides what overlaps.
//   - Point-to-point sends (SendRecvTime) use the ring busbw over NVLink, the
//     NIC busbw inside a pod and the shared spine busbw between pods.
//   - Only communication is priced here: the compute-efficiency model (GEMM,
//     attention) is a separate part of this package with its own sources.
//
// # Invariants
//
//   - The product of a group's Spans' Members is its Size; tiers with one
//     member are omitted; a group of one has no spans and costs nothing.
//   - Times are non-negative, zero for zero bytes, and linear in bytes apart
//     from the constant latency term; reduce-scatter and all-gather of the
//     same buffer over the same group cost the same.
//   - The spine's β never exceeds the pod's (Oversubscription >= 1).
//   - An all-reduce never costs more than a reduce-scatter plus an
//     all-gather of the same buffer over the same group.
//   - CollectiveTime, SendRecvTime and TierBusBW do not allocate; they are
//     meant for hot loops and check their arguments only cheaply, panicking
//     on programmer errors (a group with Size or Stride below 1, negative
//     bytes). Bad user input is rejected by New, GPU.Validate and
//     Cluster.CheckGroup, which return every problem at once.
package cluster
