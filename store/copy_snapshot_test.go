package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hookDialect calls fn once, just before the first statement whose query
// (as the package writes it, before rebinding) match accepts is sent.
type hookDialect struct {
	dialect
	match func(q string) bool
	armed *atomic.Bool
	fn    func()
}

func (h hookDialect) rebind(q string) string {
	if h.match(q) && h.armed.CompareAndSwap(true, false) {
		h.fn()
	}
	return h.dialect.rebind(q)
}

// hook makes s call fn once, before its first query that match accepts,
// and returns a function that reports whether it was called.
func hook(s *Store, match func(string) bool, fn func()) (fired func() bool) {
	armed := new(atomic.Bool)
	armed.Store(true)
	s.db.d = hookDialect{s.db.d, match, armed, fn}
	return func() bool { return !armed.Load() }
}

// laterPage matches the query of a page of metric rows after the first.
func laterPage(q string) bool {
	return strings.Contains(q, "FROM metrics WHERE run_id = ") && strings.Contains(q, "(key, step) >")
}

// snapshotRun submits a run done (doneRuns) with 300 metric rows of
// train/loss, step i valued base+i, and returns its id.
func snapshotRun(t *testing.T, s *Store) int64 {
	t.Helper()
	doneRuns(t, s, "snap", 1)
	runs, err := s.Runs(context.Background(), RunFilter{Experiments: []string{"snap"}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	fillMetrics(t, s, runs[0].ID, 0, 299, 0)
	return runs[0].ID
}

// fillMetrics writes run id's train/loss at steps from..to, valued base+step.
func fillMetrics(t *testing.T, s *Store, id int64, from, to int, base float64) {
	t.Helper()
	if _, err := s.db.ExecContext(context.Background(), `WITH RECURSIVE c(i) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		INSERT INTO metrics (run_id, key, step, value, wall) SELECT ?, 'train/loss', i, CAST(? AS DOUBLE PRECISION) + i, 1 FROM c WHERE true
		ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value`, from, to, id, base); err != nil {
		t.Fatal(err)
	}
}

// testCopySnapshotHistory: a run whose history is rewritten while Copy
// pages through it (a resumed attempt truncating after its checkpoint and
// logging anew), or that is removed meanwhile, reaches the target as one
// state of the source: whole, as it was when Copy began to read it. Each
// page was its own query: the target got steps of both attempts, or 100
// of 300 rows and no summaries, stored as done.
func testCopySnapshotHistory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, s *Store, id int64)
	}{
		{"Rewritten", func(t *testing.T, s *Store, id int64) {
			if _, err := s.db.Exec(`DELETE FROM metrics WHERE run_id = ? AND step > 50`, id); err != nil {
				t.Fatal(err)
			}
			fillMetrics(t, s, id, 51, 299, 1000)
		}},
		{"Removed", func(t *testing.T, s *Store, id int64) {
			if _, err := s.db.Exec(`DELETE FROM runs WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			src, dst := newStore(t), newStore(t)
			id := snapshotRun(t, src)
			want := countRows(t, src)
			fired := hook(src, laterPage, func() { tc.change(t, src, id) })
			rep, err := src.Copy(ctx, dst, CopyOptions{page: 100})
			if err != nil {
				t.Fatal(err)
			}
			if !fired() {
				t.Fatal("the source was not changed between two pages")
			}
			if rep.Runs[CopyNew] != 1 {
				t.Errorf("Copy = %v, want the run copied", rep.Runs)
			}
			if got := countRows(t, dst); !equalCounts(got, want) {
				t.Errorf("the target holds %v rows, want %v (the run as the source held it)", got, want)
			}
			var later int
			if err := dst.db.QueryRow(`SELECT count(*) FROM metrics WHERE value >= 1000`).Scan(&later); err != nil || later != 0 {
				t.Errorf("the target holds %d rows of the later attempt (%v), want none", later, err)
			}
		})
	}
}

// testCopySnapshotRun: the run's own row is read again in the snapshot
// that reads its rows, and what is written (or whether it is copied) is
// what that snapshot shows: a run removed, or claimed, or requeued since
// Copy listed it is not copied; a run failed when listed and done (a
// second attempt) when read is copied done, with its second attempt.
func testCopySnapshotRun(t *testing.T) {
	for _, tc := range []struct {
		name       string
		update     string
		action     CopyAction
		wantStatus Status // of the target's run; "": none
	}{
		{"Removed", `DELETE FROM runs WHERE id = ?`, CopyGone, ""},
		{"Claimed", `UPDATE runs SET status = 'running', attempt = 2 WHERE id = ?`, CopyRunning, ""},
		{"Requeued", `UPDATE runs SET status = 'queued' WHERE id = ?`, CopyUnfinished, ""},
		{"DoneAgain", `UPDATE runs SET status = 'done', attempt = 2 WHERE id = ?`, CopyNew, StatusDone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			src, dst := newStore(t), newStore(t)
			id := snapshotRun(t, src)
			if _, err := src.db.Exec(`UPDATE runs SET status = 'failed' WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
			fired := hook(src, func(q string) bool { return strings.HasSuffix(q, "WHERE r.id = ?") }, func() {
				if _, err := src.db.Exec(tc.update, id); err != nil {
					t.Fatal(err)
				}
			})
			rep, err := src.Copy(ctx, dst, CopyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !fired() {
				t.Fatal("the run's row was not read again")
			}
			if rep.Runs[tc.action] != 1 {
				t.Errorf("Copy = %v, want the run %s", rep.Runs, tc.action)
			}
			runs, err := dst.Runs(ctx, RunFilter{})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.wantStatus == "" && len(runs) != 0:
				t.Errorf("the target holds %d runs (%s), want none", len(runs), runs[0].Status)
			case tc.wantStatus != "" && (len(runs) != 1 || runs[0].Status != tc.wantStatus || runs[0].Attempt != 2):
				t.Errorf("the target holds %+v, want one run %s, attempt 2", runs, tc.wantStatus)
			}
		})
	}
}

