package hostile

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// makeForeignSQLite creates a SQLite database that some other program made:
// a rollback journal (not WAL), one table, one row.
func makeForeignSQLite(t *testing.T, path string) {
	t.Helper()
	os.Remove(path)
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=DELETE")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`, `INSERT INTO users (name) VALUES ('ada')`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// lockedBuffer is a buffer written by a process and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is an attnlab process running in the background.
type proc struct {
	t        *testing.T
	cmd      *exec.Cmd
	out, err lockedBuffer
	start    time.Time
	ctx      context.Context
	cancel   context.CancelFunc
}

// startProc starts attnlab with args; it is killed after timeout.
func (e *env) startProc(timeout time.Duration, stdin io.Reader, args ...string) *proc {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p := &proc{t: e.t, ctx: ctx, cancel: cancel}
	p.cmd = e.command(ctx, stdin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		cancel()
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// waitOutput waits until the process's stderr (or stdout) holds s.
func (p *proc) waitOutput(s string, stdout bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		text := p.err.String()
		if stdout {
			text = p.out.String()
		}
		if strings.Contains(text, s) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no %q in the output after %v\nstderr:\n%s", s, timeout, clip(p.err.String()))
}

// wait waits for the process to end.
func (p *proc) wait() result {
	err := p.cmd.Wait()
	defer p.cancel()
	var out, errb bytes.Buffer
	out.WriteString(p.out.String())
	errb.WriteString(p.err.String())
	return finished(p.cmd, err, p.start, p.ctx, &out, &errb)
}

// signalAndWait sends sig and returns the result and how long the process
// took to end after it.
func (p *proc) signalAndWait(sig syscall.Signal) (result, time.Duration) {
	sent := time.Now()
	p.cmd.Process.Signal(sig)
	r := p.wait()
	took := time.Since(sent)
	p.t.Logf("%v → exit %d %v after the signal", sig, r.code, took.Round(time.Millisecond))
	return r, took
}

// quickExit is how soon after a signal a process must end: "within a
// second", with room for a loaded CI machine.
const quickExit = 3 * time.Second

// longTiny is tiny with many steps, an evaluation every few.
func longTiny(steps, evalEvery int) string {
	return strings.Replace(tinyYAML, "train: {batch_size: 16, steps: 4, eval_every: 2, log_every: 2}",
		fmt.Sprintf("train: {batch_size: 16, steps: %d, eval_every: %d, log_every: %d}", steps, evalEvery, evalEvery), 1)
}

// statusOf returns the stdout of "attnlab ls runs" on lab.db.
func (e *env) statusOf() string {
	return e.run(20*time.Second, "", "ls", "runs", "--db", "lab.db").stdout
}

func signalDuringTraining(e *env) (result, error) {
	e.write("long.yaml", longTiny(1000000, 50))
	p := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
	if err := p.waitOutput("step 50/", false, time.Minute); err != nil {
		return p.wait(), err
	}
	r, took := p.signalAndWait(syscall.SIGTERM)
	if took > quickExit {
		return r, fmt.Errorf("run took %v to stop after SIGTERM", took)
	}
	if ls := e.statusOf(); !strings.Contains(ls, "interrupted") {
		return r, fmt.Errorf("the run is not interrupted:\n%s", ls)
	}
	return r, nil
}

// stdoutClosedDuringTraining is `attnlab run … 2>&1 | head`: the reader
// goes away while a run trains. The run must end as on Ctrl-C (exit 130,
// the run checkpointed and interrupted), not die of SIGPIPE and leave the
// run "running".
func stdoutClosedDuringTraining(e *env) (result, error) {
	e.write("long.yaml", longTiny(1000000, 50))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, nil, "run", "long.yaml", "--db", "lab.db")
	pr, pw, err := os.Pipe()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	pw.Close()
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "step 50/") {
		n, err := pr.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			break
		}
	}
	pr.Close() // head has printed its lines
	closed := time.Now()
	err = cmd.Wait()
	took := time.Since(closed)
	// Its stdout and stderr went to the reader; what the case checks
	// (stderr) is what was read before it went away, then ls's listing.
	r := finished(cmd, err, start, ctx, &bytes.Buffer{}, &seen)
	if !strings.Contains(seen.String(), "step 50/") {
		return r, fmt.Errorf("no step 50 before the output closed:\n%s", clip(seen.String()))
	}
	if took > quickExit {
		return r, fmt.Errorf("run took %v to stop after its output closed", took)
	}
	ls := e.statusOf()
	r.stderr += ls
	if !strings.Contains(ls, "interrupted") {
		return r, fmt.Errorf("the run is not interrupted:\n%s", ls)
	}
	return r, nil
}

