package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// addExperiment creates experiment name with n runs h0..h{n-1}, each with
// params seed and model.attention.name, and returns them.
func addExperiment(tb testing.TB, s *Store, name string, n int) []Run {
	tb.Helper()
	ctx := context.Background()
	id, err := s.PutExperiment(ctx, name, "test "+name, "name: "+name+"\n")
	if err != nil {
		tb.Fatalf("PutExperiment: %v", err)
	}
	specs := make([]RunSpec, n)
	for i := range specs {
		specs[i] = RunSpec{
			Hash:   fmt.Sprintf("%s%04d", name, i),
			Seed:   int64(i),
			Config: fmt.Sprintf(`{"seed": %d, "model": {"attention": {"name": "dot"}}}`, i),
			Point:  `{}`,
		}
	}
	runs, err := s.EnsureRuns(ctx, id, specs)
	if err != nil {
		tb.Fatalf("EnsureRuns: %v", err)
	}
	return runs
}

// rawDB opens path with the driver directly, bypassing the store.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestSchemaVersionMatchesMigrations(t *testing.T) {
	if got, want := len(migrations), SchemaVersion; got != want {
		t.Fatalf("len(migrations) = %d, want SchemaVersion = %d", got, want)
	}
}

func TestOpenCreatesAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := context.Background()
	if _, err := s.PutExperiment(ctx, "e", "", ""); err != nil {
		t.Fatal(err)
	}
	var mode string
	var version, appID int
	if err := s.db.QueryRow(`SELECT (SELECT journal_mode FROM pragma_journal_mode),
		(SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id)`).
		Scan(&mode, &version, &appID); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || version != SchemaVersion || appID != applicationID {
		t.Fatalf("journal_mode, user_version, application_id = %s, %d, %#x; want wal, %d, %#x",
			mode, version, appID, SchemaVersion, applicationID)
	}
	var fk int
	if err := s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (%v), want 1", fk, err)
	}
	s.Close()

	s2, err := OpenExisting(path)
	if err != nil {
		t.Fatalf("OpenExisting: %v", err)
	}
	defer s2.Close()
	exps, err := s2.Experiments(ctx)
	if err != nil || len(exps) != 1 || exps[0].Name != "e" {
		t.Fatalf("Experiments() = %v, %v; want [e]", exps, err)
	}
}

func TestOpenPathWithSpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%d e.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the store was not created at %q: %v", path, err)
	}
	s, err = OpenExisting(path)
	if err != nil {
		t.Fatalf("OpenExisting(%q): %v", path, err)
	}
	s.Close()
}

func TestOpenExistingDoesNotCreate(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.db"), "no attnlab database at " + filepath.Join(dir, "nope.db")},
		{"empty file", empty, "no attnlab database at " + empty + " (the file is empty)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := OpenExisting(tc.path)
			if err == nil {
				s.Close()
				t.Fatalf("OpenExisting(%s) succeeded, want an error", tc.path)
			}
			if err.Error() != tc.want {
				t.Fatalf("OpenExisting error = %q, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrNoDatabase) {
				t.Fatalf("errors.Is(%v, ErrNoDatabase) = false", err)
			}
			fi, statErr := os.Stat(tc.path)
			switch {
			case tc.name == "missing" && statErr == nil:
				t.Fatalf("OpenExisting created %s", tc.path)
			case tc.name == "empty file" && (statErr != nil || fi.Size() != 0):
				t.Fatalf("OpenExisting wrote to the empty file (%v)", statErr)
			}
			if _, err := os.Stat(tc.path + "-wal"); err == nil {
				t.Fatalf("OpenExisting created %s-wal", tc.path)
			}
		})
	}
}

func TestOpenExistingEmptySQLiteDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blank.db")
	db := rawDB(t, path)
	if _, err := db.Exec(`PRAGMA user_version = 0`); err != nil { // writes the header
		t.Fatal(err)
	}
	db.Close()
	_, err := OpenExisting(path)
	if !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("OpenExisting(blank SQLite db) error = %v, want ErrNoDatabase", err)
	}
}

