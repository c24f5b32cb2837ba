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
	writeHeatmap(&b, []string{"a", " ", "long"}, []string{"x", "<eos>"}, [][]float32{{0.9, 0.1, 0}, {0.3, 0.5}})
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
	writeHeatmap(&b, src, []string{"j"}, [][]float32{w})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if want := "  " + strings.Repeat("abcdefghij", 6); lines[1] != want {
		t.Errorf("labels %q\nwant   %q", lines[1], want)
	}
	if want := "j " + strings.Repeat(" ", 59) + "█"; lines[2] != want {
		t.Errorf("row %q\nwant %q", lines[2], want)
	}
}
