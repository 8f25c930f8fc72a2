package scenarios

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Scenario is the YAML schema of a scenario file, as written: optional keys
// the file leaves out are nil (or empty) and take their defaults when Load
// builds the run.Spec. Marshal writes it back as YAML.
type Scenario struct {
	Name        string      `yaml:"name,omitempty"` // default: the file's base name
	Description string      `yaml:"description,omitempty"`
	Model       Model       `yaml:"model"` // required
	Cluster     Cluster     `yaml:"cluster"`
	Parallelism Parallelism `yaml:"parallelism,omitempty"`
	Training    Training    `yaml:"training"`
	Stragglers  *Stragglers `yaml:"stragglers,omitempty"`
	Failures    *Failures   `yaml:"failures,omitempty"` // default: no failures
	Energy      *Energy     `yaml:"energy,omitempty"`
	Trials      *int        `yaml:"trials,omitempty"` // default 100, >= 1
	Seed        *uint64     `yaml:"seed,omitempty"`   // default 1
	Phases      []Phase     `yaml:"phases,omitempty"`
	Sweep       Sweep       `yaml:"sweep,omitempty"` // for the sweep command; run and plan use the scenario without it
}

// Model is a built-in architecture (Builtin, written as a plain name) or an
// inline one (the other fields, written as a mapping).
type Model struct {
	Builtin string `yaml:"-"`

	Layers         int    `yaml:"layers"`                    // required
	Hidden         int    `yaml:"hidden"`                    // required
	FFNHidden      int    `yaml:"ffn_hidden,omitempty"`      // default: Megatron-LM's (model.DefaultFFNHidden)
	Heads          int    `yaml:"heads"`                     // required
	KVHeads        *int   `yaml:"kv_heads,omitempty"`        // default: heads
	Vocab          int    `yaml:"vocab,omitempty"`           // default: model.DefaultVocab
	MLP            string `yaml:"mlp,omitempty"`             // swiglu (default) | gelu
	TiedEmbeddings *bool  `yaml:"tied_embeddings,omitempty"` // default false
	Dropout        *bool  `yaml:"dropout,omitempty"`         // default: true for gelu, false for swiglu
	HeadDim        *int   `yaml:"head_dim,omitempty"`        // default hidden/heads
	MoE            *MoE   `yaml:"moe,omitempty"`             // mixture-of-experts blocks; default dense
	MLA            *MLA   `yaml:"mla,omitempty"`             // multi-head latent attention; default MHA/GQA
}

// MoE is a model's mixture-of-experts blocks (model.MoE).
type MoE struct {
	Experts         int  `yaml:"experts"`                     // routed experts per MoE layer, required
	TopK            int  `yaml:"top_k"`                       // experts per token, required
	ExpertFFNHidden int  `yaml:"expert_ffn_hidden"`           // one routed expert's FFN width, required
	SharedExperts   *int `yaml:"shared_experts,omitempty"`    // default 0
	SharedFFNHidden *int `yaml:"shared_ffn_hidden,omitempty"` // default expert_ffn_hidden
	DenseLayers     *int `yaml:"dense_layers,omitempty"`      // leading dense layers, default 0
}

// MLA is multi-head latent attention (model.MLA).
type MLA struct {
	QLoRARank     *int `yaml:"q_lora_rank,omitempty"` // default 0: a full query projection
	KVLoRARank    int  `yaml:"kv_lora_rank"`
	QKNopeHeadDim int  `yaml:"qk_nope_head_dim"`
	QKRopeHeadDim int  `yaml:"qk_rope_head_dim"`
	VHeadDim      int  `yaml:"v_head_dim"`
}

// Cluster is the hardware.
type Cluster struct {
	GPU         string `yaml:"gpu"`                     // required: a cluster.GPUNames name
	GPUs        int    `yaml:"gpus"`                    // required
	GPUsPerNode *int   `yaml:"gpus_per_node,omitempty"` // default: the GPU's GPUsPerNode
	// NVLinkDomain is the number of GPUs sharing one NVLink fabric, a
	// multiple of gpus_per_node; default: the GPU's (72 for gb200 and gb300,
	// NVL72 racks of 4-GPU trays), else one node.
	NVLinkDomain *int     `yaml:"nvlink_domain,omitempty"`
	Network      *Network `yaml:"network,omitempty"`
}

// Network is the scale-out fabric.
type Network struct {
	ScaleOutGbps     *Quantity `yaml:"scale_out_gbps,omitempty"`   // default: the GPU's NICGbps
	NodesPerPod      *int      `yaml:"nodes_per_pod,omitempty"`    // default: every node (of the largest phase)
	Oversubscription *Quantity `yaml:"oversubscription,omitempty"` // default 1
	LatencyUS        *Quantity `yaml:"latency_us,omitempty"`       // default 5
}

