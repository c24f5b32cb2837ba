package report

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
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

// lengthPoint is one position on the x axis of a length plot: a summary
// key, where it goes and its tick label.
type lengthPoint struct {
	key   string
	x     float64
	label string
}

// lengthAxes reads which of the two kinds of length summaries the selected
// runs have: the per-length-bucket exact match of seq2seq test decoding
// (x: the buckets in order) or the test loss of a language model at
// evaluation context lengths, test/loss@N (x: log₂ N); lm says which.
func lengthAxes(sel *selection) (pts []lengthPoint, lm bool, err error) {
	var buckets []lengthBucket
	var contexts []int
	for _, k := range sel.summaryKeys() {
		if b, ok := parseBucket(k); ok {
			buckets = append(buckets, b)
		}
		if base, n, ok := metrics.SplitContext(k); ok && base == contextBase {
			contexts = append(contexts, n)
		}
	}
	switch {
	case len(buckets) > 0 && len(contexts) > 0:
		return nil, false, fmt.Errorf("report: the selected runs mix sequence-to-sequence runs (%s*) and language models (%s@N): plot one kind at a time", LengthPrefix, contextBase)
	case len(contexts) > 0:
		slices.Sort(contexts)
		for _, n := range contexts {
			pts = append(pts, lengthPoint{key: metrics.AtContext(contextBase, n), x: math.Log2(float64(n)), label: strconv.Itoa(n)})
		}
		return pts, true, nil
	case len(buckets) > 0:
		slices.SortFunc(buckets, func(a, b lengthBucket) int { return a.lo - b.lo })
		if err := disjoint(buckets); err != nil {
			return nil, false, err
		}
		for i, b := range buckets {
			pts = append(pts, lengthPoint{key: b.key, x: float64(i), label: b.label() + examplesLabel(sel, b)})
		}
		return pts, false, nil
	}
	return nil, false, fmt.Errorf("report: the selected runs have no length-bucket summaries (%s*) nor test losses at other context lengths (%s@N); they come from seq2seq tasks' test decoding and from eval.context", LengthPrefix, contextBase)
}

// ExamplesPrefix is the prefix of the number of test examples per length
// bucket, test/examples/len_A_B, recorded beside LengthPrefix's rates.
const ExamplesPrefix = "test/examples/len_"

// examplesLabel is the second line of bucket b's tick label: how many test
// examples it holds in the selected runs (ExamplesText).
func examplesLabel(sel *selection, b lengthBucket) string {
	ids := make([]int64, len(sel.runs))
	for i, r := range sel.runs {
		ids[i] = r.ID
	}
	if t := ExamplesText(sel.sums, ids, b.key); t != "" {
		return "\n" + t
	}
	return ""
}

