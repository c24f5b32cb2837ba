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
