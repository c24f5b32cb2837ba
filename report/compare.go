package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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

// StatusAny, as Query.Status, selects runs whatever their status.
const StatusAny store.Status = "any"

// ErrNoRuns is wrapped by the errors of Compare and the plots when the query
// selects no run.
var ErrNoRuns = errors.New("no runs")

// DivergedError is the error of Compare and the plots when every done run
// the query selects diverged: a build before 2026-12-06 stored it done
// with a loss or perplexity of ±Inf, and it counts as failed (see
// Comparison's notes). It is an ErrNoRuns (errors.Is). Its text names the
// runs and what to do: remove them (attnlab rm), after which a rerun of
// their experiment trains them anew.
type DivergedError struct {
	Runs []store.Run // the diverged runs, by id; Error says what diverged
	// DB and Note are the --db option and its note (store.CommandDB) of
	// the database the runs are in: Error's attnlab rm line names it, so
	// that as pasted it removes these runs, not the runs of the same ids
	// in the default database.
	DB, Note string
}

// Error returns "report: " and Say(DB), then "; " and Note if any.
func (e *DivergedError) Error() string {
	s := "report: " + e.Say(e.DB)
	if e.Note != "" {
		s += "; " + e.Note
	}
	return s
}

// Is reports whether target is ErrNoRuns.
func (e *DivergedError) Is(target error) bool { return target == ErrNoRuns }

// Say returns the error's text without its "report: " prefix, in one line:
// "every done run selected diverged: " and DivergedNote(e.Runs, db).
func (e *DivergedError) Say(db string) string {
	return "every done run selected diverged: " + DivergedNote(e.Runs, db)
}

// DivergedNote says in one line what became of runs stored done with a
// ±Inf loss or perplexity (DivergedError.Runs, Comparison.Diverged): the
// first runs' ids and names, and the attnlab rm command line that removes
// them all (every id: a line to paste, however long) with db, the --db
// option of store.CommandDB ("" for none), after the command's name.
func DivergedNote(runs []store.Run, db string) string {
	ids := make([]string, len(runs))
	named := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = strconv.FormatInt(r.ID, 10)
		named[i] = fmt.Sprintf("%d (%s)", r.ID, r.Name())
	}
	what, verb, them := "run", "was", "it"
	if len(runs) != 1 {
		what, verb, them = "runs", "were", "them"
	}
	rm := "attnlab rm" + db + " " + strings.Join(ids, " ")
	return fmt.Sprintf("%s %s %s stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed; %s removes %s, and a rerun of the experiment then trains %s anew",
		what, strings.Join(firstFew(named, 5), ", "), verb, rm, them, them)
}

