package report

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/internal/sorted"
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
// over the runs that have a finite value there, and how many they are.
type band struct {
	x, mean, lo, hi []float64
	n               []int // runs with a finite value at each step
	runs            int   // runs that contributed at least one point
	// early counts the runs whose last value comes before the group's
	// last step (stopped early, or a shorter run pooled); diverged those
	// whose finite values end before it and are followed by NaN or ±Inf;
	// training those still training (queued, running, interrupted), however
	// far their curves reach.
	early, diverged, training int
}

// full reports whether every run of b that has data has a value at step j:
// only there are the mean and band over all the runs the legend counts.
func (b band) full(j int) bool { return b.n[j] == b.runs }

// segments splits b at the points where no run has a value (b.n is 0,
// as at a length bucket no run has): the stretches drawn as one line,
// each with b's number of runs.
func (b band) segments() []band {
	var out []band
	from := -1
	for j := 0; j <= len(b.x); j++ {
		switch {
		case j < len(b.x) && b.n[j] > 0:
			if from < 0 {
				from = j
			}
		case from >= 0:
			out = append(out, b.part(span{from: from, to: j - 1}))
			from = -1
		}
	}
	return out
}

// span is a stretch of a band's steps, from and to inclusive (indices into
// band.x), drawn in one style: full (every run has a value at each of its
// steps: a solid line over the min–max band) or not (a thin dashed line,
// no band). Consecutive spans share their boundary step, so the line is
// unbroken.
type span struct {
	from, to int
	full     bool
}

// spans splits b into the stretches drawn alike: the line between two
// consecutive steps is solid when the runs are all there at both.
func (b band) spans() []span {
	switch len(b.x) {
	case 0:
		return nil
	case 1:
		return []span{{0, 0, b.full(0)}}
	}
	var out []span
	for j := 0; j+1 < len(b.x); j++ {
		full := b.full(j) && b.full(j+1)
		if k := len(out) - 1; k >= 0 && out[k].full == full {
			out[k].to = j + 1
		} else {
			out = append(out, span{j, j + 1, full})
		}
	}
	return out
}

// counts returns the steps (indices into b.x) where the number of runs
// falls short of b.runs, is not 0, and differs from the step before (or
// is the first step): where the dashed line's mean changes its runs,
// labelled "n=2" with b.n there.
func (b band) counts() []int {
	var out []int
	for j := range b.x {
		if b.n[j] > 0 && !b.full(j) && (j == 0 || b.n[j] != b.n[j-1]) {
			out = append(out, j)
		}
	}
	return out
}

// curves is what PlotCurves draws.
type curves struct {
	c       *Comparison
	metric  string // resolved
	title   string
	bands   []band // one per row of c
	drawn   []int  // rows with data, in order
	missing []int  // rows without
	labels  map[int]string
	partial bool // some drawn band has a step without all its runs
	lo, hi  float64
}

