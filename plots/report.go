package plots

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/clustersim/clustersim/sim/run"
)

//go:embed templates/report.html
var templates embed.FS

// ReportChart is a chart and the sentence that tells a reviewer how to
// read it.
type ReportChart struct {
	Chart   *Chart
	Caption string
	// NotDrawn, when Chart is nil, is the one line the page prints instead
	// of a degenerate chart (see [NotDrawn]); Caption then names the chart.
	NotDrawn string
	// Alt is the chart's text alternative for screen readers; empty means
	// the chart's title followed by the caption.
	Alt string
}

// LayoutAnswer answers "which layout?" from a plan search.
type LayoutAnswer struct {
	AsRun     string  // the scenario's own layout, e.g. "tp8 pp16 cp1 mb1 v8"
	AsRunDays float64 // days to train with it
	Best      string  // the recommended layout
	BestDays  float64 // days to train with it
	Feasible  int     // feasible layouts compared (0: not known)
	// BestGPUHours and AsRunGPUHours are optional (0: not shown).
	BestGPUHours, AsRunGPUHours float64
}

// SizeAnswer answers "what if bigger?": the best size on the days against
// cost curve of a scaling study that re-plans the layout at every size.
type SizeAnswer struct {
	GPUs     int
	Layout   string
	Days     float64
	GPUHours float64
	Cost     float64 // in ReportData.Currency; 0 when not priced
	Why      string  // the rule that picked it, in words
	Largest  int     // the largest size studied, 0 if not known
}

// Constant is one hardware or model constant the numbers rest on.
type Constant struct {
	Name   string // e.g. "GEMM efficiency (bf16, large products)"
	Value  string // as printed, with its unit, e.g. "68.5% of peak"
	Source string
}

// Provenance is what made the page: the program, when, and from what.
type Provenance struct {
	Version  string // module version, e.g. "v0.4.0" or "(devel)"
	Revision string // VCS revision, with "+dirty" when modified
	Date     string // when the page was made, e.g. "2026-12-01 14:03 UTC"
	// ScenarioFile is the scenario file as written, comments kept; empty
	// for a built-in scenario, when the page shows ScenarioYAML instead.
	ScenarioFile string
	ScenarioPath string // its path or built-in name
}

// Assumption is one modelling choice the numbers rest on, and where it
// comes from.
type Assumption struct {
	Topic  string
	Text   string
	Source string
}

// ValidationRow is one published figure against its prediction (the rows
// of `clustersim validate`).
type ValidationRow struct {
	Case      string
	Metric    string
	Bound     string // "" or ">" for a lower bound
	Published float64
	Predicted float64
	ErrorPct  float64
	Source    string
	// ByConstruction marks a published figure that is one of the case's
	// own inputs read back (a check of the wiring, not accuracy): the
	// table says so and shows no error for it.
	ByConstruction bool
}

// ReportData is everything the review report shows. Result is the run as
// simulated, with its model-error band (Result.ModelError) set by the
// caller; the rest is gathered by the caller.
type ReportData struct {
	Scenario     string
	Description  string
	Question     string // the question the page answers, in one sentence
	Model        string // architecture name
	GPU          string // GPU name
	Layout       string // the parallel layout in words
	Command      string // the command line that made the report
	Result       run.Result
	Charts       []ReportChart
	ScenarioYAML string
	Assumptions  []Assumption
	Validation   []ValidationRow
	Notes        []string // what the sweeps skipped and why, and the like

	// The four answers of the first screen; each optional: when nil (or
	// empty), the page says it was not gathered rather than print zeros.
	Recommended *LayoutAnswer    // which layout
	Currency    string           // the currency of Result.Cost, e.g. "USD"
	Sensitivity []SensitivityBar // how sure: the largest swing is quoted
	Bigger      *SizeAnswer      // what if bigger
	Constants   []Constant       // the hardware and model constants used
	Provenance  *Provenance      // version, revision, date, scenario file
}

