package model

// Op is one pass of one micro batch through one virtual chunk of a stage.
type Op struct {
	MicroBatch int
	Chunk      int // virtual chunk on the stage, 0..v-1
	Backward   bool
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
