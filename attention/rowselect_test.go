package attention_test

import (
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// TestRowSelectorMatchesPreparingAgain: for every variant whose prepared
// form can select rows, Select(idx) attends exactly as preparing the
// gathered keys, values and mask again does (rows repeated and reordered,
// as a beam search makes them), contexts and weights.
func TestRowSelectorMatchesPreparingAgain(t *testing.T) {
	d := attention.Dims{Query: 6, Key: 6, Value: 6}
	rng := tensor.NewRNG(3)
	const b, s = 3, 5
	lens := []int{5, 2, 4}
	idx := []int{1, 1, 0, 2, 2, 2, 0}
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
			p := attention.Prepare(a, k, k, mask)
			sel, ok := p.(attention.RowSelector)
			if !ok {
				t.Skip("prepared form selects no rows")
			}
			selectable++
			q := randn(rng, false, len(idx), 1, 6)
			gk := tensor.Gather(k, idx, -1)
			want, wantW := attention.Prepare(a, gk, gk, tensor.Gather(mask, idx, -1)).Attend(q)
			got, gotW := sel.Select(idx).Attend(q)
			for _, pair := range [][2]*tensor.Tensor{{got, want}, {gotW, wantW}} {
				g, w := pair[0], pair[1]
				if (g == nil) != (w == nil) {
					t.Fatalf("weights: selected %v, prepared again %v", g == nil, w == nil)
				}
				if g == nil {
					continue
				}
				for i := range w.Data {
					if g.Data[i] != w.Data[i] {
						t.Fatalf("element %d: selected %v, prepared again %v", i, g.Data[i], w.Data[i])
					}
				}
			}
		})
	}
	if selectable == 0 {
		t.Fatal("no variant's prepared form selects rows")
	}
}
