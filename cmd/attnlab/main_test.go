package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goldenfile "github.com/attnlab/attnlab/internal/golden"
	"github.com/attnlab/attnlab/store"
)

// tmpDir holds what the tests of this binary share: the run database that
// sharedDB builds once, and the default database of commands run without
// --db ($ATTNLAB_DB), which no test expects to exist.
var tmpDir string

func TestMain(m *testing.M) {
	if os.Getenv(cliMainEnv) == "1" {
		main() // the test binary as attnlab itself, for tests of processes
	}
	flag.Parse()
	dir, err := os.MkdirTemp("", "attnlab-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpDir = dir
	os.Setenv("ATTNLAB_DB", filepath.Join(dir, "default.db"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one command line did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// attnlab runs a command line through the function main uses, on a fresh
// command tree, with empty stdin.
func attnlab(t testing.TB, args ...string) result {
	t.Helper()
	return attnlabIn(t, "", args...)
}

// attnlabIn runs a command line with stdin.
func attnlabIn(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	var errb bytes.Buffer
	return attnlabWith(context.Background(), stdin, &errb, &errb, args...)
}

// attnlabWith runs a command line with a context and a stderr writer;
// errb must be where stderr's text ends up.
func attnlabWith(ctx context.Context, stdin string, stderr io.Writer, errb *bytes.Buffer, args ...string) result {
	var out bytes.Buffer
	code := execute(ctx, args, strings.NewReader(stdin), &out, stderr)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// wantOK fails the test unless r succeeded.
func wantOK(t testing.TB, r result) {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("want success, got %v", r)
	}
}

// wantError checks that r exited with code and printed exactly one line
// on stderr, "attnlab: ..." containing every part, and nothing that looks
// like a Go panic or stack trace.
func wantError(t testing.TB, r result, code int, parts ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\n%v", r.code, code, r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "attnlab: ") {
		t.Fatalf("want one stderr line \"attnlab: ...\"\n%v", r)
	}
	noTrace(t, r)
	for _, p := range parts {
		if !strings.Contains(lines[0], p) {
			t.Errorf("stderr %q does not contain %q", lines[0], p)
		}
	}
}

// noTrace fails if r's output looks like a panic or a stack trace.
func noTrace(t testing.TB, r result) {
	t.Helper()
	for _, bad := range []string{"panic", "goroutine ", ".go:", "runtime."} {
		if strings.Contains(r.stderr, bad) || strings.Contains(r.stdout, bad) {
			t.Fatalf("output contains %q\n%v", bad, r)
		}
	}
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t testing.TB, name, got string) { goldenfile.Check(t, name, got) }

// shared is the run database of the tests that read one: the tiny
// experiment (reverse; attention none and additive × 2 seeds: runs 1-4)
// and the tinylm experiment (a character LM: run 5), built once by
// attnlab run.
var shared struct {
	once    sync.Once
	db      string
	tiny    result // the output of attnlab run testdata/tiny.yaml
	lm      result
	failure string
}

func sharedDB(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		shared.db = filepath.Join(tmpDir, "lab.db")
		shared.tiny = attnlab(t, "run", "testdata/tiny.yaml", "--db", shared.db, "--workers", "2")
		if shared.tiny.code != exitOK {
			shared.failure = "attnlab run testdata/tiny.yaml: " + shared.tiny.String()
			return
		}
		shared.lm = attnlab(t, "run", "testdata/lm.yaml", "--db", shared.db)
		if shared.lm.code != exitOK {
			shared.failure = "attnlab run testdata/lm.yaml: " + shared.lm.String()
		}
	})
	if shared.failure != "" {
		t.Fatal(shared.failure)
	}
	return shared.db
}

// runOf returns the run of experiment exp in db whose label (sweep point)
// contains point, or its first run.
func runOf(t testing.TB, db, exp, point string) store.Run {
	t.Helper()
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunFilter{Experiments: []string{exp}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if strings.Contains(r.Point, point) {
			return r
		}
	}
	t.Fatalf("no run of %s with point %s", exp, point)
	return store.Run{}
}

func id(r store.Run) string { return fmt.Sprint(r.ID) }

// rowSizes reads the means table of a comparison printed by run or
// compare (in one block: give --width wide enough) and returns each row's
// n, the number of runs it aggregates, in order.
func rowSizes(t testing.TB, out string) []int {
	t.Helper()
	lines := strings.Split(out, "\n")
	split := regexp.MustCompile(`\s{2,}`)
	for i, l := range lines {
		if !strings.Contains(l, "─") || strings.Trim(l, "─ ") != "" || i == 0 {
			continue
		}
		col := slices.Index(split.Split(strings.TrimSpace(lines[i-1]), -1), "n")
		if col < 0 {
			t.Fatalf("no n column in the table:\n%s", out)
		}
		var sizes []int
		for _, row := range lines[i+1:] {
			if row == "" {
				break
			}
			f := split.Split(strings.TrimSpace(row), -1)
			n, err := strconv.Atoi(f[col])
			if err != nil {
				t.Fatalf("row %q: n %q: %v", row, f[col], err)
			}
			sizes = append(sizes, n)
		}
		return sizes
	}
	t.Fatalf("no table:\n%s", out)
	return nil
}

// TestMainProcess runs main itself — its signal handling, its watchdog and
// the watchers of stdout and stderr — in a child process: attnlab serve,
// stopped by SIGINT once it listens, must exit 0 after its last line.
// (Under -race, a data race between main and the goroutines it starts
// makes the child print a report and exit 66.)
func TestMainProcess(t *testing.T) {
	// A race shows only when the goroutines run in a racy order: three tries.
	for range 3 {
		mainProcess(t)
	}
}

func mainProcess(t *testing.T) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "lab.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	cmd, stderr := startMain(t, time.Minute, os.Args[0], "serve", "--addr", "127.0.0.1:0", "--db", db)
	var out strings.Builder
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		fmt.Fprintln(&out, lines.Text())
		if strings.Contains(lines.Text(), "Ctrl-C stops") {
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitOK || strings.Contains(out.String(), "DATA RACE") ||
		!strings.HasSuffix(out.String(), "attnlab serve: stopped\n") {
		t.Fatalf("attnlab serve, then SIGINT: %v, exit %d, stderr:\n%s", err, code, out.String())
	}
}

// startMain starts argv (this test binary, or a command that runs it) as
// attnlab's main in a child process with its stderr piped, and kills it
// if it still runs after limit.
func startMain(t *testing.T, limit time.Duration, argv ...string) (*exec.Cmd, io.ReadCloser) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), cliMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	t.Cleanup(func() { timer.Stop() })
	return cmd, stderr
}