// PlotCurves plots the history of metric (a key the runs logged with the
// metric writer: train/loss, valid/loss, valid/exact_match, ...) for the
// runs that q selects, one line per group (q.By or the varying keys, as in
// Compare): the mean over the group's runs at each step, in a shaded band
// from their minimum to their maximum. Steps where a run logged NaN or
// ±Inf (a diverged run) leave that run out at those steps. The line is
// solid, over its band, only at the steps where every run of the group
// that has data has a value; where some runs have none (they stopped
// early, a shorter run was pooled, a run diverged) the line is thin and
// dashed, without band, the mean of the runs left, and "n=2" marks each
// step where their number changes; a last legend line says so. The
// legend, beside the plot, names each group by the keys that differ among
// the plotted groups and its pooled keys' values (Query.Pool, as the
// table lists them), with its number of runs ("2/3 runs" when a run has no
// finite value), how many of them end before the group's last step,
// stopped or diverged ("4 runs (3 end early)", "3 runs (1 diverged)"),
// and how many are not finished (queued, running, interrupted: "1 not finished");
// groups without this metric are counted in a last line. The y axis
// turns logarithmic when every value is positive and they span more than
// two decades (losses). q.Metrics, q.Sort and q.Baseline are not used. The
// format follows the extension of out.Path (PlotFormats; "-", standard
// output, is PNG); the file is written with safeout's rules.
//
// metric may be a name after a '/' as in Query.Metrics ("loss" is
// valid/loss when train/loss is logged too). A metric no selected run
// logged is an error that lists the logged keys.
//
// It returns the done runs selected that it left out as diverged (stored
// done with a ±Inf loss or perplexity: Comparison.Diverged), for the
// command to say so (DivergedNote); when every one did, the error is a
// *DivergedError.
func PlotCurves(ctx context.Context, st *store.Store, q Query, metric string, out safeout.Target) ([]store.Run, error) {
	cv, err := buildCurves(ctx, st, q, metric)
	if err != nil {
		return nil, err
	}
	p := plot.New()
	styleAxes(p)
	p.Title.Text = cv.title
	p.X.Label.Text = "step"
	p.X.Tick.Marker = stepTicks{}
	p.Y.Label.Text = cv.metric
	if cv.lo > 0 && cv.hi/cv.lo > 100 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
		p.Y.Label.Text += " (log scale)"
	}
	p.Add(plotter.NewGrid())
	legend := newLegend()
	for s, i := range cv.drawn {
		thumb, _, err := drawBand(p, cv.bands[i], s, false, func(xy plotter.XY) bool { return countAbove(cv.bands, cv.drawn, i, xy) })
		if err != nil {
			return nil, fmt.Errorf("report: plot curves: %w", err)
		}
		legend.Add(cv.labels[i], thumb)
	}
	if cv.partial {
		addPartial(&legend)
	}
	addMissing(&legend, cv.c, cv.missing, cv.metric)
	width := plotWidth + legend.Rectangle(draw.Canvas{}).Size().X
	if err := savePlot(out, width, plotHeight, func(dc draw.Canvas) { legendBeside(dc, p, legend, len(cv.bands)) }); err != nil {
		return nil, err
	}
	return cv.c.Diverged, nil
}

// countAbove reports whether another drawn group than row i has a count
// label ("n=2") at the x of xy, higher on the plot.
func countAbove(bands []band, drawn []int, i int, xy plotter.XY) bool {
	for _, k := range drawn {
		if k == i {
			continue
		}
		b := bands[k]
		for _, j := range b.counts() {
			if b.x[j] == xy.X && b.mean[j] > xy.Y {
				return true
			}
		}
	}
	return false
}

