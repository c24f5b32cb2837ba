package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tinyExperiment writes and runs a two-step experiment named name into db.
func tinyExperiment(t *testing.T, db, name string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), name+".yaml")
	writeFile(t, cfg, `name: `+name+`
task: {name: reverse, symbols: 6, min_len: 3, max_len: 5, train_size: 40, valid_size: 8, test_size: 8}
model: {name: seq2seq-rnn, embed: 8, encoder: {name: lstm, hidden: 8}, attention: {name: dot}}
train: {optimizer: {name: adam}, batch_size: 8, steps: 2, eval_every: 2, log_every: 1}
seeds: [1]
`)
	wantOK(t, attnlab(t, "run", cfg, "--db", db, "-q"))
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestServeDatabaseReplaced: serve follows its database file as a user
// replaces it (another database moved into place), deletes it and makes it
// again (attnlab run): the next page shows the file at the path now, a
// page says so while there is none, and no page is ever a 500 ("database
// disk image is malformed", from reading the old file against the new
// one's -wal and -shm).
func TestServeDatabaseReplaced(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	other := filepath.Join(dir, "other.db")
	tinyExperiment(t, db, "first")
	tinyExperiment(t, other, "second")
	base := startServe(t, "--db", db)
	page := func(path string, want int, wantText ...string) string {
		t.Helper()
		code, body := get(t, base+path)
		if code != want || strings.Contains(body, "malformed") {
			t.Fatalf("GET %s = %d, want %d:\n%s", path, code, want, body)
		}
		for _, s := range wantText {
			if !strings.Contains(body, s) {
				t.Fatalf("GET %s does not say %q:\n%s", path, s, body)
			}
		}
		return body
	}
	page("/", http.StatusOK, `href="/x/first"`)
	page("/x/first", http.StatusOK)

	if err := os.Rename(other, db); err != nil {
		t.Fatal(err)
	}
	if body := page("/", http.StatusOK, `href="/x/second"`); strings.Contains(body, `href="/x/first"`) {
		t.Fatalf("after the file was replaced, / still shows experiment first:\n%s", body)
	}
	page("/x/second", http.StatusOK)
	page("/x/first", http.StatusNotFound)

	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	page("/", http.StatusServiceUnavailable, "the database file "+db+" was deleted")
	page("/x/second", http.StatusServiceUnavailable, "the database file "+db+" was deleted")
	page("/api/live", http.StatusServiceUnavailable, "was deleted")
	page("/static/nothing.css", http.StatusNotFound) // assets do not need the database

	tinyExperiment(t, db, "third")
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, base+"/")
		if code == http.StatusOK && strings.Contains(body, `href="/x/third"`) {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("GET / after the database was made again = %d:\n%s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeOldLogLeft: a database moved over one that a run wrote to while
// serve was showing it finds the old file's write-ahead log beside it
// (SQLite neither checkpoints nor deletes the log of a moved file), which
// SQLite would apply to it: serve showed the old runs and, opening it
// read-write, wrote them into the moved-in file. Serve now says so,
// naming the log, opens nothing until the log is moved away, and then
// shows the moved-in database, which holds only its own runs.
func TestServeOldLogLeft(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	other := filepath.Join(dir, "other.db")
	tinyExperiment(t, db, "first")
	tinyExperiment(t, other, "second")
	base := startServe(t, "--db", db)
	if code, body := get(t, base+"/"); code != http.StatusOK || !strings.Contains(body, `href="/x/first"`) {
		t.Fatalf("GET / = %d:\n%s", code, body)
	}
	tinyExperiment(t, db, "meanwhile") // serve holds the file: the log keeps its frames
	if err := os.Rename(other, db); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, base+"/")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, db+"-wal beside it is still the old file&#39;s write-ahead log") {
		t.Fatalf("GET / with the old log beside the new file = %d, want 503 naming %s-wal:\n%s", code, db, body)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Rename(db+side, filepath.Join(dir, "old.db"+side)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body = get(t, base+"/")
		if code == http.StatusOK {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("GET / once the old log was moved away = %d:\n%s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, `href="/x/second"`) || strings.Contains(body, `href="/x/first"`) || strings.Contains(body, `href="/x/meanwhile"`) {
		t.Fatalf("GET / shows other experiments than the moved-in file's:\n%s", body)
	}
	r := attnlab(t, "ls", "--db", db)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "second") || strings.Contains(r.stdout, "first") || strings.Contains(r.stdout, "meanwhile") {
		t.Fatalf("attnlab ls of the moved-in file:\n%s", r.stdout)
	}
}

// TestServeGoneNamesAbsolutePath: served by a relative --db, the pages
// that say the file was deleted, cannot be opened, or has the old file's
// log beside it name it by its absolute path, as their command lines do
// (store.SharedCommandDB): a page may be read in another directory or on
// another machine, where "runs.db" names nothing.
func TestServeGoneNamesAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs := filepath.Join(dir, "runs.db")
	tinyExperiment(t, "runs.db", "first")
	tinyExperiment(t, "other.db", "second")
	base := startServe(t, "--db", "runs.db")
	// want waits (the path is tried again at most once a second) until
	// GET / answers 503 saying want.
	want := func(what, want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, body := get(t, base+"/")
			if code == http.StatusServiceUnavailable && strings.Contains(body, want) {
				if rel := filepath.Base(abs); strings.Contains(strings.ReplaceAll(body, abs, ""), rel) {
					t.Errorf("%s: the page names %s other than as %s:\n%s", what, rel, abs, body)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: GET / = %d, want 503 saying %q:\n%s", what, code, want, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if code, body := get(t, base+"/"); code != http.StatusOK {
		t.Fatalf("GET / = %d:\n%s", code, body)
	}
	if err := os.Remove("runs.db"); err != nil {
		t.Fatal(err)
	}
	want("deleted", "the database file "+abs+" was deleted")
	writeFile(t, "runs.db", "not a database\n")
	want("unreadable", "store "+abs+": not a SQLite database")

	// The old file's log left beside a new one (as TestServeOldLogLeft).
	tinyExperiment(t, "log.db", "first")
	base = startServe(t, "--db", "log.db")
	abs = filepath.Join(dir, "log.db")
	if code, body := get(t, base+"/"); code != http.StatusOK {
		t.Fatalf("GET / = %d:\n%s", code, body)
	}
	tinyExperiment(t, "log.db", "meanwhile") // serve holds the file: the log keeps its frames
	if err := os.Rename("other.db", "log.db"); err != nil {
		t.Fatal(err)
	}
	want("old log", abs+"-wal beside it is still the old file&#39;s write-ahead log")
}
