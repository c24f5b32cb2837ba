package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
)

// Pseudo group keys: besides param keys, Query.By accepts these names of a
// run's own columns.
const (
	KeyExperiment = "experiment" // the run's experiment name
	KeySeed       = "seed"       // the run's seed (one row per seed)
	KeyVariant    = "variant"    // the name of the run's sweep variant
)

// ErrNoRuns is wrapped by the errors of Compare and the plots when the query
// selects no run.
var ErrNoRuns = errors.New("no runs")

// Query selects runs and says how to compare them. The zero Query compares
// the done runs of every experiment, grouped by the keys that vary.
type Query struct {
	// Experiments are experiment names; empty means all experiments.
	Experiments []string
	// IDs are run ids; empty means any run (see store.RunFilter).
	IDs []int64
	// By are the group keys: param keys ("model.attention.name"), or a
	// unique dotted suffix of one ("attention.name"), or the pseudo keys
	// "experiment" and "seed". Empty means the keys whose values vary across
	// the selected runs, the seed left out (a key that some runs lack
	// varies); "experiment" comes first when the runs span several
	// experiments. When nothing varies, the runs are grouped by experiment.
	By []string
	// Metrics are the summary keys to show, in order. A name after a '/'
	// will do when it is unique ("bleu" for "test/bleu"), or when one of the
	// keys ending so is test/NAME, else valid/NAME, else train/NAME
	// ("exact_match" is test/exact_match beside valid/exact_match); the
	// same holds for Sort. Empty means DefaultMetrics, restricted to the keys the
	// selected runs have (valid/loss stands in for test/loss when that is
	// missing); if none of them exists, the first six summary keys in
	// sorted order.
	Metrics []string
	// Where filters runs (see store.ParseWhere); nil means no filter.
	Where *store.Cond
	// Sort is the metric that orders the rows, best first by its Direction
	// (ascending for a metric without a direction). A leading '-' sorts
	// descending and a leading '+' ascending, whatever the direction. A
	// metric not in Metrics is added to them. Rows without a value come
	// last. Empty keeps the plan order: the order in which each group first
	// appears among the runs (by experiment name, then run id).
	Sort string
	// Baseline is "key=value" (several pairs separated by commas): the row
	// whose runs every other row is tested against with Welch's two-sided
	// t-test, per metric. The key is a group key or a unique dotted suffix
	// of one; the value is compared with the row's formatted value (see
	// Row.Group; "" matches a run that lacks the key). It must match
	// exactly one row. Empty means no p-values.
	Baseline string
	// Status selects runs by status; empty means store.StatusDone.
	Status store.Status
}

// DefaultMetrics is the default set of Query.Metrics, in display order;
// only the keys present in the selected runs are shown.
var DefaultMetrics = []string{
	"test/exact_match",
	"test/bleu",
	"test/loss",
	"test/align_acc",
	"perf/tokens_per_s",
	"model/params",
}

// Comparison is the result of Compare: one row per group of runs, one cell
// per metric. Write renders it.
type Comparison struct {
	Keys     []string // group keys, in order (full param keys or pseudo keys)
	Metrics  []string // summary keys, in order
	Rows     []Row
	Baseline int    // index in Rows of the baseline row; -1 if none
	SortedBy string // the metric the rows are sorted by; "" for plan order
}

// Row is one group of runs: the runs that share the values of the group
// keys (usually one per seed).
type Row struct {
	// Group holds one formatted value per key: numbers in the shortest
	// form that reads back exactly (%g style: 0.001, 1e-05, 64), bools as
	// true/false, text as is (empty text as ""), lists as compact JSON,
	// null as null; "" when the runs lack the key.
	Group []string
	Runs  []int64 // ids of the runs aggregated, in id order
	Cells []Cell  // one per metric
}

// Cell is one metric over the runs of a row.
type Cell struct {
	Mean, Std float64 // over the runs with a value (sample std, n−1); NaN when N is 0, Std NaN when N is 1
	N         int     // runs with a value (not NaN, not missing)
	NaN       int     // runs whose value is NaN (a diverged run); len(Runs)−N−NaN runs lack the key
	Best      bool    // the row's mean is the best of the column by the metric's Direction (ties all marked; ±Inf compare as values; never with fewer than 2 rows with a mean)
	P         float64 // Welch two-sided p-value against the baseline row; NaN for the baseline row, without baseline, or with fewer than 2 values on either side
	Values    []float64
	// Values holds one value per run of the row, in the order of Row.Runs:
	// NaN for a NaN value and for a run that lacks the key.
}

