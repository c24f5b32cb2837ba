package main

import (
	"strings"
	"testing"
)

func TestShade(t *testing.T) {
	for _, tc := range []struct {
		w    float32
		want rune
	}{{0, ' '}, {0.19, ' '}, {0.2, '░'}, {0.45, '▒'}, {0.7, '▓'}, {0.8, '█'}, {1, '█'}, {-0.1, ' '}, {1.5, '█'}} {
		if got := shade(tc.w); got != tc.want {
			t.Errorf("shade(%v) = %q, want %q", tc.w, got, tc.want)
		}
	}
}

func TestHeatmap(t *testing.T) {
	var b strings.Builder
	writeHeatmap(&b, []string{"a", " ", "long"}, []string{"x", "<eos>"}, [][]float32{{0.9, 0.1, 0}, {0.3, 0.5}}, pageWidth)
	want := "attention (rows: output tokens, columns: source tokens; ' '<0.2 ░<0.4 ▒<0.6 ▓<0.8 █≥0.8)\n" +
		"       a  ␣ long\n" +
		"    x ██\n" +
		"<eos> ░░ ▒▒\n"
	if b.String() != want {
		t.Errorf("heatmap:\n%s\nwant\n%s", b.String(), want)
	}
}

// TestHeatmapNarrow: a long source of one-character tokens gets one
// column per token, so the map fits the page.
func TestHeatmapNarrow(t *testing.T) {
	src := strings.Split(strings.Repeat("abcdefghij", 6), "")
	w := make([]float32, len(src))
	w[59] = 1
	var b strings.Builder
	writeHeatmap(&b, src, []string{"j"}, [][]float32{w}, pageWidth)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if want := "  " + strings.Repeat("abcdefghij", 6); lines[1] != want {
		t.Errorf("labels %q\nwant   %q", lines[1], want)
	}
	if want := "j " + strings.Repeat(" ", 59) + "█"; lines[2] != want {
		t.Errorf("row %q\nwant %q", lines[2], want)
	}
}

// TestHeatmapBlocks: a map wider than the page, even at one column per
// token, is drawn in blocks of source columns that each fit it, headed by
// the columns they hold; a token's cell is where its column is.
func TestHeatmapBlocks(t *testing.T) {
	src := strings.Split(strings.Repeat("abcdefghij", 25), "")
	w := make([]float32, len(src))
	w[0], w[98], w[249] = 1, 1, 1
	var b strings.Builder
	writeHeatmap(&b, src, []string{"j"}, [][]float32{w}, 100)
	want := "attention (rows: output tokens, columns: source tokens; " + legend() + ")\n" +
		"source tokens 1–98 of 250:\n" +
		"  " + strings.Repeat("abcdefghij", 10)[:98] + "\n" +
		"j █\n" +
		"\n" +
		"source tokens 99–196 of 250:\n" +
		"  " + strings.Repeat("abcdefghij", 20)[98:196] + "\n" +
		"j █\n" +
		"\n" +
		"source tokens 197–250 of 250:\n" +
		"  " + strings.Repeat("abcdefghij", 25)[196:] + "\n" +
		"j " + strings.Repeat(" ", 53) + "█\n"
	if b.String() != want {
		t.Errorf("heatmap:\n%s\nwant\n%s", b.String(), want)
	}
	// Words: cells as wide as their labels, at least one per block.
	b.Reset()
	words := []string{"a", "verylongwordthatfillsthepage", "b", "c"}
	writeHeatmap(&b, words, []string{"x"}, [][]float32{{1, 1, 1, 1}}, 20)
	for _, l := range strings.Split(b.String(), "\n")[1:] {
		if width(l) > 30 {
			t.Errorf("line %q is wider than its one column needs", l)
		}
	}
	if !strings.Contains(b.String(), "source tokens 2–2 of 4:\n  verylongwordthatfillsthepage\n") {
		t.Errorf("a column wider than the page is not a block of its own:\n%s", b.String())
	}
}
