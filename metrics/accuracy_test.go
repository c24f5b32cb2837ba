package metrics

import (
	"math"
	"reflect"
	"testing"
)

func TestExactMatchAndTokenAccuracy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hyp, ref       []int
		exact          bool
		correct, total int
	}{
		{[]int{4, 5, 6}, []int{4, 5, 6}, true, 3, 3},
		{[]int{4, 9, 6}, []int{4, 5, 6}, false, 2, 3},
		{[]int{4, 5}, []int{4, 5, 6}, false, 2, 3},
		{[]int{4, 5, 6, 7}, []int{4, 5, 6}, false, 3, 3},
		{nil, nil, true, 0, 0},
		{[]int{5, 6, 7}, []int{4, 5, 6}, false, 0, 3},
	} {
		if got := ExactMatch(tc.hyp, tc.ref); got != tc.exact {
			t.Errorf("ExactMatch(%v, %v) = %v, want %v", tc.hyp, tc.ref, got, tc.exact)
		}
		if c, n := TokenAccuracy(tc.hyp, tc.ref); c != tc.correct || n != tc.total {
			t.Errorf("TokenAccuracy(%v, %v) = %d, %d; want %d, %d", tc.hyp, tc.ref, c, n, tc.correct, tc.total)
		}
	}
	if !ExactMatch([]string{"I_WALK"}, []string{"I_WALK"}) {
		t.Errorf("ExactMatch on strings = false")
	}
}

func TestMaskedTokenAccuracy(t *testing.T) {
	t.Parallel()
	c, n := MaskedTokenAccuracy([]int{4, 5, 9, 3, 3}, []int{4, 5, 6, 0, 0}, 0)
	if c != 2 || n != 3 {
		t.Fatalf("MaskedTokenAccuracy = %d, %d; want 2, 3", c, n)
	}
	defer func() {
		if recover() == nil {
			t.Fatalf("MaskedTokenAccuracy with different lengths did not panic")
		}
	}()
	MaskedTokenAccuracy([]int{1}, []int{1, 2}, 0)
}

func TestPerplexityAndRatio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ loss, want float64 }{
		{0, 1}, {math.Log(16), 16}, {1000, math.Inf(1)},
	} {
		if got := Perplexity(tc.loss); math.Abs(got-tc.want) > 1e-12*tc.want && got != tc.want {
			t.Errorf("Perplexity(%g) = %g, want %g", tc.loss, got, tc.want)
		}
	}
	if !math.IsNaN(Perplexity(math.NaN())) || !math.IsNaN(Ratio(1, 0)) || Ratio(1, 4) != 0.25 {
		t.Errorf("Perplexity(NaN), Ratio(1, 0), Ratio(1, 4) = %g, %g, %g", Perplexity(math.NaN()), Ratio(1, 0), Ratio(1, 4))
	}
}

func TestLengthBucket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n     int
		edges []int
		want  string
	}{
		{1, nil, "len_1_10"}, {10, nil, "len_1_10"}, {11, nil, "len_11_20"}, {21, nil, "len_21_40"},
		{40, nil, "len_21_40"}, {41, nil, "len_41_80"}, {160, nil, "len_81_160"}, {161, nil, "len_161_inf"},
		{100000, nil, "len_161_inf"}, {0, nil, "len_1_10"},
		{5, []int{4}, "len_5_inf"}, {3, []int{}, "len_1_inf"}, {22, []int{22}, "len_1_22"},
	} {
		if got := LengthBucket(tc.n, tc.edges); got != tc.want {
			t.Errorf("LengthBucket(%d, %v) = %q, want %q", tc.n, tc.edges, got, tc.want)
		}
	}
	if got, want := LengthBuckets(nil), []string{"len_1_10", "len_11_20", "len_21_40", "len_41_80", "len_81_160", "len_161_inf"}; !reflect.DeepEqual(got, want) {
		t.Errorf("LengthBuckets(nil) = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		edges []int
		want  string
	}{
		{[]int{10, 10}, "metrics: length bucket edges must increase, got 10 after 10"},
		{[]int{0, 10}, "metrics: length bucket edge 0 must be at least 1, got 0"},
	} {
		if err := ValidateEdges(tc.edges); err == nil || err.Error() != tc.want {
			t.Errorf("ValidateEdges(%v) = %v, want %q", tc.edges, err, tc.want)
		}
	}
}

func TestBucketedExactMatch(t *testing.T) {
	t.Parallel()
	b := NewBucketedExactMatch(nil)
	for _, tc := range []struct {
		n  int
		ok bool
	}{{3, true}, {7, false}, {25, true}, {30, true}, {33, false}, {200, true}} {
		b.Add(tc.n, tc.ok)
	}
	want := map[string]float64{
		"test/exact_match/len_1_10":    0.5,
		"test/exact_match/len_21_40":   2.0 / 3,
		"test/exact_match/len_161_inf": 1,
		"test/examples/len_1_10":       2,
		"test/examples/len_21_40":      3,
		"test/examples/len_161_inf":    1,
	}
	if got := b.Metrics("test"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Metrics(test) = %v, want %v", got, want)
	}
	if c, n := b.Count("len_21_40"); c != 2 || n != 3 {
		t.Fatalf("Count(len_21_40) = %d, %d; want 2, 3", c, n)
	}
}
