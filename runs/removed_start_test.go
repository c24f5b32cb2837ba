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
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	opt := WorkOptions{Owner: me, Heartbeat: time.Hour}
	opt.defaults()
	out := trainClaimed(ctx, st, claim, opt)
	if !errors.Is(out.Err, ErrRemoved) || out.Status == store.StatusFailed {
		t.Fatalf("outcome %s, %v; want the run reported removed, not failed", out.Status, out.Err)
	}
}
