package store

import (
	"bufio"
	"context"
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
