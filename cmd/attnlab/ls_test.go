package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

func TestLs(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "ls", "--db", db, "--width", "200")
	wantOK(t, r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "experiment  runs  queued  running  done  failed  interrupted  updated") {
		t.Fatalf("ls:\n%s", r.stdout)
	}
	if f := strings.Fields(lines[1]); f[0] != "tiny" || f[1] != "4" || f[4] != "4" {
		t.Errorf("ls row of tiny: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "tinylm" || f[1] != "1" {
		t.Errorf("ls row of tinylm: %q", lines[2])
	}
	if again := attnlab(t, "ls", "experiments", "--db", db, "--width", "200"); again.stdout != r.stdout {
		t.Errorf("ls experiments differs from ls:\n%s", again.stdout)
	}
	// At 80 columns the statuses no experiment has go first.
	narrow := attnlab(t, "ls", "--db", db, "--width", "80")
	wantOK(t, narrow)
	if lines := strings.Split(narrow.stdout, "\n"); !strings.HasPrefix(lines[0], "experiment  runs  done  updated") {
		t.Errorf("ls at 80 columns:\n%s", narrow.stdout)
	}
	for _, l := range strings.Split(narrow.stdout, "\n") {
		if width(l) > 80 {
			t.Errorf("ls at 80 columns: line of %d: %q", width(l), l)
		}
	}
}

func TestLsRuns(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "ls", "runs", "--db", db, "--width", "200")
	wantOK(t, r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 6 {
		t.Fatalf("ls runs: want a header and 5 runs:\n%s", r.stdout)
	}
	for _, col := range []string{"id", "name", "status", "attempt", "hash", "started", "ended", "error"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("ls runs header lacks %s: %q", col, lines[0])
		}
	}
	run := runOf(t, db, "tiny", `"additive"`)
	var row string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == id(run) {
			row = l
		}
	}
	for _, want := range []string{run.Name(), run.Hash[:8], "done"} {
		if !strings.Contains(row, want) {
			t.Errorf("ls runs row of run %d lacks %q: %q", run.ID, want, row)
		}
	}

	// Filters: --experiment (alone it means runs), --status, --where.
	for _, tc := range []struct {
		args []string
		rows int
	}{
		{[]string{"ls", "--experiment", "tiny"}, 4},
		{[]string{"ls", "runs", "-e", "tiny", "-e", "tinylm"}, 5},
		{[]string{"ls", "runs", "--status", "done"}, 5},
		{[]string{"ls", "runs", "--status", "failed"}, 0},
		{[]string{"ls", "runs", "--where", "model.attention.name = none and seed = 2"}, 1},
		{[]string{"ls", "runs", "--where", "attention.name = none and seed = 2"}, 1}, // the short key, as in compare
		{[]string{"ls", "--where", "test/exact_match >= 0"}, 4},
		{[]string{"ls", "--where", "exact_match >= 0", "-e", "tiny"}, 4},
	} {
		r := attnlab(t, append(tc.args, "--db", db)...)
		wantOK(t, r)
		got := len(strings.Split(strings.TrimSpace(r.stdout), "\n")) - 1
		if tc.rows == 0 {
			if r.stdout != "no runs match\n" {
				t.Errorf("%v: %q", tc.args, r.stdout)
			}
			continue
		}
		if got != tc.rows {
			t.Errorf("%v: %d rows, want %d\n%s", tc.args, got, tc.rows, r.stdout)
		}
	}
	wantError(t, attnlab(t, "ls", "runs", "-e", "nope", "--db", db), exitUsage,
		`ls: no experiment "nope" in `+db+" (known: tiny, tinylm)")
	// An unknown key is an error naming the closest keys, not "no runs
	// match"; a mistake in the command line: exit 2.
	wantError(t, attnlab(t, "ls", "runs", "--where", "atention.name = dot", "--db", db), exitUsage,
		`--where: unknown key "atention.name" (closest: model.attention.name`)
	wantError(t, attnlab(t, "ls", "runs", "--where", "test/blue > 0", "--db", db), exitUsage,
		`--where: unknown key "test/blue" (closest: test/bleu`)
}

