package plots

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/clustersim/clustersim/sim/run"
)

func reportData(t *testing.T) ReportData {
	r := fixture()
	r.ModelErrorPct = 7.8
	r.ModelError = &run.ModelError{BandPct: 7.8, MeanAbsPct: 5.5, Rows: 3, Exact: true, Basis: "90th percentile of |step-time error| over 3 published h100-sxm bf16 runs"}
	var charts []ReportChart
	for _, f := range []func() (*Chart, error){
		func() (*Chart, error) { return Utilization(r) },
		func() (*Chart, error) {
			return Breakdown("Where the step goes", []BreakdownBar{{Label: "as run", Breakdown: r.Breakdown}})
		},
		func() (*Chart, error) { return Memory("Memory", stages(), 80, "h100-sxm") },
		func() (*Chart, error) { return WallClock(r) },
	} {
		c, err := f()
		if err != nil {
			t.Fatal(err)
		}
		charts = append(charts, ReportChart{Chart: c, Caption: "How to read " + c.Name + " <carefully> & slowly"})
	}
	return ReportData{
		Scenario: "fixture", Description: "A run <worked out> by hand", Question: "How long?", Model: "llama3-8b", GPU: "h100-sxm",
		Layout: "tp 2", Command: "clustersim report fixture", Result: r, Charts: charts,
		ScenarioYAML: "name: fixture\nmodel: llama3-8b # <b>not bold</b>\n",
		Assumptions:  []Assumption{{"Model FLOPs", "6ND & more", "MODEL.md"}},
		Validation: []ValidationRow{{Case: "a", Metric: "mfu", Published: 0.4, Predicted: 0.5, ErrorPct: 25, Source: "paper"},
			{Case: "b", Metric: "interruptions_per_day", Published: 7.76, Predicted: 7.9, ErrorPct: 1.8, Source: "paper", ByConstruction: true}},
		Notes: []string{"32,768 GPUs skipped"},
	}
}

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkWellFormed tokenizes the page and requires every element to be
// closed, in order, by an explicit end tag (void elements and self-closing
// SVG elements excepted), and nothing to fetch from elsewhere.
func checkWellFormed(t *testing.T, page []byte) {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizer: %v", z.Err())
			}
			if len(stack) > 0 {
				t.Errorf("unclosed elements at the end: %v", stack)
			}
			return
		case html.StartTagToken:
			tok := z.Token()
			if tok.Data == "script" || tok.Data == "link" || tok.Data == "iframe" || tok.Data == "img" {
				t.Errorf("<%s> in a self-contained page", tok.Data)
			}
			for _, a := range tok.Attr {
				if (a.Key == "src" || a.Key == "href" || a.Key == "xlink:href") && !strings.HasPrefix(a.Val, "#") && !strings.HasPrefix(a.Val, "data:") {
					t.Errorf("<%s %s=%q> fetches from elsewhere", tok.Data, a.Key, a.Val)
				}
			}
			if !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("</%s> closes %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	if match(n) {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, find(c, match)...)
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestReport(t *testing.T) {
	d := reportData(t)
	var buf bytes.Buffer
	if err := Report(&buf, d); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	checkWellFormed(t, page)
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	// Every chart inline, as an <svg> inside its <figure>.
	for _, c := range d.Charts {
		figs := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Figure && attr(n, "id") == "chart-"+c.Chart.Name })
		if len(figs) != 1 {
			t.Errorf("chart %s: %d figures", c.Chart.Name, len(figs))
			continue
		}
		svgs := find(figs[0], func(n *html.Node) bool { return n.DataAtom == atom.Svg })
		if len(svgs) != 1 || attr(svgs[0], "viewBox") == "" {
			t.Errorf("chart %s: %d inline <svg> with a viewBox", c.Chart.Name, len(svgs))
		}
		if got := textOf(find(figs[0], func(n *html.Node) bool { return n.DataAtom == atom.Figcaption })[0]); got != "How to read "+c.Chart.Name+" <carefully> & slowly" {
			t.Errorf("caption %q", got)
		}
	}
	if n := len(find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Svg })); n != len(d.Charts) {
		t.Errorf("%d <svg>, want %d", n, len(d.Charts))
	}
	// The answer, in the first screen: the cards and their numbers
	// (fixture: 12,610 s = 0.146 days; 400 TFLOPS; 40% MFU; ETTR 10,000/12,610 = 79.3%).
	r := d.Result
	for id, want := range map[string][]string{
		"card-days":      {sig(r.WallClockDays) + " d", "90%: " + sig(r.WallClockDaysCI.P5) + " – " + sig(r.WallClockDaysCI.P95)},
		"card-gpu-hours": {Human(r.GPUHours)},
		"card-tflops":    {"400"},
		"card-mfu":       {"40.0%"},
		"card-ettr":      {"79.3%"},
	} {
		cards := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
		if len(cards) != 1 {
			t.Errorf("%s: %d elements", id, len(cards))
			continue
		}
		for _, w := range want {
			if got := textOf(cards[0]); !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", id, got, w)
			}
		}
	}
	header := find(doc, func(n *html.Node) bool { return attr(n, "id") == "answer" })
	if len(header) != 1 || !strings.Contains(textOf(header[0]), "How long?") {
		t.Error("the question is not in the first screen")
	}
	// Text is escaped, the YAML kept verbatim.
	pre := find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Pre })
	if len(pre) != 1 || !strings.Contains(textOf(pre[0]), "# <b>not bold</b>") {
		t.Errorf("scenario YAML not shown verbatim")
	}
	for _, s := range []string{"6ND &amp; more", "32,768 GPUs skipped", "@media print"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("page lacks %q", s)
		}
	}
	if v := find(doc, func(n *html.Node) bool { return attr(n, "id") == "validation" }); len(v) != 1 || !strings.Contains(textOf(v[0]), "+25.0%") {
		t.Error("validation table lacks the error")
	}
	// The model-error band beside the headline cards, apart from the
	// Monte Carlo interval, with its basis; by-construction rows say so
	// and show no error.
	for _, id := range []string{"card-days", "card-gpu-hours", "card-tflops"} {
		if c := find(doc, func(n *html.Node) bool { return attr(n, "id") == id }); len(c) != 1 || !strings.Contains(textOf(c[0]), "± 7.8% model error") {
			t.Errorf("%s lacks the model-error band", id)
		}
	}
	if c := find(doc, func(n *html.Node) bool { return attr(n, "id") == "model-error" }); len(c) != 1 || !strings.Contains(textOf(c[0]), "3 published h100-sxm bf16 runs") || !strings.Contains(textOf(c[0]), "Monte Carlo") {
		t.Error("no model-error paragraph with its basis")
	}
	if v := find(doc, func(n *html.Node) bool { return attr(n, "id") == "validation" }); len(v) != 1 || !strings.Contains(textOf(v[0]), "by construction") || strings.Contains(textOf(v[0]), "+1.8%") {
		t.Error("the by-construction row is not marked as such, or shows an error")
	}
	if bytes.Contains(page, []byte("<worked out>")) {
		t.Error("description not escaped")
	}
}

