package attention

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// TestDotAttentionNoQueries: a padded batch of keys with no queries
// ([B,0,·]) has gradients 0 for its keys and values, with several heads:
// the (batch row, head) pairs that have no queries still write them.
func TestDotAttentionNoQueries(t *testing.T) {
	a, err := New("scaled-dot", nil, Dims{Query: 4, Key: 4, Value: 4, Heads: 2})
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(4)
	kl := rng.Normal(tensor.New(2, 3, 8), 0, 1).SetRequiresGrad(true)
	vl := rng.Normal(tensor.New(2, 3, 8), 0, 1).SetRequiresGrad(true)
	ql := tensor.New(2, 0, 8).SetRequiresGrad(true)
	// Through an op, so that the attention's input gradients are fresh
	// buffers (NaN under PoisonDirty until written).
	q, k, v := tensor.Scale(ql, 1), tensor.Scale(kl, 1), tensor.Scale(vl, 1)
	ctx, _ := a.Attend(q, k, v, nil)
	if got := ctx.Shape(); len(got) != 3 || got[0] != 2 || got[1] != 0 || got[2] != 8 {
		t.Fatalf("context %v, want [2 0 8]", got)
	}
	tensor.Add(tensor.SumAll(ctx), tensor.SumAll(tensor.Mul(k, k))).Backward()
	for i, g := range vl.Grad {
		if g != 0 {
			t.Fatalf("dv[%d] = %v, want 0", i, g)
		}
	}
	for i, g := range kl.Grad {
		if want := 2 * kl.Data[i]; math.Abs(float64(g-want)) > 1e-6 {
			t.Fatalf("dk[%d] = %v, want %v (the k·k term alone)", i, g, want)
		}
	}
}