// lsRunsFixture is a listing with what ls shows: names of several lengths,
// a failed run with a long error, a queued run, fixed times.
func lsRunsFixture() []store.Run {
	t0 := time.Date(2026, 12, 2, 7, 11, 49, 0, time.Local)
	var out []store.Run
	for i, att := range []string{"none", "dot", "additive", "multi-head"} {
		for seed := int64(1); seed <= 2; seed++ {
			id := int64(len(out) + 1)
			r := store.Run{ID: id, Experiment: "quickstart", Hash: fmt.Sprintf("%08x%056d", 0x5eed0000+id*7919, 0), Seed: seed,
				Point: `{"model.attention.name":"` + att + `"}`, Status: store.StatusDone, Attempt: 1,
				Started: t0.Add(time.Duration(id) * 7 * time.Second)}
			r.Finished = r.Started.Add(time.Duration(6100+i*500) * time.Millisecond)
			out = append(out, r)
		}
	}
	out[5].Status, out[5].Attempt = store.StatusFailed, 2
	out[5].Error = "loss is NaN at step 1200 (learning rate 3e-2 too high? lower train.optimizer.lr)\nstack..."
	out[7].Status, out[7].Attempt, out[7].Started, out[7].Finished = store.StatusQueued, 0, time.Time{}, time.Time{}
	return append(out, store.Run{ID: 9, Experiment: "attention-vs-length", Hash: "c0ffee00", Seed: 3, Status: store.StatusRunning,
		Point: `{"model.attention.name":"scaled-dot","task.max_len":40,"variant":"long"}`, Attempt: 1, Started: t0})
}

// TestLsRunsGolden: ls runs at 80 and 120 columns, as a terminal shows it.
func TestLsRunsGolden(t *testing.T) {
	for _, w := range []int{80, 120} {
		var b strings.Builder
		if _, err := runsTable(lsRunsFixture(), nil).Render(&b, w); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(b.String(), "\n") {
			if width(l) > w {
				t.Errorf("ls runs at %d: line of %d columns: %q", w, width(l), l)
			}
		}
		golden(t, fmt.Sprintf("ls_runs.%d.golden", w), b.String())
	}
}

// TestLsRunsKeepsHashOfSharedNames: when two versions of an experiment
// give runs one name (a changed data file, another --set), the hash is
// what tells them apart (show and generate ask for EXPERIMENT/HASH "as
// listed"), so a narrow table gives up other columns first and keeps it.
func TestLsRunsKeepsHashOfSharedNames(t *testing.T) {
	runs := lsRunsFixture()[:2]
	again := runs[0]
	again.ID, again.Hash = 16, "aba4a4416abee151"
	runs = append(runs, again)
	var b strings.Builder
	if _, err := runsTable(runs, nil).Render(&b, 60); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{shortHash(runs[0].Hash), shortHash(again.Hash)} {
		if !strings.Contains(b.String(), h) {
			t.Errorf("ls runs at 60 columns, two runs named %s: hash %s not listed:\n%s", again.Name(), h, b.String())
		}
	}
	// Distinct names: the hash still goes first when the table is too wide.
	b.Reset()
	if _, err := runsTable(runs[:2], nil).Render(&b, 60); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), shortHash(runs[0].Hash)) {
		t.Errorf("ls runs at 60 columns with distinct names kept the hash:\n%s", b.String())
	}
}

func TestLsEmptyDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := attnlab(t, "ls", "--db", db)
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "no experiments in "+db) {
		t.Errorf("ls of an empty database: %q", r.stdout)
	}
	wantError(t, attnlab(t, "ls", "-e", "x", "--db", db), exitUsage, "it holds no experiments yet")
}

// TestLsRunsAbandoned: a run left running by a worker that is gone (here:
// a pid of this host that has exited) says so in ls runs, where it used to
// read as running for ever.
func TestLsRunsAbandoned(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lab.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", db))
	owner, _ := claimAbandoned(t, db, 1)
	r := attnlab(t, "ls", "runs", "--db", db, "--width", "200")
	wantOK(t, r)
	want := fmt.Sprintf("its worker %s:%d is gone (a worker resumes it)", owner.Host, owner.PID)
	if !strings.Contains(r.stdout, want) || strings.Count(r.stdout, "is gone") != 1 {
		t.Errorf("ls runs:\n%s\nwant run 1 only to say %q", r.stdout, want)
	}
}
