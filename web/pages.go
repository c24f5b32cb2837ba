package web

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// statusCount is how many runs have a status.
type statusCount struct {
	Status store.Status
	N      int
}

func counts(m map[store.Status]int) []statusCount {
	var out []statusCount
	for _, s := range store.Statuses {
		if n := m[s]; n > 0 {
			out = append(out, statusCount{s, n})
		}
	}
	return out
}

// lastActivity is the latest thing that happened to any of the runs (or to
// the experiment's record).
func lastActivity(x store.Experiment, runs []store.Run) time.Time {
	t := x.Updated
	for _, r := range runs {
		for _, u := range []time.Time{r.Created, r.Started, r.Heartbeat, r.Finished} {
			if u.After(t) {
				t = u
			}
		}
	}
	return t
}

// experimentsView is the data of the experiments page.
type experimentsView struct {
	DBArg, DBNote string // the --db option of a suggested command line (store.SharedCommandDB)
	Rows          []experimentRow
}

type experimentRow struct {
	Name, Description string
	Counts            []statusCount
	Waiting           int    // runs waiting for a worker (waiting)
	Worker            string // the command line that trains them (store.SharedWorkerCommand)
	Busy              string // the workers busy with other experiments (busyElsewhere); "": none is
	Last              time.Time
	Best              *best
}

// best is the best row of an experiment's comparison on its main metric.
type best struct {
	Metric, Value, Row string
}

func (s *Server) handleExperiments(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	xs, err := s.st.Experiments(ctx)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	runs, err := s.st.Runs(ctx, store.RunFilter{})
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	byExp := map[string][]store.Run{}
	for _, run := range runs {
		byExp[run.Experiment] = append(byExp[run.Experiment], run)
	}
	gone, err := s.st.Abandoned(ctx, runs)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	busy := slices.DeleteFunc(slices.Clone(runs), func(r store.Run) bool {
		_, dead := gone[r.ID]
		return r.Status != store.StatusRunning || dead
	})
	v := &experimentsView{}
	v.DBArg, v.DBNote = s.st.SharedCommandDB()
	for _, x := range xs {
		row := experimentRow{Name: x.Name, Description: x.Description, Counts: counts(x.Counts), Last: lastActivity(x, byExp[x.Name]),
			Waiting: waiting(byExp[x.Name], gone)}
		if row.Waiting > 0 {
			row.Worker, _ = s.st.SharedWorkerCommand(x.Name)
			row.Busy = busyElsewhere(busy, x.Name, s.st.Redact)
		}
		if x.Counts[store.StatusDone] > 0 {
			b, err := s.best(ctx, x.Name)
			if err != nil && ctx.Err() != nil {
				s.fail(w, r, s.statusOf(err, false), err)
				return
			}
			row.Best = b
		}
		v.Rows = append(v.Rows, row)
	}
	s.render(w, r, http.StatusOK, "experiments", &page{
		Title: "Experiments", Crumbs: []crumb{{Name: "experiments"}},
		Live: "/api/live", LiveV: liveVersion(runs, nil, len(xs), ""), Data: v,
	})
}

// best returns the best row of the experiment's default comparison (the
// one attnlab compare NAME prints) on its first metric: the row the
// comparison marks best (Cell.Best), never one it does not, so that a row
// whose mean leaves out runs of its setting (failed, not finished, without
// a value: report.Row.Partial) is not shown as best here either; the only
// row when there is one and its mean is over all its runs. Rows tied for
// best are named together, the first one's value shown. nil when there is
// none.
func (s *Server) best(ctx context.Context, name string) (*best, error) {
	c, err := report.Compare(ctx, s.st, report.Query{Experiments: []string{name}})
	if err != nil || len(c.Metrics) == 0 {
		return nil, err
	}
	bi := -1
	var tied []string
	for i, row := range c.Rows {
		if row.Cells[0].Best {
			if bi < 0 {
				bi = i
			}
			tied = append(tied, c.Label(i))
		}
	}
	if len(c.Rows) == 1 && !c.Rows[0].Partial(0) && !math.IsNaN(c.Rows[0].Cells[0].Mean) {
		bi = 0
	}
	if bi < 0 {
		return nil, nil
	}
	t := c.Text()
	b := &best{Metric: c.Metrics[0], Value: t.Values[bi][0]}
	if len(c.Rows) > 1 {
		b.Row = strings.Join(tied, " = ")
	}
	return b, nil
}