// Query selects runs and says how to compare them. The zero Query compares
// the done runs of every experiment, grouped by the keys that vary.
//
// Keys given in By, Pool, Baseline and Where all take the same forms: a
// full param key (model.attention.name), a unique dotted suffix of one
// (attention.name), a metric key or the name after its '/' (bleu for
// test/bleu; Where only), or a pseudo key. An unknown key is an error that
// lists the closest known keys.
type Query struct {
	// Experiments are experiment names; empty means all experiments.
	Experiments []string
	// IDs are run ids; empty means any run (see store.RunFilter): run's
	// closing table shows the runs of one plan.
	IDs []int64
	// By are the group keys: param keys or the pseudo keys "experiment",
	// "seed" and "variant". Empty means every key whose value differs
	// among the selected runs (seed left out; a key that some runs lack
	// differs), so that no row ever pools runs of different settings; the
	// table is headed by a smallest set of those keys that tells the rows
	// apart (see Comparison.Keys). When By groups more coarsely — a key
	// that differs among the runs is neither in By nor determined by it —
	// that key must be in Pool, else Compare fails with an error naming
	// it and its values.
	By []string
	// Pool are the keys whose different values By may put in one row;
	// the comparison lists them (Comparison.Pooled, Row.Pooled) and every
	// format shows them.
	Pool []string
	// Metrics are the summary keys to show, in order. A name after a '/'
	// will do when it is unique ("bleu" for "test/bleu"), or when one of the
	// keys ending so is test/NAME, else valid/NAME, else train/NAME
	// ("exact_match" is test/exact_match beside valid/exact_match); the
	// same holds for Sort. A metric named twice (or by its short and its
	// full name) is one column, where it is first named: the user asked to
	// see it, not for two copies. Empty means DefaultMetrics, restricted to
	// the keys the selected runs have (valid/loss stands in for test/loss
	// when that is missing); if none of them exists, the first six summary
	// keys in sorted order.
	Metrics []string
	// Where filters runs (see store.ParseWhere; short keys are resolved
	// as above); nil means no filter.
	Where *store.Cond
	// Sort is the metric that orders the rows, best first by its direction
	// (ascending for a metric without a direction). A leading '-' sorts
	// descending and a leading '+' ascending, whatever the direction. A
	// metric not in Metrics is added to them; a sign without a name is an
	// error (ErrKey). Spaces around it are ignored. Rows without a value come last. Empty keeps the plan
	// order: the order in which each group first appears among the runs (by
	// experiment name, then run id).
	Sort string
	// Baseline is "key=value" (several pairs separated by commas): the row
	// every other row of the same task is compared with, per metric (see
	// Cell). The key is a group key or a unique dotted suffix of one; the
	// value is compared with the row's formatted value (see Row.Group; ""
	// matches a run that lacks the key). It must match exactly one row.
	// Empty means no tests.
	Baseline string
	// Status selects runs by status; empty means store.StatusDone, and
	// StatusAny runs of every status (the curves of runs still training).
	Status store.Status
	// TestCost tests cost metrics (timings, memory: see metrics.Describe)
	// against the baseline as well, and marks their best; by default they
	// are shown as mean ± std only, since a timing on a shared machine says
	// little about the setting.
	TestCost bool
	// NoAdjust leaves the p-values unadjusted; by default they are
	// adjusted for the multiple comparisons of each metric column with
	// Holm's method (metrics.Holm).
	NoAdjust bool
	// Unpaired compares every row with the baseline by Welch's test, as
	// independent samples, also where the two rows have the same seeds
	// (see Cell.Paired).
	Unpaired bool
}

// Level is the confidence level of the intervals of Cell.Low and
// Cell.High.
const Level = 0.95

// DefaultMetrics is the default set of Query.Metrics, in display order;
// only the keys present in the selected runs are shown.
var DefaultMetrics = []string{
	"test/exact_match",
	"test/bleu",
	"test/chrf",
	"test/loss",
	"test/align_acc",
	"perf/tokens_per_s",
	"model/params",
}

