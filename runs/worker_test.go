package runs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/faultproxy"
	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

// TestCheckpointsDroppedWhenDone: a done run keeps its final weights and
// loses its intermediate checkpoint, unless train.keep_checkpoints.
func TestCheckpointsDroppedWhenDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, keep := range []bool{false, true} {
		sets := []string{"seeds=[1]", "sweep={}", "train.steps=40", "train.eval_every=20"}
		if keep {
			sets = append(sets, "train.keep_checkpoints=true")
		}
		st := openStore(t, filepath.Join(t.TempDir(), "ckpt.db"))
		rep, err := Execute(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", sets...), ExecOptions{Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		o := rep.Outcomes[0]
		if o.Status != store.StatusDone || o.Run.KeepCheckpoints != keep {
			t.Fatalf("keep %v: run %s, keep_checkpoints %v", keep, o.Status, o.Run.KeepCheckpoints)
		}
		if _, err := st.Artifact(ctx, o.Run.ID, artifact.KindModel, artifact.NameParams); err != nil {
			t.Fatalf("keep %v: final weights: %v", keep, err)
		}
		_, err = st.Artifact(ctx, o.Run.ID, artifact.KindCheckpoint, artifact.NameCheckpoint)
		switch {
		case keep && err != nil:
			t.Fatalf("train.keep_checkpoints: the checkpoint is gone: %v", err)
		case !keep && !errors.Is(err, store.ErrNotFound):
			t.Fatalf("the checkpoint of a done run is still there (%v)", err)
		}
	}
}

// TestLiveMetrics: while a run trains, its metric rows reach the store
// within MetricsEvery, not only at evaluations (this run has none until
// the end).
func TestLiveMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "live.db")
	st := openStore(t, db)
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}",
		"train.steps=600", "train.eval_every=0", "train.log_every=5"))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Runs[0].ID
	done := make(chan error, 1)
	go func() {
		_, err := Work(ctx, st, WorkOptions{MetricsEvery: 50 * time.Millisecond})
		done <- err
	}()
	reader := openStore(t, db) // another handle, as another process would read
	seen, polls := 0, 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if seen < 2 {
				t.Fatalf("metric rows were seen growing %d times while the run trained (%d polls), want at least 2", seen, polls)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		r, err := reader.RunByID(ctx, id)
		if err != nil || r.Status != store.StatusRunning {
			continue
		}
		polls++
		h, err := reader.MetricHistory(ctx, []int64{id}, "train/loss")
		if err != nil {
			t.Fatal(err)
		}
		if n := len(h[id]); n > 0 && n < 120 && n > seen {
			seen = n
		}
	}
}

