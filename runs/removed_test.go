package runs

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// TestRemovedRunStops: a run removed from the database while its worker
// trains it (attnlab rm takes a run whose worker was silent for a minute:
// a stalled worker that comes back) stops at the next heartbeat, and is
// reported removed, not failed: nothing records it failed.
func TestRemovedRunStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "removed.db")
	st := openStore(t, path)
	id, _, repp, done := lostRunWorker(t, st, 50*time.Millisecond, "train.eval_every=0")
	for {
		r, err := st.RunByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == store.StatusRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// As rm does once the worker is judged gone (its checks need a minute).
	removeBehind(t, path, id)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop after its run was removed")
	}
	outs := (*repp).Outcomes
	if len(outs) != 1 || !errors.Is(outs[0].Err, ErrRemoved) || outs[0].Status == store.StatusFailed {
		t.Fatalf("outcomes %+v, want the run reported removed, not failed", outs)
	}
}

// TestRemovedBeforeStartNotFailed: a run removed (attnlab rm) after a
// stalled worker's claim and before its training started is reported
// removed, not failed: it said 'failed: store: delete checkpoint
// artifacts of run 1: run 1: not found'.
func TestRemovedBeforeStartNotFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "removed-start.db")
	st := openStore(t, path)
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "train.steps=40"))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Runs[0].ID
	me := store.Owner{Host: "here", PID: os.Getpid()}
	claim, err := st.Claim(ctx, id, me, 0)
	if err != nil || !claim.Claimed {
		t.Fatalf("claim: %+v, %v", claim, err)
	}
	// The worker stalls here; rm removes the run.
	removeBehind(t, path, id)
	opt := WorkOptions{Owner: me, Heartbeat: time.Hour}
	opt.defaults()
	out := trainClaimed(ctx, st, claim, opt)
	if !errors.Is(out.Err, ErrRemoved) || out.Status == store.StatusFailed {
		t.Fatalf("outcome %s, %v; want the run reported removed, not failed", out.Status, out.Err)
	}
}

// removeBehind deletes run id from the SQLite file at path through a
// connection of its own, behind the store's back, as rm in another
// process does.
func removeBehind(tb testing.TB, path string, id int64) {
	tb.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000")
	if err != nil {
		tb.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(context.Background(), `DELETE FROM runs WHERE id = ?`, id); err != nil {
		tb.Fatal(err)
	}
}