// Comparison is the result of Compare: one row per group of runs, one cell
// per metric. It is a plain value, the same whatever the output format;
// Write renders it.
type Comparison struct {
	// Keys head the rows (full param keys or pseudo keys). Without
	// Query.By they are chosen so that they determine every setting that
	// differs among the runs: see Derived.
	Keys []string
	// Derived are the keys whose values differ between rows but follow
	// from Keys (an attention variant's own parameters follow from its
	// name); they are not shown.
	Derived []string
	// Pooled are the keys whose values differ within rows (Query.Pool);
	// Row.Pooled holds each row's values.
	Pooled []string
	// PooledAlong are the keys of Pooled that Keys and the keys given to
	// Query.Pool determine (a pooled attention name's own parameters):
	// tables name them in a note instead of giving each a column.
	PooledAlong []string
	Metrics     []string // summary keys, in order
	Rows        []Row
	// Baseline is the index in Rows of the baseline row; -1 if none.
	Baseline int
	// SortedBy is the metric the rows are sorted by; "" for plan order.
	SortedBy string
	// Adjusted says whether Cell.PAdj holds Holm-adjusted p-values (else it
	// equals Cell.P; Query.NoAdjust).
	Adjusted bool
	// TestCost is Query.TestCost: cost metrics were tested too.
	TestCost bool
	// Unpaired is Query.Unpaired: no cell was compared by the paired test.
	Unpaired bool
	// Tasks is the number of distinct tasks among the rows (see Row.Task).
	Tasks int
	// Diverged are the done runs selected (Query.Status empty or done)
	// that a build before 2026-12-06 stored with a loss or perplexity of
	// ±Inf: they count as failed, listed with the failed runs (Row.Failed,
	// FailedElsewhere). The command that compared says how to train them
	// anew (DivergedNote), with its --db; the encoded formats leave it out.
	Diverged []store.Run
	// FailedElsewhere are the failed runs (Query.Status empty) whose
	// setting no done run has, so that no row holds them; Label gives
	// their values of Keys.
	FailedElsewhere []FailedRun
	// Where is Query.Where as text ("" without); Unfinished counts, with Query.Status
	// empty, the runs the query's other filters select that are neither
	// done nor failed, by status. The notes state both.
	Where      string
	Unfinished map[store.Status]int
	// Status is Query.Status when it selects other runs than the done ones
	// (the notes say which); empty for those. StepRange is then the
	// fewest and most training steps the selected runs not done had
	// logged a metric at (zeros when none had): their values are from
	// those steps.
	Status    store.Status
	StepRange [2]int
	// Builds counts the attnlab builds that trained the rows' runs (their
	// attnlab_version, store.Run.Version: the version and the commit or
	// executable); MixedBuilds are the rows whose runs come from more than
	// one. After a change to the code, run keeps the runs done before:
	// the notes say when results of different code stand side by side.
	Builds      int
	MixedBuilds []int
	// WhereResults are the metrics (test/bleu) that Where selects runs by:
	// selecting on a result keeps the runs that scored so, and biases the
	// means and tests of the rows; the notes say so.
	WhereResults []string
	// Signatures are the sacreBLEU signatures stored with the runs' scores
	// (artifact.Score) of the metric columns they sign (test/bleu,
	// test/chrf, test/chrf++), in column order; every format states them
	// under the table.
	Signatures []Signature
	// Sharing is set when the compared runs' timings were measured under
	// different loads: perf/concurrent_runs spanning more than 0.25 or
	// perf/threads differing among them, or unknown for some of them, or
	// trained by kernels of different kinds (perf/steps_KIND);
	// the notes then warn that their perf/* columns compare unlike
	// conditions.
	Sharing *Sharing
	// OldValid counts the compared runs stored before valid/* summaries
	// described the weights test/* are measured on (they have best/step but
	// no best/valid/*: their valid/* are the best evaluation's), counted
	// when a valid/ column is shown.
	OldValid int
	// InTrain counts the compared runs tested on sources that are also
	// training sources (test/src_in_train above 0: a task.test_path
	// overlapping the training data), and InTrainMax is the largest such
	// fraction; counted when a test/ column is shown.
	InTrain    int
	InTrainMax float64
}

// Sharing is the range of the runs' perf/concurrent_runs (runs of their
// process training at once) and perf/threads, and the kinds of kernels
// that trained them.
type Sharing struct {
	RunsMin    float64 `json:"runs_min"`
	RunsMax    float64 `json:"runs_max"`
	ThreadsMin float64 `json:"threads_min"`
	ThreadsMax float64 `json:"threads_max"`
	// Unknown counts the runs stored before their load was recorded.
	Unknown int `json:"unknown,omitempty"`
	// Kernels counts the runs each kind of tensor kernels trained
	// (perf/steps_KIND; a run resumed on another kind counts in both),
	// when the runs were trained by more than one kind.
	Kernels map[string]int `json:"kernels,omitempty"`
}

