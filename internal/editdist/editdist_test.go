package editdist

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"abc", "abc", 0},
		{"atention", "attention", 1},
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"test/blue", "test/bleu", 1}, // a swap of adjacent bytes is one edit
		{"stpes", "steps", 1},
		{"gird", "grid", 1},
		{"ab", "ba", 1},
		{"abc", "ca", 3}, // optimal string alignment: no substring edited twice
		{"ca", "abc", 3},
		{"a tention", "attention", 1},
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
}