// experimentView is the data of an experiment's page.
type experimentView struct {
	X          store.Experiment
	Form       form
	Statuses   []string
	CLI        string // the attnlab compare line of the same table (form.cli); "" when the form is wrong
	CLINote    string // what it needs besides (a password not shown)
	CurvesURL  string
	JSONURL    string
	CompareErr string
	T          *report.Text
	Heads      []metricHead
	Rows       []cmpRow
	DiffHeads  []metricHead
	DiffRows   []cmpRow
	Counts     []statusCount
	Waiting    int      // runs waiting for a worker (waiting)
	Worker     string   // the command line that trains them (store.SharedWorkerCommand)
	WorkerNote string   // what it needs besides (a password not shown)
	Busy       string   // the workers busy with other experiments (busyElsewhere); "": none is
	TooBig     int      // of the Waiting runs, those handed back by a worker without the memory for them (tooBig)
	Runs       []runRow // at most maxRunRows, unless ?runs=all (listed)
	RunCount   int      // the experiment's runs
	AllRunsURL string   // this page listing every run; "" when Runs has them all
	OpenRuns   bool
	Picked     picked // the runs of ?run=, found or not
}

// An experiment page lists at most maxRunRows of its runs (listed) unless
// asked for all (?runs=all), and links at most maxRowRuns runs from a row
// of its comparison: 10,000 runs made a page of 5 MB, most of it a list
// nobody reads whole.
const (
	maxRunRows = 500
	maxRowRuns = 20
)

