package runs

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestRunNamesLeaveOutVariantKeys: a run's name shows its variant by name
// and the other swept values, not the settings the variant stands for (a
// plugin block's JSON); each name resolves to its run, and the plan still
// shows what each variant sets.
func TestRunNamesLeaveOutVariantKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "lab.db"))
	x := loadExperiment(t, "testdata/variants.yaml")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range sub.Runs {
		names = append(names, r.Name())
		got, err := st.ResolveRun(ctx, r.Name())
		if err != nil || got.ID != r.ID {
			t.Errorf("%s resolves to run %d (%v), want %d", r.Name(), got.ID, err, r.ID)
		}
	}
	want := []string{"variants/wide,0.001/seed=1", "variants/wide,0.003/seed=1", "variants/chunk,0.001/seed=1", "variants/chunk,0.003/seed=1"}
	if !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if p := sub.Plan[0].Point; p["model.embed"] != 32 || p["variant"] != "wide" {
		t.Errorf("the plan's point %v, want the variant's setting model.embed: 32 in it", p)
	}
}

// TestDivergedMatchesOlderPoints: runs stored before their points left out
// the variant's keys are still matched by sweep point and seed.
func TestDivergedMatchesOlderPoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "lab.db"))
	x := loadExperiment(t, "testdata/variants.yaml")
	plan, err := x.Plan()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/variants.yaml", "train.steps=130"))
	if err != nil {
		t.Fatal(err)
	}
	// An interrupted run of the first point as an older build stored it:
	// the whole point, and another config (train.steps 130).
	old := sub.Runs[0]
	full, err := json.Marshal(plan[0].Point)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(full), "model.embed") {
		t.Fatalf("point %s", full)
	}
	if _, err := st.EnsureRuns(ctx, old.ExperimentID, []store.RunSpec{{Hash: "01d0000000000000", Seed: 1, Config: old.Config, Point: string(full)}}); err != nil {
		t.Fatal(err)
	}
	legacy, err := st.ResolveRun(ctx, "variants/01d0")
	if err != nil {
		t.Fatal(err)
	}
	owner := store.CurrentOwner("test")
	if _, err := st.Claim(ctx, legacy.ID, owner, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, legacy.ID, owner, store.StatusInterrupted, "stopped"); err != nil {
		t.Fatal(err)
	}
	d, err := Diverged(ctx, st, x, plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 1 || d[0].Old.ID != legacy.ID || d[0].Planned.Hash != plan[0].Hash || !slices.Equal(d[0].Keys, []string{"train.steps 130 → 120"}) {
		t.Errorf("divergences %+v, want run %d against the first planned run, train.steps 130 → 120", d, legacy.ID)
	}
}
