package runs

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	st, id, done, _ := trainingOneRun(t)
	thief := store.Owner{Host: "elsewhere", PID: 99}
	takeOver(t, st, id, thief)
	if err := st.Finish(ctx, id, thief, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	res := awaitExecuted(t, done, "its run was taken over and finished elsewhere")
	o := res.rep.Outcomes[0]
	if o.Status != store.StatusDone || o.Err != nil || o.Note != "done by elsewhere:99" {
		t.Fatalf("outcome: status %s, error %v, note %q; want done by elsewhere:99, no error", o.Status, o.Err, o.Note)
	}
}

// TestExecuteTakenOverThenGaveUp: a run of the plan that another process
// took over from this execution, and whose new owner then died, is given
// up on by this execution's own claim when its lost attempts reach
// max_attempts. Its outcome is that claim's — failed, the store's error
// saying it gave up, no note — not "failed by" the dead owner, which
// never ended it: run said "failed (in another process)".
func TestExecuteTakenOverThenGaveUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, id, done, said := trainingOneRun(t)
	// The thief, on this host, has exited: the next claim sees it gone at
	// once, and the attempt it took over is the run's second lost one.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	thief := store.CurrentOwner("")
	thief.PID = gone.ProcessState.Pid()
	takeOver(t, st, id, thief)
	res := awaitExecuted(t, done, "its run was taken over by a worker that died")
	r, err := st.RunByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusFailed || !strings.HasPrefix(r.Error, "gave up after 2 lost attempts") {
		t.Fatalf("stored run: %s, %q; want failed, gave up after 2 lost attempts", r.Status, r.Error)
	}
	if s := said(); len(s) != 1 || s[0] != id {
		t.Errorf("ExecOptions.GaveUp told of %v, want run %d", s, id)
	}
	o := res.rep.Outcomes[0]
	if o.Status != store.StatusFailed || o.Err != nil || o.Note != "" || o.Run.Error != r.Error {
		t.Fatalf("outcome: status %s, error %v, note %q, run's error %q; want failed by our claim (no error, no note) with the store's error %q",
			o.Status, o.Err, o.Note, o.Run.Error, r.Error)
	}
}

