package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios/validation"
)

// validateOptions are validate's flags.
type validateOptions struct {
	format   format
	group    string // only the groups with this prefix
	summary  bool   // only the per-group table
	measured string // a user's file of published rows instead of the shipped cases
}

func newValidateCmd(io *streams) *cobra.Command {
	return newValidateCmdWith(func(ctx context.Context, o *validateOptions) error { return runValidate(ctx, io, o) })
}

// newValidateCmdWith builds the command around run (tests pass a stand-in
// to check argv → options).
func newValidateCmdWith(run func(context.Context, *validateOptions) error) *cobra.Command {
	o := &validateOptions{}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Predicted against published figures for the shipped reference cases, with error %",
		Long: `Simulate the shipped reference cases and print each published figure next to
the prediction, with its error in percent, good or bad: Llama 3 405B's
Table 4 throughput (arXiv:2407.21783), its interruption record (§3.3.4) and
GPU-hours (model card), the ten rows of Megatron-LM's SC21 Table 1
(arXiv:2104.04473), and the public suite: NVIDIA's NeMo 24.07 and
Megatron-Bridge performance tables (H100, B200, GB200, GB300; dense and
MoE) and vTrain's 1,513 measured A100 iterations (arXiv:2312.12391), each
compared by step time. One set of hardware constants serves every case.

Rows that cannot be simulated yet are listed with their reason, not
dropped: "unmodelled" (MoE, or a GPU or precision the catalog lacks) and
"refused" (the layout is refused, e.g. it does not fit in memory). Each row
has a group (source/gpu/precision); the table ends with every group's row
count, mean absolute error, worst row and counts of unmodelled and refused
rows, and the Spearman rank correlation of predicted against measured step
time for each vTrain model.`,
		Example: "  clustersim validate --summary\n  clustersim validate --group vtrain\n  clustersim validate --format json\n" +
			"  clustersim validate --measured my-runs.yaml   # your published runs, in measured.yaml's schema",
		Args: positional(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), o)
		},
	}
	addFormatFlag(cmd.Flags(), &o.format)
	cmd.Flags().StringVar(&o.group, "group", "", "only the groups whose name starts with this prefix (e.g. vtrain, nemo24.07/h100)")
	cmd.Flags().BoolVar(&o.summary, "summary", false, "print only the per-group table (and the rank correlations)")
	cmd.Flags().StringVar(&o.measured, "measured", "", "validate the rows of this file (measured.yaml's schema: see README, Validating your own runs) instead of the shipped cases")
	return cmd
}

func runValidate(ctx context.Context, io *streams, o *validateOptions) error {
	var all []validation.Case
	if o.measured != "" {
		data, err := os.ReadFile(o.measured)
		if err != nil {
			return usagef("--measured: %v", err)
		}
		if all, err = validation.MeasuredCases(data, o.measured); err != nil {
			return usagef("%v", err)
		}
	} else {
		all = validation.All()
	}
	var cases []validation.Case
	for _, c := range all {
		if strings.HasPrefix(c.Group, o.group) {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		return usagef("--group %q matches no group; groups start with %s", o.group, strings.Join(groupPrefixes(), ", "))
	}
	rows, err := validation.Run(ctx, cases)
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		if o.summary {
			return writeJSON(io.out, summaryJSON(rows))
		}
		return writeJSON(io.out, rows)
	case "csv":
		if o.summary {
			return writeCSV(io.out, summaryCSV(rows))
		}
		return writeCSV(io.out, validateCSV(rows))
	}
	if !o.summary {
		if err := writeValidateRows(io.out, rows); err != nil {
			return err
		}
		fmt.Fprintln(io.out)
	}
	return writeValidateSummary(io.out, rows)
}

// groupPrefixes are the sources groups start with, for the --group hint.
func groupPrefixes() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range validation.All() {
		src, _, _ := strings.Cut(c.Group, "/")
		if !seen[src] {
			seen[src] = true
			out = append(out, src)
		}
	}
	return out
}

// orBlank formats a figure, or "" for a row without one.
func orBlank(v float64, f func(float64) string) string {
	if math.IsNaN(v) {
		return ""
	}
	return f(v)
}

func validateCSV(rows []validation.Row) [][]string {
	out := [][]string{{"case", "metric", "published", "predicted", "error_pct", "source", "group", "by_construction", "status", "note"}}
	for _, r := range rows {
		out = append(out, []string{r.Case, r.Metric, r.Bound + g(r.Published), orBlank(r.Predicted, g), orBlank(r.ErrorPct, g),
			r.Source, r.Group, strconv.FormatBool(r.ByConstruction), r.Status, r.Note})
	}
	return out
}