// TestLostRunStops: when another worker takes a run over (this one was
// judged stale), the next heartbeat stops the training and nothing of the
// outcome is recorded over the new owner's.
func TestLostRunStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "lost.db"))
	id, thief, repp, done := lostRunWorker(t, st, 50*time.Millisecond, "train.eval_every=0")
	var err error
	for {
		r, err := st.RunByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == store.StatusRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The thief takes the run as a worker elsewhere would after a missed
	// heartbeat: a claim with a tiny staleness bound.
	time.Sleep(100 * time.Millisecond)
	var res store.ClaimResult
	for !res.Claimed {
		if res, err = st.Claim(ctx, id, thief, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop after losing its run")
	}
	if len((*repp).Outcomes) != 1 || !errors.Is((*repp).Outcomes[0].Err, ErrTakenOver) {
		t.Fatalf("outcomes %+v, want the run lost", (*repp).Outcomes)
	}
	r, _ := st.RunByID(ctx, id)
	if r.Status != store.StatusRunning || r.Host != "elsewhere" || r.Error != "" {
		t.Fatalf("after the loss: %s on %s (%q), want still running under the thief", r.Status, r.Host, r.Error)
	}
}

// TestWorkerWaitsForRoomAlive: a run that waits for memory room behind
// another keeps heartbeating, so it is not taken for dead and trained
// twice (nor failed as lost) once the first run ends; each run ends done,
// once, at its first attempt.
func TestWorkerWaitsForRoomAlive(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "room.db"))
	// The first run trains for well over StaleAfter (about 2.7 s; 17 s
	// under the race detector, with fewer steps), so a waiting run that did
	// not heartbeat is taken over. StaleAfter is 1 s (2 s under the race
	// detector): 200 ms let a heartbeat delayed by the other run's writes
	// on a loaded machine look dead (CI and a reviewer's run, 2026-12-06).
	steps, stale := 6000, time.Second
	if raceBuild {
		steps, stale = 2000, 2*time.Second
	}
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", fmt.Sprintf("train.steps=%d", steps), "train.eval_every=0")
	sub, err := Submit(ctx, st, x)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := x.Plan()
	est := experiments.EstimateMemory(plan[0].Config).Bytes
	rep, err := Work(ctx, st, WorkOptions{Workers: 2, Heartbeat: 50 * time.Millisecond, StaleAfter: stale,
		Memory: tasks.MemoryLimit{Bytes: est * 3 / 2, Name: "the limit"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != len(sub.Runs) {
		for _, o := range rep.Outcomes {
			t.Logf("run %d: %s, attempt %d, %v (%s)", o.Run.ID, o.Status, o.Run.Attempt, o.Err, o.Note)
		}
		t.Fatalf("%d outcomes for %d runs: a run waiting for memory was taken over", len(rep.Outcomes), len(sub.Runs))
	}
	for _, o := range rep.Outcomes {
		if o.Status != store.StatusDone || o.Run.Attempt != 1 || o.Err != nil {
			t.Errorf("run %d: %s, attempt %d, %v (%s)", o.Run.ID, o.Status, o.Run.Attempt, o.Err, o.Note)
		}
	}
}

// TestLostRunCheckpointRefused: a worker whose run another worker took
// over learns it at its next checkpoint, not only at its next heartbeat
// (here an hour away): the checkpoint write is guarded by the owner, so it
// leaves the new owner's checkpoint alone and stops the training as a lost
// run. Unguarded, it went on replacing the new owner's checkpoint.
func TestLostRunCheckpointRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "lostckpt.db"))
	id, thief, repp, done := lostRunWorker(t, st, time.Hour, "train.eval_every=5", "eval.valid_exact_match=false")
	var err error
	// Wait for the worker's first checkpoint, then take the run over and
	// write the thief's own.
	for {
		if _, err := st.Artifact(ctx, id, artifact.KindCheckpoint, artifact.NameCheckpoint); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var res store.ClaimResult
	for !res.Claimed {
		if res, err = st.Claim(ctx, id, thief, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutOwnedArtifact(ctx, id, thief, artifact.KindCheckpoint, artifact.NameCheckpoint, []byte("thief")); err != nil {
		t.Fatal(err)
	}
	waitLost(t, st, id, thief, done, repp, func() {
		data, err := st.Artifact(ctx, id, artifact.KindCheckpoint, artifact.NameCheckpoint)
		if err != nil || string(data) != "thief" {
			t.Fatalf("the new owner's checkpoint was replaced by the worker that lost the run (%d bytes, %v)", len(data), err)
		}
	})
}

// lostRunWorker submits one long run of sweep4 (with sets), starts a
// worker on it in the background with the given heartbeat, and returns the
// run's id, another owner (the thief), where the worker's report goes and
// the channel its error arrives on.
func lostRunWorker(t *testing.T, st *store.Store, heartbeat time.Duration, sets ...string) (id int64, thief store.Owner, rep **WorkReport, done chan error) {
	t.Helper()
	ctx := context.Background()
	sets = append([]string{"seeds=[1]", "sweep={}", "train.steps=100000"}, sets...)
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", sets...))
	if err != nil {
		t.Fatal(err)
	}
	id = sub.Runs[0].ID
	me := store.Owner{Host: "here", PID: os.Getpid()}
	thief = store.Owner{Host: "elsewhere", PID: 99}
	rep, done = new(*WorkReport), make(chan error, 1)
	go func() {
		var err error
		*rep, err = Work(ctx, st, WorkOptions{Owner: me, MaxRuns: 1, Heartbeat: heartbeat, StaleAfter: time.Hour})
		done <- err
	}()
	return id, thief, rep, done
}

// forEachEngine runs f on a fresh SQLite store and on a fresh PostgreSQL
// database (skipped outside CI when no server is configured: see
// internal/testenv).
func forEachEngine(t *testing.T, f func(t *testing.T, st *store.Store)) {
	t.Helper()
	testenv.ForEachDatabase(t, func(t *testing.T, target string) { f(t, openStore(t, target)) })
}

// takeOver claims the run for thief as a worker elsewhere does after the
// owner's missed heartbeats: with a tiny staleness bound.
func takeOver(t *testing.T, st *store.Store, id int64, thief store.Owner) {
	t.Helper()
	for {
		res, err := st.Claim(context.Background(), id, thief, time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		if res.Claimed {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestStalledStartKeepsNewOwnersData: a worker that stalls between its
// claim and the start of its training (a GC pause, SIGSTOP, a slow
// network) while another worker takes the run over must leave the new
// owner's checkpoint and metric history alone — a fresh start drops a
// checkpoint and the whole history, a resume the history after its
// checkpoint — and end as a lost run without training. Unguarded, it
// deleted them.
func TestStalledStartKeepsNewOwnersData(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "train.steps=40"))
		if err != nil {
			t.Fatal(err)
		}
		for i, tc := range []struct {
			name string
			prev store.Status // what the stalled worker's claim found
		}{
			{"fresh start", store.StatusQueued},
			{"resume", store.StatusInterrupted},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := sub.Runs[i].ID
				me := store.Owner{Host: "here", PID: os.Getpid()}
				thief := store.Owner{Host: "elsewhere", PID: 99}
				claim, err := st.Claim(ctx, id, me, 0)
				if err != nil || !claim.Claimed {
					t.Fatalf("claim: %+v, %v", claim, err)
				}
				if tc.prev == store.StatusInterrupted {
					if err := st.Finish(ctx, id, me, store.StatusInterrupted, HandedBack); err != nil {
						t.Fatal(err)
					}
					if claim, err = st.Claim(ctx, id, me, 0); err != nil || !claim.Claimed {
						t.Fatalf("claim again: %+v, %v", claim, err)
					}
				}
				if claim.Prev != tc.prev {
					t.Fatalf("claim found the run %s, want %s", claim.Prev, tc.prev)
				}
				// The worker stalls here; the thief takes the run over and
				// writes its checkpoint and metric rows.
				takeOver(t, st, id, thief)
				if err := st.PutOwnedArtifact(ctx, id, thief, artifact.KindCheckpoint, artifact.NameCheckpoint, []byte("thief")); err != nil {
					t.Fatal(err)
				}
				w := st.NewMetricWriter(id, 0)
				for step := 1; step <= 3; step++ {
					if err := w.Log(step, "train/loss", float64(100+step)); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				// The worker wakes up and goes on with its claim.
				opt := WorkOptions{Owner: me, Heartbeat: time.Hour}
				opt.defaults()
				out := trainClaimed(ctx, st, claim, opt)
				if !errors.Is(out.Err, ErrTakenOver) {
					t.Errorf("outcome %s, %v (%s); want the run lost", out.Status, out.Err, out.Note)
				}
				if data, err := st.Artifact(ctx, id, artifact.KindCheckpoint, artifact.NameCheckpoint); err != nil || string(data) != "thief" {
					t.Errorf("the new owner's checkpoint is %q, %v; want %q", data, err, "thief")
				}
				h, err := st.MetricHistory(ctx, []int64{id}, "train/loss")
				if err != nil {
					t.Fatal(err)
				}
				if len(h[id]) != 3 || h[id][0].Value != 101 || h[id][2].Value != 103 {
					t.Errorf("the new owner's train/loss history is %v, want its 3 rows 101..103", h[id])
				}
				r, err := st.RunByID(ctx, id)
				if err != nil || r.Status != store.StatusRunning || r.Host != thief.Host || r.Error != "" {
					t.Errorf("run %+v, %v; want still running under the thief", r, err)
				}
			})
		}
	})
}

// TestLostRunWritesNoMetrics: a worker whose run another worker took over
// writes no metric row after the takeover — rows of steps the new owner
// may never train again, or has already trained with its own values —
// and stops at its next metric write (its heartbeat is an hour away), as a
// lost run. Unguarded, its rows went on reaching the new owner's history.
func TestLostRunWritesNoMetrics(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		id, thief, repp, done := lostRunWorker(t, st, time.Hour, "train.eval_every=0", "train.log_every=1")
		rows := func() int {
			t.Helper()
			h, err := st.MetricHistory(ctx, []int64{id}, "train/loss")
			if err != nil {
				t.Fatal(err)
			}
			return len(h[id])
		}
		for rows() == 0 { // the worker is training and writing its rows
			time.Sleep(10 * time.Millisecond)
		}
		// The thief takes the run over and starts it afresh: no history.
		takeOver(t, st, id, thief)
		if err := st.TruncateOwnedMetrics(ctx, id, thief, -1); err != nil {
			t.Fatal(err)
		}
		waitLost(t, st, id, thief, done, repp, func() {
			if n := rows(); n > 0 {
				t.Fatalf("the worker that lost the run wrote %d train/loss rows after the takeover", n)
			}
		})
	})
}

