package report

import (
	"math"
	"testing"
)

func TestFormatNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		x    float64
		want string
	}{
		{0, "0"}, {52000, "52000"}, {-3, "-3"}, {0.97512, "0.9751"}, {1.5, "1.5000"},
		{15267.25, "15267.2"}, {-1234.56, "-1234.6"}, {1e15 + 0.5, "1000000000000000.5"}, {6.8547080455618279e31, "6.8547e+31"},
		{math.NaN(), "NaN"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"},
	} {
		if got := FormatNumber(tc.x); got != tc.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

// TestFormatMetric: a score or fraction keeps its decimals when it is whole
// (an exact match of 0 in one length bucket beside 0.0370 in the next once
// read "0"), a count stays whole.
func TestFormatMetric(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key  string
		x    float64
		want string
	}{
		{"test/exact_match/len_11_20", 0, "0.0000"}, {"test/exact_match/len_1_10", 1, "1.0000"},
		{"test/exact_match", 0.037, "0.0370"}, {"best/valid/exact_match", 0, "0.0000"},
		{"test/bleu", 100, "100.0000"}, {"test/loss", 2, "2.0000"}, {"test/src_in_train", 0, "0.0000"},
		{"test/majority_exact_match/len_1_10", 1, "1.0000"},
		{"test/examples/len_1_10", 27, "27"}, {"train/steps", 60, "60"}, {"perf/threads", 1, "1"},
		{"model/params", 69136, "69136"}, {"best/step", 60, "60"}, {"test/unknown_thing", 3, "3"},
		{"test/exact_match", math.NaN(), "NaN"}, {"test/loss", math.Inf(1), "+Inf"},
	} {
		if got := FormatMetric(tc.key, tc.x); got != tc.want {
			t.Errorf("FormatMetric(%s, %v) = %q, want %q", tc.key, tc.x, got, tc.want)
		}
	}
}
