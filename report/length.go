package report

import (
	"context"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/metrics"
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
		return nil, false, keyErrorf("report: the selected runs mix sequence-to-sequence runs (%s*) and language models (%s@N): plot one kind at a time", LengthPrefix, contextBase)
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
	return nil, false, keyErrorf("report: the selected runs have no length-bucket summaries (%s*) nor test losses at other context lengths (%s@N); they come from seq2seq tasks' test decoding and from eval.context", LengthPrefix, contextBase)
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
// Behind the lines, LengthReferences' references when all the runs have
// one task: the buckets holding training examples shaded (runs stored
// before train/examples/len_A_B: every bucket between the shortest and
// the longest training source; a language model's training context as a
// dashed vertical line) and each bucket's majority-answer floor, dotted;
// the legend says when one is not drawn. The dashboard draws the same.
//
// Each line goes through the mean over the group's runs at each length,
// in a shaded band from their minimum to their maximum when the group has
// several runs (seeds); a length where a group has no finite value leaves
// a gap in its line. Where only some of its runs have one (a bucket
// missing from some seeds' test sets, a diverged loss), the line is thin
// and dashed without band, the mean of those runs, marked "n=2", as
// PlotCurves draws runs that end early. The legend is beside the plot. Runs of both kinds
// together are an error, and so are runs with neither. q.Metrics, q.Sort
// and q.Baseline are not used. The format follows the extension of
// out.Path (PlotFormats; "-", standard output, is PNG); the file is
// written with safeout's rules. It returns the runs left out as diverged,
// as PlotCurves does.
func PlotLength(ctx context.Context, st *store.Store, q Query, out safeout.Target) ([]store.Run, error) {
	sel, c, err := groupQuery(ctx, st, q)
	if err != nil {
		return nil, err
	}
	pts, lm, err := lengthAxes(sel)
	if err != nil {
		return nil, err
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
	refs := LengthReferences(c, sel.sums, pointKeys(pts), lm)
	if refs.Hi > 0 && lm {
		x := math.Log2(refs.Hi)
		p.X.Min, p.X.Max = math.Min(p.X.Min, x-pad), math.Max(p.X.Max, x+pad)
	}
	refLegend, err := refs.draw(p, pts, lm) // behind the grid and the lines
	if err != nil {
		return nil, fmt.Errorf("report: plot length: %w", err)
	}
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
			return nil, fmt.Errorf("report: plot length: %w", err)
		}
		legend.Add(labels[i], line, dots)
		for j := range bands[i].x {
			partial = partial || (bands[i].n[j] > 0 && !bands[i].full(j))
		}
	}
	if partial {
		addPartial(&legend)
	}
	for _, e := range refLegend {
		legend.Add(e.label, e.thumbs...)
	}
	what := "length buckets"
	if lm {
		what = "losses at other context lengths"
	}
	addMissing(&legend, c, missing, what)
	width := plotWidth + legend.Rectangle(draw.Canvas{}).Size().X
	if err := savePlot(out, width, plotHeight, func(dc draw.Canvas) { legendBeside(dc, p, legend, len(c.Rows)) }); err != nil {
		return nil, err
	}
	return c.Diverged, nil
}

// Summary keys of what a length plot marks behind its lines (see
// LengthReferences).
const (
	trainMinKey   = "train/src_len_min"
	trainMaxKey   = "train/src_len_max"
	trainCtxKey   = "train/context"
	floorPrefix   = "test/majority_exact_match/len_"
	floorsOverall = "test/majority_exact_match"
)

// LengthRefs are the references a length plot draws behind its lines:
// the lengths the runs were trained on, Lo to Hi (a language model's: its
// context, Lo = Hi; Hi 0: not marked), and the majority-answer floor at
// each length bucket (NaN where no run has one; nil: not drawn); Notes
// say why one is not drawn.
type LengthRefs struct {
	Lo, Hi float64
	// Trained says, per bucket (LengthReferences' keys), whether any run
	// had training examples in it (train/examples/len_A_B); nil when the
	// runs were stored without those counts, and the buckets between Lo
	// and Hi count as trained.
	Trained []bool
	Floor   []float64
	Notes   []string
}

