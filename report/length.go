package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/store"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LengthPrefix is the prefix of the per-length exact-match summaries:
// test/exact_match/len_1_10, ..., test/exact_match/len_161_inf (see
// metrics.LengthBucket).
const LengthPrefix = "test/exact_match/len_"

// lengthBucket is one length bucket, parsed from its summary key.
type lengthBucket struct {
	key    string
	lo, hi int // hi < 0: no upper bound
}

// label is "1–10", or "161+" for the open bucket.
func (b lengthBucket) label() string {
	if b.hi < 0 {
		return strconv.Itoa(b.lo) + "+"
	}
	if b.lo == b.hi {
		return strconv.Itoa(b.lo)
	}
	return strconv.Itoa(b.lo) + "–" + strconv.Itoa(b.hi)
}

// parseBucket parses a summary key "test/exact_match/len_A_B".
func parseBucket(key string) (lengthBucket, bool) {
	rest, ok := strings.CutPrefix(key, LengthPrefix)
	if !ok {
		return lengthBucket{}, false
	}
	a, b, ok := strings.Cut(rest, "_")
	if !ok {
		return lengthBucket{}, false
	}
	lo, err := strconv.Atoi(a)
	if err != nil {
		return lengthBucket{}, false
	}
	hi := -1
	if b != "inf" {
		if hi, err = strconv.Atoi(b); err != nil || hi < lo {
			return lengthBucket{}, false
		}
	}
	return lengthBucket{key: key, lo: lo, hi: hi}, true
}

// PlotLength plots test exact match per length bucket (the summaries
// test/exact_match/len_A_B) for the runs that q selects: one line per
// group (q.By or the varying keys, as in Compare) through the mean over
// the group's runs in each bucket, with whiskers from their minimum to
// their maximum; x is the buckets in order ("1–10", "11–20", ..., "161+"),
// y the exact match on a fixed 0–1 scale; the legend is beside the plot.
// A bucket where a group has no finite value leaves a gap in its line.
// q.Metrics, q.Sort and q.Baseline are not used. The format follows the
// extension of out.Path (PlotFormats; "-", standard output, is PNG); the
// file is written with safeout's rules.
//
// Runs without length-bucket summaries are an error.
func PlotLength(ctx context.Context, st *store.Store, q Query, out safeout.Target) error {
	sel, c, err := groupQuery(ctx, st, q)
	if err != nil {
		return err
	}
	var buckets []lengthBucket
	for _, k := range sel.summaryKeys() {
		if b, ok := parseBucket(k); ok {
			buckets = append(buckets, b)
		}
	}
	if len(buckets) == 0 {
		return fmt.Errorf("report: the selected runs have no length-bucket summaries (%s*); they come from seq2seq tasks' test decoding", LengthPrefix)
	}
	slices.SortFunc(buckets, func(a, b lengthBucket) int { return a.lo - b.lo })

	p := plot.New()
	styleAxes(p)
	p.Title.Text = plotTitle(sel, "test exact match by source length")
	seeds := 0
	for _, row := range c.Rows {
		seeds = max(seeds, len(row.Runs))
	}
	if seeds > 1 {
		p.Title.Text += " · mean over runs, bars min–max"
	}
	p.X.Label.Text = "source length"
	p.Y.Label.Text = "exact match"
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.2, Label: "0.2"}, {Value: 0.4, Label: "0.4"},
		{Value: 0.6, Label: "0.6"}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"}}
	var ticks plot.ConstantTicks
	for i, b := range buckets {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: b.label()})
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = -0.4, float64(len(buckets)-1)+0.4
	p.Add(plotter.NewGrid())

	// One series per group: points, whiskers, and line segments split at
	// the buckets without a value.
	type series struct {
		pts      plotter.XYs
		errs     plotter.YErrors
		segments []plotter.XYs
	}
	all := make([]series, len(c.Rows))
	var drawn, missing []int
	runs := map[int]int{}
	for i, row := range c.Rows {
		var sr series
		var seg plotter.XYs
		contributed := map[int64]bool{}
		for bi, b := range buckets {
			vals := make([]float64, 0, len(row.Runs))
			for _, id := range row.Runs {
				if v, ok := sel.sums[id][b.key]; ok && isFinite(v) {
					vals = append(vals, v)
					contributed[id] = true
				}
			}
			if len(vals) == 0 {
				if len(seg) > 0 {
					sr.segments = append(sr.segments, seg)
					seg = nil
				}
				continue
			}
			mean, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
			for _, v := range vals {
				mean += v
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			mean /= float64(len(vals))
			xy := plotter.XY{X: float64(bi), Y: mean}
			sr.pts = append(sr.pts, xy)
			sr.errs = append(sr.errs, struct{ Low, High float64 }{mean - lo, hi - mean})
			seg = append(seg, xy)
		}
		if len(seg) > 0 {
			sr.segments = append(sr.segments, seg)
		}
		all[i] = sr
		if len(sr.pts) == 0 {
			missing = append(missing, i)
		} else {
			drawn = append(drawn, i)
			runs[i] = len(contributed)
		}
	}
	labels := legendLabels(c, drawn, runs)
	legend := newLegend()
	n := len(drawn)
	for s, i := range drawn {
		sr, col := all[i], seriesColor(s)
		// Spread the groups a little along x so their whiskers do not overlap.
		dx := 0.0
		if n > 1 {
			dx = (float64(s) - float64(n-1)/2) * math.Min(0.08, 0.5/float64(n))
		}
		shift := func(xy plotter.XYs) plotter.XYs {
			out := make(plotter.XYs, len(xy))
			for j, p := range xy {
				out[j] = plotter.XY{X: p.X + dx, Y: p.Y}
			}
			return out
		}
		var first *plotter.Line
		for _, seg := range sr.segments {
			line, err := plotter.NewLine(shift(seg))
			if err != nil {
				return fmt.Errorf("report: plot length: %w", err)
			}
			line.Color, line.Width, line.Dashes = col, vg.Points(1.6), dashes(s)
			p.Add(line)
			if first == nil {
				first = line
			}
		}
		pts := shift(sr.pts)
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("report: plot length: %w", err)
		}
		sc.Color, sc.Shape, sc.Radius = col, draw.CircleGlyph{}, vg.Points(2.5)
		p.Add(sc)
		if seeds > 1 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{pts, sr.errs})
			if err != nil {
				return fmt.Errorf("report: plot length: %w", err)
			}
			eb.Color, eb.Width, eb.CapWidth = col, vg.Points(1), vg.Points(5)
			p.Add(eb)
		}
		legend.Add(labels[i], first, sc)
	}
	addMissing(&legend, c, missing, "length buckets")
	width := plotWidth + legend.Rectangle(draw.Canvas{}).Size().X
	return savePlot(out, width, plotHeight, func(dc draw.Canvas) { legendBeside(dc, p, legend, len(c.Rows)) })
}
