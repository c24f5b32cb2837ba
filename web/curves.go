package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

// Views of the curves page.
const (
	viewRuns = "runs" // one line per run
	viewMean = "mean" // one line per group: the mean over its runs, with a band
)

// Bands around a group's mean.
const (
	bandMinMax = "minmax" // from the runs' minimum to their maximum at each step
	bandStd    = "std"    // mean ± the runs' sample standard deviation at each step
)

// pointBudget bounds the values (x and every channel of every line) one
// curves answer carries, so that the page stays under 2 MB however many
// runs it shows; maxLinePoints and minLinePoints bound each line.
const (
	pointBudget   = 300_000
	maxLinePoints = 1000
	minLinePoints = 100
)

// curvesRequest is what the curves page asks for.
type curvesRequest struct {
	query  report.Query // runs and grouping; Status defaults to every status
	metric string       // "" picks one (see resolveMetric)
	view   string       // viewRuns, viewMean, or "" (mean when a group has several runs)
	band   string       // bandMinMax (default) or bandStd
}

// curvesData is the answer of /api/x/NAME/curves, which the page's script
// hands to uPlot: one x axis shared by every line.
type curvesData struct {
	Metric    string   `json:"metric"`
	Metrics   []string `json:"metrics"` // every metric the selected runs logged
	View      string   `json:"view"`
	Band      string   `json:"band,omitempty"`
	Direction string   `json:"direction"` // higher, lower or none (metrics.Describe)
	Doc       string   `json:"doc,omitempty"`
	X         floats   `json:"x"`
	Series    []series `json:"series"`
	Missing   []string `json:"missing,omitempty"` // groups or runs without a finite value of the metric
	// Partial says some group's mean is, at some steps, over fewer than
	// all its runs (drawn dashed, without band).
	Partial bool `json:"partial,omitempty"`
	// Width is the number of steps per bucket when the histories were
	// downsampled (each line keeps its minimum and maximum in each
	// bucket); 0 when every point is there.
	Width int `json:"width"`
	// Positive says every value is > 0, so a log scale can show them all;
	// Log suggests it (they span more than two decades).
	Positive bool `json:"positive"`
	Log      bool `json:"log"`
}

// series is one line of curvesData: Y (a run's values or a group's mean)
// and, for a group, its band Lo–Hi and the number of runs N behind each
// value. The mean is over every run of the group only where N equals
// NRuns; the band is there and nowhere else (null), and the page draws the
// mean solid there, dashed elsewhere (report.PlotCurves's rule).
type series struct {
	Label string  `json:"label"`
	Runs  []int64 `json:"runs"`
	Group int     `json:"group"` // index of the comparison row
	Y     floats  `json:"y"`
	Lo    floats  `json:"lo,omitempty"`
	Hi    floats  `json:"hi,omitempty"`
	N     floats  `json:"n,omitempty"` // runs with a value at each x (the fewest in a downsampled bucket)
	// NRuns is how many runs of the group have data; Early, Diverged and
	// Training how many of them end before the group's last step
	// (report.GroupCurve).
	NRuns    int `json:"nruns,omitempty"`
	Early    int `json:"early,omitempty"`
	Diverged int `json:"diverged,omitempty"`
	Training int `json:"training,omitempty"`
}

// floats is a JSON array of numbers with six significant digits, null for
// NaN and the infinities.
type floats []float64

func (f floats) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+8*len(f))
	b = append(b, '[')
	for i, x := range f {
		if i > 0 {
			b = append(b, ',')
		}
		if !finite(x) {
			b = append(b, "null"...)
			continue
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			b = strconv.AppendInt(b, int64(x), 10)
			continue
		}
		b = strconv.AppendFloat(b, x, 'g', 6, 64)
	}
	return append(b, ']'), nil
}

// defaultMetrics is the order in which the curves page picks a metric
// when none is asked for.
var defaultMetrics = []string{"train/loss", "valid/loss", "valid/exact_match", "valid/bleu"}