// LengthReferences reads the references of a length plot from the
// summaries sums of the runs of c's rows, at keys: the length-bucket keys
// in LengthBuckets' order, or a language model's test/loss@N (lm, no
// floor). Both are properties of the data, so they are drawn only when
// every row has the same task (see Row.Task; seeds may draw different
// data, whose training lengths are then the widest range over the runs
// and whose floors are averaged): a floor or training range of another
// task would mislead. Runs stored before these summaries (2026-12-04) have
// neither; a reference only some runs have is not drawn.
func LengthReferences(c *Comparison, sums map[int64]map[string]float64, keys []string, lm bool) LengthRefs {
	var r LengthRefs
	var ids []int64
	same := len(c.Rows) > 0
	for _, row := range c.Rows {
		ids = append(ids, row.Runs...)
		same = same && row.Task >= 0 && row.Task == c.Rows[0].Task
	}
	trainKeys := []string{trainMinKey, trainMaxKey}
	if lm {
		trainKeys = []string{trainCtxKey}
	}
	count := func(key string) (have, lack int) {
		for _, id := range ids {
			if _, ok := sums[id][key]; ok {
				have++
			} else {
				lack++
			}
		}
		return have, lack
	}
	trainHave, trainLack := count(trainKeys[len(trainKeys)-1])
	floorHave, floorLack := 0, 0
	if !lm {
		floorHave, floorLack = count(floorsOverall)
	}
	if trainHave == 0 && floorHave == 0 {
		return r
	}
	if !same {
		r.Notes = append(r.Notes, "training lengths and floors not marked: the runs' tasks differ")
		return r
	}
	if trainHave > 0 && trainLack == 0 {
		r.Lo, r.Hi = math.Inf(1), 0
		for _, id := range ids {
			r.Lo, r.Hi = math.Min(r.Lo, sums[id][trainKeys[0]]), math.Max(r.Hi, sums[id][trainKeys[len(trainKeys)-1]])
		}
	} else if trainHave > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("training lengths not marked: %d of %d runs were stored without them", trainLack, trainHave+trainLack))
	}
	if !lm && r.Hi > 0 {
		r.Trained = trainedBuckets(ids, sums, keys)
	}
	if floorHave > 0 && floorLack == 0 {
		fpts := make([]lengthPoint, len(keys))
		for j, k := range keys {
			fpts[j] = lengthPoint{key: floorPrefix + strings.TrimPrefix(k, LengthPrefix), x: float64(j)}
		}
		b := lengthBand(ids, sums, fpts)
		r.Floor = b.mean
		for j := range r.Floor {
			if b.n[j] == 0 {
				r.Floor[j] = math.NaN()
			}
		}
	} else if floorHave > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("majority floor not drawn: %d of %d runs were stored without it", floorLack, floorHave+floorLack))
	}
	return r
}

// trainedBuckets returns, per bucket of keys, whether any of the runs had
// training examples in it (train/examples/len_A_B), or nil when a run
// lacks one of those counts.
func trainedBuckets(ids []int64, sums map[int64]map[string]float64, keys []string) []bool {
	out := make([]bool, len(keys))
	for j, k := range keys {
		key := trainExamplesPrefix + strings.TrimPrefix(k, LengthPrefix)
		for _, id := range ids {
			n, ok := sums[id][key]
			if !ok {
				return nil
			}
			out[j] = out[j] || n > 0
		}
	}
	return out
}

// trainExamplesPrefix begins the keys of the training examples per length
// bucket (train/examples/len_A_B).
const trainExamplesPrefix = "train/examples/len_"

// TrainedText says what lengths the runs were trained on ("trained on
// sources of 4–30 tokens", "training context: 64 tokens"), or "" when
// they are not marked.
func (r LengthRefs) TrainedText(lm bool) string {
	switch {
	case r.Hi == 0:
		return ""
	case lm:
		return fmt.Sprintf("training context: %g tokens", r.Hi)
	}
	return fmt.Sprintf("trained on sources of %g–%g tokens", r.Lo, r.Hi)
}

// TrainedSpans returns the runs of consecutive length buckets keys
// (test/exact_match/len_A_B, in order) that hold training examples, each
// as the indices of its first and last bucket, and the text a legend or
// note gives them ("trained on sources of 4–30 tokens"; "the buckets with
// training examples; trained on …" when a bucket between two spans has
// none). Runs stored without the counts per bucket (Trained nil) have one
// span: every bucket between the shortest and the longest training
// source. None when the lengths are not marked.
func (r LengthRefs) TrainedSpans(keys []string) (spans [][2]int, text string) {
	trained := r.Trained
	if trained == nil || len(trained) != len(keys) {
		trained = make([]bool, len(keys))
		for j, k := range keys {
			b, parsed := parseBucket(k)
			trained[j] = parsed && r.Hi > 0 && float64(b.lo) <= r.Hi && (b.hi < 0 || float64(b.hi) >= r.Lo)
		}
	}
	for j := 0; j < len(trained); j++ {
		if !trained[j] {
			continue
		}
		k := j
		for k+1 < len(trained) && trained[k+1] {
			k++
		}
		spans = append(spans, [2]int{j, k})
		j = k
	}
	switch {
	case len(spans) == 0:
		return nil, ""
	case len(spans) > 1:
		return spans, "the buckets with training examples; " + r.TrainedText(false)
	}
	return spans, r.TrainedText(false)
}