// Label returns the row's group as "key=value key=value", each key
// shortened as in the table's header (see ShortKeys) and keys the row's
// runs lack left out; "" when there are no keys.
func (c *Comparison) Label(row int) string {
	short := ShortKeys(c.Keys)
	var parts []string
	for i, k := range short {
		if v := c.Rows[row].Group[i]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// Compare selects runs by q, groups them and aggregates each metric per
// group (see Query, Comparison). It only reads the store. Errors name what
// is wrong and what is known: an unknown experiment (wrapping
// store.ErrNotFound, listing the known ones), no matching runs (ErrNoRuns,
// with the experiments' run counts by status), an unknown metric (listing
// the summary keys of the selected runs), an unknown or ambiguous --by key,
// an unknown sort metric, a baseline that matches no row or several.
func Compare(ctx context.Context, st *store.Store, q Query) (*Comparison, error) {
	sel, c, err := groupQuery(ctx, st, q)
	if err != nil {
		return nil, err
	}
	mets, err := chooseMetrics(sel, q.Metrics)
	if err != nil {
		return nil, err
	}
	sortKey, desc := "", false
	if q.Sort != "" {
		name, dir := q.Sort, 0
		switch name[0] {
		case '-':
			dir, name = -1, name[1:]
		case '+':
			dir, name = 1, name[1:]
		}
		if sortKey, err = resolveMetric(sel, name, "sort metric"); err != nil {
			return nil, err
		}
		// Best first: descending for max metrics; ascending for min metrics
		// and those without a direction, unless the user said otherwise.
		desc = dir < 0 || (dir == 0 && Direction(sortKey) > 0)
		if !slices.Contains(mets, sortKey) {
			mets = append(mets, sortKey)
		}
	}
	c.Metrics, c.SortedBy = mets, sortKey
	for i := range c.Rows {
		row := &c.Rows[i]
		row.Cells = make([]Cell, len(mets))
		for j, m := range mets {
			row.Cells[j] = newCell(sel, row.Runs, m)
		}
	}
	if sortKey != "" {
		j := slices.Index(mets, sortKey)
		sort.SliceStable(c.Rows, func(a, b int) bool {
			x, y := c.Rows[a].Cells[j].Mean, c.Rows[b].Cells[j].Mean
			if math.IsNaN(x) || math.IsNaN(y) {
				return !math.IsNaN(x) && math.IsNaN(y)
			}
			if desc {
				return x > y
			}
			return x < y
		})
	}
	if q.Baseline != "" {
		b, err := c.findBaseline(q.Baseline)
		if err != nil {
			return nil, err
		}
		c.Baseline = b
	}
	c.mark()
	return c, nil
}

// groupQuery selects the runs of q and groups them by q.By (or the
// varying keys): it returns a Comparison with keys and rows but no metrics.
func groupQuery(ctx context.Context, st *store.Store, q Query) (*selection, *Comparison, error) {
	sel, err := selectRuns(ctx, st, q.Experiments, q.IDs, q.Status, q.Where)
	if err != nil {
		return nil, nil, err
	}
	keys, err := groupKeys(sel, q.By)
	if err != nil {
		return nil, nil, err
	}
	c := &Comparison{Keys: keys, Baseline: -1}
	index := map[string]int{}
	for _, r := range sel.runs {
		vals := make([]string, len(keys))
		ids := make([]string, len(keys))
		for i, k := range keys {
			vals[i], ids[i] = sel.value(r, k)
		}
		id := strings.Join(ids, "\x00")
		i, ok := index[id]
		if !ok {
			i = len(c.Rows)
			index[id] = i
			c.Rows = append(c.Rows, Row{Group: vals})
		}
		c.Rows[i].Runs = append(c.Rows[i].Runs, r.ID)
	}
	for i := range c.Rows {
		slices.Sort(c.Rows[i].Runs)
	}
	return sel, c, nil
}

// newCell aggregates metric m over the runs ids.
func newCell(sel *selection, ids []int64, m string) Cell {
	cell := Cell{Values: make([]float64, len(ids)), P: math.NaN()}
	for i, id := range ids {
		v, ok := sel.sums[id][m]
		switch {
		case !ok:
			cell.Values[i] = math.NaN()
		case math.IsNaN(v):
			cell.Values[i] = v
			cell.NaN++
		default:
			cell.Values[i] = v
			cell.N++
		}
	}
	cell.Mean, cell.Std = metrics.MeanStd(cell.Values)
	return cell
}

// mark sets the Best flags and the p-values against the baseline row.
func (c *Comparison) mark() {
	for j, m := range c.Metrics {
		dir := Direction(m)
		best, n := math.NaN(), 0
		for i := range c.Rows {
			cell := &c.Rows[i].Cells[j]
			cell.Best = false
			if math.IsNaN(cell.Mean) {
				continue
			}
			n++
			if math.IsNaN(best) || float64(dir)*(cell.Mean-best) > 0 {
				best = cell.Mean
			}
		}
		if dir != 0 && n >= 2 {
			for i := range c.Rows {
				if cell := &c.Rows[i].Cells[j]; cell.Mean == best {
					cell.Best = true
				}
			}
		}
		for i := range c.Rows {
			cell := &c.Rows[i].Cells[j]
			cell.P = math.NaN()
			if c.Baseline >= 0 && i != c.Baseline {
				_, cell.P = metrics.WelchTTest(cell.Values, c.Rows[c.Baseline].Cells[j].Values)
			}
		}
	}
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Direction returns +1 if larger values of the summary metric are better,
// −1 if smaller ones are, and 0 if neither (no best is marked, and Sort
// orders ascending), as metrics.Describe says.
func Direction(metric string) int {
	return int(metrics.Describe(metric).Direction)
}

// findBaseline returns the index of the one row that matches spec.
func (c *Comparison) findBaseline(spec string) (int, error) {
	type pair struct {
		key int
		val string
	}
	var pairs []pair
	for _, part := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if len(pairs) == 0 {
				return -1, fmt.Errorf("report: baseline %q: want key=value", spec)
			}
			pairs[len(pairs)-1].val += "," + part // a comma inside a value ([1,2])
			continue
		}
		k = strings.TrimSpace(k)
		i, err := matchKey(c.Keys, k)
		if err != nil {
			return -1, fmt.Errorf("report: baseline %q: %w", spec, err)
		}
		pairs = append(pairs, pair{i, strings.TrimSpace(v)})
	}
	var hits []int
	for r, row := range c.Rows {
		ok := true
		for _, p := range pairs {
			if row.Group[p.key] != p.val {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, r)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		var rows []string
		for r := range c.Rows {
			rows = append(rows, c.Label(r))
		}
		return -1, fmt.Errorf("report: baseline %q matches no row (rows: %s)", spec, strings.Join(rows, "; "))
	}
	var rows []string
	for _, r := range hits {
		rows = append(rows, c.Label(r))
	}
	return -1, fmt.Errorf("report: baseline %q matches %d rows (%s); give a value for more keys, comma-separated",
		spec, len(hits), strings.Join(rows, "; "))
}

// matchKey finds k among keys: equal, or a unique dotted suffix.
func matchKey(keys []string, k string) (int, error) {
	if i := slices.Index(keys, k); i >= 0 {
		return i, nil
	}
	var hits []int
	for i, key := range keys {
		if strings.HasSuffix(key, "."+k) {
			hits = append(hits, i)
		}
	}
	if len(hits) == 1 {
		return hits[0], nil
	}
	if len(hits) > 1 {
		var names []string
		for _, i := range hits {
			names = append(names, keys[i])
		}
		return -1, fmt.Errorf("key %q is ambiguous (%s)", k, strings.Join(names, ", "))
	}
	return -1, fmt.Errorf("%q is not a group key (group keys: %s)", k, strings.Join(keys, ", "))
}

// selection is the runs a query selected, with their params and summaries.
type selection struct {
	runs   []store.Run
	params map[int64]map[string]store.Value
	sums   map[int64]map[string]float64
}

// selectRuns reads the runs of the experiments (all if empty) with the
// status (done if empty) that match where, with their params and
// summaries.
func selectRuns(ctx context.Context, st *store.Store, exps []string, ids []int64, status store.Status, where *store.Cond) (*selection, error) {
	if status == "" {
		status = store.StatusDone
	}
	all, err := st.Experiments(ctx)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := checkExperiments(all, exps); err != nil {
		return nil, err
	}
	runs, err := st.Runs(ctx, store.RunFilter{Experiments: exps, IDs: ids, Status: status, Where: where})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(runs) == 0 {
		return nil, noRunsError(all, exps, status, where)
	}
	ids = make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	sel := &selection{runs: runs}
	if sel.params, err = st.Params(ctx, ids); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if sel.sums, err = st.Summaries(ctx, ids); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return sel, nil
}

func checkExperiments(all []store.Experiment, names []string) error {
	known := make([]string, len(all))
	for i, e := range all {
		known[i] = e.Name
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			list := strings.Join(known, ", ")
			if len(known) == 0 {
				list = "none: the database has no experiments yet"
			}
			return fmt.Errorf("report: unknown experiment %q (known: %s): %w", n, list, store.ErrNotFound)
		}
	}
	return nil
}

func noRunsError(all []store.Experiment, names []string, status store.Status, where *store.Cond) error {
	var parts []string
	for _, e := range all {
		if len(names) > 0 && !slices.Contains(names, e.Name) {
			continue
		}
		var counts []string
		for _, s := range store.Statuses {
			if n := e.Counts[s]; n > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", n, s))
			}
		}
		if len(counts) == 0 {
			counts = []string{"no runs"}
		}
		parts = append(parts, e.Name+": "+strings.Join(counts, ", "))
	}
	what := fmt.Sprintf("no %s runs", status)
	if where != nil {
		what += " match --where " + where.String()
	}
	if len(parts) == 0 {
		return fmt.Errorf("report: %s: the database has no experiments: %w", what, ErrNoRuns)
	}
	return fmt.Errorf("report: %s (%s): %w", what, strings.Join(parts, "; "), ErrNoRuns)
}

