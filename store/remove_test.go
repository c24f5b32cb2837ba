package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// removalFixture makes two experiments, a and b, of three runs each (done,
// failed, done with keep_checkpoints), each run with params, a metric
// history, summaries, a model and a checkpoint artifact; b's last run is
// left running. It returns the runs of a and b.
func removalFixture(t *testing.T, s *Store) (a, b []Run) {
	t.Helper()
	ctx := context.Background()
	mk := func(name string) []Run {
		id, err := s.PutExperiment(ctx, name, "", "name: "+name+"\n")
		if err != nil {
			t.Fatal(err)
		}
		var specs []RunSpec
		for i := range 3 {
			specs = append(specs, RunSpec{Hash: fmt.Sprintf("%s%03d", name, i), Seed: int64(i + 1), Config: `{}`, Point: `{}`,
				Params: []Param{{"seed", i + 1}, {"model.attention.name", "dot"}}, KeepCheckpoints: i == 2})
		}
		runs, err := s.EnsureRuns(ctx, id, specs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range runs {
			o := Owner{Host: "h", PID: 100 + int(r.ID)}
			claimAs(o)(t, s, r.ID)
			w := s.NewMetricWriter(r.ID, 0)
			for step := range 4 {
				if err := w.Log(step*10, "valid/loss", 1/float64(step+1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.PutSummaries(ctx, r.ID, map[string]float64{"test/exact_match": 0.5, "test/loss": 1}); err != nil {
				t.Fatal(err)
			}
			for _, art := range [][2]string{{"model", "params.safetensors"}, {"checkpoint", "checkpoint.safetensors"}} {
				if err := s.PutArtifact(ctx, r.ID, art[0], art[1], []byte(strings.Repeat("x", 100+int(r.ID)))); err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case name == "b" && i == 2:
				// left running
			case i == 1:
				if err := s.Finish(ctx, r.ID, o, StatusFailed, "boom"); err != nil {
					t.Fatal(err)
				}
			default:
				if err := s.Finish(ctx, r.ID, o, StatusDone, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		return runs
	}
	return mk("a"), mk("b")
}

// dump returns every row of every table, each tagged with the run (or
// experiment) it belongs to: "runs 4 ...", "metrics 4 ...".
func dump(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, q := range []struct{ table, query string }{
		{"experiments", `SELECT id, id, name, description, yaml FROM experiments`},
		{"runs", `SELECT id, experiment_id, hash, seed, status, attempt, error FROM runs`},
		{"params", `SELECT run_id, key, type, value, text_value FROM params`},
		{"metrics", `SELECT run_id, key, step, value FROM metrics`},
		{"summaries", `SELECT run_id, key, value FROM summaries`},
		{"artifacts", `SELECT run_id, kind, name, size FROM artifacts`},
	} {
		rows, err := s.db.QueryContext(ctx, q.query)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			out = append(out, fmt.Sprintf("%s %v", q.table, vals))
		}
		rows.Close()
	}
	slices.Sort(out)
	return out
}

// without returns rows without those of the given runs (and experiments).
func without(rows []string, runs []int64, exps []int64) []string {
	var out []string
	for _, r := range rows {
		table, rest, _ := strings.Cut(r, " ")
		var id int64
		fmt.Sscanf(strings.TrimPrefix(rest, "["), "%d", &id)
		switch {
		case table == "experiments" && slices.Contains(exps, id):
		case table == "runs" && slices.Contains(runs, id):
		case table != "experiments" && table != "runs" && slices.Contains(runs, id):
		default:
			out = append(out, r)
		}
	}
	return out
}

func testRemoveRuns(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a, b := removalFixture(t, s)
	before := dump(t, s)

	// A dry run counts and touches nothing.
	r, err := s.RemoveRuns(ctx, []int64{a[0].ID, a[1].ID}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Removal{Runs: 2, Params: 4, Metrics: 8, Summaries: 4, Artifacts: 4,
		ArtifactBytes: int64(4*100 + 2*int(a[0].ID) + 2*int(a[1].ID))}); r != want {
		t.Errorf("dry RemoveRuns = %+v, want %+v", r, want)
	}
	if got := dump(t, s); !slices.Equal(got, before) {
		t.Fatalf("a dry run changed the store")
	}

	got, err := s.RemoveRuns(ctx, []int64{a[0].ID, a[1].ID}, false)
	if err != nil || got != r {
		t.Fatalf("RemoveRuns = %+v, %v; want %+v (as the dry run said)", got, err, r)
	}
	if after, want := dump(t, s), without(before, []int64{a[0].ID, a[1].ID}, nil); !slices.Equal(after, want) {
		t.Errorf("RemoveRuns touched other rows:\ngot  %q\nwant %q", after, want)
	}

	// A running run is refused, with nothing removed.
	before = dump(t, s)
	if _, err := s.RemoveRuns(ctx, []int64{b[0].ID, b[2].ID}, false); !errors.Is(err, ErrRunning) ||
		!strings.HasPrefix(err.Error(), fmt.Sprintf("%s (run %d) on h:%d", b[2].Name(), b[2].ID, 100+b[2].ID)) {
		t.Errorf("removing a running run: %v", err)
	}
	if _, err := s.RemoveRuns(ctx, []int64{b[0].ID, b[2].ID}, true); !errors.Is(err, ErrRunning) {
		t.Errorf("a dry run must refuse a running run as the removal would: %v", err)
	}
	if !slices.Equal(dump(t, s), before) {
		t.Errorf("a refused removal changed the store")
	}
	// Unknown ids count nothing.
	if r, err := s.RemoveRuns(ctx, []int64{9999}, false); err != nil || r != (Removal{}) {
		t.Errorf("unknown id: %+v, %v", r, err)
	}
}

func testRemoveExperiments(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a, b := removalFixture(t, s)
	before := dump(t, s)
	if _, err := s.RemoveExperiments(ctx, []string{"b"}, false); !errors.Is(err, ErrRunning) {
		t.Errorf("removing an experiment with a running run: %v", err)
	}
	if _, err := s.RemoveExperiments(ctx, []string{"a", "nope"}, false); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown experiment: %v", err)
	}
	if !slices.Equal(dump(t, s), before) {
		t.Fatalf("a refused removal changed the store")
	}
	r, err := s.RemoveExperiments(ctx, []string{"a"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Experiments != 1 || r.Runs != 3 || r.Metrics != 12 || r.Artifacts != 6 {
		t.Errorf("RemoveExperiments = %+v", r)
	}
	ids := []int64{a[0].ID, a[1].ID, a[2].ID}
	if after, want := dump(t, s), without(before, ids, []int64{a[0].ExperimentID}); !slices.Equal(after, want) {
		t.Errorf("RemoveExperiments touched other rows:\ngot  %q\nwant %q", after, want)
	}
	if _, err := s.ExperimentByName(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("experiment a still there: %v", err)
	}
	if runs, err := s.Runs(ctx, RunFilter{}); err != nil || len(runs) != len(b) {
		t.Errorf("runs left: %d, %v; want b's %d", len(runs), err, len(b))
	}
}

func testRemoveCheckpoints(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a, b := removalFixture(t, s)
	before := dump(t, s)
	// Only a[0] and b[0] are done without keep_checkpoints: a[1], b[1]
	// failed (they may be retried), a[2] keeps them, b[2] is running.
	dry, err := s.RemoveCheckpoints(ctx, "checkpoint", true)
	if err != nil || dry.Artifacts != 2 || dry.ArtifactBytes != int64(200+a[0].ID+b[0].ID) {
		t.Fatalf("dry RemoveCheckpoints = %+v, %v", dry, err)
	}
	if !slices.Equal(dump(t, s), before) {
		t.Fatalf("a dry run changed the store")
	}
	r, err := s.RemoveCheckpoints(ctx, "checkpoint", false)
	if err != nil || r != dry {
		t.Fatalf("RemoveCheckpoints = %+v, %v; want %+v", r, err, dry)
	}
	var want []string
	for _, row := range before {
		if strings.HasPrefix(row, fmt.Sprintf("artifacts [%d checkpoint ", a[0].ID)) ||
			strings.HasPrefix(row, fmt.Sprintf("artifacts [%d checkpoint ", b[0].ID)) {
			continue
		}
		want = append(want, row)
	}
	if after := dump(t, s); !slices.Equal(after, want) {
		t.Errorf("RemoveCheckpoints touched other rows:\ngot  %q\nwant %q", after, want)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if after := dump(t, s); !slices.Equal(after, want) {
		t.Errorf("Compact changed rows")
	}
	if again, err := s.RemoveCheckpoints(ctx, "checkpoint", false); err != nil || again != (Removal{}) {
		t.Errorf("second RemoveCheckpoints = %+v, %v; want nothing", again, err)
	}
}

// testRemoveRacesClaim: a claim that commits while a removal is between
// its running check and its DELETE must not end with a running run
// removed. On PostgreSQL (READ COMMITTED) the removal used to check
// without locking the rows, so the claim committed in between and the
// DELETE removed a run its new owner was training; now the rows are
// locked first and the claim skips them. On SQLite the removal's
// IMMEDIATE transaction holds the write lock: the claim waits, then finds
// the run gone.
func testRemoveRacesClaim(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	other := otherProcess(t, s)
	for _, tc := range []struct {
		name   string
		remove func(run Run) (Removal, error)
	}{
		{"RemoveRuns", func(run Run) (Removal, error) { return s.RemoveRuns(ctx, []int64{run.ID}, false) }},
		{"RemoveExperiments", func(run Run) (Removal, error) { return s.RemoveExperiments(ctx, []string{run.Experiment}, false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := addExperiment(t, s, "race-"+strings.ToLower(tc.name), 1)[0]
			type claim struct {
				res ClaimResult
				err error
			}
			claimed := make(chan claim, 1)
			s.removeChecked = func() {
				go func() {
					res, err := other.Claim(ctx, run.ID, Owner{Host: "w", PID: 7}, 0)
					claimed <- claim{res, err}
				}()
				// Give the claim time to commit, as it would between the
				// check and the DELETE when nothing holds it back.
				time.Sleep(300 * time.Millisecond)
			}
			defer func() { s.removeChecked = nil }()
			rm, rmErr := tc.remove(run)
			c := <-claimed
			if rmErr != nil && !errors.Is(rmErr, ErrRunning) {
				t.Fatalf("%s: %v", tc.name, rmErr)
			}
			if c.err != nil && !errors.Is(c.err, ErrNotFound) {
				t.Fatalf("Claim: %v", c.err)
			}
			r, err := s.RunByID(ctx, run.ID)
			switch {
			case c.res.Claimed && rmErr == nil:
				t.Fatalf("%s removed run %d (%+v) that a claim took after its running check", tc.name, run.ID, rm)
			case c.res.Claimed && (err != nil || r.Status != StatusRunning):
				t.Fatalf("the claimed run is %+v, %v; want it running", r, err)
			case !c.res.Claimed && rmErr == nil && !errors.Is(err, ErrNotFound):
				t.Fatalf("%s succeeded but run %d is still there: %+v, %v", tc.name, run.ID, r, err)
			}
		})
	}
}

// testRemoveAbandonedRuns: a run left running by a worker that is gone —
// on this host its pid no longer exists, elsewhere it has not heartbeated
// for a minute — can be removed, by run and by experiment; one whose
// worker is alive (a fresh heartbeat from another host, a live pid here)
// still cannot. rm used to refuse a killed worker's runs ("stop it
// first") with nothing left to stop, until some worker took them over and
// trained them again.
// Owners' pids in the abandoned-runs tests: gonePID has exited (on this
// host), runningPID runs.
const gonePID, runningPID = 4001, 4002

// newAbandonedStore returns a store whose alive says gonePID has exited,
// and mk, which adds an experiment of one run claimed by an owner whose
// last heartbeat is heartbeatAge old.
func newAbandonedStore(t *testing.T) (*Store, func(name string, o Owner, heartbeatAge time.Duration) Run) {
	s := newStore(t)
	s.alive = func(pid int) bool { return pid != gonePID }
	return s, func(name string, o Owner, heartbeatAge time.Duration) Run {
		t.Helper()
		r := addExperiment(t, s, name, 1)[0]
		if heartbeatAge > 0 {
			then := time.Now().Add(-heartbeatAge)
			s.now = func() time.Time { return then }
			defer func() { s.now = nil }()
		}
		claimAs(o)(t, s, r.ID)
		return r
	}
}

func testRemoveAbandonedRuns(t *testing.T) {
	ctx := context.Background()
	s, mk := newAbandonedStore(t)
	here := CurrentOwner("").Host
	deadHere := mk("dead-here", Owner{Host: here, PID: gonePID}, 0)
	silent := mk("silent-elsewhere", Owner{Host: "node7", PID: 12}, 3*time.Minute)
	deadHereExp := mk("dead-here-exp", Owner{Host: here, PID: gonePID}, 0)
	liveHere := mk("live-here", Owner{Host: here, PID: runningPID}, 0)
	liveElsewhere := mk("live-elsewhere", Owner{Host: "node7", PID: 13}, 0)

	if r, err := s.RemoveRuns(ctx, []int64{deadHere.ID, silent.ID}, false); err != nil || r.Runs != 2 {
		t.Fatalf("removing runs whose workers are gone: %+v, %v; want both removed", r, err)
	}
	if r, err := s.RemoveExperiments(ctx, []string{deadHereExp.Experiment}, false); err != nil || r.Runs != 1 {
		t.Fatalf("removing an experiment whose worker is gone: %+v, %v; want it removed", r, err)
	}
	for _, r := range []Run{liveHere, liveElsewhere} {
		if _, err := s.RemoveRuns(ctx, []int64{r.ID}, false); !errors.Is(err, ErrRunning) {
			t.Errorf("removing run %d running under a live worker: %v, want ErrRunning", r.ID, err)
		}
		if _, err := s.RemoveExperiments(ctx, []string{r.Experiment}, false); !errors.Is(err, ErrRunning) {
			t.Errorf("removing experiment %s running under a live worker: %v, want ErrRunning", r.Experiment, err)
		}
	}
	for _, r := range []Run{deadHere, silent, deadHereExp} {
		if _, err := s.RunByID(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("run %d after its removal: %v, want ErrNotFound", r.ID, err)
		}
	}
}

// testAbandoned: Abandoned names the running runs whose worker is gone by
// removal's rule (a dead pid on this host, a heartbeat three minutes old
// elsewhere), and not those under a live worker or not running.
func testAbandoned(t *testing.T) {
	ctx := context.Background()
	s, mk := newAbandonedStore(t)
	here := CurrentOwner("").Host
	deadHere := mk("dead-here", Owner{Host: here, PID: gonePID}, 0)
	silent := mk("silent-elsewhere", Owner{Host: "node7", PID: 12}, 3*time.Minute)
	mk("live-here", Owner{Host: here, PID: runningPID}, 0)
	mk("live-elsewhere", Owner{Host: "node7", PID: 13}, 0)
	addExperiment(t, s, "queued", 1)
	all, err := s.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Abandoned(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{
		deadHere.ID: fmt.Sprintf("its worker %s:%d is gone", here, gonePID),
		silent.ID:   "no heartbeat from its worker node7:12 for 3m0s",
	}
	if len(got) != len(want) {
		t.Fatalf("Abandoned = %v, want %v", got, want)
	}
	for id, w := range want {
		if id == silent.ID && strings.HasPrefix(got[id], "no heartbeat from its worker node7:12 for 3m") {
			continue // the database's clock moved on a second or two
		}
		if got[id] != w {
			t.Errorf("Abandoned[%d] = %q, want %q", id, got[id], w)
		}
	}
}

// otherProcess opens s's database again, as another process would: its
// own connections, closed when the test ends.
func otherProcess(t *testing.T, s *Store) *Store {
	t.Helper()
	other, err := Open(s.target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return other
}
