// Package step simulates one optimizer step of a data-, tensor-, context-
// and pipeline-parallel transformer training job as discrete events.
//
// # What is simulated
//
// Each transformer layer is first costed as a small schedule of tasks on a
// GPU's streams: the matrix products, attention and element-wise kernels on
// the compute stream (package cluster prices them from calibrated
// efficiencies), the tensor-parallel all-gathers and reduce-scatters (or
// all-reduces without sequence parallelism) and the context-parallel K/V
// all-gathers on communication streams. Without tp_comm_overlap every
// collective blocks the compute stream; with it, each all-gather and its
// product, and each product and its reduce-scatter, are split into tp pieces
// that pipeline, Transformer Engine style, and only what does not hide
// behind the products is exposed.
//
// Four software and hardware effects shape a layer's schedule, each from a
// measurement or a documented fit:
//
//   - The host issues every kernel and collective in order, HostOverheadS
//     of CPU time each (model.Training; default 65 µs, fitted on vTrain's
//     1,440 single-node A100 rows, which eager Megatron-DeepSpeed makes
//     host-bound; scenarios/validation.HostOverheadErrors re-derives it). A
//     kernel cannot start before it is issued: long kernels hide the host,
//     passes of many short ones wait for it (counted as compute).
//   - A kernel that runs beside a collective on the same GPU is slowed by
//     cluster.ComputeModel.CommSlowdown (5.2%, the H100 soak's product rate
//     beside a concurrent copy), inside a layer (overlapped tensor- and
//     context-parallel collectives) and beside the data-parallel buckets
//     that overlap the backward passes.
//   - 8- and 4-bit training quantizes, as Transformer Engine does, the
//     tensors that feed a product and come from a kernel that cannot write
//     them quantized (attention's output, the gradients entering each
//     product): a memory-bound cast writing row- and column-wise copies, and
//     with current scaling an amax pass before it.
//   - With tp_comm_overlap the all-gathers pipeline with their products as a
//     ring exchange (the local shard's product starts at once, forward and
//     backward), and the reduce-scatters follow the product pieces; with
//     cp_comm p2p the context-parallel K/V blocks travel a ring, each step
//     overlapped with the attention of the block already present.
//
// The pipeline is then simulated on the event kernel (package sim), one
// representative tensor×context-parallel group per (stage, replica): every
// forward and backward pass of every micro batch through every virtual chunk,
// in Megatron-LM's 1F1B or interleaved order (model.Schedule), waits for its
// input from the neighbouring stage, which arrives a point-to-point transfer
// after the producer finished. Replicas run independently until their
// gradients meet in the data-parallel collectives: per stage, each bucket
// (a chunk's gradients; per micro batch under ZeRO-2/3) is reduce-scattered
// (all-reduced under ZeRO-0) on the stage's data-parallel stream as soon as
// every replica has produced it, overlapped with the remaining backward
// passes when dp_comm_overlap is set. The optimizer runs when the stage's
// last collective ends; ZeRO's parameter all-gather runs at the start of the
// step, each chunk's gather ahead of its first forward pass. The step ends
// when the last stage's optimizer does.
//
// # Costs and a lower bound
//
// [NewCosts] exposes the noiseless durations the simulation is built from:
// every chunk's forward and backward pass (from [LayerPassCosts], which
// depend only on tp, cp, the micro batch, sequence parallelism,
// recomputation and tp_comm_overlap, so that a layout search can reuse
// them), the transfers between stages, and each stage's data-parallel
// collectives and optimizer. [Costs.LowerBound] turns them into a
// closed-form lower bound of the noiseless step (the pipeline's head and
// drain around the busiest stage's passes, and the data-parallel work that
// cannot overlap), which the layout search (package sim/plan) prunes with.
//
// # Stragglers
//
// Every activity of a GPU is scaled by a lognormal factor with mean 1 and
// coefficient of variation Noise.CV, drawn once per pass rather than per
// kernel: the measured spread it comes from is between runs minutes apart
// (clock and thermal state), which holds for a whole pass, not independent
// kernel to kernel; an activity shared by n GPUs (a
// tensor×context-parallel group's pass, a collective) takes the slowest of n
// draws, sampled exactly as the maximum (inverse CDF of F^n). Slow nodes
// multiply every pass of the groups they host. Because each replica's passes
// are drawn independently and the data-parallel collectives wait for the
// slowest replica, the mean step time grows with the number of replicas.
//
// # Attribution
//
// breakdown_s is read off the events. The noiseless step (one replica: all
// are alike without noise) is attributed on the stage that finishes last:
// its passes split into compute and exposed tensor- and context-parallel
// communication in the proportions of their layer schedules; its idle time
// waiting for an input splits into point-to-point transfer (the part after
// the producer finished) and pipeline bubble (the rest); waiting for
// parameter gathers and for the last gradient collective is data-parallel
// communication; then the optimizer, and the wait for slower stages counts
// as bubble. The straggler part is the mean noisy step time minus the
// noiseless one. The parts sum to the step time exactly.
package step
