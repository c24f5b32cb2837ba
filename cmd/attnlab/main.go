// Command attnlab is a laboratory for attention mechanisms in text
// generation: it trains and evaluates the runs of YAML experiments into a
// run database (a SQLite file, or PostgreSQL that many machines share),
// compares them, plots them and generates text from stored models. Run "attnlab --help" for the commands.
//
// Exit codes: 0 success (run: every run is done); 1 failure (a run failed,
// a database or runtime error); 2 usage or configuration error (bad flags
// or arguments, a RUN or EXPERIMENT argument that names nothing in the
// database or several runs, rm of a running run, an invalid experiment file, an output file that
// -o must not replace); 3 internal error (a bug in
// attnlab: one line names the crash report that holds the stack, which never
// goes to the terminal or the run database); 130 interrupted (Ctrl-C,
// SIGTERM, SIGHUP unless nohup ignores it, or the reader of stdout or
// stderr gone, as in run … 2>&1 | head,
// before the work was done: running runs were checkpointed and marked
// interrupted, and the same command resumes them; a command still running 5 s
// after the signal, blocked in a system call, is ended with 130 too).
//
// Go's fatal runtime errors (out of memory, stack overflow) cannot be
// caught: Go prints them and exits 2. attnlab prevents them by checking sizes
// before allocating (package experiments); the limits the process sets
// itself are a smaller maximum goroutine stack, so that a runaway recursion
// ends sooner and smaller, and, under ulimit -v or -d, what rlimit.go
// describes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/runs"
)

// testCommands are hidden commands that tests add to the tree (the
// attnlab_crashtest build tag adds one that panics).
var testCommands []func() *cobra.Command

// signalGrace is how long a command may take to stop after Ctrl-C or
// SIGTERM before the process ends anyway.
const signalGrace = 5 * time.Second

// maxStack bounds a goroutine's stack (Go's default is 1 GB on 64-bit
// systems); attnlab's deepest recursion (YAML nesting, which the parser
// caps) needs a tiny fraction of it.
const maxStack = 256 << 20

func main() {
	debug.SetMaxStack(maxStack)
	boundAddressSpace()
	// A closed terminal (SIGHUP) stops a command as Ctrl-C does, its runs
	// checkpointed, instead of killing it with them left running, a lost
	// attempt. Under nohup, which ignores SIGHUP, it stays ignored: asking
	// for it would install a handler in place of the ignoring.
	stopOn := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		stopOn = append(stopOn, syscall.SIGHUP)
	}
	sigCtx, stop := signal.NotifyContext(context.Background(), stopOn...)
	// A reader that goes away (run … | head) ends the command as Ctrl-C
	// does, runs checkpointed and marked interrupted, instead of Go's
	// default for a write to a closed stdout: death by SIGPIPE, leaving a
	// run "running" until its heartbeat went stale. Catching SIGPIPE makes
	// such writes fail with EPIPE (and resets on exec, unlike ignoring it).
	pipes := make(chan os.Signal, 1)
	signal.Notify(pipes, syscall.SIGPIPE)
	go func() {
		for range pipes {
		}
	}()
	// ctx ends at a signal or when a write finds its reader gone; it is
	// made before the goroutine below starts, which only reads it.
	ctx, closed := context.WithCancel(sigCtx)
	defer closed()
	go func() {
		// After the first interrupt (a signal, or the output's reader
		// gone), a signal kills the process at once, and a command that
		// has not stopped after a grace period (one blocked in a system
		// call: a read from a FIFO or a hung file system) is ended. The
		// run database stays consistent either way: every write is a
		// transaction, and a run whose process is gone is resumed from its
		// last checkpoint.
		<-ctx.Done()
		stop()
		time.Sleep(signalGrace)
		fmt.Fprintf(os.Stderr, "attnlab: interrupted: the command did not stop within %v of the interrupt\n", signalGrace)
		// Runs still training (a long evaluation between its checks) are
		// recorded as interrupted, not left "running" until their
		// heartbeats go stale; each resumes from its last checkpoint.
		rec, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if n := runs.Abandon(rec); n > 0 {
			fmt.Fprintf(os.Stderr, "attnlab: %s recorded as interrupted, to resume from the last checkpoint\n", plural(n, "run"))
		}
		cancel()
		os.Exit(exitInterrupted)
	}()
	stdout, stderr := &pipeWatch{w: os.Stdout, closed: closed}, &pipeWatch{w: os.Stderr, closed: closed}
	code := execute(ctx, os.Args[1:], os.Stdin, stdout, stderr)
	stop()
	os.Exit(code)
}

// pipeWatch is a standard stream that cancels the command (closed) when a
// write finds its reader gone (EPIPE), and returns errReaderGone then.
type pipeWatch struct {
	w      io.Writer
	closed context.CancelFunc
}

func (p *pipeWatch) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.closed()
		err = fmt.Errorf("%w: %w", errReaderGone, err)
	}
	return n, err
}

// errReaderGone marks a write to stdout or stderr whose reader went away
// (show … | head): exit 130 without a message. A broken pipe elsewhere
// (a database connection) is an error like any other.
var errReaderGone = errors.New("the output's reader went away")

// execute runs the command line args with the given standard streams and
// returns the exit code. It prints any error once to stderr: every line of
// an experiment's configuration errors, or one line "attnlab: message".
// main and the tests both go through it.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var s session
	if secrets := commandSecrets(args); len(secrets) > 0 {
		stdout, stderr = scrubWriter{stdout, secrets}, scrubWriter{stderr, secrets}
	}
	watched := &firstError{w: stdout}
	out, errw := newSafeWriter(watched), newSafeWriter(stderr)
	defer out.Flush()
	defer errw.Flush()
	var cmd *cobra.Command
	defer func() {
		if p := recover(); p != nil {
			out.Flush()
			code = recovered(errw, cmd, p, debug.Stack())
		}
	}()
	root := newRootCmd(&s)
	for _, f := range testCommands {
		root.AddCommand(f())
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(out)
	root.SetErr(errw)
	// Find must know completion, which cobra adds when it executes; its
	// hidden __complete command (shells' completion requests) it adds only
	// then.
	root.InitDefaultCompletionCmd(args...)
	cmd, rest, _ := root.Find(args) // for the error line, should a panic come before cobra returns it
	completing := len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
	if err := misspelledCommand(cmd, rest); err != nil && !completing {
		printError(errw, cmd, err, true) // the message says where to look
		return exitCode(err, false)
	}
	c, err := root.ExecuteContextC(ctx)
	out.Flush()
	if err == nil && watched.err != nil {
		// A write to stdout that the command did not check (a full disk,
		// a closed descriptor) fails the command all the same: a script
		// must not take a lost output for a result.
		printError(errw, c, watched.err, true)
		return exitCode(watched.err, true)
	}
	if err == nil {
		return exitOK
	}
	printError(errw, c, err, s.ran)
	return exitCode(err, s.ran)
}

// firstError is a writer that remembers the first error of its writes.
type firstError struct {
	w   io.Writer
	err error
}

func (f *firstError) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	if err != nil && f.err == nil {
		f.err = err
	}
	return n, err
}
