// Package scenarios reads scenario files: the YAML a capacity planner
// writes to describe a training run (model, cluster, parallel layout,
// training, failures), checked strictly and turned into a run.Spec for the
// simulator. It holds the built-in scenarios and applies --set overrides.
// It is the only package of clustersim that imports YAML.
//
// # Loading
//
// [Load] is the core: it parses one YAML document into a node tree, applies
// the --set overrides to the tree, decodes the tree against the schema
// ([Scenario]) and builds the [run.Spec], filling in defaults. [LoadFile],
// [Builtin] and [Resolve] wrap it. The keys are those of the user contract
// (CONTRACT.md) plus model.dropout, training.grad_precision, training.fp8_params,
// training.grad_accumulation, training.attention, parallelism.recompute_elementwise, stragglers
// (cv, gpu_cv, slow nodes, samples), failures.storage_tbps,
// failures.async_checkpoint, failures.lemons, a custom failure profile and
// energy; the defaults are listed on [Scenario]'s fields and in the
// constants below.
//
// # Errors
//
// Every problem is an [*Error] naming the file, the line and the dotted key
// ("parallelism.pp", "phases.1.tokens") and saying what would be valid.
// Load reports problems together, joined with errors.Join and sorted by
// line: first every syntax, key and type problem (unknown keys with a
// suggestion, duplicate keys, values of the wrong type or form); when there
// are none, every problem with the values and their consistency (names,
// ranges, the layout's product, layers per stage, micro batches, and
// memory: a layout whose fullest GPU needs more than the GPU's HBM is
// refused with the breakdown). Errors about a value that came from a --set
// override name the file "--set" and have no line; they sort after the
// file's, in the order of the overrides.
//
// # Quantities
//
// Numbers take SI suffixes K, M, G, T, P (×1e3 … ×1e15) and binary ones
// Ki … Pi (×2^10 … ×2^50), scientific notation and underscores between
// digits (16M, 15.6T, 1.3e6, 16_384, 16Mi); integer keys must be whole
// after expansion. Durations are seconds or take a unit s, m, h or d (90s,
// 15m, 2h, 54d). [Marshal] writes them back in the shortest form that reads
// back to the same value, so Load → Marshal → Load gives an equal run.Spec.
//
// # Overrides
//
// A --set override "path=value" names a dotted path into the YAML tree
// (cluster.gpus, parallelism.pp, phases.0.tokens) and a YAML value (a
// scalar, or a flow list or mapping: stragglers={cv: 0, samples: 4}). It is
// applied to the tree before decoding, so it gets exactly the validation a
// file gets. Missing keys are created where the schema has them; an index
// equal to a list's length appends. Setting a key inside a built-in model
// (model.layers=40) or failure profile (failures.profile.faulty_gpu.rate=0)
// first expands the built-in into its inline mapping.
//
// # Sweeps
//
// A scenario may carry a sweep block ([Sweep]): dotted --set paths and the
// values each takes, for `clustersim sweep`, which runs the cartesian
// product. Load checks the paths against the schema and the values
// against the keys' types; the rest of the scenario is loaded without the
// block. [ResolveAnyLayout] loads a scenario without checking its layout,
// for the plan command, which searches layouts itself.
//
// # Built-in scenarios
//
// The built-ins are commented YAML files embedded from builtin/ (see
// [Names] and [BuiltinYAML]), each citing its sources: the three Llama 3
// 405B rows of Table 4 of arXiv:2407.21783, the 405B's whole pre-training
// recipe in phases (§3.4), Llama 3 70B and 8B on assumed layouts, and
// GPT-3 175B with Megatron-LM's layout. They leave dp out, so
// that overriding the GPU count, tp, pp or cp keeps the layout consistent.
package scenarios
