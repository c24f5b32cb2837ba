package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

// TestSyncRoundTrip copies the shared database's experiments SQLite →
// PostgreSQL → SQLite: compare prints byte for byte the same tables from
// all three, and syncing again copies nothing.
func TestSyncRoundTrip(t *testing.T) {
	db := sharedDB(t)
	url := testenv.PostgresURL(t)
	back := filepath.Join(t.TempDir(), "back.db")

	r := attnlab(t, "sync", "--from", db, "--to", url)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "2 experiments (2 new); runs: 5 copied, 0 updated, 0 already there") {
		t.Fatalf("first sync said:\n%s", r.stdout)
	}
	again := attnlab(t, "sync", "--from", db, "--to", url)
	wantOK(t, again)
	if !strings.Contains(again.stdout, "(0 new); runs: 0 copied, 0 updated, 5 already there") {
		t.Fatalf("second sync said:\n%s", again.stdout)
	}
	wantOK(t, attnlab(t, "sync", "--from", url, "--to", back))

	for _, args := range [][]string{
		{"compare", "tiny", "--width", "200"},
		{"compare", "tiny", "--format", "csv"},
		{"compare", "tinylm", "--width", "200"},
		{"ls", "runs", "--width", "200"},
		{"export", "tiny", "--format", "csv", "-o", "-"},
		{"export", "tinylm", "--format", "json", "-o", "-"},
		{"show", "tiny/additive/seed=2"},
		{"plot", "curves", "tiny", "-o", "-"},
		{"plot", "attention", "tiny/additive/seed=1", "-o", "-"},
	} {
		want := attnlab(t, append(args, "--db", db)...)
		wantOK(t, want)
		for _, target := range []string{url, back} {
			got := attnlab(t, append(args, "--db", target)...)
			wantOK(t, got)
			if got.stdout != want.stdout {
				t.Errorf("attnlab %s differs after sync to %s:\n--- got\n%s\n--- want\n%s", strings.Join(args, " "), target, got.stdout, want.stdout)
			}
		}
	}
}

func TestSyncErrors(t *testing.T) {
	db := sharedDB(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	wantError(t, attnlab(t, "sync", "--from", db), exitUsage, "give both --from DB and --to DB")
	wantError(t, attnlab(t, "sync", "a.db", "my runs.db"), exitUsage, `sync: the databases are flags: attnlab sync --from a.db --to 'my runs.db'`)
	wantError(t, attnlab(t, "sync", "--from", db, "b.db"), exitUsage, `sync: takes no arguments, got "b.db"`)
	// An unset shell variable ($DB) is a usage error, not a database.
	wantError(t, attnlab(t, "sync", "--from", "", "--to", db), exitUsage, `--from "": want a SQLite file or a postgres:// URL`)
	wantError(t, attnlab(t, "sync", "--from", db, "--to="), exitUsage, `--to "": want a SQLite file or a postgres:// URL`)
	wantError(t, attnlab(t, "ls", "--db", " "), exitUsage, `--db " ": want a SQLite file or a postgres:// URL`)
	wantError(t, attnlab(t, "sync", "--from", db, "--to", db), exitUsage, "--from and --to name the same database")
	other := filepath.Dir(db) + "/./" + filepath.Base(db) // one file, another name
	wantError(t, attnlab(t, "sync", "--from", db, "--to", other), exitUsage, "--from and --to name the same database")
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	r := attnlab(t, "sync", "--from", db, "--to", fresh, "-e", "no-such-experiment")
	if r.code == 0 {
		t.Errorf("sync -e no-such-experiment: %v", r)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Errorf("a refused sync left %s behind", fresh)
	}
	wantError(t, attnlab(t, "sync", "--from", missing, "--to", db), exitFailure, "no attnlab database at "+missing)
	// The hint names the flag that named the missing database, not --db,
	// which sync does not take.
	wantError(t, attnlab(t, "sync", "--from", missing, "--to", db), exitFailure, "--from names another)")
	wantError(t, attnlab(t, "sync", "--from", db, "--to", filepath.Join(t.TempDir(), "x.db"), "--experiment", "nope"), exitUsage, `no experiment "nope"`)
}

// TestSyncLeavesQueuedRuns: the queued runs of a database still training
// (submitted, not yet trained) are not copied into the target's queue,
// where any worker would train them a second time; sync says how many it
// left out and why. --unfinished hands them over.
func TestSyncLeavesQueuedRuns(t *testing.T) {
	laptop := filepath.Join(t.TempDir(), "laptop.db")
	wantOK(t, attnlab(t, "submit", "testdata/tiny.yaml", "--db", laptop))
	shared := testenv.PostgresURL(t)
	r := attnlab(t, "sync", "--from", laptop, "--to", shared)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "runs: 0 copied, 0 updated, 0 already there, 4 queued or interrupted in the source (not copied: the target's workers would train them again; --unfinished hands them over)") {
		t.Fatalf("sync of queued runs said:\n%s", r.stdout)
	}
	w := attnlab(t, "worker", "--db", shared, "--max-runs", "1", "--idle-exit", "0s")
	wantOK(t, w)
	if ls := attnlab(t, "ls", "runs", "--db", shared); strings.Contains(ls.stdout, "queued") || strings.Contains(ls.stdout, "done") {
		t.Fatalf("the target holds runs after sync without --unfinished:\n%s", ls.stdout)
	}
	r = attnlab(t, "sync", "--from", laptop, "--to", shared, "--unfinished")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "runs: 4 copied, 0 updated, 0 already there\n") {
		t.Fatalf("sync --unfinished said:\n%s", r.stdout)
	}
}

