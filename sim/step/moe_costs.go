package step

import (
	"strings"

	"github.com/clustersim/clustersim/cluster"
)

// newMoEState prices the expert load of s (ExpertLoad with the spec's seed)
// and finds the expert-parallel group.
func newMoEState(s Spec) (moeState, float64) {
	st := moeState{on: true, busiest: 1}
	dropped := 0.0
	if s.Arch.IsMoE() {
		t := s.Training
		st.busiest, dropped = ExpertLoad(s.Arch.MoE.Experts, s.Layout.EPSize(), t.RouterConcentration, t.CapacityFactor, s.Seed)
	}
	st.ep = epRanks(s.Layout)
	return st, dropped
}

// moePassCosts is layerPassCosts for models with MoE layers or MLA: the
// dense layers (LayerForward, LayerBackward) and the MoE layers
// (MoELayerForward, MoELayerBackward) are built separately; the returned
// timelines are a MoE layer's (a dense one's for a model without MoE).
func moePassCosts(s Spec, k *coster, of func(timeline) PassCost) (pc PassCosts, fwd, bwd timeline) {
	k.moe, pc.Dropped = newMoEState(s)
	dfwd := k.build(func() { k.xLayerForward(false) })
	dbwd := k.build(func() { k.xLayerBackward(false) })
	fwd, bwd = dfwd, dbwd
	pc.LayerForward, pc.LayerBackward = of(dfwd), of(dbwd)
	pc.LayerWeight = weightTime(dbwd)
	if s.Arch.IsMoE() {
		fwd = k.build(func() { k.xLayerForward(true) })
		bwd = k.build(func() { k.xLayerBackward(true) })
		pc.MoELayerForward, pc.MoELayerBackward = of(fwd), of(bwd)
		pc.MoELayerWeight = weightTime(bwd)
	}
	if n := s.Arch.MoE.MTPLayers; n > 0 && s.Arch.IsMoE() {
		f := k.build(func() {
			for range n {
				k.mtpForward()
			}
		})
		b := k.build(func() {
			for range n {
				k.mtpBackward()
			}
		})
		pc.MTPForward, pc.MTPBackward = of(f), of(b)
		pc.MTPWeight = weightTime(b)
	}
	pc.EmbeddingForward = of(k.build(k.embeddingForward))
	pc.EmbeddingBackward = of(k.build(k.embeddingBackward))
	pc.HeadForward = of(k.build(k.headForward))
	hb := k.build(k.headBackward)
	pc.HeadBackward = of(hb)
	pc.HeadWeight = weightTime(hb)
	return pc, fwd, bwd
}

// weightTime is the compute time of a backward timeline's weight-gradient
// products and their gradient accumulation: what ZB-H1 splits off as the W
// pass.
func weightTime(tl timeline) float64 {
	w := 0.0
	for _, sp := range tl.spans {
		if sp.stream == computeStream && (strings.HasSuffix(sp.name, "wgrad") || strings.HasSuffix(sp.name, "gradient accumulation")) {
			w += sp.end - sp.start
		}
	}
	return w
}

