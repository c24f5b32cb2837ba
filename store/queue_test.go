package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testSubmit(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	specs := []RunSpec{
		{Hash: "aaaa0001", Seed: 1, Config: `{"seed":1}`},
		{Hash: "aaaa0002", Seed: 2, Config: `{"seed":2}`, MaxAttempts: 5, KeepCheckpoints: true},
	}
	id, runs, err := s.Submit(ctx, ExperimentSpec{Name: "q", Description: "d", YAML: "name: q\n", Dir: "/lab/exp"}, specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ExperimentID != id || runs[0].Dir != "/lab/exp" || runs[0].MaxAttempts != DefaultMaxAttempts ||
		runs[0].KeepCheckpoints || runs[1].MaxAttempts != 5 || !runs[1].KeepCheckpoints || runs[1].Status != StatusQueued {
		t.Fatalf("Submit = %d, %+v", id, runs)
	}
	x, err := s.ExperimentByName(ctx, "q")
	if err != nil || x.Dir != "/lab/exp" || x.YAML != "name: q\n" || x.Counts[StatusQueued] != 2 {
		t.Fatalf("experiment = %+v, %v", x, err)
	}
	// Submitting again keeps the runs and updates their queue settings
	// (not of done runs) and the experiment's directory.
	o := Owner{Host: "h", PID: 1}
	claimAs(o)(t, s, runs[1].ID)
	if err := s.Finish(ctx, runs[1].ID, o, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	specs[0].MaxAttempts, specs[0].KeepCheckpoints = 9, true
	specs[1].MaxAttempts, specs[1].KeepCheckpoints = 9, false
	id2, again, err := s.Submit(ctx, ExperimentSpec{Name: "q", Dir: "/elsewhere"}, specs)
	if err != nil {
		t.Fatal(err)
	}
	if id2 != id || again[0].ID != runs[0].ID || again[0].MaxAttempts != 9 || !again[0].KeepCheckpoints ||
		again[1].MaxAttempts != 5 || !again[1].KeepCheckpoints || again[1].Status != StatusDone || again[0].Dir != "/elsewhere" {
		t.Fatalf("second Submit = %d, %+v", id2, again)
	}
	if _, _, err := s.Submit(ctx, ExperimentSpec{}, specs); err == nil {
		t.Fatal("Submit with an empty name succeeded")
	}
	if _, _, err := s.Submit(ctx, ExperimentSpec{Name: "bad"}, []RunSpec{{Hash: "x", Config: "{"}}); err == nil {
		t.Fatal("Submit of an invalid config succeeded")
	} else if _, err := s.ExperimentByName(ctx, "bad"); err == nil {
		t.Fatal("a failed Submit left its experiment behind")
	}
}

func testClaimNext(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t0 }
	me := Owner{Host: "here", PID: os.Getpid(), Version: "v"}
	dead := deadPID(t)
	a := addExperiment(t, s, "a", 6)
	b := addExperiment(t, s, "b", 2)
	claimAndFinish(StatusDone)(t, s, a[0].ID)
	claimAndFinish(StatusFailed)(t, s, a[1].ID)
	claimAndFinish(StatusInterrupted)(t, s, a[2].ID)
	claimAs(Owner{Host: "here", PID: os.Getpid()})(t, s, a[3].ID) // live, this host
	claimAs(Owner{Host: "here", PID: dead})(t, s, a[4].ID)        // dead pid, this host
	claimAs(Owner{Host: "there", PID: 42})(t, s, a[5].ID)         // other host, heartbeat at t0

	next := func(f QueueFilter, staleAfter time.Duration) ClaimResult {
		t.Helper()
		res, err := s.ClaimNext(ctx, me, f, staleAfter)
		if err != nil {
			t.Fatalf("ClaimNext: %v", err)
		}
		return res
	}
	s.now = func() time.Time { return t0.Add(10 * time.Second) }
	// Only b's queued runs with a filter on b, lowest id first.
	if r := next(QueueFilter{Experiments: []string{"b"}}, time.Minute); !r.Claimed || r.Run.ID != b[0].ID || r.Prev != StatusQueued {
		t.Fatalf("ClaimNext(b) = %+v, want b's first run", r)
	}
	if r := next(QueueFilter{RunIDs: []int64{b[1].ID, a[0].ID}}, time.Minute); !r.Claimed || r.Run.ID != b[1].ID {
		t.Fatalf("ClaimNext(ids) = %+v, want b's second run", r)
	}
	if r := next(QueueFilter{RunIDs: []int64{}}, time.Minute); r.Claimed {
		t.Fatalf("ClaimNext(no ids) claimed run %d", r.Run.ID)
	}
	// Except: a worker's runs too big for it are not claimed, nor counted.
	if r := next(QueueFilter{Experiments: []string{"a"}, Except: []int64{a[2].ID, a[4].ID}}, time.Minute); r.Claimed {
		t.Fatalf("ClaimNext(a except its two claimable runs) claimed run %d", r.Run.ID)
	}
	if c, err := s.Queue(ctx, QueueFilter{Experiments: []string{"a"}, Except: []int64{a[2].ID}}); err != nil || c[StatusInterrupted] != 0 || c[StatusDone] != 1 {
		t.Fatalf("Queue(a except its interrupted run) = %v, %v", c, err)
	}
	// a: the interrupted run, then the dead owner's, then nothing (a[3]
	// is alive here, a[5]'s heartbeat is fresh).
	r := next(QueueFilter{Experiments: []string{"a"}}, time.Minute)
	if !r.Claimed || r.Run.ID != a[2].ID || r.Prev != StatusInterrupted || r.Run.Attempt != 2 {
		t.Fatalf("ClaimNext(a) #1 = %+v, want the interrupted run", r)
	}
	r = next(QueueFilter{Experiments: []string{"a"}}, time.Minute)
	if !r.Claimed || r.Run.ID != a[4].ID || r.Prev != StatusRunning || r.Run.Lost != 1 || r.Run.PID != me.PID {
		t.Fatalf("ClaimNext(a) #2 = %+v, want the dead owner's run, one attempt lost", r)
	}
	if r := next(QueueFilter{Experiments: []string{"a"}}, time.Minute); r.Claimed {
		t.Fatalf("ClaimNext(a) #3 claimed run %d, want none", r.Run.ID)
	}
	counts, err := s.Queue(ctx, QueueFilter{Experiments: []string{"a"}})
	if err != nil || counts[StatusRunning] != 4 || counts[StatusDone] != 1 || counts[StatusFailed] != 1 || counts.Waiting() != 4 {
		t.Fatalf("Queue(a) = %v, %v", counts, err)
	}
	// Once a heartbeat is older than staleAfter by the database's
	// clock, its run is taken; so is ours (a[3]): a heartbeat is a
	// heartbeat, whoever holds it.
	s.now = func() time.Time { return t0.Add(2 * time.Minute) }
	for _, id := range []int64{a[2].ID, a[4].ID} { // ours keep beating
		if err := s.Heartbeat(ctx, id, me); err != nil {
			t.Fatal(err)
		}
	}
	r = next(QueueFilter{Experiments: []string{"a"}}, time.Minute)
	if !r.Claimed || r.Run.ID != a[3].ID || r.Run.Lost != 1 {
		t.Fatalf("ClaimNext after a minute = %+v, want run %d", r, a[3].ID)
	}
	r = next(QueueFilter{Experiments: []string{"a"}}, time.Minute)
	if !r.Claimed || r.Run.ID != a[5].ID || r.Run.Lost != 1 || r.Run.Host != "here" {
		t.Fatalf("ClaimNext after a minute = %+v, want there's run %d", r, a[5].ID)
	}
	// With the heartbeat rule off, an old heartbeat on another host stays.
	c := addExperiment(t, s, "c", 1)
	claimAs(Owner{Host: "there", PID: 42})(t, s, c[0].ID)
	s.now = func() time.Time { return t0.Add(time.Hour) }
	if r := next(QueueFilter{Experiments: []string{"c"}}, 0); r.Claimed {
		t.Fatalf("ClaimNext with staleAfter 0 took run %d", r.Run.ID)
	}
}

// testClaimNextMaxAttempts: a run whose workers keep dying is failed when
// its lost attempts reach max_attempts, and the queue moves on.
func testClaimNextMaxAttempts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t0 }
	id, runs, err := s.Submit(ctx, ExperimentSpec{Name: "m"}, []RunSpec{
		{Hash: "mmm1", Config: `{}`, MaxAttempts: 2},
		{Hash: "mmm2", Config: `{}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = id
	f := QueueFilter{Experiments: []string{"m"}}
	for attempt := 1; attempt <= 2; attempt++ {
		w := Owner{Host: fmt.Sprintf("node%d", attempt), PID: 100 + attempt}
		s.now = func() time.Time { return t0.Add(time.Duration(attempt) * time.Hour) }
		res, err := s.ClaimNext(ctx, w, f, time.Minute)
		if err != nil || !res.Claimed || res.Run.ID != runs[0].ID || res.Run.Attempt != attempt || res.Run.Lost != attempt-1 {
			t.Fatalf("attempt %d: ClaimNext = %+v, %v", attempt, res, err)
		}
		// The second claim takes node1's run over: it says so, and whose.
		wantLost, wantFrom := "", Owner{}
		if attempt == 2 {
			wantLost, wantFrom = "its worker node1:101 stopped heartbeating (last heartbeat 1h0m0s before the claim)", Owner{Host: "node1", PID: 101}
		}
		if res.Lost != wantLost || res.LostFrom != wantFrom || len(res.GaveUp) != 0 {
			t.Fatalf("attempt %d: ClaimNext Lost %q, LostFrom %+v, GaveUp %d; want %q, %+v, 0", attempt, res.Lost, res.LostFrom, len(res.GaveUp), wantLost, wantFrom)
		}
	}
	// node2 dies too: the next claim fails m1 and takes m2.
	s.now = func() time.Time { return t0.Add(3 * time.Hour) }
	res, err := s.ClaimNext(ctx, Owner{Host: "node3", PID: 7}, f, time.Minute)
	if err != nil || !res.Claimed || res.Run.ID != runs[1].ID {
		t.Fatalf("ClaimNext after two lost attempts = %+v, %v; want m2", res, err)
	}
	r, err := s.ResolveRun(ctx, "mmm1")
	if err != nil {
		t.Fatal(err)
	}
	want := "gave up after 2 lost attempts (max_attempts 2); the last: its worker node2:102 stopped heartbeating (last heartbeat 1h0m0s before the claim)"
	if r.Status != StatusFailed || r.Lost != 2 || r.Error != want || !r.Finished.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("m1 = %s, lost %d, error %q, finished %v; want failed, 2, %q", r.Status, r.Lost, r.Error, r.Finished, want)
	}
	if !r.GaveUp() || r.Host != "node2" {
		t.Fatalf("m1: GaveUp() = %v, host %s; want true, still node2's (whose attempt was lost)", r.GaveUp(), r.Host)
	}
	// The claim tells its caller of the run it failed on the way.
	if len(res.GaveUp) != 1 || res.GaveUp[0].ID != runs[0].ID || res.GaveUp[0].Status != StatusFailed || res.GaveUp[0].Error != want {
		t.Fatalf("ClaimNext after two lost attempts: GaveUp = %+v; want m1, failed, %q", res.GaveUp, want)
	}
	if res.Lost != "" || res.Prev != StatusQueued {
		t.Fatalf("ClaimNext took queued m2 with Lost %q, Prev %s; want none, queued", res.Lost, res.Prev)
	}
	// Claim of the one run follows the same rule.
	c := addExperiment(t, s, "c", 1)[0]
	for i := range DefaultMaxAttempts {
		res, err := s.Claim(ctx, c.ID, Owner{Host: "n", PID: 10 + i}, time.Minute)
		if err != nil || !res.Claimed {
			t.Fatalf("Claim %d = %+v, %v", i, res, err)
		}
		if wantTaken := i > 0; (res.Lost != "") != wantTaken || wantTaken && res.LostFrom != (Owner{Host: "n", PID: 10 + i - 1}) {
			t.Fatalf("Claim %d: Lost %q, LostFrom %+v; want a takeover from n:%d: %v", i, res.Lost, res.LostFrom, 10+i-1, wantTaken)
		}
		s.now = func() time.Time { return t0.Add(time.Duration(4+i) * time.Hour) }
	}
	res, err = s.Claim(ctx, c.ID, Owner{Host: "n", PID: 99}, time.Minute)
	if err != nil || res.Claimed || res.Run.Status != StatusFailed || !strings.HasPrefix(res.Reason, "gave up after 3 lost attempts") {
		t.Fatalf("Claim after 3 lost attempts = %+v, %v; want failed", res, err)
	}
	if len(res.GaveUp) != 1 || res.GaveUp[0].ID != c.ID || res.GaveUp[0].Error != res.Reason {
		t.Fatalf("Claim after 3 lost attempts: GaveUp = %+v; want run %d", res.GaveUp, c.ID)
	}
	// Requeue clears the count.
	if err := s.Requeue(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.RunByID(ctx, c.ID); r.Lost != 0 || r.Status != StatusQueued {
		t.Fatalf("after Requeue: %s, lost %d", r.Status, r.Lost)
	}
}

// testClaimNextConcurrent: 6 handles (as 6 processes) take 40 runs from
// one queue at once; every run is taken exactly once and nobody fails.
func testClaimNextConcurrent(t *testing.T) {
	const workers, nRuns = 6, 40
	target := newTarget(t)
	s, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	specs := make([]RunSpec, nRuns)
	for i := range specs {
		specs[i] = RunSpec{Hash: fmt.Sprintf("r%03d", i), Seed: int64(i), Config: `{}`}
	}
	if _, _, err := s.Submit(context.Background(), ExperimentSpec{Name: "race"}, specs); err != nil {
		t.Fatal(err)
	}
	taken := make([]atomic.Int32, nRuns)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			h, err := Open(target)
			if err != nil {
				errs <- err
				return
			}
			defer h.Close()
			o := Owner{Host: fmt.Sprintf("w%d", w), PID: os.Getpid()}
			for {
				res, err := h.ClaimNext(context.Background(), o, QueueFilter{}, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if !res.Claimed {
					return
				}
				taken[res.Run.Seed].Add(1)
				if err := h.Finish(context.Background(), res.Run.ID, o, StatusDone, ""); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range taken {
		if n := taken[i].Load(); n != 1 {
			t.Errorf("run %d taken %d times, want 1", i, n)
		}
	}
}

// TestRunGaveUp: a failed run whose lost attempts reached max_attempts was
// failed by a claim that gave up on it, which wrote its end (Finished)
// after its dead owner's last heartbeat; one with fewer by its worker,
// whose end writes its heartbeat and its end as one. Who wrote the end
// decides, not max_attempts, which a rerun may have changed since: a run
// its worker failed after a lost attempt, whose max_attempts a rerun
// lowered to 1 meanwhile, read as given up (GaveUp compared lost with
// max_attempts).
func TestRunGaveUp(t *testing.T) {
	end := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status         Status
		lost, attempts int
		byWorker       bool // its worker ended it: heartbeat = finished
		want           bool
	}{
		{StatusFailed, 2, 2, false, true},
		{StatusFailed, 3, 3, false, true},
		{StatusFailed, 1, 2, true, false},
		{StatusFailed, 0, 3, true, false},
		{StatusFailed, 1, 0, false, true}, // max_attempts 0 gives up at the first lost attempt, as Claim does
		{StatusRunning, 2, 2, false, false},
		{StatusDone, 2, 2, true, false},
		{StatusFailed, 1, 1, true, false},  // max_attempts lowered to 1 while its worker held it, which then failed it
		{StatusFailed, 2, 2, true, false},  // max_attempts lowered to 2 so
		{StatusFailed, 1, 3, false, true},  // given up on at max_attempts 1, raised to 3 by a rerun since
		{StatusFailed, 0, 3, false, false}, // no lost attempt (a build before they were counted)
	} {
		r := Run{Status: tc.status, Lost: tc.lost, MaxAttempts: tc.attempts, Heartbeat: end.Add(-time.Minute), Finished: end}
		if tc.byWorker {
			r.Heartbeat = end
		}
		if got := r.GaveUp(); got != tc.want {
			t.Errorf("%s, lost %d of max_attempts %d, ended by its worker %v: GaveUp() = %v, want %v", tc.status, tc.lost, tc.attempts, tc.byWorker, got, tc.want)
		}
	}
}

// testGaveUpWhoEnded: Run.GaveUp as the store writes runs, by the
// database's clock (PostgreSQL's now()): a run its worker failed after a
// lost attempt is not given up on, although a rerun lowered its
// max_attempts to that count while the worker held it (it read as given
// up: "failed by another process, which gave up on it"); a run a claim
// gave up on — the moment its owner's pid was gone — stays given up on
// after a rerun raised its max_attempts.
func testGaveUpWhoEnded(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	dead := Owner{Host: "here", PID: 11}
	s.alive = func(pid int) bool { return pid != dead.PID }
	worker := Owner{Host: "here", PID: 12}
	spec := func(lowered, raised int) []RunSpec {
		return []RunSpec{{Hash: "ggg1", Config: `{}`, MaxAttempts: lowered}, {Hash: "ggg2", Config: `{}`, MaxAttempts: raised}}
	}
	_, runs, err := s.Submit(ctx, ExperimentSpec{Name: "g"}, spec(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	claim := func(id int64, o Owner) ClaimResult {
		t.Helper()
		res, err := s.Claim(ctx, id, o, 0)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// ggg1: its first worker dies; the next takes it over, its attempt
	// lost, and then fails it itself.
	if res := claim(runs[0].ID, dead); !res.Claimed {
		t.Fatalf("first claim of ggg1: %+v", res)
	}
	if res := claim(runs[0].ID, worker); !res.Claimed || res.Run.Lost != 1 {
		t.Fatalf("takeover of ggg1: %+v, want claimed, 1 lost", res)
	}
	// ggg2 (max_attempts 1): its worker dies; the next claim gives up.
	if res := claim(runs[1].ID, dead); !res.Claimed {
		t.Fatalf("first claim of ggg2: %+v", res)
	}
	if res := claim(runs[1].ID, worker); res.Claimed || len(res.GaveUp) != 1 {
		t.Fatalf("claim of ggg2 after its worker died: %+v, want given up on", res)
	}
	// A rerun lowers ggg1's max_attempts to its lost attempts while its
	// worker holds it, and raises ggg2's.
	if _, _, err := s.Submit(ctx, ExperimentSpec{Name: "g"}, spec(1, 3)); err != nil {
		t.Fatal(err)
	}
	r, err := s.FinishRun(ctx, runs[0].ID, worker, Ending{Status: StatusFailed, Error: "step 3: training loss is +Inf"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusFailed || r.Lost != 1 || r.MaxAttempts != 1 || r.GaveUp() {
		t.Errorf("ggg1 failed by its worker: %s, lost %d of max_attempts %d, heartbeat %v, finished %v: GaveUp() = %v, want failed, 1 of 1, false",
			r.Status, r.Lost, r.MaxAttempts, r.Heartbeat, r.Finished, r.GaveUp())
	}
	r, err = s.RunByID(ctx, runs[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusFailed || r.Lost != 1 || r.MaxAttempts != 3 || !r.GaveUp() || r.PID != dead.PID {
		t.Errorf("ggg2 given up on: %s, lost %d of max_attempts %d, pid %d, heartbeat %v, finished %v: GaveUp() = %v, want failed, 1 of 3, %d, true",
			r.Status, r.Lost, r.MaxAttempts, r.PID, r.Heartbeat, r.Finished, r.GaveUp(), dead.PID)
	}
}