// drawBand adds group s's band b to p as PlotCurves and PlotLength draw
// it: over each stretch where every run of the group has a value, a solid
// line through the means over the min–max band (a bar when the stretch is
// one point); where fewer runs have one, a thin dashed line without band,
// labelled "n=2" where their number changes; nothing where none has one
// (b.n is 0: the line breaks). marks puts a dot on every point; without
// it only a lone point gets one. above says whether another group's count
// label sits higher at a point, so that this one goes below it. It
// returns the legend's thumbnails: the solid line (the dashed style when
// no point is full) and the dots, nil without marks.
func drawBand(p *plot.Plot, b band, s int, marks bool, above func(plotter.XY) bool) (plot.Thumbnailer, plot.Thumbnailer, error) {
	col := seriesColor(s)
	var thumb, dots plot.Thumbnailer
	for _, seg := range b.segments() {
		for _, sp := range seg.spans() {
			part := seg.part(sp)
			if sp.full && b.runs > 1 {
				if sp.to > sp.from {
					poly, err := plotter.NewPolygon(bandPolygon(part))
					if err != nil {
						return nil, nil, err
					}
					poly.Color = color.NRGBA{col.R, col.G, col.B, 56}
					poly.LineStyle.Width = 0
					p.Add(poly)
				} else { // a band one point wide: a bar
					eb, err := plotter.NewYErrorBars(struct {
						plotter.XYs
						plotter.YErrors
					}{plotter.XYs{{X: part.x[0], Y: part.mean[0]}}, plotter.YErrors{{Low: part.mean[0] - part.lo[0], High: part.hi[0] - part.mean[0]}}})
					if err != nil {
						return nil, nil, err
					}
					eb.Color, eb.Width, eb.CapWidth = col, vg.Points(1), vg.Points(5)
					p.Add(eb)
				}
			}
			xy := make(plotter.XYs, len(part.x))
			for j := range part.x {
				xy[j] = plotter.XY{X: part.x[j], Y: part.mean[j]}
			}
			line, err := plotter.NewLine(xy)
			if err != nil {
				return nil, nil, err
			}
			line.Color = col
			if sp.full {
				line.Width, line.Dashes = vg.Points(1.6), dashes(s)
				thumb = line
			} else {
				line.Width, line.Dashes = partialStyle()
			}
			p.Add(line)
			if marks || len(xy) == 1 {
				sc, err := plotter.NewScatter(xy)
				if err != nil {
					return nil, nil, err
				}
				sc.Color, sc.Shape = col, draw.CircleGlyph{}
				if marks {
					sc.Radius = vg.Points(2.5)
					dots = sc
				}
				p.Add(sc)
			}
		}
	}
	if steps := b.counts(); len(steps) > 0 {
		lab := plotter.XYLabels{}
		for _, j := range steps {
			lab.XYs = append(lab.XYs, plotter.XY{X: b.x[j], Y: b.mean[j]})
			lab.Labels = append(lab.Labels, fmt.Sprintf("n=%d", b.n[j]))
		}
		labels, err := plotter.NewLabels(lab)
		if err != nil {
			return nil, nil, err
		}
		for k, xy := range lab.XYs {
			ts := &labels.TextStyle[k]
			ts.Color, ts.Font.Size = col, vg.Points(7)
			// Above the line, a quarter of a line's height clear of it;
			// below when another group's count at this point sits
			// higher, so that the two do not overlap.
			ts.YAlign = 0.25
			if above(xy) {
				ts.YAlign = -1.25
			}
		}
		labels.Offset.X = vg.Points(2)
		p.Add(labels)
	}
	if thumb == nil { // no point has every run: show the partial style
		w, d := partialStyle()
		thumb = &plotter.Line{LineStyle: draw.LineStyle{Color: col, Width: w, Dashes: d}}
	}
	return thumb, dots, nil
}

// addPartial adds the legend line that explains the dashed style.
func addPartial(legend *plot.Legend) {
	w, d := partialStyle()
	legend.Add("dashed: mean of fewer runs (n=…), no band", &plotter.Line{LineStyle: draw.LineStyle{Color: color.Gray{96}, Width: w, Dashes: d}})
}

// partialStyle is the width and dashes of a line over fewer than all of a
// group's runs.
func partialStyle() (vg.Length, []vg.Length) {
	return vg.Points(0.9), []vg.Length{vg.Points(3), vg.Points(2)}
}