// TestOpenRefusesForeignFiles checks that files that are not attnlab stores
// give a one-line error naming the file, never a panic, and are left as
// they were.
func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(i*7 + i/3)
	}
	badHeader := append([]byte("SQLite format 3\x00"), garbage[:8192-16]...)

	otherApp := filepath.Join(dir, "other.db")
	db := rawDB(t, otherApp)
	if _, err := db.Exec(`CREATE TABLE songs (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO songs (title) VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	otherAppVersioned := filepath.Join(dir, "versioned.db")
	db = rawDB(t, otherAppVersioned)
	if _, err := db.Exec(`CREATE TABLE t (x); PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		name, path, want string
	}{
		{"text file", write("notes.txt", []byte("hello, this is not a database\n")), "not a SQLite database"},
		{"random bytes", write("random.db", garbage), "not a SQLite database"},
		{"bad header", write("header.db", badHeader), ""},
		{"other application", otherApp, "not an attnlab database (it has tables songs but no attnlab schema)"},
		{"other application with user_version", otherAppVersioned, "not an attnlab database"},
		{"directory", dir, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			for _, open := range []func(string) (*Store, error){Open, OpenExisting} {
				s, err := open(tc.path)
				if err == nil {
					s.Close()
					t.Fatalf("Open(%s) succeeded, want an error", tc.path)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "store "+tc.path+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
					t.Fatalf("Open error = %q, want one line starting %q containing %q", msg, "store "+tc.path+": ", tc.want)
				}
				t.Logf("%s", msg)
				if !errors.Is(err, ErrNotStore) {
					t.Fatalf("errors.Is(%q, ErrNotStore) = false", msg)
				}
			}
			after, _ := os.ReadFile(tc.path)
			if string(before) != string(after) {
				t.Fatalf("Open modified %s", tc.path)
			}
		})
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := rawDB(t, path)
	if _, err := db.Exec(`PRAGMA user_version = 7`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, open := range []func(string) (*Store, error){Open, OpenExisting} {
		_, err := open(path)
		want := fmt.Sprintf("store %s: schema version 7 is newer than this attnlab supports (%d); upgrade attnlab", path, SchemaVersion)
		if err == nil || err.Error() != want {
			t.Fatalf("Open error = %v, want %q", err, want)
		}
		if !errors.Is(err, ErrSchemaTooNew) {
			t.Fatalf("errors.Is(%v, ErrSchemaTooNew) = false", err)
		}
	}
}

