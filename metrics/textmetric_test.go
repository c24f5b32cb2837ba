package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestRegisterTextMetric: a registered text metric is described like a
// built-in one (test/NAME), listed by All, and bad registrations panic.
// It restores the registry, so it does not run in parallel.
func TestRegisterTextMetric(t *testing.T) {
	saved := TextMetrics()
	t.Cleanup(func() {
		UnregisterTextMetric("out_chars")
		if got := TextMetrics(); len(got) != len(saved) {
			t.Errorf("after UnregisterTextMetric: %d text metrics, want %d", len(got), len(saved))
		}
	})
	chars := func(outs, refs []string) float64 { return float64(len(strings.Join(outs, ""))) }
	RegisterTextMetric(TextMetric{Name: "out_chars", Doc: "characters output", Direction: LowerIsBetter,
		Scale: Scale{0, math.Inf(1), "chars"}, Score: chars})

	d := Describe("test/out_chars")
	want := Descriptor{Key: "test/out_chars", Name: "out_chars", Doc: "characters output", Direction: LowerIsBetter,
		Kind: Quality, Scale: Scale{0, math.Inf(1), "chars"}, Known: true}
	if d != want {
		t.Errorf("Describe(test/out_chars) = %+v, want %+v", d, want)
	}
	if d := Describe("valid/out_chars"); d.Known {
		t.Errorf("Describe(valid/out_chars) = %+v: a text metric is recorded on test only", d)
	}
	if d := Describe("best/test/out_chars"); !d.Known || d.Direction != LowerIsBetter {
		t.Errorf("Describe(best/test/out_chars) = %+v", d)
	}
	if !slices.ContainsFunc(All(), func(d Descriptor) bool { return d.Key == "test/out_chars" }) {
		t.Errorf("All() lacks test/out_chars")
	}
	if got := TextMetrics(); len(got) != len(saved)+1 || got[slices.IndexFunc(got, func(m TextMetric) bool { return m.Name == "out_chars" })].Score([]string{"ab", "c"}, nil) != 3 {
		t.Errorf("TextMetrics() = %+v", got)
	}

	for _, tc := range []struct {
		name string
		m    TextMetric
		want string
	}{
		{"empty name", TextMetric{Score: chars}, "bad name"},
		{"bad name", TextMetric{Name: "Out/Chars", Score: chars}, "bad name"},
		{"built-in", TextMetric{Name: "bleu", Score: chars}, `"bleu" is already a metric`},
		{"twice", TextMetric{Name: "out_chars", Score: chars}, `"out_chars" is already a metric`},
		{"nil score", TextMetric{Name: "nothing"}, "nil Score"},
		{"unregister unknown", TextMetric{}, `no text metric "nothing"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r, _ := recover().(string); !strings.Contains(r, tc.want) {
					t.Errorf("RegisterTextMetric panicked with %q, want %q", r, tc.want)
				}
			}()
			if tc.name == "unregister unknown" {
				UnregisterTextMetric("nothing")
			}
			RegisterTextMetric(tc.m)
		})
	}
}
