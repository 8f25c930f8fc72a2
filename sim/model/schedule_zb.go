package model

// ScheduleFor returns stage's passes under schedule kind (see Schedule,
// ScheduleZBH1 and ScheduleDualPipe).
func ScheduleFor(kind PipeSchedule, stage, pp, v, m int) []Op {
	switch kind {
	case SchedZBH1:
		return ScheduleZBH1(stage, pp, m)
	case SchedDualPipe:
		return ScheduleDualPipe(stage, pp, m)
	}
	return Schedule(stage, pp, v, m)
}

// ScheduleZBH1 is the handcrafted zero-bubble schedule ZB-H1 of Qi et al.,
// "Zero Bubble Pipeline Parallelism" (ICLR 2024, arXiv:2401.10241, §3.1 and
// Figure 3): 1F1B's warm-up of pp−stage−1 forward passes and its order of
// forward (F) and input-gradient (B) passes, with every backward pass split
// and its weight gradient (W) delayed so that stage s keeps s of them
// outstanding. The W passes then fill the cool-down's waits; each stage
// holds at most pp micro batches (1F1B's peak, on its first stage); and the
// bubble falls from 1F1B's (pp−1)(T_F+T_B+T_W) to (pp−1)(T_F+T_B−T_W)
// (§3.1), which the step simulation reproduces in a compute-only case
// (TestZBH1Bubble).
func ScheduleZBH1(stage, pp, m int) []Op {
	w := min(max(pp-stage-1, 0), m)
	ops := make([]Op, 0, 3*m)
	var queue []int
	bwd := func(k int) {
		ops = append(ops, Op{MicroBatch: k, Backward: true, Split: true})
		queue = append(queue, k)
		if len(queue) > stage {
			ops = append(ops, Op{MicroBatch: queue[0], Backward: true, Weight: true})
			queue = queue[1:]
		}
	}
	for k := 0; k < w; k++ {
		ops = append(ops, Op{MicroBatch: k})
	}
	for k := 0; k < m-w; k++ {
		ops = append(ops, Op{MicroBatch: w + k})
		bwd(k)
	}
	for k := m - w; k < m; k++ {
		bwd(k)
	}
	for _, k := range queue {
		ops = append(ops, Op{MicroBatch: k, Backward: true, Weight: true})
	}
	return ops
}

// ScheduleDualPipe is DeepSeek's DualPipe (DeepSeek-V3 technical report,
// arXiv:2412.19437 §3.2.1, Figure 5; the order of deepseek-ai/DualPipe's
// reference implementation, dualpipe.py, steps 1-8). Micro batches enter
// from both ends of the pipeline, m/2 in each direction: chunk 0 of rank r
// is stage r of the model for the micro batches fed at rank 0, chunk 1 is
// stage pp−1−r for those fed at rank pp−1 (so every rank holds two
// copies' worth of stage parameters). In the steady state each rank runs a
// forward pass of one direction overlapped with the backward pass of the
// other (Paired), which hides the expert-parallel all-to-alls of each
// behind the other's compute; the warm-up's and cool-down's backward passes
// are split into input and weight gradients as in zero-bubble schedules.
// It needs pp even and m even and at least 2·pp. Its bubble is
// (pp/2−1)(F&B+B−3W) (the report's Table 2; TestDualPipeBubble).
func ScheduleDualPipe(rank, pp, m int) []Op {
	half := pp / 2
	hr := min(rank, pp-1-rank)
	second := 0
	if rank >= half {
		second = 1
	}
	middle := hr == half-1
	var nf, nb [2]int
	var queue []Op
	ops := make([]Op, 0, 2*m)
	dir := func(phase int) int { return phase ^ second }
	fwd := func(phase int) {
		d := dir(phase)
		ops = append(ops, Op{MicroBatch: nf[d], Chunk: d})
		nf[d]++
	}
	bwd := func(phase int, split bool) {
		d := dir(phase)
		o := Op{MicroBatch: nb[d], Chunk: d, Backward: true, Split: split}
		ops = append(ops, o)
		if split {
			o.Split, o.Weight = false, true
			queue = append(queue, o)
		}
		nb[d]++
	}
	weight := func() {
		ops = append(ops, queue[0])
		queue = queue[1:]
	}
	pair := func(pf, pb int) {
		df, db := dir(pf), dir(pb)
		ops = append(ops, Op{MicroBatch: nf[df], Chunk: df, Paired: true, PairMicroBatch: nb[db], PairChunk: db})
		nf[df]++
		nb[db]++
	}
	for range (half - hr - 1) * 2 { // step 1: forward passes of phase 0
		fwd(0)
	}
	for range hr + 1 { // step 2: both phases' forward passes
		fwd(0)
		fwd(1)
	}
	for range half - hr - 1 { // step 3: B, W, F of phase 1
		bwd(1, true)
		weight()
		fwd(1)
	}
	for i := range m/2 - pp + hr + 1 { // step 4: the overlapped steady state
		if i == 0 && middle {
			fwd(0) // the middle ranks do not overlap the first pair
			bwd(1, false)
		} else {
			pair(0, 1)
		}
		pair(1, 0)
	}
	for range half - hr - 1 { // step 5
		bwd(1, false)
		pair(1, 0)
	}
	split := false
	for i := range hr + 1 { // step 6: the second half of the backward passes split
		if i == (hr+1)/2 && hr%2 == 1 {
			split = true
		}
		bwd(1, split)
		if i == (hr+1)/2 && hr%2 == 0 {
			split = true
		}
		bwd(0, split)
	}
	for range half - hr - 1 { // step 7
		weight()
		bwd(0, true)
	}
	for range hr + 1 { // step 8: the remaining weight gradients
		weight()
	}
	return ops
}
