package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

func TestRun(t *testing.T) {
	sharedDB(t)
	r := shared.tiny
	noTrace(t, r)
	for _, want := range []string{"attention.", "none", "(baseline)", "additive", "exact_match", "bleu", "p=", "mean ± std",
		"runs by name", "\n  tiny/none/seed=1  tiny/none/seed=2\n  tiny/additive/seed=1  tiny/additive/seed=2\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the run table lacks %q\n%s", want, r.stdout)
		}
	}
	// Not a terminal: one log line per evaluation on stderr, none on stdout.
	for _, want := range []string{"runs: 4 planned, 0 already done", "tiny/additive/seed=1: step 30/60", ": done"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the progress log lacks %q\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "planned") {
		t.Errorf("progress went to stdout:\n%s", r.stdout)
	}
}

// TestRunAgain: a second run of a finished experiment trains nothing and
// prints the same table; --quiet leaves stderr empty.
func TestRunAgain(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "run", "testdata/tiny.yaml", "--db", db)
	wantOK(t, r)
	if !strings.Contains(r.stderr, "4 already done") || strings.Contains(r.stderr, "start") {
		t.Errorf("rerun trained again:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "(baseline)") {
		t.Errorf("no table:\n%s", r.stdout)
	}
	q := attnlab(t, "run", "testdata/tiny.yaml", "--db", db, "--quiet")
	wantOK(t, q)
	if q.stderr != "" {
		t.Errorf("--quiet wrote to stderr:\n%s", q.stderr)
	}
	if q.stdout != r.stdout {
		t.Errorf("the table changed between reruns:\n%s\nthen\n%s", r.stdout, q.stdout)
	}
}

func TestRunConfigErrors(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	for _, cmd := range []string{"run", "plan"} {
		args := []string{cmd, "testdata/bad.yaml"}
		if cmd == "run" {
			args = append(args, "--db", db)
		}
		r := attnlab(t, args...)
		if r.code != exitUsage || r.stdout != "" {
			t.Fatalf("%s of an invalid experiment: %v", cmd, r)
		}
		noTrace(t, r)
		// The known tasks are whatever is registered: a new task must not
		// need this golden file rewritten.
		golden(t, "bad.errors", strings.ReplaceAll(r.stderr, strings.Join(tasks.Registry.Names(), ", "), "<the registered tasks>"))
	}
	r := attnlab(t, "run", "testdata/nope.yaml", "--db", db)
	if r.code != exitUsage || strings.TrimSpace(r.stderr) != "testdata/nope.yaml: read experiment file: does not exist" {
		t.Errorf("run of a missing file: %v", r)
	}
	r = attnlab(t, "run", "testdata/tiny.yaml", "--db", db, "--set", "train.steps=many")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--set: train.steps: ") {
		t.Errorf("run with a bad --set: %v", r)
	}
	// Each a single line naming the file, line and key or value.
	dir := t.TempDir()
	for _, tc := range []struct {
		name, yaml string
		sets       []string
		want       string // the first line of stderr; FILE stands for the file
	}{
		{"unclosed flow sequences at the end", "name: a\ntask: {name: reverse}\nx: [[[[[",
			nil, "FILE:3: a [ on this line is never closed: the file ends inside its flow sequence"},
		{"list item of the wrong type", "name: a\ntask: {name: reverse}\neval:\n  length_buckets: [10, \"x\"]\n",
			nil, `FILE:4: eval.length_buckets[1]: want int, got string "x"`},
		{"2^63", "name: a\ntask: {name: reverse, max_len: 9223372036854775808}\n",
			nil, `FILE:2: task.max_len: must be in [1, 10000], got 9223372036854775808 for task "reverse"`},
		{"null --set under a sweep of its keys", "name: a\ntask: {name: reverse}\nsweep: {grid: {model.attention.name: [dot, additive]}}\n",
			[]string{"model.attention=null"}, "--set: model.attention: want a map naming the attention, got null (known: "},
		{"only comments", "# name: a\n# task: {name: reverse}\n",
			nil, "FILE: holds only comments, no keys: write at least name and task"},
		{"listops lengths no expression has", "name: a\ntask: {name: listops, max_depth: 3, max_args: 2,\n  min_len: 8, max_len: 9}\n",
			nil, `FILE:3: task.min_len: no expression that max_depth 3 and max_args 2 make has 8 to 9 tokens (the nearest have 7 and 10)`},
		{"copy valid_size beyond what train leaves", "name: a\ntask: {name: copy, symbols: 4, min_len: 1, max_len: 5,\n  valid_size: 500, test_size: 0}\n",
			nil, `FILE:3: task.valid_size: 500 distinct sources wanted, but train_size 10000 draws leave about 145 of the 1364 strings of lengths 1 to 5, and valid's 35000 draws find about 145: lower valid_size to at most 98, or train_size, or widen the range`},
		{"listops valid_size beyond its expressions", "name: a\ntask: {name: listops, max_depth: 2, max_args: 2, min_len: 1, max_len: 10,\n  valid_size: 500}\n",
			nil, `FILE:3: task.valid_size: 500 distinct expressions wanted, but max_depth 2 and max_args 2 make only 410 of 1 to 10 tokens, and train's draws take from the same expressions first: lower valid_size well below that, or widen the lengths`},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"run", "plan"} {
			args := []string{cmd, path}
			if cmd == "run" {
				args = append(args, "--db", db)
			}
			for _, set := range tc.sets {
				args = append(args, "--set", set)
			}
			r := attnlab(t, args...)
			noTrace(t, r)
			want := strings.ReplaceAll(tc.want, "FILE", path)
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, want) {
				t.Errorf("%s: %s: want exit %d and one line starting %q, got %v", tc.name, cmd, exitUsage, want, r)
			}
		}
	}
}