// testPostgresCopySourceStalls: a source server that stops answering in
// the middle of a run (a stopped backend; here a page query that sleeps)
// fails Copy once attemptTimeout passes without progress, with an error
// that names the source and not the target; the source's read had no
// deadline and waited for TCP's. It runs alone: it sets attemptTimeout.
func testPostgresCopySourceStalls(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	longRuns(t, src, 350)
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	defer func(a time.Duration) { attemptTimeout = a }(attemptTimeout)
	attemptTimeout = time.Second
	armed := new(atomic.Bool)
	armed.Store(true)
	src.db.d = stallingPage{src.db.d, armed}
	start := time.Now()
	_, err := src.Copy(ctx, dst, CopyOptions{page: 100})
	took := time.Since(start)
	if err == nil {
		t.Fatalf("Copy succeeded after %s with a source that stalled for 20 s", took)
	}
	if took > 10*time.Second {
		t.Errorf("Copy took %s to fail, want about attemptTimeout (1 s)", took)
	}
	if !strings.Contains(err.Error(), src.Path()) || strings.Contains(err.Error(), dst.Path()) {
		t.Errorf("Copy = %q, want an error naming the source %s and not the target %s", err, src.Path(), dst.Path())
	}
	if na := (*noAnswerError)(nil); !errors.As(err, &na) {
		t.Errorf("Copy = %q, want no answer within attemptTimeout", err)
	}
	if got := countRows(t, dst)["runs"]; got != 0 {
		t.Errorf("the target holds %d runs, want none", got)
	}
}

// stallingPage makes the query of a later page of metric rows sleep 20 s
// on the server, once.
type stallingPage struct {
	dialect
	armed *atomic.Bool
}

func (f stallingPage) rebind(q string) string {
	q = f.dialect.rebind(q)
	if laterPage(q) && f.armed.CompareAndSwap(true, false) {
		return strings.Replace(q, " ORDER BY", " AND (SELECT true FROM pg_sleep(20)) ORDER BY", 1)
	}
	return q
}

// TestCopyLookUpNamesSource: a failure of the source while Copy compares
// the summaries of runs done in both stores is the source's: the error
// names the source, not the target.
func TestCopyLookUpNamesSource(t *testing.T) {
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	doneRuns(t, src, "x", 2)
	if _, err := src.Copy(ctx, dst, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	fired := hook(src, func(q string) bool { return strings.Contains(q, "FROM summaries") }, func() {})
	src.db.d = badSummaries{src.db.d}
	_, err := src.Copy(ctx, dst, CopyOptions{})
	if !fired() || err == nil {
		t.Fatalf("Copy = %v, want the source's summaries to fail", err)
	}
	if !strings.Contains(err.Error(), src.Path()) || strings.Contains(err.Error(), dst.Path()) {
		t.Errorf("Copy = %q, want an error naming the source %s and not the target %s", err, src.Path(), dst.Path())
	}
}

// badSummaries makes every query of the summaries of a list of runs name
// a missing table.
type badSummaries struct{ dialect }

func (b badSummaries) rebind(q string) string {
	q = b.dialect.rebind(q)
	if strings.Contains(q, "FROM summaries") && strings.Contains(q, "run_id IN") {
		return strings.Replace(q, "FROM summaries", "FROM no_such_summaries", 1)
	}
	return q
}

// TestCopyLongKey: a metric key of more than 1 MiB, which SQLite stores,
// is copied; the spool's reader took any key over 1 MiB for damage.
func TestCopyLongKey(t *testing.T) {
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	doneRuns(t, src, "x", 1)
	runs, err := src.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	key := strings.Repeat("k", 1<<20+1)
	w := src.NewMetricWriter(runs[0].ID, 0)
	if err := w.Log(0, key, 1); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Copy(ctx, dst, CopyOptions{}); err != nil {
		t.Fatalf("Copy = %.300v", err)
	}
	var n int
	if err := dst.db.QueryRow(`SELECT count(*) FROM metrics WHERE key = ?`, key).Scan(&n); err != nil || n != 1 {
		t.Errorf("the target holds %d rows of the long key (%v), want 1", n, err)
	}
}

// TestCopySpoolUnlinked: the spool's files have no name while Copy uses
// them (on Unix), so that a sync killed with SIGKILL leaves nothing in
// $TMPDIR; artifacts go through the spool too, and are copied exactly.
func TestCopySpoolUnlinked(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("an open file keeps its name on Windows")
	}
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	longRuns(t, src, 1000)
	runs, err := src.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := src.PutArtifact(ctx, runs[0].ID, "final", "weights", big); err != nil {
		t.Fatal(err)
	}
	if err := src.PutArtifact(ctx, runs[0].ID, "samples", "empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	var seen int
	_, err = src.Copy(ctx, dst, CopyOptions{spooled: func(sp *spool) {
		seen++
		for _, p := range []string{sp.path, sp.blobsPath} {
			if _, err := os.Stat(p); p != "" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the spool file %s has a name while in use (%v)", p, err)
			}
		}
	}})
	if err != nil || seen == 0 {
		t.Fatalf("Copy = %v (%d runs spooled)", err, seen)
	}
	if got, want := countRows(t, dst), countRows(t, src); !equalCounts(got, want) {
		t.Errorf("the target holds %v rows, the source %v", got, want)
	}
	for _, name := range []string{"weights", "empty", "last"} {
		var a, b []byte
		if err := src.db.QueryRow(`SELECT data FROM artifacts WHERE name = ?`, name).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := dst.db.QueryRow(`SELECT data FROM artifacts WHERE name = ?`, name).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) || (a == nil) != (b == nil) {
			t.Errorf("artifact %s: the target holds %d bytes (nil %v), the source %d (nil %v)", name, len(b), b == nil, len(a), a == nil)
		}
	}
}

