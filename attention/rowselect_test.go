package attention_test

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// TestRowSelectorMatchesPreparingAgain: for every variant whose prepared
// form can select rows, Select(idx) attends exactly as preparing the
// gathered keys, values and mask again does — rows repeated and reordered
// as a beam search makes them, every row once, a selection of a selection,
// a source left without rows — contexts and weights.
func TestRowSelectorMatchesPreparingAgain(t *testing.T) {
	d := attention.Dims{Query: 6, Key: 6, Value: 6}
	rng := tensor.NewRNG(3)
	const b, s = 3, 5
	lens := []int{5, 2, 4}
	idx := []int{1, 1, 0, 2, 2, 2, 0}
	idx2 := []int{3, 0, 3, 6, 1} // rows of the selection idx
	composed := make([]int, len(idx2))
	for i, j := range idx2 {
		composed[i] = idx[j]
	}
	selectable := 0
	for _, v := range allVariants() {
		t.Run(v.String(), func(t *testing.T) {
			a, err := attention.New(v.name, v.params, d)
			if err != nil {
				t.Skipf("not for these dims: %v", err)
			}
			attention.Init(a, tensor.NewRNG(11))
			requestWeights(a)
			var ps []*tensor.Tensor
			for _, p := range a.Params() {
				ps = append(ps, p.Tensor)
			}
			defer tensor.NoGrad(ps...)()
			k := randn(rng, false, b, s, 6)
			mask := attention.KeyPaddingMask(lens, s)
			sel, ok := attention.Prepare(a, k, k, mask).(attention.RowSelector)
			if !ok {
				t.Skip("prepared form selects no rows")
			}
			selectable++
			for _, tc := range []struct {
				name string
				p    func() attention.Prepared
				rows []int
			}{
				{"rows repeated and reordered", func() attention.Prepared { return sel.Select(idx) }, idx},
				{"every row once, in order", func() attention.Prepared { return sel.Select([]int{0, 1, 2}) }, []int{0, 1, 2}},
				{"a selection of a selection", func() attention.Prepared {
					return sel.Select(idx).(attention.RowSelector).Select(idx2)
				}, composed},
				{"a source without rows", func() attention.Prepared { return sel.Select([]int{2, 0, 2}) }, []int{2, 0, 2}},
			} {
				q := randn(rng, false, len(tc.rows), 1, 6)
				gk := tensor.Gather(k, tc.rows, -1)
				want, wantW := attention.Prepare(a, gk, gk, tensor.Gather(mask, tc.rows, -1)).Attend(q)
				got, gotW := tc.p().Attend(q)
				for _, pair := range [][2]*tensor.Tensor{{got, want}, {gotW, wantW}} {
					g, w := pair[0], pair[1]
					if (g == nil) != (w == nil) {
						t.Fatalf("%s: weights: selected %v, prepared again %v", tc.name, g == nil, w == nil)
					}
					if g == nil {
						continue
					}
					if !slices.Equal(g.Shape(), w.Shape()) {
						t.Fatalf("%s: shape %v selected, %v prepared again", tc.name, g.Shape(), w.Shape())
					}
					for i := range w.Data {
						if g.Data[i] != w.Data[i] {
							t.Fatalf("%s: element %d: selected %v, prepared again %v", tc.name, i, g.Data[i], w.Data[i])
						}
					}
				}
			}
		})
	}
	if selectable == 0 {
		t.Fatal("no variant's prepared form selects rows")
	}
}
