package hostile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// memLimit is the address-space limit every command runs under (prlimit
// --as), and maxRSS the peak resident memory a case may reach: hostile
// sizes must be refused before anything large is allocated. (memLimit is
// an int64: 3 GiB overflows a 32-bit int.)
const (
	memLimit int64 = 3 << 30
	maxRSS         = 768 << 20
)

// binary is the attnlab binary under test, built once, with the crash-test
// command compiled in (build tag attnlab_crashtest).
var binary struct {
	once sync.Once
	path string
	err  error
}

var buildDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "attnlab-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // readable by the unprivileged user of the read-only cases
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// attnlabBinary builds the binary once.
func attnlabBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.path = filepath.Join(buildDir, "attnlab")
		cmd := exec.Command(goTool(), "build", "-tags", "attnlab_crashtest", "-o", binary.path, "github.com/attnlab/attnlab/cmd/attnlab")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// prlimit returns the prlimit command, or fails in CI and skips the memory
// limit (logging it) elsewhere.
func prlimit(t *testing.T) string {
	p, err := exec.LookPath("prlimit")
	if err != nil {
		if os.Getenv("ATTNLAB_CI") != "" {
			t.Fatal("prlimit (util-linux) is needed to bound the corpus's memory")
		}
		t.Logf("prlimit not found: running without an address-space limit")
		return ""
	}
	return p
}

// env is one case's sandbox: a directory that is the command's working
// directory and holds its files.
type env struct {
	t   *testing.T
	dir string
	bin string
	// crashDir receives crash reports; only the crash-test case may leave
	// one.
	crashDir string
	// wrap are commands put between prlimit and the binary (setpriv, sh).
	wrap []string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	crash := filepath.Join(dir, ".crash")
	return &env{t: t, dir: dir, bin: attnlabBinary(t), crashDir: crash}
}

// path returns the absolute path of name in the sandbox.
func (e *env) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(e.dir, name)
}

// write creates file name with content and returns its path.
func (e *env) write(name, content string) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// sparse creates file name of size bytes: head, then zeros that take no
// disk space.
func (e *env) sparse(name, head string, size int64) string {
	e.t.Helper()
	p := e.write(name, head)
	if err := os.Truncate(p, size); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// repeated creates file name of about size bytes: chunk over and over,
// written a chunk at a time so that this process never holds the file.
func (e *env) repeated(name, chunk string, size int64) string {
	e.t.Helper()
	p := e.write(name, "")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for n := int64(0); n < size; n += int64(len(chunk)) {
		w.WriteString(chunk)
	}
	if err := w.Flush(); err != nil {
		e.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// symlink creates name pointing at target.
func (e *env) symlink(target, name string) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.Symlink(target, p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// labDB copies the shared run database (see fixture) to name and returns
// its path.
func (e *env) labDB(name string) string {
	e.t.Helper()
	src := fixtureDB(e.t)
	data, err := os.ReadFile(src)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.write(name, string(data))
}

// result is what one command did.
type result struct {
	code           int
	stdout, stderr string
	rss            int64 // peak resident set, bytes; -1 where not measured (Windows)
	took           time.Duration
	timedOut       bool
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %v (peak RSS %d MB, timed out %v)\nstdout:\n%s\nstderr:\n%s",
		r.code, r.took.Round(time.Millisecond), r.rss>>20, r.timedOut, clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// command returns the command that runs attnlab with args in the sandbox,
// under the memory limit, with stdin and a private environment.
func (e *env) command(ctx context.Context, stdin io.Reader, args ...string) *exec.Cmd {
	argv := append(append(append([]string(nil), e.wrap...), e.bin), args...)
	if p := prlimit(e.t); p != "" {
		argv = append([]string{p, fmt.Sprintf("--as=%d", memLimit), "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = e.dir
	cmd.Stdin = stdin
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + e.dir,
		"XDG_CACHE_HOME=" + filepath.Join(e.dir, ".cache"),
		"ATTNLAB_CRASH_DIR=" + e.crashDir,
		"ATTNLAB_DB=" + filepath.Join(e.dir, "default.db"),
		"COLUMNS=100",
		"GOTRACEBACK=single",
		"TMPDIR=" + e.dir,
	}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// run runs attnlab with args and waits at most timeout.
func (e *env) run(timeout time.Duration, stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := e.command(ctx, strings.NewReader(stdin), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	return finished(cmd, err, start, ctx, &out, &errb)
}

func finished(cmd *exec.Cmd, err error, start time.Time, ctx context.Context, out, errb *bytes.Buffer) result {
	r := result{took: time.Since(start), stdout: out.String(), stderr: errb.String(), code: -1}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
		r.rss = peakRSS(cmd.ProcessState)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && ctx.Err() == nil {
		r.stderr += "\n(harness: " + err.Error() + ")"
	}
	r.timedOut = ctx.Err() != nil
	return r
}

// hashes returns the SHA-256 of each named file (or a marker of what it is
// when it is not a regular file).
func (e *env) hashes(names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		p := e.path(n)
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
			out[n] = "missing"
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[n] = "symlink → " + l
		case !fi.Mode().IsRegular():
			out[n] = fi.Mode().Type().String()
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				out[n] = "unreadable: " + err.Error()
				continue
			}
			out[n] = fmt.Sprintf("%x %v", sha256.Sum256(data), fi.Mode().Perm())
		}
	}
	return out
}

// traceMarks are what a Go panic, fatal error or stack trace prints.
var traceMarks = []string{"goroutine ", "panic:", "fatal error", "runtime.", ".go:", "[recovered]", "SIGSEGV"}

// noTrace returns an error if s holds a Go stack trace.
func noTrace(where, s string) error {
	for _, m := range traceMarks {
		if strings.Contains(s, m) {
			return fmt.Errorf("%s holds %q (a Go panic or stack trace)", where, m)
		}
	}
	return nil
}

// controlFree returns an error if s holds a byte a terminal acts on.
func controlFree(where, s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			return fmt.Errorf("%s holds the raw control byte %#x at %d: %q", where, c, i, s[max(0, i-20):min(len(s), i+20)])
		}
	}
	if strings.ContainsAny(s, "\u009b\u202e\u2066") {
		return fmt.Errorf("%s holds a raw C1 or bidi control", where)
	}
	return nil
}

// dbErrors returns the error column of every run of every database file in
// the sandbox (read-only), to check that no stack trace was stored.
func (e *env) dbErrors() []string {
	var out []string
	filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".db") || !d.Type().IsRegular() {
			return nil
		}
		db, err := sql.Open("sqlite3", "file:"+p+"?mode=ro&_busy_timeout=2000")
		if err != nil {
			return nil
		}
		defer db.Close()
		rows, err := db.Query(`SELECT error FROM runs`)
		if err != nil {
			return nil // not a run database
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				out = append(out, s)
			}
		}
		return nil
	})
	return out
}

// leftovers returns temporary files of safeout left in the sandbox.
func (e *env) leftovers() []string {
	var out []string
	filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp") && strings.HasPrefix(d.Name(), ".") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// lines splits s into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
