package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// failAll fails every queued run of db, as another worker whose runs
// failed would.
func failAll(t *testing.T, db string) {
	t.Helper()
	st := openDB(t, db)
	ctx := context.Background()
	other := store.Owner{Host: "elsewhere", PID: 4242}
	for {
		res, err := st.ClaimNext(ctx, other, store.QueueFilter{}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Claimed {
			return
		}
		if err := st.Finish(ctx, res.Run.ID, other, store.StatusFailed, "it failed over there"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSubmitRetryFailed: submitting an experiment whose runs failed says
// they stay failed and that there is nothing to train (it used to suggest
// a worker that would find nothing), and --retry-failed queues them again,
// as attnlab run --retry-failed does.
func TestSubmitRetryFailed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db))
	failAll(t, db)
	r := attnlab(t, "submit", "testdata/tiny.yaml", "--db", db)
	wantOK(t, r)
	if !strings.Contains(r.stdout, ": 0 new, 4 failed, 0 queued\n4 failed runs stay failed: attnlab show RUN says why; --retry-failed queues them again\nnothing to train: no run of it is queued, interrupted or running\n") ||
		strings.Contains(r.stdout, "train them:") {
		t.Errorf("submit of failed runs:\n%s", r.stdout)
	}
	r = attnlab(t, "submit", "testdata/tiny.yaml", "--db", db, "--retry-failed")
	wantOK(t, r)
	if !strings.Contains(r.stdout, ": 0 new, 4 failed requeued, 4 queued\ntrain them:    attnlab worker --db ") || strings.Contains(r.stdout, "stay failed") {
		t.Errorf("submit --retry-failed:\n%s", r.stdout)
	}
	w := attnlab(t, "worker", "--db", db)
	wantOK(t, w)
	if !strings.Contains(w.stderr, "worker done: 4 done") {
		t.Errorf("the requeued runs did not train:\n%s", w.stderr)
	}
	// A run that a live worker trains (it heartbeated just now) needs no
	// other worker (submit suggested one, which would find nothing)...
	one := []string{"--db", db, "--set", "seeds=[9]", "--set", "sweep.grid.model.attention.name=[none]"}
	wantOK(t, attnlab(t, append([]string{"submit", "testdata/tiny.yaml"}, one...)...))
	st := openDB(t, db)
	if res, err := st.ClaimNext(context.Background(), store.Owner{Host: "elsewhere", PID: 4242}, store.QueueFilter{}, time.Hour); err != nil || !res.Claimed {
		t.Fatalf("claim: %+v, %v", res, err)
	}
	r = attnlab(t, append([]string{"submit", "testdata/tiny.yaml"}, one...)...)
	if !strings.Contains(r.stdout, "1 running, 0 queued\nnothing to start: its running run is training on a live worker\n") || strings.Contains(r.stdout, "train them") {
		t.Errorf("submit of a run a live worker trains:\n%s", r.stdout)
	}
	// ...but one left running by a worker that is gone (a pid of this
	// host that no longer exists: a process that has exited, whose pid is
	// not reused in the moment this takes) is something to train: a worker
	// takes it over.
	dead := deadOwner(t)
	other := []string{"--db", db, "--set", "seeds=[8]", "--set", "sweep.grid.model.attention.name=[none]"}
	wantOK(t, attnlab(t, append([]string{"submit", "testdata/tiny.yaml"}, other...)...))
	if res, err := st.ClaimNext(context.Background(), dead, store.QueueFilter{}, time.Hour); err != nil || !res.Claimed || res.Run.Seed != 8 {
		t.Fatalf("claim: %+v, %v", res, err)
	}
	r = attnlab(t, append([]string{"submit", "testdata/tiny.yaml"}, other...)...)
	if !strings.Contains(r.stdout, "1 running, 0 queued\ntrain them:    attnlab worker") || strings.Contains(r.stdout, "nothing to") {
		t.Errorf("submit of a run left running by a dead worker:\n%s", r.stdout)
	}
}

// TestSlurmNothingToTrain: attnlab slurm submits no job when every run of
// the experiment is done or failed (its workers would start, find nothing
// and stop), and --retry-failed queues the failed runs and submits one.
func TestSlurmNothingToTrain(t *testing.T) {
	dir := t.TempDir()
	db, calls := filepath.Join(dir, "q.db"), filepath.Join(dir, "sbatch-calls")
	sbatch := filepath.Join(dir, "sbatch")
	if err := os.WriteFile(sbatch, []byte("#!/bin/sh\ncat >/dev/null\necho called >>"+calls+"\necho 4242\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	slurm := func(extra ...string) result {
		return attnlab(t, append([]string{"slurm", "testdata/tiny.yaml", "--db", db, "--workers", "1", "--sbatch", sbatch}, extra...)...)
	}
	count := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), "called")
	}
	r := slurm()
	wantOK(t, r)
	if !strings.Contains(r.stdout, "(4 of them to train)") || !strings.Contains(r.stdout, "submitted Slurm job 4242") || count() != 1 {
		t.Fatalf("first slurm (%d sbatch calls):\n%s", count(), r.stdout)
	}
	failAll(t, db)
	r = slurm()
	wantOK(t, r)
	if !strings.Contains(r.stdout, "(0 of them to train)\n4 failed runs stay failed") || !strings.Contains(r.stdout, "nothing to train: no Slurm job submitted") ||
		strings.Contains(r.stdout, "submitted Slurm job") || count() != 1 {
		t.Errorf("slurm with every run failed (%d sbatch calls):\n%s", count(), r.stdout)
	}
	r = slurm("--retry-failed")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "(4 of them to train)\nrequeued 4 failed runs\n") || !strings.Contains(r.stdout, "submitted Slurm job 4242") || strings.Contains(r.stdout, "stay failed") || count() != 2 {
		t.Errorf("slurm --retry-failed (%d sbatch calls):\n%s", count(), r.stdout)
	}
	// Every run trains on a live worker (heartbeats fresh): a job's
	// workers would only wait for them.
	st := openDB(t, db)
	// (The claims' pid is one that lives: a claim judges the runs of its
	// own host name by their pids, and 4242 would be gone here.)
	for range 4 {
		if res, err := st.ClaimNext(context.Background(), store.Owner{Host: "elsewhere", PID: os.Getpid()}, store.QueueFilter{}, time.Hour); err != nil || !res.Claimed {
			t.Fatalf("claim: %+v, %v", res, err)
		}
	}
	r = slurm()
	wantOK(t, r)
	if !strings.Contains(r.stdout, "(4 of them to train)\nnothing to start: its 4 running runs are training on live workers; no Slurm job submitted (one with --sbatch-arg=--dependency=afterany:JOB resumes them after that job)\n") || count() != 2 {
		t.Errorf("slurm with every run training (%d sbatch calls):\n%s", count(), r.stdout)
	}
	// A job that starts later (the next one past a time limit) is
	// submitted: the runs may be handed back by then.
	r = slurm("--sbatch-arg=--dependency=afterany:4242")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "submitted Slurm job 4242") || count() != 3 {
		t.Errorf("slurm --dependency with every run training (%d sbatch calls):\n%s", count(), r.stdout)
	}
}

func TestLaterJob(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, false}, {[]string{"--mem=4G", "--deadline=now+1hour", "--time=1:00:00"}, false}, {[]string{"", "  "}, false},
		{[]string{"--dependency=afterany:1"}, true}, {[]string{"--dependency afterany:1"}, true},
		{[]string{"-d afterany:1"}, true}, {[]string{"-dafterany:1"}, true},
		{[]string{"--mem=4G", "--begin=now+1hour"}, true}, {[]string{"-b 16:00"}, true},
		{[]string{"--mem=4G --dependency=afterany:1"}, true}, {[]string{"--dep=afterany:1"}, true},
		{[]string{"--be=16:00"}, true}, {[]string{"-Hd afterany:1"}, true}, {[]string{"--comment=x#--dependency=afterany:1"}, false},
	} {
		if got := laterJob(tc.args); got != tc.want {
			t.Errorf("laterJob(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
