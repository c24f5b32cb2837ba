package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		secrets  []string
	}{
		{"runs.db", "runs.db", nil},
		{"/a/b:c@d.db", "/a/b:c@d.db", nil},
		{"postgres://alice:s3cret@db.lab:5432/attnlab?sslmode=require", "postgres://alice:xxxxx@db.lab:5432/attnlab?sslmode=require", []string{"s3cret"}},
		{"postgresql://alice@db.lab/attnlab", "postgresql://alice@db.lab/attnlab", nil},
		{"postgres://db.lab/attnlab?user=alice&password=hunter2", "postgres://db.lab/attnlab?password=xxxxx&user=alice", []string{"hunter2"}},
		{"postgres://alice:p%40ss@db.lab/x", "postgres://alice:xxxxx@db.lab/x", []string{"p@ss", "p%40ss"}},
		{"POSTGRES://u:pw@h/d", "postgres://u:xxxxx@h/d", []string{"pw"}},
		{"postgres://u:p w%zz@h/d", "postgres://xxxxx@h/d", []string{"p w%zz"}},
		{"postgres://u:pa@ssw/rd@127.0.0.1:1/db", "postgres://xxxxx@127.0.0.1:1/db", []string{"pa@ssw/rd"}},
		{"postgres://u:pw1@h/d?sslpassword=TOPSECRET", "postgres://u:xxxxx@h/d?sslpassword=xxxxx", []string{"pw1", "TOPSECRET"}},
		{"host=db.lab user=u password=hunter22 dbname=x", "host=db.lab user=u password=xxxxx dbname=x", []string{"hunter22"}},
		{"host=db.lab password = hunter22", "host=db.lab password=xxxxx", []string{"hunter22"}},
		{"postgres://u@h/d?PASSWORD=S3cretX", "postgres://u@h/d?PASSWORD=xxxxx", []string{"S3cretX"}},
		{"postgres://", "postgres://", nil},
		{"postgres://?password=pw2&host=/tmp", "postgres://?host=%2Ftmp&password=xxxxx", []string{"pw2"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := Redact(tc.in); got != tc.want {
				t.Fatalf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
			secrets := Secrets(tc.in)
			for _, s := range tc.secrets {
				found := false
				for _, x := range secrets {
					found = found || x == s
				}
				if !found {
					t.Fatalf("Secrets(%q) = %q, want it to hold %q", tc.in, secrets, s)
				}
				if strings.Contains(Redact(tc.in), s) {
					t.Fatalf("Redact(%q) = %q still holds %q", tc.in, Redact(tc.in), s)
				}
			}
			if len(tc.secrets) == 0 && len(secrets) != 0 {
				t.Fatalf("Secrets(%q) = %q, want none", tc.in, secrets)
			}
		})
	}
}

