package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/store"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		ran  bool
		want int
	}{
		{"nil", nil, true, exitOK},
		{"runtime", errors.New("disk full"), true, exitFailure},
		{"before RunE", errors.New("unknown flag: --nope"), false, exitUsage},
		{"usage", usagef("--beam 0"), true, exitUsage},
		{"wrapped usage", fmt.Errorf("x: %w", usagef("y")), true, exitUsage},
		{"config", experiments.Errors{{File: "x.yaml", Line: 3, Key: "a", Msg: "b"}}, true, exitUsage},
		{"config error", &experiments.ConfigError{File: "x.yaml"}, true, exitUsage},
		{"interrupted", errInterrupted, true, exitInterrupted},
		{"canceled", fmt.Errorf("train: %w", context.Canceled), true, exitInterrupted},
		{"not found", fmt.Errorf("run: %w", store.ErrNotFound), true, exitFailure}, // a run gone while a command used it: no argument of the user's
		{"ambiguous run reference", fmt.Errorf("show: %w", store.ErrAmbiguous), true, exitUsage},
		{"malformed run reference", fmt.Errorf("show: %w", fmt.Errorf("x: %w", store.ErrBadRef)), true, exitUsage},
		{"internal", &internalError{errors.New("internal error: boom")}, true, exitInternal},
		{"internal and interrupted", &internalError{fmt.Errorf("x: %w", context.Canceled)}, true, exitInternal},
		{"refused output", fmt.Errorf("export: %w", safeout.ErrRefused), true, exitUsage},
		{"running run to remove", fmt.Errorf("rm: %w", fmt.Errorf("x: stop it first: %w", store.ErrRunning)), true, exitUsage},
		{"reader gone", readerGone, true, exitInterrupted},
		{"database connection broken", dbPipe, true, exitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err, tc.ran); got != tc.want {
				t.Errorf("exitCode(%v, %v) = %d, want %d", tc.err, tc.ran, got, tc.want)
			}
		})
	}
}

// readerGone is what a command's write returns when its output's reader
// went away (show … | head).
var readerGone = fmt.Errorf("show: %w", fmt.Errorf("%w: %w", errReaderGone, &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}))

// dbPipe is a broken pipe of a database connection: an error like any
// other, not a reader gone.
var dbPipe = fmt.Errorf("store: the database server is unreachable: %w", &net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)})

// TestReaderGoneIsQuiet: a command whose reader went away exits 130 and
// prints nothing (it used to print "write /dev/stdout: broken pipe" and
// exit 1), as Ctrl-C in a pager would.
func TestReaderGoneIsQuiet(t *testing.T) {
	var buf strings.Builder
	printError(&buf, nil, readerGone, true)
	if buf.Len() != 0 {
		t.Errorf("printed %q for a reader that went away", buf.String())
	}
	printError(&buf, nil, dbPipe, true)
	if !strings.HasPrefix(buf.String(), "attnlab: the database server is unreachable") {
		t.Errorf("printed %q for a database's broken pipe", buf.String())
	}
}

