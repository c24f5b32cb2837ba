package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/internal/term"
	"github.com/attnlab/attnlab/store"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// attentionColors returns the heat map's colour map: YlGnBu from light
// (weight 0) to dark blue (weight top), with luminance linear in the
// weight, over the range [0, top].
func attentionColors(top float64) palette.ColorMap {
	cm, err := moreland.NewLuminance([]color.Color{
		color.NRGBA{8, 29, 88, 255},
		color.NRGBA{34, 94, 168, 255},
		color.NRGBA{65, 182, 196, 255},
		color.NRGBA{199, 233, 180, 255},
		color.NRGBA{255, 255, 217, 255},
	})
	if err != nil {
		panic(err) // the controls above are fixed and valid
	}
	cm.SetMin(0)
	cm.SetMax(top)
	return palette.Reverse(cm)
}

// PlotAttention draws the attention map of test example number example
// (0-based position among the maps the run stored; see eval.attention_maps;
// multi-head attention's maps are the mean over heads, a Transformer's of
// its last decoder layer's cross-attention) of the run with id runID as a
// heat map: source tokens along x (labels rotated), output steps along y
// with the first output at the top, the eos step included, and a colour
// bar from 0 to vmax. vmax 1 is the fixed scale on which maps of different
// runs compare; a smaller vmax (weights above it take its colour), or 0 for
// the map's largest weight, shows attention spread thin over a long source,
// and the title says the scale. The
// figure grows with the number of tokens so that each label has room;
// beyond 60 tokens on an axis only every k-th token is labelled, as the
// axis says. The
// format follows the extension of out.Path (PlotFormats; "-", standard
// output, is PNG); the file is written with safeout's rules.
//
// A map whose weights are all 0 (what a model with attention "none"
// stores) says so in its title. A run without attention maps, or an
// example out of range (the error says how many exist), is an error.
func PlotAttention(ctx context.Context, st *store.Store, runID int64, example int, vmax float64, out safeout.Target) error {
	if !(vmax >= 0 && vmax <= 1) {
		return keyErrorf("report: plot attention: colour scale top %v is not a weight in (0, 1] (0: the map's largest)", vmax)
	}
	r, err := st.RunByID(ctx, runID)
	if err != nil {
		return fmt.Errorf("report: plot attention: %w", err)
	}
	data, err := st.Artifact(ctx, r.ID, artifact.KindAttention, artifact.NameAttention)
	if errors.Is(err, store.ErrNotFound) {
		if r.Status != store.StatusDone {
			return keyErrorf("report: run %d (%s) has no attention maps: it is not finished (status %s), and maps are drawn at its final evaluation", r.ID, r.Name(), r.Status)
		}
		return keyErrorf("report: run %d (%s) has no attention maps (a model without attention, a language model, or eval.attention_maps: 0)", r.ID, r.Experiment)
	}
	if err != nil {
		return fmt.Errorf("report: plot attention: %w", err)
	}
	var maps []artifact.AttentionMap
	if err := json.Unmarshal(data, &maps); err != nil {
		return fmt.Errorf("report: run %d: attention maps: %w", r.ID, err)
	}
	switch {
	case len(maps) == 0:
		return keyErrorf("report: run %d (%s) has no attention maps", r.ID, r.Experiment)
	case example < 0 || example >= len(maps):
		return keyErrorf("report: run %d has %d attention maps (examples 0–%d); example %d is out of range", r.ID, len(maps), len(maps)-1, example)
	}
	m := maps[example]
	g, err := newAttnGrid(m)
	if err != nil {
		return fmt.Errorf("report: run %d: attention map %d: %w", r.ID, example, err)
	}
	title := fmt.Sprintf("%s (run %d) · test example %d", r.Name(), r.ID, m.Index)
	if g.zero() {
		title += " · every weight is 0"
	}
	switch kr, kc := g.pool(attnMaxCells); {
	case kr > 1 && kc > 1:
		title += fmt.Sprintf(" · each cell the largest weight of %d output × %d source tokens", kr, kc)
	case kc > 1:
		title += fmt.Sprintf(" · each cell the largest weight of %d source tokens", kc)
	case kr > 1:
		title += fmt.Sprintf(" · each cell the largest weight of %d output tokens", kr)
	}
	if vmax == 0 {
		// float32 rounding can put a weight a hair above 1.
		vmax = min(g.largest(), 1)
		if vmax == 0 {
			vmax = 1 // every weight 0, said above
		}
	}
	if vmax != 1 {
		title += " · colour scale 0–" + weightLabel(vmax)
	}
	return drawAttention(g, title, vmax, out)
}

// attnMaxCells is the most cells a side of the drawn map has: more than a
// figure shows (attnMaxData), and each costs the plotting library memory.
const attnMaxCells = 600

