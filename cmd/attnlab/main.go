// Command attnlab is a laboratory for attention mechanisms in text
// generation: it trains and evaluates the runs of YAML experiments into a
// SQLite run database, compares them, plots them and generates text from
// stored models. Run "attnlab --help" for the commands.
//
// Exit codes: 0 success; 1 failure (a run failed, a database or runtime
// error, an unknown run or experiment); 2 usage or configuration error (bad
// flags or arguments, an invalid experiment file, an output file that -o
// must not replace); 130 interrupted (Ctrl-C or SIGTERM: running runs were
// checkpointed and marked interrupted, and the same command resumes them).
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process at once.
		<-ctx.Done()
		stop()
	}()
	code := execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute runs the command line args with the given standard streams and
// returns the exit code. It prints any error once to stderr: every line of
// an experiment's configuration errors, or one line "attnlab: message".
// main and the tests both go through it.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var s session
	out, errw := newSafeWriter(stdout), newSafeWriter(stderr)
	defer out.Flush()
	defer errw.Flush()
	root := newRootCmd(&s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(out)
	root.SetErr(errw)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err, s.ran)
	out.Flush()
	printError(errw, cmd, err, s.ran)
	return code
}