// TestRunBaselineFailed: when every run of the baseline diverged, run's
// table has no tests, says why, and lists the failed runs.
func TestRunBaselineFailed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "fail.db")
	r := attnlab(t, "run", "testdata/fail_baseline.yaml", "--db", db)
	if r.code != exitFailure {
		t.Fatalf("want exit 1: %v", r)
	}
	noTrace(t, r)
	if !strings.Contains(r.stderr, "(no tests against model.attention.name=none: none of its runs finished)") {
		t.Errorf("no word on the missing tests:\n%s", r.stderr)
	}
	if out := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(out, "Failed runs, left out of every statistic") ||
		!strings.Contains(out, "attention.name=none") {
		t.Errorf("the table does not list the baseline's failed runs:\n%s", r.stdout)
	}
}

// TestRunOldDiverged: when the plan's done runs were all stored done with
// a ±Inf loss or perplexity (by a build before runs failed a diverged run;
// a run that diverges today is failed, so the test makes such runs by
// hand), run has nothing to compare: it says so in one line that names
// the runs and gives the attnlab rm line, --db included, after which a
// rerun trains them anew. The table is not printed, and the run fails
// (exit 1), as with runs failed in an earlier attempt: the note says they
// count as failed (it exited 0).
func TestRunOldDiverged(t *testing.T) {
	dir := t.TempDir()
	exp := writeIn(t, dir, "old.yaml", tinyReverse("old", "[1, 2]"))
	db := filepath.Join(dir, "old.db")
	wantOK(t, attnlab(t, "run", exp, "--db", db, "-q"))
	sqldb, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	// SQLite reads 9e999 as +Inf: what an old build stored of a test
	// perplexity that overflowed.
	if res, err := sqldb.Exec(`UPDATE summaries SET value = 9e999 WHERE key = 'test/ppl'`); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("%d test/ppl summaries made +Inf, want 2", n)
	}
	sqldb.Close()

	r := attnlab(t, "run", exp, "--db", db)
	if r.code != exitFailure {
		t.Fatalf("want exit 1: %v", r)
	}
	noTrace(t, r)
	if r.stdout != "" {
		t.Errorf("a table of no runs:\n%s", r.stdout)
	}
	want := "\nnothing to compare: every done run selected diverged: runs 1 (old/seed=1), 2 (old/seed=2) were stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed; " +
		"attnlab rm --db " + shell.Quote(db) + " 1 2 removes them, and a rerun of the experiment then trains them anew\n" +
		"attnlab: run: 2 of 2 runs stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed (attnlab rm, as the note says, lets a rerun train them anew)\n"
	if !strings.HasSuffix(r.stderr, want) {
		t.Errorf("stderr\n%s\nwant it to end with%s", r.stderr, want)
	}
	// What it says to do works.
	wantOK(t, attnlab(t, "rm", "--db", db, "1", "2"))
	again := attnlab(t, "run", exp, "--db", db)
	wantOK(t, again)
	if !strings.Contains(again.stderr, "2 planned, 0 already done") || !strings.Contains(again.stdout, "old/seed=1  old/seed=2") {
		t.Errorf("the rerun after rm:\n%v", again)
	}
}

