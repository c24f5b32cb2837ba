package printable

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLineAndText(t *testing.T) {
	for _, tc := range []struct {
		in, line, text string
	}{
		{"plain text, ümlauts, 日本語 and \\ stay", "plain text, ümlauts, 日本語 and \\ stay", "plain text, ümlauts, 日本語 and \\ stay"},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, `\x1b[31mred\x1b[0m`},
		{"a\x00b", `a\x00b`, `a\x00b`},
		{"bell\a back\b del\x7f", `bell\x07 back\x08 del\x7f`, `bell\x07 back\x08 del\x7f`},
		{"two\nlines\tand tab", `two\nlines\tand tab`, "two\nlines\tand tab"},
		{"over\rwrite", `over\rwrite`, `over\rwrite`},
		{"c1 \u009b31m", `c1 \u009b31m`, `c1 \u009b31m`},
		{"raw csi \x9b31m", `raw csi \x9b31m`, `raw csi \x9b31m`},
		{"bidi \u202eevil\u202c \u2066x\u2069", `bidi \u202eevil\u202c \u2066x\u2069`, `bidi \u202eevil\u202c \u2066x\u2069`},
		{"osc \x1b]0;title\x07", `osc \x1b]0;title\x07`, `osc \x1b]0;title\x07`},
		{"cut \xe6\x97", `cut \xe6\x97`, `cut \xe6\x97`},
		{"", "", ""},
	} {
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}

// FuzzLine: whatever the input, the output of Line has no byte
// below 0x20, no DEL, is valid UTF-8 and has no C1 or bidi control.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"a\x1b[2Jb", "\x00", "\xff\xfe", "\u202e", "日本\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Line(%q) = %q is not valid UTF-8", s, out)
		}
		for _, r := range out {
			if unsafe(r, false) {
				t.Fatalf("Line(%q) = %q keeps %U", s, out, r)
			}
		}
		if firstUnsafe(s, false) < 0 && out != s {
			t.Fatalf("Line changed a safe string %q to %q", s, out)
		}
	})
}

func TestWriterSplitsRunes(t *testing.T) {
	in := "日本語 \x1b[1m bold \u202e ok\n"
	for cut := 0; cut <= len(in); cut++ {
		var b bytes.Buffer
		w := NewWriter(&b)
		for _, part := range []string{in[:cut], in[cut:]} {
			if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if want := Text(in); b.String() != want {
			t.Errorf("cut at %d: %q, want %q", cut, b.String(), want)
		}
	}
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write([]byte("end \xe6\x97"))
	if b.String() != "end " {
		t.Errorf("an incomplete sequence was not held back: %q", b.String())
	}
	w.Flush()
	if want := `end \xe6\x97`; b.String() != want {
		t.Errorf("after Flush: %q, want %q", b.String(), want)
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Error("ESC written")
	}
}

func BenchmarkLineSafe(b *testing.B) {
	s := strings.Repeat("model.attention.name=additive ", 4)
	b.ReportAllocs()
	for b.Loop() {
		Line(s)
	}
}

// TestWithoutPackage: an error's message loses our package's name from its
// front (the command's name says where it arose), and where's from behind
// --where; a message that only holds such a word keeps it.
func TestWithoutPackage(t *testing.T) {
	for in, want := range map[string]string{
		"report: baseline \"x\" matches no row":      "baseline \"x\" matches no row",
		"store: empty run reference":                 "empty run reference",
		"--where: where: col 18: expected a value":   "--where: col 18: expected a value",
		"runs: 4 planned, 0 already done":            "4 planned, 0 already done",
		"open x.db: the report: store: file is gone": "open x.db: the report: store: file is gone",
		"reports: x": "reports: x",
	} {
		if got := WithoutPackage(in); got != want {
			t.Errorf("WithoutPackage(%q) = %q, want %q", in, got, want)
		}
	}
}