func writeValidateRows(w io.Writer, rows []validation.Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tMETRIC\tPUBLISHED\tPREDICTED\tERROR (%)\tGROUP\tSOURCE / STATUS")
	for _, r := range rows {
		pub := r.Bound + num(r.Published)
		if r.ByConstruction {
			pub += " (input)"
		}
		if !r.Modelled() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t%s\t%s\n", r.Case, r.Metric, pub, r.Group, r.Status)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%+.1f\t%s\t%s\n", r.Case, r.Metric, pub, num(r.Predicted), r.ErrorPct, r.Group, r.Source)
	}
	return tw.Flush()
}

// worstText is a group's worst row, as "+12.3% (case)".
func worstText(s validation.GroupStats) string {
	if s.Compared == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%% (%s)", s.Worst.ErrorPct, s.Worst.Case)
}

func maeText(s validation.GroupStats) string {
	if s.Compared == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", s.MAE)
}

func writeValidateSummary(w io.Writer, rows []validation.Row) error {
	groups, all := validation.Groups(rows)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tROWS\tCOMPARED\tMEAN |ERROR| (%)\tUNMODELLED\tREFUSED\tWORST")
	for _, s := range append(groups, all) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%s\n", s.Group, s.Rows, s.Compared, maeText(s), s.Unmodelled, s.Refused, worstText(s))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rc := validation.RankCorrelations(rows); len(rc) > 0 {
		fmt.Fprintln(w, "\nSpearman rank correlation of predicted against measured step time, per vTrain model:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "GROUP\tMODEL\tROWS\tSIMULATED\tSPEARMAN")
		for _, c := range rc {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\n", c.Group, c.Model, c.Rows, c.N, c.Rho)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if ws, err := validation.WeakScaling(rows); err != nil {
		return err
	} else if len(ws) > 0 {
		fmt.Fprintln(w, "\nWeak scaling: growth of GPU-seconds per token from the smaller to the larger GPU count of one recipe:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RECIPE\tGPUS\tPUBLISHED (%)\tPREDICTED (%)\tERROR (points)\tSTRAGGLER SHARE (%)")
		for _, p := range ws {
			fmt.Fprintf(tw, "%s\t%d → %d\t%+.1f\t%+.1f\t%+.1f\t%.1f → %.1f\n", p.Recipe, p.GPUsS, p.GPUsL, p.Published, p.Predicted, p.ErrorPoints, p.StragglerS, p.StrL)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	var lines []string
	if mae, worst := validation.Summary(rows, "megatron", "hardware_tflops_per_gpu"); worst.Case != "" {
		lines = append(lines, fmt.Sprintf("Megatron SC21 Table 1: mean absolute error %.1f%%, worst %+.1f%% (%s)", mae, worst.ErrorPct, worst.Case))
	}
	if mae, worst := validation.Summary(rows, "llama3-405b", "tflops_per_gpu"); worst.Case != "" {
		lines = append(lines, fmt.Sprintf("Llama 3 Table 4: mean absolute error %.1f%%, worst %+.1f%% (%s)", mae, worst.ErrorPct, worst.Case))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w, "\n"+strings.Join(lines, "\n"))
	}
	return nil
}

// groupJSON is one line of `validate --summary --format json`.
type groupJSON struct {
	Group      string   `json:"group"`
	Rows       int      `json:"rows"`
	Compared   int      `json:"compared"`
	MAEPct     *float64 `json:"mean_abs_error_pct"`
	WorstPct   *float64 `json:"worst_error_pct"`
	WorstCase  string   `json:"worst_case,omitempty"`
	Unmodelled int      `json:"unmodelled"`
	Refused    int      `json:"refused"`
}

func summaryJSON(rows []validation.Row) []groupJSON {
	groups, all := validation.Groups(rows)
	var out []groupJSON
	for _, s := range append(groups, all) {
		j := groupJSON{Group: s.Group, Rows: s.Rows, Compared: s.Compared, Unmodelled: s.Unmodelled, Refused: s.Refused}
		if s.Compared > 0 {
			mae, worst := s.MAE, s.Worst.ErrorPct
			j.MAEPct, j.WorstPct, j.WorstCase = &mae, &worst, s.Worst.Case
		}
		out = append(out, j)
	}
	return out
}

func summaryCSV(rows []validation.Row) [][]string {
	out := [][]string{{"group", "rows", "compared", "mean_abs_error_pct", "worst_error_pct", "worst_case", "unmodelled", "refused"}}
	for _, j := range summaryJSON(rows) {
		mae, worst := "", ""
		if j.MAEPct != nil {
			mae, worst = g(*j.MAEPct), g(*j.WorstPct)
		}
		out = append(out, []string{j.Group, strconv.Itoa(j.Rows), strconv.Itoa(j.Compared), mae, worst, j.WorstCase, strconv.Itoa(j.Unmodelled), strconv.Itoa(j.Refused)})
	}
	return out
}