// moeDataParallel fills co's data-parallel collectives, buckets and
// optimizer for a MoE model: the dense parameters (attention, norms, dense
// and shared feed-forward blocks, routers, embedding, head) are reduced over
// the data-parallel group as a dense model's, the routed experts over the
// expert-data-parallel group (model.Layout.ExpertDP), and the optimizer
// steps the local shard of each.
func moeDataParallel(co *Costs, s Spec, chunks []int, pc PassCosts, lean bool, coll collectiveFunc) {
	a, l, t, c := s.Arch, s.Layout, s.Training, s.Cluster
	p, v := l.PP, l.VirtualStages
	K := len(chunks)
	params, _ := a.ChunkParamsOn(l)
	dpGroup := cluster.Group{Size: l.DP, Stride: l.TP * l.CP * l.PP}
	edp := expertDPGroup(l)
	gradOp := cluster.ReduceScatter
	if l.ZeRO == 0 {
		gradOp = cluster.AllReduce
	}
	gb := float64(t.GradBytes)
	type priced struct{ dense, expert, grad, gather float64 }
	var memo [8]priced // most buckets repeat a few sizes
	memoN := 0
	priceSplit := func(dense, expert float64) (grad, gather float64) {
		for _, e := range memo[:memoN] {
			if e.dense == dense && e.expert == expert {
				return e.grad, e.gather
			}
		}
		grad = coll(gradOp, dpGroup, dense*gb) + coll(gradOp, edp, expert*gb)
		if l.ZeRO >= 1 {
			gather = coll(cluster.AllGather, dpGroup, dense*2) + coll(cluster.AllGather, edp, expert*2)
		}
		if memoN < len(memo) {
			memo[memoN] = priced{dense, expert, grad, gather}
			memoN++
		}
		return grad, gather
	}
	lpc := pc
	if a.MoELayers() > 0 {
		lpc.LayerForward, lpc.LayerBackward = pc.MoELayerForward, pc.MoELayerBackward
	}
	co.ChunkParams = make2(p, v)
	co.Grad = make2(p, v)
	co.Gather = make2(p, v)
	co.Buckets = make([][][]Bucket, p)
	co.Optimizer = make([]float64, p)
	tp := float64(l.TP)
	for r := 0; r < p; r++ {
		local := 0.0
		co.Buckets[r] = make([][]Bucket, v)
		for ch := 0; ch < v; ch++ {
			j := ch*p + r
			ps := params[j]
			n := ps.Dense + ps.Expert
			co.ChunkParams[r][ch] = n
			co.Grad[r][ch], co.Gather[r][ch] = priceSplit(ps.Dense, ps.Expert)
			frac := 1.0 // dense share of the chunk's parameters
			if n > 0 {
				frac = ps.Dense / n
			}
			emb, head := a.EmbeddingParams()/tp, (a.HeadParams()+float64(a.Hidden))/tp
			layers := n
			if j == 0 {
				layers -= emb
			}
			if j == K-1 {
				layers -= head
			}
			per := 0.0
			if chunks[j] > 0 {
				per = layers / float64(chunks[j])
			}
			price := func(x float64) (float64, float64) {
				if x == emb || x == head {
					return priceSplit(x, 0)
				}
				return priceSplit(x*frac, x*(1-frac))
			}
			if wantBuckets(lean, ch) {
				co.Buckets[r][ch] = buckets(j, K, chunks[j], lpc, per, emb, head, price)
			}
			if l.ZeRO >= 1 {
				local += ps.Dense/float64(l.DP*l.CP) + ps.Expert/float64(l.ExpertDP())
			} else {
				local += n
			}
		}
		co.Optimizer[r] = c.GPU.MemoryTime(local*(30+gb), cluster.Stream)
	}
}

// mtpForward is one multi-token-prediction module, forward (DeepSeek-V3
// §2.2): the shared embedding of the shifted tokens, the RMSNorms of it
// and of the previous depth's hidden states, the projection of their
// concatenation (2h to h), one MoE layer and the shared head and loss.
func (k *coster) mtpForward() {
	h := float64(k.a.Hidden)
	k.embeddingForward()
	k.mem("MTP norms", 8*k.rows*h, cluster.Reduce)
	k.gatherThenGEMM("MTP projection", h/float64(k.l.TP), 2*h)
	k.xLayerForward(true)
	k.headForward()
}

func (k *coster) mtpBackward() {
	h := float64(k.a.Hidden)
	k.headBackward()
	k.xLayerBackward(true)
	k.backwardLinear("MTP projection", h/float64(k.l.TP), 2*h, false, true, true)
	k.mem("MTP norms backward", 12*k.rows*h, cluster.Reduce)
	k.embeddingBackward()
}