// TestLostBeforeItsEnd: a worker whose run was taken over before it
// recorded the run's end reports the run as lost, in the new owner's
// state, not as the end it meant to record (which the store refused).
func TestLostBeforeItsEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]"))
		if err != nil {
			t.Fatal(err)
		}
		id := sub.Runs[0].ID
		me := store.Owner{Host: "here", PID: os.Getpid()}
		if c, err := st.Claim(ctx, id, me, 0); err != nil || !c.Claimed {
			t.Fatalf("claim: %+v, %v", c, err)
		}
		takeOver(t, st, id, store.Owner{Host: "elsewhere", PID: 99})
		out := finishRun(ctx, st, me, Outcome{Run: sub.Runs[0]}, store.StatusFailed, errors.New("no room"))
		if !errors.Is(out.Err, ErrTakenOver) || out.Status != store.StatusRunning || out.Run.Host != "elsewhere" {
			t.Errorf("outcome: status %s, error %v, host %q; want running under elsewhere, lost", out.Status, out.Err, out.Run.Host)
		}
	})
}

// waitLost waits for a worker (its error on done, its report in rep) that
// lost run id to thief to stop, running check every 20 ms meanwhile and
// once after, and checks that it reported the run lost and left it to
// thief. The worker's heartbeat is an hour away: only what the test is
// about can stop it.
func waitLost(t *testing.T, st *store.Store, id int64, thief store.Owner, done <-chan error, rep **WorkReport, check func()) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for stopped := false; !stopped; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			stopped = true
		case <-deadline:
			t.Fatal("the worker did not stop after losing its run (its heartbeat is an hour away)")
		case <-time.After(20 * time.Millisecond):
		}
		check()
	}
	if len((*rep).Outcomes) != 1 || !errors.Is((*rep).Outcomes[0].Err, ErrTakenOver) {
		t.Fatalf("outcomes %+v, want the run lost", (*rep).Outcomes)
	}
	r, _ := st.RunByID(context.Background(), id)
	if r.Status != store.StatusRunning || r.Host != thief.Host || r.Error != "" {
		t.Fatalf("after the loss: %s on %s (%q), want still running under the thief", r.Status, r.Host, r.Error)
	}
}

