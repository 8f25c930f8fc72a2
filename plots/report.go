package plots

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
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
}

// Report writes the review report: one self-contained HTML page (inline
// CSS, charts as inline SVG, no scripts or fetches) that answers the
// question in its first screen, then shows the charts, the phases, the
// scenario as run, the assumptions with their sources and the validation
// table. It reads on a laptop and prints on A4 or Letter.
func Report(w io.Writer, d ReportData) error {
	type chartView struct {
		ID, Title, Caption string
		SVG                template.HTML
	}
	var charts []chartView
	for _, c := range d.Charts {
		svg, err := c.Chart.InlineSVG()
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
	}).ParseFS(templates, "templates/report.html")
	if err != nil {
		return err
	}
	return t.Execute(w, struct {
		ReportData
		ChartViews []chartView
		R          run.Result
	}{d, charts, d.Result})
}
