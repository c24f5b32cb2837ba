package main

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/metrics"
)

// TestHelpMetrics: attnlab help metrics lists every metric key of
// metrics.All with its direction, kind and scale, within the page width.
func TestHelpMetrics(t *testing.T) {
	r := attnlab(t, "help", "metrics")
	wantOK(t, r)
	for _, d := range metrics.All() {
		if !strings.Contains(r.stdout, d.Key) {
			t.Errorf("help metrics lacks %s", d.Key)
		}
	}
	for _, want := range []string{"test/bleu, valid/bleu\n    higher is better; quality; 0–100. sacreBLEU corpus BLEU",
		"model/params\n    lower is better; constant;", "perf/tokens_per_s\n    higher is better; cost;"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help metrics lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if width(l) > pageWidth {
			t.Errorf("line wider than %d: %q", pageWidth, l)
		}
	}
	if h := attnlab(t, "ls", "--help"); !strings.Contains(h.stdout, "attnlab help metrics") {
		t.Errorf("ls --help does not point to attnlab help metrics:\n%s", h.stdout)
	}
}
