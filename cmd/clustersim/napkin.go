package main

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/clustersim/clustersim/scenarios"
	"github.com/clustersim/clustersim/sim/model"
)

// flopThreshold is the 1e26-operation training-compute line used by the
// 2023 US Executive Order 14110 (§4.2) for reporting requirements.
const flopThreshold = 1e26

type napkinOptions struct {
	params, tokens, gpuHours, tflops string
	format                           format
}

// Napkin is the closed-form arithmetic of a training run.
type Napkin struct {
	Params           float64 `json:"params"`
	Tokens           float64 `json:"tokens"`
	SixND            float64 `json:"six_nd_flops"`
	GPUHours         float64 `json:"gpu_hours,omitempty"`
	TFLOPS           float64 `json:"tflops,omitempty"`
	GPUHoursFLOPs    float64 `json:"gpu_hours_flops,omitempty"`
	ImpliedTFLOPS    float64 `json:"implied_tflops,omitempty"`
	ChinchillaTokens float64 `json:"chinchilla_tokens"`
	ChinchillaRatio  float64 `json:"chinchilla_ratio"`
	ThresholdFLOPs   float64 `json:"threshold_flops"`
	ThresholdShare   float64 `json:"threshold_share"`
}

func computeNapkin(params, tokens, gpuHours, tflops float64) Napkin {
	n := Napkin{Params: params, Tokens: tokens, SixND: 6 * params * tokens, GPUHours: gpuHours, TFLOPS: tflops,
		ChinchillaTokens: model.ChinchillaTokensPerParam * params, ThresholdFLOPs: flopThreshold}
	n.ChinchillaRatio = tokens / n.ChinchillaTokens
	n.ThresholdShare = n.SixND / flopThreshold
	if gpuHours > 0 {
		n.ImpliedTFLOPS = n.SixND / (gpuHours * 3600) / 1e12
		if tflops > 0 {
			n.GPUHoursFLOPs = gpuHours * 3600 * tflops * 1e12
		}
	}
	return n
}

func newNapkinCmd(io *streams) *cobra.Command {
	o := &napkinOptions{}
	cmd := &cobra.Command{
		Use:   "napkin --params N --tokens D [--gpu-hours H --tflops T]",
		Short: "The closed-form arithmetic: 6ND, FLOPs from GPU-hours, the Chinchilla point",
		Long: `The arithmetic behind a training run, without simulation:
  6·N·D                      training FLOPs of N parameters on D tokens
  H · T · 3600 · 1e12        FLOPs that H GPU-hours deliver at T TFLOPS per GPU
  20·N                       the Chinchilla compute-optimal token count, and how far D is past it
  6ND / (H·3600)             the TFLOPS per GPU the GPU-hours imply
  and where 6ND stands against the 1e26 FLOP reporting line.
Numbers accept SI suffixes: 8e9, 8G (or 8B), 15T, 1.3M.`,
		Example: `  clustersim napkin --params 8e9 --tokens 15e12 --gpu-hours 1.3e6 --tflops 400
  clustersim napkin --params 405G --tokens 15.6T --format json`,
		Args: positional(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			get := func(name, v string, required bool) (float64, error) {
				if v == "" {
					if required {
						return 0, usagef("--%s is required", name)
					}
					return 0, nil
				}
				// "B" for billions is how parameters are usually written
				x, err := scenarios.ParseQuantity(strings.Replace(v, "B", "G", 1))
				if err != nil || x <= 0 || math.IsInf(x, 0) {
					return 0, usagef("--%s %q: want a positive number such as 8e9 or 15T", name, v)
				}
				return x, nil
			}
			p, err := get("params", o.params, true)
			if err != nil {
				return err
			}
			d, err := get("tokens", o.tokens, true)
			if err != nil {
				return err
			}
			h, err := get("gpu-hours", o.gpuHours, false)
			if err != nil {
				return err
			}
			t, err := get("tflops", o.tflops, false)
			if err != nil {
				return err
			}
			n := computeNapkin(p, d, h, t)
			switch o.format {
			case "json":
				return writeJSON(io.out, n)
			case "csv":
				return writeCSV(io.out, [][]string{
					{"params", "tokens", "six_nd_flops", "gpu_hours", "tflops", "gpu_hours_flops", "implied_tflops", "chinchilla_tokens", "chinchilla_ratio", "threshold_share"},
					{g(n.Params), g(n.Tokens), g(n.SixND), g(n.GPUHours), g(n.TFLOPS), g(n.GPUHoursFLOPs), g(n.ImpliedTFLOPS), g(n.ChinchillaTokens), g(n.ChinchillaRatio), g(n.ThresholdShare)},
				})
			}
			tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "6·N·D (FLOPs)\t%.3g\t%.3g parameters × %.3g tokens × 6\n", n.SixND, p, d)
			if h > 0 && t > 0 {
				fmt.Fprintf(tw, "GPU-hours × TFLOPS (FLOPs)\t%.3g\t%.3g GPU-hours at %.3g TFLOPS/GPU\n", n.GPUHoursFLOPs, h, t)
			}
			if h > 0 {
				fmt.Fprintf(tw, "implied TFLOPS/GPU\t%.3g\t6ND spread over %.3g GPU-hours\n", n.ImpliedTFLOPS, h)
			}
			fmt.Fprintf(tw, "Chinchilla tokens\t%.3g\t%v tokens/parameter; this run is %.3g× past it\n", n.ChinchillaTokens, model.ChinchillaTokensPerParam, n.ChinchillaRatio)
			fmt.Fprintf(tw, "against 1e26 FLOPs\t%.3g%%\t%s\n", 100*n.ThresholdShare, thresholdNote(n.ThresholdShare))
			return tw.Flush()
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.params, "params", "", "model parameters N (e.g. 8e9, 405G)")
	fs.StringVar(&o.tokens, "tokens", "", "training tokens D (e.g. 15T)")
	fs.StringVar(&o.gpuHours, "gpu-hours", "", "GPU-hours spent (optional)")
	fs.StringVar(&o.tflops, "tflops", "", "achieved TFLOPS per GPU (optional, with --gpu-hours)")
	addFormatFlag(fs, &o.format)
	return cmd
}

func thresholdNote(share float64) string {
	if share >= 1 {
		return fmt.Sprintf("above the line, by %.3g×", share)
	}
	return fmt.Sprintf("below the line; %.3g× more compute would reach it", 1/share)
}
