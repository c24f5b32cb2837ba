package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// heapDialect samples the live heap (after a collection) at every every-th
// statement sent through a store's handle, keeping the highest.
type heapDialect struct {
	dialect
	every int64
	n     *atomic.Int64
	peak  *atomic.Uint64
}

func (h heapDialect) rebind(q string) string {
	if h.n.Add(1)%h.every == 0 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > h.peak.Load() {
			h.peak.Store(ms.HeapAlloc)
		}
	}
	return h.dialect.rebind(q)
}

// TestCopyMemoryBounded: Copy holds a run's metric history neither while
// it reads it from the source nor while it writes it into the target; it
// read it all into memory first (a sync of a run of 3 million logged
// steps took 680 MB). 200,000 rows held at once take about 13 MB; the
// live heap, sampled at each page read from the source and at every 20th
// INSERT of 64 rows into the target, stays within 4 MB of what it was
// before. SQLite to SQLite, the rows made by one INSERT … SELECT.
func TestCopyMemoryBounded(t *testing.T) {
	const n = 200_000
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	doneRuns(t, src, "long", 1)
	if _, err := src.db.ExecContext(ctx, `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		INSERT INTO metrics (run_id, key, step, value, wall)
		SELECT 1, CASE WHEN i % 3 = 0 THEN 'valid/loss' ELSE 'train/loss' END, i, 1.0 / (i + 1), 1765000000.5 + i FROM c`, n-1); err != nil {
		t.Fatal(err)
	}
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	var srcStmts, dstStmts atomic.Int64
	var peak atomic.Uint64
	src.db.d = heapDialect{src.db.d, 1, &srcStmts, &peak}
	dst.db.d = heapDialect{dst.db.d, 20, &dstStmts, &peak}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if _, err := src.Copy(ctx, dst, CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := dstStmts.Load(); got < n/64 {
		t.Fatalf("%d statements into the target: the copy did not INSERT the rows", got)
	}
	grew := int64(peak.Load()) - int64(ms.HeapAlloc)
	t.Logf("live heap grew by %.2f MB copying %d metric rows", float64(grew)/(1<<20), n)
	if grew > 4<<20 {
		t.Errorf("the live heap grew by %.1f MB while %d metric rows were copied, want under 4 MB", float64(grew)/(1<<20), n)
	}
	var got int
	var sum float64
	if err := dst.db.QueryRowContext(ctx, `SELECT count(*), sum(value * step) FROM metrics`).Scan(&got, &sum); err != nil || got != n {
		t.Errorf("the target holds %d metric rows (%v), want %d", got, err, n)
	}
	var want float64
	if err := src.db.QueryRowContext(ctx, `SELECT sum(value * step) FROM metrics`).Scan(&want); err != nil || sum != want {
		t.Errorf("the target's sum(value*step) = %v, the source's %v (%v)", sum, want, err)
	}
}

// longRuns submits two runs done with summaries (doneRuns), the first with
// rows metric rows over two keys, a param and an artifact.
func longRuns(t *testing.T, s *Store, rows int) {
	t.Helper()
	ctx := context.Background()
	doneRuns(t, s, "long", 2)
	runs, err := s.Runs(ctx, RunFilter{Experiments: []string{"long"}})
	if err != nil || len(runs) != 2 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	w := s.NewMetricWriter(runs[0].ID, 0)
	for i := range rows {
		key := "train/loss"
		if i%2 == 1 {
			key = "valid/loss"
		}
		if err := w.Log(i, key, 1/float64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.PutArtifact(ctx, runs[0].ID, "checkpoint", "last", []byte("weights")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO params (run_id, key, type, value) VALUES (?, 'lr', 'number', 0.001)`, runs[0].ID); err != nil {
		t.Fatal(err)
	}
}

// countRows returns how many rows each of a run's tables holds in s.
func countRows(t *testing.T, s *Store) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"runs", "params", "metrics", "summaries", "artifacts"} {
		var n int
		if err := s.db.QueryRowContext(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// failingPage makes the query of a later page of metric rows fail once, as
// a source that breaks in the middle of a run's history: on PostgreSQL the
// query kills its own backend (the server answers admin_shutdown, an error
// the store's writes retry as an outage), on SQLite it names a missing
// table.
type failingPage struct {
	dialect
	armed *atomic.Bool
}

func (f failingPage) rebind(q string) string {
	q = f.dialect.rebind(q)
	if strings.Contains(q, "FROM metrics WHERE run_id = ") && strings.Contains(q, "(key, step) >") && f.armed.CompareAndSwap(true, false) {
		if f.engine() == Postgres {
			return strings.Replace(q, " ORDER BY", " AND pg_terminate_backend(pg_backend_pid()) ORDER BY", 1)
		}
		return strings.Replace(q, "FROM metrics", "FROM no_such_metrics", 1)
	}
	return q
}

// testCopySourceFails: a source that fails in the middle of a run's metric
// history fails Copy at once, with an error that names the source and not
// the target, and leaves the target without any row of that run (whole
// runs only); Copy then finishes the job. A copy that read the source
// inside the target's transaction took a killed PostgreSQL source backend
// for an outage of the target and retried it: silently, or for 2 minutes
// and then "the database server is unreachable".
func testCopySourceFails(t *testing.T) {
	ctx := context.Background()
	src, dst := newStore(t), newStore(t)
	longRuns(t, src, 350)
	dst.SetOutageBudget(2 * time.Second)
	before := countRows(t, dst)
	armed := new(atomic.Bool)
	armed.Store(true)
	src.db.d = failingPage{src.db.d, armed}
	start := time.Now()
	_, err := src.Copy(ctx, dst, CopyOptions{page: 100})
	if err == nil {
		t.Fatal("Copy succeeded with a source that failed in the middle of a run")
	}
	if armed.Load() {
		t.Fatal("no later page of metric rows was read")
	}
	if !strings.Contains(err.Error(), src.Path()) || strings.Contains(err.Error(), dst.Path()) {
		t.Errorf("Copy = %q, want an error naming the source %s and not the target %s", err, src.Path(), dst.Path())
	}
	if errors.Is(err, ErrUnavailable) {
		t.Errorf("Copy = %q: the source's failure taken for the target's outage", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Copy took %s to fail, want at once", d)
	}
	if got := countRows(t, dst); !equalCounts(got, before) {
		t.Errorf("after the failed copy the target holds %v rows, want %v (none of the run)", got, before)
	}
	if _, err := src.Copy(ctx, dst, CopyOptions{page: 100}); err != nil {
		t.Fatalf("Copy again: %v", err)
	}
	if got, want := countRows(t, dst), countRows(t, src); !equalCounts(got, want) {
		t.Errorf("after the second copy the target holds %v rows, the source %v", got, want)
	}
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// spoolFails copies src (longRuns) into dst with the spool file cut in
// half once it is written, so that reading it back fails in the middle of
// the target's transaction, and returns the file's path and Copy's error.
func spoolFails(t *testing.T, src, dst *Store) (string, error) {
	t.Helper()
	var path string
	_, err := src.Copy(context.Background(), dst, CopyOptions{spooled: func(sp *spool) {
		if path != "" {
			return // the second run's: left whole
		}
		path = sp.path
		fi, err := sp.f.Stat()
		if err != nil {
			t.Error(err)
			return
		}
		if err := sp.f.Truncate(fi.Size() / 2); err != nil {
			t.Error(err)
		}
	}})
	return path, err
}

// testCopySpoolFails: a failure to read a run's spooled metric rows back
// into the target's transaction rolls the transaction back at once —
// before the run's summaries and artifacts are written, and on PostgreSQL
// by aborting the COPY — and is returned as what it is, never retried as
// an outage of the target (a truncated file's io.ErrUnexpectedEOF looks
// like a broken connection to the PostgreSQL dialect); the file is
// removed, and Copy then finishes the job.
func testCopySpoolFails(t *testing.T) {
	src, dst := newStore(t), newStore(t)
	longRuns(t, src, 1000)
	dst.SetOutageBudget(2 * time.Second)
	before := countRows(t, dst)
	start := time.Now()
	path, err := spoolFails(t, src, dst)
	if err == nil {
		t.Fatal("Copy succeeded with a truncated spool file")
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), path) {
		t.Errorf("Copy = %q, want the spool file %s's unexpected EOF", err, path)
	}
	if errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), dst.Path()) {
		t.Errorf("Copy = %q: the spool file's failure taken for the target's", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Copy took %s to fail, want at once", d)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the spool file %s is left behind (%v)", path, err)
	}
	if got := countRows(t, dst); !equalCounts(got, before) {
		t.Errorf("after the failed copy the target holds %v rows, want %v (none of the run)", got, before)
	}
	if _, err := src.Copy(context.Background(), dst, CopyOptions{}); err != nil {
		t.Fatalf("Copy again: %v", err)
	}
	if got, want := countRows(t, dst), countRows(t, src); !equalCounts(got, want) {
		t.Errorf("after the second copy the target holds %v rows, the source %v", got, want)
	}
}

// testPostgresCopyAbortsCOPY: when the spooled rows cannot be read back,
// the COPY is aborted (the server counts no row of it), not ended as if
// the rows had ended. It runs alone (not parallel), so the package's COPY
// counter is its own.
func testPostgresCopyAbortsCOPY(t *testing.T) {
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	longRuns(t, src, 1000)
	dst := newStore(t)
	before := copiedRows.Load()
	if _, err := spoolFails(t, src, dst); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Copy = %v, want the spool file's unexpected EOF", err)
	}
	if n := copiedRows.Load() - before; n != 0 {
		t.Errorf("the failed COPY wrote %d rows, want 0 (aborted)", n)
	}
}

// testPostgresCopyTimeout: a try of a run's transaction into PostgreSQL
// is given time for its metric rows (copyTimeout) beyond attemptTimeout,
// which bounds a usual write; a COPY of millions of rows takes a minute or
// more on a busy server, and with attemptTimeout alone would time out at
// every try and be given up as an outage. Here attemptTimeout is 50 ms,
// the run has 100,000 rows (a few seconds on a busy machine) and each is
// given 1 ms. It runs alone: it sets attemptTimeout.
func testPostgresCopyTimeout(t *testing.T) {
	const n = 100_000
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	doneRuns(t, src, "long", 1)
	if _, err := src.db.ExecContext(ctx, `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		INSERT INTO metrics (run_id, key, step, value, wall) SELECT 1, 'train/loss', i, 1.0 / (i + 1), 1765000000.5 + i FROM c`, n-1); err != nil {
		t.Fatal(err)
	}
	dst := newStore(t)
	defer func(a, b, r time.Duration) { attemptTimeout, outageBudget, copyRowTime = a, b, r }(attemptTimeout, outageBudget, copyRowTime)
	attemptTimeout, outageBudget, copyRowTime = 50*time.Millisecond, time.Second, time.Millisecond
	start := time.Now()
	if _, err := src.Copy(ctx, dst, CopyOptions{}); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	t.Logf("copied %d metric rows in %s", n, time.Since(start).Round(time.Millisecond))
	var got int
	if err := dst.db.QueryRowContext(ctx, `SELECT count(*) FROM metrics`).Scan(&got); err != nil || got != n {
		t.Errorf("the target holds %d metric rows (%v), want %d", got, err, n)
	}
}

// bigArtifact gives s one done run (experiment "big") with an artifact
// checkpoint/model.ckpt of size bytes, and returns the run's id and the
// artifact's bytes.
func bigArtifact(t *testing.T, s *Store, size int) (int64, []byte) {
	t.Helper()
	ctx := context.Background()
	doneRuns(t, s, "big", 1)
	runs, err := s.Runs(ctx, RunFilter{Experiments: []string{"big"}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>16)
	}
	if err := s.PutArtifact(ctx, runs[0].ID, "checkpoint", "model.ckpt", data); err != nil {
		t.Fatal(err)
	}
	return runs[0].ID, data
}

// sameArtifact checks that s's only run of experiment "big" has the
// artifact checkpoint/model.ckpt with bytes want.
func sameArtifact(t *testing.T, s *Store, want []byte) {
	t.Helper()
	ctx := context.Background()
	runs, err := s.Runs(ctx, RunFilter{Experiments: []string{"big"}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("the target's runs = %v, %v; want one", runs, err)
	}
	got, err := s.Artifact(ctx, runs[0].ID, "checkpoint", "model.ckpt")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("the target's artifact has %d bytes (%v), want the source's %d", len(got), err, len(want))
	}
}

// testPostgresCopyBigArtifactWrite: a try of a run's transaction into
// PostgreSQL is given time for the run's artifacts (copyByteTime a byte)
// beyond attemptTimeout: every try sends all of them, and a run whose
// checkpoints take longer than attemptTimeout to upload would time out at
// every try and be given up as an outage. Here the artifact is 32 MB and
// attemptTimeout a quarter of what writing it alone takes. It runs alone:
// it sets attemptTimeout.
func testPostgresCopyBigArtifactWrite(t *testing.T) {
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	_, data := bigArtifact(t, src, 32<<20)
	probe := newStore(t)
	doneRuns(t, probe, "big", 1)
	runs, err := probe.Runs(ctx, RunFilter{Experiments: []string{"big"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := probe.PutArtifact(ctx, runs[0].ID, "checkpoint", "model.ckpt", data); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	dst := newStore(t)
	defer func(a, b, c time.Duration) { attemptTimeout, outageBudget, copyByteTime = a, b, c }(attemptTimeout, outageBudget, copyByteTime)
	attemptTimeout, outageBudget, copyByteTime = max(took/4, 50*time.Millisecond), 2*time.Second, time.Microsecond
	if attemptTimeout >= took {
		t.Logf("writing the artifact alone took %s, less than attemptTimeout %s: this test shows nothing", took, attemptTimeout)
	}
	start = time.Now()
	_, err = src.Copy(ctx, dst, CopyOptions{})
	t.Logf("writing 32 MB alone took %s; with attemptTimeout %s Copy took %s", took, attemptTimeout, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("Copy = %v, want each try given attemptTimeout and 1 µs an artifact byte", err)
	}
	sameArtifact(t, dst, data)
}

// TestCopyReusesBlobBuffer: Copy reads the artifacts back from the spool
// into one buffer for all the runs, grown to the largest artifact; it
// allocated one a run (a sync of 64 MB checkpoints made 64 MB of garbage
// a run, and its peak memory grew with it). Six runs, the fourth with an
// artifact of 256 KB, the others of 64 KB and a small one: the buffers
// allocated add up to at most twice the largest artifact (one a run would
// be 576 KB), and every artifact reaches the target whole.
func TestCopyReusesBlobBuffer(t *testing.T) {
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	doneRuns(t, src, "many", 6)
	runs, err := src.Runs(ctx, RunFilter{Experiments: []string{"many"}})
	if err != nil || len(runs) != 6 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	const largest = 256 << 10
	want := map[string][]byte{}
	for i, r := range runs {
		size := 64 << 10
		if i == 3 {
			size = largest
		}
		data := bytes.Repeat([]byte{byte(i + 1)}, size)
		data[size-1] = 0xff
		want[r.Hash] = data
		if err := src.PutArtifact(ctx, r.ID, "checkpoint", "model.ckpt", data); err != nil {
			t.Fatal(err)
		}
		if err := src.PutArtifact(ctx, r.ID, "log", "train.log", []byte("ok")); err != nil {
			t.Fatal(err)
		}
	}
	dst := newStore(t)
	var grown, allocs int64
	rep, err := src.Copy(ctx, dst, CopyOptions{blobGrown: func(n int64) { grown += n; allocs++ }})
	if err != nil || rep.Runs[CopyNew] != 6 {
		t.Fatalf("Copy = %+v, %v; want 6 runs copied", rep, err)
	}
	t.Logf("%d buffers of %d bytes in all", allocs, grown)
	if grown > 2*largest {
		t.Errorf("Copy allocated %d bytes of read-back buffers in %d allocations for 6 runs whose largest artifact has %d bytes, want at most %d",
			grown, allocs, largest, 2*largest)
	}
	got, err := dst.Runs(ctx, RunFilter{Experiments: []string{"many"}})
	if err != nil || len(got) != 6 {
		t.Fatalf("the target's runs = %v, %v; want 6", got, err)
	}
	for _, r := range got {
		data, err := dst.Artifact(ctx, r.ID, "checkpoint", "model.ckpt")
		if err != nil || !bytes.Equal(data, want[r.Hash]) {
			t.Errorf("run %s: the target's checkpoint has %d bytes (%v), want the source's %d", r.Hash, len(data), err, len(want[r.Hash]))
		}
		if log, err := dst.Artifact(ctx, r.ID, "log", "train.log"); err != nil || string(log) != "ok" {
			t.Errorf("run %s: the target's log = %q, %v; want ok", r.Hash, log, err)
		}
	}
}

// TestCopyFreesBigArtifacts: after each artifact of freeAfter bytes or
// more is read from the source, and again after it is written into the
// target, Copy has the garbage collected and returned to the system (the
// drivers' copies of its bytes); left to the collector, two to four
// artifacts' worth piled up. Smaller artifacts are left to the collector.
func TestCopyFreesBigArtifacts(t *testing.T) {
	ctx := context.Background()
	src := openTarget(t, filepath.Join(t.TempDir(), "src.db"))
	doneRuns(t, src, "big", 2)
	runs, err := src.Runs(ctx, RunFilter{Experiments: []string{"big"}})
	if err != nil || len(runs) != 2 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	for i, size := range []int{freeAfter, freeAfter - 1} {
		if err := src.PutArtifact(ctx, runs[i].ID, "checkpoint", "model.ckpt", make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	var freed []int64
	if _, err := src.Copy(ctx, dst, CopyOptions{freed: func(n int64) { freed = append(freed, n) }}); err != nil {
		t.Fatal(err)
	}
	if want := []int64{freeAfter, freeAfter}; !slices.Equal(freed, want) {
		t.Errorf("Copy freed memory after artifacts of %v bytes, want %v (after the read and the write of the big one)", freed, want)
	}
}
