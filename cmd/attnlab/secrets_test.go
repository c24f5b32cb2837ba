package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

// leafCommands returns the command paths of every runnable command.
func leafCommands() [][]string {
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			return
		}
		if c.Runnable() && len(path) > 0 {
			out = append(out, path)
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(newRootCmd(&session{}), nil)
	return out
}

// TestPasswordNeverPrinted runs every command with database URLs that
// carry a password — one whose server is not there, one whose server is
// (it trusts any password), one that is not a URL at all — through its
// error paths (missing and bad arguments, unknown flags, missing
// databases, the URL as a positional argument, as $ATTNLAB_DB) and a few
// that succeed: the password must never appear in any output.
func TestPasswordNeverPrinted(t *testing.T) {
	const secret = "Pw-0f-Th3-Lab"
	live, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	live.User = url.UserPassword(live.User.Username(), secret)
	urls := map[string]string{
		"live":   live.String(),
		"closed": "postgres://lab:" + secret + "@127.0.0.1:1/attnlab?sslmode=disable",
		"param":  "postgresql://127.0.0.1:1/attnlab?user=lab&password=" + secret,
		"sslkey": "postgresql://lab@127.0.0.1:1/attnlab?sslpassword=" + secret,
		"libpq":  "host=127.0.0.1 port=1 user=lab password=" + secret, // not a URL: refused
		"broken": "postgres://lab:" + secret + "@[::1/attnlab",
		"nodb":   func() string { u := *live; u.Path = "/attnlab_no_such_db"; return u.String() }(),
	}
	check := func(t *testing.T, args []string, r result) {
		t.Helper()
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("attnlab %s printed the password:\n%v", strings.Join(args, " "), r)
		}
		noTrace(t, r)
	}
	// serve serves until interrupted: run it on a free port and stop it
	// after a moment, as Ctrl-C would.
	run := func(args ...string) result {
		if args[0] != "serve" {
			return attnlab(t, args...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var errb bytes.Buffer
		return attnlabWith(ctx, "", &errb, &errb, append(args, "--addr", "127.0.0.1:0")...)
	}
	cmds := leafCommands()
	if len(cmds) < 15 {
		t.Fatalf("only %d commands found: %v", len(cmds), cmds)
	}
	seen := map[string]bool{}
	for _, path := range cmds {
		name := strings.Join(path, " ")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			for _, u := range urls {
				var variants [][]string
				dbArgs := [][]string{{"--db", u}, {"--db=" + u}}
				if path[0] == "sync" {
					dbArgs = [][]string{{"--from", u, "--to", urls["closed"]}, {"--from=" + u, "--to=" + u}}
				}
				for _, db := range dbArgs {
					variants = append(variants,
						db,                                     // missing arguments, or the database opened
						append([]string{"no-such-run"}, db...), // an unknown run or experiment
						append([]string{"testdata/bad.yaml"}, db...),
						append([]string{"--no-such-flag"}, db...),
					)
				}
				variants = append(variants, []string{u}, []string{"--workers", u}, []string{"--no-such-flag=" + u})
				for _, v := range variants {
					args := append(append([]string(nil), path...), v...)
					check(t, args, run(args...))
				}
				t.Setenv("ATTNLAB_DB", u)
				for _, v := range [][]string{nil, {"--help"}, {"no-such-run"}} {
					if v == nil && path[0] == "bench" {
						continue // bench without arguments runs every workload
					}
					args := append(append([]string(nil), path...), v...)
					check(t, args, run(args...))
				}
			}
		})
	}
	for _, must := range []string{"run", "submit", "worker", "slurm", "sync", "ls", "show", "compare", "export", "generate", "serve"} {
		if !seen[must] {
			t.Errorf("command %s was not checked", must)
		}
	}

	// Paths that succeed, on the live database: submit, ls, show, the
	// sbatch script, sync.
	u := urls["live"]
	for _, args := range [][]string{
		{"submit", "testdata/tiny.yaml", "--db", u},
		{"ls", "--db", u},
		{"ls", "runs", "--db", u},
		{"show", "1", "--db", u},
		{"slurm", "testdata/tiny.yaml", "--workers", "2", "--dry-run", "--db", u},
		{"sync", "--from", u, "--to", t.TempDir() + "/copy.db"},
		{"worker", "--db", u, "--max-runs", "1", "--idle-exit", "1s"},
		{"show", "1", "--db", u},
		{"serve", "--db", u},
	} {
		r := run(args...)
		wantOK(t, r)
		check(t, args, r)
		if strings.Contains(r.stdout+r.stderr, "postgres") && !strings.Contains(r.stdout+r.stderr, "xxxxx") {
			t.Errorf("attnlab %s shows the URL without a masked password:\n%v", strings.Join(args, " "), r)
		}
	}
}

