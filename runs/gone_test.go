package runs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// endings records how each run ended, as a Reporter.
// training is closed at the first progress a run reports.
type endings struct {
	mu       sync.Mutex
	ends     []ending
	once     sync.Once
	training chan struct{}
	skips    []string // the names of the runs skipped
}

type ending struct {
	status store.Status
	err    error
}

func (e *endings) Start(int, int, int) {}
func (e *endings) Skip(r store.Run, _ int, _ string) {
	e.mu.Lock()
	e.skips = append(e.skips, r.Name())
	e.mu.Unlock()
}
func (e *endings) Wait()                                 {}
func (e *endings) Begin(store.Run, int, int) RunReporter { return endingOf{e} }
func (e *endings) all() []ending {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]ending(nil), e.ends...)
}

type endingOf struct{ e *endings }

func (r endingOf) Update(Progress) { r.e.once.Do(func() { close(r.e.training) }) }
func (r endingOf) End(status store.Status, err error) {
	r.e.mu.Lock()
	r.e.ends = append(r.e.ends, ending{status, err})
	r.e.mu.Unlock()
}

// TestWorkDatabaseDeleted: a worker whose SQLite file is deleted while it
// trains stops at its next heartbeat and returns ErrDatabaseGone, and its
// reporter is told the run was interrupted by it, not that it failed —
// nothing recorded it failed (the worker's summary counts it as stopped),
// and so is its outcome.
// It used to be reported "failed".
func TestWorkDatabaseDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gone.db")
	st := openStore(t, db)
	_, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=100000", "train.eval_every=0"))
	if err != nil {
		t.Fatal(err)
	}

	rep := endings{training: make(chan struct{})}
	done := make(chan error, 1)
	var wr *WorkReport
	go func() {
		var err error
		wr, err = Work(ctx, st, WorkOptions{Owner: store.Owner{Host: "here", PID: os.Getpid()}, MaxRuns: 1,
			Heartbeat: 50 * time.Millisecond, StaleAfter: time.Hour, Reporter: &rep})
		done <- err
	}()
	select { // training, past the claim and the run's preparation
	case <-rep.training:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not report progress within 30 s")
	}
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, store.ErrDatabaseGone) {
			t.Fatalf("Work after its database was deleted: %v, want ErrDatabaseGone", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker went on 30 s after its database was deleted")
	}
	ends := rep.all()
	if len(ends) != 1 || ends[0].status != store.StatusInterrupted || !errors.Is(ends[0].err, store.ErrDatabaseGone) {
		t.Fatalf("the reporter was told %+v, want the run interrupted by ErrDatabaseGone", ends)
	}
	if wr == nil || len(wr.Outcomes) != 1 || wr.Outcomes[0].Status != store.StatusInterrupted {
		t.Fatalf("Work's report %+v, want one outcome, interrupted", wr)
	}
}

// TestExecuteDatabaseDeleted: an execution whose SQLite file is deleted
// while a run trains returns ErrDatabaseGone, tells the reporter that run
// was interrupted, and announces none of the runs it never started one by
// one (the error says why for them all): their outcomes say NotRunGone.
// They used to be skipped each "interrupted", as after a Ctrl-C.
func TestExecuteDatabaseDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "gone.db")
	st := openStore(t, db)
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1, 2]", "train.steps=100000", "train.eval_every=0")
	rep := endings{training: make(chan struct{})}
	type result struct {
		r   *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Heartbeat: 50 * time.Millisecond, StaleAfter: time.Hour, Reporter: &rep})
		done <- result{r, err}
	}()
	select {
	case <-rep.training:
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not report progress within 30 s")
	}
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Execute went on 30 s after its database was deleted")
	}
	if !errors.Is(res.err, store.ErrDatabaseGone) {
		t.Fatalf("Execute after its database was deleted: %v, want ErrDatabaseGone", res.err)
	}
	rep.mu.Lock()
	skips := rep.skips
	rep.mu.Unlock()
	if len(skips) != 0 {
		t.Errorf("the reporter was told of skipped runs %q, want none (the error says why for them all)", skips)
	}
	if ends := rep.all(); len(ends) != 1 || ends[0].status != store.StatusInterrupted {
		t.Errorf("the reporter was told %+v, want one run interrupted", ends)
	}
	var notes []string
	for _, o := range res.r.Outcomes {
		notes = append(notes, string(o.Status)+"/"+o.Note)
	}
	want := []string{"interrupted/", "queued/" + NotRunGone, "queued/" + NotRunGone, "queued/" + NotRunGone}
	if !slices.Equal(notes, want) {
		t.Errorf("outcomes %q, want %q", notes, want)
	}
}