// pool shrinks a grid with a side over most cells to blocks of kr output
// steps × kc source tokens, each side pooled only when it is over most,
// each cell the largest weight of its block (an alignment a cell wide
// stays visible), labelled by its first token, and returns kr and kc
// (1: that side as is).
func (g *attnGrid) pool(most int) (kr, kc int) {
	kr, kc = (g.rows+most-1)/most, (g.cols+most-1)/most
	if kr <= 1 && kc <= 1 {
		return 1, 1
	}
	rows, cols := (g.rows+kr-1)/kr, (g.cols+kc-1)/kc
	w := make([][]float64, rows)
	for i := range w {
		w[i] = make([]float64, cols)
		for r := i * kr; r < min((i+1)*kr, g.rows); r++ {
			for c, x := range g.w[r] {
				w[i][c/kc] = math.Max(w[i][c/kc], x)
			}
		}
	}
	src, out := make([]string, cols), make([]string, rows)
	for j := range src {
		src[j] = g.src[j*kc]
	}
	for i := range out {
		out[i] = g.out[i*kr]
	}
	g.w, g.src, g.out, g.rows, g.cols = w, src, out, rows, cols
	g.kr, g.kc = kr, kc
	return kr, kc
}

// attnGrid is the weights as a plotter.GridXYZ, rows flipped so that the
// first output step is at the top.
type attnGrid struct {
	w          [][]float64 // [output step][source token]
	src, out   []string
	rows, cols int
	kr, kc     int // tokens per cell (pool); 0 or 1: one
}

func (g *attnGrid) Dims() (c, r int)   { return g.cols, g.rows }
func (g *attnGrid) Z(c, r int) float64 { return g.w[g.rows-1-r][c] }
func (g *attnGrid) X(c int) float64    { return float64(c) }
func (g *attnGrid) Y(r int) float64    { return float64(r) }

// zero reports whether every weight is 0 (a model whose attention is
// "none" stores such maps).
func (g *attnGrid) zero() bool {
	for _, row := range g.w {
		for _, x := range row {
			if x != 0 {
				return false
			}
		}
	}
	return true
}

// largest returns the largest weight (0 for a map of zeros).
func (g *attnGrid) largest() float64 {
	var top float64
	for _, row := range g.w {
		for _, x := range row {
			top = math.Max(top, x)
		}
	}
	return top
}

// weightLabel formats a weight on the colour scale: 0.25, 0.0625, 0.000123.
func weightLabel(w float64) string {
	return strconv.FormatFloat(w, 'g', 3, 64)
}

// newAttnGrid checks m and pads it into a rectangle: columns beyond the
// source tokens are dropped when every weight in them is 0 (batch padding),
// and labelled "·" otherwise; short rows are padded with zeros.
func newAttnGrid(m artifact.AttentionMap) (*attnGrid, error) {
	if len(m.Weights) == 0 {
		return nil, errors.New("no weights")
	}
	cols := 0
	for _, row := range m.Weights {
		cols = max(cols, len(row))
	}
	if cols > len(m.Source) {
		extra := false
		for _, row := range m.Weights {
			for _, x := range row[min(len(row), len(m.Source)):] {
				if x != 0 {
					extra = true
				}
			}
		}
		if !extra {
			cols = len(m.Source)
		}
	}
	cols = max(cols, len(m.Source))
	if cols == 0 {
		return nil, errors.New("no source tokens")
	}
	g := &attnGrid{rows: len(m.Weights), cols: cols}
	for i, row := range m.Weights {
		w := make([]float64, cols)
		for j := range min(len(row), cols) {
			w[j] = float64(row[j])
		}
		g.w = append(g.w, w)
		g.out = append(g.out, token(m.Output, i))
	}
	for j := range cols {
		g.src = append(g.src, token(m.Source, j))
	}
	return g, nil
}

// token returns toks[i] made visible, or "·" past the end.
func token(toks []string, i int) string {
	if i >= len(toks) {
		return "·"
	}
	switch t := toks[i]; {
	case t == "":
		return "<empty>"
	case strings.TrimSpace(t) == "":
		return "<sp>"
	default:
		return t
	}
}

// labelStep is how many cells of n apart tokenTicks labels: every one up
// to 60, so that labels never crowd.
func labelStep(n int) int {
	return max(1, (n+59)/60)
}

// axisLabel names an axis ("source"), saying when not every token has a
// label: labels every step-th cell of per tokens each.
func axisLabel(name string, step, per int) string {
	if k := step * max(per, 1); k > 1 {
		return fmt.Sprintf("%s (every %s token labelled)", name, term.Ordinal(k))
	}
	return name
}

// tokenTicks labels positions 0..n-1 with labels (reversed when flip), every
// labelStep(n)-th one.
func tokenTicks(labels []string, flip bool) plot.ConstantTicks {
	n := len(labels)
	step := labelStep(n)
	var ticks plot.ConstantTicks
	for i := 0; i < n; i += step {
		v := i
		if flip {
			v = n - 1 - i
		}
		ticks = append(ticks, plot.Tick{Value: float64(v), Label: labels[i]})
	}
	return ticks
}

