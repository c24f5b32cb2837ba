package runs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// TestAbandon: a run this process still has in flight when it is forced to
// exit is recorded as interrupted, to resume from its last checkpoint,
// not left "running"; a run no longer in flight is left as it is.
func TestAbandon(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "a.db"))
	exp, err := st.PutExperiment(ctx, "x", "", "")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := st.EnsureRuns(ctx, exp, []store.RunSpec{{Hash: "a", Seed: 1, Config: "{}"}, {Hash: "b", Seed: 2, Config: "{}"}})
	if err != nil {
		t.Fatal(err)
	}
	owner := store.CurrentOwner("test")
	for _, r := range rs {
		if c, err := st.Claim(ctx, r.ID, owner, time.Hour); err != nil || !c.Claimed {
			t.Fatalf("claim: %+v, %v", c, err)
		}
	}
	untrackA := track(rs[0].ID, st, owner)
	track(rs[1].ID, st, owner)() // ended before the exit
	defer untrackA()
	if n := Abandon(ctx); n != 1 {
		t.Errorf("Abandon recorded %d runs, want 1", n)
	}
	a, _ := st.RunByID(ctx, rs[0].ID)
	b, _ := st.RunByID(ctx, rs[1].ID)
	if a.Status != store.StatusInterrupted || a.Error != HandedBack || b.Status != store.StatusRunning {
		t.Errorf("after Abandon: run a %s (%q), run b %s; want a interrupted (handed back), b running", a.Status, a.Error, b.Status)
	}
}