// sharing returns the Sharing of runs when their loads differ, else nil.
func sharing(sel *selection, runs []int64) *Sharing {
	sh := Sharing{RunsMin: math.Inf(1), RunsMax: math.Inf(-1), ThreadsMin: math.Inf(1), ThreadsMax: math.Inf(-1)}
	// A run not done has not written how it was trained yet.
	done := map[int64]bool{}
	for _, r := range sel.runs {
		done[r.ID] = r.Status == store.StatusDone
	}
	runs = slices.DeleteFunc(slices.Clone(runs), func(id int64) bool { return !done[id] })
	for _, id := range runs {
		if v, ok := sel.sums[id]["perf/concurrent_runs"]; ok {
			sh.RunsMin, sh.RunsMax = math.Min(sh.RunsMin, v), math.Max(sh.RunsMax, v)
		} else {
			sh.Unknown++
		}
		if v, ok := sel.sums[id]["perf/threads"]; ok {
			sh.ThreadsMin, sh.ThreadsMax = math.Min(sh.ThreadsMin, v), math.Max(sh.ThreadsMax, v)
		}
	}
	kernels := map[string]int{}
	for _, id := range runs {
		for k := range sel.sums[id] {
			if kind, ok := strings.CutPrefix(k, "perf/steps_"); ok {
				kernels[kind]++
			}
		}
	}
	if len(kernels) > 1 {
		sh.Kernels = kernels
	}
	known := sh.Unknown < len(runs)
	if !(sh.RunsMax-sh.RunsMin > 0.25 || sh.ThreadsMax > sh.ThreadsMin || known && sh.Unknown > 0 || sh.Kernels != nil) {
		return nil
	}
	for _, x := range []*float64{&sh.RunsMin, &sh.RunsMax, &sh.ThreadsMin, &sh.ThreadsMax} {
		if math.IsInf(*x, 0) { // no run recorded it
			*x = 0
		}
	}
	return &sh
}

// Row is one group of runs: the runs that share the values of the group
// keys (usually one per seed).
type Row struct {
	// Group holds one formatted value per key: numbers in the shortest
	// form that reads back exactly (%g style: 0.001, 1e-05, 64), bools as
	// true/false, text as is (empty text as ""), lists as compact JSON,
	// null as null; "" when the runs lack the key.
	Group []string
	// Pooled holds, for each key of Comparison.Pooled, the distinct values
	// of the row's runs, formatted as Group ("—" when a run lacks the key).
	Pooled [][]string
	// Task numbers the task of the row's runs (0, 1, ... in order of
	// appearance): rows with equal Task agree on every task.* param and
	// every data.* fingerprint of the files the task reads. It is
	// -1 when the runs of the row do not share one task (pooled). Only rows
	// of one task are compared: Best marks the best within a task, and
	// only rows of the baseline's task are tested against it.
	Task int
	Runs []int64 // ids of the runs aggregated, in id order
	// Seeds are the seeds of Runs, in the same order (nil in a Comparison
	// built by hand, which is then never paired).
	Seeds []int64
	// settings identify each run's values of the pooled keys ("" for each
	// run when nothing is pooled), in the order of Runs; nil in a
	// Comparison built by hand or read back. A row with several runs per
	// seed pairs by seed only when every seed holds the same settings.
	settings []string
	Cells    []Cell // one per metric
	// Failed are the failed runs of the row's setting (with Query.Status
	// empty): a diverged or crashed seed, left out of every cell. A row
	// with failed runs is never marked best: its means are over the seeds
	// that survived (nor is another row marked in its stead, where they
	// score higher).
	Failed []FailedRun
	// Unfinished counts the runs of the row's setting not finished yet
	// (queued, running, interrupted; with Query.Status empty): the row's
	// means are over the seeds done so far.
	Unfinished int
}

// Partial reports whether the row's mean of metric j leaves out some of
// the runs of its setting: failed runs, runs not finished, or runs
// without a value of the metric (NaN or missing). Such a mean is never
// marked best, nor is another row's in its stead: the seeds left out may
// be the ones that would have changed the order.
func (row *Row) Partial(j int) bool {
	return len(row.Failed) > 0 || row.Unfinished > 0 || row.Cells[j].N < len(row.Runs)
}

// FailedRun is a failed run the comparison leaves out of its statistics.
type FailedRun struct {
	ID    int64
	Error string // the run's error, as stored
	Label string // in Comparison.FailedElsewhere: its group values
}

