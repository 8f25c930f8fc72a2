package validation

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/clustersim/clustersim/sim/run"
)

// The model-error band: how far clustersim's step time has been from
// published runs of the same GPU type and precision. `clustersim run`,
// `plan` and `report` print it beside their headline numbers, distinct
// from the Monte Carlo intervals (which are the spread of failures over
// trials, not the model's error). Running the suite on every `run` would
// take seconds, so its summary is a file, accuracy.json, generated from
// the suite and embedded in the binary; TestAccuracyFile recomputes it and
// fails when it is stale (regenerate with
// `go test ./scenarios/validation -run TestAccuracyFile -update`).

//go:embed accuracy.json
var accuracyJSON []byte

// BandPercentile is the percentile of |error| the band is (nearest rank:
// the smallest |error| at least BandPercentile% of the rows are within).
const BandPercentile = 90

// Accuracy's descriptions of its figures, written into accuracy.json.
const (
	accuracyMetric = "step time: step_time_s rows as published; throughput rows (Llama 3 Table 4 tflops_per_gpu, Megatron SC21 Table 1 hardware_tflops_per_gpu) as step time, 100·(published/predicted − 1); mfu rows (the same runs again), by-construction, unmodelled and refused rows left out"
	accuracyBand   = "90th percentile of |error| %, nearest rank"
	accuracyUpdate = "go test ./scenarios/validation -run TestAccuracyFile -update"
)

// Band is the step-time accuracy over one set of published runs: a GPU
// type and precision, or every row (Overall).
type Band struct {
	GPU       string `json:"gpu,omitempty"`       // catalog name, e.g. "h100-sxm"
	Precision string `json:"precision,omitempty"` // "bf16", "fp8", "mxfp8", "nvfp4"
	// MoE marks the band of mixture-of-experts runs, kept apart from the
	// dense runs of the same GPU and precision (their errors differ).
	MoE bool `json:"moe,omitempty"`
	// Rows is how many published runs were compared.
	Rows int `json:"rows"`
	// MeanAbsPct is the mean |error| of the step time, percent.
	MeanAbsPct float64 `json:"mean_abs_pct"`
	// BandPct is the BandPercentile-th percentile of |error|, percent: the
	// model-error band (±BandPct%).
	BandPct float64 `json:"band_pct"`
}

// AccuracySummary is the content of accuracy.json: the band of each GPU
// type × precision with compared rows, and of all rows together.
type AccuracySummary struct {
	Metric    string `json:"metric"`
	Band      string `json:"band"`
	UpdateCmd string `json:"regenerate"`
	Overall   Band   `json:"overall"`
	Groups    []Band `json:"groups"` // sorted by GPU, then precision
}

// stepErrorPct is a row's error of the step time, percent, and whether the
// row counts towards the accuracy summary: a simulated prediction (not a
// by-construction read-back) of a step time or of a throughput, which is a
// step time inverted (step = FLOPs per step / throughput, with the same
// FLOPs on both sides).
func stepErrorPct(r Row) (float64, bool) {
	if !r.Modelled() || r.ByConstruction || math.IsNaN(r.ErrorPct) {
		return 0, false
	}
	switch r.Metric {
	case "step_time_s":
		return r.ErrorPct, true
	case "tflops_per_gpu", "hardware_tflops_per_gpu":
		return 100 * (r.Published/r.Predicted - 1), true
	}
	return 0, false
}

// round1 rounds to 0.1, so the file does not hang on the last bits of a
// float sum.
func round1(v float64) float64 { return math.Round(10*v) / 10 }

func bandOf(gpu, precision string, moe bool, abs []float64) Band {
	b := Band{GPU: gpu, Precision: precision, MoE: moe, Rows: len(abs)}
	if len(abs) == 0 {
		return b
	}
	s := slices.Clone(abs)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	b.MeanAbsPct = round1(sum / float64(len(s)))
	b.BandPct = round1(s[int(math.Ceil(BandPercentile/100.0*float64(len(s))))-1])
	return b
}