// listed returns the runs an experiment page lists when it lists at most
// max: running ones first, then failed, interrupted and queued ones (what
// one looks for among many: a long queue does not hide the runs that
// train or failed), then done ones, each by id; shown in id order.
func listed(runs []store.Run, max int) []store.Run {
	if len(runs) <= max {
		return runs
	}
	order := []store.Status{store.StatusRunning, store.StatusFailed, store.StatusInterrupted, store.StatusQueued}
	rank := func(st store.Status) int {
		if i := slices.Index(order, st); i >= 0 {
			return i
		}
		return len(order)
	}
	byRank := slices.Clone(runs)
	slices.SortStableFunc(byRank, func(a, b store.Run) int { return rank(a.Status) - rank(b.Status) })
	out := byRank[:max]
	slices.SortFunc(out, func(a, b store.Run) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

type metricHead struct {
	Key, Split1, Split2, Doc string
	SortURL                  string
	Sorted                   string // "↓" or "↑" for the column the rows are sorted by
}

type cmpRow struct {
	Index  int
	Groups []string
	// N is the number of runs aggregated; Failed the row's failed runs,
	// left out of its statistics ("3 (+1 failed)", as attnlab compare);
	// Unfinished its runs not finished yet.
	N           int
	Failed      []runLink
	Unfinished  int
	Cells       []cmpCell
	Runs        []runLink // at most maxRowRuns
	MoreRuns    int       // the row's runs beyond them
	IsBaseline  bool
	BaselineURL string
}

type cmpCell struct {
	Text, Count string
	Best        bool
	Mean        string // full precision, as compare --format json has it
	Title       string // the runs' values
	Diff, P     string
}

type runLink struct {
	ID     int64
	Seed   int64
	Status store.Status
	URL    string
	Error  string // a failed run's error, redacted
}

// runRow is one line of an experiment's runs table.
type runRow struct {
	ID                int64
	URL, Name         string
	Status            store.Status
	Error             string
	Step, Total       int
	Started, Finished time.Time
	Host              string
}

// experimentOf returns the experiment named in the request's path. When the
// store has none of that name, or fails, it answers with the error page and
// ok is false.
func (s *Server) experimentOf(w http.ResponseWriter, r *http.Request) (name string, x store.Experiment, ok bool) {
	name = r.PathValue("name")
	x, err := s.st.ExperimentByName(r.Context(), name)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return name, x, false
	}
	return name, x, true
}

func (s *Server) handleExperiment(w http.ResponseWriter, r *http.Request) {
	name, x, ok := s.experimentOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	allRuns, err := once(r.URL.Query(), "runs")
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	f, ferr := readForm(r)
	badForm := ferr != nil
	dbArg, dbNote := s.st.SharedCommandDB()
	v := &experimentView{X: x, Form: f, CLI: f.cli(name, dbArg), CLINote: dbNote, Counts: counts(x.Counts),
		Statuses: []string{""}, JSONURL: f.link("/api/x/" + urlPath(name) + "/compare")}
	for _, st := range store.Statuses {
		v.Statuses = append(v.Statuses, string(st))
	}
	cf := form{Where: f.Where, By: f.By, Runs: f.Runs}
	v.CurvesURL = cf.link(experimentURL(name) + "/curves")
	status := http.StatusOK
	var c *report.Comparison
	if ferr == nil {
		var q report.Query
		if q, ferr = f.query(name); ferr == nil {
			c, ferr = report.Compare(ctx, s.st, q)
		}
	}
	if ferr != nil {
		if ctx.Err() != nil {
			s.fail(w, r, s.statusOf(ferr, false), ferr)
			return
		}
		v.CompareErr = printable.WithoutPackage(s.st.Redact(ferr.Error()))
		if !errors.Is(ferr, report.ErrNoRuns) || f.has() {
			// A value readForm refused (?run=abc) is the request's
			// fault even though it left the form empty.
			status = s.statusOf(ferr, f.has() || badForm)
		}
		if status == http.StatusBadRequest {
			// The form is wrong: the page says why once, and the form
			// holds the values to fix. The command line and the links
			// would only carry them again (a long filter four times more)
			// to fail the same way.
			v.CLI, v.CLINote = "", ""
			v.JSONURL = "/api/x/" + urlPath(name) + "/compare"
			if !errors.Is(ferr, report.ErrNoRuns) {
				// (A filter no done run matches may still match
				// running ones: their curves keep it.)
				v.CurvesURL = form{Runs: f.Runs}.link(experimentURL(name) + "/curves")
			}
		}
	}
	runs, err := s.st.Runs(ctx, store.RunFilter{Experiments: []string{name}})
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	if v.Picked, err = s.pickedRuns(ctx, f.Runs, runs); err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	if c != nil && ferr == nil {
		byID := make(map[int64]store.Run, len(runs))
		for _, run := range runs {
			byID[run.ID] = run
		}
		s.fillComparison(v, c, f, name, byID)
	}
	steps, err := s.progress(ctx, runs)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	gone, err := s.st.Abandoned(ctx, runs)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	v.RunCount = len(runs)
	shown := runs
	if allRuns != "all" {
		if shown = listed(runs, maxRunRows); len(shown) < len(runs) {
			v.AllRunsURL = f.link(experimentURL(name))
			if strings.Contains(v.AllRunsURL, "?") {
				v.AllRunsURL += "&runs=all"
			} else {
				v.AllRunsURL += "?runs=all"
			}
		}
	}
	v.Runs = runRows(shown, steps, gone, s.st.Redact)
	v.Waiting = waiting(runs, gone)
	v.Worker, v.WorkerNote = s.st.SharedWorkerCommand(x.Name)
	busyV := ""
	if v.Waiting > 0 {
		busy, err := s.trainingRuns(ctx)
		if err != nil {
			s.fail(w, r, s.statusOf(err, false), err)
			return
		}
		v.Busy = busyElsewhere(busy, x.Name, s.st.Redact)
		busyV = busyVersion(busy)
		for _, r := range runs {
			if tooBig(r) {
				v.TooBig++
			}
		}
	}
	v.OpenRuns = len(runs) <= 50 || x.Counts[store.StatusRunning] > 0
	s.render(w, r, status, "experiment", &page{
		Title:  name,
		Crumbs: []crumb{{Name: "experiments", URL: "/"}, {Name: name}},
		Live:   "/api/live?others=1&x=" + urlQuery(name), LiveV: liveVersion(runs, steps, 0, busyV), Data: v,
	})
}

// fillComparison lays out a comparison for the experiment page.
func (s *Server) fillComparison(v *experimentView, c *report.Comparison, f form, name string, runs map[int64]store.Run) {
	t := c.Text()
	v.T = &t
	base := experimentURL(name)
	for _, m := range c.Metrics {
		a, b := splitMetric(m)
		h := metricHead{Key: m, Split1: a, Split2: b, Doc: metrics.Describe(m).Doc}
		sf := f
		sf.Sort = m
		if c.SortedBy == m {
			// A second click reverses the order.
			if strings.HasPrefix(f.Sort, "-") {
				sf.Sort = "+" + m
			} else if strings.HasPrefix(f.Sort, "+") {
				sf.Sort = "-" + m
			} else if metrics.Describe(m).Direction > 0 {
				sf.Sort = "+" + m
			} else {
				sf.Sort = "-" + m
			}
			h.Sorted = "↑"
			if j := slices.Index(c.Metrics, m); j >= 0 && len(c.Rows) > 1 {
				first, last := c.Rows[0].Cells[j].Mean, c.Rows[len(c.Rows)-1].Cells[j].Mean
				if first > last {
					h.Sorted = "↓"
				}
			}
		}
		h.SortURL = sf.link(base)
		v.Heads = append(v.Heads, h)
	}
	for i, row := range c.Rows {
		cr := cmpRow{Index: i, Groups: t.Groups[i], N: len(row.Runs), Unfinished: row.Unfinished, IsBaseline: i == c.Baseline}
		for j, cell := range row.Cells {
			vals := make([]string, 0, min(len(cell.Values), maxRowRuns+1))
			for k, x := range cell.Values[:min(len(cell.Values), maxRowRuns)] {
				vals = append(vals, "run "+strconv.FormatInt(row.Runs[k], 10)+", seed "+strconv.FormatInt(row.Seeds[k], 10)+": "+tipValue(cell, x))
			}
			if n := len(cell.Values) - maxRowRuns; n > 0 {
				vals = append(vals, fmt.Sprintf("… %d more runs", n))
			}
			cr.Cells = append(cr.Cells, cmpCell{Text: t.Values[i][j], Count: t.Counts[i][j], Best: cell.Best,
				Mean: report.FullFloat(cell.Mean), Title: strings.Join(vals, "\n")})
		}
		for _, id := range row.Runs[:min(len(row.Runs), maxRowRuns)] {
			cr.Runs = append(cr.Runs, runLink{ID: id, URL: runURL(id), Seed: runs[id].Seed, Status: runs[id].Status})
		}
		cr.MoreRuns = max(len(row.Runs)-maxRowRuns, 0)
		for _, f := range row.Failed {
			cr.Failed = append(cr.Failed, runLink{ID: f.ID, URL: runURL(f.ID), Seed: runs[f.ID].Seed, Status: store.StatusFailed, Error: s.st.Redact(f.Error)})
		}
		bf := f
		bf.Baseline = baselineOf(c, i)
		cr.BaselineURL = bf.link(base)
		v.Rows = append(v.Rows, cr)
	}
	for _, j := range t.TestedMetrics {
		a, b := splitMetric(c.Metrics[j])
		v.DiffHeads = append(v.DiffHeads, metricHead{Key: c.Metrics[j], Split1: a, Split2: b})
	}
	for _, i := range t.TestedRows {
		cr := cmpRow{Index: i, Groups: t.Groups[i]}
		for _, j := range t.TestedMetrics {
			cr.Cells = append(cr.Cells, cmpCell{Diff: t.Diffs[i][j], P: t.P[i][j]})
		}
		v.DiffRows = append(v.DiffRows, cr)
	}
}

// baselineOf is the --baseline value that picks row i: every group key
// with the row's value.
func baselineOf(c *report.Comparison, i int) string {
	var parts []string
	for k, key := range c.Keys {
		parts = append(parts, key+"="+c.Rows[i].Group[k])
	}
	return strings.Join(parts, ",")
}

// runRows lays out the runs table, with the progress of running runs and
// why a running run's worker seems gone (gone: store.Abandoned).
func runRows(runs []store.Run, steps map[int64]progress, gone map[int64]string, redact func(string) string) []runRow {
	out := make([]runRow, 0, len(runs))
	for _, r := range runs {
		row := runRow{ID: r.ID, URL: runURL(r.ID), Name: r.Name(), Status: r.Status, Error: redact(r.Error),
			Started: r.Started, Finished: r.Finished, Host: redact(r.Host)}
		if why, ok := gone[r.ID]; ok {
			row.Error = redact(why) + " (a worker resumes it)"
		}
		if p, ok := steps[r.ID]; ok {
			row.Step, row.Total = p.step, p.total
		}
		out = append(out, row)
	}
	return out
}

// progress is how far a running run got: the last step it logged
// train/loss at, of train.steps.
type progress struct {
	step, total int
}

// progress returns the progress of the running runs among runs.
func (s *Server) progress(ctx context.Context, runs []store.Run) (map[int64]progress, error) {
	var ids []int64
	for _, r := range runs {
		if r.Status == store.StatusRunning {
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	hist, err := s.st.MetricHistory(ctx, ids, "train/loss")
	if err != nil {
		return nil, err
	}
	out := map[int64]progress{}
	for _, r := range runs {
		if r.Status != store.StatusRunning {
			continue
		}
		p := progress{total: trainSteps(r.Config)}
		if h := hist[r.ID]; len(h) > 0 {
			p.step = h[len(h)-1].Step
		}
		if p.total > 0 {
			p.step = min(p.step, p.total)
		}
		out[r.ID] = p
	}
	return out, nil
}

// trainSteps reads train.steps from a run's resolved config (0 if absent).
func trainSteps(config string) int {
	var c struct {
		Train struct {
			Steps int `json:"steps"`
		} `json:"train"`
	}
	if json.Unmarshal([]byte(config), &c) != nil {
		return 0
	}
	return c.Train.Steps
}

// curvesView is the data of the curves page.
type curvesView struct {
	X         store.Experiment
	Form      form
	Action    string
	Metrics   []string
	Statuses  []string
	DataURL   string // "" when the form or ?metric= is wrong: no main chart then (its script would fetch "", the page itself, or a 400)
	LengthURL string // "" when the form is wrong: no length chart then
	Picked    picked // the runs of ?run=, found or not
}

func (s *Server) handleCurves(w http.ResponseWriter, r *http.Request) {
	name, x, ok := s.experimentOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	f, err := readForm(r)
	v := &curvesView{X: x, Form: f, Action: experimentURL(name) + "/curves", Statuses: []string{""}}
	for _, st := range store.Statuses {
		v.Statuses = append(v.Statuses, string(st))
	}
	p := &page{Title: name + ": curves", Crumbs: []crumb{{Name: "experiments", URL: "/"}, {Name: name, URL: experimentURL(name)}, {Name: "curves"}}, Data: v}
	all, aerr := s.st.Runs(ctx, store.RunFilter{Experiments: []string{name}})
	if aerr == nil {
		v.Picked, aerr = s.pickedRuns(ctx, f.Runs, all)
	}
	if aerr != nil {
		s.fail(w, r, s.statusOf(aerr, false), aerr)
		return
	}
	var runs []store.Run
	if err == nil {
		var q report.Query
		if q, err = f.query(name); err == nil {
			if q.Status == "" {
				q.Status = report.StatusAny
			}
			var c *report.Comparison
			if c, err = report.Compare(ctx, s.st, q); err == nil {
				var byID map[int64]store.Run
				if byID, err = s.runsOf(ctx, c); err == nil {
					for _, row := range c.Rows {
						for _, id := range row.Runs {
							runs = append(runs, byID[id])
						}
					}
					v.Metrics, err = s.cache.metricKeys(ctx, runs)
				}
			}
		}
	}
	if err != nil {
		p.Error = printable.WithoutPackage(s.st.Redact(err.Error()))
		s.render(w, r, s.statusOf(err, true), "curves", p)
		return
	}
	status := http.StatusOK
	if v.Form.Metric == "" || !slices.Contains(v.Metrics, v.Form.Metric) {
		if m, err := resolveMetric(v.Metrics, v.Form.Metric); err == nil {
			v.Form.Metric = m
		} else {
			p.Error = printable.WithoutPackage(err.Error())
			if v.Form.Metric != "" {
				status = http.StatusBadRequest // ?metric= names no metric, as /api/.../curves answers; none logged yet is no error of the request
			}
		}
	}
	api := "/api/x/" + urlPath(name)
	if status == http.StatusOK {
		v.DataURL = f.link(api + "/curves") // not for a ?metric= that names no metric: its data URL answers 400 too
	}
	lf := form{Where: f.Where, By: f.By, Runs: f.Runs}
	v.LengthURL = lf.link(api + "/length")
	steps, err := s.progress(ctx, all)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	p.Live, p.LiveV = "/api/live?x="+urlQuery(name), liveVersion(all, steps, 0, "")
	s.render(w, r, status, "curves", p)
}

// runView is the data of a run's page.
type runView struct {
	Run         store.Run
	Name, Host  string
	Duration    string
	Step, Total int
	Gone        string // a running run's worker seems gone: why (store.Abandoned)
	Waiting     bool   // queued or interrupted, and no run of its experiment trains (waiting)
	Worker      string // the command line that trains it (store.SharedWorkerCommand)
	WorkerNote  string // what it needs besides (a password not shown)
	Busy        string // while Waiting: the workers busy with other experiments (busyElsewhere); "": none is
	TooBig      bool   // handed back by a worker without the memory for it (tooBig)
	busyV       string // while Waiting: busyVersion, for the live version
	Summaries   []summaryRow
	ConfigYAML  string
	Samples     []sampleRow
	LM          bool // a language model's run: samples are prompts and continuations (runs.LanguageModel)
	MoreSamples int
	Heatmap     *heatmap
	Examples    []exampleLink
	Artifacts   []artifactRow
	TooLarge    []string // why samples or attention maps are not shown
	CurvesURL   string
	CanGenerate bool
	GenerateURL string
}

type summaryRow struct {
	Key, Value, Raw, Doc, Direction string
}

type sampleRow struct {
	Index                     int
	Source, Reference, Output string
	Correct                   bool
}

type exampleLink struct {
	Index   int
	URL     string
	Current bool
}

type artifactRow struct {
	Kind, Name, URL string
	Size            int64
	Created         time.Time
}

// maxSamples is how many decoded examples a run page lists.
const maxSamples = 50

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, err := s.runOf(r)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	v := &runView{Run: run, Name: run.Name(), Host: s.st.Redact(run.Host), LM: runs.LanguageModel(run),
		CurvesURL: form{Runs: []int64{run.ID}}.link(experimentURL(run.Experiment) + "/curves")}
	v.Run.Error = s.st.Redact(run.Error)
	if run.PID > 0 && run.Host != "" {
		v.Host += ":" + strconv.Itoa(run.PID)
	}
	if !run.Started.IsZero() && !run.Finished.IsZero() {
		v.Duration = formatDuration(run.Finished.Sub(run.Started))
	}
	steps, err := s.progress(ctx, []store.Run{run})
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	if p, ok := steps[run.ID]; ok {
		v.Step, v.Total = p.step, p.total
	}
	gone, err := s.st.Abandoned(ctx, []store.Run{run})
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	v.Gone = gone[run.ID]
	if run.Status == store.StatusQueued || run.Status == store.StatusInterrupted {
		// It waits for a worker when none of its experiment's runs
		// trains (waiting), as the experiment page says: asked of the
		// runs that train now, not of every run of its experiment (which
		// a live page read again each time this run changed).
		busy, err := s.trainingRuns(ctx)
		if err != nil {
			s.fail(w, r, s.statusOf(err, false), err)
			return
		}
		if !slices.ContainsFunc(busy, func(b store.Run) bool { return b.Experiment == run.Experiment }) {
			v.Waiting = true
			v.Worker, v.WorkerNote = s.st.SharedWorkerCommand(run.Experiment)
			v.Busy = busyElsewhere(busy, run.Experiment, s.st.Redact)
			v.TooBig = tooBig(run)
			v.busyV = busyVersion(busy)
		}
	}
	sums, err := s.st.Summaries(ctx, []int64{run.ID})
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	keys := make([]string, 0, len(sums[run.ID]))
	for k := range sums[run.ID] {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, metrics.CompareKeys) // len_1_10 before len_11_20, as attnlab show
	for _, k := range keys {
		x := sums[run.ID][k]
		d := metrics.Describe(k)
		row := summaryRow{Key: k, Value: report.FormatMetric(k, x), Raw: report.FullFloat(x), Doc: d.Doc}
		if d.Direction != metrics.NoDirection {
			row.Direction = d.Direction.String()
		}
		v.Summaries = append(v.Summaries, row)
	}
	v.ConfigYAML = s.st.Redact(configYAML(run.Config))
	arts, err := s.st.Artifacts(ctx, run.ID)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	dbArg, dbNote := s.st.SharedCommandDB()
	has := map[[2]string]bool{}
	for _, a := range arts {
		has[[2]string{a.Kind, a.Name}] = true
		if a.Size > maxPageArtifact {
			switch [2]string{a.Kind, a.Name} {
			case [2]string{artifact.KindSamples, artifact.NameSamples}:
				v.TooLarge = append(v.TooLarge, fmt.Sprintf("The decoded test examples (%s) are too large to show here: attnlab show%s %d lists them%s, and they are in the artifacts below.", experiments.FormatBytes(a.Size), dbArg, run.ID, noteParen(dbNote)))
			case [2]string{artifact.KindAttention, artifact.NameAttention}:
				v.TooLarge = append(v.TooLarge, fmt.Sprintf("The attention maps (%s) are too large to show here: attnlab plot attention%s %d draws them%s, and they are in the artifacts below.", experiments.FormatBytes(a.Size), dbArg, run.ID, noteParen(dbNote)))
			default:
				continue
			}
			has[[2]string{a.Kind, a.Name}] = false // not read
		}
		v.Artifacts = append(v.Artifacts, artifactRow{Kind: a.Kind, Name: a.Name, Size: a.Size, Created: a.Created,
			URL: runURL(run.ID) + "/artifacts/" + urlPath(a.Kind) + "/" + urlPath(a.Name)})
	}
	if err := s.fillSamples(ctx, v, has); err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	example := 0
	e, err := once(r.URL.Query(), "example")
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	if e != "" {
		if example, err = strconv.Atoi(e); err != nil || example < 0 {
			s.fail(w, r, http.StatusBadRequest, fmt.Errorf("example %q: not an example number", e))
			return
		}
	}
	if err := s.fillAttention(ctx, v, has, example); err != nil {
		s.fail(w, r, s.statusOf(err, true), err)
		return
	}
	v.CanGenerate = !s.opt.ReadOnly && run.Status == store.StatusDone && has[[2]string{artifact.KindModel, artifact.NameParams}]
	v.GenerateURL = runURL(run.ID) + "/generate"
	s.render(w, r, http.StatusOK, "run", &page{
		Title:  fmt.Sprintf("run %d", run.ID),
		Crumbs: []crumb{{Name: "experiments", URL: "/"}, {Name: run.Experiment, URL: experimentURL(run.Experiment)}, {Name: fmt.Sprintf("run %d", run.ID)}},
		Live:   "/api/live?others=1&run=" + strconv.FormatInt(run.ID, 10), LiveV: liveVersion([]store.Run{run}, steps, 0, v.busyV), Data: v,
	})
}

// runOf reads the run named by the request's {id}.
func (s *Server) runOf(r *http.Request) (store.Run, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.Run{}, fmt.Errorf("run %q: not a run id: %w", r.PathValue("id"), store.ErrNotFound)
	}
	return s.st.RunByID(r.Context(), id)
}

func (s *Server) handleArtifact(w http.ResponseWriter, r *http.Request) {
	run, err := s.runOf(r)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	kind, file := r.PathValue("kind"), r.PathValue("file")
	name := fmt.Sprintf("run%d-%s-%s", run.ID, kind, file)
	h := w.Header()
	header := func(size int64) {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+safeFilename(name)+`"`)
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Cache-Control", "no-cache")
	}
	if r.Method == http.MethodHead { // the size from the listing: no data read
		infos, err := s.st.Artifacts(r.Context(), run.ID)
		if err != nil {
			s.fail(w, r, s.statusOf(err, false), err)
			return
		}
		i := slices.IndexFunc(infos, func(a store.ArtifactInfo) bool { return a.Kind == kind && a.Name == file })
		if i < 0 {
			s.fail(w, r, http.StatusNotFound, fmt.Errorf("run %d has no artifact %s/%s", run.ID, kind, file))
			return
		}
		header(infos[i].Size)
		w.WriteHeader(http.StatusOK)
		return
	}
	wait := time.NewTimer(downloadWait)
	defer wait.Stop()
	select {
	case s.downloads <- struct{}{}:
		defer func() { <-s.downloads }()
	case <-wait.C:
		s.fail(w, r, http.StatusServiceUnavailable, fmt.Errorf("busy: %d downloads in progress; try again in a moment", maxDownloads))
		return
	case <-r.Context().Done():
		return // the client went away while waiting its turn
	}
	// A client that reads too slowly gives its slot up: the connection is
	// cut after downloadTime (ResponseRecorders in tests cannot, and say so).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(downloadTime))
	data, err := s.st.Artifact(r.Context(), run.ID, kind, file)
	if err != nil {
		s.fail(w, r, s.statusOf(err, false), err)
		return
	}
	header(int64(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

// safeFilename keeps letters, digits and . _ - of a download's name.
func safeFilename(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// tipValue is one run's value in a cell's tooltip. A NaN in Cell.Values
// is either a NaN score (a diverged run, counted in Cell.NaN; an infinite
// loss left out as one, Cell.Infinite) or a run without the metric; the
// counts tell which when the cell has one kind.
func tipValue(cell report.Cell, x float64) string {
	if !math.IsNaN(x) {
		return report.FormatNumber(x)
	}
	missing := len(cell.Values) - cell.N - cell.NaN
	switch {
	case missing == 0 && cell.Infinite == cell.NaN:
		return "±Inf (diverged, left out)"
	case missing == 0 && cell.Infinite > 0:
		return "NaN or ±Inf (diverged, left out)"
	case missing == 0:
		return "NaN"
	case cell.NaN == 0:
		return "no value"
	case cell.Infinite == cell.NaN:
		return "±Inf (diverged, left out) or no value"
	case cell.Infinite > 0:
		return "NaN, ±Inf (diverged, left out) or no value"
	}
	return "NaN or no value"
}
