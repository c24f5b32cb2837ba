package runs

import (
	"context"
	"database/sql"
	"errors"
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
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
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