// TestNotRunFailedIsReportedFailed: a claimed run that fails before it
// trains (here its stored config is unreadable) is told to the reporter
// as a run that ended failed, not skipped: Skip made the progress bars say
// the execution stopped short, with no failure counted.
func TestNotRunFailedIsReportedFailed(t *testing.T) {
	t.Parallel()
	out, rep := trainNotRun(t, func(db string, claim *store.ClaimResult) {
		claim.Run.Config = "{not json" // as a stored config this build cannot read
	})
	if out.Status != store.StatusFailed {
		t.Fatalf("outcome %s, %v; want failed", out.Status, out.Err)
	}
	ends := rep.all()
	if len(rep.skips) != 0 || len(ends) != 1 || ends[0].status != store.StatusFailed || ends[0].err == nil {
		t.Errorf("reporter: skips %q, ends %+v; want one end, failed with the error, and no skip", rep.skips, ends)
	}
}

// TestNotRunDatabaseGone: a claimed run whose database file is deleted
// before it trains (its old checkpoint not deleted) is not reported
// failed — nothing records that — but skipped, and its outcome is
// interrupted by ErrDatabaseGone, as a run's whose file goes while it
// trains (TestWorkDatabaseDeleted).
func TestNotRunDatabaseGone(t *testing.T) {
	t.Parallel()
	out, rep := trainNotRun(t, func(db string, _ *store.ClaimResult) {
		if err := os.Remove(db); err != nil {
			t.Fatal(err)
		}
	})
	if out.Status != store.StatusInterrupted || !errors.Is(out.Err, store.ErrDatabaseGone) {
		t.Errorf("outcome %s, %v; want interrupted by ErrDatabaseGone", out.Status, out.Err)
	}
	if ends := rep.all(); len(ends) != 0 || len(rep.skips) != 1 {
		t.Errorf("reporter: skips %q, ends %+v; want the run skipped, not ended", rep.skips, ends)
	}
}

// TestNotRunEndNotRecorded: a claimed run that fails before it trains
// (its stored config unreadable) but whose end cannot be recorded, its
// database file deleted meanwhile, is skipped, not reported failed:
// nothing records that it failed.
func TestNotRunEndNotRecorded(t *testing.T) {
	t.Parallel()
	out, rep := trainNotRun(t, func(db string, claim *store.ClaimResult) {
		claim.Run.Config = "{not json"
		if err := os.Remove(db); err != nil {
			t.Fatal(err)
		}
	})
	if !errors.Is(out.Err, store.ErrDatabaseGone) {
		t.Errorf("outcome %s, %v; want ErrDatabaseGone among its errors", out.Status, out.Err)
	}
	if ends := rep.all(); len(ends) != 0 || len(rep.skips) != 1 {
		t.Errorf("reporter: skips %q, ends %+v; want the run skipped, not ended", rep.skips, ends)
	}
}

// trainNotRun claims the one run of a fresh sweep4 database, lets spoil
// change the claim or the database file (db) before it trains, and trains
// it with a reporter that records what it is told.
func trainNotRun(t *testing.T, spoil func(db string, claim *store.ClaimResult)) (Outcome, *endings) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "notrun.db")
	st := openStore(t, db)
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "train.steps=40"))
	if err != nil {
		t.Fatal(err)
	}
	me := store.Owner{Host: "here", PID: os.Getpid()}
	claim, err := st.Claim(ctx, sub.Runs[0].ID, me, 0)
	if err != nil || !claim.Claimed {
		t.Fatalf("claim: %+v, %v", claim, err)
	}
	spoil(db, &claim)
	rep := &endings{training: make(chan struct{})}
	opt := WorkOptions{Owner: me, Heartbeat: time.Hour, Reporter: rep}
	opt.defaults()
	return trainClaimed(ctx, st, claim, opt), rep
}