// TestScrub: a secret of 8 bytes or more goes wherever it is, one of 4-7
// where it is a word, one of 1-3 only from URLs and password= settings
// (by their structure): a short one never garbles the words, host names
// and ports it is part of.
func TestScrub(t *testing.T) {
	for _, tc := range []struct {
		text    string
		secrets []string
		want    string
	}{
		{"attnlab: ls: store postgres://u:a@h/db: cannot connect: failed", []string{"a"}, "attnlab: ls: store postgres://u:xxxxx@h/db: cannot connect: failed"},
		{"password a is wrong; a", []string{"a"}, "password a is wrong; a"},
		{"user=u password=pw1 host=h", []string{"pw1"}, "user=u password=xxxxx host=h"},
		{"at 127.0.0.1:1 (postgres://bob:1@127.0.0.1:1/db)", []string{"1"}, "at 127.0.0.1:1 (postgres://bob:xxxxx@127.0.0.1:1/db)"},
		{"failed to connect to h", []string{"to"}, "failed to connect to h"},
		{"open postgres://u:a'b@h:1/db: no", []string{"a'b"}, "open postgres://u:xxxxx@h:1/db: no"},
		{"key pass and passes", []string{"pass"}, "key xxxxx and passes"}, // a 4-7 byte secret inside a longer word stays
		{"a long secret inside: xxTOPSECRETxx", []string{"TOPSECRET"}, "a long secret inside: xx" + "xxxxx" + "xx"},
		{"données éé", []string{"é"}, "données éé"},
		// The ':' after a URL with a query is the message's: not encoded
		// into it. The query keeps its order.
		{"store postgres://u:PW12@h:1/db?sslmode=disable&password=other: cannot connect", []string{"PW12", "other"},
			"store postgres://u:xxxxx@h:1/db?sslmode=disable&password=xxxxx: cannot connect"},
		// A URL quoted by %q keeps its escapes, and one not valid its bytes:
		// only the password changes.
		{`--sbatch-arg "--export=ALL,ATTNLAB_DB=postgres://lab:Sup3rSecret@db/x\\y": no`, []string{"Sup3rSecret"},
			`--sbatch-arg "--export=ALL,ATTNLAB_DB=postgres://lab:xxxxx@db/x\\y": no`},
		{"postgres://lab:Sup3rSecret@db/é?Password=Sup3rSecret&a=%zz#f", []string{"Sup3rSecret"}, "postgres://lab:xxxxx@db/é?Password=xxxxx&a=%zz#f"},
		// An '@' past the authority is no password's end.
		{"postgres://db:5432/x?application_name=a@b", []string{"Sup3rSecret"}, "postgres://db:5432/x?application_name=a@b"},
		{"postgres://lab:p@ss@db/x", []string{"p@ss"}, "postgres://lab:xxxxx@db/x"},
		// A password with a quote, in a URL quoted by %q: the URL pattern
		// stops at its escaped quote, the secret is found escaped.
		{`--sbatch-arg "--export=ALL,ATTNLAB_DB=postgres://lab:Sup3r\"Secret@db/x": no`, []string{`Sup3r"Secret`},
			`--sbatch-arg "--export=ALL,ATTNLAB_DB=postgres://lab:xxxxx@db/x": no`},
		{`"postgres://lab:a\"b@db/x"`, []string{`a"b`}, `"postgres://lab:xxxxx@db/x"`},
		{"see postgres://u:PW12@h/db?sslmode=disable.", []string{"PW12"}, "see postgres://u:xxxxx@h/db?sslmode=disable."},
		// Nor when the URL ends with its password setting.
		{"store postgres://u@h:1/db?password=abc: cannot connect", []string{"abc"}, "store postgres://u@h:1/db?password=xxxxx: cannot connect"},
		{"store postgres://u@h:1/db?sslpassword=abcdefgh12: cannot connect", []string{"abcdefgh12"}, "store postgres://u@h:1/db?sslpassword=xxxxx: cannot connect"},
	} {
		if got := Scrub(tc.text, tc.secrets); got != tc.want {
			t.Errorf("Scrub(%q, %q) = %q, want %q", tc.text, tc.secrets, got, tc.want)
		}
	}
}

func TestRebindDollar(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"x = '?' AND y = ?", "x = '?' AND y = $1"},
		{`"we?ird" = ? -- what?` + "\nAND z = ?", `"we?ird" = $1 -- what?` + "\nAND z = $2"},
	} {
		if got := rebindDollar(tc.in); got != tc.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestForeignFileUntouched opens another program's database in rollback
// journal mode: Open and OpenExisting must refuse it without writing a
// byte (in particular without switching it to WAL mode) and without
// creating -wal or -shm files.
func TestForeignFileUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "theirs.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=DELETE")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if before[18] != 1 || before[19] != 1 {
		t.Fatalf("setup: file format bytes %d %d, want 1 1 (rollback journal)", before[18], before[19])
	}
	for _, open := range []func(string) (*Store, error){Open, OpenExisting, OpenReadOnly} {
		s, err := open(path)
		if err == nil {
			s.Close()
			t.Fatal("opening another program's database succeeded")
		}
		if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "it has tables songs") {
			t.Fatalf("error = %v, want ErrNotStore naming the table", err)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatalf("refusing the file changed it (bytes 18-19: %d %d)", after[18], after[19])
	}
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if _, err := os.Stat(path + suffix); err == nil {
			t.Fatalf("refusing the file left %s%s", path, suffix)
		}
	}
}

