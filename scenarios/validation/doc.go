// Package validation compares clustersim's predictions with published
// figures: Llama 3's Table 4 throughput and reliability record and the
// Megatron-LM SC21 Table 1 weak-scaling runs. Every case names its source;
// the published numbers are copied here from the project's
// reference/published.yaml with those sources.
package validation
