package step

import (
	"math"
	"math/rand/v2"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/sim/model"
)

// moeState is what the coster of a MoE model knows beyond a dense one.
type moeState struct {
	on      bool    // the model has MLA attention or MoE layers: use the layer builders of this file
	busiest float64 // tokens the busiest GPU's experts take, over the balanced share
	ep      []int   // global ranks of the expert-parallel group of rank 0
}

// ExpertLoad draws each expert's share of the routed tokens from a
// symmetric Dirichlet distribution of concentration alpha (seeded; alpha 0
// is perfectly balanced routing), caps each expert at capacity times the
// balanced share when capacity > 0 (the rest is dropped), and returns the
// load of the busiest of the ep GPUs (each holding experts/ep consecutive
// experts) relative to the balanced load, and the fraction of routed
// tokens dropped. The busiest GPU sets the pace: the all-to-alls
// synchronise the expert-parallel group every layer.
func ExpertLoad(experts, ep int, alpha, capacity float64, seed uint64) (busiest, dropped float64) {
	load := make([]float64, experts)
	for e := range load {
		load[e] = 1
	}
	if alpha > 0 {
		rng := rand.New(rand.NewPCG(seed, 0x6d6f65))
		sum := 0.0
		for e := range load {
			load[e] = gamma(rng, alpha)
			sum += load[e]
		}
		for e := range load {
			load[e] *= float64(experts) / sum
		}
	}
	return capLoads(load, ep, capacity)
}

// capLoads caps each expert's load (relative to the balanced share) at
// capacity when capacity > 0, and returns the busiest of ep GPUs' mean load
// over their experts/ep consecutive experts and the fraction dropped.
func capLoads(load []float64, ep int, capacity float64) (busiest, dropped float64) {
	experts := len(load)
	if capacity > 0 {
		capped := make([]float64, experts)
		for e, x := range load {
			capped[e] = x
			if x > capacity {
				dropped += x - capacity
				capped[e] = capacity
			}
		}
		load = capped
		dropped /= float64(experts)
	}
	per := experts / max(ep, 1)
	for g := 0; g+per <= experts; g += per {
		s := 0.0
		for _, x := range load[g : g+per] {
			s += x
		}
		busiest = max(busiest, s/float64(per))
	}
	return busiest, dropped
}

