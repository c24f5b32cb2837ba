package report

import (
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