// TestRunLogFailedBefore: run's log (stderr not a terminal) counts on its
// first line the runs that failed before, which it skips, as the bars
// count them: it said "3 planned, 2 already done" of a plan whose third
// run had failed.
func TestRunLogFailedBefore(t *testing.T) {
	dir := t.TempDir()
	exp := writeIn(t, dir, "before.yaml", tinyReverse("before", "[1, 2, 3]"))
	db := filepath.Join(dir, "before.db")
	wantOK(t, attnlab(t, "run", exp, "--db", db, "-q"))
	sqldb, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := sqldb.Exec(`UPDATE runs SET status = 'failed', error = 'boom' WHERE id = 2`); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("%d runs made failed, want 1", n)
	}
	sqldb.Close()
	r := attnlab(t, "run", exp, "--db", db)
	noTrace(t, r)
	if r.code != exitFailure {
		t.Errorf("exit %d, want 1", r.code)
	}
	const planned = " runs: 3 planned, 2 already done, 1 failed before\n"
	if !strings.Contains(r.stderr, planned) || strings.Index(r.stderr, planned) != 8 {
		t.Errorf("stderr\n%s\nwant it to begin with the line%s", r.stderr, planned)
	}
}

// TestRunPartlyDiverged: when only some of the plan's done runs were
// stored done with a ±Inf loss or perplexity (by a build before runs
// failed such a run), run and compare print the table of the others, and
// one line on stderr names the diverged runs with the attnlab rm line,
// --db and all, as when they all diverged (TestRunOldDiverged): the
// table's notes alone listed them as failed, with no way to train them
// anew. The plots (curves, length), which leave them out as compare does,
// say the same (they said nothing). run fails (exit 1) after the note,
// as those runs count as failed; compare and the plots succeed. run's list
// of runs by name (the names show, generate and plot attention take)
// leaves them out as the table does (it listed them with the done runs).
// run's progress line counts them apart from the done runs (it counted
// them done).
func TestRunPartlyDiverged(t *testing.T) {
	dir := t.TempDir()
	exp := writeIn(t, dir, "old.yaml", tinyReverse("old", "[1, 2, 3]"))
	db := filepath.Join(dir, "old.db")
	first := attnlab(t, "run", exp, "--db", db, "-q")
	wantOK(t, first)
	const all = "\nruns by name (attnlab show, generate and plot attention take them):\n  old/seed=1  old/seed=2  old/seed=3\n"
	if !strings.HasSuffix(first.stdout, all) {
		t.Fatalf("stdout of the first run\n%s\nwant it to end with%s", first.stdout, all)
	}
	sqldb, err := sql.Open("sqlite3", db)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := sqldb.Exec(`UPDATE summaries SET value = 9e999 WHERE key = 'test/ppl' AND run_id IN (1, 3)`); err != nil {
		t.Fatal(err)
	} else if n, _ := res.RowsAffected(); n != 2 {
		t.Fatalf("%d test/ppl summaries made +Inf, want 2", n)
	}
	sqldb.Close()

	want := "attnlab: note: runs 1 (old/seed=1), 3 (old/seed=3) were stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed; " +
		"attnlab rm --db " + shell.Quote(db) + " 1 3 removes them, and a rerun of the experiment then trains them anew\n"
	fails := "attnlab: run: 2 of 3 runs stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed (attnlab rm, as the note says, lets a rerun train them anew)\n"
	for _, args := range [][]string{{"run", exp}, {"run", exp, "-q"}, {"compare", "old"}, {"compare", "old", "--format", "json"},
		{"plot", "curves", "old", "-o", filepath.Join(dir, "curves.png")}, {"plot", "length", "old", "-o", filepath.Join(dir, "length.png")}} {
		r := attnlab(t, append(args, "--db", db)...)
		noTrace(t, r)
		end, infs := want, 1
		if args[0] == "run" {
			if r.code != exitFailure {
				t.Errorf("%q: exit %d, want 1", args, r.code)
			}
			end, infs = want+fails, 2
			// Its progress line counts them apart, in the note's words,
			// not as done: it said "3 planned, 3 already done".
			const planned = " runs: 3 planned, 1 already done, 2 stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed\n"
			if !slices.Contains(args, "-q") {
				infs++
				if !strings.Contains(r.stderr, planned) {
					t.Errorf("%q: stderr\n%s\nwant the line%s", args, r.stderr, planned)
				}
			}
			// The list of runs by name leaves the diverged ones out, as
			// the table does (it listed them as results).
			const names = "\nruns by name (attnlab show, generate and plot attention take them):\n  old/seed=2\n"
			if !strings.HasSuffix(r.stdout, names) {
				t.Errorf("%q: stdout\n%s\nwant it to end with%s", args, r.stdout, names)
			}
		} else {
			wantOK(t, r)
		}
		if r.stdout == "" || !strings.HasSuffix(r.stderr, end) || strings.Count(r.stderr, "±Inf") != infs {
			t.Errorf("%q: stdout\n%s\nstderr\n%s\nwant output, and stderr to end with\n%s", args, r.stdout, r.stderr, end)
		}
	}
	// What it says to do works: the rerun trains them anew, and says
	// nothing more of them.
	wantOK(t, attnlab(t, "rm", "--db", db, "1", "3"))
	again := attnlab(t, "run", exp, "--db", db)
	wantOK(t, again)
	if !strings.Contains(again.stderr, "3 planned, 1 already done") || strings.Contains(again.stderr, "±Inf") {
		t.Errorf("the rerun after rm:\n%v", again)
	}
}

