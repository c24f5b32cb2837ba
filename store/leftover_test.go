package store

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The read-only probe of a WAL file makes its -wal and -shm files, which a
// read-only connection cannot remove. These tests record the files beside
// a database before and after a failed open.

// dirState returns the names of the files in dir and the contents of each
// but the -shm files (whose wal-index a reader may rebuild).
func dirState(tb testing.TB, dir string) ([]string, map[string]string) {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	data := map[string]string{}
	for _, e := range es {
		names = append(names, e.Name())
		if strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		data[e.Name()] = string(b)
	}
	return names, data
}

var opens = map[string]func(string) (*Store, error){"Open": Open, "OpenExisting": OpenExisting, "OpenReadOnly": OpenReadOnly}

// keepGoneStore makes a store at path with experiments keep and gone, and
// no -wal or -shm file beside it.
func keepGoneStore(tb testing.TB, path string) {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	addExperiment(tb, s, "keep", 2)
	addExperiment(tb, s, "gone", 2)
	s.Close()
	if names, _ := dirState(tb, filepath.Dir(path)); len(names) != 1 {
		tb.Fatalf("setup: the directory holds %q, want only the database", names)
	}
}

// newerStore is keepGoneStore of schema version 7.
func newerStore(tb testing.TB, path string) {
	tb.Helper()
	keepGoneStore(tb, path)
	db := rawDB(tb, path)
	if _, err := db.Exec(`PRAGMA user_version = 7`); err != nil {
		tb.Fatal(err)
	}
	db.Close()
}

// holdWithLog opens path as another program would, disables automatic
// checkpoints, deletes experiment gone (and its runs) and keeps the
// connection open: the delete is committed, in the -wal file only. The
// returned function closes it.
func holdWithLog(tb testing.TB, path string) func() {
	tb.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000")
	if err != nil {
		tb.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range []string{`PRAGMA wal_autocheckpoint = 0`, `DELETE FROM experiments WHERE name = 'gone'`} {
		if _, err := conn.ExecContext(context.Background(), q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	return func() { conn.Close(); db.Close() }
}

// experimentNames returns the names of the experiments a new connection
// reads at path.
func experimentNames(tb testing.TB, path string) []string {
	tb.Helper()
	db := rawDB(tb, path)
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM experiments ORDER BY name`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return names
}

// TestFailedOpenLeavesNoLog: an open that refuses an existing file leaves
// its directory with exactly the files it held before, their bytes
// unchanged (but for a -shm file that was there: a reader may rebuild its
// wal-index). Only where one of -wal and -shm was there and not the other
// does the probe's other file stay (documented in doc.go).
func TestFailedOpenLeavesNoLog(t *testing.T) {
	all := []string{"Open", "OpenExisting", "OpenReadOnly"}
	copied := func(sides ...string) func(testing.TB, string) { return copiedStore(newerStore, sides...) }
	for _, tc := range []struct {
		name  string
		setup func(tb testing.TB, path string)
		opens []string
		want  string // in the error
		extra string // a file the failed open is known to leave
	}{
		{"newer schema", func(tb testing.TB, path string) { newerStore(tb, path) }, all, "is newer than this attnlab supports", ""},
		{"older schema read-only", func(tb testing.TB, path string) { createAtVersion(tb, path, 2).Close() }, []string{"OpenReadOnly"}, "is older than this attnlab's", ""},
		{"another program's WAL database", func(tb testing.TB, path string) {
			db := rawDB(tb, path)
			if _, err := db.Exec(`CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')`); err != nil {
				tb.Fatal(err)
			}
			db.Close()
		}, all, "not an attnlab database", ""},
		{"empty WAL database", func(tb testing.TB, path string) {
			db := rawDB(tb, path)
			if _, err := db.Exec(`PRAGMA user_version = 0`); err != nil {
				tb.Fatal(err)
			}
			db.Close()
		}, []string{"OpenExisting", "OpenReadOnly"}, "the file is an empty SQLite database", ""},
		{"migration fails", func(tb testing.TB, path string) {
			db := createAtVersion(tb, path, 1)
			// An object in the way of migration 2 makes it fail half way.
			if _, err := db.Exec(`CREATE TABLE runs_experiment_status (x)`); err != nil {
				tb.Fatal(err)
			}
			db.Close()
		}, []string{"Open", "OpenExisting"}, "migrate to version 2", ""},
		{"header page overwritten", corruptAt(100, false), all, "the database file is corrupt", ""},
		{"schema overwritten", corruptAt(1024, false), all, "the database file is corrupt", ""},
		{"truncated", corruptAt(5000, true), all, "the database file is corrupt", ""},
		{"copied with its -wal and -shm", copied("-wal", "-shm"), all, "is newer than this attnlab supports", ""},
		{"copied with its -wal alone", copied("-wal"), all, "is newer than this attnlab supports", "-shm"},
	} {
		for _, name := range tc.opens {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "x.db")
				tc.setup(t, path)
				names, data := dirState(t, dir)
				s, err := opens[name](path)
				if err == nil {
					s.Close()
					t.Fatalf("%s succeeded, want an error containing %q", name, tc.want)
				}
				if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
					t.Fatalf("%s error = %v, want one naming %s containing %q", name, err, path, tc.want)
				}
				wantNames := names
				if tc.extra != "" {
					wantNames = append(slices.Clone(names), "x.db"+tc.extra)
					slices.Sort(wantNames)
				}
				gotNames, gotData := dirState(t, dir)
				if !slices.Equal(gotNames, wantNames) {
					t.Fatalf("after %s failed the directory holds %q, want %q", name, gotNames, wantNames)
				}
				for _, f := range slices.Sorted(maps.Keys(data)) {
					if gotData[f] != data[f] {
						t.Fatalf("after %s failed %s changed", name, f)
					}
				}
				if strings.HasPrefix(tc.name, "copied") {
					if got := experimentNames(t, path); !slices.Equal(got, []string{"keep"}) {
						t.Fatalf("after %s failed the copy holds experiments %q, want [keep] (the delete in its log)", name, got)
					}
				}
			})
		}
	}
}