func signalDuringTestEvaluation(e *env) (result, error) {
	y := strings.Replace(tinyYAML, "valid_size: 16, test_size: 16", "valid_size: 8, test_size: 3000", 1)
	y = strings.Replace(y, "steps: 4, eval_every: 2, log_every: 2", "steps: 2, eval_every: 0, log_every: 2", 1)
	y += "eval: {valid_exact_match: false, decode: {strategy: beam, beam: 64}}\n"
	e.write("slow.yaml", y)
	p := e.startProc(3*time.Minute, nil, "run", "slow.yaml", "--db", "lab.db")
	if err := p.waitOutput("step 2/2", false, time.Minute); err != nil {
		return p.wait(), err
	}
	time.Sleep(300 * time.Millisecond) // well into the test decoding
	r, took := p.signalAndWait(syscall.SIGINT)
	if took > quickExit {
		return r, fmt.Errorf("run took %v to stop after SIGINT during the test evaluation", took)
	}
	if ls := e.statusOf(); !strings.Contains(ls, "interrupted") {
		return r, fmt.Errorf("the run is not interrupted:\n%s", ls)
	}
	return r, nil
}

func signalGenerateBlockedStdin(e *env) (result, error) {
	e.labDB("lab.db")
	pr, pw, err := os.Pipe()
	if err != nil {
		e.t.Fatal(err)
	}
	defer pw.Close() // never written: generate waits for a line
	p := e.startProc(time.Minute, pr, "generate", "1", "--stdin", "--db", "lab.db")
	pr.Close()
	// Signal only once generate is blocked reading stdin: it is then past
	// main's signal.NotifyContext, so SIGTERM must interrupt it (exit 130).
	// A fixed sleep raced with a slow start under load, and SigCgt in
	// /proc/PID/status cannot tell: Go's runtime catches SIGTERM from its
	// first instruction, and without a Notify it dies of the signal.
	if err := waitReading(p.cmd.Process.Pid, 0, time.Minute); err != nil {
		p.cmd.Process.Kill()
		return p.wait(), err
	}
	r, took := p.signalAndWait(syscall.SIGTERM)
	if took > quickExit {
		return r, fmt.Errorf("generate took %v to stop after SIGTERM", took)
	}
	return r, nil
}

func signalGenerateDecoding(e *env) (result, error) {
	e.labDB("lab.db")
	in := strings.Repeat("the\n", 3000)
	p := e.startProc(3*time.Minute, strings.NewReader(in), "generate", "2", "--stdin", "--max-len", "10000", "--db", "lab.db")
	if err := p.waitOutput("the", true, time.Minute); err != nil {
		return p.wait(), err
	}
	r, took := p.signalAndWait(syscall.SIGINT)
	if took > quickExit {
		return r, fmt.Errorf("generate took %v to stop after SIGINT", took)
	}
	return r, nil
}

// crashReport checks the crash-test case: one report, with the stack,
// named by the error line.
func crashReport(e *env, r result) error {
	reports, _ := filepath.Glob(filepath.Join(e.crashDir, "crash-*.log"))
	if len(reports) != 1 {
		return fmt.Errorf("crash reports %v, want one", reports)
	}
	data, err := os.ReadFile(reports[0])
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), "goroutine ") || !strings.Contains(string(data), "deliberate bug") {
		return fmt.Errorf("the report lacks the stack:\n%s", clip(string(data)))
	}
	if !strings.Contains(r.stderr, reports[0]) {
		return fmt.Errorf("the error line does not name %s", reports[0])
	}
	return nil
}

// procState returns the state letter of pid from /proc.
func procState(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

// waitCPU waits until process pid has used cpu of CPU time (user + system,
// from /proc/PID/stat), for at most timeout.
func waitCPU(pid int, cpu, timeout time.Duration) error {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return fmt.Errorf("process %d ended before it used %v of CPU", pid, cpu)
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 || f[0] == "Z" {
			return fmt.Errorf("process %d ended before it used %v of CPU", pid, cpu)
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64) // fields 14 and 15 of stat
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		if time.Duration(utime+stime)*tick >= cpu {
			return nil
		}
	}
	return fmt.Errorf("process %d did not use %v of CPU within %v", pid, cpu, timeout)
}

// readSyscall is the number of read(2) on the architectures whose
// /proc/PID/task/TID/syscall waitReading understands.
var readSyscall = map[string]string{"amd64": "0", "arm64": "63", "386": "3", "riscv64": "63", "loong64": "63"}

// waitReading waits until a thread of pid is blocked in read(2) on file
// descriptor fd, as /proc/PID/task/TID/syscall shows it ("0 0x0 ..." on
// amd64: the system call's number, then its arguments).
func waitReading(pid, fd int, timeout time.Duration) error {
	nr, ok := readSyscall[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("waitReading: no read(2) number for %s", runtime.GOARCH)
	}
	arg := fmt.Sprintf("0x%x", fd)
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s := procState(pid); s == "" || s == "Z" {
			return fmt.Errorf("process %d ended before it read fd %d", pid, fd)
		}
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/syscall", pid))
		for _, task := range tasks {
			data, err := os.ReadFile(task)
			if err != nil {
				continue
			}
			if f := strings.Fields(string(data)); len(f) > 1 && f[0] == nr && f[1] == arg {
				return nil
			}
		}
	}
	return fmt.Errorf("process %d did not block reading fd %d within %v (no /proc/PID/task/TID/syscall?)", pid, fd, timeout)
}

