package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// DPI is the resolution of PNG output: crisp on a high-density laptop
// screen and in a slide deck.
const DPI = 144

// Formats are the file formats Save writes, in order.
var Formats = []string{"png", "svg"}

// Chart is a finished figure: one or more panels stacked vertically, their
// plotting areas aligned, drawn on a canvas of a fixed size.
type Chart struct {
	// Name is the file stem Save uses ("utilization" → utilization.png).
	Name string
	// Title is the figure's title (also the title of its first panel).
	Title string

	width  vg.Length
	panels []panel
}

// panel is one plot of a chart and its height in inches. A free panel (a
// legend) spans the chart's width instead of aligning its plotting area
// with the others.
type panel struct {
	p    *plot.Plot
	h    float64
	free bool
}

const (
	chartPad = vg.Length(6)
	panelGap = vg.Length(8)
)

// newChart returns a chart w inches wide with the panels stacked top to
// bottom.
func newChart(name, title string, w float64, panels ...panel) *Chart {
	return &Chart{Name: name, Title: title, width: vg.Length(w) * vg.Inch, panels: panels}
}

func (c *Chart) height() vg.Length {
	h := 2*chartPad + panelGap*vg.Length(max(len(c.panels)-1, 0))
	for _, p := range c.panels {
		h += vg.Length(p.h) * vg.Inch
	}
	return h
}

// Size is the chart's width and height in inches.
func (c *Chart) Size() (w, h float64) {
	return float64(c.width / vg.Inch), float64(c.height() / vg.Inch)
}

// Panels is the number of stacked panels.
func (c *Chart) Panels() int { return len(c.panels) }

// draw draws the panels on dc, each canvas cropped so that every plotting
// area has the same left and right edges (as gonum's plot.Align does for
// equal tiles).
func (c *Chart) draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	dc = draw.Crop(dc, chartPad, -chartPad, chartPad, -chartPad)
	canvases := make([]draw.Canvas, len(c.panels))
	top := dc.Max.Y
	var left, right vg.Length
	for i, p := range c.panels {
		h := vg.Length(p.h) * vg.Inch
		sub := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: dc.Min.X, Y: top - h}, Max: vg.Point{X: dc.Max.X, Y: top}}}
		canvases[i] = sub
		top -= h + panelGap
		if p.free {
			continue
		}
		da := p.p.DataCanvas(sub)
		left = max(left, da.Min.X-sub.Min.X)
		right = max(right, sub.Max.X-da.Max.X)
	}
	for i, p := range c.panels {
		sub := canvases[i]
		if p.free {
			p.p.Draw(sub)
			continue
		}
		da := p.p.DataCanvas(sub)
		sub = draw.Crop(sub, left-(da.Min.X-sub.Min.X), -(right - (sub.Max.X - da.Max.X)), 0, 0)
		p.p.Draw(sub)
	}
}

// Render writes the chart to w as "png" or "svg".
func (c *Chart) Render(w io.Writer, format string) error {
	var wt io.WriterTo
	switch format {
	case "png":
		cv := vgimg.NewWith(vgimg.UseWH(c.width, c.height()), vgimg.UseDPI(DPI))
		c.draw(draw.New(cv))
		wt = vgimg.PngCanvas{Canvas: cv}
	case "svg":
		cv := vgsvg.New(c.width, c.height())
		c.draw(draw.New(cv))
		var buf bytes.Buffer
		if _, err := cv.WriteTo(&buf); err != nil {
			return fmt.Errorf("plots: %s: %w", c.Name, err)
		}
		_, err := io.WriteString(w, fallbackFonts(buf.String()))
		return err
	default:
		return fmt.Errorf("plots: unknown format %q (valid: %s)", format, strings.Join(Formats, ", "))
	}
	_, err := wt.WriteTo(w)
	return err
}

// fallbackFonts names fonts with Liberation Sans's metrics after it, for
// viewers that do not have it.
func fallbackFonts(svg string) string {
	return strings.ReplaceAll(svg, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;")
}

// InlineSVG returns the chart as an <svg> element for an HTML page: the SVG
// without its XML prelude, scaled by its viewBox to the width of its box,
// with an accessible title.
func (c *Chart) InlineSVG() (string, error) { return c.inlineSVG(c.Title) }

// inlineSVG is InlineSVG with alt as the accessible name.
func (c *Chart) inlineSVG(alt string) (string, error) {
	var b strings.Builder
	if err := c.Render(&b, "svg"); err != nil {
		return "", err
	}
	s := b.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("plots: %s: no <svg> element in the SVG output", c.Name)
	}
	s = s[i:]
	// Let CSS size it; the viewBox keeps the aspect ratio.
	s = strings.Replace(s, "<svg width=", `<svg role="img" aria-label="`+htmlAttr(alt)+`" data-width=`, 1)
	s = strings.Replace(s, " height=", " data-height=", 1)
	return s, nil
}