// TestExecuteTakenOverThenGaveUpElsewhere: three claimers. A worker
// elsewhere takes over a run of the plan from this execution (its
// heartbeats late) and goes silent; a third process's claim then takes
// that attempt as lost and gives up on the run (its lost attempts reach
// max_attempts). The run's owner in the store is still the silent taker,
// who never ended it: the outcome must not say "failed by" it (it did),
// but that another process gave up on the run.
func TestExecuteTakenOverThenGaveUpElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, id, done, said := trainingOneRun(t)
	taker := store.Owner{Host: "elsewhere", PID: 99}
	takeOver(t, st, id, taker) // this execution's attempt is lost: 1 of 2
	third := store.Owner{Host: "third", PID: 7}
	for {
		res, err := st.Claim(ctx, id, third, time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		if res.Claimed {
			t.Fatalf("the third claimer took the run (%+v); want it to give up", res.Run)
		}
		if len(res.GaveUp) == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	res := awaitExecuted(t, done, "a third process gave up on its run")
	r, err := st.RunByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusFailed || !strings.HasPrefix(r.Error, "gave up after 2 lost attempts") || r.Host != taker.Host || r.PID != taker.PID {
		t.Fatalf("stored run: %s, %q, %s:%d; want failed, gave up after 2 lost attempts, still the taker's", r.Status, r.Error, r.Host, r.PID)
	}
	if s := said(); len(s) != 0 {
		t.Errorf("ExecOptions.GaveUp told of %v; no claim of this execution gave up", s)
	}
	o := res.rep.Outcomes[0]
	if o.Status != store.StatusFailed || o.Err != nil || o.Note != NoteGaveUpElsewhere || o.Run.Error != r.Error {
		t.Fatalf("outcome: status %s, error %v, note %q, run's error %q; want failed, no error, note %q, the store's error %q",
			o.Status, o.Err, o.Note, o.Run.Error, NoteGaveUpElsewhere, r.Error)
	}
}

// TestExecuteTakenOverThenFailedLowered: a worker elsewhere takes over a
// run of the plan from this execution (its attempt lost: 1 of
// max_attempts 2), a rerun of the experiment lowers max_attempts to 1
// meanwhile, and that worker then fails the run itself. The outcome is
// "failed by" that worker, which ended it: it said NoteGaveUpElsewhere,
// as the run's lost attempts had reached its (lowered) max_attempts.
func TestExecuteTakenOverThenFailedLowered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, id, done, said := trainingOneRun(t)
	taker := store.Owner{Host: "elsewhere", PID: 99}
	takeOver(t, st, id, taker) // this execution's attempt is lost: 1 of 2
	rerun := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot]}}",
		"train.steps=100000", "train.eval_every=0", "train.max_attempts=1")
	if sub, err := Submit(ctx, st, rerun); err != nil || sub.Runs[0].ID != id || sub.Runs[0].MaxAttempts != 1 || sub.Runs[0].Lost != 1 {
		t.Fatalf("the rerun's Submit: %+v, %v; want run %d, 1 lost of max_attempts 1", sub, err, id)
	}
	if err := st.Finish(ctx, id, taker, store.StatusFailed, "step 3: training loss is +Inf"); err != nil {
		t.Fatal(err)
	}
	res := awaitExecuted(t, done, "its run was taken over and failed elsewhere")
	if s := said(); len(s) != 0 {
		t.Errorf("ExecOptions.GaveUp told of %v; no claim gave up", s)
	}
	o := res.rep.Outcomes[0]
	if o.Status != store.StatusFailed || o.Note != "failed by elsewhere:99" || o.Run.Error != "step 3: training loss is +Inf" {
		t.Fatalf("outcome: status %s, error %v, note %q, run's error %q; want failed by elsewhere:99, its error",
			o.Status, o.Err, o.Note, o.Run.Error)
	}
}

// executed is what Execute returned.
type executed struct {
	rep *Report
	err error
}

// awaitExecuted waits up to a minute for Execute's result on done and
// fails the test if it does not come (saying it did not end after what
// the test did) or is an error.
func awaitExecuted(t *testing.T, done <-chan executed, after string) executed {
	t.Helper()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatal(res.err)
		}
		return res
	case <-time.After(60 * time.Second):
		t.Fatal("Execute did not end after " + after)
	}
	return executed{}
}

// trainingOneRun submits one run of max_attempts 2 to a new store and
// runs Execute on it in the background until the run trains: it returns
// the store, the run's ID, Execute's result (once it ends) and the runs
// ExecOptions.GaveUp was told of so far. Heartbeats every 20 ms;
// StaleAfter an hour: the execution never judges a taker stale.
func trainingOneRun(t *testing.T) (st *store.Store, id int64, done <-chan executed, said func() []int64) {
	ctx := context.Background()
	st = openStore(t, filepath.Join(t.TempDir(), "takenover.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={grid: {model.attention.name: [dot]}}",
		"train.steps=100000", "train.eval_every=0", "train.max_attempts=2")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	rep := &endings{training: make(chan struct{})}
	out := make(chan executed, 1)
	var gaveUp []int64
	var mu sync.Mutex
	go func() {
		r, err := Execute(ctx, st, x, ExecOptions{Workers: 1, Reporter: rep, Heartbeat: 20 * time.Millisecond, StaleAfter: time.Hour,
			GaveUp: func(r store.Run, _ string) { mu.Lock(); gaveUp = append(gaveUp, r.ID); mu.Unlock() }})
		out <- executed{r, err}
	}()
	select {
	case <-rep.training:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not start training")
	}
	return st, sub.Runs[0].ID, out, func() []int64 { mu.Lock(); defer mu.Unlock(); return slices.Clone(gaveUp) }
}
