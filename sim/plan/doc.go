// Package plan searches parallel layouts for a training job and ranks them
// by time to train: the capacity-planning question "what is the best
// layout for this model on N GPUs".
//
// # The search space
//
// [Search] enumerates, for the job's model, batch and cluster:
//
//   - tp: the divisors of the NVLink domain (cluster.Cluster.Domain) up to
//     the larger of the GPUs per node and 8 (on GB200 NVL72, 4 GPUs a node
//     and 72 a domain: 1, 2, 3, 4, 6, 8), or with
//     Options.AllowCrossNodeTP every divisor of the GPU count up to the
//     attention heads;
//   - pp: the pipeline depths that can split the layers, evenly or with one
//     layer fewer on the first and last stage (the divisors of layers and
//     of layers+2, see model.Layout.ChunkLayers);
//   - cp: powers of two up to Options.MaxCP (default: the largest that
//     leaves each rank 1,024 tokens of the sequence);
//   - virtual stages: every v for which pp·v chunks split the layers (v > 1
//     only with pp > 1);
//   - micro batch: Options.MicroBatches (default 1, 2, 4, 8);
//   - recompute: none, full, and with unfused attention selective (with
//     fused attention selective recompute has nothing to drop and changes
//     nothing, so it would only repeat none), each but full with and
//     without element-wise recompute;
//   - ZeRO 0 to 3; tp_comm_overlap off and on (tp > 1);
//
// with dp = GPUs/(tp·pp·cp), sequence parallelism whenever tp > 1 and the
// scenario's dp_comm_overlap. Every combination counts as evaluated. Those
// that do not divide (heads by tp, GPUs by tp·pp·cp, the sequence by 2·cp,
// the global batch by dp·micro batch, the micro batches by pp when
// interleaved) or do not fit in GPU memory are rejected and counted by
// reason; the rest are feasible.
//
// # Ranking
//
// Layouts are ranked by expected time to train, stragglers included: the
// step is the mean of the noisy steps of the event simulation
// (step.Simulate) with the scenario's straggler model, samples and seed (of
// its main phase), the step `clustersim run` reports for that layout. Ties
// go to the layout enumerated first. Time to train is the run's steps times
// that step divided by the expected effective training time ratio, from
// the closed form of run.Spec.ClosedFormETTR (Kokolis et al. 2024 with the
// Young/Daly checkpoint interval), which is the expectation of the run
// simulation's Monte Carlo. For a given GPU count that ETTR is the same for
// every layout, so ranking by time to train is ranking by the noisy step.
// Slow nodes (run.Lemons) and phases are outside the closed form: with them
// the ranked layouts' days are run.Simulate's own (Result.DaysFrom says
// which).
//
// # Pruning
//
// The event simulation costs milliseconds, the search space has tens of
// thousands of layouts. Memory is checked in closed form
// (model.StageMemory). Every feasible layout then gets a lower bound of its
// simulated step time from the simulator's own costs (step.Costs.LowerBound),
// and layouts are simulated in order of their bound until the next bound
// exceeds the K-th best simulated (noisy) step. The bound is below the
// noiseless step, which is below the noisy mean (step.Simulate rounds the
// mean up to it), so no layout left can enter the top K. With stragglers a
// layout's noiseless step (one replica) is simulated first and, when it
// already exceeds the K-th best, the noisy steps (every replica) are not;
// when it does not, the noisy steps of the eighth of its replicas most
// likely to set the pace come next (step.NoisyLowerBound: the same draws
// over fewer replicas, a lower bound of the noisy mean), and every replica
// is simulated only when they too stay below the K-th best. So the
// ranking is exactly the one simulating every feasible layout gives
// (Options.Exhaustive does that, to check it). Simulations run in parallel,
// each on its own engine; the result does not depend on GOMAXPROCS.
package plan
