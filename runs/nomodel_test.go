package runs

import (
	"errors"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestNoModelSaysWhy: decoding with a run that has no trained model says
// why by its status (it said "model_spec.json missing" for an interrupted
// run), and wraps ErrNoModel, which the CLI makes a usage error.
func TestNoModelSaysWhy(t *testing.T) {
	for status, want := range map[store.Status]string{
		store.StatusQueued:      "run 7 (exp/seed=1) is queued: it has no trained model yet (only a finished run has one)",
		store.StatusRunning:     "run 7 (exp/seed=1) is still training: it has no trained model yet (only a finished run has one)",
		store.StatusInterrupted: "run 7 (exp/seed=1) was interrupted: it has no trained model (only a finished run has one; running its experiment again resumes it)",
		store.StatusFailed:      "run 7 (exp/seed=1) failed, so it has no trained model (attnlab show 7 says why)",
		store.StatusDone:        "run 7 (exp/seed=1) has no trained model: its artifact params.bin is missing from the database",
	} {
		err := noModel(store.Run{ID: 7, Experiment: "exp", Seed: 1, Status: status}, "params.bin")
		if err.Error() != want || !errors.Is(err, ErrNoModel) {
			t.Errorf("%s: %q, want %q wrapping ErrNoModel", status, err, want)
		}
		if strings.Contains(err.Error(), "model_spec") {
			t.Errorf("%s: %q names an internal file", status, err)
		}
	}
}