// buildCurves selects the runs, resolves metric and aggregates the
// histories into what PlotCurves draws.
func buildCurves(ctx context.Context, st *store.Store, q Query, metric string) (*curves, error) {
	sel, c, err := groupQuery(ctx, st, q)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(sel.runs))
	for i, r := range sel.runs {
		ids[i] = r.ID
	}
	known, err := st.MetricKeys(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("report: plot curves: %w", err)
	}
	if !slices.Contains(known, metric) {
		hits := suffixMatches(known, metric)
		switch {
		case len(hits) == 1:
			metric = hits[0]
		case len(hits) > 1:
			return nil, keyErrorf("report: metric %q is ambiguous (%s)", metric, strings.Join(hits, ", "))
		case len(known) == 0:
			return nil, fmt.Errorf("report: unknown metric %q: the selected runs logged no metrics", metric)
		default:
			return nil, keyErrorf("report: unknown metric %q (the selected runs logged: %s)", metric, strings.Join(known, ", "))
		}
	}
	hist, err := st.MetricHistory(ctx, ids, metric)
	if err != nil {
		return nil, fmt.Errorf("report: plot curves: %w", err)
	}
	cv := &curves{c: c, metric: metric, bands: make([]band, len(c.Rows)), lo: math.Inf(1), hi: math.Inf(-1)}
	for i, row := range c.Rows {
		cv.bands[i] = newBand(row.Runs, hist, sel.live)
		for j := range cv.bands[i].x {
			cv.lo, cv.hi = math.Min(cv.lo, cv.bands[i].lo[j]), math.Max(cv.hi, cv.bands[i].hi[j])
		}
	}
	if math.IsInf(cv.lo, 1) {
		return nil, fmt.Errorf("report: metric %s has no finite value in the selected runs", metric)
	}
	seeds := 0
	for _, row := range c.Rows {
		seeds = max(seeds, len(row.Runs))
	}
	cv.title = plotTitle(sel, metric)
	if seeds > 1 {
		cv.title += " · mean over runs, band min–max"
	}
	runs := map[int]int{}
	for i, b := range cv.bands {
		if len(b.x) == 0 {
			cv.missing = append(cv.missing, i)
			continue
		}
		cv.drawn = append(cv.drawn, i)
		runs[i] = b.runs
		for j := range b.x {
			cv.partial = cv.partial || !b.full(j)
		}
	}
	cv.labels = legendLabels(c, cv.drawn, runs)
	for _, i := range cv.drawn {
		var ends []string
		if e := cv.bands[i].early; e > 0 {
			ends = append(ends, fmt.Sprintf("%d end early", e))
		}
		if d := cv.bands[i].diverged; d > 0 {
			ends = append(ends, fmt.Sprintf("%d diverged", d))
		}
		if r := cv.bands[i].training; r > 0 {
			ends = append(ends, fmt.Sprintf("%d not finished", r))
		}
		if len(ends) > 0 {
			cv.labels[i] += " (" + strings.Join(ends, ", ") + ")"
		}
	}
	return cv, nil
}

// newBand aggregates the histories of runs step by step: the union of
// their steps first (merged run by run), then each point added at its
// step's index, with no map or allocation per point (a 500-run curves
// page reads about 10⁶ points).
func newBand(runs []int64, hist map[int64][]store.MetricPoint, live func(id int64) bool) band {
	var keys []int
	for _, id := range runs {
		keys = mergeSteps(keys, hist[id])
	}
	b := band{x: make([]float64, len(keys)), mean: make([]float64, len(keys)), lo: make([]float64, len(keys)),
		hi: make([]float64, len(keys)), n: make([]int, len(keys))}
	for j := range keys {
		b.lo[j], b.hi[j] = math.Inf(1), math.Inf(-1)
	}
	type ends struct { // a run's last finite and non-finite steps
		id          int64
		finite, bad int
	}
	var last []ends
	for _, id := range runs {
		e, contributed, j := ends{id: id, bad: math.MinInt}, false, 0
		for _, pt := range hist[id] {
			if !isFinite(pt.Value) {
				e.bad = max(e.bad, pt.Step)
				continue
			}
			// Histories come in step order, mostly on the same steps: the
			// next step is usually the next key.
			switch {
			case j < len(keys) && keys[j] == pt.Step:
			case j+1 < len(keys) && keys[j+1] == pt.Step:
				j++
			default:
				j, _ = slices.BinarySearch(keys, pt.Step)
			}
			b.mean[j] += pt.Value
			b.n[j]++
			b.lo[j], b.hi[j] = math.Min(b.lo[j], pt.Value), math.Max(b.hi[j], pt.Value)
			if !contributed || pt.Step > e.finite {
				e.finite = pt.Step
			}
			contributed = true
		}
		if contributed {
			b.runs++
			last = append(last, e)
		}
	}
	for j, s := range keys {
		b.x[j] = float64(s)
		b.mean[j] /= float64(b.n[j])
	}
	if len(keys) > 0 {
		for _, e := range last {
			switch {
			case live != nil && live(e.id):
				b.training++ // the longest curve, too, is not its last
			case e.finite == keys[len(keys)-1]:
			case e.bad > e.finite:
				b.diverged++
			default:
				b.early++
			}
		}
	}
	return b
}