// Cell is one metric over the runs of a row.
type Cell struct {
	// Mean and Std (sample std, n − 1) are over the row's seeds with a
	// value, each seed the mean of its runs with a value: runs of one
	// seed (pooled settings, or a seed run again) share their data, and
	// a seed run five times counts once, as in the tests against the
	// baseline, so that Diff is the difference of the Means shown. Mean
	// is NaN when N is 0 or its values are +Inf and −Inf; Std NaN with
	// fewer than 2 seeds with a value. A row without Seeds (built by
	// hand) takes each value as a seed. Constants of the configuration
	// (model/params; metrics.Constant) are over runs: they do not vary
	// with the seed, and a pooled row's std then shows that its settings
	// differ.
	Mean, Std float64
	N         int // runs with a value (not NaN, not missing)
	NaN       int // runs whose value is NaN (a diverged run), Infinite included; len(Runs)−N−NaN runs lack the key
	// Infinite counts the runs of NaN whose value is a loss or a
	// perplexity (metrics.IsLoss) that is ±Inf: a run that diverged,
	// shown with --status (a done run with one counts as failed: see
	// the package doc). Such a value is not a result to average: it is
	// left out of the mean, std and tests as a NaN is, NaN in Values, and
	// the notes say so. A ±Inf of any other metric is a value.
	Infinite int
	// Best marks the best mean of the column among the rows of the same
	// task, by the metric's direction: only for quality metrics (and cost
	// metrics with Query.TestCost) that have a direction, never for
	// constants, never when the rows of the task with a mean all have the
	// same one (fewer than 2 rows, or all tied). Ties for the best are all
	// marked; ±Inf compare as values.
	Best bool
	// Tested says the cell was compared with the baseline's: the row is not
	// the baseline, is of the baseline's task, and the metric is a quality
	// metric (or a cost metric with Query.TestCost). The fields below are
	// NaN when it was not.
	Tested bool
	// Paired says the cell was compared by the paired t-test over seeds
	// (metrics.PairedCompare): the runs of the row and of the baseline
	// that have a value have the same seeds, at least 2, and runs with the
	// same seed train and test on the same data. A side whose seeds have
	// several runs each (a pooled row) pairs when every seed has as many
	// and all have a value; each seed then stands for the mean of its
	// runs (Averaged), provided every seed holds runs of the same
	// settings. Otherwise (other seeds, a failed or missing run,
	// Query.Unpaired) the test is Welch's (metrics.WelchCompare), which
	// treats the two sides as independent samples of one value per seed:
	// a seed with several runs stands for their mean (Averaged), since runs
	// of one seed share their data.
	Paired, Averaged bool
	// Exact says the t-test had no spread to test against — paired
	// differences that do not vary (the same Δ on every seed), or, by
	// Welch, two sides that are each constant — so P is the exact
	// permutation test's: 1 when Δ is 0, else metrics.SignFlipP over the
	// pairs when Paired, metrics.SeparatedP over the two samples when
	// not; Low and High are then NaN.
	Exact bool
	// Diff is the difference of means, row − baseline; Low and High bound
	// its confidence interval at Level (n − 1 df when Paired, else
	// Welch–Satterthwaite df). NaN with fewer than 2 seeds with a value on
	// either side (Diff only needs one).
	Diff, Low, High float64
	// P is the two-sided p-value of the test against the baseline, and
	// PAdj the same adjusted for the comparisons in the column (Holm, over
	// the tested rows with a p-value), or equal to P when
	// Comparison.Adjusted is false.
	P, PAdj float64
	// Values holds one value per run of the row, in the order of Row.Runs:
	// NaN for a NaN value, an infinite loss (Infinite) and a run that
	// lacks the key.
	Values []float64
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
// the summary keys of the selected runs), an unknown or ambiguous key, a
// --by that would pool settings not in Pool, an unknown sort metric, a
// baseline that matches no row or several.
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
	// Trimmed as the other keys are: --sort ' - ' is a sign without a
	// name, not an unknown metric " - ".
	if sortArg := strings.TrimSpace(q.Sort); sortArg != "" {
		name, dir := sortArg, 0
		switch name[0] {
		case '-':
			dir, name = -1, name[1:]
		case '+':
			dir, name = 1, name[1:]
		}
		if name == "" {
			// Not `unknown sort metric ""`: the sign was given, the name not.
			return nil, keyErrorf("report: sort %q: the %c needs a metric name after it, as in %ctest/exact_match", sortArg, sortArg[0], sortArg[0])
		}
		if sortKey, err = resolveMetric(sel, name, "sort metric"); err != nil {
			return nil, err
		}
		// Best first: descending for max metrics; ascending for min metrics
		// and those without a direction, unless the user said otherwise.
		desc = dir < 0 || (dir == 0 && metrics.Describe(sortKey).Direction > 0)
		if !slices.Contains(mets, sortKey) {
			mets = append(mets, sortKey)
		}
	}
	c.Metrics, c.SortedBy = mets, sortKey
	c.Adjusted, c.TestCost, c.Unpaired = !q.NoAdjust, q.TestCost, q.Unpaired
	for i := range c.Rows {
		row := &c.Rows[i]
		row.Cells = make([]Cell, len(mets))
		for j, m := range mets {
			row.Cells[j] = newCell(sel, row.Runs, row.Seeds, m)
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
	if err := c.loadSignatures(ctx, st); err != nil {
		return nil, err
	}
	var all []int64
	for _, row := range c.Rows {
		all = append(all, row.Runs...)
	}
	c.Sharing = sharing(sel, all)
	if slices.ContainsFunc(mets, func(m string) bool { return strings.HasPrefix(m, "valid/") }) {
		for _, id := range all {
			sums := sel.sums[id]
			_, best := sums["best/step"]
			if best && !slices.ContainsFunc(slices.Collect(maps.Keys(sums)), func(k string) bool { return strings.HasPrefix(k, "best/valid/") }) {
				c.OldValid++
			}
		}
	}
	if slices.ContainsFunc(mets, func(m string) bool { return strings.HasPrefix(m, "test/") }) {
		for _, id := range all {
			if v := sel.sums[id][InTrainKey]; v > 0 {
				c.InTrain++
				c.InTrainMax = math.Max(c.InTrainMax, v)
			}
		}
	}
	c.mark()
	return c, nil
}

// InTrainKey is the fraction of a run's test examples whose source is
// also a training source.
const InTrainKey = "test/src_in_train"

// newCell aggregates metric m over the runs ids, whose seeds are seeds.
func newCell(sel *selection, ids, seeds []int64, m string) Cell {
	nan := math.NaN()
	cell := Cell{Values: make([]float64, len(ids)), Diff: nan, Low: nan, High: nan, P: nan, PAdj: nan}
	for i, id := range ids {
		v, ok := sel.sums[id][m]
		switch {
		case !ok:
			cell.Values[i] = math.NaN()
		case math.IsNaN(v):
			cell.Values[i] = v
			cell.NaN++
		case math.IsInf(v, 0) && metrics.IsLoss(m):
			cell.Values[i] = math.NaN()
			cell.NaN++
			cell.Infinite++
		default:
			cell.Values[i] = v
			cell.N++
		}
	}
	if metrics.Describe(m).Kind == metrics.Constant {
		// A constant of the configuration does not vary with the seed:
		// over runs, a pooled row's std says its settings differ.
		cell.Mean, cell.Std = metrics.MeanStd(cell.Values)
	} else {
		cell.Mean, cell.Std = seedStats(seeds, cell.Values)
	}
	return cell
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

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
				return -1, keyErrorf("report: baseline %q: want key=value", spec)
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
		return -1, keyErrorf("report: baseline %q matches no row (rows: %s)", spec, strings.Join(rows, "; "))
	}
	var rows []string
	for _, r := range hits {
		rows = append(rows, c.Label(r))
	}
	return -1, keyErrorf("report: baseline %q matches %d rows (%s); give a value for more keys, comma-separated",
		spec, len(hits), strings.Join(rows, "; "))
}

// matchKey finds k among keys: equal, or a unique dotted suffix; an
// unknown or ambiguous k is an error matching ErrKey.
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
		return -1, keyErrorf("key %q is ambiguous (%s)", k, strings.Join(names, ", "))
	}
	return -1, keyErrorf("%q is not a group key (group keys: %s)", k, strings.Join(keys, ", "))
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

