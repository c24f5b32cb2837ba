package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// urlPath escapes a path segment; urlQuery a query value.
func urlPath(s string) string  { return url.PathEscape(s) }
func urlQuery(s string) string { return url.QueryEscape(s) }

// liveVersion sums up what a live page shows of runs: each run's status,
// attempt and owner (a run handed back untrained and claimed by another
// worker is back at its attempt: store.Ending.Untrained), how far the
// running ones got (steps), the number of experiments (the experiments
// page), and busy (busyVersion: the workers busy elsewhere, which the note
// of a page whose runs wait names). Pages poll it and refresh their live
// parts when it changes.
func liveVersion(runs []store.Run, steps map[int64]progress, experiments int, busy string) string {
	h := sha256.New()
	fmt.Fprintf(h, "x%d;b%s;", experiments, busy)
	for _, r := range runs {
		fmt.Fprintf(h, "%d:%s:%d:%d:%s:%d:%d;", r.ID, r.Status, r.Attempt, r.Finished.UnixNano(), r.Host, r.PID, r.Started.UnixNano())
		if p, ok := steps[r.ID]; ok {
			fmt.Fprintf(h, "@%d;", p.step)
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// training reports whether some run of runs is being trained: running
// under a worker that is not gone (gone: store.Abandoned, as ls says). Only
// then can a page change by itself soon: a queued or interrupted run, or a
// running one whose worker is gone, changes no more until a worker starts
// (waiting).
func training(runs []store.Run, gone map[int64]string) bool {
	for _, r := range runs {
		if _, dead := gone[r.ID]; r.Status == store.StatusRunning && !dead {
			return true
		}
	}
	return false
}

// waiting returns how many of runs (one experiment's) wait for a worker:
// queued or interrupted while none of them is training, so that nothing
// takes them until a worker starts (attnlab worker, or attnlab run again).
func waiting(runs []store.Run, gone map[int64]string) int {
	if training(runs, gone) {
		return 0
	}
	n := 0
	for _, r := range runs {
		if r.Status == store.StatusQueued || r.Status == store.StatusInterrupted {
			n++
		}
	}
	return n
}

// busyVersion sums up the workers busy with runs (trainingRuns) as a
// waiting page's note names them (busyElsewhere): each worker with its
// experiments.
func busyVersion(busy []store.Run) string {
	parts := make([]string, 0, len(busy))
	for _, r := range busy {
		parts = append(parts, r.Host+":"+strconv.Itoa(r.PID)+"@"+r.Experiment)
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ";")
}

// tooBig says whether a worker handed the run back as too big for its
// --max-memory (runs.TooBigError): a worker waits for it only if it has
// more.
func tooBig(r store.Run) bool {
	return r.Status == store.StatusInterrupted && strings.HasPrefix(r.Error, runs.TooBigPrefix)
}

// trainingRuns returns the runs that are being trained now, of every
// experiment: running under a worker that is not gone (store.Abandoned).
// One indexed read of the running runs, however many runs the database
// holds.
func (s *Server) trainingRuns(ctx context.Context) ([]store.Run, error) {
	running, err := s.st.Runs(ctx, store.RunFilter{Status: store.StatusRunning})
	if err != nil {
		return nil, err
	}
	gone, err := s.st.Abandoned(ctx, running)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(running, func(r store.Run) bool { _, dead := gone[r.ID]; return dead }), nil
}

// busyElsewhere says which workers are busy with experiments other than
// name, from the runs training now (trainingRuns): "the worker h:1 is
// busy with experiment x", "2 workers are busy with other experiments:
// h:1 with x, g:2 with y and z". "" when none is. The store knows a
// worker only by the runs it holds: not whether it was started for some
// experiments only (--experiment), nor a worker that holds none. Hosts go
// through redact.
func busyElsewhere(training []store.Run, name string, redact func(string) string) string {
	var workers []string
	of := map[string][]string{}
	for _, r := range training {
		if r.Experiment == name {
			continue
		}
		w := redact(r.Host) + ":" + strconv.Itoa(r.PID)
		if _, ok := of[w]; !ok {
			workers = append(workers, w)
		}
		if !slices.Contains(of[w], r.Experiment) {
			of[w] = append(of[w], r.Experiment)
		}
	}
	exps := func(xs []string) string {
		if len(xs) == 1 {
			return xs[0]
		}
		return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
	}
	switch len(workers) {
	case 0:
		return ""
	case 1:
		w := workers[0]
		if len(of[w]) == 1 {
			return "the worker " + w + " is busy with experiment " + of[w][0]
		}
		return "the worker " + w + " is busy with experiments " + exps(of[w])
	}
	const most = 3
	var parts []string
	for _, w := range workers[:min(len(workers), most)] {
		parts = append(parts, w+" with "+exps(of[w]))
	}
	if len(workers) > most {
		parts = append(parts, fmt.Sprintf("%d more", len(workers)-most))
	}
	return fmt.Sprintf("%d workers are busy with other experiments: %s", len(workers), strings.Join(parts, ", "))
}

// liveState is the answer of /api/live.
type liveState struct {
	V      string         `json:"v"`      // see liveVersion
	Active bool           `json:"active"` // some run is training (training): poll at full pace
	Runs   []liveRun      `json:"runs,omitempty"`
	Counts map[string]int `json:"counts"`
}

type liveRun struct {
	ID     int64        `json:"id"`
	Status store.Status `json:"status"`
	Step   int          `json:"step,omitempty"`
	Total  int          `json:"total,omitempty"`
}

// apiLive answers what a live page polls: ?x=NAME (an experiment's runs),
// ?run=ID (one run), or nothing (every experiment). With &others=1 (the
// experiment and run pages, which say who is busy elsewhere while their
// runs wait) the version also changes with the workers busy elsewhere.
func (s *Server) apiLive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	// One thing is watched: a second value, or run= beside x=, would be
	// dropped without a word (the answer of the first alone).
	for _, k := range []string{"run", "x", "others"} {
		if _, err := once(q, k); err != nil {
			s.failJSON(w, r, http.StatusBadRequest, err)
			return
		}
	}
	if q.Has("run") && q.Has("x") {
		s.failJSON(w, r, http.StatusBadRequest, errors.New("run and x given: give one (a run, or an experiment's runs)"))
		return
	}
	var runs []store.Run
	var err error
	nx := 0
	switch {
	case q.Has("run"):
		id, perr := strconv.ParseInt(q.Get("run"), 10, 64)
		if perr != nil {
			s.failJSON(w, r, http.StatusBadRequest, fmt.Errorf("run %q: not a run id", q.Get("run")))
			return
		}
		var run store.Run
		if run, err = s.st.RunByID(ctx, id); err == nil {
			runs = []store.Run{run}
		}
	case q.Has("x"):
		runs, err = s.st.Runs(ctx, store.RunFilter{Experiments: []string{q.Get("x")}})
	default:
		var xs []store.Experiment
		if xs, err = s.st.Experiments(ctx); err == nil {
			nx = len(xs)
			runs, err = s.st.Runs(ctx, store.RunFilter{})
		}
	}
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, false), err)
		return
	}
	steps := map[int64]progress{}
	if nx == 0 { // the experiments page shows no progress
		if steps, err = s.progress(ctx, runs); err != nil {
			s.failJSON(w, r, s.statusOf(err, false), err)
			return
		}
	}
	gone, err := s.st.Abandoned(ctx, runs)
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, false), err)
		return
	}
	busyV := ""
	if q.Get("others") == "1" && waiting(runs, gone) > 0 {
		busy, err := s.trainingRuns(ctx)
		if err != nil {
			s.failJSON(w, r, s.statusOf(err, false), err)
			return
		}
		// A run's page says who is busy only while no run of its
		// experiment trains, as its experiment's page does.
		if !q.Has("run") || !slices.ContainsFunc(busy, func(b store.Run) bool { return b.Experiment == runs[0].Experiment }) {
			busyV = busyVersion(busy)
		}
	}
	st := liveState{V: liveVersion(runs, steps, nx, busyV), Counts: map[string]int{}}
	st.Active = training(runs, gone)
	for _, run := range runs {
		st.Counts[string(run.Status)]++
		if p, ok := steps[run.ID]; ok {
			st.Runs = append(st.Runs, liveRun{ID: run.ID, Status: run.Status, Step: p.step, Total: p.total})
		}
	}
	s.sendJSON(w, r, st)
}

