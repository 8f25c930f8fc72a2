package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios"
)

func newScenariosCmd(io *streams) *cobra.Command {
	var f format
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the built-in scenarios",
		Example: `  clustersim scenarios
  clustersim scenarios show llama3-405b > my.yaml`,
		Args: noSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			type row struct {
				Name        string `json:"name"`
				Description string `json:"description"`
				GPUs        int    `json:"gpus"`
				GPU         string `json:"gpu"`
			}
			var rows []row
			for _, n := range scenarios.Names() {
				spec, _, err := scenarios.Builtin(n)
				if err != nil {
					return err
				}
				rows = append(rows, row{n, spec.Description, spec.Step.Cluster.GPUs, spec.Step.Cluster.GPU.Name})
			}
			switch f {
			case "json":
				return writeJSON(io.out, rows)
			case "csv":
				out := [][]string{{"name", "description", "gpus", "gpu"}}
				for _, r := range rows {
					out = append(out, []string{r.Name, r.Description, fmt.Sprint(r.GPUs), r.GPU})
				}
				return writeCSV(io.out, out)
			}
			tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tGPUS\tDESCRIPTION")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s × %s\t%s\n", r.Name, group(fmt.Sprint(r.GPUs)), r.GPU, r.Description)
			}
			return tw.Flush()
		},
	}
	addFormatFlag(cmd.Flags(), &f)
	cmd.AddCommand(&cobra.Command{
		Use:     "show NAME",
		Short:   "Print a built-in scenario as YAML, ready to copy and edit",
		Example: "  clustersim scenarios show llama3-405b > my.yaml\n  clustersim run my.yaml",
		Args:    positional(cobra.ExactArgs(1)),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return scenarios.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			b, err := scenarios.BuiltinYAML(args[0])
			if err != nil {
				return usageError{err}
			}
			_, err = io.out.Write(b)
			return err
		},
	}, &cobra.Command{
		Use:   "schema",
		Short: "Print the scenario schema: every key with its type, default and valid range",
		Long: `Print the documented scenario schema as commented YAML: every key a scenario
file (or --set) may give, its type, default and valid range, how numbers and
durations are written, and the work budgets every run is checked against.`,
		Example: "  clustersim scenarios schema | less",
		Args:    positional(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			_, err := io.out.Write(scenarios.Schema())
			return err
		},
	})
	return cmd
}