func htmlAttr(s string) string {
	r := strings.NewReplacer(`&`, "&amp;", `"`, "&#34;", `<`, "&lt;", `>`, "&gt;")
	return r.Replace(s)
}

// Save writes the chart as DIR/NAME.png and DIR/NAME.svg and returns the
// paths; a failed Close is an error (the file may be incomplete).
func (c *Chart) Save(dir string) ([]string, error) {
	var paths []string
	for _, f := range Formats {
		path := filepath.Join(dir, c.Name+"."+f)
		if err := saveFile(path, func(w io.Writer) error { return c.Render(w, f) }); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func saveFile(path string, write func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return write(f)
}

// Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2002).
var (
	black      = color.RGBA{0x00, 0x00, 0x00, 0xff}
	orange     = color.RGBA{0xe6, 0x9f, 0x00, 0xff}
	skyBlue    = color.RGBA{0x56, 0xb4, 0xe9, 0xff}
	green      = color.RGBA{0x00, 0x9e, 0x73, 0xff}
	yellow     = color.RGBA{0xf0, 0xe4, 0x42, 0xff}
	blue       = color.RGBA{0x00, 0x72, 0xb2, 0xff}
	vermillion = color.RGBA{0xd5, 0x5e, 0x00, 0xff}
	purple     = color.RGBA{0xcc, 0x79, 0xa7, 0xff}
	grey       = color.RGBA{0x99, 0x99, 0x99, 0xff}
	lightGrey  = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

// sans is the text face of every chart.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func face(size float64, bold bool) font.Font {
	f := sans
	if bold {
		f.Weight = xfont.WeightBold
	}
	f.Size = font.Length(size)
	return f
}

// Grid lines of a panel.
type gridLines int

const (
	gridBoth gridLines = iota
	gridH              // horizontal lines only (values read off the y axis)
	gridV              // vertical lines only (values read off the x axis)
	gridNone
)

// newPlot returns a panel with the house style: sans text, a light grid,
// axis labels with units.
func newPlot(title, xLabel, yLabel string, grid gridLines) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = face(13, true)
	p.Title.Padding = 6
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = face(11, false)
		a.Tick.Label.Font = face(10, false)
		a.Padding = 2
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = face(10, false)
	p.Legend.ThumbnailWidth = 14
	if grid != gridNone {
		g := plotter.NewGrid()
		g.Vertical.Color, g.Horizontal.Color = lightGrey, lightGrey
		g.Vertical.Width, g.Horizontal.Width = 0.5, 0.5
		if grid == gridH {
			g.Vertical.Color = nil
		}
		if grid == gridV {
			g.Horizontal.Color = nil
		}
		p.Add(g)
	}
	return p
}

// barLabelGap is the gap between a bar's end and its label. A leading
// space would do in PNG, but SVG collapses it and the label touches the
// bar.
const barLabelGap = vg.Length(4)

// ErrNoData is returned by chart constructors given nothing to plot.
var ErrNoData = errors.New("plots: no data to plot")

// NotDrawn is the error of a chart that would be degenerate (one bar, a
// flat line, every trial the same): Reason says in one line what it would
// have shown, for the page to print instead of the picture. It is an
// ErrNoData (errors.Is), so callers that skip empty charts skip it too.
type NotDrawn struct {
	Chart  string // the chart's name, e.g. "memory"
	Reason string // one line, e.g. "one pipeline stage: 61 GiB of 80 GiB per GPU"
}

func (e *NotDrawn) Error() string { return "plots: " + e.Chart + " not drawn: " + e.Reason }

// Is makes a NotDrawn an ErrNoData.
func (e *NotDrawn) Is(target error) bool { return target == ErrNoData }

// finite reports whether every value is a finite number.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// thousands formats an integer with thousands separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sig formats a number to about three significant figures, without
// exponent for everyday magnitudes.
func sig(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6 || a < 1e-3:
		return fmt.Sprintf("%.3g", v)
	case a >= 1000:
		return thousands(int(math.Round(v)))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// plural picks the word for a count.
func plural(n float64, one, many string) string {
	if math.Round(n) == 1 {
		return one
	}
	return many
}

// Human formats a count for a sentence: 15.6 trillion, 26.2 million,
// 16,384; three significant figures.
func Human(v float64) string {
	a := math.Abs(v)
	for _, u := range []struct {
		f    float64
		name string
	}{{1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}} {
		if a >= u.f {
			return fmt.Sprintf("%.3g %s", v/u.f, u.name)
		}
	}
	return sig(v)
}
