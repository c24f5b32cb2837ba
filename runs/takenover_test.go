package runs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// TestExecuteTakenOverThenDone: a run of the plan that another process
// took over from this execution (its heartbeats late: ^Z) and then
// finished is waited for, and its outcome is the store's, done by that
// process, not "running: another worker took the run over": run printed
// the table with the run done and said "1 of 1 runs not done".
func TestExecuteTakenOverThenDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "takenover.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot]}}", "train.steps=100000", "train.eval_every=0")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Runs[0].ID
	rep := &endings{training: make(chan struct{})}
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: rep, Heartbeat: 20 * time.Millisecond, StaleAfter: time.Hour})
		done <- result{r, err}
	}()
	select {
	case <-rep.training:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not start training")
	}
	thief := store.Owner{Host: "elsewhere", PID: 99}
	takeOver(t, st, id, thief)
	if err := st.Finish(ctx, id, thief, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Execute did not end after its run was taken over and finished elsewhere")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	o := res.rep.Outcomes[0]
	if o.Status != store.StatusDone || o.Err != nil || o.Note != "done by elsewhere:99" {
		t.Fatalf("outcome: status %s, error %v, note %q; want done by elsewhere:99, no error", o.Status, o.Err, o.Note)
	}
}
