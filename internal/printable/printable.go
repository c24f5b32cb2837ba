// Package printable makes text safe to show on a terminal. Strings that
// attnlab prints come from places a user or another program controls —
// experiment descriptions and names, sweep values, data files, decoded
// samples, error messages that quote them — and a terminal acts on some
// characters instead of showing them: ESC starts a control sequence that can
// recolour, move the cursor, retitle the window or, on some terminals, answer
// back; CR returns to the start of the line and lets text overwrite what was
// printed; NUL, BEL and backspace misbehave; a C1 control (U+0080–U+009F, or
// its raw byte in an invalid UTF-8 sequence) is a one-byte CSI on some
// terminals; bidirectional overrides (U+202A–U+202E, U+2066–U+2069) make
// text read differently from what it is.
//
// Line and Text replace each such character with a visible escape: \n, \r,
// \t, \xHH (other C0 controls, DEL, bytes that are not valid UTF-8) or \uHHHH
// (C1 controls, bidirectional controls). Text keeps newlines and tabs, for
// text laid out on several lines; Line escapes them too, for a value that
// must stay on one line. Other text, including a backslash, is returned
// unchanged, and a string without such characters is returned as it is
// (without allocating). Writer applies Text to a stream.
package printable

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Line returns s with every character that a terminal would act on, the
// newline and the tab included, escaped.
func Line(s string) string { return escape(s, false) }

// Text returns s with every character that a terminal would act on
// escaped, except newlines and tabs.
func Text(s string) string { return escape(s, true) }

// unsafe reports whether rune r (from a valid encoding) must be escaped.
func unsafe(r rune, keepLayout bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return !keepLayout
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x80:
		return false
	case r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func escape(s string, keepLayout bool) string {
	i := firstUnsafe(s, keepLayout)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafe(r, keepLayout):
			b.WriteString(s[i : i+size])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// firstUnsafe returns the index of the first byte of s that starts an
// unsafe character, or -1.
func firstUnsafe(s string, keepLayout bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if unsafe(rune(c), keepLayout) {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafe(r, keepLayout) {
			return i
		}
		i += size
	}
	return -1
}

// Writer writes Text of what is written to it to an underlying writer. A
// multi-byte character split across two writes is held back until the
// next write or Flush, so it is not mistaken for invalid bytes. A Writer is
// safe for concurrent use.
type Writer struct {
	mu   sync.Mutex
	w    io.Writer
	hold []byte // the start of an incomplete UTF-8 sequence
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p and writes it; it returns len(p) when the underlying
// write succeeds.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := p
	if len(w.hold) > 0 {
		buf = append(w.hold, p...)
		w.hold = nil
	}
	// Hold back an incomplete sequence at the end (at most 3 bytes).
	cut := len(buf)
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-3; i-- {
		if utf8.RuneStart(buf[i]) {
			if buf[i] >= utf8.RuneSelf && !utf8.FullRune(buf[i:]) {
				cut = i
			}
			break
		}
	}
	w.hold = append(w.hold[:0], buf[cut:]...)
	if cut == 0 {
		return len(p), nil
	}
	if _, err := io.WriteString(w.w, Text(string(buf[:cut]))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a held incomplete sequence, escaped as invalid bytes.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.hold) == 0 {
		return nil
	}
	s := Text(string(w.hold))
	w.hold = nil
	_, err := io.WriteString(w.w, s)
	return err
}

// WithoutPackage drops the name of the attnlab package that made an error
// from the front of its message ("report: ", "store: "), and where's from
// behind --where ("--where: where: col 8" is "--where: col 8"), for the
// message a user reads: the command's name or the page says where it
// arose, and the package is ours, not the user's.
func WithoutPackage(msg string) string {
	for _, p := range []string{"report: ", "store: ", "runs: ", "experiments: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return strings.Replace(msg, "--where: where: ", "--where: ", 1)
}
