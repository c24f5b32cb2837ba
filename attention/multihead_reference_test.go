package attention_test

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// TestMultiHeadMatchesPerHeadAttention rebuilds multi-head attention from
// its definition for every per-head attention of the property tests:
// Q = q W_q + b_q (K, V likewise), head h runs a single-head attention of
// the same variant on columns h·d … (h+1)·d−1 of Q, K and V with its own
// slice h of every per-head parameter, the heads are concatenated and
// projected out by W_o, b_o. The PyTorch fixtures cover only scaled-dot
// heads (no parameters); this checks that the other per-head attentions
// read their heads and the head axis of their parameters where the
// definition says, in the context, the weights and every gradient (the
// per-head parameters' against the single-head copies'), under key padding
// and, at a causal site, causal masking.
func TestMultiHeadMatchesPerHeadAttention(t *testing.T) {
	for _, params := range configs["multi-head"] {
		for _, causal := range []bool{false, true} {
			vr := variant{"multi-head", params}
			t.Run(fmt.Sprintf("%s/causal=%v", vr, causal), func(t *testing.T) {
				testMultiHeadComposition(t, vr, causal)
			})
		}
	}
}

func testMultiHeadComposition(t *testing.T, vr variant, causal bool) {
	const b, tq, tk, dim = 2, 3, 5, 4
	heads := vr.params["heads"].(int)
	hd := dim / heads
	d := testDims
	d.Causal = causal
	mh := build(t, vr, d)
	rng := tensor.NewRNG(41)
	randomBiases(rng, mh)
	// The single-head attention of the same variant, one per head, each
	// with a copy of its slice of multi-head's per-head parameters.
	hv := headOf(vr)
	hdims := attention.Dims{Query: hd, Key: hd, Value: hd, Causal: causal}
	single := make([]attention.Attention, heads)
	byName := map[string]*tensor.Tensor{}
	for _, p := range mh.Params() {
		byName[p.Name] = p.Tensor
	}
	for h := range single {
		a, err := attention.New(hv.name, hv.params, hdims)
		if err != nil {
			t.Fatal(err)
		}
		requestWeights(a)
		for _, p := range a.Params() {
			src, ok := byName["head."+p.Name]
			if !ok {
				t.Fatalf("multi-head has no parameter head.%s", p.Name)
			}
			n := p.Len()
			if src.Len() != heads*n {
				t.Fatalf("head.%s has %d values, want %d heads of %v", p.Name, src.Len(), heads, p.Shape())
			}
			copy(p.Data, src.Data[h*n:(h+1)*n])
		}
		if perf, ok := a.(*attention.Performer); ok { // one feature draw shared by the heads
			copy(perf.Features().Data, mh.(*attention.MultiHead).Head().(*attention.Performer).Features().Data)
		}
		single[h] = a
	}
	if got, want := len(mh.Params()), 6+len(single[0].Params())+2; vr.params["bias"] != false && got != want {
		t.Fatalf("multi-head has %d parameters, want %d", got, want)
	}
	q, k, v := randn(rng, true, b, tq, d.Query), randn(rng, true, b, tk, d.Key), randn(rng, true, b, tk, d.Value)
	if causal {
		k, v = randn(rng, true, b, tq, d.Key), randn(rng, true, b, tq, d.Value)
	}
	mask := attention.KeyPaddingMask([]int{k.Dim(1), 3}, k.Dim(1))
	r := rng.Uniform(tensor.New(b, tq, d.Value), -1, 1).Data

	leaves := []*tensor.Tensor{q, k, v}
	for _, p := range mh.Params() {
		leaves = append(leaves, p.Tensor)
	}
	for _, s := range single {
		for _, p := range s.Params() {
			leaves = append(leaves, p.Tensor)
		}
	}
	zero := func() {
		for _, l := range leaves {
			l.ZeroGrad()
		}
	}
	snapshot := func(ts []*tensor.Tensor) [][]float32 {
		var out [][]float32
		for _, x := range ts {
			out = append(out, append([]float32(nil), grad(x)...))
		}
		return out
	}

	zero()
	ctx, w := mh.Attend(q, k, v, mask)
	tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{r})
	got := snapshot(leaves[:3+len(mh.Params())])

	zero()
	lin := func(x *tensor.Tensor, wn, bn string) *tensor.Tensor {
		y := tensor.MatMul(x, byName[wn])
		if bt, ok := byName[bn]; ok {
			y = tensor.Add(y, bt)
		}
		return y
	}
	pq, pk, pv := lin(q, "W_q", "b_q"), lin(k, "W_k", "b_k"), lin(v, "W_v", "b_v")
	var parts, ws []*tensor.Tensor
	for h, a := range single {
		c, hw := a.Attend(tensor.Narrow(pq, 2, h*hd, hd), tensor.Narrow(pk, 2, h*hd, hd), tensor.Narrow(pv, 2, h*hd, hd), mask)
		parts = append(parts, c)
		ws = append(ws, hw)
	}
	ref := lin(tensor.Concat(2, parts...), "W_o", "b_o")
	tensor.BackwardFrom([]*tensor.Tensor{ref}, [][]float32{r})
	want := snapshot(leaves[:3+len(mh.Params())])

	const tol = 1e-5
	if dd := maxAbsDiff(ctx.Data, ref.Data); dd > tol {
		t.Errorf("context differs from the per-head composition by %.3g", dd)
	}
	names := []string{"q", "k", "v"}
	for _, p := range mh.Params() {
		names = append(names, p.Name)
	}
	for i, n := range names {
		if dd := maxAbsDiff(got[i], want[i]); dd > tol && !(len(n) > 5 && n[:5] == "head.") {
			t.Errorf("gradient of %s differs from the per-head composition by %.3g", n, dd)
		}
	}
	// Per-head parameters: multi-head's gradient of head.X, slice h, is
	// single[h]'s gradient of X.
	for h, a := range single {
		for _, p := range a.Params() {
			n := p.Len()
			gm := got[indexOf(names, "head."+p.Name)][h*n : (h+1)*n]
			if dd := maxAbsDiff(gm, grad(p.Tensor)); dd > tol {
				t.Errorf("gradient of head.%s, head %d, differs from the single-head attention's by %.3g", p.Name, h, dd)
			}
		}
	}
	// Weights [B,H,Tq,Tk]: head h's are the single-head attention's.
	if w == nil {
		t.Fatal("no weights after RequestWeights")
	}
	tkk := k.Dim(1)
	for h := range single {
		if ws[h] == nil {
			t.Fatalf("head %d: no single-head weights", h)
		}
		for bb := 0; bb < b; bb++ {
			gw := w.Data[(bb*heads+h)*tq*tkk : (bb*heads+h+1)*tq*tkk]
			sw := ws[h].Data[bb*tq*tkk : (bb+1)*tq*tkk]
			if dd := maxAbsDiff(gw, sw); dd > 1e-6 {
				t.Errorf("weights of batch %d, head %d differ from the single-head attention's by %.3g", bb, h, dd)
			}
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	panic("no " + x)
}
