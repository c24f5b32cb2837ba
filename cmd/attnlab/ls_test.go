package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

func TestLs(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "ls", "--db", db)
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
	if again := attnlab(t, "ls", "experiments", "--db", db); again.stdout != r.stdout {
		t.Errorf("ls experiments differs from ls:\n%s", again.stdout)
	}
}

func TestLsRuns(t *testing.T) {
	db := sharedDB(t)
	r := attnlab(t, "ls", "runs", "--db", db)
	wantOK(t, r)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 6 {
		t.Fatalf("ls runs: want a header and 5 runs:\n%s", r.stdout)
	}
	for _, col := range []string{"id", "experiment", "hash", "seed", "status", "point", "attempt", "started", "finished", "error"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("ls runs header lacks %s: %q", col, lines[0])
		}
	}
	run := runOf(t, db, "tiny", `"additive"`)
	var row string
	for _, l := range lines {
		if strings.HasPrefix(l, id(run)+" ") {
			row = l
		}
	}
	for _, want := range []string{"tiny", run.Hash[:8], "done", "attention.name=additive"} {
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
		{[]string{"ls", "--where", "test/exact_match >= 0"}, 4},
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
	wantError(t, attnlab(t, "ls", "runs", "-e", "nope", "--db", db), exitFailure,
		`ls: no experiment "nope" in `+db+" (known: tiny, tinylm)")
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
	wantError(t, attnlab(t, "ls", "-e", "x", "--db", db), exitFailure, "it holds no experiments yet")
}