// TestRetryCallerEnded: a try that fails because the caller's context
// ended (Ctrl-C during a sync's COPY) returns an error that wraps the
// context's, so that the command exits as interrupted (130); it returned
// the driver's error alone, and sync exited 1 blaming the target.
func TestRetryCallerEnded(t *testing.T) {
	s := openTarget(t, filepath.Join(t.TempDir(), "x.db"))
	for _, d := range []dialect{s.d, postgresDialect{}} {
		ctx, cancel := context.WithCancel(context.Background())
		err := retry(ctx, d, &s.down, nil, func(context.Context) error {
			cancel()
			return errors.New("driver: interrupted")
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v: retry = %v, want it to wrap context.Canceled", d.engine(), err)
		}
	}
}

// TestRetryCallerEndedAfterNoAnswer: when the caller's context ends
// during a try that follows one the server left unanswered, the error
// still carries that server state (Unreachable: the dashboard's 503) and
// the context's end; it carried the context's end alone, so the same
// outage read as the server's state or not depending on whether the
// deadline fell between two tries or inside one (TestPostgres/Unreachable
// failed now and then on a busy machine).
func TestRetryCallerEndedAfterNoAnswer(t *testing.T) {
	d := postgresDialect{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tries := 0
	err := retryFor(ctx, d, &outageClock{}, nil, 10*time.Millisecond, func(actx context.Context) error {
		tries++
		if tries == 1 {
			<-actx.Done() // the server does not answer this try
			return actx.Err()
		}
		cancel() // the caller gives up during the next one
		<-actx.Done()
		return actx.Err()
	})
	if tries != 2 || !errors.Is(err, context.Canceled) || d.code(err) != codeGone {
		t.Fatalf("after %d tries: %v (code %v); want the second try's end by the caller, wrapping context.Canceled, with the first's no-answer (codeGone)", tries, err, d.code(err))
	}
}

// testPostgresCopyBigArtifactRead: the source's read of an artifact is
// given time for its bytes (copyByteTime) beyond attemptTimeout: a
// checkpoint of gigabytes arriving steadily over a slow link is not a
// stalled server, and with attemptTimeout alone such a run could never be
// synced. Here the artifact is 32 MB and attemptTimeout a quarter of what
// reading it alone takes. It runs alone: it sets attemptTimeout.
func testPostgresCopyBigArtifactRead(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	id, data := bigArtifact(t, src, 32<<20)
	start := time.Now()
	if _, err := src.Artifact(ctx, id, "checkpoint", "model.ckpt"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	defer func(a, b time.Duration) { attemptTimeout, copyByteTime = a, b }(attemptTimeout, copyByteTime)
	attemptTimeout, copyByteTime = max(took/4, 20*time.Millisecond), time.Microsecond
	if attemptTimeout >= took {
		t.Logf("reading the artifact alone took %s, less than attemptTimeout %s: this test shows nothing", took, attemptTimeout)
	}
	start = time.Now()
	_, err := src.Copy(ctx, dst, CopyOptions{})
	t.Logf("reading 32 MB alone took %s; with attemptTimeout %s Copy took %s", took, attemptTimeout, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("Copy = %v, want the artifact read within attemptTimeout and 1 µs a byte", err)
	}
	sameArtifact(t, dst, data)
}