// apiExperiments lists the experiments with their run counts by status.
func (s *Server) apiExperiments(w http.ResponseWriter, r *http.Request) {
	xs, err := s.st.Experiments(r.Context())
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, false), err)
		return
	}
	type exp struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Runs        map[string]int `json:"runs"`
		URL         string         `json:"url"`
	}
	out := []exp{}
	for _, x := range xs {
		e := exp{Name: x.Name, Description: x.Description, Runs: map[string]int{}, URL: experimentURL(x.Name)}
		for st, n := range x.Counts {
			e.Runs[string(st)] = n
		}
		out = append(out, e)
	}
	s.sendJSON(w, r, out)
}

// apiQuery reads the request's form and the query it asks of the experiment
// named in the path. On a form the page could not have sent it answers 400
// with the error and ok is false.
func (s *Server) apiQuery(w http.ResponseWriter, r *http.Request) (f form, q report.Query, ok bool) {
	f, err := readForm(r)
	if err != nil {
		s.failJSON(w, r, http.StatusBadRequest, err)
		return f, q, false
	}
	q, err = f.query(r.PathValue("name"))
	if err != nil {
		s.failJSON(w, r, http.StatusBadRequest, err)
		return f, q, false
	}
	return f, q, true
}

// apiCompare answers the experiment's comparison for the page's query, as
// attnlab compare --format json writes it (the same function, the same
// value).
func (s *Server) apiCompare(w http.ResponseWriter, r *http.Request) {
	f, q, ok := s.apiQuery(w, r)
	if !ok {
		return
	}
	c, err := report.Compare(r.Context(), s.st, q)
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, f.has()), err)
		return
	}
	s.sendJSON(w, r, c)
}