// gamma draws from Gamma(alpha, 1) (Marsaglia and Tsang 2000, with
// Gamma(alpha+1)·U^(1/alpha) below 1).
func gamma(rng *rand.Rand, alpha float64) float64 {
	if alpha < 1 {
		return gamma(rng, alpha+1) * math.Pow(rng.Float64(), 1/alpha)
	}
	d := alpha - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// epRanks are the global ranks of rank 0's expert-parallel group, for
// pricing its all-to-alls. The group is placed on consecutive ranks, etp
// apart: Megatron-Core orders the expert ranks tp-cp-ep-dp-pp (pp
// outermost; megatron/core/parallel_state.py, order "tp-cp-ep-dp-pp"), so
// an expert-parallel group fills an NVLink domain before it leaves it. (The
// rest of the simulator keeps Llama 3's [TP, CP, PP, DP] order for the
// dense groups; for the all-to-alls, which cross the network tiers every
// layer, placement is the first-order effect, and Megatron's is the one
// the MoE recipes run.)
func epRanks(l model.Layout) []int {
	ep, etp := l.EPSize(), l.ETPSize()
	out := make([]int, ep)
	for i := range out {
		out[i] = i * etp
	}
	return out
}

// expertDPGroup is the group over which the experts' gradients are reduced:
// the ranks of a stage holding the same experts, ep·etp folded ranks apart.
func expertDPGroup(l model.Layout) cluster.Group {
	ep, etp, w := l.EPSize(), l.ETPSize(), l.TP*l.CP
	stride := ep * etp
	if stride >= w {
		stride = stride / w * w * l.PP
	}
	return cluster.Group{Size: l.ExpertDP(), Stride: max(stride, 1)}
}

// a2a is one expert-parallel all-to-all of bytes per GPU.
func (k *coster) a2a(name string, bytes float64) task {
	return task{name: name, stream: epStream, kind: kEP, dur: k.c.AllToAllTime(k.moe.ep, bytes)}
}

func (k *coster) groupedTask(name string, groups int, m, n, kk float64) task {
	return task{name: name, stream: computeStream, kind: kCompute, dur: k.gpu.GroupedGEMMTime(groups, m, n, kk, k.t.Precision, k.t.GroupedGEMM)}
}

// attnOutK is the inner dimension of the output projection on this GPU.
func (k *coster) attnOutK() float64 {
	if k.a.IsMLA() {
		return k.heads * float64(k.a.MLA.VHeadDim)
	}
	return k.heads * k.hd
}

func (k *coster) mlaDownWidth() float64 {
	m := k.a.MLA
	w := float64(m.KVLoRARank + m.QKRopeHeadDim)
	if m.QLoRARank > 0 {
		w += float64(m.QLoRARank)
	}
	return w
}

// attnHalfForward is a layer's first half: norm, the QKV (or MLA)
// projections, attention, the output projection, the residual and the
// second norm. MLA (DeepSeek-V2/V3): the down projections to the query and
// KV latents (replicated over tp, as Megatron-Core's MLA runs them), the
// latents' norms, the up projections of this GPU's heads, RoPE, attention
// over heads of (nope+rope) keys and v values.
func (k *coster) attnHalfForward() {
	h := float64(k.a.Hidden)
	hr := k.rows * h
	k.mem("norm", 4*hr, cluster.Reduce)
	if k.a.IsMLA() {
		m := k.a.MLA
		k.gatherThenGEMM("MLA down", k.mlaDownWidth(), h)
		k.mem("latent norm", 4*k.tokens*float64(m.QLoRARank+m.KVLoRARank), cluster.Reduce)
		qin := float64(m.QLoRARank)
		if qin == 0 {
			qin = h
		}
		k.add(k.gemmTask("Q up", k.tokens, k.heads*float64(m.QKNopeHeadDim+m.QKRopeHeadDim), qin))
		k.add(k.gemmTask("KV up", k.tokens, k.heads*float64(m.QKNopeHeadDim+m.VHeadDim), float64(m.KVLoRARank)))
		k.mem("rotary", 4*k.tokens*(k.heads+1)*float64(m.QKRopeHeadDim), cluster.Stream)
	} else {
		k.gatherThenGEMM("QKV", k.qkvWidth(), h)
		if k.a.MLP == model.SwiGLU {
			k.mem("rotary", 4*k.tokens*(k.heads+k.kvHeads)*k.hd, cluster.Stream)
		}
	}
	k.cpKV("K/V all-gather", cluster.AllGather)
	k.attentionForward()
	k.cast("attention output", k.tokens*k.attnOutK())
	k.gemmThenReduce("attention out", h, k.attnOutK())
	k.mem("residual", k.residualBytes(), cluster.Stream)
	k.mem("norm", 4*hr, cluster.Reduce)
}

func (k *coster) attnHalfBackward() {
	h := float64(k.a.Hidden)
	hr := k.rows * h
	if k.a.IsMLA() && k.l.Recompute == model.RecomputeSelective {
		// recompute module "mla_up_proj": Q, K and V from the latents
		m := k.a.MLA
		qin := float64(m.QLoRARank)
		if qin == 0 {
			qin = h
		}
		k.add(k.gemmTask("Q up recompute", k.tokens, k.heads*float64(m.QKNopeHeadDim+m.QKRopeHeadDim), qin))
		k.add(k.gemmTask("KV up recompute", k.tokens, k.heads*float64(m.QKNopeHeadDim+m.VHeadDim), float64(m.KVLoRARank)))
	}
	k.mem("norm backward", 6*hr, cluster.Reduce)
	k.mem("residual backward", k.residualBytes(), cluster.Stream)
	if k.l.RecomputeElementwise {
		k.mem("norm recompute", 4*hr, cluster.Reduce)
	}
	k.cast("attention out output gradient", k.rows*h)
	k.backwardLinear("attention out", h, k.attnOutK(), true, false, false)
	k.attentionBackward()
	k.cpKV("dK/dV reduce-scatter", cluster.ReduceScatter)
	if k.a.IsMLA() {
		m := k.a.MLA
		k.mem("rotary backward", 4*k.tokens*(k.heads+1)*float64(m.QKRopeHeadDim), cluster.Stream)
		qin := float64(m.QLoRARank)
		if qin == 0 {
			qin = h
		}
		k.backwardLinear("KV up", k.heads*float64(m.QKNopeHeadDim+m.VHeadDim), float64(m.KVLoRARank), false, false, false)
		k.backwardLinear("Q up", k.heads*float64(m.QKNopeHeadDim+m.QKRopeHeadDim), qin, false, false, false)
		k.mem("latent norm backward", 6*k.tokens*float64(m.QLoRARank+m.KVLoRARank), cluster.Reduce)
		k.cast("MLA down output gradient", k.tokens*k.mlaDownWidth())
		k.backwardLinear("MLA down", k.mlaDownWidth(), h, false, true, true)
	} else {
		if k.a.MLP == model.SwiGLU {
			k.mem("rotary backward", 4*k.tokens*(k.heads+k.kvHeads)*k.hd, cluster.Stream)
		}
		k.cast("QKV output gradient", k.tokens*k.qkvWidth())
		k.backwardLinear("QKV", k.qkvWidth(), h, false, true, true)
	}
	k.mem("norm backward", 6*hr, cluster.Reduce)
}

// denseMLP appends a tensor-parallel feed-forward block of width f
// (forward), as layer.go's layerForward runs it.
func (k *coster) denseMLP(name string, f float64) {
	h := float64(k.a.Hidden)
	fl := f / float64(k.l.TP)
	up := fl
	if k.a.MLP == model.SwiGLU {
		up = 2 * fl
	}
	k.gatherThenGEMM(name+" up", up, h)
	k.actOf(fl, false)
	k.gemmThenReduce(name+" down", h, fl)
}

func (k *coster) denseMLPBackward(name string, f float64) {
	h := float64(k.a.Hidden)
	fl := f / float64(k.l.TP)
	up := fl
	if k.a.MLP == model.SwiGLU {
		up = 2 * fl
	}
	if k.l.RecomputeElementwise {
		k.actOf(fl, false)
	}
	k.cast(name+" down output gradient", k.rows*h)
	k.backwardLinear(name+" down", h, fl, true, false, false)
	k.actOf(fl, true)
	k.backwardLinear(name+" up", up, h, false, true, true)
}

// actOf is the activation function over width f of T rows, forward or
// backward.
func (k *coster) actOf(f float64, backward bool) {
	k.actRows(k.tokens, f, backward)
}

func (k *coster) actRows(rows, f float64, backward bool) {
	switch {
	case k.a.MLP == model.SwiGLU && !backward:
		k.mem("SwiGLU", 6*rows*f, cluster.Reduce)
	case k.a.MLP == model.SwiGLU:
		k.mem("SwiGLU backward", 10*rows*f, cluster.Reduce)
	case !backward:
		k.mem("GELU", 4*rows*f, cluster.Reduce)
	default:
		k.mem("GELU backward", 6*rows*f, cluster.Reduce)
	}
}

// expertShape is the routed experts' work on the busiest GPU: local
// experts, the tokens each takes, and the expert FFN width on this GPU.
func (k *coster) expertShape() (groups int, perExpert, f, up float64) {
	m := k.a.MoE
	ep, etp := k.l.EPSize(), k.l.ETPSize()
	groups = m.Experts / ep
	recv := float64(etp) * k.rows * float64(m.TopK) * k.moe.busiest
	perExpert = recv / float64(groups)
	f = float64(m.ExpertFFN) / float64(etp)
	up = f
	if k.a.MLP == model.SwiGLU {
		up = 2 * f
	}
	return
}

// dispatchBytes is one all-to-all's bytes per GPU: the busiest GPU's
// top_k copies of its rows' hidden states, in bf16.
func (k *coster) dispatchBytes() float64 {
	return 2 * k.rows * float64(k.a.MoE.TopK) * k.moe.busiest * float64(k.a.Hidden)
}

// exchange is a dispatch or combine all-to-all. With the alltoall
// dispatcher and without node-limited routing (MoE.GroupLimit 0) it is
// AllToAllTime of dispatchBytes: every routed copy travels on its own
// (Megatron-Core's alltoall dispatcher). With DeepEP or node-limited
// routing, a token crosses the network once per remote node it needs, the
// expected number of distinct nodes among top_k experts spread evenly over
// the N nodes of the group, N·(1−(1−1/N)^top_k), at most GroupLimit when
// set, of which (N−1)/N are remote; every copy still crosses NVLink once
// (sent or forwarded). Under node-limited routing (DeepSeek's recipe) the
// dispatch travels in fp8 in 8-bit training.
func (k *coster) exchange(name string, dispatch bool) task {
	m := k.a.MoE
	if !deepEPStyle(k.a, k.t) {
		return k.a2a(name, k.dispatchBytes())
	}
	dom, pod, spine := k.c.PeerTiers(k.moe.ep)
	n := float64(len(k.moe.ep))
	elem := 2.0
	if dispatch && m.GroupLimit > 0 && k.t.Precision != cluster.BF16 {
		elem = 1 + 1.0/128 // fp8 with a scale per 128 elements (§3.3.2)
	}
	h := float64(k.a.Hidden)
	copies := k.rows * float64(m.TopK) * k.moe.busiest
	nv := copies * elem * h * (n - 1) / n
	remote := float64(pod + spine)
	if remote == 0 {
		return task{name: name, stream: epStream, kind: kEP, dur: k.c.ExchangeTime(nv, 0, 0)}
	}
	nodes := n / float64(dom+1)
	distinct := nodes * (1 - math.Pow(1-1/nodes, float64(m.TopK)))
	if m.GroupLimit > 0 {
		distinct = min(float64(m.GroupLimit), distinct)
	}
	ib := k.rows * k.moe.busiest * distinct * (nodes - 1) / nodes * elem * h
	t := k.c.ExchangeTime(nv, ib*float64(pod)/remote, ib*float64(spine)/remote)
	return task{name: name, stream: epStream, kind: kEP, dur: t}
}

func (k *coster) etpColl(name string, op cluster.Collective, bytes float64) {
	if k.l.ETPSize() == 1 {
		return
	}
	g := cluster.Group{Size: k.l.ETPSize(), Stride: 1}
	k.add(task{name: name, stream: tpStream, kind: kTP, dur: k.c.CollectiveTime(op, g, bytes)})
}

// moeForward is a MoE block, forward: the router (a bf16 product over the
// sequence-parallel rows and its softmax/top-k), the permutation of the
// routed copies, the dispatch all-to-all over the expert-parallel group
// (with the shared experts computed meanwhile, as Megatron-Core's
// moe_shared_expert_overlap does), the grouped expert products of the
// busiest GPU, the combine all-to-all and the weighted un-permutation.
func (k *coster) moeForward() {
	h := float64(k.a.Hidden)
	m := k.a.MoE
	E := float64(m.Experts)
	k.add(task{name: "router", stream: computeStream, kind: kCompute, dur: k.gpu.GEMMTime(k.rows, E, h, cluster.BF16)})
	k.mem("router top-k", 12*k.rows*E, cluster.Reduce)
	if k.t.MoEHostSync {
		// The token counts per expert to the host, for the all-to-all's
		// split sizes and the grouped product's group sizes: one int64
		// per expert (Megatron-Core's tokens_per_expert, a torch.long
		// tensor), 8 bytes each.
		k.add(task{name: "token counts to host", stream: computeStream, kind: kCompute, dur: k.gpu.MemoryTime(8*E, cluster.Stream), sync: true})
	}
	copies := k.rows * float64(m.TopK) * k.moe.busiest
	k.mem("permute", 4*copies*h, cluster.Stream)
	d := k.side(k.exchange("dispatch all-to-all", true), k.prev)
	if m.SharedExperts > 0 {
		k.denseMLP("shared expert", float64(m.SharedExperts)*float64(k.a.SharedFFN()))
	}
	k.add(task{name: "dispatch wait", stream: computeStream, kind: kCompute, after: []int{d}, inner: true})
	groups, per, f, up := k.expertShape()
	recv := per * float64(groups)
	k.etpColl("expert all-gather", cluster.AllGather, 2*recv*h)
	k.add(k.groupedTask("expert up", groups, per, up, h))
	k.actRows(recv, f, false)
	k.add(k.groupedTask("expert down", groups, per, h, f))
	k.etpColl("expert reduce-scatter", cluster.ReduceScatter, 2*recv*h)
	c := k.side(k.exchange("combine all-to-all", false), k.prev)
	k.add(task{name: "combine wait", stream: computeStream, kind: kCompute, after: []int{c}, inner: true})
	k.mem("unpermute", 4*copies*h+2*k.rows*h, cluster.Stream)
}

// moeBackward mirrors moeForward: the combine's backward all-to-all (with
// the shared experts' backward meanwhile), the grouped data- and
// weight-gradient products, the dispatch's backward all-to-all and the
// router's backward.
func (k *coster) moeBackward() {
	h := float64(k.a.Hidden)
	m := k.a.MoE
	E := float64(m.Experts)
	copies := k.rows * float64(m.TopK) * k.moe.busiest
	k.mem("unpermute backward", 4*copies*h+2*k.rows*h, cluster.Stream)
	c := k.side(k.exchange("combine backward all-to-all", true), k.prev)
	if m.SharedExperts > 0 {
		k.denseMLPBackward("shared expert", float64(m.SharedExperts)*float64(k.a.SharedFFN()))
	}
	k.add(task{name: "combine backward wait", stream: computeStream, kind: kCompute, after: []int{c}, inner: true})
	groups, per, f, up := k.expertShape()
	recv := per * float64(groups)
	k.etpColl("expert grad all-gather", cluster.AllGather, 2*recv*h)
	if k.l.RecomputeElementwise || k.l.Recompute == model.RecomputeSelective {
		k.actRows(recv, f, false) // recompute module "moe_act"
	}
	k.cast("expert down output gradient", recv*h)
	k.add(k.groupedTask("expert down dgrad", groups, per, f, h))
	k.add(k.groupedTask("expert down wgrad", groups, f, h, per))
	k.actRows(recv, f, true)
	k.cast("expert up output gradient", recv*up)
	k.add(k.groupedTask("expert up dgrad", groups, per, h, up))
	k.add(k.groupedTask("expert up wgrad", groups, up, h, per))
	if k.t.GradAccumulation == model.SeparateAccumulation {
		g := float64(k.t.GradBytes)
		k.mem("expert gradient accumulation", float64(groups)*3*h*f*(g+2+g), cluster.Stream)
	}
	k.etpColl("expert grad reduce-scatter", cluster.ReduceScatter, 2*recv*h)
	d := k.side(k.exchange("dispatch backward all-to-all", false), k.prev)
	k.add(task{name: "dispatch backward wait", stream: computeStream, kind: kCompute, after: []int{d}, inner: true})
	k.mem("permute backward", 4*copies*h, cluster.Stream)
	k.mem("router backward", 12*k.rows*E, cluster.Reduce)
	k.add(task{name: "router dgrad", stream: computeStream, kind: kCompute, dur: k.gpu.GEMMTime(k.rows, h, E, cluster.BF16)})
	k.add(task{name: "router wgrad", stream: computeStream, kind: kCompute, dur: k.gpu.GEMMTime(E, h, k.rows, cluster.BF16)})
}

// xLayerForward is one layer of a MoE or MLA model, forward: dense (its
// first layers) or with a MoE block.
func (k *coster) xLayerForward(moe bool) {
	k.attnHalfForward()
	if moe {
		k.moeForward()
	} else {
		k.denseMLP("MLP", float64(k.a.FFNHidden))
	}
	k.mem("residual", k.residualBytes(), cluster.Stream)
}

func (k *coster) xLayerBackward(moe bool) {
	if k.l.Recompute == model.RecomputeFull {
		k.xLayerForward(moe)
	}
	k.mem("residual backward", k.residualBytes(), cluster.Stream)
	if k.l.RecomputeElementwise {
		k.mem("norm recompute", 4*k.rows*float64(k.a.Hidden), cluster.Reduce)
	}
	if moe {
		k.moeBackward()
	} else {
		k.denseMLPBackward("MLP", float64(k.a.FFNHidden))
	}
	k.attnHalfBackward()
}