// refColor is the colour of a length plot's references.
var refColor = color.Gray{Y: 120}

// legendEntry is one line of a plot's legend.
type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// draw adds the references to p, behind the lines drawn after it, and
// returns their legend entries: the training lengths as a shaded span of
// the buckets that hold any of them (a language model's context as a
// vertical line), the floor as a dotted line through the buckets, broken
// where no run has one.
func (r LengthRefs) draw(p *plot.Plot, pts []lengthPoint, lm bool) ([]legendEntry, error) {
	var out []legendEntry
	switch {
	case r.Hi > 0 && lm:
		line := vLine{x: math.Log2(r.Hi), style: draw.LineStyle{Color: refColor, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}}
		p.Add(line)
		out = append(out, legendEntry{label: r.TrainedText(lm), thumbs: []plot.Thumbnailer{line}})
	case r.Hi > 0:
		if spans, text := r.TrainedSpans(pointKeys(pts)); spans != nil {
			// One span per run of buckets with training examples: a bucket
			// between the shortest and the longest training source with none
			// of them stays white.
			var span xSpan
			for _, sp := range spans {
				span = xSpan{x0: math.Max(pts[sp[0]].x-0.5, p.X.Min), x1: math.Min(pts[sp[1]].x+0.5, p.X.Max), color: color.Gray{Y: 232}}
				p.Add(span)
			}
			out = append(out, legendEntry{label: "shaded: " + text, thumbs: []plot.Thumbnailer{span}})
		}
	}
	if r.Floor != nil {
		var drawn plot.Thumbnailer
		for _, seg := range finiteRuns(pts, r.Floor) {
			line, err := plotter.NewLine(seg)
			if err != nil {
				return nil, err
			}
			line.Color, line.Width, line.Dashes = refColor, vg.Points(1.2), []vg.Length{vg.Points(1), vg.Points(2.5)}
			p.Add(line)
			drawn = line
		}
		if drawn != nil {
			out = append(out, legendEntry{label: "dotted: majority-answer floor", thumbs: []plot.Thumbnailer{drawn}})
		}
	}
	for _, n := range r.Notes {
		out = append(out, legendEntry{label: n})
	}
	return out, nil
}

// pointKeys returns the summary keys of pts.
func pointKeys(pts []lengthPoint) []string {
	keys := make([]string, len(pts))
	for j, pt := range pts {
		keys[j] = pt.key
	}
	return keys
}

// xSpan shades the plot's whole height from x0 to x1 (data coordinates);
// it does not widen the axes.
type xSpan struct {
	x0, x1 float64
	color  color.Color
}

func (s xSpan) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	c.FillPolygon(s.color, c.ClipPolygonXY([]vg.Point{{X: trX(s.x0), Y: c.Min.Y}, {X: trX(s.x1), Y: c.Min.Y},
		{X: trX(s.x1), Y: c.Max.Y}, {X: trX(s.x0), Y: c.Max.Y}}))
}

func (s xSpan) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.color, []vg.Point{c.Min, {X: c.Max.X, Y: c.Min.Y}, c.Max, {X: c.Min.X, Y: c.Max.Y}})
}

// vLine is a vertical line over the plot's whole height at x (data
// coordinates); it does not widen the axes.
type vLine struct {
	x     float64
	style draw.LineStyle
}

func (l vLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	c.StrokeLines(l.style, c.ClipLinesXY([]vg.Point{{X: trX(l.x), Y: c.Min.Y}, {X: trX(l.x), Y: c.Max.Y}})...)
}

func (l vLine) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(l.style, c.Min.X, y, c.Max.X, y)
}

// finiteRuns splits the points (pts[j].x, y[j]) at the NaNs of y into
// stretches of at least one point; a stretch of one point is drawn as a
// short level segment across it.
func finiteRuns(pts []lengthPoint, y []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	flush := func() {
		if len(cur) == 1 {
			cur = plotter.XYs{{X: cur[0].X - 0.2, Y: cur[0].Y}, {X: cur[0].X + 0.2, Y: cur[0].Y}}
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	for j, v := range y {
		if math.IsNaN(v) {
			flush()
			continue
		}
		cur = append(cur, plotter.XY{X: pts[j].x, Y: v})
	}
	flush()
	return out
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