// apiCurves answers the lines of the curves page; a query that selects no
// run is 400 with the page's message (report.ErrNoRuns), never null.
func (s *Server) apiCurves(w http.ResponseWriter, r *http.Request) {
	f, q, ok := s.apiQuery(w, r)
	if !ok {
		return
	}
	d, err := s.curves(r.Context(), curvesRequest{query: q, metric: strings.TrimSpace(f.Metric), view: f.View, band: f.Band})
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, true), err)
		return
	}
	s.sendJSON(w, r, d)
}

// apiLength answers the exact match by source length; {"buckets": []}
// when the runs have none (none done yet). A query that selects no run is
// 400 with the curves answer's message (groups).
func (s *Server) apiLength(w http.ResponseWriter, r *http.Request) {
	_, q, ok := s.apiQuery(w, r)
	if !ok {
		return
	}
	d, err := s.length(r.Context(), q)
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, true), err)
		return
	}
	if d == nil {
		d = &lengthData{Buckets: []string{}, Series: []series{}}
	}
	s.sendJSON(w, r, d)
}

// apiAttention answers a run's stored attention maps (artifact.AttentionMap).
// Above maxPageArtifact it redirects to the artifact's download (303),
// which sends the stored bytes as they are, a bounded number at once,
// instead of decoding and encoding every map.
func (s *Server) apiAttention(w http.ResponseWriter, r *http.Request) {
	run, err := s.runOf(r)
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, false), err)
		return
	}
	infos, err := s.st.Artifacts(r.Context(), run.ID)
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, false), err)
		return
	}
	for _, a := range infos {
		if a.Kind == artifact.KindAttention && a.Name == artifact.NameAttention && a.Size > maxPageArtifact {
			http.Redirect(w, r, runURL(run.ID)+"/artifacts/"+urlPath(a.Kind)+"/"+urlPath(a.Name), http.StatusSeeOther)
			return
		}
	}
	maps, err := s.attentionMaps(r.Context(), run.ID)
	if err != nil {
		s.failJSON(w, r, s.statusOf(err, false), err)
		return
	}
	s.sendJSON(w, r, maps)
}