// TestWorkerLeavesRunInOutage: when the database stays unreachable for
// longer than the store rides out, the run's writes give up and the worker
// stops — but the run did not fail: it is left running in the database (a
// *LeftError outcome, not a failed one) for another worker to take over
// from its checkpoint, and Work returns the store's error.
func TestWorkerLeavesRunInOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	target := testenv.PostgresURL(t)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, u.Host)
	st := openStore(t, p.Through(t, target))
	st.SetOutageBudget(time.Second)
	direct := openStore(t, target)
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=100000", "train.eval_every=0"))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Runs[0].ID
	me := store.Owner{Host: "here", PID: os.Getpid()}
	type result struct {
		rep *WorkReport
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := Work(ctx, st, WorkOptions{Owner: me, MaxRuns: 1, Heartbeat: 100 * time.Millisecond,
			StaleAfter: time.Hour, MetricsEvery: 50 * time.Millisecond})
		done <- result{rep, err}
	}()
	for {
		r, err := direct.RunByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == store.StatusRunning {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	p.Cut()
	var res result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not stop within a minute of an outage longer than its budget of 1s")
	}
	if !errors.Is(res.err, store.ErrUnavailable) {
		t.Fatalf("Work returned %v, want the store's ErrUnavailable", res.err)
	}
	var le *LeftError
	if res.rep == nil || len(res.rep.Outcomes) != 1 || res.rep.Outcomes[0].Status != store.StatusRunning || !errors.As(res.rep.Outcomes[0].Err, &le) {
		t.Fatalf("outcomes %+v, want the run left running (a *LeftError), not failed", res.rep)
	}
	r, err := direct.RunByID(ctx, id)
	if err != nil || r.Status != store.StatusRunning || r.Host != me.Host || r.Error != "" {
		t.Fatalf("after the outage the run is %s on %s (%q, %v), want still running under the worker", r.Status, r.Host, r.Error, err)
	}
}