// value returns the formatted value of group key k for run r, and a string
// that identifies it exactly (with its kind).
func (s *selection) value(r store.Run, k string) (display, id string) {
	switch k {
	case KeyExperiment:
		return r.Experiment, "e" + r.Experiment
	case KeySeed:
		v := strconv.FormatInt(r.Seed, 10)
		return v, "s" + v
	}
	v, ok := s.params[r.ID][k]
	if !ok && k == KeyVariant {
		if name, _ := pointOf(r)[KeyVariant].(string); name != "" {
			return name, "v" + name
		}
	}
	if !ok {
		return "", "-"
	}
	return formatValue(v), string(v.Kind) + ":" + v.String()
}

// formatValue formats a param value for a group: see Row.Group.
func formatValue(v store.Value) string {
	if v.Kind == store.KindText && v.Text == "" {
		return `""`
	}
	return v.String()
}

// paramKeys returns every param key of the selected runs, sorted.
func (s *selection) paramKeys() []string {
	set := map[string]bool{}
	for _, ps := range s.params {
		for k := range ps {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// summaryKeys returns every summary key of the selected runs, sorted.
func (s *selection) summaryKeys() []string {
	set := map[string]bool{}
	for _, m := range s.sums {
		for k := range m {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// pointOf decodes a run's sweep point (nil when it has none).
func pointOf(r store.Run) map[string]any {
	var p map[string]any
	if r.Point != "" {
		_ = json.Unmarshal([]byte(r.Point), &p)
	}
	return p
}

// sweepKeys returns the default group keys: the keys of the runs' sweep
// points whose values differ (with "experiment" first when the runs span
// several experiments). A named variant stands for the keys it sets: keys
// whose value follows from the variant are left out. Runs recorded without
// sweep points fall back to every varying param.
func (s *selection) sweepKeys() []string {
	set := map[string]bool{}
	for _, r := range s.runs {
		for k := range pointOf(r) {
			set[k] = true
		}
	}
	if len(set) == 0 {
		return s.varyingKeys()
	}
	var out []string
	exps := map[string]bool{}
	for _, r := range s.runs {
		exps[r.Experiment] = true
	}
	if len(exps) > 1 {
		out = append(out, KeyExperiment)
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if set[KeyVariant] {
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == KeyVariant })
		keys = append([]string{KeyVariant}, keys...)
	}
	for _, k := range keys {
		if k == "seed" || !s.varies(k) {
			continue
		}
		if k != KeyVariant && set[KeyVariant] && s.follows(k, KeyVariant) {
			continue
		}
		out = append(out, k)
	}
	if len(out) == 0 {
		return s.varyingKeys()
	}
	return out
}

// varies reports whether key k takes more than one value over the runs.
func (s *selection) varies(k string) bool {
	first, seen := "", false
	for _, r := range s.runs {
		_, id := s.value(r, k)
		if !seen {
			first, seen = id, true
		} else if id != first {
			return true
		}
	}
	return false
}

// follows reports whether the value of k is determined by the value of by
// over the runs.
func (s *selection) follows(k, by string) bool {
	seen := map[string]string{}
	for _, r := range s.runs {
		_, b := s.value(r, by)
		_, v := s.value(r, k)
		if old, ok := seen[b]; ok && old != v {
			return false
		}
		seen[b] = v
	}
	return true
}

// varyingKeys returns the param keys whose values differ between the runs
// (a key some runs lack varies), without seed and the experiment's name,
// with "experiment" first when the runs span several experiments.
func (s *selection) varyingKeys() []string {
	var out []string
	exps := map[string]bool{}
	for _, r := range s.runs {
		exps[r.Experiment] = true
	}
	if len(exps) > 1 {
		out = append(out, KeyExperiment)
	}
	for _, k := range s.paramKeys() {
		if k == "seed" || k == "name" {
			continue
		}
		first, seen := "", false
		for _, r := range s.runs {
			_, id := s.value(r, k)
			if !seen {
				first, seen = id, true
			} else if id != first {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// groupKeys resolves Query.By against the selected runs.
func groupKeys(sel *selection, by []string) ([]string, error) {
	if len(by) == 0 {
		keys := sel.sweepKeys()
		if len(keys) == 0 {
			keys = []string{KeyExperiment}
		}
		return keys, nil
	}
	known := sel.paramKeys()
	var keys []string
	for _, k := range by {
		k = strings.TrimSpace(k)
		var full string
		switch {
		case k == KeyExperiment || k == KeySeed || k == KeyVariant:
			full = k
		case slices.Contains(known, k):
			full = k
		default:
			var hits []string
			for _, key := range known {
				if strings.HasSuffix(key, "."+k) {
					hits = append(hits, key)
				}
			}
			switch len(hits) {
			case 1:
				full = hits[0]
			case 0:
				return nil, fmt.Errorf("report: --by %q: no selected run has this param%s", k, suggest(k, known, sel.varyingKeys()))
			default:
				return nil, fmt.Errorf("report: --by %q is ambiguous: %s", k, strings.Join(hits, ", "))
			}
		}
		if slices.Contains(keys, full) {
			return nil, fmt.Errorf("report: --by %q given twice", full)
		}
		keys = append(keys, full)
	}
	return keys, nil
}

// suggest returns " (did you mean X?; keys that vary: ...)" for an unknown
// key.
func suggest(k string, known, varying []string) string {
	var b strings.Builder
	best, bestD := "", 4
	for _, key := range known {
		if d := editDistance(k, key); d < bestD {
			best, bestD = key, d
		}
	}
	b.WriteString(" (")
	if best != "" {
		fmt.Fprintf(&b, "did you mean %s? ", best)
	}
	if len(varying) > 0 {
		fmt.Fprintf(&b, "keys that vary: %s; ", strings.Join(varying, ", "))
	}
	fmt.Fprintf(&b, "%d param keys in all, plus experiment and seed)", len(known))
	return b.String()
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// chooseMetrics resolves Query.Metrics (or the defaults) against the
// selected runs.
func chooseMetrics(sel *selection, want []string) ([]string, error) {
	known := sel.summaryKeys()
	if len(want) == 0 {
		var out []string
		for _, m := range DefaultMetrics {
			if m == "test/loss" && !slices.Contains(known, m) && slices.Contains(known, "valid/loss") {
				m = "valid/loss"
			}
			if slices.Contains(known, m) {
				out = append(out, m)
			}
		}
		if len(out) == 0 {
			out = known[:min(len(known), 6)]
		}
		return out, nil
	}
	var out []string
	for _, m := range want {
		full, err := resolveMetric(sel, strings.TrimSpace(m), "metric")
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, full) {
			out = append(out, full)
		}
	}
	return out, nil
}

// resolveMetric finds metric m among the selected runs' summary keys:
// equal, or a unique suffix after a '/'.
func resolveMetric(sel *selection, m, what string) (string, error) {
	known := sel.summaryKeys()
	if slices.Contains(known, m) {
		return m, nil
	}
	hits := suffixMatches(known, m)
	switch {
	case len(hits) == 1:
		return hits[0], nil
	case len(hits) > 1:
		return "", fmt.Errorf("report: %s %q is ambiguous (%s)", what, m, strings.Join(hits, ", "))
	case len(known) == 0:
		return "", fmt.Errorf("report: unknown %s %q: the selected runs have no summaries", what, m)
	}
	return "", fmt.Errorf("report: unknown %s %q (the selected runs have: %s)", what, m, strings.Join(known, ", "))
}

// splitPreference orders the splits a bare metric name prefers when several
// keys end with it: exact_match means test/exact_match, loss in a history
// means valid/loss.
var splitPreference = []string{"test/", "valid/", "train/"}

// suffixMatches returns the keys equal to m after a '/' prefix; when there
// are several, the one of the first split of splitPreference among them, if
// any.
func suffixMatches(keys []string, m string) []string {
	var hits []string
	for _, k := range keys {
		if strings.HasSuffix(k, "/"+m) {
			hits = append(hits, k)
		}
	}
	if len(hits) > 1 {
		for _, split := range splitPreference {
			if slices.Contains(hits, split+m) {
				return []string{split + m}
			}
		}
	}
	return hits
}
