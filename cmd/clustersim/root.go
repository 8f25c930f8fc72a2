package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/scenarios/study"
	"github.com/clustersim/clustersim/sim/model"
	"github.com/clustersim/clustersim/sim/run"
	"github.com/clustersim/clustersim/sim/step"
)

// Exit codes (CONTRACT.md).
const (
	exitOK    = 0
	exitError = 1 // simulation or I/O failure
	exitUsage = 2 // bad input
	// exitInterrupted is a long command (plan, sweep) stopped by Ctrl-C
	// after printing what finished: 128 + SIGINT, as shells report it.
	exitInterrupted = 130
)

// usageError marks bad command-line input.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// streams are where a command reads and writes.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// tty says whether err is a terminal (for progress bars).
	tty bool
	// limits are the budgets of the root's --max-* flags; nil: defaults.
	limits *limits
}

// Main runs the command line and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	io := &streams{in: stdin, out: stdout, err: stderr, tty: isTerminal(stderr), limits: &limits{}}
	root := newRootCmd(io)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if code == exitInterrupted && err.Error() == context.Canceled.Error() {
		fmt.Fprintln(stderr, "clustersim: interrupted before anything finished; nothing printed or written")
		return code
	}
	fmt.Fprintln(stderr, "clustersim:", err)
	return code
}

// exitCode maps an error to the contract's exit status: 2 for bad input
// (unknown scenario, bad YAML, unknown key, invalid value, a layout that does
// not fit), 130 for a command interrupted by Ctrl-C, 1 for anything else.
func exitCode(err error) int {
	var ue usageError
	var se *scenarios.Error
	var nf *step.NotFitError
	var fe *model.FieldError
	var le *run.LimitError
	var ie *run.InputError
	var si *study.InputError
	if errors.As(err, &ue) || errors.As(err, &se) || errors.As(err, &nf) || errors.As(err, &fe) || errors.As(err, &le) || errors.As(err, &ie) || errors.As(err, &si) {
		return exitUsage
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	return exitError
}

// positional wraps cobra's argument validation so that its errors are
// usage errors (exit status 2).
func positional(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// noSubcommand refuses an unknown subcommand of a command that has only
// subcommands.
func noSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q; see '%s --help'", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return nil
}

func newRootCmd(io *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "clustersim",
		Short: "Simulate LLM training on GPU clusters: step time, throughput, failures, time to train",
		Long: `clustersim is a discrete-event simulator of GPU training clusters. It answers,
before you reserve thousands of GPUs: how long will this run take, at what
TFLOPS per GPU and MFU, what do communication, pipeline bubbles, stragglers and
failures cost, and which layout should we use?

A SCENARIO is a built-in name (see 'clustersim scenarios') or a YAML file.`,
		Example: `  clustersim run llama3-405b
  clustersim run llama3-405b --set cluster.gpus=8192 --set parallelism.dp=64 --format json
  clustersim scenarios show llama3-405b > my.yaml
  clustersim validate
  clustersim plan llama3-405b --gpus 8192
  clustersim sweep llama3-405b --set cluster.gpus=4096,8192,16384
  clustersim napkin --params 8e9 --tokens 15e12 --gpu-hours 1.3e6 --tflops 400`,
		Args:          noSubcommand,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	if io.limits != nil {
		io.limits.addFlags(root.PersistentFlags())
	}
	root.AddCommand(newPlanCmd(io, nil), newSweepCmd(io, nil), newMergeCmd(io, nil))
	root.AddCommand(
		newRunCmd(io, nil),
		newScenariosCmd(io),
		newNapkinCmd(io),
		newValidateCmd(io),
		newPlotCmd(io, nil),
		newReportCmd(io, nil),
		newTraceCmd(io, nil),
		newVersionCmd(io, nil),
	)
	return root
}

// completeScenarios offers the built-in scenario names and YAML files.
func completeScenarios(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return scenarios.Names(), cobra.ShellCompDirectiveDefault
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
