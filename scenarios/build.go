package scenarios

import (
	"errors"
	"fmt"
	"math"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// Defaults of the keys a scenario may leave out.
const (
	DefaultTrials = 100
	DefaultSeed   = 1
	// DefaultRestartS is the restart time per interruption, seconds (15
	// minutes): an assumption; Llama 3 does not publish one.
	DefaultRestartS = 15 * 60
	// DefaultStorageTBps is the checkpoint storage's sustained write
	// bandwidth, TB/s: Llama 3's Tectonic figure (arXiv:2407.21783 §3.3.4,
	// "2 TB/s sustained, 7 TB/s peak").
	DefaultStorageTBps = 2
	// DefaultPUE is the data centre's power usage effectiveness, an
	// assumption typical of a modern hyperscale site.
	DefaultPUE            = 1.1
	DefaultSlowNodeFactor = 1.1 // MegaScale's "~10% slower" straggler hosts (arXiv:2402.15627)
	// MaxTokens bounds a run's tokens: a thousand times Llama 3's 15.6T is
	// far beyond any plan, and keeps every count finite.
	MaxTokens           = 1e16
	DefaultLemonDetectS = 3600 // an assumption: an hour to notice a slow node in the step-time telemetry and drain it
	DefaultLatencyUS    = 5    // per-hop scale-out latency, µs
	DefaultProfile      = "none"
)

// Limits that keep the step simulation (and memory accounting, which walks
// the pipeline schedule) tractable.
const (
	maxLayers      = 100_000
	maxExperts     = 1 << 16 // routed experts per layer (ExpertLoad allocates one float per expert)
	maxHeads       = 1 << 16
	maxScheduleOps = 1_000_000  // micro batches per step × virtual stages
	maxPipelineOps = 20_000_000 // × pp
)

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// build checks s and turns it into a run.Spec.
func (d *decoder) build(s *Scenario) run.Spec {
	var spec run.Spec
	spec.Name = s.Name
	if spec.Name == "" {
		spec.Name = strings.TrimSuffix(strings.TrimSuffix(path.Base(d.file), ".yaml"), ".yml")
	}
	spec.Description = s.Description

	arch, archOK := d.arch(s.Model)

	// Cluster.
	gpu, gpuOK := cluster.GPU{}, false
	switch {
	case !d.has("cluster.gpu"):
		d.errKey("cluster.gpu", "required: a built-in GPU name (%s)", strings.Join(cluster.GPUNames(), ", "))
	default:
		g, err := cluster.LookupGPU(s.Cluster.GPU)
		if err != nil {
			d.errKey("cluster.gpu", "%s", oneOf("gpu", s.Cluster.GPU, cluster.GPUNames()))
		} else {
			gpu, gpuOK = g, true
		}
	}
	gpus := s.Cluster.GPUs
	gpusOK := true
	if !d.has("cluster.gpus") {
		d.errKey("cluster.gpus", "required: the number of GPUs")
		gpusOK = false
	}
	gpn := deref(s.Cluster.GPUsPerNode, gpu.GPUsPerNode)
	maxGPUs := gpus
	for _, ph := range s.Phases {
		maxGPUs = max(maxGPUs, deref(ph.GPUs, 0))
	}
	if s.Cluster.GPUsPerNode == nil && gpus >= 1 && maxGPUs < gpn && gpn%maxGPUs == 0 {
		// A job on part of one server (1, 2 or 4 of its 8 GPUs): the
		// node is the GPUs the job has, or with phases of several sizes
		// their greatest common divisor.
		gpn = gpus
		for _, ph := range s.Phases {
			if n := deref(ph.GPUs, 0); n >= 1 {
				gpn = cluster.GCD(gpn, n)
			}
		}
	}
	net := deref(s.Cluster.Network, Network{})
	nw := cluster.Network{
		ScaleOutGbps:     float64(deref(net.ScaleOutGbps, Quantity(gpu.NICGbps))),
		Oversubscription: float64(deref(net.Oversubscription, 1)),
		LatencyS:         float64(deref(net.LatencyUS, DefaultLatencyUS)) / 1e6,
	}
	nw.NodesPerPod = 1
	if gpn > 0 {
		nw.NodesPerPod = max(1, (maxGPUs+gpn-1)/gpn)
	}
	nw.NodesPerPod = deref(net.NodesPerPod, nw.NodesPerPod)
	// The NVLink domain: the scenario's, else the GPU's (an NVL72 rack),
	// else (0) one node.
	nw.NVLinkDomain = deref(s.Cluster.NVLinkDomain, gpu.NVLinkDomain)
	domainOK := true
	if v := nw.NVLinkDomain; s.Cluster.NVLinkDomain != nil && (v < 1 || gpn > 0 && v%gpn != 0) {
		d.errKey("cluster.nvlink_domain", "%d must be a positive multiple of cluster.gpus_per_node (%d): the GPUs sharing one NVLink fabric", v, gpn)
		nw.NVLinkDomain, domainOK = 0, false // reported once, here
	}
	domain := nw.NVLinkDomain
	if domain == 0 {
		domain = gpn
	}
	var cl cluster.Cluster
	clusterOK := false
	if gpuOK && gpusOK {
		c, err := cluster.New(gpu, gpus, gpn, nw)
		if err != nil {
			d.clusterErrors(err)
		} else {
			cl, clusterOK = c, true
		}
	}

	// Training.
	tr, trOK := d.training(s, arch, archOK, gpu, gpuOK)
	if n := s.Training.MTPLayers; n != nil {
		switch {
		case *n < 0 || *n > 16:
			// 16 is no model's limit but a guard against runaway input
			// (each module adds an MoE layer and the shared head to the
			// last stage); DeepSeek-V3 trains with 1.
			d.errKey("training.mtp_layers", "%d must be in [0, 16]", *n)
			trOK = false
		case *n > 0 && archOK && !arch.IsMoE():
			d.errKey("training.mtp_layers", "multi-token prediction is modelled for mixture-of-experts models only")
			trOK = false
		default:
			arch.MoE.MTPLayers = *n
		}
	}

	// Layout.
	layout, autoRC, layoutOK := d.layout(s.Parallelism, "", gpus)
	checked := false
	switch {
	case layoutOK && archOK && trOK && gpusOK && gpuOK && domainOK && !d.anyLayout:
		checked = d.checkLayout(arch, layout, tr, gpus, "") && d.checkAligned(layout, gpn, domain, "") &&
			d.checkMemory(arch, &layout, autoRC, tr, gpu, "")
	case layoutOK && archOK && trOK && gpuOK && autoRC:
		// plan and report take the layout as the scenario gives it, checks
		// left to them; auto still picks its recompute where it can.
		quietRecompute(arch, &layout, tr, gpus, gpu)
	}
	main := mainPhase{arch: arch, archOK: archOK, tr: tr, trOK: trOK, gpu: gpu, gpuOK: gpuOK, gpn: gpn, domain: domain, layout: layout, checked: checked, autoRC: autoRC}

	// Phases.
	total := 0.0
	for i, ph := range s.Phases {
		p, ok := d.phase(i, ph, s, main)
		if ok {
			spec.Phases = append(spec.Phases, p)
		}
		total += p.Tokens
	}
	switch {
	case len(s.Phases) > 0 && s.Training.Tokens != nil && len(spec.Phases) == len(s.Phases):
		if want := float64(*s.Training.Tokens); math.Abs(total-want) > 1e-9*want {
			d.errKey("training.tokens", "%s does not equal the sum of the phases' tokens (%s); make them agree or leave training.tokens out",
				formatQuantity(want), formatQuantity(total))
		}
	case len(s.Phases) > 0 && s.Training.Tokens == nil:
		tr.Tokens = total
	}

	// Stragglers.
	st := deref(s.Stragglers, Stragglers{})
	noise := step.Noise{
		CV:               float64(deref(st.CV, step.DefaultCV)),
		GPUCV:            float64(deref(st.GPUCV, step.DefaultGPUCV)),
		SlowNodeFraction: float64(deref(st.SlowNodeFraction, 0)),
		SlowNodeFactor:   float64(deref(st.SlowNodeFactor, DefaultSlowNodeFactor)),
	}
	if !(noise.CV >= 0 && noise.CV <= 1) {
		d.errKey("stragglers.cv", "%s must be in [0, 1] (a coefficient of variation; default %g)", formatQuantity(noise.CV), step.DefaultCV)
	}
	if !(noise.GPUCV >= 0 && noise.GPUCV <= 1) {
		d.errKey("stragglers.gpu_cv", "%s must be in [0, 1] (a coefficient of variation; default %g)", formatQuantity(noise.GPUCV), step.DefaultGPUCV)
	}
	if !(noise.SlowNodeFraction >= 0 && noise.SlowNodeFraction <= 1) {
		d.errKey("stragglers.slow_node_fraction", "%s must be in [0, 1]", formatQuantity(noise.SlowNodeFraction))
	}
	if !(noise.SlowNodeFactor >= 1) {
		d.errKey("stragglers.slow_node_factor", "%s must be >= 1 (1.1 = 10%% slower)", formatQuantity(noise.SlowNodeFactor))
	}
	samples := deref(st.Samples, 1)
	if samples < 1 {
		d.errKey("stragglers.samples", "%d must be >= 1", samples)
	}

	spec.Failures = d.failures(deref(s.Failures, Failures{}))

	en := deref(s.Energy, Energy{})
	spec.Energy = run.Energy{
		PUE:             float64(deref(en.PUE, DefaultPUE)),
		HostWattsPerGPU: float64(deref(en.HostWattsPerGPU, 0)),
		PricePerGPUHour: float64(deref(en.PricePerGPUHour, 0)),
		Currency:        strings.TrimSpace(deref(en.Currency, "")),
	}
	if pue := spec.Energy.PUE; pue != 0 && !(pue >= 1) {
		d.errKey("energy.pue", "%s must be >= 1 (or 0 to turn energy off)", formatQuantity(pue))
	}
	if v := spec.Energy.HostWattsPerGPU; v < 0 {
		d.errKey("energy.host_watts_per_gpu", "%s must be >= 0", formatQuantity(v))
	}
	if v := spec.Energy.PricePerGPUHour; v < 0 {
		d.errKey("energy.price_per_gpu_hour", "%s must be >= 0", formatQuantity(v))
	}
	if c := spec.Energy.Currency; len(c) > 16 || strings.ContainsAny(c, "\n\r\t") {
		d.errKey("energy.currency", "%q: want a short currency code such as USD or EUR (at most 16 characters, one line)", c)
	}

	spec.Trials = deref(s.Trials, DefaultTrials)
	if spec.Trials < 1 {
		d.errKey("trials", "%d must be >= 1", spec.Trials)
	}
	spec.Seed = deref(s.Seed, DefaultSeed)

	spec.Step = step.Spec{
		Arch:     arch,
		Layout:   layout,
		Training: tr,
		Cluster:  cl,
		Noise:    noise,
		Seed:     spec.Seed,
		Samples:  samples,
	}
	if len(d.errs) == 0 && clusterOK && !d.anyLayout {
		// A safety net: the simulator's own check.
		d.fieldErrors(spec.Step.Validate(), func(f string) string { return f })
	}
	return spec
}

// arch builds the model.
func (d *decoder) arch(m Model) (model.Arch, bool) {
	if !d.has("model") {
		d.errKey("model", "required: a built-in model (%s) or an inline mapping with keys %s",
			strings.Join(model.ArchNames(), ", "), strings.Join(fieldNames(modelType), ", "))
		return model.Arch{}, false
	}
	if m.Builtin != "" {
		a, err := model.LookupArch(m.Builtin)
		if err != nil {
			d.errKey("model", "%s; or an inline mapping with keys %s", oneOf("model", m.Builtin, model.ArchNames()), strings.Join(fieldNames(modelType), ", "))
			return a, false
		}
		return a, true
	}
	ok := true
	for _, k := range []string{"layers", "hidden", "heads"} {
		if !d.has("model." + k) {
			d.errKey("model."+k, "required in an inline model (which needs layers, hidden and heads)")
			ok = false
		}
	}
	if !ok {
		return model.Arch{}, false // the rest would only repeat the gap
	}
	a := model.Arch{
		Name:           "custom",
		Layers:         m.Layers,
		Hidden:         m.Hidden,
		FFNHidden:      m.FFNHidden,
		Heads:          m.Heads,
		KVHeads:        deref(m.KVHeads, m.Heads),
		Vocab:          m.Vocab,
		TiedEmbeddings: deref(m.TiedEmbeddings, false),
	}
	if m.MLP != "" {
		mlp, err := model.ParseMLP(m.MLP)
		if err != nil {
			d.errKey("model.mlp", "%s", oneOf("mlp", m.MLP, model.MLPNames()))
			ok = false
		}
		a.MLP = mlp
	}
	if !d.has("model.ffn_hidden") {
		a.FFNHidden = model.DefaultFFNHidden(a.MLP, a.Hidden)
	}
	if !d.has("model.vocab") {
		a.Vocab = model.DefaultVocab
	}
	a.Dropout = deref(m.Dropout, a.MLP == model.GELU)
	a.HeadDimSize = deref(m.HeadDim, 0)
	if e := m.MoE; e != nil {
		a.MoE = model.MoE{Experts: e.Experts, TopK: e.TopK, ExpertFFN: e.ExpertFFNHidden,
			SharedExperts: deref(e.SharedExperts, 0), SharedFFN: deref(e.SharedFFNHidden, 0), DenseLayers: deref(e.DenseLayers, 0)}
		if a.MoE.Experts < 1 {
			d.errKey("model.moe.experts", "%d must be >= 1", a.MoE.Experts)
			ok = false
		} else if a.MoE.Experts > maxExperts {
			d.errKey("model.moe.experts", "%d is more than clustersim models (at most %d)", a.MoE.Experts, maxExperts)
			ok = false
		}
	}
	if q := m.MLA; q != nil {
		a.MLA = model.MLA{QLoRARank: deref(q.QLoRARank, 0), KVLoRARank: q.KVLoRARank, QKNopeHeadDim: q.QKNopeHeadDim, QKRopeHeadDim: q.QKRopeHeadDim, VHeadDim: q.VHeadDim}
		if a.MLA.KVLoRARank < 1 {
			d.errKey("model.mla.kv_lora_rank", "%d must be >= 1", a.MLA.KVLoRARank)
			ok = false
		}
	}
	for _, f := range []struct {
		key      string
		v, limit int
	}{{"layers", a.Layers, maxLayers}, {"heads", a.Heads, maxHeads}, {"kv_heads", a.KVHeads, maxHeads}} {
		if f.v > f.limit {
			d.errKey("model."+f.key, "%d is more than clustersim models (at most %d)", f.v, f.limit)
			ok = false
		}
	}
	for _, e := range flatten(a.Validate()) {
		var fe *model.FieldError
		if errors.As(e, &fe) && !d.has(fe.Field) && fe.Field != "model.kv_heads" {
			continue // already reported as required
		}
		d.fieldErrors(e, func(f string) string { return f })
		ok = false
	}
	return a, ok
}

// training builds the main phase's training, with the run's tokens when
// training.tokens gives them (the phases' sum is filled in later). Without
// tokens or phases the run is compute-optimal: ChinchillaTokensPerParam
// tokens per active parameter.
func (d *decoder) training(s *Scenario, arch model.Arch, archOK bool, gpu cluster.GPU, gpuOK bool) (model.Training, bool) {
	t := s.Training
	ok := true
	tr := model.Training{SeqLen: t.SeqLen, GradBytes: 4}
	if !d.has("training.seq_len") {
		d.errKey("training.seq_len", "required: tokens per sequence")
		ok = false
	} else if t.SeqLen < 1 {
		d.errKey("training.seq_len", "%d must be >= 1", t.SeqLen)
		ok = false
	}
	gb, gbOK := d.batch(t.GlobalBatch, t.GlobalBatchTokens, tr.SeqLen, "training", ok)
	tr.GlobalBatch = gb
	ok = ok && gbOK
	if t.GlobalBatch == nil && t.GlobalBatchTokens == nil {
		d.errKey("training.global_batch", "required: sequences per step (or training.global_batch_tokens: tokens per step)")
		ok = false
	}
	switch {
	case t.Tokens != nil:
		tr.Tokens = float64(*t.Tokens)
		if !(tr.Tokens > 0 && tr.Tokens <= MaxTokens) {
			d.errKey("training.tokens", "%s must be > 0 and at most %s", formatQuantity(tr.Tokens), formatQuantity(MaxTokens))
			ok = false
		}
	case len(s.Phases) == 0 && archOK:
		tr.Tokens = model.ChinchillaTokensPerParam * math.Round(arch.ActiveParams())
	}
	if t.Precision != "" {
		p, err := cluster.ParsePrecision(t.Precision)
		if err != nil || p.String() != t.Precision && t.Precision != cluster.FP16Alias {
			d.errKey("training.precision", "%s", oneOf("precision", t.Precision, cluster.PrecisionNames()))
			ok = false
		}
		tr.Precision = p
	}
	if gpuOK && !gpu.Supports(tr.Precision) {
		need := map[cluster.Precision]string{
			cluster.FP8:   "fp8 tensor cores",
			cluster.MXFP8: "block-scaled (microscaling) fp8 tensor cores, new in Blackwell",
			cluster.NVFP4: "fp4 tensor cores, new in Blackwell",
		}[tr.Precision]
		d.errKey("training.precision", "%s needs %s, which %s lacks; %s supports %s", tr.Precision, need, gpu.Name, gpu.Name, strings.Join(gpu.Precisions(), ", "))
		ok = false
	}
	// NVIDIA's fp8 recipes keep the weights in fp8 only (Megatron-Core's
	// fp8_param_gather, set by Megatron-Bridge's and NeMo's fp8 mixed
	// precision configs); fp8_params: false keeps bf16 weights beside
	// Transformer Engine's cached fp8 copy (model.WeightBytes).
	tr.FP8Params = tr.Precision != cluster.BF16 && deref(t.FP8Params, true)
	if t.FP8Params != nil && *t.FP8Params && tr.Precision == cluster.BF16 {
		d.errKey("training.fp8_params", "true needs precision: fp8 (bf16 training keeps bf16 weights)")
		ok = false
	}
	switch t.GradPrecision {
	case "", "fp32":
		tr.GradBytes = 4
	case "bf16":
		tr.GradBytes = 2
	default:
		d.errKey("training.grad_precision", "%s", oneOf("grad_precision", t.GradPrecision, []string{"fp32", "bf16"}))
		ok = false
	}
	if t.GradAccumulation != "" {
		tr.GradAccumulation = parseName(d, "grad_accumulation", t.GradAccumulation, model.GradAccumulationNames(), model.ParseGradAccumulation, &ok)
	}
	if t.Attention != "" {
		// (the names alphabetically, as the message has always listed them)
		tr.Attention = parseName(d, "attention", t.Attention, slices.Sorted(slices.Values(model.AttentionNames())), model.ParseAttention, &ok)
	}
	switch t.FP8Scaling {
	case "", "delayed":
	case "current":
		tr.CurrentScaling = true
		if tr.Precision != cluster.FP8 {
			d.errKey("training.fp8_scaling", "current needs precision: fp8 (mxfp8 and nvfp4 scale per block)")
			ok = false
		}
	default:
		d.errKey("training.fp8_scaling", "%s", oneOf("fp8_scaling", t.FP8Scaling, []string{"delayed", "current"}))
		ok = false
	}
	if t.CapacityFactor != nil {
		tr.CapacityFactor = float64(*t.CapacityFactor)
		if !(tr.CapacityFactor > 0 && tr.CapacityFactor <= 1e3) {
			d.errKey("training.capacity_factor", "%s must be in (0, 1000] (leave it out for dropless routing)", formatQuantity(tr.CapacityFactor))
			ok = false
		}
	}
	if t.RouterConcentration != nil {
		tr.RouterConcentration = float64(*t.RouterConcentration)
		if !(tr.RouterConcentration >= 0 && tr.RouterConcentration <= 1e6) {
			d.errKey("training.router_concentration", "%s must be in [0, 1e6] (0 = perfectly balanced)", formatQuantity(tr.RouterConcentration))
			ok = false
		}
	}
	if t.MoEDispatcher != "" {
		tr.Dispatcher = parseName(d, "moe_dispatcher", t.MoEDispatcher, model.DispatcherNames(), model.ParseDispatcher, &ok)
	}
	if t.GroupedGEMM != "" {
		tr.GroupedGEMM = parseName(d, "grouped_gemm", t.GroupedGEMM, cluster.GroupedKernelNames(), cluster.ParseGroupedKernel, &ok)
	}
	tr.MoEHostSync = deref(t.MoEHostSync, false)
	tr.HostOverheadS = model.DefaultHostOverheadS
	if t.HostOverheadUS != nil {
		v := float64(*t.HostOverheadUS)
		if !(v >= 0 && v <= 1e4) {
			d.errKey("training.host_overhead_us", "%s must be in [0, 10000] microseconds", formatQuantity(v))
			ok = false
		}
		tr.HostOverheadS = v * 1e-6
	}
	return tr, ok
}

// parseName parses training.key's value got with parse. An unknown name is
// an error on the key listing names, and clears ok; the value is then
// parse's zero.
func parseName[T any](d *decoder, key, got string, names []string, parse func(string) (T, error), ok *bool) T {
	v, err := parse(got)
	if err != nil {
		d.errKey("training."+key, "%s", oneOf(key, got, names))
		*ok = false
	}
	return v
}

// batch returns the global batch in sequences from global_batch or
// global_batch_tokens under prefix, checking that the tokens are a whole
// number of sequences of seq tokens (when seqOK).
func (d *decoder) batch(seqs, tokens *int, seq int, prefix string, seqOK bool) (int, bool) {
	gbKey, gbtKey := prefix+".global_batch", prefix+".global_batch_tokens"
	switch {
	case seqs != nil && tokens != nil:
		d.errKey(gbtKey, "give %s (sequences) or %s, not both", gbKey, gbtKey)
		return 0, false
	case seqs != nil:
		if *seqs < 1 {
			d.errKey(gbKey, "%d must be >= 1", *seqs)
			return 0, false
		}
		return *seqs, true
	case tokens != nil:
		n := *tokens
		if n < 1 {
			d.errKey(gbtKey, "%d must be >= 1", n)
			return 0, false
		}
		if !seqOK {
			return 0, false
		}
		if n%seq != 0 {
			d.errKey(gbtKey, "%s", batchTokensHint(n, seq))
			return 0, false
		}
		return n / seq, true
	}
	return 0, true // the caller decides whether one is required
}

// batchTokensHint says why n tokens are not whole sequences of seq tokens
// and what the nearest valid values are.
func batchTokensHint(n, seq int) string {
	lo := n / seq
	msg := fmt.Sprintf("%d tokens is %s sequences of seq_len %d, not a whole number; use a multiple of %d",
		n, strconv.FormatFloat(float64(n)/float64(seq), 'f', -1, 64), seq, seq)
	if lo >= 1 {
		msg += fmt.Sprintf(": %d (%d sequences) or %d (%d sequences)", lo*seq, lo, (lo+1)*seq, lo+1)
	} else {
		msg += fmt.Sprintf(": %d (1 sequence)", seq)
	}
	// 16M is 1,953.125 sequences of 8,192; the 16Mi a user probably meant is 2,048.
	for _, u := range []struct {
		dec, bin int
		suf      string
	}{{1e9, 1 << 30, "Gi"}, {1e6, 1 << 20, "Mi"}, {1e3, 1 << 10, "Ki"}} {
		if n%u.dec != 0 {
			continue
		}
		if b := n / u.dec * u.bin; n/u.dec < 1<<20 && b%seq == 0 {
			msg += fmt.Sprintf(", or %d%s = %d·2^%d (%d sequences)", n/u.dec, u.suf, n/u.dec, bits(u.bin), b/seq)
		}
		break
	}
	return msg
}

func bits(x int) int {
	n := 0
	for x > 1 {
		x >>= 1
		n++
	}
	return n
}

// layout resolves a parallelism block with its defaults for gpus GPUs.
// prefix is "" or "phases.N." for the keys. autoRC reports a recompute left
// out or set to auto: checkMemory then chooses the least that fits.
func (d *decoder) layout(p Parallelism, prefix string, gpus int) (l model.Layout, autoRC, ok bool) {
	ok = true
	l = model.Layout{
		TP:            deref(p.TP, 1),
		PP:            deref(p.PP, 1),
		CP:            deref(p.CP, 1),
		MicroBatch:    deref(p.MicroBatch, 1),
		VirtualStages: deref(p.VirtualStages, 1),
		ZeRO:          deref(p.ZeRO, 1),
		TPOverlap:     deref(p.TPCommOverlap, false),
		DPOverlap:     deref(p.DPCommOverlap, true),

		RecomputeElementwise: deref(p.RecomputeElementwise, false),
		EP:                   deref(p.EP, 0), // 0 means 1 (model.Layout.EPSize)
		ETP:                  deref(p.ETP, 0),
		OffloadLayers:        deref(p.OffloadLayers, 0),
	}
	if p.Schedule != nil {
		sc, err := model.ParsePipeSchedule(*p.Schedule)
		if err != nil {
			d.errKey(prefix+"parallelism.schedule", "%s", oneOf("schedule", *p.Schedule, model.PipeScheduleNames()))
			ok = false
		}
		l.PipeSchedule = sc
	}
	if p.EP != nil && l.EP < 1 || p.ETP != nil && l.ETP < 1 {
		d.errKey(prefix+"parallelism.ep", "ep %d and etp %d must be >= 1", l.EP, l.ETP)
		ok = false
	}
	l.SequenceParallel = deref(p.SequenceParallel, l.TP > 1)
	if p.CPComm != nil {
		switch *p.CPComm {
		case "all-gather":
		case "p2p":
			l.CPRing = true
		default:
			d.errKey(prefix+"parallelism.cp_comm", "%s", oneOf("cp_comm", *p.CPComm, []string{"all-gather", "p2p"}))
			ok = false
		}
	}
	autoRC = p.Recompute == nil || *p.Recompute == RecomputeAuto
	if !autoRC {
		r, err := model.ParseRecompute(*p.Recompute)
		if err != nil {
			d.errKey(prefix+"parallelism.recompute", "%s", oneOf("recompute", *p.Recompute, []string{RecomputeAuto, "none", "selective", "full"}))
			ok = false
		}
		l.Recompute = r
	}
	if l.ZeRO < 0 || l.ZeRO > 3 {
		d.errKey(prefix+"parallelism.zero", "%d must be 0, 1, 2 or 3 (3 = FSDP)", l.ZeRO)
		ok = false
	}
	if p.DP != nil {
		l.DP = *p.DP
	} else if m := l.TP * l.PP * l.CP; l.TP > 0 && l.PP > 0 && l.CP > 0 && float64(l.TP)*float64(l.PP)*float64(l.CP) <= float64(gpus) {
		l.DP = max(1, gpus/m) // a remainder is reported by Layout.Validate
	} else {
		l.DP = 1
	}
	return l, autoRC, ok
}

// checkLayout validates l for a, t and gpus; prefix is "" or "phases.N.".
// It reports whether l is valid.
// checkAligned refuses a tensor-parallel group that straddles NVLink
// domains unevenly: tensor parallelism belongs inside one NVLink fabric, and
// a tp that neither divides the domain nor is a multiple of it would put
// some groups across two domains. The domain is one node on 8-GPU servers
// and a 72-GPU rack on NVL72 (tp 8 spans two 4-GPU trays of one rack).
func (d *decoder) checkAligned(l model.Layout, gpn, domain int, prefix string) bool {
	if domain < 1 || l.TP <= 1 || domain%l.TP == 0 || l.TP%domain == 0 {
		return true
	}
	if domain == gpn {
		d.errKey(prefix+"parallelism.tp", "%d does not align with %d GPUs per node: it must divide the node or be a multiple of it", l.TP, gpn)
	} else {
		d.errKey(prefix+"parallelism.tp", "%d does not align with the %d-GPU NVLink domain (cluster.nvlink_domain): it must divide the domain or be a multiple of it", l.TP, domain)
	}
	return false
}

func (d *decoder) checkLayout(a model.Arch, l model.Layout, t model.Training, gpus int, prefix string) bool {
	key := d.keyMapper(prefix)
	positive := l.TP >= 1 && l.PP >= 1 && l.CP >= 1 && l.DP >= 1 && l.MicroBatch >= 1 && l.VirtualStages >= 1
	if positive {
		// Guards against overflow and against schedules too large to walk.
		if m := float64(l.TP) * float64(l.PP) * float64(l.CP); m > float64(gpus) {
			d.errKey(key("parallelism"), "tp·pp·cp = %d·%d·%d = %.0f is more than cluster.gpus (%d)", l.TP, l.PP, l.CP, m, gpus)
			return false
		}
		if c := float64(l.PP) * float64(l.VirtualStages); c > float64(a.Layers+2) {
			d.errKey(key("parallelism.pp"), "pp·virtual_stages = %d·%d = %.0f model chunks is more than the %d layers can fill (at most layers+2 = %d, with the embedding and the head in the first and last chunk)",
				l.PP, l.VirtualStages, c, a.Layers, a.Layers+2)
			return false
		}
	}
	if err := l.Validate(a, t, gpus); err != nil {
		// When dp was left out and gpus/(tp·pp·cp) is not whole, the
		// product error says so; the batch checks against the rounded-down
		// dp would only repeat it.
		guessed := !d.has(prefix+"parallelism.dp") && positive && gpus%(l.TP*l.PP*l.CP) != 0
		for _, e := range flatten(err) {
			var fe *model.FieldError
			if guessed && errors.As(e, &fe) && (fe.Field == "training.global_batch" || fe.Field == "parallelism.virtual_stages") {
				continue
			}
			d.fieldErrors(e, key)
		}
		return false
	}
	m := l.MicroBatches(t)
	if ops := float64(m) * float64(l.VirtualStages); ops > maxScheduleOps || ops*float64(l.PP) > maxPipelineOps {
		d.errKey(key("training.global_batch"), "%d micro batches per step × %d virtual stages × pp %d is more than clustersim simulates (%d micro batch passes per stage, %d in all); use a larger micro_batch or dp",
			m, l.VirtualStages, l.PP, maxScheduleOps, maxPipelineOps)
		return false
	}
	return true
}

// keyMapper maps the keys of model.FieldError to the scenario's: under a
// phase, "parallelism.tp" is "phases.N.parallelism.tp" and the training
// keys are the phase's own; a global batch given in tokens is blamed on
// global_batch_tokens.
func (d *decoder) keyMapper(prefix string) func(string) string {
	return func(f string) string {
		switch {
		case f == "training.global_batch" && prefix == "":
			if d.has("training.global_batch_tokens") {
				return "training.global_batch_tokens"
			}
			return f
		case f == "training.global_batch":
			p := strings.TrimSuffix(prefix, ".")
			if d.has(p + ".global_batch_tokens") {
				return p + ".global_batch_tokens"
			}
			return p + ".global_batch"
		case prefix != "" && strings.HasPrefix(f, "training."):
			return prefix + strings.TrimPrefix(f, "training.")
		case prefix != "" && f == "cluster.gpus":
			return prefix + "gpus"
		}
		return prefix + f
	}
}

// fieldErrors reports the *model.FieldErrors in err (and any other error
// as it is) under the keys key gives.
func (d *decoder) fieldErrors(err error, key func(string) string) {
	for _, e := range flatten(err) {
		var fe *model.FieldError
		if errors.As(e, &fe) {
			d.errKey(key(fe.Field), "%v %s", fe.Value, fe.Reason)
			continue
		}
		d.errKey("", "%v", e)
	}
}

// flatten unwraps joined errors.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// clusterErrors reports cluster.New's *cluster.InvalidErrors under the
// scenario's keys.
func (d *decoder) clusterErrors(err error) {
	for _, e := range flatten(err) {
		var ie *cluster.InvalidError
		if !errors.As(e, &ie) {
			d.errKey("cluster", "%v", e)
			continue
		}
		key, v := "cluster."+ie.Field, ie.Value
		if ie.Field == "network.latency_s" {
			key = "cluster.network.latency_us"
			if f, ok := v.(float64); ok {
				v = f * 1e6
			}
		}
		if f, ok := v.(float64); ok {
			v = formatQuantity(f)
		}
		d.errKey(key, "%v %s", v, ie.Reason)
	}
}

const gib = 1 << 30

// RecomputeAuto is parallelism.recompute's default: the least activation
// recomputation (none, then selective, then full) under which the layout
// fits in memory, as the frameworks' recipes choose it for a layout.
const RecomputeAuto = "auto"

// fitRecompute prices l's fullest stage; with auto it first sets l's
// recompute to the least that fits (none, selective, full), leaving full
// when none does. It returns that stage's memory and index and whether it
// fits.
func fitRecompute(a model.Arch, l *model.Layout, auto bool, t model.Training, gpu cluster.GPU) (m model.Memory, worst int, fits bool, err error) {
	modes := []model.Recompute{l.Recompute}
	switch {
	case auto && l.OffloadLayers > 0:
		modes = []model.Recompute{model.RecomputeNone} // Megatron-Core offloads without recomputation only
	case auto:
		modes = []model.Recompute{model.RecomputeNone, model.RecomputeSelective, model.RecomputeFull}
	}
	for _, rc := range modes {
		l.Recompute = rc
		mem, err := model.StageMemory(a, *l, t)
		if err != nil {
			return m, 0, false, err
		}
		worst = 0
		for i, m := range mem {
			if m.Total() > mem[worst].Total() {
				worst = i
			}
		}
		if m = mem[worst]; m.Total() <= gpu.HBMBytes() {
			return m, worst, true, nil
		}
	}
	return m, worst, false, nil
}

// quietRecompute is auto recompute for a layout nothing else checks (plan
// and report's baseline): the least that fits when the layout divides the
// model and the batch, else none; it reports nothing.
func quietRecompute(a model.Arch, l *model.Layout, t model.Training, gpus int, gpu cluster.GPU) {
	if l.Validate(a, t, gpus) != nil {
		return
	}
	if _, _, _, err := fitRecompute(a, l, true, t, gpu); err != nil {
		l.Recompute = model.RecomputeNone
	}
}

// checkMemory refuses a layout whose fullest GPU needs more memory than the
// GPU has, and reports whether it fits. With auto it first sets l's
// recompute to the least that fits (none, selective, full); a layout that
// fits under none of them is refused with full recompute's figures.
func (d *decoder) checkMemory(a model.Arch, l *model.Layout, auto bool, t model.Training, gpu cluster.GPU, prefix string) bool {
	m, worst, fits, err := fitRecompute(a, l, auto, t, gpu)
	if err != nil {
		d.errKey(prefix+"parallelism", "%v", err)
		return false
	}
	if fits {
		return true
	}
	var try []string
	if l.OffloadLayers > 0 {
		try = append(try, "a larger tp") // no pipeline parallelism with offload
	} else {
		try = append(try, "a larger pp or tp")
	}
	if m.Activations > m.Total()/2 && t.SeqLen >= 2*2*l.CP {
		try = append(try, "a larger cp")
	}
	if l.ZeRO < 3 {
		try = append(try, "zero: 3")
	}
	switch {
	case l.OffloadLayers > 0 && l.OffloadLayers < a.Layers-1:
		try = append(try, "a larger offload_layers")
	case l.OffloadLayers == 0 && l.Recompute != model.RecomputeFull:
		try = append(try, "recompute: full")
	}
	if l.MicroBatch > 1 {
		try = append(try, "a smaller micro_batch")
	}
	hint := try[0]
	if len(try) > 1 {
		hint = strings.Join(try[:len(try)-1], ", ") + ", or " + try[len(try)-1]
	}
	d.errKey(prefix+"parallelism", "needs %.1f GiB per GPU on stage %d (weights %.1f, gradients %.1f, optimizer %.1f, activations %.1f, reserved %.1f) but %s has %.1f GiB; try %s",
		m.Total()/gib, worst, m.Weights/gib, m.Gradients/gib, m.Optimizer/gib, m.Activations/gib, m.Reserved/gib,
		gpu.Name, gpu.HBMBytes()/gib, hint)
	return false
}

// mainPhase is what phases inherit from the top level.
type mainPhase struct {
	arch    model.Arch
	archOK  bool
	tr      model.Training
	trOK    bool
	gpu     cluster.GPU
	gpuOK   bool
	gpn     int
	domain  int // GPUs per NVLink domain
	layout  model.Layout
	autoRC  bool // the layout's recompute was auto (left out)
	checked bool // the main layout passed every check, memory included
}

// phase builds phase i, inheriting what it leaves out from the top level.
func (d *decoder) phase(i int, ph Phase, s *Scenario, main mainPhase) (run.Phase, bool) {
	a, top, gpn := main.arch, main.tr, main.gpn
	pre := fmt.Sprintf("phases.%d.", i)
	ok := true
	p := run.Phase{Name: ph.Name}
	if p.Name == "" {
		p.Name = fmt.Sprintf("phase %d", i+1)
	}
	if ph.Tokens == nil {
		d.errKey(pre+"tokens", "required: the tokens of this phase")
		ok = false
	} else if p.Tokens = float64(*ph.Tokens); !(p.Tokens > 0 && p.Tokens <= MaxTokens) {
		d.errKey(pre+"tokens", "%s must be > 0 and at most %s", formatQuantity(p.Tokens), formatQuantity(MaxTokens))
		ok = false
	}
	p.SeqLen = deref(ph.SeqLen, top.SeqLen)
	if ph.SeqLen != nil && p.SeqLen < 1 {
		d.errKey(pre+"seq_len", "%d must be >= 1", p.SeqLen)
		ok = false
	}
	p.GPUs = deref(ph.GPUs, s.Cluster.GPUs)
	if ph.GPUs != nil {
		switch {
		case p.GPUs < 1:
			d.errKey(pre+"gpus", "%d must be >= 1", p.GPUs)
			ok = false
		case gpn > 0 && p.GPUs%gpn != 0:
			d.errKey(pre+"gpus", "%d must be a multiple of cluster.gpus_per_node (%d)", p.GPUs, gpn)
			ok = false
		}
	}
	switch {
	case ph.GlobalBatch != nil || ph.GlobalBatchTokens != nil:
		gb, gbOK := d.batch(ph.GlobalBatch, ph.GlobalBatchTokens, p.SeqLen, strings.TrimSuffix(pre, "."), p.SeqLen >= 1)
		p.GlobalBatch, ok = gb, ok && gbOK
	case s.Training.GlobalBatchTokens != nil && p.SeqLen >= 1:
		// The top level gave tokens per step: keep the tokens.
		n := *s.Training.GlobalBatchTokens
		if n%p.SeqLen != 0 {
			d.errKey(pre+"global_batch_tokens", "the inherited training.global_batch_tokens: %s", batchTokensHint(n, p.SeqLen))
			ok = false
		}
		p.GlobalBatch = n / p.SeqLen
	default:
		p.GlobalBatch = top.GlobalBatch
	}

	par := s.Parallelism
	par.DP = nil // the main dp is for the main GPU count
	if o := ph.Parallelism; o != nil {
		overlay(&par, *o)
	}
	l, autoRC, lOK := d.layout(par, pre, p.GPUs)
	ok = ok && lOK
	if !ok || !main.archOK || !main.trOK || !main.gpuOK || p.SeqLen < 1 || p.GlobalBatch < 1 {
		return p, false
	}
	p.Layout = &l
	t := top
	t.SeqLen, t.GlobalBatch, t.Tokens = p.SeqLen, p.GlobalBatch, p.Tokens
	if d.anyLayout {
		if autoRC {
			quietRecompute(a, &l, t, p.GPUs, main.gpu)
		}
		return p, true
	}
	// The main phase's job with the main phase's layout: its checks
	// reported any problem once. When both left the recompute to auto,
	// the main phase chose it, and the same layout takes it.
	same := l
	if autoRC && main.autoRC {
		same.Recompute = main.layout.Recompute
	}
	if same == main.layout && p.SeqLen == top.SeqLen && p.GlobalBatch == top.GlobalBatch && p.GPUs == s.Cluster.GPUs {
		l = same
		return p, main.checked
	}
	ok = d.checkLayout(a, l, t, p.GPUs, pre) && d.checkAligned(l, main.gpn, main.domain, pre) && d.checkMemory(a, &l, autoRC, t, main.gpu, pre)
	return p, ok
}

// overlay sets in p the keys o sets.
func overlay(p *Parallelism, o Parallelism) {
	set := func(dst **int, src *int) {
		if src != nil {
			*dst = src
		}
	}
	setB := func(dst **bool, src *bool) {
		if src != nil {
			*dst = src
		}
	}
	set(&p.TP, o.TP)
	set(&p.PP, o.PP)
	set(&p.CP, o.CP)
	set(&p.DP, o.DP)
	set(&p.MicroBatch, o.MicroBatch)
	set(&p.VirtualStages, o.VirtualStages)
	setB(&p.SequenceParallel, o.SequenceParallel)
	if o.Recompute != nil {
		p.Recompute = o.Recompute
	}
	set(&p.ZeRO, o.ZeRO)
	setB(&p.TPCommOverlap, o.TPCommOverlap)
	setB(&p.DPCommOverlap, o.DPCommOverlap)
	if o.CPComm != nil {
		p.CPComm = o.CPComm
	}
	setB(&p.RecomputeElementwise, o.RecomputeElementwise)
	set(&p.EP, o.EP)
	set(&p.ETP, o.ETP)
	set(&p.OffloadLayers, o.OffloadLayers)
	if o.Schedule != nil {
		p.Schedule = o.Schedule
	}
}

// failures builds the interruption model.
func (d *decoder) failures(f Failures) run.Failures {
	out := run.Failures{
		CheckpointIntervalS: float64(deref(f.CheckpointInterval, 0)),
		RestartS:            float64(deref(f.Restart, DefaultRestartS)),
		StorageBandwidth:    float64(deref(f.StorageTBps, DefaultStorageTBps)) * 1e12,
		AsyncCheckpoint:     deref(f.AsyncCheckpoint, false),
	}
	if f.Lemons != nil {
		l := f.Lemons
		out.Lemons = run.Lemons{Slowdown: float64(deref(l.Slowdown, DefaultSlowNodeFactor)), DetectS: float64(deref(l.Detect, DefaultLemonDetectS))}
		if l.Rate == nil {
			d.errKey("failures.lemons.rate", "required: slow nodes per node per day")
		} else if out.Lemons.RatePerNodeDay = float64(*l.Rate); !(out.Lemons.RatePerNodeDay >= 0) {
			d.errKey("failures.lemons.rate", "%s must be >= 0 (slow nodes per node per day)", formatQuantity(out.Lemons.RatePerNodeDay))
		}
		if !(out.Lemons.Slowdown >= 1) {
			d.errKey("failures.lemons.slowdown", "%s must be >= 1 (1.1 = 10%% slower)", formatQuantity(out.Lemons.Slowdown))
		}
		if !(out.Lemons.DetectS > 0) {
			d.errKey("failures.lemons.detect", "%s must be > 0", formatDuration(out.Lemons.DetectS))
		}
	}
	if v := float64(deref(f.StorageTBps, DefaultStorageTBps)); !(v > 0) {
		d.errKey("failures.storage_tbps", "%s must be > 0 (TB/s; Llama 3: 2)", formatQuantity(v))
	}
	p := deref(f.Profile, Profile{Builtin: DefaultProfile})
	if p.Builtin != "" {
		prof, err := failure.Lookup(p.Builtin)
		if err != nil {
			d.errKey("failures.profile", "%s; or a mapping of cause names to {%s}", oneOf("failure profile", p.Builtin, failure.Names()),
				strings.Join(fieldNames(reflect.TypeFor[Cause]()), ", "))
		}
		out.Profile = prof
		return out
	}
	out.Profile = failure.Profile{Name: "custom", Causes: []failure.Cause{}}
	for _, c := range p.Causes {
		key := "failures.profile." + c.Name
		fc := failure.Cause{Name: c.Name, Planned: deref(c.Planned, false), RecoveryS: float64(deref(c.Recovery, 0))}
		if c.Rate == nil {
			d.errKey(key+".rate", "required: interruptions per unit per day")
		} else if fc.RatePerDay = float64(*c.Rate); !(fc.RatePerDay >= 0) {
			d.errKey(key+".rate", "%s must be >= 0 (interruptions per unit per day)", formatQuantity(fc.RatePerDay))
		}
		if c.Per == "" {
			d.errKey(key+".per", "required: what the rate is counted per (gpu, node, switch or job)")
		} else if u, err := failure.ParseUnit(c.Per); err != nil {
			d.errKey(key+".per", "%s", oneOf("unit", c.Per, []string{"gpu", "node", "switch", "job"}))
		} else {
			fc.Unit = u
		}
		out.Profile.Causes = append(out.Profile.Causes, fc)
	}
	return out
}
