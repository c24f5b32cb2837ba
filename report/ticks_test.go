package report

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// TestDistinctTicks: over a narrow range gonum's default labels repeat
// ("2.41" for 2.405, 2.41 and 2.415); distinctTicks tells them apart and
// leaves labels that were already distinct as gonum wrote them.
func TestDistinctTicks(t *testing.T) {
	t.Parallel()
	for _, r := range [][2]float64{{2.405, 2.423}, {0.10001, 0.10004}, {0, 1}, {3, 250}, {-1e-6, 1e-6}} {
		ticks := distinctTicks{}.Ticks(r[0], r[1])
		if repeatsLabel(ticks) {
			t.Errorf("ticks over %v repeat a label: %v", r, ticks)
		}
		if def := (plot.DefaultTicks{}).Ticks(r[0], r[1]); !repeatsLabel(def) {
			for i := range def {
				if def[i] != ticks[i] {
					t.Errorf("ticks over %v: %v, want gonum's distinct labels %v", r, ticks, def)
					break
				}
			}
		}
	}
	if !repeatsLabel((plot.DefaultTicks{}).Ticks(2.405, 2.423)) {
		t.Log("gonum's default labels over 2.405–2.423 no longer repeat")
	}
}

// TestStepTicks: a step axis labels only whole steps, however narrow its
// range (gonum's marker labels 499.5, 500.0, 500.5 around one evaluation).
func TestStepTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lo, hi float64
		want   string // the labels
	}{
		{499.5, 500.5, "500"},
		{499, 501, "499 500 501"},
		{0, 2, "0 1 2"},
		{0.2, 0.8, ""},
		{0, 20000, "0 10000 20000"},
	} {
		var labels []string
		for _, tk := range (stepTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("step ticks over [%v, %v] labelled %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
}

// TestLargeTicks: labels of values of a million or more are short
// e-notation that still tell the ticks apart (gonum wrote a diverged run's
// loss, 5.5e33, as "5500000000000000000249229435994112"); a step axis
// keeps whole numbers.
func TestLargeTicks(t *testing.T) {
	t.Parallel()
	for _, r := range [][2]float64{{3.4e33, 5.6e33}, {0, 2.5e6}, {-3e9, 1e9}, {1.0e7, 1.0002e7}} {
		ticks := distinctTicks{}.Ticks(r[0], r[1])
		labelled := 0
		for _, tk := range ticks {
			if tk.Label == "" {
				continue
			}
			labelled++
			if len(tk.Label) > 10 {
				t.Errorf("ticks over %v: label %q of %g is too long", r, tk.Label, tk.Value)
			}
			if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || math.Abs(v-tk.Value) > 1e-6*math.Max(math.Abs(r[0]), math.Abs(r[1])) {
				t.Errorf("ticks over %v: label %q does not read back as %g", r, tk.Label, tk.Value)
			}
		}
		if labelled < 2 || repeatsLabel(ticks) {
			t.Errorf("ticks over %v: %v, want distinct labels", r, ticks)
		}
	}
	for _, tk := range (stepTicks{}).Ticks(0, 3e6) {
		if tk.Label != "" && strings.ContainsAny(tk.Label, "e.") {
			t.Errorf("step tick %q: want a whole number", tk.Label)
		}
	}
}

// TestLogTicks: a log axis over many decades (a diverged run's perplexity,
// 1e240 to 1e281) is labelled at most maxLogLabels times, each label short
// (gonum wrote 41 labels such as "1.0000000000000002e+281" over a band of
// 320 minor ticks); over a few decades the ticks are gonum's, the labels
// as gonum writes them where they have no float noise.
func TestLogTicks(t *testing.T) {
	t.Parallel()
	for _, r := range [][2]float64{{1e240, 1e281}, {1e-300, 1e300}, {3, 4e9}, {0.5, 200}, {1.2, 1.2e3}} {
		ticks := logTicks{}.Ticks(r[0], r[1])
		labels := 0
		for _, tk := range ticks {
			if tk.Label == "" {
				continue
			}
			labels++
			if len(tk.Label) > 6 {
				t.Errorf("ticks over %v: label %q of %v is long", r, tk.Label, tk.Value)
			}
			if v, err := strconv.ParseFloat(tk.Label, 64); err != nil || math.Abs(v-tk.Value) > 1e-9*tk.Value {
				t.Errorf("ticks over %v: label %q does not read as %v", r, tk.Label, tk.Value)
			}
		}
		if labels == 0 || labels > maxLogLabels || len(ticks) > 100 {
			t.Errorf("ticks over %v: %d labels of %d ticks, want 1 to %d labels and at most 100 ticks", r, labels, len(ticks), maxLogLabels)
		}
	}
	got := logTicks{}.Ticks(0.5, 200)
	def := plot.LogTicks{Prec: -1}.Ticks(0.5, 200)
	if len(got) != len(def) {
		t.Fatalf("ticks over 0.5–200: %d, want gonum's %d", len(got), len(def))
	}
	for i := range def {
		if got[i] != def[i] {
			t.Errorf("tick %d over 0.5–200: %v, want gonum's %v", i, got[i], def[i])
		}
	}
}