// killAndRestart is the acceptance test of issue 16: kill -9 a run and
// restart it at once, while the killed process is still a zombie; the run
// is resumed and the restart exits 0 only when it is done.
func killAndRestart(e *env) (result, error) {
	e.write("long.yaml", longTiny(1500, 100))
	a := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
	if err := a.waitOutput("step 200/", false, time.Minute); err != nil {
		return a.wait(), err
	}
	a.cmd.Process.Signal(syscall.SIGKILL) // not reaped: a zombie until a.wait()
	deadline := time.Now().Add(5 * time.Second)
	for procState(a.cmd.Process.Pid) != "Z" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	zombie := procState(a.cmd.Process.Pid) == "Z"
	restart := time.Now()
	b := e.run(2*time.Minute, "", "run", "long.yaml", "--db", "lab.db")
	e.t.Logf("killed at step ≥ 200 (zombie: %v); the restart exited %d after %v", zombie, b.code, time.Since(restart).Round(time.Millisecond))
	a.wait()
	if !zombie {
		return b, fmt.Errorf("the killed process never became a zombie (no /proc?)")
	}
	if !strings.Contains(b.stderr, "resume at step") {
		return b, fmt.Errorf("the restart did not resume the run")
	}
	if ls := e.statusOf(); !strings.Contains(ls, "done") || !strings.Contains(ls, " 2 ") {
		return b, fmt.Errorf("the run is not done after a second attempt:\n%s", ls)
	}
	return b, nil
}

// secondRunWaits: a second run of the same experiment waits for the run
// the first one holds, and both exit 0 once it is done.
func secondRunWaits(e *env) (result, error) {
	e.write("long.yaml", longTiny(600, 100))
	a := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
	if err := a.waitOutput(": start", false, time.Minute); err != nil {
		return a.wait(), err
	}
	b := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
	ra, rb := a.wait(), b.wait()
	if ra.code != 0 {
		return ra, fmt.Errorf("the first run exited %d", ra.code)
	}
	if !strings.Contains(rb.stderr, "is running in another process") {
		return rb, fmt.Errorf("the second run did not say it waits")
	}
	if !strings.Contains(rb.stdout, "tiny") {
		return rb, fmt.Errorf("the second run printed no table")
	}
	return rb, nil
}

// secondRunInterrupted: Ctrl-C while waiting for a run another process
// holds exits 130 with a line naming the holder.
func secondRunInterrupted(e *env) (result, error) {
	e.write("long.yaml", longTiny(1000000, 100))
	a := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
	if err := a.waitOutput(": start", false, time.Minute); err != nil {
		return a.wait(), err
	}
	b := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
	if err := b.waitOutput("waiting for it", false, time.Minute); err != nil {
		return b.wait(), err
	}
	rb, took := b.signalAndWait(syscall.SIGINT)
	a.signalAndWait(syscall.SIGTERM)
	if took > quickExit {
		return rb, fmt.Errorf("the waiting run took %v to stop", took)
	}
	if !strings.Contains(rb.stderr, "not done: running on") {
		return rb, fmt.Errorf("no line names the holder")
	}
	return rb, nil
}

// evilListing runs an experiment whose description drives the terminal and
// lists it every way.
func evilListing(e *env) (result, error) {
	e.write("evil.yaml", strings.Replace(tinyYAML, "description: a tiny reversal", "description: "+evilDescription, 1))
	var last result
	for _, a := range [][]string{
		{"run", "evil.yaml", "--db", "lab.db"},
		{"ls", "experiments", "--db", "lab.db"},
		{"ls", "runs", "--db", "lab.db"},
		{"show", "1", "--db", "lab.db"},
		{"compare", "tiny", "--db", "lab.db"},
		{"export", "tiny", "--format", "json", "--db", "lab.db"},
	} {
		last = e.run(time.Minute, "", a...)
		if last.code != 0 {
			return last, fmt.Errorf("%s exited %d", a[0], last.code)
		}
		if err := controlFreeOutput(e, last); err != nil {
			return last, fmt.Errorf("%s: %v", strings.Join(a[:2], " "), err)
		}
	}
	return last, nil
}

