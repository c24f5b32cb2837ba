package metrics

import (
	"math"
	"reflect"
	"testing"
)

func TestEntropy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		row  []float32
		want float64
		ok   bool
	}{
		{"one-hot", []float32{0, 1, 0}, 0, true},
		{"uniform 4", []float32{0.25, 0.25, 0.25, 0.25}, math.Log(4), true},
		{"uniform 2 with masked keys", []float32{0.5, 0, 0.5, 0}, math.Log(2), true},
		{"unnormalised", []float32{2, 2}, math.Log(2), true},
		{"0.9/0.1", []float32{0.9, 0.1}, -(0.9*math.Log(0.9) + 0.1*math.Log(0.1)), true},
		{"fully masked", []float32{0, 0, 0}, math.NaN(), false},
		{"empty", nil, math.NaN(), false},
		{"NaN", []float32{float32(math.NaN()), 1}, math.NaN(), false},
	} {
		h, ok := Entropy(tc.row)
		if ok != tc.ok || (ok && math.Abs(h-tc.want) > 1e-6) || (!ok && !math.IsNaN(h)) {
			t.Errorf("%s: Entropy(%v) = %g, %v; want %g, %v", tc.name, tc.row, h, ok, tc.want, tc.ok)
		}
	}
	mean, n := MeanEntropy(Foci([][]float32{{0, 1}, {0, 0}, {0.5, 0.5}}))
	if n != 2 || math.Abs(mean-math.Log(2)/2) > 1e-7 {
		t.Errorf("MeanEntropy = %g, %d; want %g, 2", mean, n, math.Log(2)/2)
	}
	if mean, n := MeanEntropy(Foci([][]float32{{0}})); n != 0 || !math.IsNaN(mean) {
		t.Errorf("MeanEntropy of a masked row = %g, %d; want NaN, 0", mean, n)
	}
}

func TestRows(t *testing.T) {
	t.Parallel()
	// [2, 3, 4]: item 0 has 2 query steps over 3 keys, item 1 has 3 over 4.
	w := make([]float32, 24)
	for i := range w {
		w[i] = float32(i)
	}
	got := Rows(w, 2, 3, 4, []int{2, 3}, []int{3, 4})
	want := [][]float32{{0, 1, 2}, {4, 5, 6}, {12, 13, 14, 15}, {16, 17, 18, 19}, {20, 21, 22, 23}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rows = %v, want %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Fatalf("Rows with a query length beyond Tq did not panic")
		}
	}()
	Rows(w, 2, 3, 4, []int{4, 3}, []int{3, 4})
}

func TestAlignment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		align         string
		steps, srcLen int
		want          []int
	}{
		{"copy", 4, 3, []int{0, 1, 2, -1}},
		{"reverse", 4, 3, []int{2, 1, 0, -1}},
		{"", 2, 3, []int{-1, -1}},
	} {
		if got := IdealPositions(tc.align, tc.steps, tc.srcLen); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("IdealPositions(%q, %d, %d) = %v, want %v", tc.align, tc.steps, tc.srcLen, got, tc.want)
		}
	}
	// Reverse over 3 source tokens, 4 steps (the last is EOS).
	rows := [][]float32{
		{0.1, 0.2, 0.7}, // ideal 2: hit
		{0.5, 0.4, 0.1}, // ideal 1: miss
		{0.6, 0.2, 0.2}, // ideal 0: hit
		{0.9, 0.1, 0},   // EOS: ignored
	}
	if hits, n := AlignmentHits(Foci(rows), IdealPositions("reverse", 4, 3)); hits != 2 || n != 3 {
		t.Errorf("AlignmentHits = %d, %d; want 2, 3", hits, n)
	}
	// Ties go to the first maximum; a zero row is a miss.
	if hits, n := AlignmentHits(Foci([][]float32{{0.5, 0.5}, {0, 0}}), []int{1, 0}); hits != 0 || n != 2 {
		t.Errorf("AlignmentHits with a tie and a zero row = %d, %d; want 0, 2", hits, n)
	}
}

func TestFocusOf(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		row  []float32
		peak int
	}{
		{"one-hot", []float32{0, 1, 0}, 1},
		{"tie: the first", []float32{0.4, 0.3, 0.3, 0.4}, 0},
		{"masked", []float32{0, 0}, -1},
		{"empty", nil, -1},
		{"NaN before the peak", []float32{nan, 0.2, 0.8}, 2},
	} {
		f := FocusOf(tc.row)
		h, _ := Entropy(tc.row)
		if f.Peak != tc.peak || !(f.Entropy == h || math.IsNaN(f.Entropy) && math.IsNaN(h)) {
			t.Errorf("%s: FocusOf(%v) = %+v, want peak %d, entropy %g", tc.name, tc.row, f, tc.peak, h)
		}
	}
}
