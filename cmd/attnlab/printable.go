package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"

	"github.com/attnlab/attnlab/internal/printable"
)

// safeWriter is the stdout or stderr that commands write text to: every
// character a terminal would act on (ESC, CR, NUL, C1 and bidi controls,
// invalid UTF-8) is escaped on the way (see package printable), so a stored
// string — a description, an error, a sweep value, a decoded sample — can
// never drive the terminal. Commands whose output is data (export, a plot
// to stdout, eval --out -) write to raw instead when it is not a terminal
// (rawWriter), and the progress bars to the terminal itself.
type safeWriter struct {
	*printable.Writer
	raw io.Writer
}

func newSafeWriter(w io.Writer) *safeWriter {
	return &safeWriter{Writer: printable.NewWriter(w), raw: w}
}

// rawWriter returns the writer under w when w is a safeWriter: for data
// that must reach a file or a pipe byte for byte. When that writer is a
// terminal, a person reads the data and w itself is returned: an ESC in
// an exported name or a model's output is shown escaped, not obeyed.
func rawWriter(w io.Writer) io.Writer {
	s, ok := w.(*safeWriter)
	if !ok {
		return w
	}
	if isTerminal(s.raw) {
		return s
	}
	s.Flush()
	return s.raw
}

// isTerminal reports whether s — stdin, or stdout or stderr through the
// writers execute wraps — is a terminal. It is the one test of a terminal
// in attnlab.
func isTerminal(s any) bool {
	f := fileOf(s)
	return f != nil && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// fileOf returns the file under w (stdin, or a writer execute wraps
// stdout and stderr in: safeWriter, firstError, scrubWriter, pipeWatch),
// or nil: for asking whether a stream is a terminal, and its width.
func fileOf(w any) *os.File {
	for {
		switch x := w.(type) {
		case *safeWriter:
			w = x.raw
		case *firstError:
			w = x.w
		case scrubWriter:
			w = x.w
		case *pipeWatch:
			w = x.w
		case *os.File:
			return x
		default:
			return nil
		}
	}
}
