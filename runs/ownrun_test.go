package runs

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// TestNoTakeoverOfOwnRun: a worker of this process never takes over a run
// another worker of the same process trains, however late its heartbeat
// (^Z, a machine asleep): both would train it, the owner checks letting
// the same host and pid write. Here no heartbeat comes in time (Heartbeat
// an hour, StaleAfter 20 ms) while the second worker polls every 5 ms.
func TestNoTakeoverOfOwnRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "own.db"))
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot]}}", "train.steps=400", "train.eval_every=0"))
	if err != nil {
		t.Fatal(err)
	}
	var takeovers atomic.Int32
	rep, err := Work(ctx, st, WorkOptions{
		Owner: store.Owner{Host: "here", PID: os.Getpid()}, Workers: 2,
		Heartbeat: time.Hour, StaleAfter: 20 * time.Millisecond, Poll: 5 * time.Millisecond,
		OnTakeover: func(Takeover) { takeovers.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := takeovers.Load(); n != 0 || len(rep.Outcomes) != 1 || rep.Outcomes[0].Status != store.StatusDone {
		t.Fatalf("%d takeovers, outcomes %+v; want one run done, never taken over", n, rep.Outcomes)
	}
	r, err := st.RunByID(ctx, sub.Runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusDone || r.Attempt != 1 || r.Lost != 0 {
		t.Fatalf("run: status %s, attempt %d, lost %d; want done at its first attempt", r.Status, r.Attempt, r.Lost)
	}
}