// TestRunFailed: a run that diverges is recorded as failed; run
// prints a note with the reason and exits 1, again on a rerun; and
// --retry-failed runs it once more.
func TestRunFailed(t *testing.T) {
	db := filepath.Join(t.TempDir(), "fail.db")
	r := attnlab(t, "run", "testdata/fail.yaml", "--db", db)
	if r.code != exitFailure {
		t.Fatalf("want exit 1: %v", r)
	}
	noTrace(t, r)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	last := lines[len(lines)-1]
	if last != "attnlab: run: 1 of 1 run failed (attnlab show RUN says why; --retry-failed runs it again)" {
		t.Errorf("last stderr line %q", last)
	}
	if !strings.Contains(r.stderr, "\ndiverge/seed=1 (run 1) failed: ") {
		t.Errorf("no note on the failed run:\n%s", r.stderr)
	}

	again := attnlab(t, "run", "testdata/fail.yaml", "--db", db, "-q")
	if again.code != exitFailure || !strings.Contains(again.stderr, "diverge/seed=1 (run 1) failed (in an earlier attempt): ") {
		t.Errorf("rerun: %v", again)
	}
	retry := attnlab(t, "run", "testdata/fail.yaml", "--db", db, "--retry-failed")
	if retry.code != exitFailure || !strings.Contains(retry.stderr, "requeued 1 failed run") || !strings.Contains(retry.stderr, "diverge/seed=1: start") {
		t.Errorf("--retry-failed: %v", retry)
	}

	ls := attnlab(t, "ls", "runs", "--status", "failed", "--db", db)
	wantOK(t, ls)
	if lines := strings.Split(ls.stdout, "\n"); len(lines) != 3 || !strings.Contains(lines[1], "diverge") ||
		strings.Fields(lines[1])[slices.Index(strings.Fields(lines[0]), "attempt")] != "2" {
		t.Errorf("ls runs --status failed:\n%s", ls.stdout)
	}
	show := attnlab(t, "show", "1", "--db", db)
	wantOK(t, show)
	// A failed run ended; it did not finish.
	if !regexp.MustCompile(`\n  status +failed \(attempt 2\)\n`).MatchString(show.stdout) || !regexp.MustCompile(`\n  error +\S`).MatchString(show.stdout) ||
		!regexp.MustCompile(`\n  ended +\S.* \(its last attempt took `).MatchString(show.stdout) || strings.Contains(show.stdout, "finished") {
		t.Errorf("show of a failed run:\n%s", show.stdout)
	}
	// The error's value lines up with the other rows' (it was a column
	// to the right: a fixed prefix beside the table).
	status := regexp.MustCompile(`\n(  status +)\S`).FindStringSubmatch(show.stdout)
	errRow := regexp.MustCompile(`\n(  error +)\S`).FindStringSubmatch(show.stdout)
	if status == nil || errRow == nil || len(status[1]) != len(errRow[1]) {
		t.Errorf("show: the error's value does not line up with the status's:\n%s", show.stdout)
	}
	gen := attnlab(t, "generate", "1", "--input", "abc", "--db", db)
	wantError(t, gen, exitUsage, "generate: run 1 (", "failed, so it has no trained model (attnlab show 1 says why)")
}

