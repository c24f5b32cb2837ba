package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The bullets of issue 16 that the corpus covers.
const (
	clobber   = "outputs never clobber"
	watched   = "the database is watched; foreign and read-only databases"
	limits    = "resource limits checked before allocation"
	files     = "files: regular only, bounded size and lines"
	planData  = "validate the data and the experiment at plan"
	signals   = "signals everywhere"
	liveness  = "liveness"
	exitCodes = "exit codes"
	terminal  = "terminal safety"
)

var bullets = []string{clobber, watched, limits, files, planData, signals, liveness, exitCodes, terminal}

// tcase is one hostile command line and what it must do.
type tcase struct {
	name   string
	bullet string
	// owner is the helper whose work makes the case pass: H7 (outputs,
	// signals, exit codes, liveness, terminal), H1 (validation, sizes, file
	// reading), H8 (store).
	owner string
	// setup creates the case's files in the sandbox and returns the command
	// line.
	setup func(e *env) []string
	stdin string
	// code is the exit code it must have; want are parts of its error line
	// (stderr's last line, "attnlab: ..."), and out parts of its stdout.
	code int
	want []string
	out  []string
	// multi allows several stderr lines (run's notes, plan's error list);
	// otherwise a failing command prints exactly one line.
	multi bool
	// keep are files that must be unchanged (content, mode, kind).
	keep []string
	// timeout bounds the command (default 20 s): a hang is a failure.
	timeout time.Duration
	// rss bounds its peak resident memory (default maxRSS).
	rss int64
	// nobody runs the command as an unprivileged user when the tests run
	// as root (read-only directories mean nothing to root).
	nobody bool
	// umask, when not zero, is the command's umask.
	umask int
	// check adds assertions; drive replaces the single command by a
	// scenario of its own (signals, concurrent processes).
	check func(e *env, r result) error
	drive func(e *env) (result, error)
}

// pending lists the cases whose fix belongs to work that has not landed,
// with whose work it is. They run; a pending case that fails is skipped with
// "PENDING", one that passes fails the test (remove it from this table).
var pending = map[string]string{}

func args(a ...string) func(*env) []string { return func(*env) []string { return a } }

// withFiles writes name=content before returning the command line.
func withFiles(files map[string]string, a ...string) func(*env) []string {
	return func(e *env) []string {
		for n, c := range files {
			e.write(n, c)
		}
		return a
	}
}

// withDB copies the fixture database to lab.db, writes files, and returns
// the command line with --db lab.db appended.
func withDB(files map[string]string, a ...string) func(*env) []string {
	return func(e *env) []string {
		e.labDB("lab.db")
		for n, c := range files {
			e.write(n, c)
		}
		return append(a, "--db", "lab.db")
	}
}

func TestCorpus(t *testing.T) {
	cases := corpus()
	names := map[string]bool{}
	covered := map[string]int{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("case %q twice", c.name)
		}
		names[c.name] = true
		if !slices.Contains(bullets, c.bullet) {
			t.Fatalf("case %q: unknown bullet %q", c.name, c.bullet)
		}
		covered[c.bullet]++
	}
	for n := range pending {
		if !names[n] {
			t.Errorf("pending lists %q, which is not a case", n)
		}
	}
	if len(cases) < 60 {
		t.Errorf("the corpus has %d cases, want at least 60", len(cases))
	}
	for _, b := range bullets {
		if covered[b] == 0 {
			t.Errorf("no case covers %q", b)
		}
	}
	t.Logf("%d cases; %d pending", len(cases), len(pending))
	for _, b := range bullets {
		n, p := 0, 0
		for _, c := range cases {
			if c.bullet == b {
				n++
				if _, ok := pending[c.name]; ok {
					p++
				}
			}
		}
		t.Logf("  %-58s %3d cases, %2d pending", b, n, p)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := runCase(t, c)
			why, isPending := pending[c.name]
			switch {
			case err != nil && isPending:
				t.Skipf("PENDING (%s): %v", why, err)
			case err != nil:
				t.Fatalf("[%s; %s] %v", c.owner, c.bullet, err)
			case isPending:
				t.Fatalf("case %q passes now: remove it from the pending table (%s)", c.name, why)
			}
		})
	}
}

// errorLine is the form of an error line: "attnlab: message", or, for the
// errors of an experiment file, "FILE:LINE: key: message" (or "FILE: ...").
var errorLine = regexp.MustCompile(`^(attnlab: |\S+?:(\d+:)? )`)

// anyCode is the code of a driven case that checks the exit code itself.
const anyCode = -100

// runCase runs one case and returns why it failed.
func runCase(t *testing.T, c tcase) error {
	e := newEnv(t)
	if c.nobody {
		e.unprivileged()
	}
	var r result
	var err error
	var before map[string]string
	if c.drive != nil {
		r, err = c.drive(e)
		if err != nil {
			return fmt.Errorf("%v\n%v", err, r)
		}
	} else {
		argv := c.setup(e)
		before = e.hashes(c.keep)
		timeout := c.timeout
		switch {
		case timeout > 0:
		case c.bullet == limits:
			timeout = 10 * time.Second // a refusal is instant; don't burn CI time on a size that is not refused
		default:
			timeout = 20 * time.Second
		}
		r = e.runAs(c.nobody, c.umask, timeout, c.stdin, argv...)
	}
	if err := c.verify(e, r, before); err != nil {
		return fmt.Errorf("%v\n%v", err, r)
	}
	return nil
}

