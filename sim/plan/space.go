package plan

import "github.com/clustersim/clustersim/sim/model"

// recomputeMode is one activation-recomputation setting.
type recomputeMode struct {
	r  model.Recompute
	ew bool
}

// enumerate calls fn with every layout of the search space (see the
// package doc) in a fixed order, with the reason it is rejected before any
// memory check, or "" when it divides. It stops at fn's first error.
func enumerate(a model.Arch, t model.Training, gpus, perNode, domain int, dpOverlap bool, opt Options, fn func(model.Layout, string) error) error {
	modes := []recomputeMode{{model.RecomputeNone, false}, {model.RecomputeNone, true}}
	if t.Attention == model.Unfused {
		modes = append(modes, recomputeMode{model.RecomputeSelective, false}, recomputeMode{model.RecomputeSelective, true})
	}
	modes = append(modes, recomputeMode{model.RecomputeFull, false})
	maxCP := opt.MaxCP
	if maxCP <= 0 {
		maxCP = 1
		for 2*maxCP*minCPTokens <= t.SeqLen {
			maxCP *= 2
		}
	}
	for _, tp := range tpCandidates(a, gpus, perNode, domain, opt.AllowCrossNodeTP) {
		for _, pp := range ppCandidatesFor(a, gpus) {
			for cp := 1; cp <= maxCP; cp *= 2 {
				for _, v := range virtualCandidates(a.Layers, pp) {
					for _, mb := range opt.MicroBatches {
						for _, md := range modes {
							for zero := 0; zero <= 3; zero++ {
								for _, ovl := range []bool{false, true} {
									if ovl && tp == 1 {
										continue // nothing to overlap
									}
									for _, ep := range epCandidates(a) {
										for _, sc := range scheduleCandidates(pp, v) {
											l := model.Layout{TP: tp, PP: pp, CP: cp, DP: 1, MicroBatch: mb, VirtualStages: v,
												SequenceParallel: tp > 1, Recompute: md.r, RecomputeElementwise: md.ew,
												ZeRO: zero, TPOverlap: ovl, DPOverlap: dpOverlap, EP: ep, PipeSchedule: sc}
											if err := fn(l, check(&l, a, t, gpus)); err != nil {
												return err
											}
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return nil
}

// check sets l.DP and returns why l is rejected, or "".
func check(l *model.Layout, a model.Arch, t model.Training, gpus int) string {
	switch mp := l.TP * l.PP * l.CP; {
	case a.Heads%l.TP != 0:
		return ReasonHeads
	case gpus%mp != 0:
		return ReasonGPUs
	default:
		l.DP = gpus / mp
	}
	switch per := l.DP * l.MicroBatch; {
	case t.SeqLen%(2*l.CP) != 0 && l.CP > 1:
		return ReasonSequence
	case t.GlobalBatch%per != 0:
		return ReasonBatch
	}
	m := l.MicroBatches(t)
	if l.VirtualStages > 1 && m%l.PP != 0 {
		return ReasonInterleave
	}
	if (l.TP*l.CP*l.DP)%(l.EPSize()*l.ETPSize()) != 0 {
		return ReasonExperts
	}
	if l.PipeSchedule == model.SchedDualPipe && (m%2 != 0 || m < 2*l.PP) {
		return ReasonDualPipe
	}
	if ops := float64(m) * float64(l.VirtualStages); ops*float64(l.PP) > maxPipelineOps {
		return ReasonSize
	}
	return ""
}

// tpCandidates are the divisors of the NVLink domain up to the larger of
// the GPUs per node and maxDomainTP (so tp never leaves the domain, and on
// a 72-GPU NVL72 rack of 4-GPU nodes tp goes up to 8), or with cross-node
// tensor parallelism the divisors of the GPU count up to the heads.
func tpCandidates(a model.Arch, gpus, perNode, domain int, crossNode bool) []int {
	if crossNode {
		return divisorsUpTo(gpus, a.Heads)
	}
	return divisorsUpTo(max(domain, perNode), max(perNode, maxDomainTP))
}

// maxDomainTP is the largest tp tried inside an NVLink domain larger than a
// node: beyond 8 the tensor-parallel collectives of every layer outweigh the
// memory they save on the models of interest (an assumption, to keep the
// space small; --allow-cross-node-tp lifts it).
const maxDomainTP = 8

// ppCandidates are the pipeline depths that split the layers evenly or
// with one layer fewer on the first and last stage.
func ppCandidates(layers int) []int {
	var out []int
	for p := 1; p <= layers+2; p++ {
		if layers%p == 0 || p >= 2 && (layers+2)%p == 0 {
			out = append(out, p)
		}
	}
	return out
}

// virtualCandidates are the virtual stages v for which pp·v chunks split
// the layers (v > 1 only when pp > 1).
func virtualCandidates(layers, pp int) []int {
	out := []int{1}
	if pp == 1 {
		return out
	}
	for v := 2; pp*v <= layers+2; v++ {
		if k := pp * v; layers%k == 0 || (layers+2)%k == 0 {
			out = append(out, v)
		}
	}
	return out
}

func divisorsUpTo(n, limit int) []int {
	var out []int
	for d := 1; d <= n && d <= limit; d++ {
		if n%d == 0 {
			out = append(out, d)
		}
	}
	return out
}
