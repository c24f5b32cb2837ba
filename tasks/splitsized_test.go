package tasks

import (
	"testing"

	"github.com/attnlab/attnlab/registry"
)

// TestSplitExamples: what a generated task's parameters say its splits
// hold (SplitSized, which the memory estimate bounds batches by) is what
// its dataset holds, for every generated task that says it.
func TestSplitExamples(t *testing.T) {
	t.Parallel()
	small := map[string]any{"train_size": 37, "valid_size": 11, "test_size": 13}
	for _, tc := range []struct {
		name   string
		params map[string]any
	}{
		{"copy", small}, {"reverse", small}, {"sort", small}, {"addition", small},
		{"dates", small}, {"listops", small},
		{"scan", map[string]any{"split": "length", "valid_fraction": 0.1}},
		{"scan", map[string]any{"split": "addprim_jump", "primitive_repeats": 7}},
	} {
		p, err := Registry.Info(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := p.Decode(tc.params, registry.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s, ok := dec.(SplitSized)
		if !ok {
			t.Errorf("%s: parameters are not SplitSized", tc.name)
			continue
		}
		d := build(t, tc.name, tc.params, 1)
		train, valid, test := s.SplitExamples()
		if train != d.Train.Len() || valid != d.Valid.Len() || test != d.Test.Len() {
			t.Errorf("%s %v: SplitExamples() = %d, %d, %d; the dataset holds %d, %d, %d",
				tc.name, tc.params, train, valid, test, d.Train.Len(), d.Valid.Len(), d.Test.Len())
		}
	}
}
