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
// LookupGPU returns datasheet figures (dense tensor-core peaks per
// precision, HBM, NVLink, NIC, power, SMs, node and NVLink domain sizes)
// and, per GPU, two measured nccl-tests bus bandwidths inside one NVLink
// domain: the ring busbw and the NVLink SHARP (NVLS) all-reduce busbw. Every
// figure names its source next to it in gpu.go; the derived figures (B200
// ring busbw, GB200/GB300 SMs and host links) say how they were derived.
//
// # Precisions
//
// BF16, FP8 (per-tensor scaling), MXFP8 (fp8 with an E8M0 scale per 32
// elements) and NVFP4 (E2M1 with an E4M3 scale per 16 elements). PeakFLOPS
// is the dense peak at each (MXFP8 at the fp8 rate, NVFP4 at the fp4 rate;
// 0 where the tensor cores lack it: MXFP8 and NVFP4 before Blackwell, FP8
// before Hopper), and MFU is relative to the peak at the run's precision.
// GEMMTime prices every matrix product at the run's precision (an upper
// bound of the speed-up of recipes that keep some layers in bf16) with the
// inputs' bytes including their scales; attention stays in bf16.
//
// # Cluster and fabric
//
// A Cluster is GPUs GPUs, GPUsPerNode to a node and Domain() to an NVLink
// fabric (one node on 8-GPU servers; a 72-GPU rack of 4-GPU trays on GB200
// and GB300 NVL72), on a rail-optimized Clos network with one NIC per GPU:
// nodes inside a pod of NodesPerPod have full bisection; between pods the
// bandwidth is divided by Oversubscription (Llama 3: 384-node pods, 1:7
// above). Ranks are laid out consecutively (rank r in domain r/Domain(), on
// node r/GPUsPerNode, node n in pod n/NodesPerPod), in the Megatron/Llama 3
// order [TP, CP, PP, DP], so a Group{Size, Stride} crosses up to three
// tiers: TierNVLink, TierPod and TierSpine. Cluster.Spans factorises a group
// over the tiers it crosses; where the domain size does not divide a group's
// block of ranks evenly (72 against blocks of 16 or 128), it prices the
// worst-placed group, the one with the fewest members in one domain.
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
//   - NVLink: the ring busbw; the NVLS busbw for an all-reduce by a group
//     with at least one whole node's GPUs in the domain, on GPUs whose
//     NVSwitch has SHARP (Hopper and later): exactly one node on 8-GPU
//     servers, two trays or more of an NVL72 rack. A group spanning domains
//     reduce-scatters and all-gathers inside the domain on the ring busbw.
//   - Pod: the NIC line rate × NICBusBWEfficiency (0.94).
//   - Spine: the pod β / Oversubscription.
//
// α is NVLinkLatencyS inside a domain and Network.LatencyS across the NICs.
//
// # Assumptions
//
//   - Shared tiers: a group's β at a tier is what each of its GPUs gets when
//     every GPU in the cluster communicates at once, as in the lockstep TP,
//     CP and DP collectives this prices. Inside a node each GPU has its own
//     NVLink and NIC, so groups side by side do not slow each other; at the
//     spine, every GPU of a pod crosses at once, so each gets
//     1/Oversubscription of its NIC ("shared by groups crossing the same tier").
//   - Stride or block that does not divide the domain: members per domain
//     are those of the worst-placed group (see Spans), and a group that does
//     not divide evenly into domains or pods has a fractional count above
//     them, kept as a float.
//   - NVL72: the busbw figures of an 8×B200 node hold across the 72-GPU
//     rack (coreweave's 72-GPU all_reduce_perf, 835-847 GB/s, agrees with
//     8×B200's 830), and NICBusBWEfficiency, measured on 400 Gb/s NICs,
//     holds for GB300's 800 Gb/s ConnectX-8.
//   - Blackwell compute: no measurement; the H100's fitted fractions (see
//     compute.go), one variable per GPU type for a later fit.
//   - Groups are aligned: a group's first rank is a multiple of the span of
//     its lower tiers, as it is for every group of a [TP, CP, PP, DP] layout,
//     so a group whose sizes divide the node and pod fills them evenly.
//   - No contention between different collectives running at the same time
//     on the same tier (e.g. a DP reduce-scatter overlapping a PP send):
//     the step simulation decides what overlaps.
//   - Point-to-point sends (SendRecvTime, P2PTime) use the ring busbw inside
//     an NVLink domain, the NIC busbw inside a pod and the shared spine
//     busbw between pods.
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
