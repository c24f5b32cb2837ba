//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
)

// written returns what write puts through a safeWriter (stdout as execute
// wraps it) on a pseudo-terminal and on a pipe; the terminal's CR LF line
// ends read as LF.
func written(t *testing.T, write func(w io.Writer)) (onTerminal, onPipe string) {
	t.Helper()
	ptmx, pts := testenv.PseudoTerminal(t)
	sw := newSafeWriter(&firstError{w: pts})
	write(sw)
	sw.Flush()
	if err := ptmx.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	k, err := ptmx.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	onTerminal = strings.ReplaceAll(string(buf[:k]), "\r\n", "\n")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sw = newSafeWriter(w)
	write(sw)
	sw.Flush()
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return onTerminal, string(got)
}

// TestRawWriterEscapesOnATerminal: data written to stdout (eval --out -,
// export -o -, a plot to -o -) reaches a pipe byte for byte, but on a
// terminal its control characters are escaped: a model's output or a
// stored name holding ESC cannot drive the terminal of the person reading.
func TestRawWriterEscapesOnATerminal(t *testing.T) {
	const data = "a\x1b]0;owned\x07b"
	term, pipe := written(t, func(w io.Writer) { fmt.Fprint(rawWriter(w), data) })
	if want := `a\x1b]0;owned\x07b`; term != want {
		t.Errorf("on a terminal: got %q, want %q", term, want)
	}
	if pipe != data {
		t.Errorf("on a pipe: got %q, want %q byte for byte", pipe, data)
	}
}

// TestOneOutputOnATerminal: generate --input's output is escaped on a
// terminal (backslash, tab, ESC), and byte for byte to a pipe.
func TestOneOutputOnATerminal(t *testing.T) {
	const output = "\\\t\x1bx"
	term, pipe := written(t, func(w io.Writer) { writeOneOutput(w, output) })
	if want := `\\\t\x1bx` + "\n"; term != want {
		t.Errorf("on a terminal: got %q, want %q", term, want)
	}
	if pipe != output+"\n" {
		t.Errorf("on a pipe: got %q, want %q byte for byte", pipe, output+"\n")
	}
}

// TestPlotToATerminalIsRefused: a plot for -o - when stdout is a terminal
// is a usage error naming -o, before any work (the database need not
// exist), not a PNG shown as a screenful of escapes; -o - > file still
// writes the image (TestOutputFile).
func TestPlotToATerminalIsRefused(t *testing.T) {
	_, pts := testenv.PseudoTerminal(t)
	db := t.TempDir() + "/none.db"
	for _, args := range [][]string{
		{"plot", "curves", "tiny", "-o", "-", "--db", db},
		{"plot", "attention", "1", "-o", "-", "--db", db},
		{"plot", "length", "tiny", "-o", "/dev/stdout", "--db", db},
	} {
		var errb bytes.Buffer
		code := execute(context.Background(), args, strings.NewReader(""), pts, &errb)
		wantError(t, result{code: code, stderr: errb.String()}, exitUsage, "stdout is a terminal", "-o ")
	}
}

// TestIsTerminal: isTerminal answers for stdin (generate reads a terminal
// one line at a time) as for stdout and stderr through execute's writers.
func TestIsTerminal(t *testing.T) {
	_, pts := testenv.PseudoTerminal(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		name string
		s    any
		want bool
	}{
		{"terminal stdin", pts, true},
		{"terminal stdout", newSafeWriter(&firstError{w: pts}), true},
		{"pipe stdin", r, false},
		{"pipe stdout", newSafeWriter(w), false},
		{"reader", strings.NewReader("x"), false},
		{"buffer", &bytes.Buffer{}, false},
	} {
		if got := isTerminal(tc.s); got != tc.want {
			t.Errorf("isTerminal(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOneTerminalTest: isTerminal is the one test of a terminal; a copy
// of the isatty call elsewhere (generate's stdin had one) would drift
// from it (it alone knows Cygwin terminals and execute's writers).
func TestOneTerminalTest(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "printable.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"isatty.", "ModeCharDevice", "term.IsTerminal"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s tests for a terminal with %s: use isTerminal", f, bad)
			}
		}
	}
}
