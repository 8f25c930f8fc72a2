package validation

import (
	"fmt"
	"strings"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

// megatronRow is one row of Narayanan et al. 2021 (SC21, arXiv:2104.04473)
// Table 1, with the micro batch size, interleaving and data-parallel
// implementation of the authors' own launch script (NVIDIA/Megatron-LM
// examples/sc21/run_table_1.sh): micro batches of 16 for the small models
// down to 1 for the largest. By clustersim's memory model every one of them
// fits; for the three smallest models the authors' 16 is the largest power
// of two that fits and divides the batch per replica; for the 18B they used
// 8 where 32 would fit, and with pipelining they chose smaller ones than fit
// (4 where 16 would, for the 39B), trading memory for a smaller pipeline
// bubble as their §3.3 discusses. Interleaved stages of 5, 5, 3
// and 1 layers for the 76B, 145B, 310B and 530B models, PyTorch DDP (which
// overlaps the gradient all-reduce with the backward pass) for the models
// without pipeline parallelism and Megatron's own ("local") DDP, which
// all-reduces after the backward pass, for the others.
type megatronRow struct {
	paramsB                  float64
	heads, hidden, layers    int
	tp, pp, gpus, batch, mbs int
	v                        int
	overlap                  bool
	tflops                   float64 // published, per GPU, counting recomputation
}

var megatronRows = []megatronRow{
	{1.7, 24, 2304, 24, 1, 1, 32, 512, 16, 1, true, 137},
	{3.6, 32, 3072, 30, 2, 1, 64, 512, 16, 1, true, 138},
	{7.5, 32, 4096, 36, 4, 1, 128, 512, 16, 1, true, 142},
	{18.4, 48, 6144, 40, 8, 1, 256, 1024, 8, 1, true, 135},
	{39.1, 64, 8192, 48, 8, 2, 512, 1536, 4, 1, false, 138},
	{76.1, 80, 10240, 60, 8, 4, 1024, 1792, 2, 3, false, 140},
	{145.6, 96, 12288, 80, 8, 8, 1536, 2304, 2, 2, false, 148},
	{310.1, 128, 16384, 96, 8, 16, 1920, 2160, 1, 2, false, 155},
	{529.6, 128, 20480, 105, 8, 35, 2520, 2520, 1, 3, false, 163},
	{1008.0, 160, 25600, 128, 8, 64, 3072, 3072, 1, 1, false, 163},
}

// yaml is the row as a scenario. The setting is Selene's (the paper §5):
// DGX A100 80GB nodes, eight 200 Gb/s HDR InfiniBand NICs per node in a
// full fat tree; GPT models with a 51,200 vocabulary, sequence 2,048, GELU
// with ffn = 4·hidden, dropout, fp16 mixed precision with fp16 gradients
// all-reduced and accumulated over micro batches by a separate kernel (the
// DDP hooks' main_grad.add_; the fused accumulation came later), no
// distributed optimizer (ZeRO 0), full activation
// recomputation ("--recompute-method uniform"), no sequence parallelism
// (it came in 2022) and the unfused attention of the time.
func (m megatronRow) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: megatron-%gb\n", m.paramsB)
	fmt.Fprintf(&b, "model: {layers: %d, hidden: %d, ffn_hidden: %d, heads: %d, kv_heads: %d, vocab: 51200, mlp: gelu, dropout: true}\n",
		m.layers, m.hidden, 4*m.hidden, m.heads, m.heads)
	fmt.Fprintf(&b, "cluster: {gpu: a100-sxm-80g, gpus: %d, gpus_per_node: 8, network: {scale_out_gbps: 200, oversubscription: 1, latency_us: 5}}\n", m.gpus)
	fmt.Fprintf(&b, "parallelism: {tp: %d, pp: %d, cp: 1, micro_batch: %d, virtual_stages: %d, sequence_parallel: false, recompute: full, zero: 0, dp_comm_overlap: %v}\n",
		m.tp, m.pp, m.mbs, m.v, m.overlap)
	fmt.Fprintf(&b, "training: {seq_len: 2048, global_batch: %d, tokens: 1T, precision: bf16, grad_precision: bf16, grad_accumulation: separate, attention: unfused}\n", m.batch)
	b.WriteString("failures: {profile: none}\ntrials: 1\n")
	return b.String()
}

func (m megatronRow) spec() (run.Spec, error) {
	s, _, err := scenarios.Load(strings.NewReader(m.yaml()), fmt.Sprintf("megatron-%gb", m.paramsB))
	return s, err
}