// TestDatabaseDeletedOrReplaced: once the file a store writes is deleted
// or replaced, every write fails with ErrDatabaseGone (SQLite would go on
// writing into the unlinked file and lose everything).
func TestDatabaseDeletedOrReplaced(t *testing.T) {
	ctx := context.Background()
	for _, how := range []string{"deleted", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "runs.db")
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			run := addExperiment(t, s, "e", 1)[0].ID
			switch how {
			case "deleted":
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			case "replaced":
				other := filepath.Join(dir, "other.db")
				o, err := Open(other)
				if err != nil {
					t.Fatal(err)
				}
				o.Close()
				if err := os.Rename(other, path); err != nil {
					t.Fatal(err)
				}
			}
			w := s.NewMetricWriter(run, 0)
			w.Log(0, "train/loss", 1)
			err = w.Flush(ctx)
			if !errors.Is(err, ErrDatabaseGone) || !strings.Contains(err.Error(), "was "+how+" while attnlab was using it") {
				t.Fatalf("Flush after the file was %s = %v, want ErrDatabaseGone", how, err)
			}
			if err := s.PutSummaries(ctx, run, map[string]float64{"a/b": 1}); !errors.Is(err, ErrDatabaseGone) {
				t.Fatalf("PutSummaries = %v, want ErrDatabaseGone", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
		})
	}
}

// TestGone: Gone is nil while the path names the file a store opened
// (whichever way it was opened), and says deleted (fs.ErrNotExist) or
// replaced once it does not; a reader such as serve reopens on it.
func TestGone(t *testing.T) {
	opens := map[string]func(string) (*Store, error){"Open": Open, "OpenExisting": OpenExisting, "OpenReadOnly": OpenReadOnly}
	for name, open := range opens {
		for _, how := range []string{"deleted", "replaced"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "runs.db")
				w, err := Open(path)
				if err != nil {
					t.Fatal(err)
				}
				addExperiment(t, w, "e", 1)
				w.Close()
				s, err := open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if _, err := s.Experiments(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := s.Gone(); err != nil {
					t.Fatalf("Gone() before = %v, want nil", err)
				}
				if how == "deleted" {
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
				} else {
					other := filepath.Join(dir, "other.db")
					o, err := Open(other)
					if err != nil {
						t.Fatal(err)
					}
					o.Close()
					if err := os.Rename(other, path); err != nil {
						t.Fatal(err)
					}
				}
				err = s.Gone()
				if !errors.Is(err, ErrDatabaseGone) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "was "+how) {
					t.Fatalf("Gone() after the file was %s = %v, want ErrDatabaseGone naming %s", how, err, path)
				}
				if got := errors.Is(err, fs.ErrNotExist); got != (how == "deleted") {
					t.Fatalf("errors.Is(Gone(), fs.ErrNotExist) = %v after the file was %s", got, how)
				}
			})
		}
	}
}

// readOnlyHelperEnv makes the test binary, started by
// TestReadOnlyDirectory, open a store and list it instead of testing.
const readOnlyHelperEnv = "ATTNLAB_STORE_TEST_READONLY"

