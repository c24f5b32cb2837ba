package metrics

import (
	"slices"
	"testing"
)

func TestCompareKeys(t *testing.T) {
	keys := []string{"test/loss@512", "test/exact_match/len_161_", "test/exact_match/len_11_20", "test/loss", "test/exact_match",
		"test/exact_match/len_1_10", "test/loss@64", "test/exact_match/len_21_40", "a07", "a7", "b"}
	slices.SortFunc(keys, CompareKeys)
	want := []string{"a7", "a07", "b", "test/exact_match", "test/exact_match/len_1_10", "test/exact_match/len_11_20",
		"test/exact_match/len_21_40", "test/exact_match/len_161_", "test/loss", "test/loss@64", "test/loss@512"}
	if !slices.Equal(keys, want) {
		t.Errorf("sorted %q\nwant   %q", keys, want)
	}
	for _, k := range want {
		if CompareKeys(k, k) != 0 {
			t.Errorf("CompareKeys(%q, itself) != 0", k)
		}
	}
}
