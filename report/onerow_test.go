package report

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestCompareOneFinishedRow: when only one setting has finished and the
// others are still queued or running, the lone row keeps the key that
// tells it from them (attention.name=none), not the experiment's name
// alone: which setting finished is what the table must say.
func TestCompareOneFinishedRow(t *testing.T) {
	// none's own setting (attention.context) comes with its name: the
	// name alone labels the row, as it would beside dot's finished row.
	ctx := map[string]any{"model.attention.context": "final"}
	queued := trustRun("dot", 1, 0, nil)
	queued.status = store.StatusQueued
	x := fakeExperiment{name: "half", runs: []fakeRun{trustRun("none", 1, 0.4, ctx), trustRun("none", 2, 0.5, ctx), queued}}
	st, _ := buildStore(t, x)
	c := mustCompare(t, st, Query{Experiments: []string{"half"}})
	if !slices.Equal(c.Keys, []string{"model.attention.name"}) || len(c.Rows) != 1 || c.Rows[0].Group[0] != "none" {
		t.Errorf("one finished setting beside a queued one: Keys %q, rows %q; want [model.attention.name] and one row none", c.Keys, rowLabels(c))
	}
	if tx := c.Text(); !slices.Equal(tx.KeyHeads, []string{"attention.name"}) {
		t.Errorf("KeyHeads %q, want [attention.name]", tx.KeyHeads)
	}
	// A lone setting of the whole experiment has no key to show.
	x = fakeExperiment{name: "alone", runs: []fakeRun{trustRun("none", 1, 0.4, nil), trustRun("none", 2, 0.5, nil)}}
	st, _ = buildStore(t, x)
	if c := mustCompare(t, st, Query{Experiments: []string{"alone"}}); !slices.Equal(c.Keys, []string{KeyExperiment}) {
		t.Errorf("one setting: Keys %q, want [experiment]", c.Keys)
	}
}