// evilData trains on pairs whose tokens hold escape sequences and shows and
// decodes them.
func evilData(e *env) (result, error) {
	var b strings.Builder
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "w%d \x1b[31mred\x1b[0m \x1b]0;t\x07\tz%d \x1b[2J\n", i, i%5)
	}
	e.write("pairs.tsv", b.String())
	e.write("pairs.yaml", pairsYAML)
	var last result
	for _, a := range [][]string{
		{"run", "pairs.yaml", "--db", "lab.db"},
		{"show", "1", "--db", "lab.db", "--samples", "-1"},
		{"generate", "1", "--input", "w1 \x1b[31mred\x1b[0m", "--db", "lab.db"},
		{"generate", "1", "--stdin", "--db", "lab.db"},
	} {
		stdin := ""
		if a[2] == "--stdin" {
			stdin = "w2 \x1b[31mred\x1b[0m\n"
		}
		last = e.run(time.Minute, stdin, a...)
		if last.code != 0 {
			return last, fmt.Errorf("%s exited %d", a[0], last.code)
		}
		if err := controlFreeOutput(e, last); err != nil {
			return last, fmt.Errorf("%s: %v", a[0], err)
		}
	}
	return last, nil
}

// deletedDuringRun deletes (or replaces) the run database while a run
// trains: the run must stop with one error line and a non-zero exit, not
// print a table of results it no longer has.
func deletedDuringRun(replace bool) func(e *env) (result, error) {
	return func(e *env) (result, error) {
		e.write("long.yaml", longTiny(3000, 100))
		p := e.startProc(2*time.Minute, nil, "run", "long.yaml", "--db", "lab.db")
		if err := p.waitOutput("step 100/", false, time.Minute); err != nil {
			return p.wait(), err
		}
		if replace {
			e.write("other.db", "")
			makeForeignSQLite(e.t, e.path("other.db"))
			os.Rename(e.path("other.db"), e.path("lab.db"))
		} else {
			os.Remove(e.path("lab.db"))
		}
		r := p.wait()
		if r.code == 0 {
			return r, fmt.Errorf("exit 0 although the database was %s", map[bool]string{false: "deleted", true: "replaced"}[replace])
		}
		if strings.Contains(r.stdout, "tiny") {
			return r, fmt.Errorf("a results table was printed from a database that is gone")
		}
		if !strings.Contains(r.stderr, "lab.db") {
			return r, fmt.Errorf("no error line names the database")
		}
		return r, nil
	}
}

// signalBlockedRead: a command blocked in a read that never returns (a
// FIFO nobody writes) ends soon after SIGTERM — unless it refused the FIFO
// before reading it, which is better still.
func signalBlockedRead(e *env) (result, error) {
	e.fifo("exp.yaml")
	p := e.startProc(time.Minute, nil, "plan", "exp.yaml")
	// plan refuses a FIFO at once; give it time to, even on a loaded
	// machine, before taking it for blocked. (A fixed second raced with a
	// slow start: the signal came before main's handler and killed it.)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if procState(p.cmd.Process.Pid) == "Z" {
			break
		}
	}
	if p.cmd.ProcessState == nil && procState(p.cmd.Process.Pid) == "Z" || strings.Contains(p.err.String(), "exp.yaml") {
		r := p.wait() // it ended by itself
		if r.code != 2 {
			return r, fmt.Errorf("plan on a FIFO ended with %d, want 2 (refused) or 130 (interrupted)", r.code)
		}
		return r, nil
	}
	r, took := p.signalAndWait(syscall.SIGTERM)
	if took > 5*time.Second+quickExit {
		return r, fmt.Errorf("plan blocked on a FIFO took %v to end after SIGTERM", took)
	}
	if r.code != 130 && r.code != 2 {
		return r, fmt.Errorf("exit %d after SIGTERM, want 130", r.code)
	}
	return r, nil
}

// signalDuringEval: Ctrl-C while eval decodes a large file with a wide beam
// ends it at once.
func signalDuringEval(e *env) (result, error) {
	e.labDB("lab.db")
	e.write("big.tsv", evalTSV(125)+strings.Repeat(evalTSV(125), 40))
	p := e.startProc(3*time.Minute, nil, "eval", "1", "big.tsv", "--beam", "64", "--db", "lab.db")
	// Loaded and decoding: half a second of its own CPU time is far past
	// main's signal handler whatever the machine's load (a fixed sleep
	// raced with a slow start).
	if err := waitCPU(p.cmd.Process.Pid, 500*time.Millisecond, 2*time.Minute); err != nil {
		p.cmd.Process.Kill()
		return p.wait(), err
	}
	if p.cmd.ProcessState != nil || procState(p.cmd.Process.Pid) == "Z" {
		return p.wait(), fmt.Errorf("eval ended before the signal: the test needs a longer decoding")
	}
	r, took := p.signalAndWait(syscall.SIGINT)
	if took > quickExit {
		return r, fmt.Errorf("eval took %v to stop after SIGINT", took)
	}
	return r, nil
}
