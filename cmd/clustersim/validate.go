package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios/validation"
)

func newValidateCmd(io *streams) *cobra.Command {
	var f format
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Predicted against published figures for the shipped reference cases, with error %",
		Long: `Simulate the shipped reference cases and print each published figure next to
the prediction, with its error in percent, good or bad: Llama 3 405B's
Table 4 throughput (arXiv:2407.21783), its interruption record (§3.3.4) and
GPU-hours (model card), and the ten rows of Megatron-LM's SC21 Table 1
(arXiv:2104.04473). One set of hardware constants serves every case.`,
		Example: "  clustersim validate\n  clustersim validate --format json",
		Args:    positional(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := validation.Run(cmd.Context(), validation.Cases())
			if err != nil {
				return err
			}
			switch f {
			case "json":
				return writeJSON(io.out, rows)
			case "csv":
				out := [][]string{{"case", "metric", "published", "predicted", "error_pct", "source"}}
				for _, r := range rows {
					out = append(out, []string{r.Case, r.Metric, g(r.Published), g(r.Predicted), g(r.ErrorPct), r.Source})
				}
				return writeCSV(io.out, out)
			}
			tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CASE\tMETRIC\tPUBLISHED\tPREDICTED\tERROR (%)\tSOURCE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s%s\t%s\t%+.1f\t%s\n", r.Case, r.Metric, r.Bound, num(r.Published), num(r.Predicted), r.ErrorPct, r.Source)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			mae, worst := validation.Summary(rows, "megatron", "hardware_tflops_per_gpu")
			fmt.Fprintf(io.out, "\nMegatron SC21 Table 1: mean absolute error %.1f%%, worst %+.1f%% (%s)\n", mae, worst.ErrorPct, worst.Case)
			mae, worst = validation.Summary(rows, "llama3-405b", "tflops_per_gpu")
			fmt.Fprintf(io.out, "Llama 3 Table 4: mean absolute error %.1f%%, worst %+.1f%% (%s)\n", mae, worst.ErrorPct, worst.Case)
			return nil
		},
	}
	addFormatFlag(cmd.Flags(), &f)
	return cmd
}