// Sizes of the attention figure.
const (
	attnCell     = 0.55 * vg.Centimeter // per token at most 60 tokens
	attnCellLong = 0.30 * vg.Centimeter // per token beyond that
	attnBar      = 3.0 * vg.Centimeter  // colour bar strip on the right, with its axis
	// attnMaxData bounds each side of the heat map: cells shrink below
	// attnCellLong beyond 200 tokens (a 3,000-token example would
	// otherwise be a PNG 41,000 pixels wide).
	attnMaxData = 60 * vg.Centimeter
	// attnVectorCells is the most cells drawn as vector rectangles (sharp
	// at any zoom); a larger map is drawn as an image.
	attnVectorCells = 200 * 200
)

func drawAttention(g *attnGrid, title string, top float64, out safeout.Target) error {
	cm := attentionColors(top)
	pal := cm.Palette(256)
	h := plotter.NewHeatMap(g, pal)
	h.Min, h.Max = 0, top
	cols := pal.Colors()
	// Weights above a top below 1 take its colour; float32 rounding can
	// step outside [0, 1] too.
	h.Underflow, h.Overflow = cols[0], cols[len(cols)-1]
	h.NaN = color.NRGBA{200, 0, 0, 255}
	// Vector cells: a rasterized heat map is smoothed when scaled to the
	// canvas, which blurs the cell boundaries; but millions of them are a
	// file nothing opens quickly.
	h.Rasterized = g.rows*g.cols > attnVectorCells

	p := plot.New()
	styleAxes(p)
	p.Title.Text = title
	p.X.Label.Text = axisLabel("source", labelStep(g.cols), g.kc)
	p.Y.Label.Text = axisLabel("output", labelStep(g.rows), g.kr)
	p.X.Tick.Marker = tokenTicks(g.src, false)
	p.Y.Tick.Marker = tokenTicks(g.out, true)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	p.X.Padding, p.Y.Padding = 0, 0
	p.Add(h)

	cell := func(n int) vg.Length {
		if n > 60 {
			return min(attnCellLong, attnMaxData/vg.Length(n))
		}
		return attnCell
	}
	// Room for the labels, measured in the tick font.
	var xLab, yLab vg.Length
	for _, t := range g.src {
		xLab = max(xLab, p.X.Tick.Label.Width(t))
	}
	for _, t := range g.out {
		yLab = max(yLab, p.Y.Tick.Label.Width(t))
	}
	width := yLab + 1.6*vg.Centimeter + vg.Length(g.cols)*cell(g.cols) + attnBar
	height := 1.4*vg.Centimeter + vg.Length(g.rows)*cell(g.rows) + xLab*0.72 + 1.6*vg.Centimeter
	// The title is centred over the heat map's part, left of the colour bar.
	width = max(width, p.Title.TextStyle.Width(title)+2*vg.Centimeter+attnBar, 12*vg.Centimeter)
	height = max(height, 9*vg.Centimeter)

	return savePlot(out, width, height, func(dc draw.Canvas) {
		hc := draw.Crop(dc, 0, -attnBar, 0, 0)
		p.Draw(hc)
		drawColorBar(dc, p.DataCanvas(hc), cm, top)
	})
}

// drawColorBar draws a vertical colour bar for cm, from 0 to vmax, in the
// strip right of data, spanning the same height as the heat map's data area.
func drawColorBar(dc, data draw.Canvas, cm palette.ColorMap, vmax float64) {
	bar := plot.New()
	styleAxes(bar)
	bar.HideX()
	bar.Y.Label.Text = "weight"
	bar.Y.Padding = 0
	bar.Y.Min, bar.Y.Max = 0, vmax
	if vmax == 1 {
		bar.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25, Label: "0.25"},
			{Value: 0.5, Label: "0.5"}, {Value: 0.75, Label: "0.75"}, {Value: 1, Label: "1"}}
	} else {
		// Round values below any top (0.999 gets 0, 0.2, …, 0.8), which
		// the title states exactly.
		bar.Y.Tick.Marker = plot.DefaultTicks{}
	}
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true, Colors: 256})

	const barWidth, gap, margin = 0.45 * vg.Centimeter, 0.4 * vg.Centimeter, 0.3 * vg.Centimeter
	bc := draw.Crop(dc, data.Max.X-dc.Min.X+gap, -margin, 0, 0)
	// Place the bar's own data area exactly beside the heat map's, at the
	// right edge of the strip, bar.DataCanvas telling the axis' room.
	inner := bar.DataCanvas(bc)
	bottom, top := inner.Min.Y-bc.Min.Y, bc.Max.Y-inner.Max.Y
	bc.Min.Y, bc.Max.Y = data.Min.Y-bottom, data.Max.Y+top
	bc.Min.X = bc.Max.X - (inner.Min.X - bc.Min.X) - barWidth
	bar.Draw(bc)
}
