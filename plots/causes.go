package plots

import (
	"hash/fnv"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// causeMark is how one interruption cause is drawn: a colour and a marker
// shape, so that two causes differ in shape as well as colour (readable in
// greyscale and by colour-blind readers).
type causeMark struct {
	color color.Color
	shape draw.GlyphDrawer
}

// causeMarks fixes the colour and shape of every cause of the built-in
// failure profiles (cluster/failure, Llama 3 Table 5), and of the
// interruptions that are not failures, so that a cause looks the same in
// every chart of every scenario whatever its rank.
var causeMarks = map[string]causeMark{
	"faulty_gpu":                      {vermillion, draw.CircleGlyph{}},
	"software_bug":                    {blue, draw.SquareGlyph{}},
	"network_switch_or_cable":         {orange, draw.TriangleGlyph{}},
	"host_maintenance":                {purple, draw.PyramidGlyph{}},
	"gpu_sram_memory":                 {skyBlue, draw.CrossGlyph{}},
	"gpu_system_processor":            {green, draw.PlusGlyph{}},
	"nic":                             {black, draw.RingGlyph{}},
	"nccl_watchdog_timeout":           {vermillion, draw.BoxGlyph{}},
	"silent_data_corruption":          {blue, draw.RingGlyph{}},
	"gpu_thermal_interface_or_sensor": {orange, draw.SquareGlyph{}},
	"ssd":                             {purple, draw.CircleGlyph{}},
	"power_supply":                    {skyBlue, draw.TriangleGlyph{}},
	"server_chassis":                  {green, draw.BoxGlyph{}},
	"io_expansion_board":              {black, draw.CrossGlyph{}},
	"dependency":                      {vermillion, draw.PlusGlyph{}},
	"cpu":                             {blue, draw.PyramidGlyph{}},
	"system_memory":                   {orange, draw.RingGlyph{}},
}

// Marks of the rows that are not a single failure cause.
var (
	otherMark   = causeMark{grey, draw.RingGlyph{}}
	plannedMark = causeMark{black, draw.TriangleGlyph{}}
	slowMark    = causeMark{color.RGBA{0x8c, 0x7a, 0x00, 0xff}, draw.SquareGlyph{}} // dark yellow: a slow node
)

var markColors = []color.Color{vermillion, blue, orange, purple, skyBlue, green, black}
var markShapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PyramidGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.RingGlyph{}, draw.BoxGlyph{}}

// markOf is the fixed mark of a cause: from causeMarks, or for a cause a
// scenario names itself, a colour and a shape picked by a hash of its
// name (the same in every chart and every run).
func markOf(cause string) causeMark {
	if m, ok := causeMarks[cause]; ok {
		return m
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(cause))
	v := h.Sum32()
	return causeMark{markColors[v%uint32(len(markColors))], markShapes[(v/7)%uint32(len(markShapes))]}
}

var whiteC = color.White

func colorOf(r, g, b uint8) color.Color { return color.RGBA{r, g, b, 0xff} }

// freeLabels writes text at data points without reserving room for it
// around the plotting area (plotter.Labels does, and a long or rotated
// label then squeezes the data to nothing); the text may run past the
// axes' ends.
type freeLabels struct {
	xys    plotter.XYs
	labels []string
	style  text.Style
	offset vg.Point
}

func newFreeLabels(xys plotter.XYs, labels []string, style text.Style, offset vg.Point) *freeLabels {
	return &freeLabels{xys, labels, style, offset}
}

// Plot implements plot.Plotter.
func (l *freeLabels) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for i, xy := range l.xys {
		st, pt := l.style, vg.Point{X: tx(xy.X) + l.offset.X, Y: ty(xy.Y) + l.offset.Y}
		if pt.X+st.Width(l.labels[i]) > c.Max.X && l.offset.X > 0 {
			// It would run off the right edge: end it at the point instead.
			st.XAlign, pt.X = text.XRight, tx(xy.X)-l.offset.X
		}
		c.FillText(st, pt, l.labels[i])
	}
}