// Parallelism is a layout; every key is optional. In a phase it overrides
// only the keys it sets.
type Parallelism struct {
	TP               *int    `yaml:"tp,omitempty"`                // default 1
	PP               *int    `yaml:"pp,omitempty"`                // default 1
	CP               *int    `yaml:"cp,omitempty"`                // default 1
	DP               *int    `yaml:"dp,omitempty"`                // default: gpus / (tp·pp·cp)
	MicroBatch       *int    `yaml:"micro_batch,omitempty"`       // default 1
	VirtualStages    *int    `yaml:"virtual_stages,omitempty"`    // default 1
	SequenceParallel *bool   `yaml:"sequence_parallel,omitempty"` // default: tp > 1
	Recompute        *string `yaml:"recompute,omitempty"`         // auto (default: least that fits) | none | selective | full
	// RecomputeElementwise recomputes norms and the MLP activation in the
	// backward pass instead of storing their outputs (no product is
	// recomputed).
	RecomputeElementwise *bool `yaml:"recompute_elementwise,omitempty"` // default false
	ZeRO                 *int  `yaml:"zero,omitempty"`                  // default 1
	TPCommOverlap        *bool `yaml:"tp_comm_overlap,omitempty"`       // default false
	// CPComm is how context-parallel ranks exchange keys and values.
	CPComm        *string `yaml:"cp_comm,omitempty"`         // all-gather (default, Llama 3) | p2p (a ring overlapped with attention, Megatron-Core)
	DPCommOverlap *bool   `yaml:"dp_comm_overlap,omitempty"` // default true
	EP            *int    `yaml:"ep,omitempty"`              // expert parallelism, default 1; folds into tp·cp·dp
	ETP           *int    `yaml:"etp,omitempty"`             // expert tensor parallelism, default 1
	// Schedule is the pipeline schedule: 1f1b (default; interleaved when
	// virtual_stages > 1) | interleaved | zb-h1 | dualpipe.
	Schedule *string `yaml:"schedule,omitempty"`
	// OffloadLayers is how many of the model's first layers keep their
	// activations in host memory between the forward and the backward pass
	// (Megatron-Core's cpu_offloading_num_layers; pp 1, no recomputation).
	OffloadLayers *int `yaml:"offload_layers,omitempty"` // default 0
}

// Training is what the run consumes.
type Training struct {
	SeqLen            int       `yaml:"seq_len"`                       // required
	GlobalBatch       *int      `yaml:"global_batch,omitempty"`        // sequences per step; this
	GlobalBatchTokens *int      `yaml:"global_batch_tokens,omitempty"` // or tokens per step is required
	Tokens            *Quantity `yaml:"tokens,omitempty"`              // default: the phases' sum, else 20 per active parameter
	Precision         string    `yaml:"precision,omitempty"`           // bf16 (default) | fp8 | mxfp8 | nvfp4
	GradPrecision     string    `yaml:"grad_precision,omitempty"`      // fp32 (default) | bf16
	FP8Params         *bool     `yaml:"fp8_params,omitempty"`          // default true when precision is fp8
	GradAccumulation  string    `yaml:"grad_accumulation,omitempty"`   // separate (default) | fused
	Attention         string    `yaml:"attention,omitempty"`           // flash (default, cuDNN) | flash2 (FlashAttention-2) | unfused
	// HostOverheadUS is the framework's CPU time per kernel or collective
	// launched, microseconds.
	HostOverheadUS *Quantity `yaml:"host_overhead_us,omitempty"` // default model.DefaultHostOverheadS
	FP8Scaling     string    `yaml:"fp8_scaling,omitempty"`      // delayed (default) | current; precision fp8 only
	// CapacityFactor caps each expert's tokens at this multiple of the
	// balanced share, dropping the rest; absent (null) is dropless.
	CapacityFactor *Quantity `yaml:"capacity_factor,omitempty"`
	// RouterConcentration is the Dirichlet concentration of the experts'
	// shares of the tokens (seeded): smaller spreads the load more; absent
	// or 0 is perfectly balanced routing.
	RouterConcentration *Quantity `yaml:"router_concentration,omitempty"`
	// MTPLayers is the depth of multi-token prediction trained alongside
	// the model (DeepSeek-V3 §2.2; Megatron-Core's mtp_num_layers).
	MTPLayers *int `yaml:"mtp_layers,omitempty"` // default 0
	// MoEDispatcher is how the expert-parallel all-to-alls move tokens.
	MoEDispatcher string `yaml:"moe_dispatcher,omitempty"` // alltoall (default) | deepep
	// GroupedGEMM is how the experts' grouped products run.
	GroupedGEMM string `yaml:"grouped_gemm,omitempty"` // single-launch (default) | multi-stream
	// MoEHostSync reads each MoE layer's token counts on the host.
	MoEHostSync *bool `yaml:"moe_host_sync,omitempty"` // default false (sync-free)
}

