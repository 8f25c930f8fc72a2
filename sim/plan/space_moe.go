package plan

import "github.com/clustersim/clustersim/sim/model"

// epCandidates are the expert-parallel sizes searched for a MoE model: the
// powers of two that divide its experts, up to maxEP (check drops those
// that do not divide a stage's tp·cp·dp ranks); 0 (none) for a dense model.
func epCandidates(a model.Arch) []int {
	if !a.IsMoE() {
		return []int{0}
	}
	var out []int
	for ep := 1; ep <= min(a.MoE.Experts, maxEP); ep *= 2 {
		if a.MoE.Experts%ep == 0 {
			out = append(out, ep)
		}
	}
	return out
}

// maxEP bounds the expert-parallel search: 256, DeepSeek-V3's expert count
// and four NVL72 racks' worth of all-to-all peers; larger groups only add
// network tiers to every layer's all-to-alls (an assumption, to keep the
// space small).
const maxEP = 256

// scheduleCandidates are the pipeline schedules searched: 1F1B (interleaved
// with virtual stages), and with one chunk per stage of a real pipeline
// ZB-H1 and, on an even number of stages, DualPipe.
func scheduleCandidates(pp, v int) []model.PipeSchedule {
	if pp == 1 || v > 1 {
		return []model.PipeSchedule{model.Sched1F1B}
	}
	if pp%2 == 0 {
		return []model.PipeSchedule{model.Sched1F1B, model.SchedZBH1, model.SchedDualPipe}
	}
	return []model.PipeSchedule{model.Sched1F1B, model.SchedZBH1}
}

// ppCandidatesFor is ppCandidates, and for a MoE model (whose recipes give
// Megatron-Core an explicit, uneven pipeline layout; see
// model.Layout.ChunkLayers) also the powers of two up to the layers that
// divide the GPUs.
func ppCandidatesFor(a model.Arch, gpus int) []int {
	out := ppCandidates(a.Layers)
	if !a.IsMoE() {
		return out
	}
	seen := map[int]bool{}
	for _, p := range out {
		seen[p] = true
	}
	for p := 2; p <= a.Layers+2; p *= 2 {
		if gpus%p == 0 && !seen[p] {
			out = append(out, p)
		}
	}
	return out
}

// scheduleName is the schedule's name for the JSON output, "" for 1F1B
// (and its interleaved form), which the virtual stages already say.
func scheduleName(s model.PipeSchedule) string {
	if s == model.Sched1F1B || s == model.SchedInterleaved {
		return ""
	}
	return s.String()
}
