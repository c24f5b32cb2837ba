package report

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/store"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Size of the curve and length plots, without the legend beside them.
const (
	plotWidth  = 16 * vg.Centimeter
	plotHeight = 10 * vg.Centimeter
)

// band is one group's curve: at each step, the mean, minimum and maximum
// over the runs that have a finite value there.
type band struct {
	x, mean, lo, hi []float64
	runs            int // runs that contributed at least one point
}

// PlotCurves plots the history of metric (a key the runs logged with the
// metric writer: train/loss, valid/loss, valid/exact_match, ...) for the
// runs that q selects, one line per group (q.By or the varying keys, as in
// Compare): the mean over the group's runs at each step, in a shaded band
// from their minimum to their maximum. Steps where a run logged NaN or
// ±Inf (a diverged run) leave that run out at those steps. The legend,
// beside the plot, names each group by the keys that differ among the
// plotted groups, with its number of runs ("2/3 runs" when a run has no
// finite value); groups without this metric are counted in a last line. The y axis turns
// logarithmic when every value is positive and they span more than two
// decades (losses). q.Metrics, q.Sort and q.Baseline are not used. The
// format follows the extension of out.Path (PlotFormats; "-", standard
// output, is PNG); the file is written with safeout's rules.
//
// metric may be a name after a '/' as in Query.Metrics ("loss" is
// valid/loss when train/loss is logged too). A metric no selected run
// logged is an error that lists the logged keys.
func PlotCurves(ctx context.Context, st *store.Store, q Query, metric string, out safeout.Target) error {
	sel, c, err := groupQuery(ctx, st, q)
	if err != nil {
		return err
	}
	ids := make([]int64, len(sel.runs))
	for i, r := range sel.runs {
		ids[i] = r.ID
	}
	known, err := st.MetricKeys(ctx, ids)
	if err != nil {
		return fmt.Errorf("report: plot curves: %w", err)
	}
	if !slices.Contains(known, metric) {
		hits := suffixMatches(known, metric)
		switch {
		case len(hits) == 1:
			metric = hits[0]
		case len(hits) > 1:
			return fmt.Errorf("report: metric %q is ambiguous (%s)", metric, strings.Join(hits, ", "))
		case len(known) == 0:
			return fmt.Errorf("report: unknown metric %q: the selected runs logged no metrics", metric)
		default:
			return fmt.Errorf("report: unknown metric %q (the selected runs logged: %s)", metric, strings.Join(known, ", "))
		}
	}
	hist, err := st.MetricHistory(ctx, ids, metric)
	if err != nil {
		return fmt.Errorf("report: plot curves: %w", err)
	}
	bands := make([]band, len(c.Rows))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, row := range c.Rows {
		bands[i] = newBand(row.Runs, hist)
		for j := range bands[i].x {
			lo, hi = math.Min(lo, bands[i].lo[j]), math.Max(hi, bands[i].hi[j])
		}
	}
	if math.IsInf(lo, 1) {
		return fmt.Errorf("report: metric %s has no finite value in the selected runs", metric)
	}

	p := plot.New()
	styleAxes(p)
	seeds := 0
	for _, row := range c.Rows {
		seeds = max(seeds, len(row.Runs))
	}
	p.Title.Text = plotTitle(sel, metric)
	if seeds > 1 {
		p.Title.Text += " · mean over runs, band min–max"
	}
	p.X.Label.Text = "step"
	p.Y.Label.Text = metric
	if lo > 0 && hi/lo > 100 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text += " (log scale)"
	}
	p.Add(plotter.NewGrid())
	var drawn, missing []int
	runs := map[int]int{}
	for i, b := range bands {
		if len(b.x) == 0 {
			missing = append(missing, i)
		} else {
			drawn = append(drawn, i)
			runs[i] = b.runs
		}
	}
	labels := legendLabels(c, drawn, runs)
	legend := newLegend()
	for s, i := range drawn {
		b, col := bands[i], seriesColor(s)
		if b.runs > 1 {
			poly, err := plotter.NewPolygon(bandPolygon(b))
			if err != nil {
				return fmt.Errorf("report: plot curves: %w", err)
			}
			poly.Color = color.NRGBA{col.R, col.G, col.B, 56}
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		xy := make(plotter.XYs, len(b.x))
		for j := range b.x {
			xy[j] = plotter.XY{X: b.x[j], Y: b.mean[j]}
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("report: plot curves: %w", err)
		}
		line.Color = col
		line.Width = vg.Points(1.6)
		line.Dashes = dashes(s)
		p.Add(line)
		if len(xy) == 1 { // a single evaluation: show it as a point
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return fmt.Errorf("report: plot curves: %w", err)
			}
			sc.Color, sc.Shape = col, draw.CircleGlyph{}
			p.Add(sc)
		}
		legend.Add(labels[i], line)
	}
	addMissing(&legend, c, missing, metric)
	width := plotWidth + legend.Rectangle(draw.Canvas{}).Size().X
	return savePlot(out, width, plotHeight, func(dc draw.Canvas) { legendBeside(dc, p, legend, len(bands)) })
}

// newBand aggregates the histories of runs step by step.
func newBand(runs []int64, hist map[int64][]store.MetricPoint) band {
	type acc struct {
		sum, lo, hi float64
		n           int
	}
	steps := map[int]*acc{}
	var b band
	for _, id := range runs {
		contributed := false
		for _, pt := range hist[id] {
			if !isFinite(pt.Value) {
				continue
			}
			a := steps[pt.Step]
			if a == nil {
				a = &acc{lo: math.Inf(1), hi: math.Inf(-1)}
				steps[pt.Step] = a
			}
			a.sum += pt.Value
			a.n++
			a.lo, a.hi = math.Min(a.lo, pt.Value), math.Max(a.hi, pt.Value)
			contributed = true
		}
		if contributed {
			b.runs++
		}
	}
	keys := make([]int, 0, len(steps))
	for s := range steps {
		keys = append(keys, s)
	}
	slices.Sort(keys)
	for _, s := range keys {
		a := steps[s]
		b.x = append(b.x, float64(s))
		b.mean = append(b.mean, a.sum/float64(a.n))
		b.lo = append(b.lo, a.lo)
		b.hi = append(b.hi, a.hi)
	}
	return b
}

// bandPolygon is the outline of the min–max band: along the maxima, back
// along the minima.
func bandPolygon(b band) plotter.XYs {
	xy := make(plotter.XYs, 0, 2*len(b.x))
	for j := range b.x {
		xy = append(xy, plotter.XY{X: b.x[j], Y: b.hi[j]})
	}
	for j := len(b.x) - 1; j >= 0; j-- {
		xy = append(xy, plotter.XY{X: b.x[j], Y: b.lo[j]})
	}
	return xy
}