// TestUsageErrors: every mistake in a command line exits 2 with one line
// that names what is wrong, before any database is opened.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"bogus"}, []string{`unknown command "bogus"`}},
		{[]string{"plna"}, []string{`unknown command "plna"`, "did you mean plan, plot?"}},
		{[]string{"--nope"}, []string{"unknown flag: --nope"}},
		{[]string{"run"}, []string{"run: missing EXPERIMENT.yaml", "attnlab run --help"}},
		{[]string{"run", "a.yaml", "b.yaml"}, []string{`run: unexpected argument "b.yaml"`}},
		{[]string{"train", "a.yaml"}, []string{`unknown command "train"`, "did you mean run?"}},
		// An unknown command is named as such whatever follows it: not
		// "unknown flag: --db", not the root's help for --help.
		{[]string{"heatmap", "3", "--db", "x.db"}, []string{`attnlab: unknown command "heatmap" (did you mean plot attention?) (see 'attnlab --help')`}},
		{[]string{"heatmap", "--help"}, []string{`unknown command "heatmap" (did you mean plot attention?)`}},
		{[]string{"--width", "80", "heatmap"}, []string{`unknown command "heatmap"`}},
		{[]string{"--json", "compare", "x"}, []string{"unknown flag: --json"}}, // a flag before the command is the mistake
		{[]string{"plot", "--db", "x.db", "heatmap"}, []string{`plot: unknown command "heatmap" (did you mean attention?)`}},
		{[]string{"plot", "--nope", "heatmap"}, []string{"plot: unknown flag: --nope"}},
		{[]string{"-h", "compare"}, nil},
		{[]string{"help", "heatmap"}, []string{`attnlab: help: unknown command "heatmap" (did you mean plot attention?)`}},
		{[]string{"plot", "heatmap", "3", "--db", "x.db"}, []string{`attnlab: plot: unknown command "heatmap" (did you mean attention?) (see 'attnlab plot --help')`}},
		{[]string{"run", "a.yaml", "model.attention.name=dot"}, []string{`unexpected argument "model.attention.name=dot": to override a key write --set model.attention.name=dot`}},
		{[]string{"run", "testdata/tiny.yaml", "--nope"}, []string{"run: unknown flag: --nope"}},
		{[]string{"run", "testdata/tiny.yaml", "--set"}, []string{"flag needs an argument: --set"}},
		{[]string{"run", "testdata/tiny.yaml", "--workers", "-1"}, []string{"--workers -1"}},
		{[]string{"run", "testdata/tiny.yaml", "--workers", "many"}, []string{`invalid argument "many"`, "--workers"}},
		{[]string{"plan"}, []string{"plan: missing EXPERIMENT.yaml"}},
		{[]string{"plan", "testdata/tiny.yaml", "--db", "x.db"}, []string{"plan: unknown flag: --db"}},
		{[]string{"list", "widgets"}, []string{`list: unknown kind "widgets"`, "known: experiment, train, eval, sweep, tasks, models, encoders, attention, scores, heads, head-scores, optimizers, schedules"}},
		{[]string{"list", "attention", "adittive"}, []string{`unknown`, `"adittive"`, "additive"}},
		{[]string{"ls", "things"}, []string{`ls: unknown listing "things" (known: experiments, runs)`}},
		{[]string{"compare", "x", "--width", "-5"}, []string{"compare: --width -5: give a number of columns"}},
		{[]string{"export", "x", "--force"}, []string{"export: --force replaces the -o file: add -o FILE"}},
		{[]string{"bench", "W1", "--force"}, []string{"bench: --force replaces the --json file: add --json FILE"}},
		{[]string{"bench", "W1", "--force", "--json", "-"}, []string{"bench: --force replaces the --json file"}},
		{[]string{"ls", "runs", "--status", "weird"}, []string{`--status "weird": unknown status`, "queued, running, done, failed, interrupted"}},
		{[]string{"ls", "runs", "--where", "seed >"}, []string{"--where", "col"}},
		{[]string{"ls", "experiments", "--status", "done"}, []string{"--status and --where select runs"}},
		{[]string{"show"}, []string{"show: missing RUN"}},
		{[]string{"show", "1", "2"}, []string{`show: unexpected argument "2"`}},
		{[]string{"compare", "--format", "xml"}, []string{`compare: --format "xml": unknown format (known: table, markdown, latex, csv, json)`}},
		{[]string{"compare", "--where", "model.attention.name in (dot"}, []string{"attnlab: compare: --where: col "}},
		{[]string{"export"}, []string{"export: missing EXPERIMENT"}},
		{[]string{"export", "tiny", "--format", "xml"}, []string{`--format "xml"`, "csv, json"}},
		{[]string{"plot"}, nil}, // help, not an error: checked below
		{[]string{"plot", "bogus"}, []string{`plot: unknown command "bogus"`}},
		{[]string{"plot", "curves"}, []string{"plot curves: missing EXPERIMENT"}},
		{[]string{"plot", "attention"}, []string{"plot attention: missing RUN"}},
		{[]string{"plot", "attention", "1", "--example", "-1"}, []string{"--example -1"}},
		{[]string{"show", "1", "--samples", "-5"}, []string{"show: --samples -5: want a count, 0 for none or -1 for all"}},
		{[]string{"plot", "attention", "1", "--vmax", "0"}, []string{`plot attention: --vmax "0": want a weight in (0, 1], such as 0.1, or "max"`}},
		{[]string{"plot", "attention", "1", "--vmax", "1.5"}, []string{`--vmax "1.5": want a weight in (0, 1]`}},
		{[]string{"plot", "attention", "1", "--vmax", "maximum"}, []string{`--vmax "maximum": want`}},
		{[]string{"plot", "attention", "1", "--vmax", "NaN"}, []string{`--vmax "NaN": want`}},
		{[]string{"plot", "attention", "1", "--vmax", "1e-400"}, []string{`plot attention: --vmax "1e-400": too small for a float64: it would read as 0; want a weight in (0, 1]`}},
		{[]string{"plot", "attention", "1", "--vmax", "0x1p-2000"}, []string{`--vmax "0x1p-2000": too small for a float64`}},
		{[]string{"plot", "attention", "1", "--vmax", "-1"}, []string{`--vmax "-1": want a weight in (0, 1]`}},
		{[]string{"plot", "attention", "1", "--vmax", "Inf"}, []string{`--vmax "Inf": want a weight in (0, 1]`}},
		{[]string{"plot", "attention", "1", "--vmax", "1e400"}, []string{`--vmax "1e400": want a weight in (0, 1]`}},
		{[]string{"plot", "length", "tiny", "--status", "sleeping"}, []string{`--status "sleeping"`}},
		{[]string{"plot", "curves", "tiny", "-o", "curves.txt"}, []string{`plot curves: -o "curves.txt": unknown format ".txt" (want one of .png,`}},
		{[]string{"plot", "attention", "1", "-o", "attention"}, []string{`plot attention: -o "attention": no extension (want one of .png,`}},
		{[]string{"plot", "length", "tiny", "-o", "length.PNG.txt"}, []string{`plot length: -o "length.PNG.txt": unknown format ".txt"`}},
		{[]string{"generate"}, []string{"generate: missing RUN"}},
		{[]string{"generate", "1"}, []string{"generate: give the text to decode: --input TEXT, or --stdin"}},
		{[]string{"generate", "1", "--input", "a", "--stdin"}, []string{"[input stdin]"}},
		{[]string{"generate", "1", "--input", "a", "--beam", "2", "--sample"}, []string{"[beam sample]"}},
		{[]string{"generate", "1", "--input", "a", "--top-k", "2"}, []string{"--top-k applies to sampling: add --sample"}},
		{[]string{"generate", "1", "--input", "a", "--length-penalty", "1"}, []string{"--length-penalty applies to beam search"}},
		{[]string{"generate", "1", "--input", "a", "--beam", "0"}, []string{"--beam 0"}},
		{[]string{"generate", "1", "--input", "a", "--sample", "--top-p", "1.5"}, []string{"--top-p 1.5: must be in (0, 1]"}},
		{[]string{"generate", "1", "--input", "a", "--sample", "--temperature", "0"}, []string{"--temperature 0: must be a finite number above 0"}},
		{[]string{"generate", "1", "--input", "a", "--sample", "--temperature", "1e-400"}, []string{`invalid argument "1e-400" for "--temperature" flag: too small for a float64: it would read as 0`}},
		{[]string{"generate", "1", "--input", "a", "--beam", "2", "--length-penalty", "2.5E-999"}, []string{`invalid argument "2.5E-999" for "--length-penalty" flag: too small for a float64`}},
		{[]string{"generate", "1", "--input", "a", "--sample", "--top-p", "x"}, []string{`invalid argument "x" for "--top-p" flag: not a number`}},
		{[]string{"generate", "1", "--input", "a", "--sample", "--top-p", "1e999"}, []string{`invalid argument "1e999" for "--top-p" flag: out of range for a number`}},
		{[]string{"serve", "--addr", "127.0.0.1:99999"}, []string{`--addr "127.0.0.1:99999": port "99999": want a number from 0 (any free port) to 65535`}},
		{[]string{"serve", "--addr", "localhost"}, []string{`--addr "localhost": want host:port`}},
		{[]string{"serve", "--host", "lab.example:8080"}, []string{`--host "lab.example:8080": want a host name such as lab.example`}},
		{[]string{"serve", "--host", "https://lab.example/"}, []string{`--host "https://lab.example/": want a host name`}},
		{[]string{"generate", "1", "--input", "a", "--seed", "-1"}, []string{`invalid argument "-1" for "--seed" flag: not a whole number ≥ 0`}},
		{[]string{"bench", "--threads", "99999999999999999999"}, []string{`for "--threads" flag: out of range for a whole number`}},
		{[]string{"generate", "1", "--input", "a", "--max-len", "0"}, []string{"--max-len 0"}},
		{[]string{"version", "now"}, []string{`version: takes no arguments, got "now"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := attnlab(t, tc.args...)
			if tc.want == nil {
				wantOK(t, r)
				return
			}
			wantError(t, r, exitUsage, tc.want...)
		})
	}
	for _, args := range [][]string{{"heatmap", "3", "--db", "x.db"}, {"help", "heatmap"}, {"plot", "heatmap"}} {
		if r := attnlab(t, args...); strings.Count(r.stderr, "(see '") != 1 {
			t.Errorf("%v: want one pointer to the help: %q", args, r.stderr)
		}
	}
	// None of them may have created the default database.
	if _, err := os.Stat(os.Getenv("ATTNLAB_DB")); !os.IsNotExist(err) {
		t.Errorf("a usage error created the default database %s", os.Getenv("ATTNLAB_DB"))
	}
}

// badDatabases returns database files that no read-only command may use:
// each with the words its error must contain.
func badDatabases(t *testing.T) map[string]struct {
	path string
	want []string
} {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")

	empty := filepath.Join(dir, "empty.db")
	writeFile(t, empty, "")

	garbage := filepath.Join(dir, "garbage.db")
	writeFile(t, garbage, strings.Repeat("this is not a database\n", 200))

	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite3", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	newer := filepath.Join(dir, "newer.db")
	st, err := store.Open(newer)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err = sql.Open("sqlite3", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion+5)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out := map[string]struct {
		path string
		want []string
	}{
		"missing":   {missing, []string{"no attnlab database at " + missing, "attnlab run EXP.yaml --db"}},
		"empty":     {empty, []string{"no attnlab database at " + empty}},
		"garbage":   {garbage, []string{garbage, "not a SQLite database"}},
		"other":     {other, []string{other, "not an attnlab database", "songs"}},
		"newer":     {newer, []string{newer, fmt.Sprintf("schema version %d is newer than this attnlab supports (%d); upgrade attnlab", store.SchemaVersion+5, store.SchemaVersion)}},
		"directory": {dir, []string{dir, "is a directory"}},
	}
	if os.Geteuid() != 0 { // root reads any file
		unreadable := filepath.Join(dir, "unreadable.db")
		st, err := store.Open(unreadable)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		if err := os.Chmod(unreadable, 0); err != nil {
			t.Fatal(err)
		}
		out["unreadable"] = struct {
			path string
			want []string
		}{unreadable, []string{unreadable}}
	}
	return out
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadDatabase: every command that reads the database refuses a
// missing, empty, corrupt, foreign or newer database with one line naming
// the file, and creates nothing.
func TestBadDatabase(t *testing.T) {
	commands := [][]string{
		{"ls"}, {"ls", "runs"}, {"show", "1"}, {"compare"}, {"compare", "tiny"},
		{"export", "tiny"}, {"plot", "curves", "tiny"}, {"plot", "attention", "1"}, {"plot", "length", "tiny"},
		{"generate", "1", "--input", "abc"},
	}
	for name, bad := range badDatabases(t) {
		for _, args := range commands {
			t.Run(name+"/"+strings.Join(args, "_"), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "plot.png")
				if args[0] == "plot" {
					args = append(args, "-o", out)
				}
				r := attnlab(t, append(args, "--db", bad.path)...)
				wantError(t, r, exitFailure, bad.want...)
				if !strings.HasPrefix(r.stderr, "attnlab: "+commandPath(args)+": ") {
					t.Errorf("stderr %q does not name the command", r.stderr)
				}
				if _, err := os.Stat(out); err == nil {
					t.Errorf("%s wrote %s", args[0], out)
				}
			})
		}
		if name == "missing" {
			if _, err := os.Stat(bad.path); !os.IsNotExist(err) {
				t.Errorf("a read-only command created %s", bad.path)
			}
		}
	}
}

// commandPath is the command of args: "plot curves", "ls".
func commandPath(args []string) string {
	if args[0] == "plot" {
		return args[0] + " " + args[1]
	}
	return args[0]
}

// TestRunBadDatabase: run refuses a corrupt, foreign or newer database too.
func TestRunBadDatabase(t *testing.T) {
	for name, bad := range badDatabases(t) {
		if name == "missing" || name == "empty" { // run creates a new database there
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := attnlab(t, "run", "testdata/tiny.yaml", "--db", bad.path, "--quiet")
			wantError(t, r, exitFailure, bad.want...)
		})
	}
}

// fullDisk is a stdout whose every write fails as on a full disk.
type fullDisk struct{}

func (fullDisk) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestUncheckedWriteFails: a command whose output cannot be written exits
// 1 with the write's error, even where it does not check its writes
// itself (list, plan and generate printed to a full disk and exited 0).
func TestUncheckedWriteFails(t *testing.T) {
	for _, args := range [][]string{{"list"}, {"plan", "../../examples/reverse.yaml"}, {"--help"}} {
		var errb bytes.Buffer
		code := execute(context.Background(), args, strings.NewReader(""), fullDisk{}, &errb)
		r := result{code: code, stderr: errb.String()}
		wantError(t, r, exitFailure, "no space left on device")
	}
}

// fileSeen records what fileOf found under the streams of the hidden test
// command "test-streams".
var fileSeen struct{ out, err *os.File }

func init() {
	testCommands = append(testCommands, func() *cobra.Command {
		return &cobra.Command{Use: "test-streams", Hidden: true, Args: cobra.ArbitraryArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				fileSeen.out, fileSeen.err = fileOf(cmd.OutOrStdout()), fileOf(cmd.ErrOrStderr())
				return nil
			}}
	})
}

// TestFileOfThroughWrappers: fileOf finds the terminal's file under every
// writer execute wraps stdout and stderr in (the stdout write check made
// tables lose the terminal's width), with and without secrets to scrub.
func TestFileOfThroughWrappers(t *testing.T) {
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, args := range [][]string{{"test-streams"}, {"test-streams", "postgres://u:Hunter2Secret@db/x"}} {
		fileSeen.out, fileSeen.err = nil, nil
		if code := execute(context.Background(), args, strings.NewReader(""), &pipeWatch{w: out, closed: func() {}}, out); code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		if fileSeen.out != out || fileSeen.err != out {
			t.Errorf("%v: fileOf found %v and %v, want the file under stdout and stderr", args, fileSeen.out, fileSeen.err)
		}
	}
}

// TestConfigErrorsCapped: a configuration with thousands of problems (a
// generated file) prints the first maxConfigErrors and how many more, not
// every one.
func TestConfigErrorsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: x\ntask: {name: reverse}\n")
	for i := range 3 * maxConfigErrors {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	path := filepath.Join(t.TempDir(), "many.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := attnlab(t, "plan", path)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code != exitUsage || len(lines) != maxConfigErrors+1 || !strings.Contains(lines[0], "many.yaml:3: k0: unknown key") ||
		lines[maxConfigErrors] != fmt.Sprintf("… and %d more problems", 2*maxConfigErrors) {
		t.Errorf("%d stderr lines, want %d; exit %d; first %q, last %q", len(lines), maxConfigErrors+1, r.code, lines[0], lines[len(lines)-1])
	}
}
