package attention

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// causalRun is one forward and backward pass of causal dot-product
// attention (4 heads of 8, key padding) with a fixed upstream gradient:
// the context and the gradients of q, k and v.
func causalRun(t *testing.T, weights bool, b, n int) (ctx, gq, gk, gv []float32) {
	t.Helper()
	a, err := New("scaled-dot", nil, Dims{Query: 8, Key: 8, Value: 8, Heads: 4, Causal: true})
	if err != nil {
		t.Fatal(err)
	}
	if weights {
		a.(WeightsOnRequest).RequestWeights(true)
	}
	rng := tensor.NewRNG(7)
	q := rng.Normal(tensor.New(b, n, 32), 0, 1).SetRequiresGrad(true)
	k := rng.Normal(tensor.New(b, n, 32), 0, 1).SetRequiresGrad(true)
	v := rng.Normal(tensor.New(b, n, 32), 0, 1).SetRequiresGrad(true)
	up := rng.Normal(tensor.New(b, n, 32), 0, 1).Data
	lens := make([]int, b)
	for i := range lens {
		lens[i] = n - 7*i
	}
	c, _ := a.Attend(q, k, v, KeyPaddingMask(lens, n))
	tensor.BackwardFrom([]*tensor.Tensor{c}, [][]float32{up})
	cp := func(x []float32) []float32 { return append([]float32(nil), x...) }
	return cp(c.Data), cp(q.Grad), cp(k.Grad), cp(v.Grad)
}

// TestCausalRowBlocks: computing causal attention by blocks of queries,
// each against only the keys it may see (rowBlocks, keyBlockProducts),
// gives exactly the context and gradients of the whole products: the
// skipped terms are products with zero weights. Lengths that are and are
// not multiples of the block, a length below two blocks (no blocks), with
// and without the weights requested (dotSoftmax and dotAttention).
func TestCausalRowBlocks(t *testing.T) {
	defer func(r int) { causalRows = r }(causalRows)
	for _, weights := range []bool{false, true} {
		for _, n := range []int{30, 48, 64, 101} {
			causalRows = 1 << 20
			want := [4][]float32{}
			want[0], want[1], want[2], want[3] = causalRun(t, weights, 3, n)
			for _, rows := range []int{12, 24} {
				causalRows = rows
				got := [4][]float32{}
				got[0], got[1], got[2], got[3] = causalRun(t, weights, 3, n)
				for x, name := range []string{"context", "dq", "dk", "dv"} {
					for i := range want[x] {
						if got[x][i] != want[x][i] {
							t.Fatalf("weights %v, n=%d, blocks of %d: %s[%d] = %g, whole products %g", weights, n, rows, name, i, got[x][i], want[x][i])
						}
					}
				}
			}
		}
	}
}

// TestCausalRowBlocksCut: the blocks cover the queries once, each ends at
// its last query's hi, and keys no block sees come out zero with beta 0.
func TestCausalRowBlocksCut(t *testing.T) {
	defer func(r int) { causalRows = r }(causalRows)
	causalRows = 4
	m := maskView{tk: 10, causal: true}
	_, got := m.rowBlocks(nil, 0, 10)
	want := []rowBlock{{0, 4, 4}, {4, 8, 8}, {8, 10, 10}}
	if len(got) != len(want) {
		t.Fatalf("blocks %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("blocks %v, want %v", got, want)
		}
	}
	if _, b := (&maskView{tk: 10}).rowBlocks(nil, 0, 10); b != nil {
		t.Fatalf("no causal rule: blocks %v", b)
	}
	// Queries at positions 0…5 over 10 keys: keys 6…9 are seen by none.
	blocks := []rowBlock{{0, 4, 4}, {4, 6, 6}}
	a := make([]float32, 6*10) // weights: query i sees keys ≤ i
	for i := 0; i < 6; i++ {
		for j := 0; j <= i; j++ {
			a[i*10+j] = float32(1 + i + j)
		}
	}
	bm := []float32{1, 2, 3, 4, 5, 6}
	c := make([]float32, 10)
	for i := range c {
		c[i] = float32(math.NaN()) // beta 0 must write, not read
	}
	keyBlockProducts(blocks, 10, 1, 1, a, 10, bm, 1, 0, c, 1)
	for j := 0; j < 10; j++ {
		var s float32
		for i := 0; i < 6; i++ {
			s += a[i*10+j] * bm[i]
		}
		if c[j] != s {
			t.Fatalf("key %d: %g, want %g", j, c[j], s)
		}
	}
}

// TestGradCheckCausalBlocks: the gradient check of causal attention with
// blocks of 2 queries, so that short sequences take the blocked products.
func TestGradCheckCausalBlocks(t *testing.T) {
	defer func(r int) { causalRows = r }(causalRows)
	causalRows = 2
	for _, weights := range []bool{false, true} {
		a, err := New("scaled-dot", nil, Dims{Query: 4, Key: 4, Value: 4, Heads: 2, Causal: true})
		if err != nil {
			t.Fatal(err)
		}
		a.(WeightsOnRequest).RequestWeights(weights)
		rng := tensor.NewRNG(8)
		q := rng.Normal(tensor.New(2, 5, 8), 0, 1).SetRequiresGrad(true)
		k := rng.Normal(tensor.New(2, 5, 8), 0, 1).SetRequiresGrad(true)
		v := rng.Normal(tensor.New(2, 5, 8), 0, 1).SetRequiresGrad(true)
		mask := KeyPaddingMask([]int{5, 3}, 5)
		f := func() []*tensor.Tensor {
			c, _ := a.Attend(q, k, v, mask)
			return []*tensor.Tensor{c}
		}
		if err := tensor.GradCheck(f, map[string]*tensor.Tensor{"q": q, "k": k, "v": v}, tensor.GradCheckOptions{}); err != nil {
			t.Fatalf("weights %v: %v", weights, err)
		}
	}
}