// Stragglers is the noise model (step.Noise) and the number of noisy steps
// simulated.
type Stragglers struct {
	CV               *Quantity `yaml:"cv,omitempty"`                 // default step.DefaultCV (0.0033)
	GPUCV            *Quantity `yaml:"gpu_cv,omitempty"`             // default step.DefaultGPUCV (0.02)
	SlowNodeFraction *Quantity `yaml:"slow_node_fraction,omitempty"` // default 0
	SlowNodeFactor   *Quantity `yaml:"slow_node_factor,omitempty"`   // default 1.1
	Samples          *int      `yaml:"samples,omitempty"`            // default 1
}

// Failures is the interruption model.
type Failures struct {
	Profile            *Profile  `yaml:"profile,omitempty"`             // default none
	CheckpointInterval *Interval `yaml:"checkpoint_interval,omitempty"` // default auto
	Restart            *Duration `yaml:"restart,omitempty"`             // default 15m
	StorageTBps        *Quantity `yaml:"storage_tbps,omitempty"`        // default 2 (TB/s)
	AsyncCheckpoint    *bool     `yaml:"async_checkpoint,omitempty"`    // default false
	Lemons             *Lemons   `yaml:"lemons,omitempty"`              // default none
}

// Lemons are slow nodes that do not fail: they slow the whole job until
// found and replaced.
type Lemons struct {
	Rate     *Quantity `yaml:"rate"`               // per node per day
	Slowdown *Quantity `yaml:"slowdown,omitempty"` // step-time factor, default 1.1
	Detect   *Duration `yaml:"detect,omitempty"`   // time to find and drain one, default 1h
}

// Profile is a built-in failure profile (Builtin, a plain name) or a
// custom one (Causes, a mapping of cause names to rates).
type Profile struct {
	Builtin string
	Causes  []Cause
}

// Cause is one cause of a custom failure profile.
type Cause struct {
	Name     string    `yaml:"-"`
	Rate     *Quantity `yaml:"rate"` // interruptions per unit per day
	Per      string    `yaml:"per"`  // gpu | node | switch | job
	Planned  *bool     `yaml:"planned,omitempty"`
	Recovery *Duration `yaml:"recovery,omitempty"`
}

// Energy is the optional energy and cost model.
type Energy struct {
	PUE             *Quantity `yaml:"pue,omitempty"`                // default 1.1; 0 turns energy off
	HostWattsPerGPU *Quantity `yaml:"host_watts_per_gpu,omitempty"` // default 0
	PricePerGPUHour *Quantity `yaml:"price_per_gpu_hour,omitempty"` // default 0
	// Currency names the price's unit (an ISO 4217 code such as USD or
	// EUR); no default: a cost without it says "(currency not set)".
	Currency *string `yaml:"currency,omitempty"`
}

// Phase is a part of the run; keys left out inherit the top level's.
type Phase struct {
	Name              string       `yaml:"name,omitempty"`                // default "phase N"
	Tokens            *Quantity    `yaml:"tokens,omitempty"`              // required
	SeqLen            *int         `yaml:"seq_len,omitempty"`             // default training.seq_len
	GlobalBatch       *int         `yaml:"global_batch,omitempty"`        // default: the top level's batch, in
	GlobalBatchTokens *int         `yaml:"global_batch_tokens,omitempty"` // sequences or tokens as it was given
	GPUs              *int         `yaml:"gpus,omitempty"`                // default cluster.gpus
	Parallelism       *Parallelism `yaml:"parallelism,omitempty"`         // overrides the keys it sets; dp defaults to gpus/(tp·pp·cp)
}

// Marshal writes s as canonical YAML (two-space indents, keys in schema
// order, numbers in their shortest exact form), which Load reads back to
// the same run.Spec.
func Marshal(s *Scenario) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("scenarios: marshal: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("scenarios: marshal: %w", err)
	}
	return buf.Bytes(), nil
}

func plainScalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: s}
}

// MarshalYAML writes the quantity in its shortest exact form, e.g. 15.6T.
func (q Quantity) MarshalYAML() (any, error) {
	return plainScalar(formatQuantity(float64(q))), nil
}

// MarshalYAML writes the duration in its largest exact unit, e.g. 15m.
func (d Duration) MarshalYAML() (any, error) {
	return plainScalar(formatDuration(float64(d))), nil
}

// MarshalYAML writes "auto" for 0, else the duration.
func (i Interval) MarshalYAML() (any, error) {
	if i == 0 {
		return plainScalar("auto"), nil
	}
	return Duration(i).MarshalYAML()
}

// inlineModel is Model without its MarshalYAML.
type inlineModel Model

// MarshalYAML writes a built-in model as its name, an inline one as a
// mapping.
func (m Model) MarshalYAML() (any, error) {
	if m.Builtin != "" {
		return m.Builtin, nil
	}
	return inlineModel(m), nil
}

// MarshalYAML writes a built-in profile as its name, a custom one as a
// mapping of cause names to their parameters.
func (p Profile) MarshalYAML() (any, error) {
	if p.Builtin != "" {
		return p.Builtin, nil
	}
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range p.Causes {
		var v yaml.Node
		if err := v.Encode(c); err != nil {
			return nil, err
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: c.Name}
		n.Content = append(n.Content, k, &v)
	}
	return n, nil
}
