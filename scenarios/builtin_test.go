package scenarios

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/clustersim/clustersim/cluster"
	"github.com/clustersim/clustersim/cluster/failure"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/step"
)

func TestNames(t *testing.T) {
	want := []string{"deepseek-v3", "gpt3-175b", "llama3-405b", "llama3-405b-128k", "llama3-405b-8k", "llama3-405b-pretrain", "llama3-70b", "llama3-8b"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

// llama3Network is the Llama 3 cluster fabric (arXiv:2407.21783 §3.3.1):
// 400 Gb/s RoCE per GPU, 3,072-GPU (384-node) full-bisection pods, 1:7
// oversubscribed above them; the 5 µs latency is the scenarios' assumption.
var llama3Network = cluster.Network{ScaleOutGbps: 400, NodesPerPod: 384, Oversubscription: 7, LatencyS: 5e-6}

func TestBuiltins(t *testing.T) {
	llama3, err := failure.Lookup("llama3")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		gpu      string
		gpus     int
		network  cluster.Network
		layout   model.Layout
		training model.Training
		profile  failure.Profile
	}{
		{
			// arXiv:2407.21783 Table 4, row 2: 16,384 GPUs, TP 8, CP 1, PP 16,
			// DP 128, 16M tokens per batch of 8,192-token sequences; §3.1:
			// 15.6T tokens; §3.3.2: optimizer state sharded, fp32 gradients
			// accumulated and reduce-scattered once per step, no activation
			// checkpointing (element-wise outputs recomputed).
			name: "llama3-405b", gpu: "h100-sxm", gpus: 16384, network: llama3Network,
			layout: model.Layout{TP: 8, PP: 16, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 8,
				SequenceParallel: true, Recompute: model.RecomputeNone, RecomputeElementwise: true, ZeRO: 1, TPOverlap: false, DPOverlap: true},
			training: model.Training{SeqLen: 8192, GlobalBatch: 2048, Tokens: 15.6e12, Precision: cluster.BF16, GradBytes: 4, Attention: model.Flash, HostOverheadS: model.DefaultHostOverheadS},
			profile:  llama3,
		},
		{
			// Table 4, row 1: 8,192 GPUs, DP 64.
			name: "llama3-405b-8k", gpu: "h100-sxm", gpus: 8192, network: llama3Network,
			layout: model.Layout{TP: 8, PP: 16, CP: 1, DP: 64, MicroBatch: 1, VirtualStages: 8,
				SequenceParallel: true, RecomputeElementwise: true, ZeRO: 1, DPOverlap: true},
			training: model.Training{SeqLen: 8192, GlobalBatch: 2048, Tokens: 15.6e12, GradBytes: 4, HostOverheadS: model.DefaultHostOverheadS},
			profile:  llama3,
		},
		{
			// Table 4, row 3: CP 16, DP 8, 131,072-token sequences, 16M tokens
			// per batch (128 sequences).
			name: "llama3-405b-128k", gpu: "h100-sxm", gpus: 16384, network: llama3Network,
			layout: model.Layout{TP: 8, PP: 16, CP: 16, DP: 8, MicroBatch: 1, VirtualStages: 8,
				SequenceParallel: true, RecomputeElementwise: true, ZeRO: 1, DPOverlap: true},
			training: model.Training{SeqLen: 131072, GlobalBatch: 128, Tokens: 15.6e12, GradBytes: 4, HostOverheadS: model.DefaultHostOverheadS},
			profile:  llama3,
		},
		{
			// The scenario's assumed layout (Meta published none); 15T tokens
			// from the Llama 3 model card.
			name: "llama3-70b", gpu: "h100-sxm", gpus: 4096, network: llama3Network,
			layout: model.Layout{TP: 8, PP: 4, CP: 1, DP: 128, MicroBatch: 1, VirtualStages: 5,
				SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			training: model.Training{SeqLen: 8192, GlobalBatch: 2048, Tokens: 15e12, GradBytes: 4, HostOverheadS: model.DefaultHostOverheadS},
			profile:  llama3,
		},
		{
			// The scenario's assumed layout: TP 2 with sequence parallelism,
			// data parallelism over the rest, 8M-token batch.
			name: "llama3-8b", gpu: "h100-sxm", gpus: 1024, network: llama3Network,
			layout: model.Layout{TP: 2, PP: 1, CP: 1, DP: 512, MicroBatch: 1, VirtualStages: 1,
				SequenceParallel: true, ZeRO: 1, DPOverlap: true},
			training: model.Training{SeqLen: 8192, GlobalBatch: 1024, Tokens: 15e12, GradBytes: 4, HostOverheadS: model.DefaultHostOverheadS},
			profile:  llama3,
		},
		{
			// Megatron-LM examples/pretrain_gpt3_175B.sh: 128 nodes, TP 8, PP 16,
			// micro batch 1, global batch 1,536, sequence 2,048; 146,484,375
			// samples × 2,048 = 300B tokens (Brown et al. 2020). DGX A100:
			// 8 × 200 Gb/s HDR, one per GPU.
			name: "gpt3-175b", gpu: "a100-sxm-80g", gpus: 1024,
			network: cluster.Network{ScaleOutGbps: 200, NodesPerPod: 128, Oversubscription: 1, LatencyS: 5e-6},
			layout: model.Layout{TP: 8, PP: 16, CP: 1, DP: 8, MicroBatch: 1, VirtualStages: 1,
				SequenceParallel: true, Recompute: model.RecomputeSelective, ZeRO: 1, DPOverlap: true},
			training: model.Training{SeqLen: 2048, GlobalBatch: 1536, Tokens: 300e9, GradBytes: 4, HostOverheadS: model.DefaultHostOverheadS},
			profile:  failure.Profile{Name: "none"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, sc, err := Builtin(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if sc == nil || sc.Name != tt.name || spec.Name != tt.name || spec.Description == "" {
				t.Errorf("name %q (scenario %v), description %q", spec.Name, sc, spec.Description)
			}
			arch, err := model.LookupArch(sc.Model.Builtin)
			if err != nil {
				t.Fatal(err)
			}
			st := spec.Step
			if !reflect.DeepEqual(st.Arch, arch) {
				t.Errorf("arch = %+v, want %+v", st.Arch, arch)
			}
			if st.Cluster.GPU.Name != tt.gpu || st.Cluster.GPUs != tt.gpus || st.Cluster.GPUsPerNode != 8 {
				t.Errorf("cluster = %s × %d, %d per node; want %s × %d, 8 per node", st.Cluster.GPU.Name, st.Cluster.GPUs, st.Cluster.GPUsPerNode, tt.gpu, tt.gpus)
			}
			if st.Cluster.Network != tt.network {
				t.Errorf("network = %+v, want %+v", st.Cluster.Network, tt.network)
			}
			if st.Layout != tt.layout {
				t.Errorf("layout = %+v, want %+v", st.Layout, tt.layout)
			}
			if st.Training != tt.training {
				t.Errorf("training = %+v, want %+v", st.Training, tt.training)
			}
			if !reflect.DeepEqual(spec.Failures.Profile, tt.profile) {
				t.Errorf("profile = %+v, want %+v", spec.Failures.Profile, tt.profile)
			}
			// Defaults and the shared failure settings: auto interval, 15 min
			// restart, 2 TB/s storage (Llama 3 §3.3.4).
			restart := 900.0 // the default, 15 minutes
			if strings.HasPrefix(tt.name, "llama3-405b") {
				restart = 600 // the Table 4 scenarios assume 10 minutes
			}
			if f := spec.Failures; f.CheckpointIntervalS != 0 || f.RestartS != restart || f.StorageBandwidth != 2e12 || f.AsyncCheckpoint {
				t.Errorf("failures = %+v", f)
			}
			if st.Noise != (step.Noise{CV: step.DefaultCV, GPUCV: step.DefaultGPUCV, SlowNodeFactor: 1.1}) || st.Samples != 1 {
				t.Errorf("noise = %+v, samples %d", st.Noise, st.Samples)
			}
			if spec.Trials != 100 || spec.Seed != 1 || st.Seed != 1 {
				t.Errorf("trials %d, seed %d (step %d); want 100, 1", spec.Trials, spec.Seed, st.Seed)
			}
			if spec.Energy.PUE != 1.1 || spec.Energy.HostWattsPerGPU != 0 || spec.Energy.PricePerGPUHour != 0 {
				t.Errorf("energy = %+v", spec.Energy)
			}
			if len(spec.Phases) != 0 {
				t.Errorf("phases = %v, want none", spec.Phases)
			}
			if err := st.Validate(); err != nil {
				t.Errorf("step.Spec.Validate: %v", err)
			}
			raw, err := BuiltinYAML(tt.name)
			if err != nil || !bytes.HasPrefix(raw, []byte("# ")) {
				t.Errorf("BuiltinYAML: %v, starts %.20q; want a commented file", err, raw)
			}
		})
	}
}

// TestLlama3BatchTokens checks the three Table 4 rows' 16M-token batches
// (arXiv:2407.21783 Table 4: 16M tokens per batch; 2^24 = 16,777,216).
func TestLlama3BatchTokens(t *testing.T) {
	for _, name := range []string{"llama3-405b-8k", "llama3-405b", "llama3-405b-128k"} {
		spec, _, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := spec.Step.Training.BatchTokens(); got != 1<<24 {
			t.Errorf("%s: %v tokens per batch, want 2^24", name, got)
		}
		// Table 4's "batch per DP": 32 sequences at 8K GPUs, 16 otherwise.
		l, tr := spec.Step.Layout, spec.Step.Training
		want := 16
		if l.DP == 64 {
			want = 32
		}
		if got := tr.GlobalBatch / l.DP; got != want {
			t.Errorf("%s: %d sequences per DP rank, want %d", name, got, want)
		}
	}
}

func TestBuiltinUnknown(t *testing.T) {
	_, _, err := Builtin("llama3-405")
	var e *Error
	if !asError(err, &e) || e.File != "" {
		t.Fatalf("err = %v, want an *Error", err)
	}
	if want := `did you mean "llama3-405b"?`; !bytes.Contains([]byte(e.Msg), []byte(want)) {
		t.Errorf("msg %q lacks %q", e.Msg, want)
	}
	if _, err := BuiltinYAML("nope"); !asError(err, &e) {
		t.Errorf("BuiltinYAML(nope) = %v, want an *Error", err)
	}
}

// TestDeepSeekV3Fits: DeepSeek-V3 trained without tensor parallelism, PP16,
// EP64, ZeRO-1, recomputing only RMSNorm and the MLA up-projections
// (arXiv:2412.19437 §3.2, §3.2.3), on H800s of 80 GB: the built-in runs
// that recipe and its memory account must fit.
func TestDeepSeekV3Fits(t *testing.T) {
	spec, _, err := Builtin("deepseek-v3")
	if err != nil {
		t.Fatal(err)
	}
	s := spec.Step
	if s.Layout.Recompute != model.RecomputeSelective || !s.Layout.RecomputeElementwise || s.Layout.TP != 1 || s.Layout.PP != 16 || s.Layout.EP != 64 {
		t.Fatalf("layout %+v, want DeepSeek's recipe (tp 1, pp 16, ep 64, selective + element-wise recomputation)", s.Layout)
	}
	mem, _, err := step.CheckFit(s.Arch, s.Layout, s.Training, s.Cluster.GPU)
	if err != nil {
		t.Fatal(err)
	}
	for r, m := range mem {
		if m.Total() > 80*(1<<30) {
			t.Errorf("stage %d needs %.1f GiB, more than the H800's 80", r, m.Total()/(1<<30))
		}
	}
}
