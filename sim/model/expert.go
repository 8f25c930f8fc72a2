package model

import (
	"errors"
	"fmt"
	"strings"
)

// EPSize is the expert-parallel size, EP or 1.
func (l Layout) EPSize() int { return max(l.EP, 1) }

// ETPSize is the expert-tensor-parallel size, ETP or 1.
func (l Layout) ETPSize() int { return max(l.ETP, 1) }

// ExpertDP is the expert-data-parallel size: the ranks that hold the same
// experts, tp·cp·dp/(ep·etp), as Megatron-Core folds expert parallelism into
// the ranks of a pipeline stage (megatron/core/parallel_state.py,
// RankGenerator for the expert groups: expert_tensor_parallel_size ×
// expert_model_parallel_size × expert_data_parallel_size = tp·cp·dp).
// The experts' gradients are reduced, and their optimizer state sharded,
// over it.
func (l Layout) ExpertDP() int {
	return max(l.TP*l.CP*l.DP/(l.EPSize()*l.ETPSize()), 1)
}

func (l Layout) validateExperts(a Arch) error {
	var errs []error
	switch l.PipeSchedule {
	case SchedZBH1, SchedDualPipe:
		if l.VirtualStages > 1 {
			errs = append(errs, &FieldError{"parallelism.schedule", l.PipeSchedule, "runs one chunk per stage: use virtual_stages: 1"})
		}
	case Sched1F1B, SchedInterleaved:
	default:
		errs = append(errs, &FieldError{"parallelism.schedule", l.PipeSchedule, "must be 1f1b, interleaved, zb-h1 or dualpipe"})
	}
	if l.PipeSchedule == SchedDualPipe {
		if l.PP%2 != 0 {
			errs = append(errs, &FieldError{"parallelism.pp", l.PP, "must be even for dualpipe (micro batches enter from both ends)"})
		}
	}
	ep, etp := l.EPSize(), l.ETPSize()
	if l.EP < 0 || l.ETP < 0 {
		return &FieldError{"parallelism.ep", l.EP, "ep and etp must be >= 1"}
	}
	if !a.IsMoE() {
		if ep > 1 || etp > 1 {
			errs = append(errs, &FieldError{"parallelism.ep", ep, "needs a mixture-of-experts model (model.moe); use ep: 1 and etp: 1"})
		}
		return errors.Join(errs...)
	}
	if a.MoE.Experts%ep != 0 {
		errs = append(errs, &FieldError{"parallelism.ep", ep, fmt.Sprintf("must divide the model's %d experts (valid: %s)", a.MoE.Experts, divisors(a.MoE.Experts))})
	}
	if a.MoE.ExpertFFN%etp != 0 {
		errs = append(errs, &FieldError{"parallelism.etp", etp, fmt.Sprintf("must divide the expert FFN width %d", a.MoE.ExpertFFN)})
	}
	if n := l.TP * l.CP * l.DP; n%(ep*etp) != 0 {
		errs = append(errs, &FieldError{"parallelism.ep", ep, fmt.Sprintf("ep·etp = %d·%d must divide tp·cp·dp = %d (the ranks of a pipeline stage, which expert parallelism folds into)", ep, etp, n)})
	}
	return errors.Join(errs...)
}

// PipeSchedule is a pipeline schedule.
type PipeSchedule int

const (
	// Sched1F1B is Megatron-LM's one-forward-one-backward schedule
	// (PipeDream-flush), interleaved over virtual stages when there are any.
	Sched1F1B PipeSchedule = iota
	// SchedInterleaved is 1F1B over virtual stages (Narayanan et al. 2021);
	// the same as Sched1F1B with virtual_stages > 1.
	SchedInterleaved
	// SchedZBH1 is the zero-bubble schedule ZB-H1 of Qi et al. 2023
	// ("Zero Bubble Pipeline Parallelism", arXiv:2401.10241 §3.1): the
	// backward pass split into the input gradient (B) and the weight
	// gradient (W), and W passes delayed to fill the bubble, at 1F1B's
	// peak memory. See ScheduleZBH1.
	SchedZBH1
	// SchedDualPipe is DeepSeek's bidirectional DualPipe (arXiv:2412.19437
	// §3.2.1). See ScheduleDualPipe.
	SchedDualPipe
)

var pipeScheduleNames = [...]string{Sched1F1B: "1f1b", SchedInterleaved: "interleaved", SchedZBH1: "zb-h1", SchedDualPipe: "dualpipe"}

func (s PipeSchedule) String() string {
	if s >= 0 && int(s) < len(pipeScheduleNames) {
		return pipeScheduleNames[s]
	}
	return fmt.Sprintf("PipeSchedule(%d)", int(s))
}

// PipeScheduleNames lists the schedules' names.
func PipeScheduleNames() []string { return append([]string(nil), pipeScheduleNames[:]...) }

// ParsePipeSchedule parses "1f1b", "interleaved", "zb-h1" or "dualpipe".
func ParsePipeSchedule(s string) (PipeSchedule, error) {
	for i, n := range pipeScheduleNames {
		if s == n {
			return PipeSchedule(i), nil
		}
	}
	return 0, fmt.Errorf("unknown schedule %q (valid: %s)", s, strings.Join(pipeScheduleNames[:], ", "))
}

// unevenChunks spreads layers+2+extraLast slots (the embedding and the
// loss take one each, in the first and the last chunk, and extraLast more
// are the last chunk's: multi-token prediction) over k chunks, the first
// (layers+2+extraLast) mod k chunks taking one more.
func unevenChunks(layers, k, extraLast int) []int {
	out := make([]int, k)
	slots := layers + 2 + extraLast
	base, rem := slots/k, slots%k
	for j := range out {
		out[j] = base
		if j < rem {
			out[j]++
		}
	}
	out[0]--
	out[k-1] -= 1 + extraLast
	for j := k - 1; out[j] < 0 && j > 0; j-- { // too few slots for the last chunk's extras: move its deficit forward
		out[j-1] += out[j]
		out[j] = 0
	}
	return out
}
