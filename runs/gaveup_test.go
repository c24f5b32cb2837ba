package runs

import (
	"context"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// gaveUps records Start's steps, the runs begun and the runs given up on,
// as a GaveUpReporter.
type gaveUps struct {
	mu     sync.Mutex
	steps  int
	begun  []int64
	gaveUp map[int64]int
}

var _ GaveUpReporter = (*gaveUps)(nil)

func (g *gaveUps) Start(_, _, steps int)         { g.steps = steps }
func (g *gaveUps) Skip(store.Run, int, string)   {}
func (g *gaveUps) Wait()                         {}
func (g *gaveUps) GaveUp(r store.Run, steps int) { g.mu.Lock(); g.gaveUp[r.ID] = steps; g.mu.Unlock() }
func (g *gaveUps) Begin(r store.Run, _, _ int) RunReporter {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.begun = append(g.begun, r.ID)
	return nopRun{}
}

// TestExecuteTellsGaveUp: Execute tells a GaveUpReporter of a run of the
// plan that its claim failed after max_attempts lost attempts, with the
// run's planned steps, so that an overall ETA (package progress) no longer
// waits for steps that will never be trained; the run is not begun. It
// used to be told nothing: the steps stayed in the ETA.
func TestExecuteTellsGaveUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "gaveup.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot, additive]}}",
		"train.steps=20", "train.eval_every=0", "train.max_attempts=2")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	dead := store.CurrentOwner("")
	dead.PID = gone.ProcessState.Pid()
	// Two dead workers held the first run: its next claim loses its
	// second attempt, its last.
	lost := sub.Runs[0].ID
	for range 2 {
		if res, err := st.Claim(ctx, lost, dead, time.Hour); err != nil || !res.Claimed {
			t.Fatalf("claim run %d as a dead worker: %+v, %v", lost, res, err)
		}
	}
	g := &gaveUps{gaveUp: map[int64]int{}}
	var said []int64
	rep, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: g, GaveUp: func(r store.Run, _ string) { said = append(said, r.ID) }})
	if err != nil {
		t.Fatal(err)
	}
	if g.steps != 40 || len(g.gaveUp) != 1 || g.gaveUp[lost] != 20 || len(g.begun) != 1 || g.begun[0] == lost {
		t.Fatalf("reporter: Start steps %d, given up %v, begun %v; want 40 steps, run %d given up with its 20, the other begun", g.steps, g.gaveUp, g.begun, lost)
	}
	if len(said) != 1 || said[0] != lost {
		t.Errorf("ExecOptions.GaveUp told of %v, want run %d", said, lost)
	}
	if o := rep.Outcomes[0]; o.Status != store.StatusFailed {
		t.Errorf("outcome of the run given up on: %s, want failed", o.Status)
	}
}
