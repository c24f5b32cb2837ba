package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgeps"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/attnlab/attnlab/internal/safeout"
)

// PlotDPI is the resolution of PNG, JPEG and TIFF plots.
const PlotDPI = 144

// PlotFormats lists the file extensions the plots accept; the extension of
// the path picks the format.
var PlotFormats = []string{".png", ".svg", ".pdf", ".eps", ".jpg", ".jpeg", ".tif", ".tiff"}

// CheckPlotPath returns the error a plot to path would end with when
// path's extension is none of PlotFormats, before any work is done: "no
// extension (want one of ...)" or "unknown format ".doc" (want one of
// ...)", for the caller to prefix with the path.
func CheckPlotPath(path string) error {
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == "":
		return fmt.Errorf("no extension (want one of %s)", strings.Join(PlotFormats, ", "))
	case !slices.Contains(PlotFormats, ext):
		return fmt.Errorf("unknown format %q (want one of %s)", ext, strings.Join(PlotFormats, ", "))
	}
	return nil
}

// newCanvas returns a canvas of size w×h for the format of path.
func newCanvas(path string, w, h vg.Length) (vg.CanvasWriterTo, error) {
	if err := CheckPlotPath(path); err != nil {
		return nil, fmt.Errorf("report: plot file %q: %w", path, err)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PlotDPI), vgimg.UseBackgroundColor(color.White))}, nil
	case ".jpg", ".jpeg":
		return vgimg.JpegCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PlotDPI), vgimg.UseBackgroundColor(color.White))}, nil
	case ".tif", ".tiff":
		return vgimg.TiffCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(PlotDPI), vgimg.UseBackgroundColor(color.White))}, nil
	case ".svg":
		return vgsvg.New(w, h), nil
	case ".pdf":
		return vgpdf.New(w, h), nil
	case ".eps":
		return vgeps.New(w, h), nil
	}
	return nil, fmt.Errorf("report: plot file %q: no canvas for its format", path) // a format added to PlotFormats only
}

// savePlot draws a w×h figure with fn over a white background that covers
// the whole figure, and writes it to out in the format of its extension
// (standard output: PNG), through safeout: a failed plot leaves no partial
// file, and nothing that is not ours is replaced. The raster canvases are
// white already; the vector ones (SVG, PDF, EPS) start transparent, and
// gonum paints white only under the plot itself, so that the legend and the
// colour bar beside it, and a log axis's label, would show black text on
// whatever a dark page or viewer puts behind them.
func savePlot(out safeout.Target, w, h vg.Length, fn func(dc draw.Canvas)) error {
	path := out.Path
	if out.IsStdout() {
		path = "stdout.png"
	}
	c, err := newCanvas(path, w, h)
	if err != nil {
		return err
	}
	if err := out.Check(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	fn(dc)
	if err := out.Write(func(w io.Writer) error { _, err := c.WriteTo(w); return err }); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// seriesColors are the colours of the groups' lines (Okabe–Ito, readable by
// colour-blind people), then plotutil-like fallbacks.
var seriesColors = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
	{240, 228, 66, 255},  // yellow
	{128, 128, 128, 255}, // grey
	{120, 60, 20, 255},   // brown
}

func seriesColor(i int) color.RGBA { return seriesColors[i%len(seriesColors)] }

// dashes varies the line style once the colours run out.
func dashes(i int) []vg.Length {
	switch (i / len(seriesColors)) % 3 {
	case 1:
		return []vg.Length{vg.Points(6), vg.Points(3)}
	case 2:
		return []vg.Length{vg.Points(2), vg.Points(2)}
	}
	return nil
}

// legendBeside draws p with the legend outside its data area, on the
// right, top-aligned with the data area; the legend's width is measured
// from its entries. An empty legend (n == 0) takes no room.
func legendBeside(dc draw.Canvas, p *plot.Plot, legend plot.Legend, n int) {
	if n == 0 {
		wrapTitle(p, dc.Size().X)
		p.Draw(logYLabel(dc, p))
		return
	}
	legend.Top, legend.Left = true, true
	width := legend.Rectangle(dc).Size().X + vg.Points(16)
	pc := draw.Crop(dc, 0, -width, 0, 0)
	wrapTitle(p, pc.Size().X)
	pc = logYLabel(pc, p)
	p.Draw(pc)
	data := p.DataCanvas(pc)
	lc := draw.Crop(dc, dc.Size().X-width+vg.Points(10), 0, 0, 0)
	lc.Max.Y, lc.Min.Y = data.Max.Y, data.Min.Y
	legend.Draw(lc)
}

// logYLabel draws the y axis's label of a log-scale plot itself, beside
// the middle of the data area, and returns the canvas left for the plot,
// which no longer has a label. gonum makes room for that label as if it
// sat at the arithmetic middle of the axis's range, which on a log scale
// is near the top: the plot shrank under a blank strip below the title.
func logYLabel(c draw.Canvas, p *plot.Plot) draw.Canvas {
	if _, ok := p.Y.Scale.(plot.LogScale); !ok || p.Y.Label.Text == "" {
		return c
	}
	text, sty := p.Y.Label.Text, p.Y.Label.TextStyle
	p.Y.Label.Text = ""
	h, descent := sty.Height(text), sty.FontExtents().Descent
	rest := draw.Crop(c, h+descent+p.Y.Label.Padding, 0, 0, 0)
	sty.Rotation += math.Pi / 2
	data := p.DataCanvas(rest)
	c.FillText(sty, vg.Point{X: c.Min.X + h - descent, Y: (data.Min.Y + data.Max.Y) / 2}, text)
	return rest
}

// wrapTitle breaks p's title between its " · " parts onto as many lines
// as it takes to fit width: a long experiment name would otherwise push
// the centred title off both sides of the plot.
func wrapTitle(p *plot.Plot, width vg.Length) {
	ts := p.Title.TextStyle
	if ts.Width(p.Title.Text) <= width {
		return
	}
	var lines []string
	for _, part := range strings.Split(p.Title.Text, " · ") {
		if k := len(lines) - 1; k >= 0 && ts.Width(lines[k]+" · "+part) <= width {
			lines[k] += " · " + part
		} else {
			lines = append(lines, part)
		}
	}
	p.Title.Text = strings.Join(lines, "\n")
}

// newLegend returns a legend in the plots' text style.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = vg.Points(10)
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(4)
	return l
}

