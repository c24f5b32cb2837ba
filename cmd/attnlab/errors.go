package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/crash"
	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tensor"
)

// Exit codes.
const (
	exitOK          = 0   // success
	exitFailure     = 1   // a run failed; a database, data or runtime error
	exitUsage       = 2   // bad flags or arguments (a run or experiment the database lacks, a running run to remove); an invalid experiment; a refused output file
	exitInternal    = 3   // a bug in attnlab; its report is in a crash log
	exitInterrupted = 130 // 128 + SIGINT: interrupted, runs checkpointed
)

// internalError is a bug in attnlab whose report (the stack) went to a
// crash log that the message names: exit code 3.
type internalError struct{ err error }

func (e *internalError) Error() string { return e.err.Error() }
func (e *internalError) Unwrap() error { return e.err }

// crashNote writes the report of a bug (a panic value and its stack) to a
// crash log and returns the note that tells the user where it is.
func crashNote(value any, stack []byte) string {
	path, err := crash.Write(version, value, stack)
	if err != nil {
		return fmt.Sprintf("its report could not be written: %v", err)
	}
	return "report written to " + path
}

// recovered turns a panic that reached execute into an exit code and one
// line on w: a tensor.Error is a misuse of a tensor op that the input can
// cause (exit 1); anything else is a bug (exit 3) whose stack goes to a crash
// log, never to the terminal.
func recovered(w io.Writer, cmd *cobra.Command, p any, stack []byte) int {
	if te, ok := p.(tensor.Error); ok {
		printError(w, cmd, te, true)
		return exitFailure
	}
	err := &internalError{fmt.Errorf("internal error: %s (a bug in attnlab; %s)", firstLine(fmt.Sprint(p)), crashNote(p, stack))}
	printError(w, cmd, err, true)
	return exitInternal
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// errInterrupted is returned by run when Ctrl-C stopped the execution.
var errInterrupted = errors.New("interrupted: rerun the same command to resume")

// exitCode picks the exit code of err. ran says whether a command's RunE
// started: an error before that comes from cobra's parsing of the command
// line (unknown command or flag, wrong arguments, flag groups), so it is a
// usage error.
func exitCode(err error, ran bool) int {
	var ue *usageError
	var es experiments.Errors
	var ce *experiments.ConfigError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(*internalError)):
		return exitInternal
	case errors.Is(err, errInterrupted), errors.Is(err, context.Canceled), errors.Is(err, errReaderGone):
		return exitInterrupted
	case !ran, errors.As(err, &ue), errors.As(err, &es), errors.As(err, &ce), errors.Is(err, safeout.ErrRefused),
		errors.Is(err, report.ErrKey),                                       // --where, --by, --pool, --baseline, --metrics, --sort naming no key; --by pooling settings
		errors.Is(err, store.ErrAmbiguous), errors.Is(err, store.ErrBadRef), // a RUN argument that names several runs, or is of no form
		errors.Is(err, runs.ErrNoModel),  // a RUN argument without a trained model (not finished)
		errors.Is(err, store.ErrRunning): // rm of a running run: refused, nothing removed
		return exitUsage
	}
	return exitFailure
}

// maxConfigErrors bounds the problems of a configuration printed one per
// line; the rest are counted.
const maxConfigErrors = 50

// printError writes err to w once, nothing for a write to an output whose
// reader went away (errReaderGone). Configuration errors print each problem
// on its own line, "file:line: key: message", as compilers do (the first
// maxConfigErrors, then how many more); anything else
// is one line "attnlab: command: message". Errors of the command line
// itself (ran false) point to the command's help.
func printError(w io.Writer, cmd *cobra.Command, err error, ran bool) {
	var es experiments.Errors
	if errors.As(err, &es) {
		for i, e := range es {
			if i == maxConfigErrors && len(es) > maxConfigErrors+1 {
				// A generated file with 60 000 unknown keys printed them all.
				fmt.Fprintf(w, "… and %d more problems\n", len(es)-i)
				break
			}
			fmt.Fprintln(w, printable.Line(e.Error()))
		}
		return
	}
	if errors.Is(err, errReaderGone) {
		return // show … | head: nothing to tell, as with Ctrl-C in a pager
	}
	msg := printable.WithoutPackage(printable.Line(firstLine(err.Error())))
	if errors.Is(err, context.Canceled) && !errors.Is(err, errInterrupted) {
		msg = "interrupted"
	}
	if cmd != nil {
		if name := commandName(cmd); name != "" {
			msg = name + ": " + msg
		}
		if !ran {
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
	}
	fmt.Fprintf(w, "attnlab: %s\n", msg)
}

// commandName is the command's path without the root: "plot curves".
func commandName(cmd *cobra.Command) string {
	path := cmd.CommandPath()
	if i := strings.IndexByte(path, ' '); i >= 0 {
		return path[i+1:]
	}
	return ""
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