// TestSyncNamedTwice: an experiment named twice with -e is copied and
// counted once.
func TestSyncNamedTwice(t *testing.T) {
	to := filepath.Join(t.TempDir(), "twice.db")
	r := attnlab(t, "sync", "--from", sharedDB(t), "--to", to, "-e", "tiny", "-e", "tiny")
	wantOK(t, r)
	if !strings.Contains(r.stdout, ": 1 experiment (1 new); runs: 4 copied, 0 updated, 0 already there") {
		t.Errorf("sync -e tiny -e tiny said:\n%s", r.stdout)
	}
}

// TestSyncSaysResultsDiffer: a run done in both databases with other
// summaries (the same run trained twice) is kept as the target has it,
// and the report says how many differ (it said only "already there").
func TestSyncSaysResultsDiffer(t *testing.T) {
	db := sharedDB(t)
	target := filepath.Join(t.TempDir(), "target.db")
	wantOK(t, attnlab(t, "sync", "--from", db, "--to", target, "-e", "tiny"))
	st, err := store.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rs, err := st.Runs(ctx, store.RunFilter{Status: store.StatusDone})
	if err != nil || len(rs) == 0 {
		t.Fatalf("runs %v, %v", rs, err)
	}
	// Costs differ between any two trainings: not a difference of results.
	if err := st.PutSummaries(ctx, rs[0].ID, map[string]float64{"perf/tokens_per_s": 1, "perf/train_seconds": 1e4}); err != nil {
		t.Fatal(err)
	}
	r := attnlab(t, "sync", "--from", db, "--to", target, "-e", "tiny")
	wantOK(t, r)
	if strings.Contains(r.stdout, "other results") {
		t.Errorf("sync onto a run with other costs only said:\n%s", r.stdout)
	}
	if err := st.PutSummaries(ctx, rs[0].ID, map[string]float64{"test/loss": 123}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r = attnlab(t, "sync", "--from", db, "--to", target, "-e", "tiny")
	wantOK(t, r)
	if !regexp.MustCompile(`runs: 0 copied, 0 updated, \d+ already there \(1 of them done in both with other results: the target's kept`).MatchString(r.stdout) {
		t.Errorf("sync onto a run with other results said:\n%s", r.stdout)
	}
}

// TestBlankEnvDB: a blank $ATTNLAB_DB, the default of --db, is a usage
// error as a blank --db is, not the name of a database file to create.
func TestBlankEnvDB(t *testing.T) {
	yaml, err := filepath.Abs("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	t.Setenv("ATTNLAB_DB", " ")
	wantError(t, attnlab(t, "ls"), exitUsage, `$ATTNLAB_DB " ": want a SQLite file or a postgres:// URL`)
	wantError(t, attnlab(t, "run", yaml, "--set", "train.steps=1"), exitUsage, `$ATTNLAB_DB " ": want a SQLite file or a postgres:// URL`)
	if _, err := os.Stat(" "); err == nil {
		t.Error(`a blank $ATTNLAB_DB made a database file named " "`)
	}
}
