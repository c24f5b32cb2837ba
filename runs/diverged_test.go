package runs

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestDiverged: an interrupted run whose sweep point and seed come back
// under another setting is named, with the settings that differ, while the
// run that replaces it has not started; never for the same settings, nor
// once the replacing run has started.
func TestDiverged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "lab.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml")
	plan, err := x.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Diverged(ctx, st, x, plan); err != nil || len(d) != 0 {
		t.Fatalf("a new experiment: %v, %v", d, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	rep, err := Execute(cctx, st, x, ExecOptions{Workers: 1, Reporter: &cancelAt{step: 50, cancel: cancel}})
	if err == nil || rep.Count(store.StatusInterrupted) == 0 {
		t.Fatalf("no run was interrupted: %v", err)
	}
	interrupted := map[int64]bool{}
	for _, o := range rep.Outcomes {
		if o.Run.Status == store.StatusInterrupted {
			interrupted[o.Run.ID] = true
		}
	}
	if d, err := Diverged(ctx, st, x, plan); err != nil || len(d) != 0 {
		t.Fatalf("the same settings resume their runs: %v, %v", d, err)
	}

	y := loadExperiment(t, "testdata/sweep4.yaml", "eval.samples=3", "train.steps=130")
	plan2, err := y.Plan()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Diverged(ctx, st, y, plan2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != len(interrupted) {
		t.Fatalf("%d divergences, want one per interrupted run (%d): %+v", len(d), len(interrupted), d)
	}
	for _, v := range d {
		if !interrupted[v.Old.ID] || int64(v.Planned.Seed) != v.Old.Seed || v.Planned.Hash == v.Old.Hash {
			t.Errorf("run %d (seed %d) matched planned %s (seed %d)", v.Old.ID, v.Old.Seed, v.Planned.Label, v.Planned.Seed)
		}
		want := []string{"eval.samples 8 → 3", "train.steps 120 → 130"}
		if !slices.Equal(v.Keys, want) {
			t.Errorf("run %d: differing keys %q, want %q", v.Old.ID, v.Keys, want)
		}
	}
	// Once the new runs have started, nothing is left to say.
	if _, err := Execute(ctx, st, y, ExecOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if d, err := Diverged(ctx, st, y, plan2); err != nil || len(d) != 0 {
		t.Fatalf("after the new runs: %v, %v", d, err)
	}
}

// TestDivergedIgnoresUntrained: a run that workers only handed back
// untrained (too big for them: interrupted at attempt 0) has nothing to
// resume, so a changed setting does not send the user back to it ("restore
// them to resume run N").
func TestDivergedIgnoresUntrained(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "lab.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	small := store.Owner{Host: "small", PID: os.Getpid()}
	for _, r := range sub.Runs {
		if res, err := st.Claim(ctx, r.ID, small, 0); err != nil || !res.Claimed {
			t.Fatalf("claim: %+v %v", res, err)
		}
		if _, err := st.FinishRun(ctx, r.ID, small, store.Ending{Status: store.StatusInterrupted, Untrained: true, Error: TooBigPrefix + "x"}); err != nil {
			t.Fatal(err)
		}
	}
	y := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "train.steps=130")
	plan, err := y.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Diverged(ctx, st, y, plan); err != nil || len(d) != 0 {
		t.Errorf("runs handed back untrained: %d divergences (%+v), %v; want none", len(d), d, err)
	}
}