func TestMain(m *testing.M) {
	if path := os.Getenv(readOnlyHelperEnv); path != "" {
		readOnlyHelper(path)
		os.Exit(0)
	}
	if path := os.Getenv(holdHelperEnv); path != "" {
		holdHelper(path)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// readOnlyHelper opens the store at path both ways and reports what it saw.
func readOnlyHelper(path string) {
	for _, open := range []func(string) (*Store, error){OpenExisting, OpenReadOnly} {
		s, err := open(path)
		if err != nil {
			fmt.Printf("ERROR %v\n", err)
			return
		}
		runs, err := s.Runs(context.Background(), RunFilter{})
		if err != nil {
			fmt.Printf("ERROR %v\n", err)
			return
		}
		if err := s.PutSummaries(context.Background(), runs[0].ID, map[string]float64{"a/b": 1}); err == nil {
			fmt.Printf("ERROR a write to a read-only store succeeded\n")
		}
		fmt.Printf("RUNS %d readonly=%v\n", len(runs), s.ReadOnly())
		s.Close()
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// postgresOnlyTests run inside TestPostgres, after the shared suite.
var postgresOnlyTests = []struct {
	name string
	f    func(*testing.T)
}{
	{"OpenRefusesForeignDatabase", testPostgresForeign},
	{"CopySourceStalls", testPostgresCopySourceStalls},
	{"CopyStallNamesAllowance", testPostgresCopyStallNamesAllowance},
	{"CopySlowSpool", testPostgresCopySlowSpool},
	{"CopyKeepsConnections", testPostgresCopyKeepsConnections},
	{"OpenRefusesNewerSchema", testPostgresNewerSchema},
	{"OpenExistingEmpty", testPostgresOpenExistingEmpty},
	{"ConcurrentCreation", testPostgresConcurrentCreation},
	{"PasswordNeverPrinted", testPostgresPasswordNeverPrinted},
	{"RidesOutRestart", testPostgresRidesOutRestart},
	{"PartitionEndsWrites", testPostgresPartitionEndsWrites},
	{"OutageBudgetShared", testPostgresOutageBudgetShared},
	{"TellsOutage", testPostgresTellsOutage},
	{"TellsSuccessiveOutages", testPostgresTellsSuccessiveOutages},
	{"RidesOutTooManyClients", testPostgresRidesOutTooManyClients},
	{"Unreachable", testPostgresUnreachable},
	{"TerminatedConnectionsReplaced", testPostgresTerminatedConnectionsReplaced},
	{"CopyUsesCOPY", testPostgresCopyUsesCOPY},
	{"CopyAbortsCOPY", testPostgresCopyAbortsCOPY},
	{"CopyTimeout", testPostgresCopyTimeout},
	{"CopyBigArtifactRead", testPostgresCopyBigArtifactRead},
	{"CopyBigArtifactWrite", testPostgresCopyBigArtifactWrite},
	{"SchemeInAnyCase", testPostgresSchemeInAnyCase},
	{"PermissionDenied", testPostgresPermissionDenied},
}

func testPostgresForeign(t *testing.T) {
	target := newTarget(t)
	db, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE songs (title TEXT)`); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*Store, error){Open, OpenExisting, OpenReadOnly} {
		s, err := open(target)
		if err == nil {
			s.Close()
			t.Fatal("opening another program's database succeeded")
		}
		if !errors.Is(err, ErrNotStore) || !strings.Contains(err.Error(), "not an attnlab database (it has tables songs but no attnlab schema)") {
			t.Fatalf("error = %v, want ErrNotStore naming the table", err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after refusing: %d tables (%v), want 1 (nothing created)", n, err)
	}
}

func testPostgresNewerSchema(t *testing.T) {
	target := newTarget(t)
	s, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE attnlab_schema SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, open := range []func(string) (*Store, error){Open, OpenExisting, OpenReadOnly} {
		_, err := open(target)
		if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "schema version 99 is newer than this attnlab supports") {
			t.Fatalf("error = %v, want ErrSchemaTooNew", err)
		}
	}
}

func testPostgresOpenExistingEmpty(t *testing.T) {
	target := newTarget(t)
	for _, open := range []func(string) (*Store, error){OpenExisting, OpenReadOnly} {
		_, err := open(target)
		if !errors.Is(err, ErrNoDatabase) || !strings.HasPrefix(err.Error(), "no attnlab database at ") {
			t.Fatalf("error = %v, want ErrNoDatabase", err)
		}
	}
	u, _ := url.Parse(target)
	u.Path = "/attnlab_no_such_database"
	_, err := OpenExisting(u.String())
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), `database "attnlab_no_such_database" does not exist`) {
		t.Fatalf("OpenExisting(missing database) = %v, want ErrNoDatabase naming it", err)
	}
}

// testPostgresConcurrentCreation opens one new database from 6 processes'
// worth of handles at once: the advisory lock makes one of them create the
// tables and the others find them.
func testPostgresConcurrentCreation(t *testing.T) {
	target := newTarget(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			s, err := Open(target)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			if _, err := s.PutExperiment(context.Background(), "e", "", ""); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testPostgresPasswordNeverPrinted opens URLs with passwords that cannot
// work (a wrong password, a closed port, a bad URL) and checks that no
// error text holds the password.
func testPostgresPasswordNeverPrinted(t *testing.T) {
	target := newTarget(t)
	u, _ := url.Parse(target)
	const pw = "Sup3r-S3cret-pw"
	withPW := func(u url.URL) string {
		u.User = url.UserPassword("attnlab_no_such_user", pw)
		return u.String()
	}
	closed := *u
	closed.Host = "127.0.0.1:1"
	for _, bad := range []string{
		withPW(*u),
		withPW(closed),
		"postgres://u:" + pw + "@127.0.0.1:1/db?sslmode=bogus",
		"postgres://u:" + pw + "@[::1/x",
		"postgres://127.0.0.1:1/db?password=" + pw,
	} {
		for _, open := range []func(string) (*Store, error){Open, OpenExisting} {
			s, err := open(bad)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", Redact(bad))
			}
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("error shows the password: %v", err)
			}
			t.Logf("%s", err)
		}
	}
}

// TestConnectErrorSaysItOnce: with sslmode=prefer (the default) pgx tries
// twice and reports both failures; the error says each thing once, on one
// line, with the password masked.
func TestConnectErrorSaysItOnce(t *testing.T) {
	_, err := Open("postgres://lab:Pw-0f-Th3-Lab@127.0.0.1:1/attnlab")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, "Pw-0f-Th3-Lab") || strings.Contains(msg, "\n") ||
		!strings.HasPrefix(msg, "store postgres://lab:xxxxx@127.0.0.1:1/attnlab: cannot connect: ") {
		t.Fatalf("error %q: want one line naming the masked URL", msg)
	}
	if n := strings.Count(msg, "connection refused"); n != 1 {
		t.Fatalf("error says %q %d times, want once: %q", "connection refused", n, msg)
	}
}

// TestConnectMessageUnknownHost: a host that does not resolve is said
// once: pgx quotes the lookup's error in its attempt's line and then
// gives it again on a line of its own (the text pgx v5 wrote for
// nohost.invalid).
func TestConnectMessageUnknownHost(t *testing.T) {
	err := errors.New("failed to connect to `user=u database=lab`:\n\thostname resolving error: lookup nohost.invalid on 10.0.0.53:53: no such host\n\tlookup nohost.invalid on 10.0.0.53:53: no such host")
	want := "failed to connect to `user=u database=lab`: hostname resolving error: lookup nohost.invalid on 10.0.0.53:53: no such host"
	if got := connectMessage(err); got != want {
		t.Errorf("connectMessage = %q, want %q", got, want)
	}
}

// TestOpenInMissingDirectory: a database that cannot be created because
// its directory does not exist says so, not that the directory is not
// writable.
func TestOpenInMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := Open(filepath.Join(dir, "n.db"))
	if err == nil || !strings.Contains(err.Error(), "cannot be created: its directory "+dir+" does not exist") {
		t.Fatalf("Open: %v", err)
	}
}

// TestConninfoIsNotAFile: a libpq key=value connection string given as
// the database is refused by every way of opening, with one line that
// masks the password and suggests the URL; no file is created (it used to
// become a SQLite file named with the password). File names that merely
// hold an '=' stay file names.
func TestConninfoIsNotAFile(t *testing.T) {
	for _, tc := range []struct {
		in, url string // url "": a file name
	}{
		{"host=127.0.0.1 port=55439 user=lab password=Hunter2Secret dbname=lab sslmode=disable",
			"postgres://lab:xxxxx@127.0.0.1:55439/lab?sslmode=disable"},
		{"  host = db.lab   dbname=x ", "postgres://db.lab/x"},
		{"password=Hunter2Secret", "postgres://:xxxxx@"},
		{"host=/var/run/postgresql dbname=lab", "postgres:///lab?host=%2Fvar%2Frun%2Fpostgresql"},
		{"host=::1 port=5 user=u password='a b\\'c' application_name=x", "postgres://u:xxxxx@[::1]:5?application_name=x"},
		{"dbname=lab port=5432", "postgres:///lab?port=5432"},
		{"runs.db", ""},
		{"a=b.db", ""},
		{"host=gpu1.db", ""},
		{"host=gpu1/runs.db", ""},
		{"dbname=lab", ""},
		{"my runs.db", ""},
		{"x/host=a user=b", ""},
		{"host=a user=b.db extra", ""},
		{"host=a color=blue", ""},
		{"Host=a User=b", ""}, // libpq's keywords are lower-case
	} {
		t.Run(tc.in, func(t *testing.T) {
			u, ok := conninfoURL(tc.in)
			if ok != (tc.url != "") || u != tc.url {
				t.Fatalf("conninfoURL(%q) = %q, %v; want %q, %v", tc.in, u, ok, tc.url, tc.url != "")
			}
		})
	}

	t.Chdir(t.TempDir())
	const target = "host=127.0.0.1 port=55439 user=lab password=Hunter2Secret dbname=lab sslmode=disable"
	wantRefusedTarget(t, target, "store host=127.0.0.1 port=55439 user=lab password=xxxxx dbname=lab sslmode=disable: a libpq key=value connection string, not a database file; give PostgreSQL as a URL: postgres://lab:xxxxx@127.0.0.1:55439/lab?sslmode=disable")
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Fatalf("a refused open left %s behind", ents[0].Name())
	}
}

// wantRefusedTarget checks that Open, OpenExisting and OpenReadOnly refuse
// target with one line that starts with want and never holds the password
// Hunter2Secret.
func wantRefusedTarget(t *testing.T, target, want string) {
	t.Helper()
	for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenExisting": OpenExisting, "OpenReadOnly": OpenReadOnly} {
		s, err := open(target)
		if err == nil {
			s.Close()
			t.Fatalf("%s(%q) succeeded", name, Redact(target))
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, want) || strings.Contains(msg, "Hunter2Secret") || strings.Contains(msg, "\n") {
			t.Fatalf("%s: error %q, want one line starting %q", name, msg, want)
		}
	}
}

// TestAtInPasswordIsRefused: url.Parse takes a URL's last @ for the
// host's and the driver its first, so a password with an unescaped @ was
// half masked and half printed as a host name the driver could not find.
// Such a URL is refused before any connection, its password masked whole.
func TestAtInPasswordIsRefused(t *testing.T) {
	for _, target := range []string{
		"postgres://lab:Hunter2Secret@VerySecretTail@127.0.0.1:1/lab?sslmode=disable",
		"postgresql://lab:Hunter2Secret@VerySecretTail@127.0.0.1:1",
		// A / or ? in the password after its @ ends what url.Parse takes
		// for the host part: the @ is counted over the whole URL.
		"postgres://lab:Hunter2Secret@VerySecretTail/more@127.0.0.1:1/lab",
		"postgres://lab:Hunter2Secret@VerySecretTail?more@127.0.0.1:1/lab",
	} {
		for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenExisting": OpenExisting, "OpenReadOnly": OpenReadOnly} {
			s, err := open(target)
			if err == nil {
				s.Close()
				t.Fatalf("%s(%q) succeeded", name, Redact(target))
			}
			msg := err.Error()
			if !strings.Contains(msg, "@127.0.0.1:1") || !strings.Contains(msg, "an @ in the user name or password must be written %40") ||
				strings.Contains(msg, "Hunter2Secret") || strings.Contains(msg, "VerySecretTail") || strings.Contains(msg, "\n") {
				t.Errorf("%s: error %q, want the URL refused in one line, its password masked", name, msg)
			}
		}
	}
	// Escaped, the same password makes a valid URL: the error is the
	// connection's (port 1 is closed).
	s, err := Open("postgres://lab:Hunter2Secret%40VerySecretTail@127.0.0.1:1/lab?sslmode=disable&connect_timeout=5")
	if err == nil {
		s.Close()
		t.Fatal("port 1 accepted a connection")
	}
	if msg := err.Error(); strings.Contains(msg, "%40 ") || !strings.Contains(msg, "cannot connect") || strings.Contains(msg, "VerySecretTail") {
		t.Errorf("escaped @: error %q, want a connection error with the password masked", msg)
	}
}

// TestMistypedURLIsNotAFile: a PostgreSQL URL with a typo in its scheme
// (postgress://, postgres:/, pg://) or without its slashes
// (postgres:lab:pw@db) is refused by every way of opening, in one line that
// masks the password. It used to be taken for a file name: the error about
// its missing directory printed the password, and postgres:lab:pw@db
// became a SQLite file named with it, which run trained into. File names
// with a ':' or an '@' stay file names.
func TestMistypedURLIsNotAFile(t *testing.T) {
	for _, tc := range []struct {
		in, redacted string // redacted "": a file name
	}{
		{"postgress://lab:Hunter2Secret@127.0.0.1:55439/lab", "postgress://lab:xxxxx@127.0.0.1:55439/lab"},
		{"postgres:/lab:Hunter2Secret@127.0.0.1:55439/lab", "postgres:/lab:xxxxx@127.0.0.1:55439/lab"},
		{"pg://lab:Hunter2Secret@db/lab", "pg://lab:xxxxx@db/lab"},
		{"postgres:lab:Hunter2Secret@db", "postgres:lab:xxxxx@db"},
		{"postgres//lab:Hunter2Secret@db/lab", "postgres//lab:xxxxx@db/lab"},
		{"postgress://lab:Hunt/er2@db/lab", "postgress://lab:xxxxx@db/lab"},
		{"sqlite:///runs.db", "sqlite:///runs.db"},
		{"runs.db", ""},
		{"a@b.db", ""},
		{"x:y.db", ""},
		{"C:/runs.db", ""},
		{"runs/2026-12-04T10:00@gpu1/runs.db", ""},
		{"/a/b:c@d.db", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := mistypedURL(tc.in); got != (tc.redacted != "") {
				t.Fatalf("mistypedURL(%q) = %v, want %v", tc.in, got, tc.redacted != "")
			}
			if tc.redacted != "" {
				if got := Redact(tc.in); got != tc.redacted {
					t.Fatalf("Redact(%q) = %q, want %q", tc.in, got, tc.redacted)
				}
			}
		})
	}

	t.Chdir(t.TempDir())
	for _, target := range []string{"postgress://lab:Hunter2Secret@127.0.0.1:55439/lab", "postgres:lab:Hunter2Secret@db"} {
		wantRefusedTarget(t, target, "store "+Redact(target)+": a URL, not a database file; a PostgreSQL URL starts with postgres://")
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Fatalf("a refused open left %s behind", ents[0].Name())
	}
}

// testPostgresSchemeInAnyCase: EngineOf takes POSTGRES:// and
// PostgreSQL:// for PostgreSQL, and so does the connection. pgx knows only
// the lower-case schemes: handed POSTGRES://… it read a key=value string,
// tried the local socket as the login user and failed with a message about
// neither the URL's host nor its user.
func testPostgresSchemeInAnyCase(t *testing.T) {
	target := newTarget(t)
	_, rest, _ := strings.Cut(target, "://")
	ctx := context.Background()
	for i, scheme := range []string{"POSTGRES", "PostgreSQL", "postgresql", "postgres"} {
		u := scheme + "://" + rest
		if EngineOf(u) != Postgres {
			t.Fatalf("EngineOf(%s) = %s", Redact(u), EngineOf(u))
		}
		s, err := Open(u)
		if err != nil {
			t.Fatalf("Open(%s): %v", Redact(u), err)
		}
		name := fmt.Sprintf("x%d", i)
		if _, err := s.PutExperiment(ctx, name, "", "name: "+name+"\n"); err != nil {
			t.Fatal(err)
		}
		xs, err := s.Experiments(ctx)
		s.Close()
		if err != nil || len(xs) != i+1 {
			t.Fatalf("Experiments via %s: %d, %v; want %d", scheme, len(xs), err, i+1)
		}
	}
}

// TestWithoutPassword: a suggested command line gets the URL without its
// password (which PGPASSWORD or a pgpass file then gives); a URL with
// another secret, or no URL, has no such form.
func TestWithoutPassword(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"postgres://alice:s3cret@db.lab:5432/attnlab?sslmode=require", "postgres://alice@db.lab:5432/attnlab?sslmode=require", true},
		{"postgres://db.lab/attnlab?user=alice&password=hunter2", "postgres://db.lab/attnlab?user=alice", true},
		{"POSTGRES://u:PW@h/d?PASSWORD=other", "postgres://u@h/d", true},
		{"postgres://u@h/d", "postgres://u@h/d", true},
		{"postgres://u:pw1@h/d?sslpassword=TOPSECRET", "", false},
		{"runs.db", "", false},
	} {
		got, ok := WithoutPassword(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("WithoutPassword(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// testPostgresPermissionDenied: a role without rights on an existing
// store's tables is told so in one line naming the role and the database,
// not that the database has no tables (information_schema hides the
// tables a role may not use) — and Open does not try to create them; nor
// is a role without USAGE on the schema (it sees no schema at all).
func testPostgresPermissionDenied(t *testing.T) {
	target := newTarget(t)
	s, err := Open(target)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	role := "r_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", target)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE ROLE " + role + " LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", target)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP OWNED BY " + role)
		_, _ = db.Exec("DROP ROLE " + role)
	})
	var dbName string
	if err := admin.QueryRow("SELECT current_database()").Scan(&dbName); err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	u.User = url.User(role)
	// Without USAGE on the schema the role sees no schema at all.
	for _, open := range []func(string) (*Store, error){OpenExisting, Open} {
		s, err := open(u.String())
		if err == nil {
			s.Close()
			t.Fatal("a role without USAGE on the schema opened the store")
		}
		msg := err.Error()
		if errors.Is(err, ErrNoDatabase) || strings.Contains(msg, "no tables") || strings.Contains(msg, "migrate") ||
			!strings.Contains(msg, "role "+role+" has no schema to use in database "+dbName+": no schema of the search_path ("+schema+")") ||
			strings.Contains(msg, "\n") {
			t.Fatalf("open as a role without USAGE on the schema: %v", err)
		}
	}
	if _, err := admin.Exec("GRANT USAGE ON SCHEMA " + schema + " TO " + role); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*Store, error){OpenExisting, Open} {
		s, err := open(u.String())
		if err == nil {
			s.Close()
			t.Fatal("a role without rights on the tables opened the store")
		}
		msg := err.Error()
		if errors.Is(err, ErrNoDatabase) || strings.Contains(msg, "no tables") || strings.Contains(msg, "migrate") ||
			!strings.Contains(msg, "role "+role+" may not use the attnlab tables of database "+dbName) ||
			!strings.Contains(msg, "permission denied") || strings.Contains(msg, "\n") {
			t.Fatalf("open as a role without rights: %v", err)
		}
	}
}

// TestLeftLog: a database file replaced while another process wrote to it
// leaves that process's write-ahead log beside the path (SQLite neither
// checkpoints nor deletes the log of a moved file), and SQLite would apply
// it to the file moved in, as the reviewer's reproduction showed: the
// moved-in database read as the old one and was overwritten by it at the
// next checkpoint. LeftLog names that log until it is moved away, and
// never a log of the file at the path now.
func TestLeftLog(t *testing.T) {
	if !fileIDs {
		t.Skip("off unix a replaced file is not noticed (fileIDs)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	addExperiment(t, w, "old", 1)
	w.Close()
	reader, err := OpenExisting(path) // as serve
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.Experiments(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := reader.Gone(); err != nil || reader.LeftLog() != "" {
		t.Fatalf("before: Gone() = %v, LeftLog() = %q", err, reader.LeftLog())
	}
	writer, err := Open(path) // a worker, while the reader holds the file
	if err != nil {
		t.Fatal(err)
	}
	addExperiment(t, writer, "written-meanwhile", 1)
	writer.Close() // not the last connection: the log keeps its frames
	if err := reader.Gone(); err != nil || reader.LeftLog() != "" {
		t.Fatalf("after the write: Gone() = %v, LeftLog() = %q", err, reader.LeftLog())
	}

	other := filepath.Join(dir, "other.db")
	o, err := Open(other)
	if err != nil {
		t.Fatal(err)
	}
	addExperiment(t, o, "moved-in", 1)
	o.Close()
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	if err := reader.Gone(); !errors.Is(err, ErrDatabaseGone) {
		t.Fatalf("Gone() after the file was replaced = %v", err)
	}
	if got, want := reader.LeftLog(), path+"-wal"; got != want {
		t.Fatalf("LeftLog() with the old log beside the new file = %q, want %q", got, want)
	}
	reader.Close()
	if got := reader.LeftLog(); got != path+"-wal" {
		t.Fatalf("LeftLog() after Close = %q", got)
	}
	// Moved away with the old database: the file at the path is itself.
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Rename(path+side, filepath.Join(dir, "old.db"+side)); err != nil {
			t.Fatal(err)
		}
	}
	if got := reader.LeftLog(); got != "" {
		t.Fatalf("LeftLog() once the old log was moved away = %q", got)
	}
	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	exps, err := s.Experiments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range exps {
		names = append(names, e.Name)
	}
	if fmt.Sprint(names) != "[moved-in]" {
		t.Fatalf("the moved-in file, its old neighbours moved away, holds %v, want [moved-in]", names)
	}
	// A new log of the file at the path is never the old one.
	addExperiment(t, s, "new", 1)
	if got := reader.LeftLog(); got != "" {
		t.Fatalf("LeftLog() with the new file's own log = %q", got)
	}
}

// TestOpenReadOnlyWithin: a PostgreSQL server that accepts the connection
// and never answers is given up after the wait, in one line that says so
// with the password masked.
func TestOpenReadOnlyWithin(t *testing.T) {
	addr := testenv.SilentServer(t)
	target := "postgres://lab:Sup3rSecret@" + addr + "/attnlab?sslmode=disable"
	done := make(chan error, 1)
	go func() {
		st, err := OpenReadOnlyWithin(target, 100*time.Millisecond)
		if err == nil {
			st.Close()
		}
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second): // a hang guard, far above the wait
		t.Fatal("OpenReadOnlyWithin still waits for a server that never answers, 20 s on")
	}
	want := "store postgres://lab:xxxxx@" + addr + "/attnlab?sslmode=disable: cannot connect: no answer within 100ms"
	if err == nil || err.Error() != want {
		t.Fatalf("OpenReadOnlyWithin = %v, want %q", err, want)
	}
}