// createAtVersion makes a store at schema version v by applying only the
// first v migrations, as an older attnlab would have.
func createAtVersion(tb testing.TB, path string, v int) *sql.DB {
	tb.Helper()
	db := rawDB(tb, path)
	for _, m := range migrations[:v] {
		if _, err := db.Exec(m.sqlite); err != nil {
			tb.Fatalf("migration %s: %v", m.name, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, v)); err != nil {
		tb.Fatal(err)
	}
	return db
}

// TestMigrateFromEveryVersion fills a store at each older schema version
// with data through plain SQL, opens it, and checks that it was migrated
// with the data intact and readable through the API.
func TestMigrateFromEveryVersion(t *testing.T) {
	for v := 1; v < SchemaVersion; v++ {
		t.Run(fmt.Sprintf("from version %d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			db := createAtVersion(t, path, v)
			const ts = "2026-01-02T03:04:05.000Z"
			_, err := db.Exec(`
				INSERT INTO experiments (id, name, description, yaml, created, updated) VALUES (1, 'copy', 'd', 'y: 1', ?, ?);
				INSERT INTO runs (id, experiment_id, hash, seed, config, point, status, attempt, created, finished)
					VALUES (1, 1, 'abcdef01', 3, '{"seed":3,"lr":0.001}', '{"lr":0.001}', 'done', 1, ?, ?);
				INSERT INTO params (run_id, key, type, value) VALUES (1, 'lr', 'number', 0.001), (1, 'seed', 'number', 3), (1, 'bi', 'bool', 1);
				INSERT INTO metrics (run_id, key, step, value, wall) VALUES (1, 'train/loss', 0, 2.5, 1.5e9), (1, 'train/loss', 1, NULL, 1.5e9);
				INSERT INTO summaries (run_id, key, value) VALUES (1, 'test/bleu', 0.25), (1, 'test/ppl', 9e999);
				INSERT INTO artifacts (run_id, kind, name, size, data, created) VALUES (1, 'checkpoint', 'last', 3, x'010203', ?);`,
				ts, ts, ts, ts, ts)
			if err != nil {
				t.Fatalf("fill version %d: %v", v, err)
			}
			// Text params are in value before version 4, in text_value since.
			textParam := `INSERT INTO params (run_id, key, type, value) VALUES (1, 'task', 'text', 'scan')`
			if v >= 4 {
				textParam = `INSERT INTO params (run_id, key, type, text_value) VALUES (1, 'task', 'text', 'scan')`
			}
			if _, err := db.Exec(textParam); err != nil {
				t.Fatalf("fill version %d: %v", v, err)
			}
			db.Close()

			s, err := Open(path)
			if err != nil {
				t.Fatalf("Open(version %d store): %v", v, err)
			}
			defer s.Close()
			var got int
			if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&got); err != nil || got != SchemaVersion {
				t.Fatalf("user_version after Open = %d (%v), want %d", got, err, SchemaVersion)
			}
			var idx int
			if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'runs_hash'`).Scan(&idx); err != nil || idx != 1 {
				t.Fatalf("index runs_hash: count %d (%v), want 1", idx, err)
			}

			ctx := context.Background()
			r, err := s.ResolveRun(ctx, "abcd")
			if err != nil {
				t.Fatalf("Run(abcd): %v", err)
			}
			if r.ID != 1 || r.Seed != 3 || r.Status != StatusDone || r.Experiment != "copy" || r.Finished.IsZero() {
				t.Fatalf("Run(abcd) = %+v, want run 1 of copy, seed 3, done, finished", r)
			}
			params, err := s.Params(ctx, []int64{1})
			if err != nil || !params[1]["lr"].Equal(NumberValue(0.001)) || !params[1]["task"].Equal(TextValue("scan")) ||
				!params[1]["bi"].Equal(BoolValue(true)) || !params[1]["seed"].Equal(NumberValue(3)) {
				t.Fatalf("Params = %v, %v; want lr 0.001, task scan, bi true, seed 3", params, err)
			}
			where, _ := ParseWhere("task = scan and lr < 0.01 and bi = true")
			if runs, err := s.Runs(ctx, RunFilter{Where: where}); err != nil || len(runs) != 1 {
				t.Fatalf("Runs(where on migrated params) = %d runs, %v; want 1", len(runs), err)
			}
			hist, err := s.MetricHistory(ctx, []int64{1}, "train/loss")
			if err != nil || len(hist[1]) != 2 || hist[1][0].Value != 2.5 || !math.IsNaN(hist[1][1].Value) {
				t.Fatalf("MetricHistory = %v, %v; want [2.5 NaN]", hist, err)
			}
			sums, err := s.Summaries(ctx, []int64{1})
			// Migration 5 renames the 0–1 BLEU of older runs and puts it on 0–100.
			_, stillBLEU := sums[1]["test/bleu"]
			if err != nil || sums[1]["test/bleu_legacy"] != 25 || stillBLEU || !math.IsInf(sums[1]["test/ppl"], 1) {
				t.Fatalf("Summaries = %v, %v; want bleu_legacy 25 (no bleu), ppl +Inf", sums, err)
			}
			data, err := s.Artifact(ctx, 1, "checkpoint", "last")
			if err != nil || string(data) != "\x01\x02\x03" {
				t.Fatalf("Artifact = %x, %v; want 010203", data, err)
			}
		})
	}
}

// TestMigrateArtifactNames checks migration 3: a version-2 store's model
// artifacts spec.json and model.json read back as vocab.json and
// model_spec.json (package artifact's names), and nothing else is renamed.
func TestMigrateArtifactNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db := createAtVersion(t, path, 2)
	const ts = "2026-01-02T03:04:05.000Z"
	_, err := db.Exec(`
		INSERT INTO experiments (id, name, created, updated) VALUES (1, 'copy', ?, ?);
		INSERT INTO runs (id, experiment_id, hash, seed, config, status, created) VALUES (1, 1, 'abcdef01', 1, '{}', 'done', ?);
		INSERT INTO artifacts (run_id, kind, name, size, data, created) VALUES
			(1, 'model', 'spec.json', 1, x'01', ?), (1, 'model', 'model.json', 1, x'02', ?),
			(1, 'model', 'params.safetensors', 1, x'03', ?), (1, 'samples', 'spec.json', 1, x'04', ?);`,
		ts, ts, ts, ts, ts, ts, ts)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	infos, err := s.Artifacts(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range infos {
		data, err := s.Artifact(context.Background(), 1, a.Kind, a.Name)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%s=%x", a.Kind, a.Name, data))
	}
	want := []string{"model/model_spec.json=02", "model/params.safetensors=03", "model/vocab.json=01", "samples/spec.json=04"}
	if !slices.Equal(got, want) {
		t.Fatalf("artifacts after migration = %v, want %v", got, want)
	}
}

func TestMigrationFailureLeavesFileUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db := createAtVersion(t, path, 1)
	// An object in the way of migration 2 makes it fail half way.
	if _, err := db.Exec(`CREATE TABLE runs_experiment_status (x)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path); err == nil || !strings.HasPrefix(err.Error(), "store "+path+": ") {
		t.Fatalf("Open error = %v, want one naming %s", err, path)
	}
	db = rawDB(t, path)
	var v, idx int
	if err := db.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema WHERE name = 'runs_hash')`).Scan(&v, &idx); err != nil {
		t.Fatal(err)
	}
	if v != 1 || idx != 0 {
		t.Fatalf("after a failed migration: user_version %d, runs_hash indexes %d; want 1, 0 (rolled back)", v, idx)
	}
}

// corruptStore writes a store with some runs, checkpoints the WAL into the
// file, and overwrites 4 KiB at offset off (or truncates the file to off
// bytes).
func corruptStore(tb testing.TB, off int64, truncate bool) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "c.db")
	s, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	addExperiment(tb, s, "e", 20)
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
	s.Close()
	if truncate {
		if err := os.Truncate(path, off); err != nil {
			tb.Fatal(err)
		}
		return path
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*13 + 7)
	}
	if _, err := f.WriteAt(junk, off); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

func TestOpenCorruptStore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		off      int64
		truncate bool
	}{
		{"header page overwritten", 100, false},
		{"schema overwritten", 1024, false},
		{"truncated", 5000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := corruptStore(t, tc.off, tc.truncate)
			_, err := Open(path)
			want := "store " + path + ": the database file is corrupt"
			if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, ErrNotStore) {
				t.Fatalf("Open error = %v, want %q... wrapping ErrNotStore", err, want)
			}
		})
	}

	// Damage past the schema is not seen by Open (it reads only the
	// header and schema) but by the queries that reach it, and by Check.
	path := corruptStore(t, 4096, false)
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := s.Runs(context.Background(), RunFilter{}); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("Runs error = %v, want a malformed-database error", err)
	}
	if err := s.Check(context.Background()); err == nil || !errors.Is(err, ErrNotStore) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Check error = %v, want one line wrapping ErrNotStore", err)
	} else {
		t.Logf("Check: %v", err)
	}
	healthy := newStore(t)
	if err := healthy.Check(context.Background()); err != nil {
		t.Fatalf("Check(healthy store) = %v, want nil", err)
	}
}