// TestNotRunOutageNotFailed: a run whose checkpoint cannot be read
// because the PostgreSQL server is unreachable (a restart between its
// claim and its training) did not fail: once the server answers again it
// is handed back to the queue (interrupted, HandedBackOutage, its claim
// uncounted) and the reporter is told it was skipped. notRun recorded it
// failed with the driver's error as soon as its ending write got through.
func TestNotRunOutageNotFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	target := testenv.PostgresURL(t)
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, u.Host)
	st := openStore(t, p.Through(t, target))
	direct := openStore(t, target)
	sub, err := Submit(ctx, st, loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "sweep={}", "train.steps=40"))
	if err != nil {
		t.Fatal(err)
	}
	id := sub.Runs[0].ID
	me := store.Owner{Host: "here", PID: os.Getpid()}
	// Started once and handed back: the next claim reads its checkpoint.
	if c, err := st.Claim(ctx, id, me, 0); err != nil || !c.Claimed {
		t.Fatalf("claim: %+v, %v", c, err)
	}
	if _, err := st.FinishRun(ctx, id, me, store.Ending{Status: store.StatusInterrupted, Error: HandedBack}); err != nil {
		t.Fatal(err)
	}
	claim, err := st.Claim(ctx, id, me, 0)
	if err != nil || !claim.Claimed || claim.Prev != store.StatusInterrupted {
		t.Fatalf("claim: %+v, %v", claim, err)
	}
	// The server is back as soon as a write finds it unreachable: the
	// write that ends the run gets through.
	st.OnOutage(func(o store.Outage) {
		if o.End.IsZero() {
			p.Forward()
		}
	})
	p.Cut()
	rep := &endings{training: make(chan struct{})}
	opt := WorkOptions{Owner: me, Heartbeat: time.Hour, Reporter: rep}
	opt.defaults()
	out := trainClaimed(ctx, st, claim, opt)
	r, err := direct.RunByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusInterrupted || r.Error != HandedBackOutage || r.Attempt != claim.Run.Attempt-1 {
		t.Errorf("run stored %s (%q), attempt %d; want interrupted (%q), attempt %d: the outage is the database's, not the run's",
			r.Status, r.Error, r.Attempt, HandedBackOutage, claim.Run.Attempt-1)
	}
	if out.Status != store.StatusInterrupted || out.Err == nil || out.Err.Error() != HandedBackOutage {
		t.Errorf("outcome %s, %v; want interrupted, %q", out.Status, out.Err, HandedBackOutage)
	}
	if ends := rep.all(); len(ends) != 0 || len(rep.skips) != 1 {
		t.Errorf("reporter: skips %q, ends %+v; want the run skipped, not ended", rep.skips, ends)
	}
}

// TestStoppedWhileWaitingForRoomUncounted: a run handed back because its
// worker stopped while it waited for memory room never trained under that
// claim: its attempt is given back (store.Ending.Untrained), while the run
// that was training counts its attempt.
func TestStoppedWhileWaitingForRoomUncounted(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "stop.db"))
	x := loadExperiment(t, "testdata/sweep4.yaml", "seeds=[1]", "train.steps=100000", "train.eval_every=0")
	sub, err := Submit(context.Background(), st, x)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := x.Plan()
	est := experiments.EstimateMemory(plan[0].Config).Bytes
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Work(ctx, st, WorkOptions{Workers: 2, Heartbeat: 50 * time.Millisecond,
			Memory: tasks.MemoryLimit{Bytes: est * 3 / 2, Name: "the limit"}})
		done <- err
	}()
	// Both runs claimed (one trains, one waits for room), and the one
	// training has logged a step.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		rs, err := st.Runs(context.Background(), store.RunFilter{Status: store.StatusRunning})
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := st.MetricKeys(context.Background(), []int64{sub.Runs[0].ID, sub.Runs[1].ID})
		if len(rs) == 2 && len(keys) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the two runs were not both claimed within a minute (%d running)", len(rs))
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Work = %v, want context.Canceled", err)
	}
	attempts := map[int]int{}
	for _, r := range sub.Runs {
		got, err := st.RunByID(context.Background(), r.ID)
		if err != nil || got.Status != store.StatusInterrupted {
			t.Fatalf("run %d: %s, %v; want interrupted", r.ID, got.Status, err)
		}
		attempts[got.Attempt]++
	}
	if attempts[0] != 1 || attempts[1] != 1 {
		t.Errorf("attempts of the run that trained and the one that waited: %v, want one at 1 and one at 0", attempts)
	}
}
