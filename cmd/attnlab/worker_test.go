package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// cliMainEnv makes the test binary run as attnlab itself (TestMain calls
// main), so that tests can start, signal and kill real attnlab processes.
const cliMainEnv = "ATTNLAB_CLI_MAIN"

// process is an attnlab process a test started.
type process struct {
	cmd  *exec.Cmd
	out  bytes.Buffer  // read it only once done is closed
	done chan struct{} // closed once the process exited and was reaped
}

// startAttnlab starts `attnlab args...` as a child process. Cleanup kills
// it unless it has exited.
func startAttnlab(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(os.Args[0], args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), cliMainEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit, at most d (then kills it and fails
// with its output), and returns its exit code.
func (p *process) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("attnlab %s did not exit within %s; output:\n%s", strings.Join(p.cmd.Args[1:], " "), d, p.out.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// TestStartAttnlabNotWaited leaves a process that exits by itself to
// startAttnlab's cleanup, as a test that fails before it waits for its
// processes does: the cleanup must not race with the goroutine that reaped
// the process (-race).
func TestStartAttnlabNotWaited(t *testing.T) {
	t.Run("version", func(t *testing.T) {
		p := startAttnlab(t, "version")
		deadline := time.Now().Add(time.Minute)
		for p.cmd.Process.Signal(syscall.Signal(0)) == nil { // until reaped
			if time.Now().After(deadline) {
				t.Fatal("attnlab version did not exit within a minute")
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // for exec.Cmd.Wait to record it
	})
}

// pollStore calls cond on the store until it holds, at most d.
func pollStore(t *testing.T, st *store.Store, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runsOf lists an experiment's runs, by id.
func runsOf(t *testing.T, st *store.Store, exp string) []store.Run {
	t.Helper()
	rs, err := st.Runs(context.Background(), store.RunFilter{Experiments: []string{exp}})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// checkpointed returns a run that is running under one of pids with a
// checkpoint (two or more evaluations), or nil.
func checkpointed(t *testing.T, st *store.Store, exp string, pids []int) *store.Run {
	for _, r := range runsOf(t, st, exp) {
		if r.Status != store.StatusRunning || !slices.Contains(pids, r.PID) {
			continue
		}
		h, err := st.MetricHistory(context.Background(), []int64{r.ID}, "valid/loss")
		if err == nil && len(h[r.ID]) >= 2 {
			return &r
		}
	}
	return nil
}

// record is what a run left in the store: its summaries and metric
// histories, without the timing figures (perf/*), which differ between
// any two runs.
type record struct {
	summaries map[string]float64
	history   map[string][]store.MetricPoint
}

func recordOf(t *testing.T, st *store.Store, id int64) record {
	t.Helper()
	ctx := context.Background()
	sums, err := st.Summaries(ctx, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	rec := record{summaries: map[string]float64{}, history: map[string][]store.MetricPoint{}}
	for k, v := range sums[id] {
		if !strings.HasPrefix(k, "perf/") {
			rec.summaries[k] = v
		}
	}
	keys, err := st.MetricKeys(ctx, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.HasPrefix(k, "perf/") {
			continue
		}
		h, err := st.MetricHistory(ctx, []int64{id}, k)
		if err != nil {
			t.Fatal(err)
		}
		rec.history[k] = h[id]
	}
	return rec
}

// sameRecord fails unless got and want hold the same values at the same
// steps (NaN equal to NaN).
func sameRecord(t *testing.T, what string, got, want record) {
	t.Helper()
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	if len(got.summaries) != len(want.summaries) || len(got.history) != len(want.history) {
		t.Fatalf("%s: %d summaries and %d metrics, want %d and %d", what, len(got.summaries), len(got.history), len(want.summaries), len(want.history))
	}
	for k, v := range want.summaries {
		if g, ok := got.summaries[k]; !ok || !same(g, v) {
			t.Errorf("%s: summary %s = %v, want %v (uninterrupted run)", what, k, g, v)
		}
	}
	for k, w := range want.history {
		g := got.history[k]
		if len(g) != len(w) {
			t.Errorf("%s: metric %s has %d rows, want %d", what, k, len(g), len(w))
			continue
		}
		for i := range w {
			if g[i].Step != w[i].Step || !same(g[i].Value, w[i].Value) {
				t.Errorf("%s: metric %s row %d = (step %d, %v), want (step %d, %v)", what, k, i, g[i].Step, g[i].Value, w[i].Step, w[i].Value)
				break
			}
		}
	}
}

// uninterrupted trains one run of src again, alone and without
// interruption, in a fresh SQLite store, and returns what it recorded.
func uninterrupted(t *testing.T, src store.Run) record {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), fmt.Sprintf("ref%d.db", src.ID)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	_, rs, err := st.Submit(ctx, store.ExperimentSpec{Name: src.Experiment, Dir: src.Dir},
		[]store.RunSpec{{Hash: src.Hash, Seed: src.Seed, Config: src.Config, Point: src.Point}})
	if err != nil {
		t.Fatal(err)
	}
	wr, err := runs.Work(ctx, st, runs.WorkOptions{Filter: store.QueueFilter{RunIDs: []int64{rs[0].ID}}})
	if err != nil || len(wr.Outcomes) != 1 || wr.Outcomes[0].Status != store.StatusDone {
		t.Fatalf("reference run of %s: %+v, %v", src.Hash, wr, err)
	}
	return recordOf(t, st, rs[0].ID)
}

// engines runs test on each engine: on a PostgreSQL database of its own
// (subtest postgres; skipped outside CI when no server is set up, failed in
// CI) and on a SQLite file (subtest sqlite), with the --db target and the
// database/sql driver name that opens it directly.
func engines(t *testing.T, test func(t *testing.T, db, driver string)) {
	t.Run("postgres", func(t *testing.T) { test(t, testenv.PostgresURL(t), "pgx") })
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "queue.db"), "sqlite3") })
}

// TestWorkersShareAQueue starts three worker processes on twelve queued
// runs, in PostgreSQL and in a SQLite file, and kills one (kill -9) in the
// middle of a run: every run must end done exactly once, the killed
// worker's run taken over by another worker and resumed from its
// checkpoint with the final metrics of an uninterrupted run and no
// duplicate metric steps.
func TestWorkersShareAQueue(t *testing.T) { engines(t, testWorkersShareAQueue) }

func testWorkersShareAQueue(t *testing.T, url, driver string) {
	ctx := context.Background()
	r := attnlab(t, "submit", "testdata/queue.yaml", "--db", url)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "submitted 12 runs of queue to") || !strings.Contains(r.stdout, "12 new, 12 queued") {
		t.Fatalf("submit said:\n%s", r.stdout)
	}
	st, err := store.OpenExisting(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var workers []*process
	var pids []int
	for range 3 {
		p := startAttnlab(t, "worker", "--db", url, "--experiment", "queue")
		workers = append(workers, p)
		pids = append(pids, p.cmd.Process.Pid)
	}
	var victim *store.Run
	pollStore(t, st, 2*time.Minute, "a run with a checkpoint", func() bool {
		victim = checkpointed(t, st, "queue", pids)
		return victim != nil
	})
	var killed *process
	for _, p := range workers {
		if p.cmd.Process.Pid == victim.PID {
			killed = p
		}
	}
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	killed.wait(t, 10*time.Second) // reaped: no zombie
	var pickedUp time.Duration
	pollStore(t, st, time.Minute, "the killed worker's run to be taken over", func() bool {
		r, err := st.RunByID(ctx, victim.ID)
		if err == nil && r.Attempt >= 2 {
			pickedUp = time.Since(killedAt)
			return true
		}
		return false
	})
	t.Logf("run %d: worker %d killed at a checkpoint; taken over %s later (same host: the dead pid is seen at once)", victim.ID, victim.PID, pickedUp.Round(time.Millisecond))
	for _, p := range workers {
		if p != killed {
			if code := p.wait(t, 3*time.Minute); code != 0 {
				t.Fatalf("worker exited %d:\n%s", code, p.out.String())
			}
		}
	}

	all := runsOf(t, st, "queue")
	if len(all) != 12 {
		t.Fatalf("%d runs, want 12", len(all))
	}
	for _, r := range all {
		wantAttempts := 1
		if r.ID == victim.ID {
			wantAttempts = 2
		}
		if r.Status != store.StatusDone || r.Attempt != wantAttempts || r.Lost != wantAttempts-1 {
			t.Errorf("run %d: %s after %d attempts (%d lost), want done after %d", r.ID, r.Status, r.Attempt, r.Lost, wantAttempts)
		}
		if r.ID == victim.ID && r.PID == victim.PID {
			t.Errorf("run %d was finished by the killed worker", r.ID)
		}
		arts, err := st.Artifacts(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			if a.Kind == "checkpoint" {
				t.Errorf("run %d kept its checkpoint after done", r.ID)
			}
		}
	}
	db, err := sql.Open(driver, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var dups, rows int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT run_id, key, step FROM metrics
		GROUP BY run_id, key, step HAVING count(*) > 1) d), (SELECT count(*) FROM metrics)`).Scan(&dups, &rows); err != nil || dups != 0 || rows == 0 {
		t.Fatalf("%d duplicate metric steps among %d rows (%v)", dups, rows, err)
	}
	resumed := false
	for _, p := range workers {
		resumed = resumed || p != killed && strings.Contains(p.out.String(), victim.Name()+": resume at step")
	}
	if !resumed {
		t.Errorf("no worker says it resumed run %d from its checkpoint", victim.ID)
	}
	final, _ := st.RunByID(ctx, victim.ID)
	sameRecord(t, fmt.Sprintf("run %d (resumed after kill -9)", victim.ID), recordOf(t, st, victim.ID), uninterrupted(t, final))
	t.Logf("killed worker's output:\n%s", killed.out.String())

	// The model lives in the database: generate works from it anywhere,
	// here for the run another worker resumed and finished.
	g := attnlab(t, "generate", fmt.Sprint(victim.ID), "--input", "abcd", "--db", url)
	wantOK(t, g)
	if strings.TrimSpace(g.stdout) == "" {
		t.Fatalf("generate printed nothing: %v", g)
	}
}

// TestWorkerSIGTERM: SIGTERM in the middle of a run makes the worker
// checkpoint, hand the run back to the queue and exit 0 within 10 s; a
// later worker resumes it, with the results of an uninterrupted run. On
// PostgreSQL and on SQLite.
func TestWorkerSIGTERM(t *testing.T) { engines(t, testWorkerSIGTERM) }

func testWorkerSIGTERM(t *testing.T, url, _ string) {
	ctx := context.Background()
	wantOK(t, attnlab(t, "submit", "testdata/queue.yaml", "--db", url, "--set", "seeds=[1]", "--set", "sweep={}", "--set", "train.steps=1500"))
	st, err := store.OpenExisting(url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := startAttnlab(t, "worker", "--db", url)
	var held *store.Run
	pollStore(t, st, 2*time.Minute, "a run with a checkpoint", func() bool {
		held = checkpointed(t, st, "queue", []int{w.cmd.Process.Pid})
		return held != nil
	})
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if code := w.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("worker exited %d after SIGTERM, want 0:\n%s", code, w.out.String())
	}
	t.Logf("worker exited 0 %s after SIGTERM", time.Since(sent).Round(time.Millisecond))
	r, err := st.RunByID(ctx, held.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != store.StatusInterrupted || r.Error != runs.HandedBack {
		t.Fatalf("after SIGTERM the run is %s (%q), want interrupted: %q", r.Status, r.Error, runs.HandedBack)
	}
	if _, err := st.Artifact(ctx, r.ID, "checkpoint", "checkpoint.safetensors"); err != nil {
		t.Fatalf("no checkpoint after SIGTERM: %v", err)
	}
	if !strings.Contains(w.out.String(), "1 handed back") {
		t.Errorf("the worker did not say it handed the run back:\n%s", w.out.String())
	}

	again := startAttnlab(t, "worker", "--db", url)
	if code := again.wait(t, 3*time.Minute); code != 0 {
		t.Fatalf("second worker exited %d:\n%s", code, again.out.String())
	}
	if !strings.Contains(again.out.String(), "resume at step") {
		t.Errorf("the second worker did not resume from the checkpoint:\n%s", again.out.String())
	}
	r, _ = st.RunByID(ctx, held.ID)
	if r.Status != store.StatusDone || r.Attempt != 2 || r.Lost != 0 {
		t.Fatalf("run after the second worker: %s, attempt %d, lost %d; want done, 2, 0", r.Status, r.Attempt, r.Lost)
	}
	sameRecord(t, "run resumed after SIGTERM", recordOf(t, st, r.ID), uninterrupted(t, r))
}

// submittedTiny submits testdata/tiny.yaml to a new database and returns
// its path and the store open on it (closed when the test ends).
func submittedTiny(t *testing.T) (string, *store.Store) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "held.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db))
	return db, openDB(t, db)
}

// TestRunWaitsForHeldRuns: a run of the plan that another live process
// holds makes `run` wait (saying so) until it ends, then exit 0 with every
// run done.
func TestRunWaitsForHeldRuns(t *testing.T) {
	db, st := submittedTiny(t)
	ctx := context.Background()
	other := store.Owner{Host: "elsewhere", PID: 4242}
	res, err := st.ClaimNext(ctx, other, store.QueueFilter{}, time.Minute)
	if err != nil || !res.Claimed {
		t.Fatalf("claim as another process: %+v, %v", res, err)
	}
	var errb syncBuffer
	done := make(chan result, 1)
	go func() {
		var b bytes.Buffer
		r := attnlabWith(ctx, "", &errb, &b, "run", "testdata/tiny.yaml", "--db", db)
		r.stderr = errb.String()
		done <- r
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(errb.String(), "is running in another process (running on elsewhere:4242 (heartbeat ") {
		if time.Now().After(deadline) {
			t.Fatalf("run did not say it waits:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("run exited while another process held a run: %v", r)
	case <-time.After(1500 * time.Millisecond):
	}
	// The other process finishes its run (it had trained it elsewhere).
	if err := st.Finish(ctx, res.Run.ID, other, store.StatusFailed, "it failed over there"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != exitFailure || !strings.Contains(r.stderr, "tiny/none/seed=1 (run 1) failed") ||
		!strings.Contains(r.stderr, ": it failed over there") || !strings.Contains(r.stderr, "1 of 4 runs failed") {
		t.Fatalf("run after the other process ended: %v", r)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWorkerMemoryLimit: a worker whose --max-memory cannot hold a run's
// dataset hands that run back to the queue, with one line naming the data
// file, instead of running out of memory — and did not fail it, as it
// did: a worker with more memory trains it. A bad --max-memory is a usage
// error.
func TestWorkerMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "q.db")
	// 100 KB of distinct words: a dataset of about 6 MB (each distinct
	// word's entries in the vocabulary's maps), while the estimate from
	// the file's size (16 bytes a byte) and the model stays under the
	// worker's 4 MiB: the build finds it out.
	var words strings.Builder
	for i := 0; words.Len() < 100<<10; i++ {
		fmt.Fprintf(&words, "w%d\n", i)
	}
	corpus := writeIn(t, dir, "big.txt", words.String())
	wantOK(t, attnlab(t, "submit", "testdata/lm.yaml", "--db", db, "--set", "task.path="+corpus, "--set", "task.tokenizer=word"))
	r := attnlab(t, "worker", "--db", db, "--max-memory", "4MiB")
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Runs(context.Background(), store.RunFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("runs %v, %v", rs, err)
	}
	wantOK(t, r)
	if rs[0].Status != store.StatusInterrupted || rs[0].Attempt != 0 ||
		rs[0].Error != runs.TooBigPrefix+"text: "+corpus+": building its dataset takes more than --max-memory 4.00 MiB, the memory one run may use" {
		t.Errorf("run %s at attempt %d: %q\n%v", rs[0].Status, rs[0].Attempt, rs[0].Error, r)
	}
	if !strings.Contains(r.stderr, "worker done: 1 handed back for a worker with more memory (above --max-memory)\n") {
		t.Errorf("the worker's summary:\n%s", r.stderr)
	}
	r = attnlab(t, "worker", "--db", db, "--max-memory", "256MiB")
	wantOK(t, r)
	if r, err := st.RunByID(context.Background(), rs[0].ID); err != nil || r.Status != store.StatusDone || r.Attempt != 1 {
		t.Errorf("the run, after a worker with more memory: %+v, %v\n%s", r, err, r.Error)
	}
	wantError(t, attnlab(t, "worker", "--db", db, "--max-memory", "0"), exitUsage, "--max-memory 0")
}

// TestWorkerRunsFitMemory: a worker trains at once only runs whose
// estimates fit together in --max-memory: with room for one, -j 3 trains
// one run at a time (every start follows the previous run's end).
func TestWorkerRunsFitMemory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db, "--set", "train.steps=5"))
	r := attnlab(t, "worker", "--db", db, "-j", "3", "--max-memory", "1.5MiB") // each run about 1.2 MiB, its dataset included
	wantOK(t, r)
	running := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		switch {
		case strings.HasSuffix(line, ": start"):
			running++
			if running > 1 {
				t.Fatalf("two runs trained at once with room for one:\n%s", r.stderr)
			}
		case strings.Contains(line, ": done ("):
			running--
		}
	}
	if strings.Count(r.stderr, ": done (") != 4 {
		t.Errorf("want 4 runs done:\n%s", r.stderr)
	}
	// A worker's count is its own, without a total: the runs waiting when
	// it started are not the runs it takes ("1/0 runs done" once runs were
	// submitted after it started).
	if !strings.Contains(r.stderr, ": done (4 done by this worker)") || strings.Contains(r.stderr, "runs done") {
		t.Errorf("want the worker's own count of done runs, without a total:\n%s", r.stderr)
	}
	over := attnlab(t, "submit", "testdata/tiny.yaml", "--db", db, "--set", "train.steps=6")
	wantOK(t, over)
	// A run estimated above a worker's whole budget is not failed: another
	// worker may have the memory. It goes back to the queue, the worker
	// claims it no more and stops when nothing else is left (it used to
	// fail the run for every worker of a shared queue).
	// (The deadline: a worker that claimed them again, or waited for
	// them, would never stop.)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errb bytes.Buffer
	// (-j 4: its four goroutines claim at once, and each run is counted
	// once however they race.)
	small := attnlabWith(ctx, "", &errb, &errb, "worker", "--db", db, "--max-memory", "100KiB", "-j", "4")
	if ctx.Err() != nil {
		t.Fatalf("the worker did not stop by itself within a minute:\n%s", small.stderr)
	}
	wantOK(t, small)
	if !strings.Contains(small.stderr, "worker done: 4 handed back for a worker with more memory (above --max-memory)\n") || strings.Contains(small.stderr, "failed") {
		t.Errorf("a worker too small for every run:\n%s", small.stderr)
	}
	st := openDB(t, db)
	rs, err := st.Runs(context.Background(), store.RunFilter{Status: store.StatusInterrupted})
	if err != nil || len(rs) != 4 || !strings.Contains(rs[0].Error, "for a worker with more memory: estimated training memory ") ||
		!strings.Contains(rs[0].Error, "exceeds this worker's --max-memory 100 KiB") {
		t.Fatalf("runs estimated above the limit: %d interrupted (%v), the first: %.200q", len(rs), err, func() string {
			if len(rs) == 0 {
				return ""
			}
			return rs[0].Error
		}())
	}
	// Their claims were given back uncounted: five small workers must not
	// leave a run at attempt 5, untrained.
	for _, r := range rs {
		if r.Attempt != 0 {
			t.Errorf("run %s handed back as too big is at attempt %d, want 0 (it never trained)", r.Name(), r.Attempt)
		}
	}
	// submit says so (it is not an ordinary queue: only a bigger worker
	// takes them).
	again := attnlab(t, "submit", "testdata/tiny.yaml", "--db", db, "--set", "train.steps=6")
	if !strings.Contains(again.stdout, "\n4 runs handed back by workers without the memory for them: only a worker with a larger --max-memory takes them (attnlab show RUN says what it needs)\n") {
		t.Errorf("submit of runs handed back as too big:\n%s", again.stdout)
	}
	big := attnlab(t, "worker", "--db", db)
	wantOK(t, big)
	if !strings.Contains(big.stderr, "worker done: 4 done\n") {
		t.Errorf("a worker with the memory did not train the runs handed back:\n%s", big.stderr)
	}
}

// TestWorkerSaysWhatItWaitsFor: a worker that finds nothing to take but
// runs other processes hold says which, where and how old their
// heartbeats are, then exits once they end. It used to say nothing while
// it waited — a minute or more for a dead worker's heartbeat to go stale —
// as if it hung.
func TestWorkerSaysWhatItWaitsFor(t *testing.T) {
	db, st := submittedTiny(t)
	ctx := context.Background()
	other := store.Owner{Host: "elsewhere", PID: 4242}
	counts, err := st.Queue(ctx, store.QueueFilter{})
	if err != nil || counts[store.StatusQueued] < 4 {
		t.Fatalf("queue of tiny.yaml: %v, %v; want 4 runs queued or more", counts, err)
	}
	var held []store.Run
	for id := range int64(counts[store.StatusQueued]) { // by id: ClaimNext would take back the runs of a pid dead here
		res, err := st.Claim(ctx, id+1, other, time.Minute)
		if err != nil || !res.Claimed {
			t.Fatalf("claim as another process: %+v, %v", res, err)
		}
		held = append(held, res.Run)
	}
	var errb syncBuffer
	done := make(chan result, 1)
	go func() {
		var b bytes.Buffer
		r := attnlabWith(ctx, "", &errb, &b, "worker", "--db", db)
		r.stderr = errb.String()
		done <- r
	}()
	want := fmt.Sprintf("waiting: %d runs held by other processes: %s on elsewhere:4242 (heartbeat ", len(held), held[0].Name())
	more := fmt.Sprintf("and %d more; a run whose worker dies is taken over", len(held)-3)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), more) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not say what it waits for (want %q):\n%s", want, errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range held {
		if err := st.Finish(ctx, r.ID, other, store.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	if r := <-done; r.code != 0 || !strings.Contains(r.stderr, "worker done: no run taken") {
		t.Fatalf("worker after the other process ended its runs: %v", r)
	}
}

// TestWorkSummaryLeftRun: a run the worker left running because the
// database stayed unreachable is counted as left for another worker to
// take over, not as failed nor by its (running) status, and gets no
// "run N failed" line.
func TestWorkSummaryLeftRun(t *testing.T) {
	unreachable := fmt.Errorf("store: write metrics of run 52: %w for 2m4s", store.ErrUnavailable)
	wr := &runs.WorkReport{Outcomes: []runs.Outcome{
		{Run: store.Run{ID: 52}, Status: store.StatusRunning, Err: &runs.LeftError{Err: unreachable}},
		{Run: store.Run{ID: 53}, Status: store.StatusDone},
	}}
	var b bytes.Buffer
	writeWorkSummary(&b, wr)
	got := b.String()
	if !strings.Contains(got, "worker done: 1 done, 1 left for another worker to take over (the database was unreachable)\n") ||
		strings.Contains(got, "failed") || strings.Contains(got, "running") || strings.Count(got, "\n") != 1 {
		t.Fatalf("summary:\n%s\nwant one line: 1 done, 1 left for another worker to take over", got)
	}
}

// TestWorkerOutageLines: a worker says when its database becomes
// unreachable, for how long it retries, and when it answers again — or,
// when its writes gave up and a new outage began after a pause, that the
// first one is over without saying that the server answered.
func TestWorkerOutageLines(t *testing.T) {
	since := time.Date(2026, 12, 6, 11, 5, 7, 0, time.Local)
	var b bytes.Buffer
	writeOutage(&b, "postgres://lab:xxxxx@db/attnlab", store.Outage{Since: since, Budget: 2 * time.Minute})
	writeOutage(&b, "postgres://lab:xxxxx@db/attnlab", store.Outage{Since: since, Budget: 2 * time.Minute, End: since.Add(45 * time.Second)})
	writeOutage(&b, "postgres://lab:xxxxx@db/attnlab", store.Outage{Since: since, Budget: 2 * time.Minute, End: since.Add(2 * time.Minute), Lapsed: true})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 ||
		!strings.HasSuffix(lines[0], " database postgres://lab:xxxxx@db/attnlab unreachable since 11:05:07; retrying for up to 2m") ||
		lines[1] != "11:05:52 database postgres://lab:xxxxx@db/attnlab reachable again after 45s" ||
		!strings.HasSuffix(lines[2], " database postgres://lab:xxxxx@db/attnlab was unreachable from 11:05:07 to at least 11:07:07 (not tried since)") {
		t.Fatalf("outage lines:\n%s", b.String())
	}
}

// TestWorkSummaryTakenOver: a run another worker took over (this one was
// frozen past its heartbeats) is counted as taken over, not by the status
// the new owner keeps it in ("1 running").
func TestWorkSummaryTakenOver(t *testing.T) {
	wr := &runs.WorkReport{Outcomes: []runs.Outcome{
		{Run: store.Run{ID: 7}, Status: store.StatusRunning, Err: runs.ErrTakenOver, Note: "taken over by another worker (this one missed its heartbeats)"},
	}}
	var b bytes.Buffer
	writeWorkSummary(&b, wr)
	if got := b.String(); !strings.HasSuffix(got, " worker done: 1 taken over by another worker\n") {
		t.Fatalf("summary %q, want 1 taken over by another worker", got)
	}
}

// TestDBHint: a suggested command line for a database whose URL has a
// password names the URL without it and says how to give the password —
// the masked URL (postgres://lab:xxxxx@…) would fail as pasted.
func TestDBHint(t *testing.T) {
	for _, tc := range []struct{ target, arg, note string }{
		{"/lab/runs.db", " --db /lab/runs.db", ""},
		{"postgres://lab@db/attnlab", " --db postgres://lab@db/attnlab", ""},
		{"postgres://lab:s3cretpw@db/attnlab?sslmode=disable", " --db 'postgres://lab@db/attnlab?sslmode=disable'", store.PasswordNote},
		{"postgres://lab:s3cretpw@db/attnlab?sslpassword=k3ypass", "", "its secrets are not shown: set ATTNLAB_DB to the database's whole URL first"},
	} {
		arg, note := store.CommandDB(tc.target)
		if arg != tc.arg || note != tc.note {
			t.Errorf("store.CommandDB(%q) = %q, %q; want %q, %q", tc.target, arg, note, tc.arg, tc.note)
		}
	}
}

// TestSubmitHintWithPassword: submit to a PostgreSQL URL with a password
// suggests commands that work as pasted once the password is in
// PGPASSWORD (the test server trusts any), and never shows it.
func TestSubmitHintWithPassword(t *testing.T) {
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Sekr1tPassw0rd"
	u.User = url.UserPassword(u.User.Username(), pw)
	r := attnlab(t, "submit", "testdata/queue.yaml", "--db", u.String())
	wantOK(t, r)
	if strings.Contains(r.stdout+r.stderr, pw) {
		t.Fatalf("the password was printed:\n%s", r.stdout)
	}
	var watch, hints string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "watch them:") {
			watch = strings.TrimSpace(strings.TrimPrefix(line, "watch them:"))
		}
		if strings.HasPrefix(line, "train them:") || strings.HasPrefix(line, "watch them:") {
			hints += line
		}
	}
	if strings.Contains(hints, "xxxxx") || !strings.Contains(r.stdout, "PGPASSWORD") || watch == "" {
		t.Fatalf("submit's hints:\n%s\nwant commands without the masked password, and how to give it", r.stdout)
	}
	// The hint as a shell reads it, run as pasted.
	out, err := exec.Command("sh", "-c", "for a in "+strings.TrimPrefix(watch, "attnlab ")+`; do printf '%s\n' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, attnlab(t, strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")...))
}

// TestWorkerWaitsForItsExperiment: with --idle-exit a worker started
// before its --experiment is submitted waits for it (it exited 2 at once);
// without, an experiment the database lacks is a usage error.
func TestWorkerWaitsForItsExperiment(t *testing.T) {
	db := filepath.Join(t.TempDir(), "w.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db))
	wantError(t, attnlab(t, "worker", "--db", db, "--experiment", "later"), exitUsage, `no experiment "later"`)
	r := attnlab(t, "worker", "--db", db, "--experiment", "later", "--idle-exit", "200ms")
	wantOK(t, r)
	if !strings.Contains(r.stderr, `attnlab: note: no experiment "later" in `) || !strings.Contains(r.stderr, "waiting up to --idle-exit 200ms for its runs") ||
		!strings.Contains(r.stderr, "worker done: no run taken") {
		t.Errorf("worker waiting for an experiment not submitted yet:\n%s", r.stderr)
	}
}

// TestWorkSummaryDatabaseGone: a run stopped because the SQLite file was
// deleted or replaced under the worker is not counted as failed (nothing
// recorded it so: the database that holds it is gone, or another) but as
// interrupted, as its progress line says, and gets no "run N failed" line; the worker's error says why.
// The summary said "1 failed".
func TestWorkSummaryDatabaseGone(t *testing.T) {
	gone := fmt.Errorf("store: heartbeat run 2: %w", store.ErrDatabaseGone)
	wr := &runs.WorkReport{Outcomes: []runs.Outcome{
		{Run: store.Run{ID: 1}, Status: store.StatusDone},
		{Run: store.Run{ID: 2}, Status: store.StatusInterrupted, Err: gone},
	}}
	var b bytes.Buffer
	writeWorkSummary(&b, wr)
	got := b.String()
	if !strings.HasSuffix(got, " worker done: 1 done, 1 interrupted, not failed (the database file was deleted or replaced)\n") ||
		strings.Contains(got, "1 failed") || strings.Count(got, "\n") != 1 {
		t.Fatalf("summary:\n%s\nwant one line: 1 done, 1 interrupted, not failed", got)
	}
}

// TestWorkerTooBigNotCounted: a run handed back as too big for the worker
// is not one of its --max-runs: with --max-runs 1 the worker goes on to
// train the next run that fits (it stopped having trained nothing).
func TestWorkerTooBigNotCounted(t *testing.T) {
	db := filepath.Join(t.TempDir(), "q.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db, "--set", "name=big", "--set", "seeds=[1]", "--set", "model.encoder.hidden=1024"))
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db, "--set", "seeds=[1]", "--set", "train.steps=5"))
	r := attnlab(t, "worker", "--db", db, "--max-memory", "64MiB", "--max-runs", "1")
	wantOK(t, r)
	if !strings.Contains(r.stderr, "worker done: 1 done, 2 handed back for a worker with more memory") {
		t.Errorf("a worker with --max-runs 1 after a run too big for it:\n%s", r.stderr)
	}
}

// TestLostAttemptsSaid: a worker, or run, that takes over a run whose
// worker died says it is a takeover, whose and that the attempt is lost,
// not only "resume"; and one whose claim fails a run that lost its
// max_attempts says so with the way to queue it again, and counts it.
// Both used to say nothing (a worker exited with "no run taken").
func TestLostAttemptsSaid(t *testing.T) {
	for _, cmd := range []string{"worker", "run"} {
		t.Run(cmd, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "lost.db")
			sets := []string{"--db", db, "--set", "seeds=[1]", "--set", "train.max_attempts=2"}
			wantOK(t, attnlab(t, append([]string{"submit", "testdata/tiny.yaml"}, sets...)...))
			st := openDB(t, db)
			ctx := context.Background()
			dead := deadOwner(t)
			// Run 1 lost one attempt to a dead worker and is left running
			// by another dead one: the next claim loses its second, its
			// last. Run 2 is left running by a dead worker: taken over.
			for _, id := range []int64{1, 1, 2} {
				if res, err := st.Claim(ctx, id, dead, time.Hour); err != nil || !res.Claimed {
					t.Fatalf("claim run %d as a dead worker: %+v, %v", id, res, err)
				}
			}
			args := []string{"worker", "--db", db}
			if cmd == "run" {
				args = append([]string{"run", "testdata/tiny.yaml"}, sets...)
			}
			r := attnlab(t, args...)
			gaveUp := regexp.MustCompile(`\d\d:\d\d:\d\d tiny/none/seed=1 \(run 1\) failed: gave up after 2 lost attempts \(max_attempts 2\); the last: its worker ` +
				regexp.QuoteMeta(fmt.Sprintf("%s:%d", dead.Host, dead.PID)) + ` is gone; --retry-failed \(attnlab run or submit\) queues it again\n`)
			takeover := regexp.MustCompile(`\d\d:\d\d:\d\d tiny/additive/seed=1 \(run 2\): taking it over: its worker ` +
				regexp.QuoteMeta(fmt.Sprintf("%s:%d", dead.Host, dead.PID)) + ` is gone; that attempt is lost \(1 of max_attempts 2\)\n.* tiny/additive/seed=1: start\n`)
			if !gaveUp.MatchString(r.stderr) || !takeover.MatchString(r.stderr) {
				t.Fatalf("%s after lost attempts: want the run given up on and the takeover said:\n%v", cmd, r)
			}
			if cmd == "worker" && !strings.Contains(r.stderr, " worker done: 1 done, 1 failed untrained after too many lost attempts (max_attempts)\n") {
				t.Fatalf("worker summary does not count the run given up on:\n%v", r)
			}
			// The next run's line counts it failed, a worker's as run's
			// (the worker's said "(1 done by this worker)").
			counted := map[string]string{"worker": "tiny/additive/seed=1: done (1 done by this worker, 1 failed)\n", "run": "tiny/additive/seed=1: done (1/2 runs done, 1 failed, ETA 0s)\n"}[cmd]
			if !strings.Contains(r.stderr, counted) {
				t.Fatalf("%s: the run given up on is not counted failed on the next run's line, want %q:\n%v", cmd, counted, r)
			}
			// run's closing lines: the run failed here, not in another
			// process, nor left "not done".
			outcome := fmt.Sprintf("\ntiny/none/seed=1 (run 1) failed: gave up after 2 lost attempts (max_attempts 2); the last: its worker %s:%d is gone\n", dead.Host, dead.PID)
			if cmd == "run" && (r.code != exitFailure || !strings.Contains(r.stderr, outcome) || !strings.Contains(r.stderr, "1 of 2 runs failed")) {
				t.Fatalf("run's outcome of the run given up on:\n%v", r)
			}
		})
	}
}

// TestSubmitTrainLineShared: submit's "train them:" line is for workers
// that may run elsewhere (another directory, machine or shell): it names
// the database whole, a SQLite path made absolute, even when it is this
// shell's $ATTNLAB_DB; "watch them:" is for this shell.
func TestSubmitTrainLineShared(t *testing.T) {
	exp, err := filepath.Abs("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("ATTNLAB_DB", "")
	r := attnlab(t, "submit", exp, "--db", "q.db")
	wantOK(t, r)
	want := "train them:    attnlab worker --db " + shell.Quote(filepath.Join(dir, "q.db")) + " --experiment tiny\nwatch them:    attnlab ls runs --db q.db --experiment tiny\n"
	if !strings.HasSuffix(r.stdout, want) {
		t.Errorf("submit --db q.db:\n%s\nwant it to end with:\n%s", r.stdout, want)
	}
	t.Setenv("ATTNLAB_DB", "env.db")
	r = attnlab(t, "submit", exp)
	wantOK(t, r)
	want = "train them:    attnlab worker --db " + shell.Quote(filepath.Join(dir, "env.db")) + " --experiment tiny\nwatch them:    attnlab ls runs --experiment tiny\n"
	if !strings.HasSuffix(r.stdout, want) {
		t.Errorf("submit with $ATTNLAB_DB:\n%s\nwant it to end with:\n%s", r.stdout, want)
	}
}