func noRunsErr(all []store.Experiment, names []string, ids []int64, status store.Status, where *store.Cond) error {
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
	if status == "" {
		what = "no runs"
	}
	if len(ids) > 0 {
		what += " among " + runList(ids)
	}
	if where != nil {
		what += " match --where " + where.String()
	}
	if len(parts) == 0 {
		return &noRunsError{"report: " + what + ": the database has no experiments"}
	}
	return &noRunsError{"report: " + what + " (" + strings.Join(parts, "; ") + ")"}
}

// runList names the runs of Query.IDs for noRunsErr: "run 7", "runs 7,
// 9", the first 5 and how many more.
func runList(ids []int64) string {
	const most = 5
	var b strings.Builder
	b.WriteString("run")
	if len(ids) > 1 {
		b.WriteString("s")
	}
	for i, id := range ids {
		if i == most {
			fmt.Fprintf(&b, " and %d more", len(ids)-most)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d", id)
	}
	return b.String()
}

// noRunsError is an ErrNoRuns whose text says it whole, without ErrNoRuns's
// own "no runs" after it.
type noRunsError struct{ msg string }

func (e *noRunsError) Error() string        { return e.msg }
func (e *noRunsError) Is(target error) bool { return target == ErrNoRuns }

// formatValue formats a param value for a group: see Row.Group.
func formatValue(v store.Value) string {
	if v.Kind == store.KindText && v.Text == "" {
		return `""`
	}
	return v.String()
}

// paramKeys returns every param key of the selected runs, sorted.
func (s *selection) paramKeys() []string { return unionKeys(s.params) }

// summaryKeys returns every summary key of the selected runs, sorted as
// metrics.CompareKeys sorts them (len_1_10 before len_11_20).
func (s *selection) summaryKeys() []string {
	keys := unionKeys(s.sums)
	slices.SortStableFunc(keys, metrics.CompareKeys)
	return keys
}

// unionKeys returns the keys of the maps of m, each once, sorted.
func unionKeys[V any](m map[int64]map[string]V) []string {
	set := map[string]bool{}
	for _, inner := range m {
		for k := range inner {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// pointOf decodes a run's sweep point (nil when it has none).
func pointOf(r store.Run) map[string]any {
	var p map[string]any
	if r.Point != "" {
		_ = json.Unmarshal([]byte(r.Point), &p)
	}
	return p
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
// equal, or a unique suffix after a '/'. An unknown or ambiguous m is an
// error matching ErrKey.
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
		return "", keyErrorf("report: %s %q is ambiguous (%s)", what, m, strings.Join(hits, ", "))
	case len(known) == 0:
		return "", keyErrorf("report: unknown %s %q: the selected runs have no summaries", what, m)
	}
	if len(known) > maxListedKeys {
		// Fifty keys in one line bury the one meant.
		return "", keyErrorf("report: unknown %s %q (%s: attnlab show RUN lists a run's)", what, m, keySet{metrics: known}.closest(m))
	}
	return "", keyErrorf("report: unknown %s %q (the selected runs have: %s)", what, m, strings.Join(known, ", "))
}

// maxListedKeys is the most keys an unknown metric's error lists whole;
// beyond, it names the closest.
const maxListedKeys = 20

// MatchMetric finds metric m among known keys (a run's summaries or logged
// metrics) as Query.Metrics and PlotCurves read a metric a user typed: a
// key equal to m, or else the key that ends in "/"+m, preferring test/,
// then valid/, then train/ when several do ("loss" is valid/loss beside
// train/loss). It returns that key, or "" and the keys that end in "/"+m
// when there is none or no single one.
func MatchMetric(known []string, m string) (key string, candidates []string) {
	if slices.Contains(known, m) {
		return m, nil
	}
	hits := suffixMatches(known, m)
	if len(hits) == 1 {
		return hits[0], nil
	}
	return "", hits
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