// TestRunReaderGoneAfterRuns: `attnlab run … | head` whose reader leaves
// before the table, once every run is done, exits 130 quietly: it must
// not announce a checkpoint of running runs, since none runs.
func TestRunReaderGoneAfterRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lab.db")
	cmd := exec.Command(os.Args[0], "run", "testdata/tiny.yaml", "--db", db, "--quiet")
	cmd.Env = append(os.Environ(), cliMainEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdout.Close() // the reader is gone before the table is written
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || stderr.Len() != 0 {
		t.Fatalf("run with its stdout closed: %v, exit %d, want 130 and no message; stderr:\n%s", err, code, stderr.String())
	}
	ls := attnlab(t, "ls", "runs", "--db", db, "--status", "done")
	wantOK(t, ls)
	if n := strings.Count(ls.stdout, "tiny/"); n != 4 {
		t.Errorf("%d runs done, want 4:\n%s", n, ls.stdout)
	}
}

// TestRunHangup: a closed terminal (SIGHUP) stops run as Ctrl-C does: the
// running run is checkpointed and marked interrupted, exit 130; it used to
// kill the process, leaving the run running, to be counted a lost attempt.
// Under nohup, which ignores SIGHUP, the run goes on.
func TestRunHangup(t *testing.T) {
	nohup, err := exec.LookPath("nohup")
	if err != nil {
		t.Fatalf("nohup (coreutils) is not on PATH: %v", err)
	}
	for _, tc := range []struct {
		name  string
		nohup bool
	}{
		{"terminal", false},
		{"nohup", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "lab.db")
			argv := []string{os.Args[0], "run", "testdata/long.yaml", "--db", db, "--workers", "1", "--set", "train.steps=1000000", "--set", "seeds=[1]"}
			if tc.nohup {
				argv = append([]string{nohup}, argv...)
			}
			// The child must start with SIGHUP at its default, as from a
			// terminal; a test run under nohup (as CI may be) would hand
			// down an ignored SIGHUP. A signal this process handles is
			// reset to its default by exec, so handle it meanwhile.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			cmd, stderr := startMain(t, 2*time.Minute, argv...)
			var out strings.Builder
			lines := bufio.NewScanner(stderr)
			hung := false
			for lines.Scan() {
				fmt.Fprintln(&out, lines.Text())
				if !hung && strings.Contains(lines.Text(), "long/seed=1: step 20/") {
					if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
						t.Fatal(err)
					}
					hung = true
					if tc.nohup {
						time.Sleep(500 * time.Millisecond)
						ls := attnlab(t, "ls", "runs", "--db", db)
						if !strings.Contains(ls.stdout, "running") {
							t.Errorf("after SIGHUP under nohup:\n%s", ls.stdout)
						}
						if err := cmd.Process.Signal(os.Interrupt); err != nil { // now stop it
							t.Fatal(err)
						}
					}
				}
			}
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Fatalf("exit %d (%v), want 130; stderr:\n%s", code, err, out.String())
			}
			ls := attnlab(t, "ls", "runs", "--db", db)
			if !strings.Contains(ls.stdout, "interrupted") {
				t.Errorf("the run after the command stopped:\n%s", ls.stdout)
			}
			if tc.nohup && !strings.Contains(out.String(), "long/seed=1: step 30/") {
				t.Errorf("the run did not go on after SIGHUP under nohup:\n%s", out.String())
			}
		})
	}
}

// openDB opens the run database at db for a test, closed when it ends.
func openDB(t testing.TB, db string) *store.Store {
	t.Helper()
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// deadOwner returns an owner of this host whose process has exited (its
// pid is not reused in the moment a test takes): a worker that is gone.
func deadOwner(t *testing.T) store.Owner {
	t.Helper()
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	owner := store.CurrentOwner("")
	owner.PID = gone.ProcessState.Pid()
	return owner
}

// claimAbandoned claims run id of the database at db for deadOwner, as a
// worker that died leaves it, and returns that owner and the claim.
func claimAbandoned(t *testing.T, db string, id int64) (store.Owner, store.ClaimResult) {
	t.Helper()
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner := deadOwner(t)
	res, err := st.Claim(context.Background(), id, owner, 0)
	if err != nil || !res.Claimed {
		t.Fatalf("Claim = %+v, %v", res, err)
	}
	return owner, res
}
