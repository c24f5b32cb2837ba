package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func testPutExperimentUpserts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id1, err := s.PutExperiment(ctx, "scan", "first", "a: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.PutExperiment(ctx, "scan", "second", "a: 2\n")
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 {
		t.Fatalf("PutExperiment ids = %d, %d; want the same id for the same name", id1, id2)
	}
	e, err := s.ExperimentByName(ctx, "scan")
	if err != nil {
		t.Fatal(err)
	}
	if e.Description != "second" || e.YAML != "a: 2\n" || e.Created.IsZero() || e.Updated.Before(e.Created) {
		t.Fatalf("ExperimentByName = %+v, want the second description and yaml", e)
	}
	if _, err := s.ExperimentByName(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ExperimentByName(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := s.PutExperiment(ctx, "", "", ""); err == nil {
		t.Fatalf("PutExperiment with an empty name succeeded")
	}
}

func testEnsureRuns(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id, err := s.PutExperiment(ctx, "e", "", "")
	if err != nil {
		t.Fatal(err)
	}
	specs := []RunSpec{
		{Hash: "aaaa1111", Seed: 1, Config: `{"seed":1,"model":{"attention":{"name":"dot"},"bidirectional":true,"sizes":[64,32]},"note":null}`, Point: `{"model.attention.name":"dot"}`},
		{Hash: "bbbb2222", Seed: 2, Config: `{"seed":2}`, Params: []Param{{"seed", 2}, {"train.lr", 3e-4}, {"task.name", "scan"}, {"x.nan", math.NaN()}}},
	}
	runs, err := s.EnsureRuns(ctx, id, specs)
	if err != nil {
		t.Fatalf("EnsureRuns: %v", err)
	}
	if len(runs) != 2 || runs[0].Hash != "aaaa1111" || runs[1].Hash != "bbbb2222" {
		t.Fatalf("EnsureRuns returned %+v, want the two runs in order", runs)
	}
	for _, r := range runs {
		if r.Status != StatusQueued || r.Attempt != 0 || r.Experiment != "e" || r.Created.IsZero() {
			t.Fatalf("new run = %+v, want queued, attempt 0, experiment e", r)
		}
	}
	if runs[1].Point != "{}" {
		t.Fatalf("empty point stored as %q, want {}", runs[1].Point)
	}

	params, err := s.Params(ctx, []int64{runs[0].ID, runs[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		run  int
		key  string
		want Value
	}{
		{0, "seed", NumberValue(1)},
		{0, "model.attention.name", TextValue("dot")},
		{0, "model.bidirectional", BoolValue(true)},
		{0, "model.sizes", TextValue("[64,32]")},
		{0, "note", Value{Kind: KindNull}},
		{1, "seed", NumberValue(2)},
		{1, "train.lr", NumberValue(3e-4)},
		{1, "task.name", TextValue("scan")},
		{1, "x.nan", NumberValue(math.NaN())},
	} {
		got, ok := params[runs[tc.run].ID][tc.key]
		if !ok || !got.Equal(tc.want) {
			t.Errorf("param %s of run %d = %v (present %v), want %v", tc.key, tc.run, got, ok, tc.want)
		}
	}
	if n := len(params[runs[1].ID]); n != 4 {
		t.Errorf("run 1 has %d params, want the 4 given (Params overrides the config)", n)
	}

	// A second call inserts only what is missing and keeps existing state.
	owner := Owner{Host: "h", PID: os.Getpid()}
	if _, err := s.Claim(ctx, runs[0].ID, owner, 0); err != nil {
		t.Fatal(err)
	}
	specs = append(specs, RunSpec{Hash: "cccc3333", Seed: 3, Config: `{}`})
	again, err := s.EnsureRuns(ctx, id, specs)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 3 || again[0].ID != runs[0].ID || again[0].Status != StatusRunning || again[2].Status != StatusQueued {
		t.Fatalf("second EnsureRuns = %+v, want the same first run (running) and a new queued one", again)
	}

	for _, tc := range []struct {
		name  string
		expID int64
		spec  RunSpec
		want  error
	}{
		{"unknown experiment", 999, RunSpec{Hash: "x", Config: `{}`}, ErrNotFound},
		{"bad config", id, RunSpec{Hash: "x", Config: `{`}, nil},
		{"bad point", id, RunSpec{Hash: "x", Config: `{}`, Point: `[`}, nil},
		{"empty hash", id, RunSpec{Config: `{}`}, nil},
		{"bad param type", id, RunSpec{Hash: "x", Config: `{}`, Params: []Param{{"k", []int{1}}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.EnsureRuns(ctx, tc.expID, []RunSpec{tc.spec})
			if err == nil || !strings.HasPrefix(err.Error(), "store: ensure runs: ") {
				t.Fatalf("EnsureRuns error = %v, want a store: ensure runs error", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("EnsureRuns error = %v, want it to wrap %v", err, tc.want)
			}
		})
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	pid := cmd.Process.Pid
	if pidAlive(pid) {
		t.Skipf("pid %d of an exited process is already reused", pid)
	}
	return pid
}

func TestPIDAlive(t *testing.T) {
	if !pidAlive(os.Getpid()) {
		t.Fatalf("pidAlive(own pid) = false")
	}
	if pid := deadPID(t); pidAlive(pid) {
		t.Fatalf("pidAlive(%d) = true for an exited process", pid)
	}
	if pidAlive(0) || pidAlive(-1) {
		t.Fatalf("pidAlive(0 or -1) = true")
	}
}

func testClaim(t *testing.T) {
	me := Owner{Host: "here", PID: os.Getpid(), Version: "v1", GoVersion: "go1.26"}
	dead := deadPID(t)
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	const staleAfter = time.Minute

	for _, tc := range []struct {
		name        string
		setup       func(t *testing.T, s *Store, id int64) // brings the run into its state at t0
		at          time.Duration                          // when Claim is called, after t0
		staleAfter  time.Duration
		wantClaimed bool
		wantPrev    Status
		wantAttempt int
		wantReason  string
	}{
		{
			name:        "queued is claimed",
			wantClaimed: true, wantPrev: StatusQueued, wantAttempt: 1,
		},
		{
			name:        "done is not claimed",
			setup:       claimAndFinish(StatusDone),
			wantClaimed: false, wantPrev: StatusDone, wantAttempt: 1, wantReason: "run is done",
		},
		{
			name:        "failed is not claimed",
			setup:       claimAndFinish(StatusFailed),
			wantClaimed: false, wantPrev: StatusFailed, wantAttempt: 1, wantReason: "run is failed",
		},
		{
			name:        "interrupted is claimed again",
			setup:       claimAndFinish(StatusInterrupted),
			wantClaimed: true, wantPrev: StatusInterrupted, wantAttempt: 2,
		},
		{
			name:  "live owner on this host is not claimed",
			setup: claimAs(Owner{Host: "here", PID: os.Getpid()}),
			at:    10 * time.Second, staleAfter: staleAfter,
			wantClaimed: false, wantPrev: StatusRunning, wantAttempt: 1, wantReason: "running on here:",
		},
		{
			name:  "owner on another host with a fresh heartbeat is not claimed",
			setup: claimAs(Owner{Host: "there", PID: dead}),
			at:    10 * time.Second, staleAfter: staleAfter,
			wantClaimed: false, wantPrev: StatusRunning, wantAttempt: 1, wantReason: "running on there:",
		},
		{
			name:  "dead pid on the same host is reclaimed",
			setup: claimAs(Owner{Host: "here", PID: dead}),
			at:    time.Second, staleAfter: staleAfter,
			wantClaimed: true, wantPrev: StatusRunning, wantAttempt: 2,
		},
		{
			name:  "dead pid is reclaimed even with heartbeat staleness off",
			setup: claimAs(Owner{Host: "here", PID: dead}),
			at:    time.Second, staleAfter: 0,
			wantClaimed: true, wantPrev: StatusRunning, wantAttempt: 2,
		},
		{
			name:  "stale heartbeat is reclaimed",
			setup: claimAs(Owner{Host: "there", PID: 12345}),
			at:    2 * time.Minute, staleAfter: staleAfter,
			wantClaimed: true, wantPrev: StatusRunning, wantAttempt: 2,
		},
		{
			// Also the case of a dead owner whose pid the system gave to
			// another process: the pid looks alive, the heartbeat decides.
			name:  "stale heartbeat of a live owner on this host is reclaimed",
			setup: claimAs(Owner{Host: "here", PID: os.Getpid()}),
			at:    2 * time.Minute, staleAfter: staleAfter,
			wantClaimed: true, wantPrev: StatusRunning, wantAttempt: 2,
		},
		{
			name:  "old heartbeat with staleness off is not reclaimed",
			setup: claimAs(Owner{Host: "there", PID: 12345}),
			at:    time.Hour, staleAfter: 0,
			wantClaimed: false, wantPrev: StatusRunning, wantAttempt: 1, wantReason: "running on there:12345 (heartbeat 1h0m0s ago)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			s.now = func() time.Time { return t0 }
			id := addExperiment(t, s, "e", 1)[0].ID
			if tc.setup != nil {
				tc.setup(t, s, id)
			}
			s.now = func() time.Time { return t0.Add(tc.at) }
			res, err := s.Claim(context.Background(), id, me, tc.staleAfter)
			if err != nil {
				t.Fatalf("Claim: %v", err)
			}
			if res.Claimed != tc.wantClaimed || res.Prev != tc.wantPrev || res.Run.Attempt != tc.wantAttempt {
				t.Fatalf("Claim = claimed %v, prev %s, attempt %d; want %v, %s, %d (reason %q)",
					res.Claimed, res.Prev, res.Run.Attempt, tc.wantClaimed, tc.wantPrev, tc.wantAttempt, res.Reason)
			}
			if !strings.HasPrefix(res.Reason, tc.wantReason) || (tc.wantClaimed && res.Reason != "") {
				t.Fatalf("Claim reason = %q, want prefix %q", res.Reason, tc.wantReason)
			}
			if !tc.wantClaimed {
				return
			}
			r := res.Run
			now := t0.Add(tc.at)
			if r.Status != StatusRunning || r.Host != me.Host || r.PID != me.PID || r.Version != "v1" || r.GoVersion != "go1.26" ||
				!r.Heartbeat.Equal(now) || !r.Started.Equal(now) || !r.Finished.IsZero() || r.Error != "" {
				t.Fatalf("claimed run = %+v, want running under %v since %v, finished and error cleared", r, me, now)
			}
			stored, err := s.ResolveRun(context.Background(), r.Hash)
			if err != nil || stored != r {
				t.Fatalf("stored run = %+v (%v), want %+v", stored, err, r)
			}
		})
	}

	t.Run("missing run", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Claim(context.Background(), 42, me, 0)
		if !errors.Is(err, ErrNotFound) || err.Error() != "store: claim run 42: run 42: not found" {
			t.Fatalf("Claim(42) error = %v, want store: claim run 42: run 42: not found", err)
		}
	})
}

func claimAs(o Owner) func(*testing.T, *Store, int64) {
	return func(t *testing.T, s *Store, id int64) {
		t.Helper()
		res, err := s.Claim(context.Background(), id, o, 0)
		if err != nil || !res.Claimed {
			t.Fatalf("setup Claim = %+v, %v", res, err)
		}
	}
}

func claimAndFinish(st Status) func(*testing.T, *Store, int64) {
	return func(t *testing.T, s *Store, id int64) {
		t.Helper()
		o := Owner{Host: "elsewhere", PID: 7}
		claimAs(o)(t, s, id)
		if err := s.Finish(context.Background(), id, o, st, "because"); err != nil {
			t.Fatalf("setup Finish: %v", err)
		}
	}
}

func testHeartbeatAndFinishNeedTheOwner(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t0 }
	id := addExperiment(t, s, "e", 1)[0].ID
	a := Owner{Host: "a", PID: 1}
	b := Owner{Host: "b", PID: 2}

	if err := s.Heartbeat(ctx, id, a); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Heartbeat on a queued run: %v, want ErrNotOwner", err)
	}
	claimAs(a)(t, s, id)
	s.now = func() time.Time { return t0.Add(30 * time.Second) }
	if err := s.Heartbeat(ctx, id, a); err != nil {
		t.Fatalf("Heartbeat(owner): %v", err)
	}
	if r, _ := s.ResolveRun(ctx, "e0000"); !r.Heartbeat.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("heartbeat = %v, want %v", r.Heartbeat, t0.Add(30*time.Second))
	}

	// b reclaims the run once a's heartbeat is stale.
	s.now = func() time.Time { return t0.Add(5 * time.Minute) }
	if res, err := s.Claim(ctx, id, b, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("Claim by b = %+v, %v; want claimed", res, err)
	}
	err := s.Heartbeat(ctx, id, a)
	if !errors.Is(err, ErrNotOwner) || err.Error() != "store: heartbeat run 1: run is held by b:2, not a:1: run not held by this owner" {
		t.Fatalf("Heartbeat by the old owner = %v, want ErrNotOwner naming b:2", err)
	}
	if err := s.Finish(ctx, id, a, StatusDone, ""); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Finish by the old owner = %v, want ErrNotOwner", err)
	}
	if err := s.Finish(ctx, id, b, StatusRunning, ""); err == nil {
		t.Fatalf("Finish with status running succeeded")
	}
	s.now = func() time.Time { return t0.Add(6 * time.Minute) }
	if err := s.Finish(ctx, id, b, StatusFailed, "loss is NaN"); err != nil {
		t.Fatalf("Finish(b): %v", err)
	}
	r, _ := s.RunByID(ctx, id)
	if r.Status != StatusFailed || r.Error != "loss is NaN" || !r.Finished.Equal(t0.Add(6*time.Minute)) || r.Attempt != 2 {
		t.Fatalf("finished run = %+v, want failed with the message at t0+6m, attempt 2", r)
	}
	if err := s.Finish(ctx, id, b, StatusDone, ""); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("second Finish = %v, want ErrNotOwner (run is failed)", err)
	}

	// Requeue lets a failed run be claimed again.
	if err := s.Requeue(ctx, id); err != nil {
		t.Fatalf("Requeue: %v", err)
	}
	res, err := s.Claim(ctx, id, a, time.Minute)
	if err != nil || !res.Claimed || res.Prev != StatusQueued || res.Run.Attempt != 3 || res.Run.Error != "" {
		t.Fatalf("Claim after Requeue = %+v, %v; want claimed from queued, attempt 3", res, err)
	}
	if err := s.Requeue(ctx, id); err == nil || !strings.Contains(err.Error(), "running on a:1") {
		t.Fatalf("Requeue of a running run = %v, want an error", err)
	}
	if err := s.Requeue(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Requeue(99) = %v, want ErrNotFound", err)
	}
	// RequeueFailed leaves a run that is not failed (here running, as
	// one claimed since a retry read it failed) as it is.
	if n, err := s.RequeueFailed(ctx, id); n != 0 || err != nil {
		t.Fatalf("RequeueFailed of a running run = %v, %v; want 0, nil", n, err)
	}
	if r, err := s.RunByID(ctx, id); err != nil || r.Status != StatusRunning || r.Host != "a" {
		t.Fatalf("after RequeueFailed of a running run: %+v, %v; want it running on a", r, err)
	}
	if err := s.Finish(ctx, id, a, StatusFailed, "again"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueFailed(ctx, id); n != 1 || err != nil {
		t.Fatalf("RequeueFailed of a failed run = %v, %v; want 1", n, err)
	}
	if r, err := s.RunByID(ctx, id); err != nil || r.Status != StatusQueued || r.Error != "" {
		t.Fatalf("after RequeueFailed: %+v, %v; want queued without its error", r, err)
	}
	if n, err := s.RequeueFailed(ctx, 99); n != 0 || err != nil {
		t.Fatalf("RequeueFailed(99) = %d, %v; want 0, nil (an unknown run is skipped)", n, err)
	}
	// Many at once, in one transaction: the failed ones are requeued, the
	// others left; one removed since the caller read it (here unknown) is
	// skipped and does not keep the others failed.
	if res, err := s.Claim(ctx, id, a, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("Claim = %+v, %v", res, err)
	}
	if err := s.Finish(ctx, id, a, StatusFailed, "again"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueFailed(ctx, 99, id); n != 1 || err != nil {
		t.Fatalf("RequeueFailed(99, %d) = %d, %v; want 1, nil", id, n, err)
	}
	if r, _ := s.RunByID(ctx, id); r.Status != StatusQueued {
		t.Fatalf("after RequeueFailed(99, %d), the run is %s, want queued", id, r.Status)
	}
	if res, err := s.Claim(ctx, id, a, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("Claim = %+v, %v", res, err)
	}
	if err := s.Finish(ctx, id, a, StatusFailed, "again"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RequeueFailed(ctx, id, id); n != 1 || err != nil {
		t.Fatalf("RequeueFailed(%d, %d) = %d, %v; want 1 (the second finds it queued)", id, id, n, err)
	}
	if n, err := s.RequeueFailed(ctx); n != 0 || err != nil {
		t.Fatalf("RequeueFailed() = %d, %v", n, err)
	}
}

func testRunRef(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id, _ := s.PutExperiment(ctx, "e", "", "")
	id2, _ := s.PutExperiment(ctx, "f", "", "")
	if _, err := s.EnsureRuns(ctx, id, []RunSpec{
		{Hash: "abcd1234", Config: `{}`},
		{Hash: "abcd5678", Config: `{}`},
		{Hash: "beef0001", Config: `{}`},
		{Hash: "0003aaaa", Config: `{}`},
		{Hash: "0004aaaa", Config: `{}`},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureRuns(ctx, id2, []RunSpec{{Hash: "beef0001", Config: `{}`}, {Hash: "cafe0001", Config: `{}`}}); err != nil {
		t.Fatal(err)
	}
	// Run 1234, then run 1235 whose hash starts with 1234.
	if _, err := s.db.Exec(`INSERT INTO runs (id, experiment_id, hash, seed, config, created) VALUES (1234, ?, 'ffff0000', 0, '{}', ?)`,
		id, s.d.timeArg(time.Now())); err != nil {
		t.Fatal(err)
	}
	setNextRunID(t, s, 1235)
	if _, err := s.EnsureRuns(ctx, id, []RunSpec{{Hash: "1234abcd", Config: `{}`}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref     string
		wantID  int64
		wantErr string
		is      error
	}{
		{ref: "1", wantID: 1},
		{ref: " 3 ", wantID: 3},
		{ref: "abcd1", wantID: 1},
		{ref: "abcd5678", wantID: 2},
		{ref: "cafe", wantID: 7},
		{ref: "0003", wantID: 4},    // a leading zero: a hash prefix, not run 3
		{ref: "1234", wantID: 1234}, // an id wins over a hash prefix of the same digits (issue 10)
		{ref: "1234a", wantID: 1235},
		{ref: "99", wantErr: "store: no run with id 99: not found", is: ErrNotFound},
		{ref: "abcd", wantErr: `store: hash prefix "abcd" matches several runs (run 1 e/abcd1234, run 2 e/abcd5678); give more characters, the run id or its name: ambiguous run reference`, is: ErrAmbiguous},
		{ref: "beef", wantErr: `store: hash prefix "beef" matches several runs (run 3 e/beef0001, run 6 f/beef0001); give more characters, the run id or its name: ambiguous run reference`, is: ErrAmbiguous},
		{ref: "fffe", wantErr: `store: no run with hash prefix "fffe": not found`, is: ErrNotFound},
		{ref: "ab", wantErr: `store: run "ab": give a run id, a run name or at least 4 characters of its hash`, is: ErrBadRef},
		{ref: "", wantErr: "store: empty run reference", is: ErrBadRef},
		{ref: "ab%d", wantErr: `store: no run with hash prefix "ab%d": not found`, is: ErrNotFound},
		// EXPERIMENT/HASH: what tells apart runs of one name in two versions.
		{ref: "f/beef", wantID: 6},
		{ref: "e/beef0001", wantID: 3},
		{ref: "e/abcd", wantErr: `store: e/abcd matches several runs (run 1 e/abcd1234, run 2 e/abcd5678); give more characters of the hash: ambiguous run reference`, is: ErrAmbiguous},
		{ref: "f/abcd", wantErr: `store: no run f/abcd: experiment "f" has no run whose hash starts so: not found`, is: ErrNotFound},
		{ref: "e/abc", wantErr: `store: run name "e/abc": want EXPERIMENT/POINT/seed=N, EXPERIMENT/seed=N or EXPERIMENT/HASH`, is: ErrBadRef},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := s.ResolveRun(ctx, tc.ref)
			if tc.wantErr == "" {
				if err != nil || r.ID != tc.wantID {
					t.Fatalf("Run(%q) = run %d, %v; want run %d", tc.ref, r.ID, err, tc.wantID)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Run(%q) error = %v, want %q", tc.ref, err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Run(%q) error does not wrap %v", tc.ref, tc.is)
			}
		})
	}
}

// testRunByIDBeatsHashPrefix is issue 10's case: run 1000 and a run whose
// hash begins with 1000 are each reached unambiguously.
func testRunByIDBeatsHashPrefix(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id, _ := s.PutExperiment(ctx, "e", "", "")
	if _, err := s.db.Exec(`INSERT INTO runs (id, experiment_id, hash, seed, config, created) VALUES (1000, ?, 'ffff0000', 0, '{}', ?)`,
		id, s.d.timeArg(time.Now())); err != nil {
		t.Fatal(err)
	}
	setNextRunID(t, s, 1001)
	other, err := s.EnsureRuns(ctx, id, []RunSpec{{Hash: "1000abcd12345678", Config: `{}`, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]int64{"1000": 1000, "ffff": 1000, "1000a": other[0].ID, "1000abcd12345678": other[0].ID, "e/seed=1": other[0].ID} {
		if r, err := s.ResolveRun(ctx, ref); err != nil || r.ID != want {
			t.Errorf("ResolveRun(%q) = run %d, %v; want run %d", ref, r.ID, err, want)
		}
	}
	if r, err := s.RunByID(ctx, 1000); err != nil || r.Hash != "ffff0000" {
		t.Errorf("RunByID(1000) = %+v, %v; want the run with hash ffff0000", r, err)
	}
	if _, err := s.RunByID(ctx, 7); err == nil || err.Error() != "store: no run with id 7: not found" || !errors.Is(err, ErrNotFound) {
		t.Errorf("RunByID(7) error = %v, want not found", err)
	}
}

// testRunNames checks Run.Name and that ResolveRun finds each run by it.
func testRunNames(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id, _ := s.PutExperiment(ctx, "quick", "", "")
	runs, err := s.EnsureRuns(ctx, id, []RunSpec{
		{Hash: "h1", Seed: 1, Config: `{}`, Point: `{"model.attention.name":"additive"}`},
		{Hash: "h2", Seed: 2, Config: `{}`, Point: `{"model.attention.name":"additive"}`},
		{Hash: "h3", Seed: 1, Config: `{}`, Point: `{"model.attention.name":"none"}`},
		{Hash: "h4", Seed: 1, Config: `{}`, Point: `{"variant":"small","train.optimizer.lr":0.001,"model.embed":16,"task.path":"data/a b.tsv","x":[1,2],"y":true}`},
		{Hash: "h5", Seed: 3, Config: `{}`},
		// The file edited: same point and seed as h1 under another hash.
		{Hash: "h6", Seed: 1, Config: `{"train":{"steps":9}}`, Point: `{"model.attention.name":"additive"}`},
		// A variant that swaps a plugin block: its name, not its JSON; a
		// block with parameters stays JSON (two such blocks may share a name).
		{Hash: "h7", Seed: 1, Config: `{}`, Point: `{"variant":"softmax","model.encoder.attention":{"name":"scaled-dot"}}`},
		{Hash: "h8", Seed: 1, Config: `{}`, Point: `{"variant":"mh8","model.encoder.attention":{"name":"multi-head","heads":8}}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"quick/additive/seed=1", "quick/additive/seed=2", "quick/none/seed=1",
		"quick/small,16,data/a b.tsv,0.001,[1,2],true/seed=1", "quick/seed=3", "quick/additive/seed=1",
		"quick/softmax,scaled-dot/seed=1", `quick/mh8,{"name":"multi-head","heads":8}/seed=1`}
	for i, r := range runs {
		if got := r.Name(); got != want[i] {
			t.Errorf("run %s: Name() = %q, want %q", r.Hash, got, want[i])
		}
	}
	for _, i := range []int{1, 2, 3, 4, 6} {
		if r, err := s.ResolveRun(ctx, " "+want[i]+" "); err != nil || r.ID != runs[i].ID {
			t.Errorf("ResolveRun(%q) = run %d, %v; want run %d", want[i], r.ID, err, runs[i].ID)
		}
	}
	for _, tc := range []struct {
		ref, want string
		is        error
	}{
		{"quick/additive/seed=1", "store: run name quick/additive/seed=1 is shared by runs of different versions of the experiment (run 1 quick/h1, run 6 quick/h6); give the run id or EXPERIMENT/HASH as listed: ambiguous run reference", ErrAmbiguous},
		{"quick/addtive/seed=1", "store: no run named quick/addtive/seed=1 (with seed 1: quick/additive/seed=1, quick/none/seed=1, quick/small,16,data/a b.tsv,0.001,[1,2],true/seed=1, quick/softmax,scaled-dot/seed=1, quick/mh8,{\"name\":\"multi-head\",\"heads\":8}/seed=1): not found", ErrNotFound},
		{"quick/additive/seed=7", "store: no run named quick/additive/seed=7: experiment quick has no run with seed 7: not found", ErrNotFound},
		{"slow/additive/seed=1", `store: no run named slow/additive/seed=1: no experiment "slow": not found`, ErrNotFound},
		{"quick/additive", `store: run name "quick/additive": want EXPERIMENT/POINT/seed=N, EXPERIMENT/seed=N or EXPERIMENT/HASH`, ErrBadRef},
		{"quick/additive/seed=x", `store: run name "quick/additive/seed=x": want EXPERIMENT/POINT/seed=N, EXPERIMENT/seed=N or EXPERIMENT/HASH`, ErrBadRef},
		{"/seed=1", `store: run name "/seed=1": want EXPERIMENT/POINT/seed=N, EXPERIMENT/seed=N or EXPERIMENT/HASH`, ErrBadRef},
	} {
		_, err := s.ResolveRun(ctx, tc.ref)
		if err == nil || err.Error() != tc.want || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("ResolveRun(%q) error = %v\nwant %q", tc.ref, err, tc.want)
		}
	}
}

func testRunsFilter(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	addExperiment(t, s, "b", 2)
	a := addExperiment(t, s, "a", 3)
	claimAs(Owner{Host: "h", PID: 1})(t, s, a[1].ID)

	for _, tc := range []struct {
		name    string
		f       RunFilter
		want    []string
		wantErr string
	}{
		{name: "all, by experiment then id", want: []string{"a0000", "a0001", "a0002", "b0000", "b0001"}},
		{name: "one experiment", f: RunFilter{Experiments: []string{"b"}}, want: []string{"b0000", "b0001"}},
		{name: "status", f: RunFilter{Status: StatusRunning}, want: []string{"a0001"}},
		{name: "experiment and status", f: RunFilter{Experiments: []string{"b"}, Status: StatusRunning}},
		{name: "ids", f: RunFilter{IDs: []int64{a[1].ID, 1, 99}}, want: []string{"a0001", "b0000"}},
		{name: "ids and experiment", f: RunFilter{IDs: []int64{a[1].ID, 1}, Experiments: []string{"b"}}, want: []string{"b0000"}},
		{name: "unknown experiment", f: RunFilter{Experiments: []string{"a", "zz", "yy"}}, wantErr: `store: experiment "zz", "yy": not found`},
		{name: "unknown status", f: RunFilter{Status: "finished"}, wantErr: `store: list runs: unknown status "finished" (known: queued, running, done, failed, interrupted)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := s.Runs(ctx, tc.f)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Runs error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hashes(runs); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("Runs = %v, want %v", got, tc.want)
			}
		})
	}

	exps, err := s.Experiments(ctx)
	if err != nil || len(exps) != 2 || exps[0].Name != "a" || exps[0].Counts[StatusQueued] != 2 || exps[0].Counts[StatusRunning] != 1 || exps[1].Counts[StatusQueued] != 2 {
		t.Fatalf("Experiments = %+v, %v; want a (2 queued, 1 running) and b (2 queued)", exps, err)
	}
}

func hashes(runs []Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Hash)
	}
	return out
}

func testInvalidArguments(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	addExperiment(t, s, "e", 1)
	if _, err := s.ExperimentByName(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("ExperimentByName(\"\") = %v, want ErrNotFound", err)
	}
	if _, err := s.Runs(ctx, RunFilter{Where: &Cond{}}); err == nil {
		t.Errorf("Runs with a zero Cond succeeded")
	}
	if _, err := s.Runs(ctx, RunFilter{Where: &Cond{op: opAnd}}); err == nil {
		t.Errorf("Runs with an empty and succeeded")
	}
	for _, o := range []Owner{{}, {Host: "h"}, {PID: 3}} {
		if _, err := s.Claim(ctx, 1, o, 0); err == nil || !strings.Contains(err.Error(), "has no host or no pid") {
			t.Errorf("Claim with owner %+v = %v, want an error", o, err)
		}
	}
	if _, err := s.Claim(ctx, 1, CurrentOwner("test"), 0); err != nil {
		t.Errorf("Claim with CurrentOwner: %v", err)
	}
}

// testFinishRunIsOneTransaction: FinishRun writes the ending, the summaries
// and the dropped artifacts together, or nothing: a stale owner's ending
// leaves the run, its summaries and its checkpoint as the new owner has
// them.
func testFinishRunIsOneTransaction(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t0 }
	id := addExperiment(t, s, "e", 1)[0].ID
	a, b := Owner{Host: "a", PID: 1}, Owner{Host: "b", PID: 2}
	claimAs(a)(t, s, id)
	for _, kind := range []string{"checkpoint", "model"} {
		if err := s.PutArtifact(ctx, id, kind, kind+".bin", []byte(kind)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutSummaries(ctx, id, map[string]float64{"test/loss": 9}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0.Add(5 * time.Minute) }
	if res, err := s.Claim(ctx, id, b, time.Minute); err != nil || !res.Claimed {
		t.Fatalf("Claim by b = %+v, %v; want claimed", res, err)
	}
	check := func(when string, status Status, sums map[string]float64, kinds ...string) {
		t.Helper()
		r, err := s.RunByID(ctx, id)
		if err != nil || r.Status != status {
			t.Fatalf("%s: run %+v, %v; want %s", when, r, err, status)
		}
		all, err := s.Summaries(ctx, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		if d := sameSummaries(all[id], sums); d != "" {
			t.Errorf("%s: summaries %v, want %v", when, all[id], sums)
		}
		infos, err := s.Artifacts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, i := range infos {
			got = append(got, i.Kind)
		}
		if !slices.Equal(got, kinds) {
			t.Errorf("%s: artifact kinds %v, want %v", when, got, kinds)
		}
	}
	end := Ending{Status: StatusDone, Summaries: map[string]float64{"test/loss": 1, "test/bleu": 50}, DropKinds: []string{"checkpoint"}}
	if _, err := s.FinishRun(ctx, id, a, end); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("FinishRun by the stale owner = %v, want ErrNotOwner", err)
	}
	check("after the stale owner's FinishRun", StatusRunning, map[string]float64{"test/loss": 9}, "checkpoint", "model")

	many := map[string]float64{"test/loss": 2, "test/ppl": math.NaN(), "test/x": math.Inf(1)}
	for i := range 300 { // more than one INSERT carries
		many[fmt.Sprintf("test/k%03d", i)] = float64(i)
	}
	r, err := s.FinishRun(ctx, id, b, Ending{Status: StatusDone, Summaries: many, DropKinds: []string{"checkpoint"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != id || r.Status != StatusDone || r.Host != "b" || !r.Finished.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("FinishRun returned %+v, want run %d done by b at t0+5m", r, id)
	}
	check("after FinishRun", StatusDone, many, "model")
	if _, err := s.FinishRun(ctx, id, b, Ending{Status: StatusRunning}); err == nil {
		t.Error("FinishRun with status running succeeded")
	}
}

// sameSummaries returns "" when got and want hold the same keys and values
// (NaN equal to NaN), else a key that differs.
func sameSummaries(got, want map[string]float64) string {
	if len(got) != len(want) {
		return "(count)"
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || (g != w && !(math.IsNaN(g) && math.IsNaN(w))) {
			return k
		}
	}
	return ""
}

// TestRunLabels: the words that the CLI's show and the dashboard's run
// page put before a run's end and its duration.
func TestRunLabels(t *testing.T) {
	for _, tc := range []struct {
		status      Status
		attempt     int
		ended, took string
	}{
		{StatusDone, 1, "finished", "took"},
		{StatusDone, 2, "finished", "its last attempt took"},
		{StatusFailed, 1, "ended", "took"},
		{StatusInterrupted, 3, "ended", "its last attempt took"},
	} {
		r := Run{Status: tc.status, Attempt: tc.attempt}
		if got := r.EndedLabel(); got != tc.ended {
			t.Errorf("%s run, attempt %d: EndedLabel() = %q, want %q", tc.status, tc.attempt, got, tc.ended)
		}
		if got := r.TookLabel(); got != tc.took {
			t.Errorf("%s run, attempt %d: TookLabel() = %q, want %q", tc.status, tc.attempt, got, tc.took)
		}
	}
}