func ExampleCauseLabel() {
	fmt.Println(CauseLabel("faulty_gpu"))
	fmt.Println(CauseLabel("network_switch_or_cable"))
	// Output:
	// faulty GPU
	// network switch or cable
}

func ExampleHuman() {
	fmt.Println(Human(15.6e12), "tokens,", Human(30.84e6), "GPU-hours,", Human(16384), "GPUs")
	// Output: 15.6 trillion tokens, 30.8 million GPU-hours, 16,384 GPUs
}

// TestReportAnswers: the four answers in the first screen, from the
// optional fields; absent ones say so instead of printing zeros; text is
// escaped; the headline uses the run's GPUs per phase.
func TestReportAnswers(t *testing.T) {
	d := reportData(t)
	render := func(d ReportData) (*html.Node, string) {
		var buf bytes.Buffer
		if err := Report(&buf, d); err != nil {
			t.Fatal(err)
		}
		checkWellFormed(t, buf.Bytes())
		doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		return doc, buf.String()
	}
	byID := func(doc *html.Node, id string) string {
		n := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
		if len(n) != 1 {
			t.Fatalf("%d elements #%s", len(n), id)
		}
		return textOf(n[0])
	}
	// absent: each answer says what is missing, no zeros
	doc, _ := render(d)
	for id, want := range map[string]string{"answer-layout": "no layout search", "answer-cost": "cost not priced", "answer-bigger": "no scaling study"} {
		if got := byID(doc, id); !strings.Contains(got, want) {
			t.Errorf("%s: %q lacks %q", id, got, want)
		}
	}
	// a best layout while the scenario's own does not divide or fit: no
	// "keep" with 0 days
	d.Recommended = &LayoutAnswer{Best: "tp4 pp1 cp1 mb1 z3", BestDays: 15.5, Feasible: 10688}
	doc, _ = render(d)
	if got := byID(doc, "answer-layout"); !strings.Contains(got, "Use tp4 pp1 cp1 mb1 z3: 15.5 days; the scenario's own layout does not divide or fit") || strings.Contains(got, "Keep") {
		t.Errorf("answer-layout without the scenario's own: %q", got)
	}
	// present
	cost, energy := 68e6, run.Interval{Mean: 41.2}
	d.Result.Cost, d.Result.EnergyMWh, d.Currency = &cost, &energy, "USD"
	d.Recommended = &LayoutAnswer{AsRun: "tp8 pp16 cp1 mb1 v8", AsRunDays: 70, Best: "tp8 pp8 cp1 mb1 v4", BestDays: 65.31, Feasible: 11000}
	d.Bigger = &SizeAnswer{GPUs: 32768, Layout: "tp8 pp16 cp2", Days: 36, GPUHours: 28.3e6, Cost: 56.6e6, Why: "beyond it each halving of days costs 20% more"}
	d.Sensitivity = sensitivity().Bars
	d.Description = `A "quoted" <script>alert('x')</script> run on 16,384 H100s`
	d.Provenance = &Provenance{Version: "v1.2.3", Revision: "abc123", Date: "2026-12-01", ScenarioFile: "# my comment <b>\nname: x\n"}
	d.Constants = []Constant{{"GEMM efficiency", "68.5% of peak", "cluster/compute.go"}}
	doc, page := render(d)
	for id, want := range map[string][]string{
		// 70 → 65.31 days: (70 − 65.31)/70 = 6.7% fewer days
		"answer-layout": {"tp8 pp8 cp1 mb1 v4", "6.7% fewer days", "11,000"},
		"answer-cost":   {"41.2 MWh", "68 million USD", "GPU-hours"},
		"answer-sure":   {"± 7.8%", "Monte Carlo", "model error (step time)"},
		"answer-bigger": {"32,768 GPUs", "56.6 million USD"},
	} {
		got := byID(doc, id)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", id, got, w)
			}
		}
	}
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") || !strings.Contains(page, "&#34;quoted&#34;") {
		t.Error("description not escaped")
	}
	// The run used 1,024 GPUs, the description says 16,384: the page says so.
	if got := byID(doc, "answer"); !strings.Contains(got, "this run used 1,024 GPUs") {
		t.Errorf("no note on the description's GPU count: %q", got)
	}
	if got := byID(doc, "scenario-file"); !strings.Contains(got, "# my comment <b>") {
		t.Errorf("scenario file %q", got)
	}
	if got := byID(doc, "constants"); !strings.Contains(got, "68.5% of peak") {
		t.Errorf("constants %q", got)
	}
	if got := byID(doc, "provenance"); !strings.Contains(got, "v1.2.3") || !strings.Contains(got, "abc123") {
		t.Errorf("provenance %q", got)
	}
	// Multi-phase: the headline gives the GPUs of each phase.
	d.Result = multiPhase()
	doc, _ = render(d)
	if got := byID(doc, "answer-cost"); !strings.Contains(got, "8,192 (short context) then 16,384 (long context)") {
		t.Errorf("headline %q", got)
	}
	// Every chart has an accessible name; a not-drawn chart says why.
	d.Charts = append(d.Charts, ReportChart{Caption: "memory", NotDrawn: "one pipeline stage"})
	doc, _ = render(d)
	for _, s := range find(doc, func(n *html.Node) bool { return n.DataAtom == atom.Svg }) {
		if attr(s, "aria-label") == "" || attr(s, "role") != "img" {
			t.Error("a chart without alt text")
		}
	}
	if got := byID(doc, "not-drawn-memory"); !strings.Contains(got, "one pipeline stage") {
		t.Errorf("not-drawn %q", got)
	}
}