// mergeSteps returns the sorted union of keys (sorted, distinct) and the
// steps of pts with a finite value, keys itself when pts adds none.
func mergeSteps(keys []int, pts []store.MetricPoint) []int {
	var steps []int
	for _, pt := range pts {
		if isFinite(pt.Value) {
			steps = append(steps, pt.Step)
		}
	}
	if !slices.IsSorted(steps) {
		slices.Sort(steps)
	}
	return sorted.Union(keys, steps)
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

// part is b over the steps of sp, with b's number of runs.
func (b band) part(sp span) band {
	r := sp.from
	t := sp.to + 1
	return band{x: b.x[r:t], mean: b.mean[r:t], lo: b.lo[r:t], hi: b.hi[r:t], n: b.n[r:t], runs: b.runs}
}

// GroupCurve is a group's curve of one metric exactly as PlotCurves
// computes it, for other views of the same data (the dashboard's curves
// page) that must not disagree with the plot: at each step, in increasing
// order, where any of the group's runs has a finite value, the mean,
// minimum and maximum of those values and how many runs they are.
type GroupCurve struct {
	Steps          []int
	Mean, Min, Max []float64
	N              []int // runs with a finite value at each step
	// Runs counts the runs that have at least one finite value. Early
	// counts those whose last value comes before the group's last step
	// (stopped early, or a shorter run pooled); Diverged those whose
	// finite values end before it and are followed by NaN or ±Inf;
	// Training those still training (queued, running, interrupted), however
	// far their curves reach.
	Runs, Early, Diverged, Training int
}

// GroupCurveOf aggregates the histories of runs (hist as
// store.MetricHistory returns it; runs absent from it have no data) step
// by step, as PlotCurves does for each of its lines. live, when not nil,
// tells the runs still training (queued, running, interrupted), whose
// shorter curves are counted as Training, not Early.
func GroupCurveOf(runs []int64, hist map[int64][]store.MetricPoint, live func(id int64) bool) GroupCurve {
	b := newBand(runs, hist, live)
	g := GroupCurve{Steps: make([]int, len(b.x)), Mean: b.mean, Min: b.lo, Max: b.hi, N: b.n,
		Runs: b.runs, Early: b.early, Diverged: b.diverged, Training: b.training}
	for j, x := range b.x {
		g.Steps[j] = int(x)
	}
	return g
}

// Full reports whether every run of g that has data has a value at
// Steps[j]: only there does PlotCurves draw the mean solid, over its
// min–max band; elsewhere it is the mean of the N[j] runs left, dashed.
func (g GroupCurve) Full(j int) bool { return g.N[j] == g.Runs }

// Ends says how many of g's runs end before its last step, as PlotCurves's
// legend does after the number of runs: "3 end early", "1 diverged",
// "2 end early, 1 diverged"; "" when none does.
func (g GroupCurve) Ends() string {
	var ends []string
	if g.Early > 0 {
		ends = append(ends, fmt.Sprintf("%d end early", g.Early))
	}
	if g.Diverged > 0 {
		ends = append(ends, fmt.Sprintf("%d diverged", g.Diverged))
	}
	if g.Training > 0 {
		ends = append(ends, fmt.Sprintf("%d not finished", g.Training))
	}
	return strings.Join(ends, ", ")
}