// Accuracy summarizes rows (of Run over All) into the model-error bands:
// one per GPU type × precision that has compared rows, and the overall
// band of every compared row pooled (vTrain's A100 rows are most of it).
func Accuracy(rows []Row) AccuracySummary {
	type key struct {
		gpu, precision string
		moe            bool
	}
	by := map[key][]float64{}
	var all []float64
	for _, r := range rows {
		e, ok := stepErrorPct(r)
		if !ok {
			continue
		}
		k := key{r.GPU, r.Precision, r.MoE}
		by[k] = append(by[k], math.Abs(e))
		all = append(all, math.Abs(e))
	}
	a := AccuracySummary{Metric: accuracyMetric, Band: accuracyBand, UpdateCmd: accuracyUpdate, Overall: bandOf("", "", false, all)}
	for k, v := range by {
		a.Groups = append(a.Groups, bandOf(k.gpu, k.precision, k.moe, v))
	}
	slices.SortFunc(a.Groups, func(x, y Band) int {
		if c := strings.Compare(x.GPU, y.GPU); c != 0 {
			return c
		}
		if c := strings.Compare(x.Precision, y.Precision); c != 0 {
			return c
		}
		if x.MoE != y.MoE && y.MoE {
			return -1
		}
		if x.MoE != y.MoE {
			return 1
		}
		return 0
	})
	return a
}

// MarshalAccuracy is accuracy.json's bytes: indented JSON and a newline.
func MarshalAccuracy(a AccuracySummary) ([]byte, error) {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var embeddedAccuracy = sync.OnceValues(func() (AccuracySummary, error) {
	var a AccuracySummary
	d := json.NewDecoder(bytes.NewReader(accuracyJSON))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return a, fmt.Errorf("validation: accuracy.json: %w", err)
	}
	if a.Overall.Rows <= 0 || !(a.Overall.BandPct > 0) {
		return a, fmt.Errorf("validation: accuracy.json: overall band %+v", a.Overall)
	}
	return a, nil
})

// EmbeddedAccuracy is the summary embedded from accuracy.json. It panics if
// the file is malformed (a programmer error TestAccuracyFile catches).
func EmbeddedAccuracy() AccuracySummary {
	a, err := embeddedAccuracy()
	if err != nil {
		panic(err)
	}
	return a
}

// ModelError is the band that applies to a scenario, and in words why.
type ModelError struct {
	Band
	// Exact is true when published runs of the scenario's GPU type and
	// precision were compared; false when there are none and Band is the
	// overall band.
	Exact bool
	// Basis says what the band rests on, e.g. "90th percentile of |error|
	// over 13 published h100-sxm fp8 runs (mean |error| 3.3%)".
	Basis string
}

// For returns the band of GPU type gpu (catalog name) at precision, of
// dense or (moe) mixture-of-experts runs: its own when the suite has
// compared runs of that kind, else the overall band.
func (a AccuracySummary) For(gpu, precision string, moe bool) ModelError {
	kind := "dense"
	if moe {
		kind = "MoE"
	}
	for _, b := range a.Groups {
		if b.GPU == gpu && b.Precision == precision && b.MoE == moe && b.Rows > 0 {
			return ModelError{Band: b, Exact: true, Basis: fmt.Sprintf("%dth percentile of |step-time error| over %s published %s %s %s %s (mean |error| %.1f%%; clustersim validate)",
				BandPercentile, thousands(b.Rows), kind, gpu, precision, plural(b.Rows, "run", "runs"), b.MeanAbsPct)}
		}
	}
	o := a.Overall
	return ModelError{Band: o, Basis: fmt.Sprintf("no published %s run of this GPU and precision (%s %s); overall band: %dth percentile of |step-time error| over all %s published runs (mean |error| %.1f%%; clustersim validate)",
		kind, gpu, precision, BandPercentile, thousands(o.Rows), o.MeanAbsPct)}
}

// ModelErrorOf is the embedded summary's band for spec's GPU type,
// precision and kind (For), as a run's result carries it.
func ModelErrorOf(spec run.Spec) run.ModelError {
	m := EmbeddedAccuracy().For(keyOf(spec))
	return run.ModelError{BandPct: m.BandPct, MeanAbsPct: m.MeanAbsPct, Rows: m.Rows, Exact: m.Exact, Basis: m.Basis}
}

// keyOf is what the bands are kept by: spec's GPU type (catalog name),
// precision and whether the model is a mixture of experts.
func keyOf(spec run.Spec) (gpu, precision string, moe bool) {
	return spec.Step.Cluster.GPU.Name, spec.Step.Training.Precision.String(), spec.Step.Arch.IsMoE()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands writes n with comma separators: 1,635.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
