package main

import (
	"io"
	"os"

	"github.com/attnlab/attnlab/internal/printable"
)

// safeWriter is the stdout or stderr that commands write text to: every
// character a terminal would act on (ESC, CR, NUL, C1 and bidi controls,
// invalid UTF-8) is escaped on the way (see package printable), so a stored
// string — a description, an error, a sweep value, a decoded sample — can
// never drive the terminal. Commands whose output is data (export, a plot
// to stdout) and the progress bars write to raw instead.
type safeWriter struct {
	*printable.Writer
	raw io.Writer
}

func newSafeWriter(w io.Writer) *safeWriter {
	return &safeWriter{Writer: printable.NewWriter(w), raw: w}
}

// rawWriter returns the writer under w when w is a safeWriter: for data
// that must reach stdout byte for byte.
func rawWriter(w io.Writer) io.Writer {
	if s, ok := w.(*safeWriter); ok {
		s.Flush()
		return s.raw
	}
	return w
}

// fileOf returns the file under w (through the writers execute wraps
// stdout and stderr in: safeWriter, firstError, scrubWriter, pipeWatch),
// or nil: for asking whether a stream is a terminal, and its width.
func fileOf(w io.Writer) *os.File {
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