// copiedStore returns a setup that copies a store made by mk, held open
// with a committed delete in its log, with the given sides of it (-wal,
// -shm).
func copiedStore(mk func(testing.TB, string), sides ...string) func(testing.TB, string) {
	return func(tb testing.TB, path string) {
		tb.Helper()
		src := filepath.Join(tb.TempDir(), "src.db")
		mk(tb, src)
		release := holdWithLog(tb, src)
		defer release()
		for _, side := range append([]string{""}, sides...) {
			if err := copyFile(src+side, path+side, 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// logBytes returns the size of the -wal file of the database at path, or
// -1 when it is missing.
func logBytes(path string) int64 {
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		return -1
	}
	return fi.Size()
}

// corruptAt is corruptStore as a setup: the damaged file is copied to path.
func corruptAt(off int64, truncate bool) func(testing.TB, string) {
	return func(tb testing.TB, path string) {
		tb.Helper()
		b, err := os.ReadFile(corruptStore(tb, off, truncate))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// holdHelperEnv makes the test binary, started by
// TestFailedOpenKeepsAnothersLog, hold a database open as holdWithLog does
// (printing READY) until its standard input ends.
const holdHelperEnv = "ATTNLAB_STORE_TEST_HOLD"

func holdHelper(path string) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000")
	if err == nil {
		defer db.Close()
		var conn *sql.Conn
		if conn, err = db.Conn(context.Background()); err == nil {
			defer conn.Close()
			for _, q := range []string{`PRAGMA wal_autocheckpoint = 0`, `DELETE FROM experiments WHERE name = 'gone'`} {
				if _, err = conn.ExecContext(context.Background(), q); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		os.Exit(1)
	}
	fmt.Println("READY")
	io.Copy(io.Discard, os.Stdin)
}

// holdInOtherProcess runs holdHelper in a new process; the returned function
// ends it, its connection then closing as the last one.
func holdInOtherProcess(tb testing.TB, path string) func() {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdHelperEnv+"="+path)
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "READY\n" {
		in.Close()
		cmd.Wait()
		tb.Fatalf("holding process said %q", line)
	}
	return func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("holding process: %v", err)
		}
	}
}

// TestFailedOpenKeepsAnothersLog: a failed open of a database that another
// connection holds open — of this process or another one, opened before
// the open began or between its probe and its end (where the probe's -wal
// and -shm files, which were not there before, are its own) — with a
// committed delete in its -wal file that no checkpoint copied into the
// database file yet, loses nothing: the log stays while the holder has it
// open, a new reader sees the delete, and once the holder closes (as the
// last connection, checkpointing) the file itself has it.
func TestFailedOpenKeepsAnothersLog(t *testing.T) {
	for _, tc := range []struct {
		name   string
		during bool
		hold   func(testing.TB, string) func()
	}{
		{"this process, open before", false, holdWithLog},
		{"this process, opened during", true, holdWithLog},
		{"another process, open before", false, holdInOtherProcess},
		{"another process, opened during", true, holdInOtherProcess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.db")
			newerStore(t, path)
			var release func()
			if tc.during {
				afterProbe = func(string) {
					if release == nil {
						release = tc.hold(t, path)
					}
				}
				defer func() { afterProbe = nil }()
			} else {
				release = tc.hold(t, path)
			}
			ended := false
			defer func() {
				if !ended && release != nil {
					release()
				}
			}()
			for _, name := range []string{"Open", "OpenExisting", "OpenReadOnly"} {
				if s, err := opens[name](path); err == nil || !strings.Contains(err.Error(), "is newer than this attnlab supports") {
					if err == nil {
						s.Close()
					}
					t.Fatalf("%s error = %v, want schema version 7 refused", name, err)
				}
			}
			if release == nil {
				t.Fatal("the holder never started")
			}
			if n := logBytes(path); n <= walHeaderBytes {
				t.Fatalf("while the holder has the database open its -wal has %d bytes, want it there with frames", n)
			}
			if _, err := os.Stat(path + "-shm"); err != nil {
				t.Fatalf("while the holder has the database open: %v", err)
			}
			if got := experimentNames(t, path); !slices.Equal(got, []string{"keep"}) {
				t.Fatalf("while the holder has the database open a new reader sees %q, want [keep] (the holder's committed delete)", got)
			}
			release()
			ended = true
			if names, _ := dirState(t, dir); !slices.Equal(names, []string{"x.db"}) {
				t.Fatalf("after the holder closed the directory holds %q, want only x.db (it checkpointed)", names)
			}
			if got := experimentNames(t, path); !slices.Equal(got, []string{"keep"}) {
				t.Fatalf("after the holder closed the file holds %q, want [keep]", got)
			}
		})
	}
}

// TestFailedOpenOfReplacedFile: when the path names another file by the
// end of a failed open (moved there after the probe), the -wal and -shm
// beside it are not that file's: nothing opens it to remove them, since
// SQLite would apply the other file's log to it.
func TestFailedOpenOfReplacedFile(t *testing.T) {
	if !fileIDs {
		t.Skip("off unix a replaced file is not noticed (fileIDs)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	newerStore(t, path)
	var moved string
	var release func()
	afterProbe = func(string) {
		if release != nil {
			return
		}
		release = holdWithLog(t, path)
		other := filepath.Join(dir, "other.db")
		s, err := Open(other)
		if err != nil {
			t.Fatal(err)
		}
		addExperiment(t, s, "moved-in", 1)
		s.Close()
		b, err := os.ReadFile(other)
		if err != nil {
			t.Fatal(err)
		}
		moved = string(b)
		if err := os.Rename(other, path); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { afterProbe = nil }()
	if _, err := OpenExisting(path); err == nil || !strings.Contains(err.Error(), "is newer than this attnlab supports") {
		t.Fatalf("OpenExisting error = %v, want schema version 7 refused", err)
	}
	if release == nil {
		t.Fatal("the file was never replaced")
	}
	defer release()
	if b, err := os.ReadFile(path); err != nil || string(b) != moved {
		t.Fatalf("the file moved to the path changed (%v): the failed open applied the old file's log to it", err)
	}
	if n := logBytes(path); n <= walHeaderBytes {
		t.Fatalf("the old file's log has %d bytes, want it left with its frames", n)
	}
}

// TestReadOnlyCloseLeavesNoLog: a store opened read-only on a file this
// process may write leaves, once closed, exactly the files that were
// there (a -wal and -shm that were there stay, with the commit in the
// -wal); and a holder of the database that opened it meanwhile (of this
// process or another) keeps its uncheckpointed commit.
func TestReadOnlyCloseLeavesNoLog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(testing.TB, string)
		hold  func(testing.TB, string) func()
		want  int // experiments read
	}{
		{"alone", keepGoneStore, nil, 2},
		{"copied with its -wal and -shm", copiedStore(keepGoneStore, "-wal", "-shm"), nil, 1},
		{"held by this process", keepGoneStore, holdWithLog, 2},
		{"held by another process", keepGoneStore, holdInOtherProcess, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.db")
			tc.setup(t, path)
			names, data := dirState(t, dir)
			s, err := OpenReadOnly(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if exps, err := s.Experiments(context.Background()); err != nil || len(exps) != tc.want {
				t.Fatalf("Experiments = %d, %v; want %d", len(exps), err, tc.want)
			}
			if got, _ := dirState(t, dir); len(names) == 1 && len(got) != 3 {
				t.Fatalf("setup: reading made no -wal and -shm files (the directory holds %q)", got)
			}
			if tc.hold == nil {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				gotNames, gotData := dirState(t, dir)
				if !slices.Equal(gotNames, names) || !maps.Equal(gotData, data) {
					t.Fatalf("after Close the directory holds %q (changed: %v), want %q unchanged", gotNames, !maps.Equal(gotData, data), names)
				}
				return
			}
			release := tc.hold(t, path)
			ended := false
			defer func() {
				if !ended {
					release()
				}
			}()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if n := logBytes(path); n <= walHeaderBytes {
				t.Fatalf("while the holder has the database open its -wal has %d bytes, want it there with frames", n)
			}
			if got := experimentNames(t, path); !slices.Equal(got, []string{"keep"}) {
				t.Fatalf("while the holder has the database open a new reader sees %q, want [keep]", got)
			}
			release()
			ended = true
			if got, _ := dirState(t, dir); !slices.Equal(got, names) {
				t.Fatalf("after the holder closed the directory holds %q, want %q", got, names)
			}
			if got := experimentNames(t, path); !slices.Equal(got, []string{"keep"}) {
				t.Fatalf("after the holder closed the file holds %q, want [keep]", got)
			}
		})
	}
}

// TestFailedOpenLeavesAnothersCommitInLog: another program's WAL database,
// with neither -wal nor -shm beside it, into whose log (the one the probe
// made) another connection commits while the probe reads it — so that
// connection, closing, cannot checkpoint — is refused with its file as it
// was: the commit stays in the -wal, as it did before the failed open let
// SQLite remove the probe's files, and nothing checkpoints it into the
// refused file.
func TestFailedOpenLeavesAnothersCommitInLog(t *testing.T) {
	for _, name := range []string{"Open", "OpenExisting", "OpenReadOnly"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "songs.db")
			db := rawDB(t, path)
			if _, err := db.Exec(`CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			done := false
			afterProbe = func(string) {
				if done {
					return
				}
				done = true
				// A reader standing for the probe, still open while the
				// other connection commits and closes.
				rd, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
				var n int
				if err := rd.QueryRow(`SELECT count(*) FROM songs`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := other.Exec(`INSERT INTO songs VALUES ('y')`); err != nil {
					t.Fatal(err)
				}
				other.Close()
			}
			defer func() { afterProbe = nil }()
			if s, err := opens[name](path); err == nil || !strings.Contains(err.Error(), "not an attnlab database") {
				if err == nil {
					s.Close()
				}
				t.Fatalf("%s error = %v, want another program's database refused", name, err)
			}
			if !done {
				t.Fatal("the probe hook never ran")
			}
			if after, err := os.ReadFile(path); err != nil || string(after) != string(before) {
				t.Fatalf("the refused file changed (%v): a failed open checkpointed another connection's commit into it", err)
			}
			if n := logBytes(path); n <= walHeaderBytes {
				t.Fatalf("the -wal has %d bytes, want it left with the other connection's commit", n)
			}
			var n int
			if err := rawDB(t, path).QueryRow(`SELECT count(*) FROM songs`).Scan(&n); err != nil || n != 2 {
				t.Fatalf("a new reader counts %d songs (%v), want 2", n, err)
			}
		})
	}
}

// TestFailedOpenLeavesHotJournal: another program's rollback-journal
// database with a hot journal (a writer died half way through a
// transaction) is refused untouched: no connection of the failed open
// rolls the journal back into the file, as any read-write one would.
func TestFailedOpenLeavesHotJournal(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src.db")
	db, err := sql.Open("sqlite3", "file:"+src+"?_journal_mode=DELETE")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`CREATE TABLE songs (title TEXT)`,
		`INSERT INTO songs SELECT hex(randomblob(200)) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 2000) SELECT i FROM r)`,
		`PRAGMA cache_size = 1`, // the update spills its pages into the file
		`BEGIN`,
		`UPDATE songs SET title = 'gone'`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, name := range []string{"Open", "OpenExisting", "OpenReadOnly"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.db")
			for _, side := range []string{"", "-journal"} {
				if err := copyFile(src+side, path+side, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			names, data := dirState(t, dir)
			if s, err := opens[name](path); err == nil {
				s.Close()
				t.Fatalf("%s opened another program's database", name)
			}
			gotNames, gotData := dirState(t, dir)
			if !slices.Equal(gotNames, names) || !maps.Equal(gotData, data) {
				t.Fatalf("after %s failed the directory holds %q (changed: %v), want %q unchanged", name, gotNames, !maps.Equal(gotData, data), names)
			}
		})
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
}

// TestOpenThroughSymlinkLeavesNoLog: SQLite keeps a database's -wal and
// -shm beside the file a symbolic link names, not beside the link, so a
// failed open and the Close of a read-only store through a link let SQLite
// remove them there.
func TestOpenThroughSymlinkLeavesNoLog(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(testing.TB, string)
		fails bool
	}{
		{"newer schema, failed open", newerStore, true},
		{"read-only store, Close", keepGoneStore, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, links := t.TempDir(), t.TempDir()
			path := filepath.Join(dir, "x.db")
			tc.setup(t, path)
			link := filepath.Join(links, "x.db")
			if err := os.Symlink(path, link); err != nil {
				t.Skipf("no symbolic links here: %v", err)
			}
			names, _ := dirState(t, dir)
			s, err := OpenReadOnly(link)
			if tc.fails != (err != nil) {
				t.Fatalf("OpenReadOnly through a link: %v, want failure %v", err, tc.fails)
			}
			if err == nil {
				if got, _ := dirState(t, dir); len(got) != 3 {
					t.Fatalf("setup: reading made no -wal and -shm beside the file (%q)", got)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := dirState(t, dir); !slices.Equal(got, names) {
				t.Fatalf("the file's directory holds %q, want %q", got, names)
			}
			if got, _ := dirState(t, links); !slices.Equal(got, []string{"x.db"}) {
				t.Fatalf("the link's directory holds %q, want the link alone", got)
			}
		})
	}
}