// styleAxes sets the fonts of a plot to readable sizes.
func styleAxes(p *plot.Plot) {
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.Title.Padding = vg.Points(8)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(9)
		a.Tick.Marker = distinctTicks{}
	}
}

// legendLabels returns the legend label of each row in rows (indices into
// c.Rows): its group with only the keys whose values differ among those
// rows, so that keys the plotted groups share do not crowd the legend;
// "all runs" when nothing differs. The values of the pooled keys follow,
// as the table lists them: "train.steps=60, 150 (pooled)". The label ends
// with the number of runs: "attention.name=dot · 3 runs", or "· 2/3 runs"
// when only 2 of the group's 3 runs contributed data (contributed[i]).
func legendLabels(c *Comparison, rows []int, contributed map[int]int) map[int]string {
	short, pooled := ShortKeys(c.Keys), ShortKeys(c.Pooled)
	out := map[int]string{}
	for _, i := range rows {
		var parts []string
		for k := range c.Keys {
			v := c.Rows[i].Group[k]
			differs := false
			for _, j := range rows {
				differs = differs || c.Rows[j].Group[k] != v
			}
			if differs && v != "" {
				parts = append(parts, short[k]+"="+v)
			}
		}
		label := strings.Join(parts, " ")
		if label == "" {
			label = "all runs"
		}
		for _, k := range c.pooledColumns() {
			label += " · " + pooled[k] + "=" + strings.Join(c.Rows[i].Pooled[k], ", ") + " (pooled)"
		}
		n, got := len(c.Rows[i].Runs), contributed[i]
		switch {
		case got < n:
			label += fmt.Sprintf(" · %d/%d runs", got, n)
		case n == 1:
			label += " · 1 run"
		default:
			label += fmt.Sprintf(" · %d runs", n)
		}
		out[i] = label
	}
	return out
}

// addMissing adds one legend line for the groups that have no data.
func addMissing(legend *plot.Legend, c *Comparison, missing []int, what string) {
	switch len(missing) {
	case 0:
	case 1:
		label := c.Label(missing[0])
		if label == "" {
			label = "all runs"
		}
		legend.Add(fmt.Sprintf("without %s: %s", what, label))
	default:
		legend.Add(fmt.Sprintf("%d groups without %s", len(missing), what))
	}
}