// Report writes the review report: one self-contained HTML page (inline
// CSS, charts as inline SVG, no scripts or fetches) that answers the
// question in its first screen, then shows the charts, the phases, the
// scenario as run, the assumptions with their sources and the validation
// table. It reads on a laptop and prints on A4 or Letter.
func Report(w io.Writer, d ReportData) error {
	type chartView struct {
		ID, Title, Caption, NotDrawn string
		SVG                          template.HTML
	}
	var charts []chartView
	for _, c := range d.Charts {
		if c.Chart == nil {
			if c.NotDrawn != "" {
				charts = append(charts, chartView{ID: "not-drawn-" + c.Caption, Title: c.Caption, NotDrawn: c.NotDrawn})
			}
			continue
		}
		alt := c.Alt
		if alt == "" {
			alt = c.Chart.Title + ". " + c.Caption
		}
		svg, err := c.Chart.inlineSVG(alt)
		if err != nil {
			return err
		}
		// The SVG is our own output (gonum/plot's writer escapes text).
		charts = append(charts, chartView{ID: "chart-" + c.Chart.Name, Title: c.Chart.Title, Caption: c.Caption, SVG: template.HTML(svg)})
	}
	t, err := template.New("report.html").Funcs(template.FuncMap{
		"sig":   sig,
		"human": Human,
		"humanInterval": func(i run.Interval) string {
			lo, hi := Human(i.P5), Human(i.P95)
			if a, ua, ok := strings.Cut(lo, " "); ok {
				if b, ub, ok := strings.Cut(hi, " "); ok && ua == ub {
					return a + " – " + b + " " + ua
				}
			}
			return lo + " – " + hi
		},
		"int64":    func(v float64) string { return thousands(int(math.Round(v))) },
		"pct":      func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
		"signed":   func(v float64) string { return fmt.Sprintf("%+.1f%%", v) },
		"int":      func(v int) string { return thousands(v) },
		"lower":    strings.ToLower,
		"share":    func(part, whole float64) string { return fmt.Sprintf("%.1f%%", 100*part/whole) },
		"parts":    func() []BreakdownPart { return BreakdownParts },
		"interval": func(i run.Interval, f func(float64) string) string { return f(i.P5) + " – " + f(i.P95) },
		"sigf":     func() func(float64) string { return sig },
		"pctf":     func() func(float64) string { return func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) } },
		"bad":      func(e float64) bool { return e > 10 || e < -10 },
		"band":     func(v float64) string { return fmt.Sprintf("± %.1f%%", v) },
		"money": func(v float64) string {
			return Human(v)
		},
		"saving": func(a, b float64) string {
			if a <= 0 {
				return ""
			}
			return fmt.Sprintf("%.1f%%", 100*(a-b)/a)
		},
		"deref": func(p *float64) float64 { return *p },
	}).ParseFS(templates, "templates/report.html")
	if err != nil {
		return err
	}
	return t.Execute(w, struct {
		ReportData
		ChartViews []chartView
		R          run.Result
		Headline   string
		DescNote   string
		Swing      *SensitivityBar
	}{d, charts, d.Result, headlineGPUs(d), descriptionNote(d.Description, d.Result), largestSwing(d.Sensitivity)})
}

// headlineGPUs is the GPUs the run used, as run: "16,384 × h100-sxm", or
// per phase for a multi-phase run whose phases differ ("8,192 then 16,384
// × h100-sxm").
func headlineGPUs(d ReportData) string {
	r := d.Result
	var counts []string
	differ := false
	for _, p := range r.Phases {
		if p.GPUs > 0 {
			counts = append(counts, thousands(p.GPUs)+" ("+p.Name+")")
			differ = differ || p.GPUs != r.Phases[0].GPUs
		}
	}
	if len(r.Phases) > 1 && differ {
		return strings.Join(counts, " then ") + " × " + d.GPU
	}
	return thousands(r.GPUs) + " × " + d.GPU
}

// gpuCount finds "16,384 H100s", "16384 GPUs" and the like in a
// description.
var gpuCount = regexp.MustCompile(`(?i)\b(\d{1,3}(?:,\d{3})+|\d+)\s*(?:×\s*)?(?:[a-z0-9-]+\s+)?(?:gpus?|h100s?|h200s?|h800s?|a100s?|b200s?|gb200s?|mi300x?s?)\b`)

// descriptionNote is what the page says after a scenario description that
// quotes a GPU count the run did not use (the description is as written;
// --set cluster.gpus changes the run, not the words).
func descriptionNote(desc string, r run.Result) string {
	used := map[int]bool{r.GPUs: true}
	for _, p := range r.Phases {
		used[p.GPUs] = true
	}
	for _, m := range gpuCount.FindAllStringSubmatch(desc, -1) {
		n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		if err == nil && !used[n] {
			return fmt.Sprintf("The description is the scenario's, as written: it says %s, but this run used %s GPUs.", m[0], thousands(r.GPUs))
		}
	}
	return ""
}

// largestSwing is the sensitivity bar with the largest swing, or nil.
func largestSwing(bars []SensitivityBar) *SensitivityBar {
	if len(bars) == 0 {
		return nil
	}
	b := SensitivityOrder(bars)[0]
	return &b
}