// resolveMetric finds a metric among the logged keys as attnlab plot does
// (report.MatchMetric); "" picks the first of defaultMetrics logged.
func resolveMetric(known []string, m string) (string, error) {
	if m == "" {
		for _, d := range defaultMetrics {
			if slices.Contains(known, d) {
				return d, nil
			}
		}
		if len(known) == 0 {
			return "", errors.New("the selected runs logged no metrics yet")
		}
		return known[0], nil
	}
	key, hits := report.MatchMetric(known, m)
	switch {
	case key != "":
		return key, nil
	case len(hits) > 1:
		return "", fmt.Errorf("metric %q is ambiguous (%s)", m, strings.Join(hits, ", "))
	case len(known) == 0:
		return "", fmt.Errorf("unknown metric %q: the selected runs logged no metrics", m)
	}
	return "", fmt.Errorf("unknown metric %q (the selected runs logged: %s)", m, strings.Join(known, ", "))
}

// curves computes the lines of a curves page: the runs and groups of
// report.Compare for the request's query (the same rows as the comparison
// table), and the metric's histories.
func (s *Server) curves(ctx context.Context, req curvesRequest) (*curvesData, error) {
	q := req.query
	if q.Status == "" {
		q.Status = report.StatusAny
	}
	// No run selected is the page's error (report.ErrNoRuns, 400), not
	// an answer of null that the page's script cannot draw.
	q.Metrics, q.Sort, q.Baseline = nil, "", ""
	c, err := report.Compare(ctx, s.st, q)
	if err != nil {
		return nil, err
	}
	runs, err := s.runsOf(ctx, c)
	if err != nil {
		return nil, err
	}
	list := make([]store.Run, 0, len(runs))
	for _, row := range c.Rows {
		for _, id := range row.Runs {
			list = append(list, runs[id])
		}
	}
	known, err := s.cache.metricKeys(ctx, list)
	if err != nil {
		return nil, err
	}
	metric, err := resolveMetric(known, req.metric)
	if err != nil {
		return nil, err
	}
	hist, err := s.cache.history(ctx, list, metric)
	if err != nil {
		return nil, err
	}
	d := metrics.Describe(metric)
	out := &curvesData{Metric: metric, Metrics: known, View: req.view, Direction: d.Direction.String()}
	if d.Known {
		out.Doc = d.Doc
	}
	if out.View == "" {
		out.View = viewRuns
		for _, row := range c.Rows {
			if len(row.Runs) > 1 {
				out.View = viewMean
			}
		}
	}
	var lines []line
	var meta []series
	if out.View == viewMean {
		out.Band = req.band
		if out.Band == "" {
			out.Band = bandMinMax
		}
		var buf []store.MetricPoint
		live := func(id int64) bool {
			switch runs[id].Status {
			case store.StatusQueued, store.StatusRunning, store.StatusInterrupted:
				return true
			}
			return false
		}
		for i, row := range c.Rows {
			l, g := groupLine(row.Runs, hist, out.Band, &buf, live)
			label := rowLabel(c, i)
			if g.Runs == 0 {
				out.Missing = append(out.Missing, label)
				continue
			}
			if g.Runs > 1 || len(row.Runs) > 1 {
				count := fmt.Sprintf("%d runs", g.Runs)
				if g.Runs < len(row.Runs) {
					count = fmt.Sprintf("%d/%d runs", g.Runs, len(row.Runs))
				}
				if e := g.Ends(); e != "" {
					count += ", " + e
				}
				label += " (" + count + ")"
			}
			for j := range g.Steps {
				out.Partial = out.Partial || !g.Full(j)
			}
			lines = append(lines, l)
			meta = append(meta, series{Label: label, Runs: row.Runs, Group: i, NRuns: g.Runs, Early: g.Early, Diverged: g.Diverged, Training: g.Training})
		}
	} else {
		for i, row := range c.Rows {
			for _, id := range row.Runs {
				r := runs[id]
				label := rowLabel(c, i)
				if len(c.Keys) == 1 && c.Keys[0] == report.KeyExperiment {
					label = ""
				}
				if label != "" {
					label += " "
				}
				label += "seed=" + strconv.FormatInt(r.Seed, 10) + " #" + strconv.FormatInt(r.ID, 10)
				l, ok := runLine(hist[id])
				if !ok {
					out.Missing = append(out.Missing, label)
					continue
				}
				lines = append(lines, l)
				meta = append(meta, series{Label: label, Runs: []int64{id}, Group: i})
			}
		}
	}
	chans := 1
	if out.View == viewMean {
		chans = 4
	}
	per := pointBudget / max(1, 1+chans*len(lines))
	per = max(minLinePoints, min(maxLinePoints, per))
	al := align(lines, per)
	out.X, out.Width = al.x, al.width
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, chs := range al.lines {
		sr := meta[i]
		sr.Y = chs[0]
		if len(chs) == 4 {
			sr.Lo, sr.Hi, sr.N = chs[1], chs[2], chs[3]
		}
		for _, ch := range chs[:min(3, len(chs))] {
			for _, v := range ch {
				if finite(v) {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
		out.Series = append(out.Series, sr)
	}
	out.Positive = lo > 0 && !math.IsInf(lo, 1)
	out.Log = out.Positive && hi/lo > 100
	return out, nil
}

// rowLabel names a comparison row: its keys ("attention.name=dot"), or
// "all runs" for a comparison without keys. Control characters and bidi
// overrides in its values are escaped (printable.Line), as pages show them.
func rowLabel(c *report.Comparison, i int) string {
	if l := c.Label(i); l != "" {
		return printable.Line(l)
	}
	return "all runs"
}

// runLine is one run's history as a line; ok is false without a finite
// value.
func runLine(cv curve) (line, bool) {
	l := line{steps: make([]int, len(cv.steps)), ch: [][]float64{make([]float64, len(cv.steps))}}
	ok := false
	for i := range cv.steps {
		l.steps[i] = int(cv.steps[i])
		v := float64(cv.values[i])
		l.ch[0][i] = v
		ok = ok || finite(v)
	}
	return l, ok
}

// groupLine aggregates the histories of a group's runs step by step with
// report.GroupCurveOf, the computation of attnlab plot curves, so that the
// page and the plot cannot disagree: channel 0 is the mean of the finite
// values at each step, channels 1 and 2 the band (their minimum and
// maximum, or mean ± sample standard deviation) and channel 3 how many
// runs have a value there. The band is NaN (none) at the steps where not
// every run of the group that has data has a value: there the mean is over
// the runs left (stopped early, diverged, a shorter run pooled), which the
// page draws dashed, as the plot does. buf is scratch space reused across
// calls.
func groupLine(ids []int64, hist map[int64]curve, band string, buf *[]store.MetricPoint, live func(int64) bool) (line, report.GroupCurve) {
	// report takes the store's points: convert the cached histories into
	// one reused buffer, then slice it per run.
	pts, at := (*buf)[:0], make([]int, len(ids)+1)
	for i, id := range ids {
		cv := hist[id]
		for k, s := range cv.steps {
			pts = append(pts, store.MetricPoint{Step: int(s), Value: float64(cv.values[k])})
		}
		at[i+1] = len(pts)
	}
	*buf = pts
	byRun := make(map[int64][]store.MetricPoint, len(ids))
	for i, id := range ids {
		if at[i+1] > at[i] {
			byRun[id] = pts[at[i]:at[i+1]:at[i+1]]
		}
	}
	g := report.GroupCurveOf(ids, byRun, live)
	n := len(g.Steps)
	var sq []float64
	if band == bandStd {
		// Sum of squared deviations from the mean, one pass per run with a
		// cursor into the group's sorted steps.
		sq = make([]float64, n)
		for _, id := range ids {
			cv := sortedSteps(hist[id])
			j := 0
			for i, s := range cv.steps {
				v := float64(cv.values[i])
				if !finite(v) {
					continue
				}
				for g.Steps[j] < int(s) {
					j++
				}
				d := v - g.Mean[j]
				sq[j] += d * d
			}
		}
	}
	l := line{steps: g.Steps, ch: [][]float64{g.Mean, make([]float64, n), make([]float64, n), make([]float64, n)}}
	for j := range g.Steps {
		l.ch[3][j] = float64(g.N[j])
		a, b := g.Min[j], g.Max[j]
		switch {
		case !g.Full(j):
			a, b = math.NaN(), math.NaN()
		case band == bandStd:
			sd := 0.0
			if g.N[j] > 1 {
				sd = math.Sqrt(sq[j] / float64(g.N[j]-1))
			}
			a, b = g.Mean[j]-sd, g.Mean[j]+sd
		}
		l.ch[1][j], l.ch[2][j] = a, b
	}
	return l, g
}

// sortedSteps returns cv with its points in step order (a copy when they
// are not: histories come sorted, so this is a check).
func sortedSteps(cv curve) curve {
	if slices.IsSorted(cv.steps) {
		return cv
	}
	idx := make([]int, len(cv.steps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(cv.steps[a], cv.steps[b]) })
	out := curve{steps: make([]int32, len(idx)), values: make([]float32, len(idx))}
	for i, k := range idx {
		out.steps[i], out.values[i] = cv.steps[k], cv.values[k]
	}
	return out
}

// runsOf returns the runs of a comparison's rows by id.
func (s *Server) runsOf(ctx context.Context, c *report.Comparison) (map[int64]store.Run, error) {
	var ids []int64
	for _, row := range c.Rows {
		ids = append(ids, row.Runs...)
	}
	list, err := s.st.Runs(ctx, store.RunFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]store.Run, len(list))
	for _, r := range list {
		out[r.ID] = r
	}
	return out, nil
}

// lengthData is the answer of /api/x/NAME/length: test exact match per
// source-length bucket, one line per group, as report.PlotLength draws it.
type lengthData struct {
	Buckets []string `json:"buckets"` // "1–10", …, "161+"
	Series  []series `json:"series"`
	Missing []string `json:"missing,omitempty"`
	// Floor is the majority-answer floor of each bucket, Trained the
	// buckets holding the lengths the runs were trained on, Notes why
	// either is left out (report.LengthReferences, as plot length draws
	// them).
	Floor   floats       `json:"floor,omitempty"`
	Trained *trainedSpan `json:"trained,omitempty"`
	Notes   []string     `json:"notes,omitempty"`
}

// trainedSpan is the runs of buckets that hold the runs' training
// examples, each its first and last bucket's index, and Text says which
// lengths they are (report.LengthRefs.TrainedSpans).
type trainedSpan struct {
	Text  string   `json:"text"`
	Spans [][2]int `json:"spans"`
}

// groups compares the runs q selects, without metric columns, sort or
// baseline: the plots only need its groups and their runs. It returns nil
// and no error when the runs selected are not done yet (say, the only run
// still trains): no buckets, which the page explains, rather than an
// error. A selection of no run at all, of any status (?run=99999, a where
// nothing matches), or of none of the status asked for, is the error
// report.ErrNoRuns that the curves answer gives for it, word for word.
func (s *Server) groups(ctx context.Context, q report.Query) (*report.Comparison, error) {
	q.Metrics, q.Sort, q.Baseline = nil, "", ""
	c, err := report.Compare(ctx, s.st, q)
	if errors.Is(err, report.ErrNoRuns) && q.Status == "" {
		q.Status = report.StatusAny // as curves asks
		if _, err := report.Compare(ctx, s.st, q); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return c, err
}

// length computes the length plot's lines: per group and bucket, the mean
// of the runs' finite values with their minimum and maximum. It returns
// nil when the runs have no length-bucket summaries.
func (s *Server) length(ctx context.Context, q report.Query) (*lengthData, error) {
	c, err := s.groups(ctx, q)
	if err != nil || c == nil {
		return nil, err
	}
	var ids []int64
	for _, row := range c.Rows {
		ids = append(ids, row.Runs...)
	}
	sums, err := s.st.Summaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, m := range sums {
		for k := range m {
			keys = append(keys, k)
		}
	}
	buckets, labels, err := report.LengthBuckets(keys)
	if err != nil {
		return nil, err
	}
	if len(buckets) == 0 {
		return nil, nil
	}
	for j, b := range buckets { // with how many test examples each holds
		if t := report.ExamplesText(sums, ids, b); t != "" {
			labels[j] += " (" + t + ")"
		}
	}
	refs := report.LengthReferences(c, sums, buckets, false)
	out := &lengthData{Buckets: labels, Floor: refs.Floor, Notes: refs.Notes}
	if spans, text := refs.TrainedSpans(buckets); spans != nil {
		out.Trained = &trainedSpan{Text: text, Spans: spans}
	}
	for i, row := range c.Rows {
		g := report.GroupLengthOf(row.Runs, sums, buckets)
		if g.Runs == 0 {
			out.Missing = append(out.Missing, rowLabel(c, i))
			continue
		}
		sr := series{Label: rowLabel(c, i), Runs: row.Runs, Group: i, Y: g.Mean, Lo: g.Min, Hi: g.Max, NRuns: g.Runs}
		for _, n := range g.N {
			sr.N = append(sr.N, float64(n))
		}
		switch {
		case len(row.Runs) == 1:
		case g.Runs < len(row.Runs):
			sr.Label += fmt.Sprintf(" (%d/%d runs)", g.Runs, len(row.Runs))
		default:
			sr.Label += fmt.Sprintf(" (%d runs)", len(row.Runs))
		}
		out.Series = append(out.Series, sr)
	}
	return out, nil
}
