package validation

import (
	"fmt"
	"strings"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

// sc21Launch is how the authors launched one row of Narayanan et al. 2021
// (SC21, arXiv:2104.04473) Table 1: the micro batch size, interleaving and
// data-parallel implementation of their own launch script
// (NVIDIA/Megatron-LM examples/sc21/run_table_1.sh), keyed by the row's
// parameter count in billions. These are recipe settings, not published
// figures: the model shapes, layouts, batches and TFLOPS come from
// published.yaml. Micro batches of 16 for the small models down to 1 for
// the largest. By clustersim's memory model every one of them fits; for
// the three smallest models the authors' 16 is the largest power of two
// that fits and divides the batch per replica; for the 18B they used 8
// where 32 would fit, and with pipelining they chose smaller ones than fit
// (4 where 16 would, for the 39B), trading memory for a smaller pipeline
// bubble as their §3.3 discusses. Interleaved stages of 5, 5, 3 and 1
// layers for the 76B, 145B, 310B and 530B models, PyTorch DDP (which
// overlaps the gradient all-reduce with the backward pass) for the models
// without pipeline parallelism and Megatron's own ("local") DDP, which
// all-reduces after the backward pass, for the others.
type sc21Launch struct {
	mbs, v  int
	overlap bool
}

var sc21Launches = map[float64]sc21Launch{
	1.7: {16, 1, true}, 3.6: {16, 1, true}, 7.5: {16, 1, true}, 18.4: {8, 1, true},
	39.1: {4, 1, false}, 76.1: {2, 3, false}, 145.6: {2, 2, false}, 310.1: {1, 2, false},
	529.6: {1, 3, false}, 1008.0: {1, 1, false},
}

// megatronRow is a Table 1 row with its launch settings.
type megatronRow struct {
	sc21Row
	sc21Launch
}

// megatronRows reads Table 1 from published.yaml and joins the launch
// settings; a row without them is an error.
func megatronRows(p published) ([]megatronRow, error) {
	var out []megatronRow
	for _, r := range p.SC21.Rows {
		l, ok := sc21Launches[r.ParamsB]
		if !ok {
			return nil, fmt.Errorf("validation: %s: megatron_sc21_table1 row %gB has no launch settings", publishedFile, r.ParamsB)
		}
		out = append(out, megatronRow{r, l})
	}
	return out, nil
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
	fmt.Fprintf(&b, "name: megatron-%gb\n", m.ParamsB)
	fmt.Fprintf(&b, "model: {layers: %d, hidden: %d, ffn_hidden: %d, heads: %d, kv_heads: %d, vocab: 51200, mlp: gelu, dropout: true}\n",
		m.Layers, m.Hidden, 4*m.Hidden, m.Heads, m.Heads)
	fmt.Fprintf(&b, "cluster: {gpu: a100-sxm-80g, gpus: %d, gpus_per_node: 8, network: {scale_out_gbps: 200, oversubscription: 1, latency_us: 5}}\n", m.GPUs)
	fmt.Fprintf(&b, "parallelism: {tp: %d, pp: %d, cp: 1, micro_batch: %d, virtual_stages: %d, sequence_parallel: false, recompute: full, zero: 0, dp_comm_overlap: %v}\n",
		m.TP, m.PP, m.mbs, m.v, m.overlap)
	fmt.Fprintf(&b, "training: {seq_len: 2048, global_batch: %d, tokens: 1T, precision: bf16, grad_precision: bf16, grad_accumulation: separate, attention: unfused}\n", m.Batch)
	b.WriteString("failures: {profile: none}\ntrials: 1\n")
	return b.String()
}

func (m megatronRow) spec() (run.Spec, error) {
	s, _, err := scenarios.Load(strings.NewReader(m.yaml()), fmt.Sprintf("megatron-%gb", m.ParamsB))
	return s, err
}
