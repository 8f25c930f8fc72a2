package model

// Op is one pass of one micro batch through one virtual chunk of a stage.
type Op struct {
	MicroBatch int
	Chunk      int // virtual chunk on the stage, 0..v-1 (DualPipe: the direction, 0 or 1)
	Backward   bool
	// Split marks a backward pass that computes only the input gradient;
	// its weight gradient runs later as a pass of its own, marked Weight
	// (and Backward), as zero-bubble schedules do (schedule_zb.go).
	Split, Weight bool
	// Paired marks DualPipe's overlapped pair: this forward pass run
	// together with the full backward pass of micro batch PairMicroBatch
	// of chunk PairChunk.
	Paired                    bool
	PairMicroBatch, PairChunk int
}

// Schedule returns the order in which stage runs its forward and backward
// passes in one step of Megatron-LM's 1F1B schedule (PipeDream-flush) with
// m micro batches over pp stages, interleaved over v virtual chunks when
// v > 1 (Narayanan et al. 2021, §2.2; Megatron-LM
// forward_backward_pipelining_with_interleaving):
//
//   - warm-up: w forward passes, w = min(m·v, 2·(pp-stage-1) + (v-1)·pp) when
//     v > 1, w = min(m, pp-stage-1) when v = 1;
//   - steady state: one forward, one backward, until the forwards run out;
//   - cool-down: the remaining backward passes.
//
// Forward pass k runs chunk (k/pp) mod v on micro batch (k/(pp·v))·pp + k mod pp;
// backward pass k runs chunk v-1-((k/pp) mod v) on the same micro batch
// formula. With v = 1 micro batches run in order. The interleaved order
// needs m to be a multiple of pp (Layout.Validate checks it).
func Schedule(stage, pp, v, m int) []Op {
	total := m * v
	var warm int
	if v > 1 {
		warm = 2*(pp-stage-1) + (v-1)*pp
	} else {
		warm = pp - stage - 1
	}
	warm = min(max(warm, 0), total)
	ops := make([]Op, 0, 2*total)
	fwd := func(k int) Op {
		if v == 1 {
			return Op{MicroBatch: k}
		}
		return Op{MicroBatch: k/(pp*v)*pp + k%pp, Chunk: k / pp % v}
	}
	bwd := func(k int) Op {
		o := fwd(k)
		o.Chunk = v - 1 - o.Chunk
		o.Backward = true
		return o
	}
	for k := 0; k < warm; k++ {
		ops = append(ops, fwd(k))
	}
	for k := 0; k < total-warm; k++ {
		ops = append(ops, fwd(warm+k), bwd(k))
	}
	for k := total - warm; k < total; k++ {
		ops = append(ops, bwd(k))
	}
	return ops
}

// PeakInFlight walks ops and returns, per chunk, how many micro batches'
// activations of that chunk are held at the moment the stage holds the most
// layer-activations, given the layers of each chunk. It returns the peak
// count of layer-micro-batches too.
func PeakInFlight(ops []Op, chunkLayers []int) (perChunk []int, peakLayerMB int) {
	perChunk = make([]int, len(chunkLayers))
	cur := make([]int, len(chunkLayers))
	held := 0
	for _, o := range ops {
		if o.Backward {
			cur[o.Chunk]--
			held -= chunkLayers[o.Chunk]
			continue
		}
		cur[o.Chunk]++
		held += chunkLayers[o.Chunk]
		if held > peakLayerMB {
			peakLayerMB = held
			copy(perChunk, cur)
		}
	}
	return perChunk, peakLayerMB
}

// Warmup is the number of forward passes stage runs before its first
// backward pass in Schedule(stage, pp, v, m): min(m·v, 2·(pp−stage−1) +
// (v−1)·pp) when v > 1 (Megatron-LM's interleaved warm-up), min(m,
// pp−stage−1) when v = 1.
func Warmup(stage, pp, v, m int) int {
	w := pp - stage - 1
	if v > 1 {
		w = 2*(pp-stage-1) + (v-1)*pp
	}
	return min(max(w, 0), m*v)
}

// forwardsOfChunk is how many of the first n forward passes of an
// interleaved schedule over pp stages and v chunks run chunk c: forward
// pass k runs chunk (k/pp) mod v, so every pp·v passes give each chunk pp.
func forwardsOfChunk(n, pp, v, c int) int {
	q, rem := n/(pp*v), n%(pp*v)
	return q*pp + min(max(rem-c*pp, 0), pp)
}

// PeakLayerMicroBatches is the peak of PeakInFlight(Schedule(stage, pp, v,
// m), chunkLayers) without walking the schedule: the layer-micro-batches
// of activations stage holds at its fullest, for chunkLayers[c] layers in
// its virtual chunk c.
//
// Activations are held from a chunk's forward pass to its backward pass,
// so the count only grows during the warm-up of w = Warmup(stage, pp, v, m)
// forward passes and is highest after a forward pass of the steady state,
// where w+1 chunk passes are in flight (m·v when there is no steady
// state). With equal chunks the peak is therefore layers·min(w+1, m·v): in
// 1F1B (v = 1) stage r holds min(pp−r, m) micro batches (Narayanan et al.
// 2021). Chunks with fewer layers (Llama 3's first and last stages, see
// Layout.ChunkLayers) lower the count by their in-flight passes, which
// repeat with period pp·v in the steady state; the peak is the largest
// over one period.
func PeakLayerMicroBatches(stage, pp, v, m int, chunkLayers []int) int {
	total := m * v
	if total == 0 || len(chunkLayers) != v {
		return 0
	}
	top := 0
	for _, n := range chunkLayers {
		top = max(top, n)
	}
	w := Warmup(stage, pp, v, m)
	if w == total {
		held := 0
		for c, n := range chunkLayers {
			held += n * forwardsOfChunk(total, pp, v, c)
		}
		return held
	}
	// After the forward pass of steady-state step j, j+w+1 forwards and j
	// backwards are done; backward pass k runs chunk v−1−((k/pp) mod v).
	var short8 [8]int
	shortChunks := short8[:0] // the chunks with fewer layers than the fullest
	for c, n := range chunkLayers {
		if n < top {
			shortChunks = append(shortChunks, c)
		}
	}
	if len(shortChunks) == 0 {
		return top * (w + 1)
	}
	steps := min(total-w, pp*v)
	best := -1
	for j := 0; j < steps; j++ {
		short := 0
		for _, c := range shortChunks {
			short += (top - chunkLayers[c]) * (forwardsOfChunk(j+w+1, pp, v, c) - forwardsOfChunk(j, pp, v, v-1-c))
		}
		if held := top*(w+1) - short; held > best {
			best = held
		}
		if short == 0 {
			break
		}
	}
	return best
}

// GradChunk is the chunk whose weight gradients pass o produces, or -1 for
// none: a full backward or a weight-gradient pass its own chunk's,
// DualPipe's overlapped pair those of its backward pass (PairChunk); a
// forward pass and an input-gradient pass (Split) produce none. The
// data-parallel gradient collectives follow exactly these passes.
func (o Op) GradChunk() int {
	switch {
	case o.Paired:
		return o.PairChunk
	case o.Backward && !o.Split:
		return o.Chunk
	}
	return -1
}

// ReadsWeights reports whether pass o reads its chunk's weights (a pair:
// both chunks'), which ZeRO-3 gathers before it: forward, input-gradient
// and full backward passes do; a weight-gradient pass does not (it
// multiplies the layer's input by its output gradient).
func (o Op) ReadsWeights() bool { return !o.Weight }