// plotTitle prefixes what with the experiments of the selected runs.
func plotTitle(sel *selection, what string) string {
	var exps []string
	for _, r := range sel.runs {
		if !slices.Contains(exps, r.Experiment) {
			exps = append(exps, r.Experiment)
		}
	}
	if len(exps) > 2 {
		return fmt.Sprintf("%d experiments · %s", len(exps), what)
	}
	return strings.Join(exps, ", ") + " · " + what
}

// distinctTicks is gonum's default tick marker with labels that never
// repeat: over a narrow range (losses 2.405–2.423) its labels are rounded
// to too few digits ("2.41" three times), so they are then written with
// as many decimals as it takes to tell them apart. Labels of values of a
// million or more are written with as few significant digits as give each
// its value, in e-notation when the value has more digits than that (as
// matplotlib's default does; 1000005 stays 1000005): gonum writes every
// digit, and a diverged run's loss took a label of 34 digits
// ("5500000000000000000249229435994112") that squeezed the plot.
type distinctTicks struct{}

// largeTick is the magnitude from which tick labels are in e-notation.
const largeTick = 1e6

func (distinctTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	large := false
	for _, t := range ticks {
		large = large || t.Label != "" && math.Abs(t.Value) >= largeTick
	}
	if large {
		for digits := 1; digits <= 17; digits++ {
			exact := true
			for i, t := range ticks {
				if t.Label != "" {
					ticks[i].Label = strconv.FormatFloat(t.Value, 'g', digits, 64)
					v, _ := strconv.ParseFloat(ticks[i].Label, 64)
					exact = exact && math.Abs(v-t.Value) <= 1e-9*math.Abs(t.Value)
				}
			}
			if exact {
				break
			}
		}
		return ticks
	}
	for digits := 0; digits <= 12 && repeatsLabel(ticks); digits++ {
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', digits, 64)
			}
		}
	}
	return ticks
}

// stepTicks labels only whole numbers, for an axis of training steps:
// over a narrow range (a run with one evaluation so far, at step 500)
// gonum's marker labels 499.5, 500.0 and 500.5. Other ticks stay, unlabelled.
type stepTicks struct{}

func (stepTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := distinctTicks{}.Ticks(lo, hi)
	labelled := false
	for i, t := range ticks {
		switch {
		case t.Label == "":
		case t.Value != math.Trunc(t.Value):
			ticks[i].Label = ""
		default: // a whole step is written whole, however large
			ticks[i].Label = strconv.FormatFloat(t.Value, 'f', 0, 64)
			labelled = true
		}
	}
	if !labelled {
		for v := math.Ceil(lo); v <= hi; v++ {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
		}
	}
	return ticks
}

// repeatsLabel reports whether two of ticks have the same label.
func repeatsLabel(ticks []plot.Tick) bool {
	seen := map[string]bool{}
	for _, t := range ticks {
		if t.Label == "" {
			continue
		}
		if seen[t.Label] {
			return true
		}
		seen[t.Label] = true
	}
	return false
}

// maxLogLabels is the most powers of ten logTicks labels.
const maxLogLabels = 8

// logTicks is gonum's log-scale tick marker (plot.LogTicks) for an axis
// that may span many decades, as a diverged run's perplexity does
// (1e240 to 1e281): gonum labels every power of ten with its float noise
// ("1.0000000000000002e+281") and draws eight minor ticks in each decade,
// forty labels of 23 characters over a band of ticks. Here a power of ten
// is labelled by its shortest form that rounds to it (1e+281, 1000, 0.01);
// over more than maxLogLabels decades only every k-th power is labelled,
// the others kept as unlabelled ticks (dropped too where k > 6), and the
// minor ticks are dropped.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	labelled := 0
	for i, t := range ticks {
		if t.Label == "" {
			continue
		}
		labelled++
		short, _ := strconv.ParseFloat(strconv.FormatFloat(t.Value, 'g', 3, 64), 64)
		ticks[i].Label = strconv.FormatFloat(short, 'g', -1, 64)
	}
	if labelled <= maxLogLabels {
		return ticks
	}
	every := (labelled + maxLogLabels - 1) / maxLogLabels
	var out []plot.Tick
	k := 0
	for _, t := range ticks {
		if t.Label == "" {
			continue // a minor tick: a band of them over many decades
		}
		if k%every != 0 {
			t.Label = ""
		}
		if t.Label != "" || every <= 6 { // powers between labels, where they do not make a band
			out = append(out, t)
		}
		k++
	}
	return out
}
