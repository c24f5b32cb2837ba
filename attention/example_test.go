package attention_test

import (
	"fmt"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

func ExampleNew() {
	// Additive attention with a 16-dimensional score MLP, as an experiment's
	// YAML block `attention: {name: additive, dim: 16}` would build it.
	a, err := attention.New("additive", map[string]any{"dim": 16}, attention.Dims{Query: 8, Key: 8, Value: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	attention.Init(a, tensor.NewRNG(1))
	for _, p := range a.Params() {
		fmt.Println(p.Name, p.Shape())
	}
	q := tensor.New(2, 3, 8) // 2 sequences, 3 queries
	k := tensor.New(2, 5, 8) // 5 keys each; the second sequence has 4
	ctx, w := a.Attend(q, k, k, attention.KeyPaddingMask([]int{5, 4}, 5))
	fmt.Println(ctx.Shape(), w.Shape(), w.At(1, 0, 4))

	_, err = attention.New("additive", map[string]any{"dimm": 16}, attention.Dims{Query: 8, Key: 8, Value: 8})
	fmt.Println(err)
	// Output:
	// W_q [8 16]
	// W_k [8 16]
	// b [16]
	// v [16]
	// [2 3 8] [2 3 5] 0
	// dimm: unknown key (known: dim) for attention "additive"
}
