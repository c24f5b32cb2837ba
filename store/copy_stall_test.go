package store

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// panicWriter panics on every write: a spool whose file write panics.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("spool write") }

// testCopyReadPanics: a panic while Copy reads a run from the source, with
// a page of metric rows still open (here the spool's write), unwinds out
// of the read without hanging — ending the snapshot waited for the open
// result set, which let go only when the snapshot's context ended — and
// leaves no connection of the source checked out inside its read
// transaction: the run is copied whole afterwards.
func testCopyReadPanics(t *testing.T) {
	ctx := context.Background()
	src, dst := newStore(t), newStore(t)
	id := snapshotRun(t, src)
	runs, err := src.Runs(ctx, RunFilter{IDs: []int64{id}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	sp, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	sp.w = bufio.NewWriterSize(panicWriter{}, 16) // a write at the second row
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		src.readRows(ctx, runs[0], sp, 100, false)
	}()
	select {
	case p := <-done:
		if p != "spool write" {
			t.Fatalf("readRows recovered %v, want the spool's panic", p)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("readRows hangs after a panic with a result set open")
	}
	if n := src.db.Stats().InUse; n != 0 {
		t.Errorf("%d connections of the source are still in use after the panic, want 0", n)
	}
	want := countRows(t, src)
	rep, err := src.Copy(ctx, dst, CopyOptions{page: 100})
	if err != nil || rep.Runs[CopyNew] != 1 {
		t.Fatalf("Copy after the panic = %v, %v; want the run copied", rep.Runs, err)
	}
	if got := countRows(t, dst); !equalCounts(got, want) {
		t.Errorf("the target holds %v rows, want %v", got, want)
	}
}

// testPostgresCopyKeepsConnections: the source's snapshot of a run is
// rolled back under a live context, so its connection goes back to the
// pool. Ending the context first made the rollback fail ("context already
// done") about one run in three, and the connection be discarded: a new
// connection to the source for such runs.
func testPostgresCopyKeepsConnections(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	id := snapshotRun(t, src)
	runs, err := src.Runs(ctx, RunFilter{IDs: []int64{id}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	for i := range 20 {
		sp, err := newSpool()
		if err != nil {
			t.Fatal(err)
		}
		open := src.db.Stats().OpenConnections
		_, _, err = src.readRows(ctx, runs[0], sp, 100, false)
		sp.close()
		if err != nil {
			t.Fatal(err)
		}
		// The snapshot's connection was open before (i > 0: the last
		// read's) or opened by it.
		if now := src.db.Stats().OpenConnections; now < max(open, 1) {
			t.Fatalf("read %d: the source's open connections went from %d to %d: the snapshot's was discarded", i, open, now)
		}
	}
}

// stallingArtifact makes the query of an artifact's bytes sleep 20 s on
// the server, once.
type stallingArtifact struct {
	dialect
	armed *atomic.Bool
}

func (f stallingArtifact) rebind(q string) string {
	q = f.dialect.rebind(q)
	if strings.HasPrefix(q, "SELECT data FROM artifacts") && f.armed.CompareAndSwap(true, false) {
		return strings.Replace(q, "WHERE ", "WHERE (SELECT true FROM pg_sleep(20)) AND ", 1)
	}
	return q
}

// testPostgresCopyStallNamesAllowance: a source that stops answering while
// Copy reads an artifact fails it once the artifact's allowance passes —
// attemptTimeout and copyByteTime a byte — and the error names that
// allowance. It runs alone: it sets attemptTimeout and copyByteTime.
func testPostgresCopyStallNamesAllowance(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	id := snapshotRun(t, src)
	if err := src.PutArtifact(ctx, id, "checkpoint", "last", make([]byte, 500)); err != nil {
		t.Fatal(err)
	}
	dst := openTarget(t, filepath.Join(t.TempDir(), "dst.db"))
	defer func(a, b time.Duration) { attemptTimeout, copyByteTime = a, b }(attemptTimeout, copyByteTime)
	attemptTimeout, copyByteTime = time.Second, time.Millisecond
	armed := new(atomic.Bool)
	armed.Store(true)
	src.db.d = stallingArtifact{src.db.d, armed}
	start := time.Now()
	_, err := src.Copy(ctx, dst, CopyOptions{})
	took := time.Since(start)
	if armed.Load() {
		t.Fatal("no artifact was read")
	}
	if err == nil {
		t.Fatalf("Copy succeeded after %s with a source that stalled for 20 s", took)
	}
	if took < 1500*time.Millisecond || took > 10*time.Second {
		t.Errorf("Copy took %s to fail, want about the artifact's allowance, 1.5 s", took)
	}
	if na := (*noAnswerError)(nil); !errors.As(err, &na) || !strings.Contains(err.Error(), "no answer within 1.5s") {
		t.Errorf("Copy = %q, want no answer within 1.5s (1 s and 500 bytes at 1 ms)", err)
	}
	if !strings.Contains(err.Error(), src.Path()) || strings.Contains(err.Error(), dst.Path()) {
		t.Errorf("Copy = %q, want an error naming the source and not the target", err)
	}
}

// slowWriter writes to w after sleeping delay: a slow $TMPDIR.
type slowWriter struct {
	w     io.Writer
	delay time.Duration
}

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.w.Write(p)
}

// testPostgresCopySlowSpool: the time the source's read spends writing the
// spool's temporary files is not counted against the source: a read whose
// writes of its metric rows take longer than attemptTimeout succeeds, the
// source having answered at once. It runs alone: it sets attemptTimeout.
func testPostgresCopySlowSpool(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	id := snapshotRun(t, src)
	runs, err := src.Runs(ctx, RunFilter{IDs: []int64{id}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	defer func(a time.Duration) { attemptTimeout = a }(attemptTimeout)
	attemptTimeout = 500 * time.Millisecond
	sp, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	sp.w = bufio.NewWriterSize(localWriter{sp, slowWriter{sp.f, 700 * time.Millisecond}}, 4<<10) // two slow writes
	out, _, err := src.readRows(ctx, runs[0], sp, 100, false)
	if err != nil {
		t.Fatalf("readRows with a slow spool: %v", err)
	}
	if sp.n != 300 || out.run.ID != id {
		t.Errorf("readRows spooled %d rows of run %d, want 300 of run %d", sp.n, out.run.ID, id)
	}
}

// TestStallClock: a stall clock ends its context with the allowance that
// ran out, which progress noted afterwards does not change; time spent
// in local writes is not counted; a stopped clock never fires.
func TestStallClock(t *testing.T) {
	defer func(a, b time.Duration) { attemptTimeout, copyByteTime = a, b }(attemptTimeout, copyByteTime)
	attemptTimeout, copyByteTime = 20*time.Millisecond, time.Millisecond

	ctx, cancel := context.WithCancelCause(context.Background())
	c := newStallClock(cancel)
	c.alive(30) // 50 ms
	<-ctx.Done()
	c.alive(0) // too late
	if st := (*stallError)(nil); !errors.As(context.Cause(ctx), &st) || st.after != 50*time.Millisecond {
		t.Errorf("cause %v, want the 50 ms that ran out", context.Cause(ctx))
	}

	ctx, cancel = context.WithCancelCause(context.Background())
	c = newStallClock(cancel)
	if err := c.local(func() error { time.Sleep(100 * time.Millisecond); return nil }); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Errorf("a local write of 100 ms ended a wait of 20 ms: %v", context.Cause(ctx))
	}
	c.stop()
	time.Sleep(60 * time.Millisecond)
	if ctx.Err() != nil {
		t.Errorf("a stopped clock fired: %v", context.Cause(ctx))
	}
	if err := c.local(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if ctx.Err() != nil {
		t.Errorf("a stopped clock fired after a local write: %v", context.Cause(ctx))
	}
}

// TestSpoolWritesThroughLocal: every write to a spool's files — the
// metric rows' buffer as it fills and as it is flushed, an artifact's
// bytes — goes through its local function (Copy's stall clock), and what
// is read back is what was written.
func TestSpoolWritesThroughLocal(t *testing.T) {
	sp, err := newSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	var calls int
	sp.local = func(write func() error) error { calls++; return write() }
	const rows = 20000 // 12 bytes a row (NULL values), 240 KB: the 64 KB buffer fills thrice
	for i := range rows {
		if err := sp.add(metricRowRaw{key: "train/loss", step: int64(i), wall: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if calls < 2 {
		t.Errorf("%d writes through local while adding %d rows, want at least 2", calls, rows)
	}
	before := calls
	if err := sp.done(); err != nil {
		t.Fatal(err)
	}
	if calls != before+1 {
		t.Errorf("the final flush made %d writes through local, want 1", calls-before)
	}
	before = calls
	off, err := sp.addBlob([]byte("weights"))
	if err != nil {
		t.Fatal(err)
	}
	if calls != before+1 {
		t.Errorf("an artifact made %d writes through local, want 1", calls-before)
	}
	var buf blobBuf
	if b, err := sp.blob(off, 7, &buf); err != nil || string(b) != "weights" {
		t.Errorf("blob = %q, %v; want weights", b, err)
	}
	next, n := sp.rows(), 0
	for {
		m, ok, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if m.step != int64(n) {
			t.Fatalf("row %d has step %d", n, m.step)
		}
		n++
	}
	if n != rows {
		t.Errorf("read back %d rows, want %d", n, rows)
	}
}
