// Package model is the transformer accounting of clustersim: architectures,
// parallel layouts, parameter counts, FLOPs and memory per GPU.
//
// It knows nothing of time or hardware speed; the step simulator (package
// sim/step) turns its counts into durations with package cluster.
//
// # Conventions
//
// Model FLOPs per token follow PaLM and Llama 3: 6·N_matmul + 6·L·s·h_attn,
// where N_matmul counts every parameter used in a matrix product (all but the
// input embedding lookup), L is the number of layers, s the sequence length and
// h_attn = heads·head_dim. The attention term is causal: under a causal mask
// QKᵀ and AV cost 2·s·h_attn FLOPs per token per layer in the forward pass
// (4·s·h_attn without the mask), and training costs three forward passes.
// NVIDIA's recipes count non-causal attention, which raises a reported MFU by
// up to ~8% at long sequences; [Arch.ModelFLOPsPerToken] takes the causal
// convention and [Arch.NonCausalFLOPsPerToken] exposes the other.
//
// For a mixture-of-experts model N_matmul counts the active parameters
// only: the attention, dense and shared blocks, the routers, top_k routed
// experts per MoE layer and the head ([Arch.ActiveMatmulParams]), the
// convention of the DeepSeek-V3 and Qwen3 reports ("37B activated").
// Parameter counts ([Arch.Params]) and memory count every expert; experts
// are split over ep·etp and their optimizer state over the
// expert-data-parallel ranks ([Layout.ExpertDP]).
//
// Hardware FLOPs add recomputation: selective recompute re-runs the attention
// core (QKᵀ, softmax, AV) in the backward pass, full recompute the whole
// forward pass of every layer.
//
// # Memory
//
// Weights take [WeightBytes] per parameter (2 in bf16; in fp8 2 as well,
// the fp8 weight and its transpose, or 4 with bf16 weights beside
// Transformer Engine's cached fp8 copy), gradients 4 (fp32 accumulation, as
// Llama 3 and Megatron's grad_reduce_in_fp32) or 2, and the optimizer 12
// (fp32 master weights and Adam's two moments). ZeRO stage 1 (Megatron-Core's
// distributed optimizer) shards the optimizer over the dp·cp ranks that hold
// the same weights, stage 2 also the gradients, stage 3 also the weights:
// with fp32 gradients 6 + 12/d bytes per parameter for d = dp·cp, Megatron's
// documented figure. Activations are counted tensor by tensor following
// Korthikanti et al. 2022 (arXiv:2205.05198, Table 2), adapted to SwiGLU,
// grouped-query attention, fused attention and fp8 (see
// [Arch.ActivationBytesPerToken]), and multiplied by the number of micro
// batches the pipeline schedule keeps in flight on each stage, which is read
// off the schedule itself. See [StageMemory].
package model
