package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/plots"
	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/run"
)

type traceOptions struct {
	scenario string
	sets     []string
	out      string // file, or "-" for stdout
}

func newTraceCmd(io *streams, runF func(context.Context, *traceOptions) error) *cobra.Command {
	o := &traceOptions{}
	cmd := &cobra.Command{
		Use:   "trace SCENARIO --out FILE.json",
		Short: "Write the simulated step as Chrome trace-event JSON, for Perfetto",
		Long: `Simulate one optimizer step of a scenario without noise and write it as
Chrome trace-event JSON: open it at ui.perfetto.dev or chrome://tracing.

Each pipeline stage of one replica is a process; its threads are the GPU's
streams: compute (each forward or backward pass, its layers and their
kernels), TP and CP (the tensor- and context-parallel collectives of each
layer), PP (incoming activations and gradients) and DP (gradient
reduce-scatters, parameter all-gathers). Arrows follow the pipeline from
each pass to the pass that consumes its output. The pipeline bubble is the
empty space on the compute threads. Times are microseconds.`,
		Example: `  clustersim trace llama3-405b --out step.json
  clustersim trace llama3-8b --set parallelism.pp=4 --out - | gzip > step.json.gz`,
		Args:              positional(cobra.ExactArgs(1)),
		ValidArgsFunction: completeScenarios,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scenario = args[0]
			if o.out == "" {
				return usagef("--out FILE.json is required (- for standard output)")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runTrace(cmd.Context(), io, o)
		},
	}
	cmd.Flags().StringArrayVar(&o.sets, "set", nil, "override a scenario key: --set path=value (repeatable)")
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "file to write, or - for standard output")
	return cmd
}

func runTrace(ctx context.Context, io *streams, o *traceOptions) error {
	spec, _, err := scenarios.Resolve(o.scenario, o.sets...)
	if err != nil {
		return err
	}
	res, err := run.MainStep(ctx, spec, true)
	if err != nil {
		return err
	}
	meta := plots.TraceMeta{Scenario: spec.Name, CriticalStage: res.CriticalStage, Layout: layoutWords(spec.Step.Layout)}
	return writeOut(io, o.out, func(w writer) error { return plots.WriteTrace(w, res.Timeline, meta) })
}

// writer is where an --out goes.
type writer = interface{ Write([]byte) (int, error) }

// writeOut writes to the file path, or to standard output for "-"; a
// failed close is an error.
func writeOut(io *streams, path string, write func(w writer) error) (err error) {
	if path == "-" {
		return write(io.out)
	}
	f, err := createFile(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