// TestSuggestedCommandsWorkAsPasted: the command lines that submit, show
// and the other commands suggest name the database with --db only when it
// is not $ATTNLAB_DB (but submit's worker line, for other machines), so that with a password in the URL (masked wherever
// it is shown) a suggestion still works as pasted; submit's, given a URL
// with a password, name it without and say how to give the password.
func TestSuggestedCommandsWorkAsPasted(t *testing.T) {
	const secret = "Pw-0f-Th3-Lab"
	live, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	live.User = url.UserPassword(live.User.Username(), secret)
	u := live.String()

	bare := *live
	bare.User = url.User(live.User.Username())
	t.Setenv("ATTNLAB_DB", u)
	r := attnlab(t, "submit", "testdata/tiny.yaml")
	wantOK(t, r)
	// The workers may run elsewhere, without this shell's $ATTNLAB_DB:
	// the train line names the database (without its password, and says
	// how to give it).
	for _, want := range []string{
		"train them:    attnlab worker --db '" + bare.String() + "' --experiment tiny\n               (" + store.PasswordNote + ")\n",
		"watch them:    attnlab ls runs --experiment tiny\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("submit with $ATTNLAB_DB does not suggest %q:\n%s", want, r.stdout)
		}
	}
	line := r.stdout[strings.Index(r.stdout, "watch them:"):]
	args := strings.Fields(line[:strings.IndexByte(line, '\n')])[3:] // after "watch them: attnlab"
	wantOK(t, attnlab(t, args...))
	r = attnlab(t, "show", "no-such-run")
	wantError(t, r, exitUsage, "(attnlab ls runs lists them)")

	// Given with --db, the URL is shown masked (the user typed the
	// password), and the suggestions name it without the password, which
	// PGPASSWORD or ~/.pgpass then gives: the masked URL would fail as
	// pasted.
	t.Setenv("ATTNLAB_DB", "")
	r = attnlab(t, "submit", "testdata/tiny.yaml", "--db", u)
	wantOK(t, r)
	for _, want := range []string{
		"train them:    attnlab worker --db '" + bare.String() + "' --experiment tiny\n",
		"(" + store.PasswordNote + ")\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("submit --db URL does not suggest %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("the password is in the output:\n%v", r)
	}
}

// TestShortPasswordNotGarbling: a one-letter password is masked in the
// URL, but the rest of the output keeps its letters (scrubbing every "a"
// would garble it and give the password away).
func TestShortPasswordNotGarbling(t *testing.T) {
	r := attnlab(t, "ls", "--db", "postgres://u:a@127.0.0.1:1/db")
	want := "attnlab: ls: store postgres://u:xxxxx@127.0.0.1:1/db: cannot connect"
	if !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr %q, want it to start %q", r.stderr, want)
	}
}

// TestShortPasswordNotGarbling2: a one-character password of digits
// leaves the host and port alone.
func TestShortDigitPassword(t *testing.T) {
	r := attnlab(t, "ls", "--db", "postgres://bob:1@127.0.0.1:1/db")
	if !strings.Contains(r.stderr, "store postgres://bob:xxxxx@127.0.0.1:1/db: cannot connect") || strings.Contains(r.stderr, "127.0.0.xxxxx") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestConninfoRefused: a libpq key=value string given as --db (or as
// sync's --to) is refused in one line that masks the password and suggests
// the postgres:// URL. It used to be taken for a file name: submit said
// "submitted 4 runs of tiny to host=… password=xxxxx …", which read like
// PostgreSQL, and created a SQLite file named with the password.
func TestConninfoRefused(t *testing.T) {
	const secret = "Hunter2Secret"
	conninfo := "host=127.0.0.1 port=55439 user=lab password=" + secret + " dbname=lab sslmode=disable"
	yaml, err := filepath.Abs("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := sharedDB(t)
	t.Chdir(t.TempDir())
	for _, args := range [][]string{
		{"submit", yaml, "--db", conninfo},
		{"ls", "--db", conninfo},
		{"sync", "--from", db, "--to", conninfo},
		{"slurm", yaml, "--workers", "2", "--dry-run", "--db", conninfo},
	} {
		r := attnlab(t, args...)
		wantError(t, r, exitFailure, "password=xxxxx", "a libpq key=value connection string, not a database file",
			"postgres://lab:xxxxx@127.0.0.1:55439/lab?sslmode=disable")
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("attnlab %s printed the password:\n%v", args[0], r)
		}
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Fatalf("a refused command left %s behind", ents[0].Name())
	}
}

// TestMistypedURLRefused: a PostgreSQL URL with a typo in its scheme, or
// without its slashes, given as --db (or as sync's --to) is refused in one
// line that masks the password. It used to be taken for a file name: run
// trained into a SQLite file named postgres:lab:PASSWORD@db, and the
// others printed the password in an error about a missing directory.
func TestMistypedURLRefused(t *testing.T) {
	const secret = "Hunter2Secret"
	yaml, err := filepath.Abs("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := sharedDB(t)
	t.Chdir(t.TempDir())
	for _, target := range []string{"postgres:lab:" + secret + "@db", "postgress://lab:" + secret + "@127.0.0.1:55439/lab"} {
		for _, args := range [][]string{
			{"run", yaml, "--db", target},
			{"submit", yaml, "--db", target},
			{"ls", "--db", target},
			{"sync", "--from", db, "--to", target},
			{"slurm", yaml, "--workers", "2", "--dry-run", "--db", target},
		} {
			r := attnlab(t, args...)
			wantError(t, r, exitFailure, "lab:xxxxx@", "a URL, not a database file")
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Fatalf("attnlab %s printed the password:\n%v", args[0], r)
			}
		}
	}
	if ents, _ := os.ReadDir("."); len(ents) != 0 {
		t.Fatalf("a refused command left %s behind", ents[0].Name())
	}
}