// verify applies the common assertions.
func (c tcase) verify(e *env, r result, before map[string]string) error {
	if r.timedOut {
		return fmt.Errorf("hung: killed after %v", r.took.Round(time.Millisecond))
	}
	if r.code != c.code && c.code != anyCode {
		return fmt.Errorf("exit code %d, want %d", r.code, c.code)
	}
	for where, s := range map[string]string{"stderr": r.stderr, "stdout": r.stdout} {
		if c.name == "crash-test" && where == "stdout" {
			continue
		}
		if err := noTrace(where, s); err != nil {
			return err
		}
	}
	errLines := lines(r.stderr)
	if r.code != 0 {
		if len(errLines) == 0 {
			return fmt.Errorf("no error line")
		}
		last := errLines[len(errLines)-1]
		if !errorLine.MatchString(last) && !c.multi {
			return fmt.Errorf("the error line %q is neither \"attnlab: ...\" nor \"FILE:LINE: ...\"", last)
		}
		if len(errLines) != 1 && !c.multi {
			return fmt.Errorf("%d stderr lines, want one", len(errLines))
		}
		text := last
		if c.multi {
			text = r.stderr
		}
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				return fmt.Errorf("the error does not say %q", w)
			}
		}
	}
	for _, w := range c.out {
		if !strings.Contains(r.stdout, w) {
			return fmt.Errorf("stdout does not hold %q", w)
		}
	}
	limit := c.rss
	if limit == 0 {
		limit = maxRSS
	}
	if r.rss < 0 {
		e.t.Logf("peak RSS not measured on this platform: the %d MB bound is not checked", limit>>20)
	} else if r.rss > limit {
		return fmt.Errorf("peak RSS %d MB, more than %d MB", r.rss>>20, limit>>20)
	}
	if before != nil {
		after := e.hashes(c.keep)
		for n, h := range before {
			if after[n] != h {
				return fmt.Errorf("%s changed: %s → %s", n, h, after[n])
			}
		}
	}
	for _, msg := range e.dbErrors() {
		if err := noTrace("a run's stored error", msg); err != nil {
			return err
		}
	}
	if left := e.leftovers(); len(left) > 0 {
		return fmt.Errorf("temporary files left: %v", left)
	}
	if c.name != "crash-test" {
		if reports, _ := filepath.Glob(filepath.Join(e.crashDir, "*")); len(reports) > 0 {
			data, _ := os.ReadFile(reports[0])
			return fmt.Errorf("a crash report was written (a bug): %s\n%s", reports[0], clip(string(data)))
		}
	}
	if c.check != nil {
		return c.check(e, r)
	}
	return nil
}

// unprivileged makes the sandbox reachable by the unprivileged user that
// nobody cases run as.
func (e *env) unprivileged() {
	if os.Geteuid() != 0 {
		return
	}
	for d := e.dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	os.Chown(e.dir, 65534, 65534)
}

// runAs runs the command, as the unprivileged user if nobody is set and the
// tests run as root, with umask if not zero.
func (e *env) runAs(nobody bool, umask int, timeout time.Duration, stdin string, args ...string) result {
	e.t.Helper()
	if !nobody && umask == 0 {
		return e.run(timeout, stdin, args...)
	}
	// The wrappers go between prlimit and the binary: e.wrap holds them.
	var wrap []string
	if nobody && os.Geteuid() == 0 {
		wrap = append(wrap, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
	}
	if umask != 0 {
		wrap = append(wrap, "sh", "-c", fmt.Sprintf("umask %03o; exec \"$0\" \"$@\"", umask))
	}
	e.wrap = wrap
	defer func() { e.wrap = nil }()
	return e.run(timeout, stdin, args...)
}

// isMode returns a check that path has permission bits m.
func isMode(path string, m os.FileMode) func(*env, result) error {
	return func(e *env, _ result) error {
		fi, err := os.Stat(e.path(path))
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != m {
			return fmt.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), m)
		}
		return nil
	}
}

// noFile returns a check that path does not exist.
func noFile(path string) func(*env, result) error {
	return func(e *env, _ result) error {
		if _, err := os.Lstat(e.path(path)); err == nil {
			return fmt.Errorf("%s was created", path)
		}
		return nil
	}
}

// controlFreeOutput is a check that neither stream holds a raw control
// character.
func controlFreeOutput(_ *env, r result) error {
	if err := controlFree("stdout", r.stdout); err != nil {
		return err
	}
	return controlFree("stderr", r.stderr)
}

// hardlink creates name as a hard link to target.
func (e *env) hardlink(target, name string) {
	e.t.Helper()
	if err := os.Link(e.path(target), e.path(name)); err != nil {
		e.t.Fatal(err)
	}
}

// mkdir creates a directory with mode.
func (e *env) mkdir(name string, mode os.FileMode) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { os.Chmod(p, 0o755) })
	return p
}
