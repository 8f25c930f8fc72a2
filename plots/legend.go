package plots

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// entry is one legend item: a thumbnail and its label.
type entry struct {
	label string
	thumb plot.Thumbnailer
}

// swatch is a filled square thumbnail.
type swatch struct{ color color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(s.color, c.ClipPolygonY(pts))
}

// legendRow lays out legend entries left to right, wrapping to the width of
// its panel: a legend that sits under the title instead of on the data.
type legendRow struct {
	entries []entry
	style   text.Style
}

const (
	legendThumb = vg.Length(12)
	legendGap   = vg.Length(4)
	legendSpace = vg.Length(14)
	legendPadX  = vg.Length(24)
)

func newLegendRow(entries []entry) *legendRow {
	return &legendRow{entries: entries, style: text.Style{Color: color.Black, Font: font.From(face(10, false), 10), Handler: plot.DefaultTextHandler, YAlign: text.YCenter}}
}

func (l *legendRow) lineHeight() vg.Length { return l.style.Height("Mg") + 5 }

// layout returns where each entry goes, from the top-left of a box width wide.
func (l *legendRow) layout(width vg.Length) (pos []vg.Point, lines int) {
	x, y := vg.Length(0), vg.Length(0)
	lines = 1
	for _, e := range l.entries {
		w := legendThumb + legendGap + l.style.Width(e.label)
		if x > 0 && x+w > width {
			x, y = 0, y+l.lineHeight()
			lines++
		}
		pos = append(pos, vg.Point{X: x, Y: y})
		x += w + legendSpace
	}
	return pos, lines
}

// Plot implements plot.Plotter.
func (l *legendRow) Plot(c draw.Canvas, _ *plot.Plot) {
	c = draw.Crop(c, legendPadX, -legendPadX, 0, 0)
	pos, _ := l.layout(c.Max.X - c.Min.X)
	lh := l.lineHeight()
	for i, e := range l.entries {
		x := c.Min.X + pos[i].X
		mid := c.Max.Y - pos[i].Y - lh/2
		tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: mid - legendThumb/2 + 1}, Max: vg.Point{X: x + legendThumb, Y: mid + legendThumb/2 - 1}}}
		e.thumb.Thumbnail(&tc)
		c.FillText(l.style, vg.Point{X: x + legendThumb + legendGap, Y: mid}, e.label)
	}
}

// legendPanel is a free panel holding a legend row under a title (the
// chart's, when it is the first panel), as high as the entries laid out
// over a chart width inches wide need.
func legendPanel(title string, width float64, entries []entry) panel {
	p := newPlot(title, "", "", gridNone)
	p.HideAxes()
	lr := newLegendRow(entries)
	p.Add(lr)
	_, lines := lr.layout(vg.Length(width)*vg.Inch - 2*chartPad - 2*legendPadX)
	h := float64(vg.Length(lines)*lr.lineHeight()) / float64(vg.Inch)
	if title != "" {
		h += float64((p.Title.TextStyle.Height(title) + p.Title.Padding) / vg.Inch)
	}
	return panel{p: p, h: h + 0.08, free: true}
}