// ExamplesText says how many test examples the length bucket of summary
// key bucket (test/exact_match/len_A_B) holds in runs (sums as
// store.Summaries gives them): "12 ex.", or "9–14 ex." when their test
// sets differ; "" when no run recorded it (runs stored before
// test/examples/len_A_B).
func ExamplesText(sums map[int64]map[string]float64, runs []int64, bucket string) string {
	key := ExamplesPrefix + strings.TrimPrefix(bucket, LengthPrefix)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, id := range runs {
		if v, ok := sums[id][key]; ok {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	switch {
	case math.IsInf(lo, 1):
		return ""
	case lo == hi:
		return fmt.Sprintf("%g ex.", lo)
	}
	return fmt.Sprintf("%g–%g ex.", lo, hi)
}

// disjoint returns an error when buckets (sorted by lo) overlap: runs
// evaluated with different eval.length_buckets, whose buckets one axis
// cannot order (1–6, 1–25, 7–8, …).
func disjoint(buckets []lengthBucket) error {
	for i := 1; i < len(buckets); i++ {
		a, b := buckets[i-1], buckets[i]
		if a.hi < 0 || b.lo <= a.hi {
			return keyErrorf("report: the selected runs have overlapping length buckets (%s and %s): they were evaluated with different eval.length_buckets; plot one set at a time (--where)", a.label(), b.label())
		}
	}
	return nil
}

// contextBase is the metric language models record at each evaluation
// context length (eval.context).
const contextBase = "test/loss"

// PlotLength plots a metric against the length of the evaluation inputs
// for the runs that q selects, one line per group (q.By or the varying
// keys, as in Compare):
//
//   - for sequence-to-sequence runs, test exact match per source-length
//     bucket (the summaries test/exact_match/len_A_B): x is the buckets in
//     order ("1–10", "11–20", ..., "161+"), each labelled with the number
//     of test examples it holds (test/examples/len_A_B: "12 ex.", a range
//     when the runs' test sets differ), y the exact match on a fixed 0–1
//     scale; runs evaluated with different buckets are refused;
//   - for language models evaluated at several context lengths
//     (eval.context: the summaries test/loss@N), the test loss against the
//     context length N on a log₂ axis.
//
// Each line goes through the mean over the group's runs at each length,
// in a shaded band from their minimum to their maximum when the group has
// several runs (seeds); a length where a group has no finite value leaves
// a gap in its line. Where only some of its runs have one (a bucket
// missing from some seeds' test sets, a diverged loss), the line is thin
// and dashed without band, the mean of those runs, marked "n=2", as
// PlotCurves draws runs that stop early. The legend is beside the plot. Runs of both kinds
// together are an error, and so are runs with neither. q.Metrics, q.Sort
// and q.Baseline are not used. The format follows the extension of
// out.Path (PlotFormats; "-", standard output, is PNG); the file is
// written with safeout's rules.
func PlotLength(ctx context.Context, st *store.Store, q Query, out safeout.Target) error {
	sel, c, err := groupQuery(ctx, st, q)
	if err != nil {
		return err
	}
	pts, lm, err := lengthAxes(sel)
	if err != nil {
		return err
	}

	p := plot.New()
	styleAxes(p)
	seeds := 0
	for _, row := range c.Rows {
		seeds = max(seeds, len(row.Runs))
	}
	var ticks plot.ConstantTicks
	for _, pt := range pts {
		ticks = append(ticks, plot.Tick{Value: pt.x, Label: pt.label})
	}
	p.X.Tick.Marker = ticks
	pad := 0.4
	if lm {
		p.Title.Text = plotTitle(sel, "test loss by evaluation context")
		p.X.Label.Text = "context length (tokens, log scale)"
		p.Y.Label.Text = "test loss (nats per token)"
		pad = 0.25
	} else {
		p.Title.Text = plotTitle(sel, "test exact match by source length")
		p.X.Label.Text = "source length (tokens) and the test examples of each bucket"
		p.Y.Label.Text = "exact match"
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.2, Label: "0.2"}, {Value: 0.4, Label: "0.4"},
			{Value: 0.6, Label: "0.6"}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"}}
	}
	if seeds > 1 {
		p.Title.Text += " · mean over runs, min–max as band or bars"
	}
	p.X.Min, p.X.Max = pts[0].x-pad, pts[len(pts)-1].x+pad
	p.Add(plotter.NewGrid())

	// One band per group over all the lengths; b.n is 0 where no run of
	// the group has a value (a gap in its line), and less than b.runs
	// where only some have (a dashed stretch, as in PlotCurves).
	bands := make([]band, len(c.Rows))
	var drawn, missing []int
	runs := map[int]int{}
	for i, row := range c.Rows {
		b := lengthBand(row.Runs, sel.sums, pts)
		bands[i] = b
		if b.runs == 0 {
			missing = append(missing, i)
		} else {
			drawn = append(drawn, i)
			runs[i] = b.runs
		}
	}
	labels := legendLabels(c, drawn, runs)
	legend := newLegend()
	partial := false
	for s, i := range drawn {
		line, dots, err := drawBand(p, bands[i], s, true, func(xy plotter.XY) bool { return countAbove(bands, drawn, i, xy) })
		if err != nil {
			return fmt.Errorf("report: plot length: %w", err)
		}
		legend.Add(labels[i], line, dots)
		for j := range bands[i].x {
			partial = partial || (bands[i].n[j] > 0 && !bands[i].full(j))
		}
	}
	if partial {
		addPartial(&legend)
	}
	what := "length buckets"
	if lm {
		what = "losses at other context lengths"
	}
	addMissing(&legend, c, missing, what)
	width := plotWidth + legend.Rectangle(draw.Canvas{}).Size().X
	return savePlot(out, width, plotHeight, func(dc draw.Canvas) { legendBeside(dc, p, legend, len(c.Rows)) })
}

// lengthBand aggregates the summaries sums of runs at each length of pts:
// the mean, minimum and maximum of the finite values there and how many
// runs they are (0: none has one), and how many runs have any.
func lengthBand(runs []int64, sums map[int64]map[string]float64, pts []lengthPoint) band {
	b := band{x: make([]float64, len(pts)), mean: make([]float64, len(pts)), lo: make([]float64, len(pts)),
		hi: make([]float64, len(pts)), n: make([]int, len(pts))}
	contributed := map[int64]bool{}
	for j, pt := range pts {
		b.x[j], b.lo[j], b.hi[j] = pt.x, math.Inf(1), math.Inf(-1)
		for _, id := range runs {
			if v, ok := sums[id][pt.key]; ok && isFinite(v) {
				b.mean[j] += v
				b.lo[j], b.hi[j] = math.Min(b.lo[j], v), math.Max(b.hi[j], v)
				b.n[j]++
				contributed[id] = true
			}
		}
		if b.n[j] > 0 {
			b.mean[j] /= float64(b.n[j])
		}
	}
	b.runs = len(contributed)
	return b
}

// LengthBuckets picks the length-bucket summary keys
// (test/exact_match/len_A_B) out of keys and returns them in order of
// length with their labels ("1–10", …, "161+"), as PlotLength's x axis,
// or PlotLength's error when they overlap (different eval.length_buckets).
func LengthBuckets(keys []string) (buckets, labels []string, err error) {
	var bs []lengthBucket
	for _, k := range keys {
		if b, ok := parseBucket(k); ok && !slices.ContainsFunc(bs, func(o lengthBucket) bool { return o.key == k }) {
			bs = append(bs, b)
		}
	}
	slices.SortFunc(bs, func(a, b lengthBucket) int { return a.lo - b.lo })
	if err := disjoint(bs); err != nil {
		return nil, nil, err
	}
	for _, b := range bs {
		buckets, labels = append(buckets, b.key), append(labels, b.label())
	}
	return buckets, labels, nil
}

// GroupLength is a group's line of a length plot exactly as PlotLength
// computes it, for other views (the dashboard) that must not disagree with
// the plot: at each length, the mean, minimum and maximum of the runs'
// finite values there (NaN where none has one) and how many runs they
// are; Runs counts the runs with a value at any length. PlotLength draws
// the line solid over its min–max band where N is Runs, dashed without
// band where it is less, and breaks it where N is 0.
type GroupLength struct {
	Mean, Min, Max []float64
	N              []int
	Runs           int
}

// GroupLengthOf aggregates the summaries sums of runs at each of keys (as
// LengthBuckets returns them) as PlotLength does for each of its lines.
func GroupLengthOf(runs []int64, sums map[int64]map[string]float64, keys []string) GroupLength {
	pts := make([]lengthPoint, len(keys))
	for j, k := range keys {
		pts[j] = lengthPoint{key: k, x: float64(j)}
	}
	b := lengthBand(runs, sums, pts)
	for j := range b.x {
		if b.n[j] == 0 {
			b.mean[j], b.lo[j], b.hi[j] = math.NaN(), math.NaN(), math.NaN()
		}
	}
	return GroupLength{Mean: b.mean, Min: b.lo, Max: b.hi, N: b.n, Runs: b.runs}
}