// cancelOn is a stderr that cancels a context when a line containing
// trigger is written.
type cancelOn struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	trigger string
	cancel  context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Contains(p, []byte(c.trigger)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

// TestRunInterrupted: cancelling the context (Ctrl-C) checkpoints the
// running run, marks it interrupted and exits 130; the command with
// other settings says it does not resume it; the same command then
// resumes it from its checkpoint and finishes.
func TestRunInterrupted(t *testing.T) {
	db := filepath.Join(t.TempDir(), "int.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{trigger: "step 20/40", cancel: cancel}
	r := attnlabWith(ctx, "", stderr, &stderr.buf, "run", "testdata/long.yaml", "--db", db, "--workers", "1")
	if r.code != exitInterrupted {
		t.Fatalf("want exit 130: %v", r)
	}
	noTrace(t, r)
	if strings.Contains(r.stderr, "interrupted: interrupted") {
		t.Errorf("a doubled status in:\n%s", r.stderr)
	}
	if !strings.HasSuffix(r.stderr, "attnlab: run: interrupted: rerun the same command to resume\n") ||
		!strings.Contains(r.stderr, "attnlab: interrupt: stopping the running runs") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("an interrupted run printed a table:\n%s", r.stdout)
	}
	ls := attnlab(t, "ls", "runs", "--db", db)
	wantOK(t, ls)
	if !strings.Contains(ls.stdout, "interrupted") || !strings.Contains(ls.stdout, "queued") {
		t.Errorf("ls runs after the interruption:\n%s", ls.stdout)
	}
	// show says how far it got; generate and plot say it is not finished.
	show := attnlab(t, "show", "1", "--db", db)
	wantOK(t, show)
	if !regexp.MustCompile(`\nlatest metrics \(the run is interrupted; each as last logged, up to step [1-9]\d*\)\n  \S+ +\S`).MatchString(show.stdout) {
		t.Errorf("show of an interrupted run, no latest metrics:\n%s", show.stdout)
	}
	wantError(t, attnlab(t, "generate", "1", "--input", "abc", "--db", db), exitUsage, "generate: run 1 (long/seed=1) was interrupted: it has no trained model")
	wantError(t, attnlab(t, "plot", "attention", "1", "-o", filepath.Join(t.TempDir(), "a.png"), "--db", db), exitUsage, "has no attention maps: it is not finished (status interrupted)")

	// Other settings make other runs: the note says that the interrupted
	// run is not resumed, and what differs.
	other := attnlab(t, "run", "testdata/long.yaml", "--db", db, "--workers", "1", "--set", "eval.samples=3")
	wantOK(t, other)
	if !strings.Contains(other.stderr, "attnlab: note: long/seed=1 starts from step 0, not from interrupted run 1, whose settings differ: eval.samples 8 → 3 (restore them to resume run 1)\n") {
		t.Errorf("no note of the interrupted run under other settings:\n%s", other.stderr)
	}

	again := attnlab(t, "run", "testdata/long.yaml", "--db", db, "--workers", "1")
	wantOK(t, again)
	if strings.Contains(again.stderr, "note: long") {
		t.Errorf("a note with the run's own settings:\n%s", again.stderr)
	}
	if !strings.Contains(again.stderr, "long/seed=1: resume at step 2") {
		t.Errorf("the rerun did not resume run 1 from its checkpoint:\n%s", again.stderr)
	}
	if !strings.Contains(again.stdout, "long") || !slices.Equal(rowSizes(t, again.stdout), []int{2}) {
		t.Errorf("the table after resuming: want one row of 2 runs\n%s", again.stdout)
	}
}

// TestRunEarlierVersions: runs of an earlier version of the experiment
// file stay in the database under its name, but run's table shows only
// the runs of the file as it is now. compare shows both versions, each
// setting in its own row: one experiment run twice with different
// train.steps is never pooled as if the runs were seeds of one setting
// (issue 10), and --by that would pool them is an error unless --pool
// names the key.
func TestRunEarlierVersions(t *testing.T) {
	db := filepath.Join(t.TempDir(), "versions.db")
	wantOK(t, attnlab(t, "run", "testdata/tiny.yaml", "--db", db, "-q", "--set", "train.steps=20"))
	r := attnlab(t, "run", "testdata/tiny.yaml", "--db", db, "--set", "train.steps=30", "--width", "200")
	wantOK(t, r)
	if want := "(4 done runs of earlier versions of tiny not shown: attnlab compare --db " + shell.Quote(db) + " tiny shows them)"; !strings.Contains(r.stderr, want) {
		t.Errorf("no note on the earlier runs:\n%s", r.stderr)
	}
	if got := rowSizes(t, r.stdout); !slices.Equal(got, []int{2, 2}) {
		t.Errorf("the run table has rows of %v runs, want 2 rows of 2:\n%s", got, r.stdout)
	}
	for _, format := range []string{"table", "csv", "json", "markdown"} {
		all := attnlab(t, "compare", "tiny", "--db", db, "--width", "200", "-f", format)
		wantOK(t, all)
		switch format {
		case "table":
			if got := rowSizes(t, all.stdout); !slices.Equal(got, []int{2, 2, 2, 2}) {
				t.Errorf("compare shows rows of %v runs, want 4 rows of 2 (the two versions apart):\n%s", got, all.stdout)
			}
			if !strings.Contains(all.stdout, "train.steps") {
				t.Errorf("compare does not head the rows with train.steps:\n%s", all.stdout)
			}
		case "csv":
			recs, err := csv.NewReader(strings.NewReader(all.stdout)).ReadAll()
			if err != nil || len(recs) != 5 || !slices.Contains(recs[0], "train.steps") {
				t.Errorf("compare csv: %v\n%s", err, all.stdout)
			}
		case "json":
			var v struct {
				Keys []string `json:"keys"`
				Rows []any    `json:"rows"`
			}
			if err := json.Unmarshal([]byte(all.stdout), &v); err != nil || len(v.Rows) != 4 || !slices.Contains(v.Keys, "train.steps") {
				t.Errorf("compare json: %v\n%s", err, all.stdout)
			}
		case "markdown":
			if n := strings.Count("\n"+all.stdout, "\n| ") - 1; n != 4 { // the head, then 4 rows
				t.Errorf("compare markdown: %d rows, want 4\n%s", n, all.stdout)
			}
		}
		by := attnlab(t, "compare", "tiny", "--db", db, "--by", "attention.name", "-f", format)
		wantError(t, by, exitUsage, "--by attention.name would put runs with different train.steps (20, 30) in one group", "--pool")
	}
	pooled := attnlab(t, "compare", "tiny", "--db", db, "--by", "attention.name", "--pool", "steps", "--width", "200")
	wantOK(t, pooled)
	if got := rowSizes(t, pooled.stdout); !slices.Equal(got, []int{4, 4}) ||
		!strings.Contains(pooled.stdout, "train.steps (pooled)") || !strings.Contains(pooled.stdout, "20, 30") {
		t.Errorf("compare --by attention.name --pool steps:\n%s", pooled.stdout)
	}
	wantError(t, attnlab(t, "compare", "tiny", "--db", db, "--pool", "steps"), exitUsage, "--pool needs --by")
}

// TestWriteRunNames: run's list of names stays within the width, never
// splits a name, and never leaves a point's last seed alone on a line.
func TestWriteRunNames(t *testing.T) {
	report := func(exp string, points []string, seeds ...int64) *runs.Report {
		rep := &runs.Report{}
		for _, p := range points {
			for _, s := range seeds {
				id := int64(len(rep.Outcomes) + 1)
				r := store.Run{ID: id, Experiment: exp, Seed: s, Status: store.StatusDone, Point: `{"model.attention.name":"` + p + `"}`,
					Hash: strings.Repeat(strconv.FormatInt(id%10, 10), 16)}
				rep.Outcomes = append(rep.Outcomes, runs.Outcome{Run: r, Status: store.StatusDone})
			}
		}
		return rep
	}
	quick := report("quickstart", []string{"none", "scaled-dot"}, 1, 2, 3)
	uneven := report("quickstart", []string{"none", "scaled-dot"}, 1, 2, 3)
	uneven.Outcomes[1].Run.Status = store.StatusFailed // none, seed 2
	// resolve takes a name to the report's run, except the names taken by
	// an earlier version of the experiment (shared), and EXPERIMENT/HASH.
	var shared []string
	resolver := func(rep *runs.Report) func(string) (store.Run, error) {
		return func(ref string) (store.Run, error) {
			if slices.Contains(shared, ref) {
				return store.Run{}, store.ErrAmbiguous
			}
			for _, o := range rep.Outcomes {
				if o.Run.Name() == ref || o.Run.Experiment+"/"+o.Run.Hash[:8] == ref {
					return o.Run, nil
				}
			}
			return store.Run{}, store.ErrNotFound
		}
	}
	for _, tc := range []struct {
		name string
		rep  *runs.Report
		cols int
		want string
	}{
		{"fits", report("tiny", []string{"none", "additive"}, 1, 2), 80, `
runs by name (attnlab show, generate and plot attention take them):
  tiny/none/seed=1  tiny/none/seed=2
  tiny/additive/seed=1  tiny/additive/seed=2
`},
		{"wide", quick, 120, `
runs by name (attnlab show, generate and plot attention take them):
  quickstart/none/seed=1  quickstart/none/seed=2  quickstart/none/seed=3
  quickstart/scaled-dot/seed=1  quickstart/scaled-dot/seed=2  quickstart/scaled-dot/seed=3
`},
		{"80 columns: one line per point", quick, 80, `
runs by name (attnlab show, generate and plot attention take them; for the other
seeds write seed=2 or seed=3 in place of seed=1):
  quickstart/none/seed=1
  quickstart/scaled-dot/seed=1
`},
		{"80 columns, seeds differ: one name per line", uneven, 80, `
runs by name (attnlab show, generate and plot attention take them):
  quickstart/none/seed=1
  quickstart/none/seed=3
  quickstart/scaled-dot/seed=1
  quickstart/scaled-dot/seed=2
  quickstart/scaled-dot/seed=3
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeRunNames(&b, tc.cols, tc.rep, nil, resolver(tc.rep))
			if b.String() != tc.want {
				t.Errorf("at %d columns got\n%s\nwant\n%s", tc.cols, b.String(), tc.want)
			}
			for _, l := range strings.Split(b.String(), "\n") {
				if width(l) > tc.cols {
					t.Errorf("line wider than %d: %q", tc.cols, l)
				}
			}
		})
	}
	// Names an earlier version of the experiment shares are given by hash,
	// which resolves to the run.
	shared = []string{"quickstart/none/seed=1", "quickstart/none/seed=2"}
	var b strings.Builder
	writeRunNames(&b, 120, quick, nil, resolver(quick))
	if got := b.String(); !strings.Contains(got, "quickstart/"+quick.Outcomes[0].Run.Hash[:8]+"\n") ||
		!strings.Contains(got, "quickstart/"+quick.Outcomes[1].Run.Hash[:8]+"\n") || strings.Contains(got, "none/seed=1") {
		t.Errorf("shared names:\n%s", got)
	}
}

// TestRunWorkersFitMemory: --max-memory bounds the process, not only each
// run: with room for one run's estimate, -j 2 trains one run at a time,
// says so, and finishes.
func TestRunWorkersFitMemory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "mem.db")
	r := attnlab(t, "run", "testdata/tiny.yaml", "--db", db, "-j", "2", "--max-memory", "1.5MiB", "--set", "train.steps=5")
	wantOK(t, r)
	if !strings.Contains(r.stderr, "attnlab: note: at most 1 run at once, not 2: each run is estimated at up to ") ||
		!strings.Contains(r.stderr, "and --max-memory 1.50 MiB bounds this process") {
		t.Errorf("no note on the workers:\n%s", r.stderr)
	}
	r = attnlab(t, "run", "testdata/tiny.yaml", "--db", db, "-j", "2", "--max-memory", "1GiB", "--set", "train.steps=5")
	wantOK(t, r)
	if strings.Contains(r.stderr, "at once, not") {
		t.Errorf("a note with room for every run:\n%s", r.stderr)
	}
}

// TestRunOutcomeRemoved: a run removed from the database while another
// process had it queued is said to be removed, not "status queued".
func TestRunOutcomeRemoved(t *testing.T) {
	rep := &runs.Report{Outcomes: []runs.Outcome{{Run: store.Run{ID: 3, Seed: 2}, Status: store.StatusQueued}}}
	var b strings.Builder
	err := runOutcomes(&b, rep, false, func(id int64) bool { return id == 3 })
	if err == nil || b.String() != "run 3 (seed 2) not done: removed from the database meanwhile (attnlab rm)\n" {
		t.Errorf("err %v, wrote %q", err, b.String())
	}
}

// TestRunUsesMeasuredData: run's workers estimate a run with the dataset
// memory plan measured, not the rougher estimate from the files' sizes a
// stored configuration gets: a limit between the two trains the run.
func TestRunUsesMeasuredData(t *testing.T) {
	dir := t.TempDir()
	corpus := writeIn(t, dir, "c.txt", strings.Repeat("the cat sat on the mat.\n", 1<<20/24)) // 1 MB: 5 MB built, 16 MB by size
	db := filepath.Join(dir, "r.db")
	ctx64 := "task.context=64" // 5 bytes a character built: the text and an int32 id
	plan := attnlab(t, "plan", "testdata/lm.yaml", "--set", "task.path="+corpus, "--set", ctx64)
	wantOK(t, plan)
	r := attnlab(t, "run", "testdata/lm.yaml", "--db", db, "-q", "--set", "task.path="+corpus, "--set", ctx64, "--set", "train.steps=2", "--max-memory", "18MiB")
	wantOK(t, r)
	if !strings.Contains(plan.stdout, "the dataset 5.00 MiB") {
		t.Errorf("plan: %s", plan.stdout)
	}
}

// TestGoneError: when the database file is deleted during run, the
// command's one line is the store's sentence naming the file — not the
// write that noticed it, another run's as often as not — and counts what
// became of the plan's runs, which the progress output did not list.
func TestGoneError(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "lab.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	rep := &runs.Report{Outcomes: []runs.Outcome{
		{Status: store.StatusDone},
		{Status: store.StatusInterrupted},
		{Status: store.StatusQueued, Note: runs.NotRunGone},
		{Status: store.StatusInterrupted, Note: runs.NotRunGone},
	}}
	noticed := fmt.Errorf("write metrics of run 7: %w", st.Gone())
	got := goneError(st, noticed, rep)
	if !errors.Is(got, store.ErrDatabaseGone) {
		t.Errorf("goneError = %v, want it to wrap ErrDatabaseGone", got)
	}
	want := "store " + db + ": the database file was deleted while attnlab was using it; nothing written since is stored (1 of 4 runs done, 1 stopped, 2 not run)"
	if got.Error() != want {
		t.Errorf("goneError =\n%s\nwant\n%s", got, want)
	}
	// A worker ends with the same words, without the write that noticed.
	if got, want := workError(st, noticed), st.Gone(); got != want {
		t.Errorf("workError = %v, want %v", got, want)
	}
	if other := errors.New("store: claim: disk I/O error"); workError(st, other) != other {
		t.Errorf("workError(another error) = %v, want it unchanged", workError(st, other))
	}
}

// tinyReverse is the text of an experiment that trains a tiny LSTM on
// reverse for 10 steps, one run per seed ("[1, 2]").
func tinyReverse(name, seeds string) string {
	return "name: " + name + "\n" + `task: {name: reverse, symbols: 6, min_len: 3, max_len: 6, train_size: 100, valid_size: 20, test_size: 20}
model:
  name: seq2seq-rnn
  embed: 8
  encoder: {name: lstm, hidden: 8}
  attention: {name: dot}
train:
  optimizer: {name: sgd, lr: 0.01}
  batch_size: 16
  steps: 10
  eval_every: 10
seeds: ` + seeds + "\n"
}
