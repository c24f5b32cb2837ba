package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// TestRunOutcomesRemoved: a run removed from the database while this
// process held it (attnlab rm of a stalled run) is said to be removed, not
// failed nor "running"; and "failed" agrees with its count.
func TestRunOutcomesRemoved(t *testing.T) {
	run := func(id int64, seed int64) store.Run { return store.Run{ID: id, Experiment: "x", Seed: seed} }
	rep := &runs.Report{Outcomes: []runs.Outcome{
		{Run: run(1, 1), Status: store.StatusRunning, Err: fmt.Errorf("%w: no run with id 1", runs.ErrRemoved)},
		{Run: run(2, 2), Status: store.StatusDone},
	}}
	var w bytes.Buffer
	err := runOutcomes(&w, rep, false, nil)
	if want := "x/seed=1 (run 1) not done: removed from the database meanwhile (attnlab rm)\n"; w.String() != want {
		t.Errorf("printed %q, want %q", w.String(), want)
	}
	if err == nil || err.Error() != "1 of 2 runs not done" {
		t.Errorf("verdict %v, want 1 of 2 runs not done", err)
	}
	rep = &runs.Report{Outcomes: []runs.Outcome{
		{Run: run(1, 1), Status: store.StatusFailed, Err: errors.New("diverged")},
		{Run: run(2, 2), Status: store.StatusDone},
	}}
	w.Reset()
	if err := runOutcomes(&w, rep, false, nil); err == nil || !strings.Contains(err.Error(), "1 of 2 runs failed (attnlab show RUN says why; --retry-failed runs it again)") {
		t.Errorf("verdict %v", err)
	}
}
