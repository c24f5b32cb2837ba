//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/internal/testenv"
)

// TestRawWriterEscapesOnATerminal: data written to stdout (eval --out -,
// export -o -, a plot to -o -) reaches a pipe byte for byte, but on a
// terminal its control characters are escaped: a model's output or a
// stored name holding ESC cannot drive the terminal of the person reading.
func TestRawWriterEscapesOnATerminal(t *testing.T) {
	const data = "a\x1b]0;owned\x07b"
	ptmx, pts := testenv.PseudoTerminal(t)

	sw := newSafeWriter(&firstError{w: pts})
	fmt.Fprint(rawWriter(sw), data)
	sw.Flush()
	if err := ptmx.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	k, err := ptmx.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(buf[:k]), `a\x1b]0;owned\x07b`; got != want {
		t.Errorf("on a terminal: got %q, want %q", got, want)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sw = newSafeWriter(w)
	fmt.Fprint(rawWriter(sw), data)
	sw.Flush()
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != data {
		t.Errorf("on a pipe: got %q, want %q byte for byte", got, data)
	}
}

// TestOneOutputOnATerminal: generate --input's output is escaped on a
// terminal (backslash, tab, ESC), and byte for byte to a pipe.
func TestOneOutputOnATerminal(t *testing.T) {
	const output = "\\\t\x1bx"
	ptmx, pts := testenv.PseudoTerminal(t)
	sw := newSafeWriter(&firstError{w: pts})
	writeOneOutput(sw, output)
	sw.Flush()
	if err := ptmx.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	k, err := ptmx.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	// (The terminal writes its newline as CR LF.)
	if got, want := strings.TrimRight(string(buf[:k]), "\r\n"), `\\\t\x1bx`; got != want {
		t.Errorf("on a terminal: got %q, want %q", got, want)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sw = newSafeWriter(w)
	writeOneOutput(sw, output)
	sw.Flush()
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != output+"\n" {
		t.Errorf("on a pipe: got %q, want %q byte for byte", got, output+"\n")
	}
}
