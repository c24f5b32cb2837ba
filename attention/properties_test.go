package attention_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

func TestEveryVariantIsTested(t *testing.T) {
	for _, name := range attention.Registry.Names() {
		if len(configs[name]) == 0 {
			t.Errorf("variant %q has no entry in the test configs", name)
		}
	}
	// The built-in variants and scores are all registered (others may join).
	for _, name := range []string{"additive", "chunked", "dot", "general", "linear", "local", "location", "multi-head", "none", "scaled-dot"} {
		if !attention.Registry.Has(name) {
			t.Errorf("variant %q is not registered", name)
		}
	}
	for _, name := range []string{"additive", "dot", "general", "location", "scaled-dot"} {
		if !attention.Scores.Has(name) || !attention.Registry.Has(name) {
			t.Errorf("score %q is not registered as a score and as a variant", name)
		}
	}
}

// run returns the context, the weights and the gradients of L = Σ ctx⊙R
// with respect to q, k, v and every parameter (in Params order).
func run(a attention.Attention, q, k, v, mask *tensor.Tensor, r []float32) (ctx, w *tensor.Tensor, gq, gk, gv []float32, gp [][]float32) {
	for _, x := range []*tensor.Tensor{q, k, v} {
		x.ZeroGrad()
	}
	layers.ZeroGrad(a.Params())
	ctx, w = a.Attend(q, k, v, mask)
	if ctx.RequiresGrad() {
		tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{r})
	}
	for _, p := range a.Params() {
		gp = append(gp, append([]float32(nil), grad(p.Tensor)...))
	}
	return ctx, w, append([]float32(nil), grad(q)...), append([]float32(nil), grad(k)...), append([]float32(nil), grad(v)...), gp
}

// TestPaddingInvariance appends padded keys (random content, masked out)
// and checks that the outputs and the gradients of the real positions do
// not change and the padded keys get no weight and no gradient.
func TestPaddingInvariance(t *testing.T) {
	const b, tq, tk, pad = 2, 3, 5, 3
	d := testDims
	for _, vr := range allVariants() {
		t.Run(vr.String(), func(t *testing.T) {
			a := build(t, vr, d)
			rng := tensor.NewRNG(5)
			q := randn(rng, true, b, tq, d.Query)
			k := randn(rng, true, b, tk, d.Key)
			v := randn(rng, true, b, tk, d.Value)
			kx := randn(rng, true, b, tk+pad, d.Key)
			vx := randn(rng, true, b, tk+pad, d.Value)
			for bb := 0; bb < b; bb++ {
				copy(kx.Data[bb*(tk+pad)*d.Key:], k.Data[bb*tk*d.Key:(bb+1)*tk*d.Key])
				copy(vx.Data[bb*(tk+pad)*d.Value:], v.Data[bb*tk*d.Value:(bb+1)*tk*d.Value])
			}
			lengths := []int{tk, 3}
			r := rng.Uniform(tensor.New(b, tq, d.Value), -1, 1).Data
			ctx, w, gq, gk, gv, gp := run(a, q, k, v, attention.KeyPaddingMask(lengths, tk), r)
			ctx2, w2, gq2, gk2, gv2, gp2 := run(a, q, kx, vx, attention.KeyPaddingMask(lengths, tk+pad), r)
			const tol = 1e-6
			check := func(what string, got, want []float32) {
				t.Helper()
				if dd := maxAbsDiff(got, want); dd > tol {
					t.Errorf("%s changes by %.3g when padded keys are appended", what, dd)
				}
			}
			check("context", ctx2.Data, ctx.Data)
			check("dq", gq2, gq)
			check("dk", cols(gk2, (tk+pad)*d.Key, 0, tk*d.Key), gk)
			check("dv", cols(gv2, (tk+pad)*d.Value, 0, tk*d.Value), gv)
			check("dk of padded keys", cols(gk2, (tk+pad)*d.Key, tk*d.Key, (tk+pad)*d.Key), make([]float32, b*pad*d.Key))
			check("dv of padded keys", cols(gv2, (tk+pad)*d.Value, tk*d.Value, (tk+pad)*d.Value), make([]float32, b*pad*d.Value))
			for i := range gp {
				check("d"+a.Params()[i].Name, gp2[i], gp[i])
			}
			if (w == nil) != (w2 == nil) {
				t.Fatalf("weights nil: %v then %v", w == nil, w2 == nil)
			}
			if w != nil {
				rows := w.Len() / tk
				check("weights", cols(w2.Data, tk+pad, 0, tk), w.Data)
				check("weights of padded keys", cols(w2.Data, tk+pad, tk, tk+pad), make([]float32, rows*pad))
			}
		})
	}
}

// TestFullyMaskedRow masks every key of one query and checks that it gets
// a zero context, zero weights and no gradient to its own query (its
// context is the constant 0, as attention/doc.go promises: multi-head does
// not add its output bias to such rows), and that nothing is NaN. Every
// bias is random, not the 0 Init gives it, so that an output bias added to
// the row shows.
func TestFullyMaskedRow(t *testing.T) {
	const b, tq, tk = 2, 3, 5
	d := testDims
	for _, vr := range allVariants() {
		t.Run(vr.String(), func(t *testing.T) {
			a := build(t, vr, d)
			rng := tensor.NewRNG(6)
			randomBiases(rng, a)
			q := randn(rng, true, b, tq, d.Query)
			k := randn(rng, true, b, tk, d.Key)
			v := randn(rng, true, b, tk, d.Value)
			mask := tensor.Mul(attention.KeyPaddingMask([]int{tk, 3}, tk), tensor.Full(1, b, tq, 1))
			for j := 0; j < tk; j++ {
				mask.Set(0, 0, 1, j) // batch 0, query 1: nothing to attend
			}
			mask.Set(0, 1, 2, 0) // batch 1, query 2: only keys 1, 2 (not for linear, see below)
			if n := headOf(vr).name; n == "linear" || n == "performer" {
				mask.Set(1, 1, 2, 0) // linear honours only row×key masks
			}
			r := rng.Uniform(tensor.New(b, tq, d.Value), -1, 1).Data
			ctx, w, gq, gk, gv, gp := run(a, q, k, v, mask, r)
			for x := 0; x < d.Value; x++ {
				if got := ctx.At(0, 1, x); got != 0 {
					t.Fatalf("context of a fully masked query = %v, want 0", ctx.Data[(1)*d.Value:2*d.Value])
				}
			}
			zero := make([]float32, d.Query)
			if row := gq[1*d.Query : 2*d.Query]; maxAbsDiff(row, zero) != 0 { // batch 0, query 1
				t.Fatalf("gradient of a fully masked query = %v, want 0", row)
			}
			if usesQueries(vr) && maxAbsDiff(gq[:d.Query], zero) == 0 && maxAbsDiff(gq[2*d.Query:3*d.Query], zero) == 0 {
				t.Fatal("the queries of batch 0 that attend get no gradient either")
			}
			for _, s := range [][]float32{ctx.Data, gq, gk, gv} {
				if hasNaN(s) {
					t.Fatalf("NaN or Inf in the outputs or gradients")
				}
			}
			for _, g := range gp {
				if hasNaN(g) {
					t.Fatalf("NaN or Inf in a parameter gradient")
				}
			}
			if w == nil {
				t.Fatal("no weights returned after RequestWeights")
			}
			if hasNaN(w.Data) {
				t.Fatal("NaN in the weights")
			}
			heads := w.Len() / (b * tq * tk)
			for h := 0; h < heads; h++ {
				for j := 0; j < tk; j++ {
					if got := w.Data[((0*heads+h)*tq+1)*tk+j]; got != 0 {
						t.Fatalf("weight of a fully masked query (head %d, key %d) = %v, want 0", h, j, got)
					}
				}
			}
			// Masked pairs get weight exactly 0.
			for bb := 0; bb < b; bb++ {
				for h := 0; h < heads; h++ {
					for i := 0; i < tq; i++ {
						for j := 0; j < tk; j++ {
							if mask.At(bb, i, j) == 0 && w.Data[((bb*heads+h)*tq+i)*tk+j] != 0 {
								t.Fatalf("masked pair (%d,%d,%d,%d) has weight %v", bb, h, i, j, w.Data[((bb*heads+h)*tq+i)*tk+j])
							}
						}
					}
				}
			}
		})
	}
}

// randomBiases sets every bias of a (a parameter named b or b_*, the
// per-head attention's too) to values uniform in [-1, 1): Init zeroes
// multi-head's, which would hide a bias added where it must not be.
func randomBiases(rng *tensor.RNG, a attention.Attention) {
	for _, p := range a.Params() {
		name := p.Name[strings.LastIndex(p.Name, ".")+1:]
		if name == "b" || strings.HasPrefix(name, "b_") {
			rng.Uniform(p.Tensor, -1, 1)
		}
	}
}

// usesQueries reports whether v's context depends on its queries (none's
// does not).
func usesQueries(v variant) bool { return v.name != "none" }

func hasNaN(s []float32) bool {
	for _, x := range s {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return true
		}
	}
	return false
}

// TestCausal checks, under a causal mask (with key padding), that query i
// gets no weight from keys j > i and that its context does not change when
// later keys and values do.
func TestCausal(t *testing.T) {
	const b, n = 2, 6
	d := testDims
	d.Causal = true
	for _, vr := range allVariants() {
		t.Run(vr.String(), func(t *testing.T) {
			a := build(t, vr, d)
			rng := tensor.NewRNG(7)
			q := randn(rng, false, b, n, d.Query)
			k := randn(rng, false, b, n, d.Key)
			v := randn(rng, false, b, n, d.Value)
			mask := attention.CombineMasks(attention.KeyPaddingMask([]int{n, 4}, n), attention.CausalMask(n))
			ctx, w := a.Attend(q, k, v, mask)
			heads := w.Len() / (b * n * n)
			for bb := 0; bb < b; bb++ {
				for h := 0; h < heads; h++ {
					for i := 0; i < n; i++ {
						for j := i + 1; j < n; j++ {
							if x := w.Data[((bb*heads+h)*n+i)*n+j]; x != 0 {
								t.Fatalf("query %d gets weight %v from later key %d", i, x, j)
							}
						}
					}
				}
			}
			// Change key and value p (for every p): rows before p must not move.
			for p := 1; p < n; p++ {
				k2, v2 := k.Clone(), v.Clone()
				for bb := 0; bb < b; bb++ {
					for x := 0; x < d.Key; x++ {
						k2.Set(k2.At(bb, p, x)+0.5, bb, p, x)
					}
					for x := 0; x < d.Value; x++ {
						v2.Set(-v2.At(bb, p, x)+0.3, bb, p, x)
					}
				}
				ctx2, _ := a.Attend(q, k2, v2, mask)
				for bb := 0; bb < b; bb++ {
					got := ctx2.Data[bb*n*d.Value : (bb*n+p)*d.Value]
					want := ctx.Data[bb*n*d.Value : (bb*n+p)*d.Value]
					if dd := maxAbsDiff(got, want); dd > 1e-6 {
						t.Fatalf("changing key %d moves the context of earlier queries by %.3g", p, dd)
					}
				}
			}
		})
	}
}

// TestWeightsSumToOne checks the softmax variants' weights: 1 over the kept
// keys of each row (per head), 0 at masked keys.
func TestWeightsSumToOne(t *testing.T) {
	const b, tq, tk = 2, 3, 5
	d := testDims
	for _, vr := range allVariants() {
		if !isSoftmax(vr) {
			continue
		}
		t.Run(vr.String(), func(t *testing.T) {
			a := build(t, vr, d)
			rng := tensor.NewRNG(8)
			q := randn(rng, false, b, tq, d.Query)
			k := randn(rng, false, b, tk, d.Key)
			v := randn(rng, false, b, tk, d.Value)
			mask := attention.KeyPaddingMask([]int{tk, 2}, tk)
			_, w := a.Attend(q, k, v, mask)
			heads := w.Len() / (b * tq * tk)
			for bb := 0; bb < b; bb++ {
				for h := 0; h < heads; h++ {
					for i := 0; i < tq; i++ {
						var s float64
						for j := 0; j < tk; j++ {
							x := w.Data[((bb*heads+h)*tq+i)*tk+j]
							if mask.At(bb, 0, j) == 0 && x != 0 {
								t.Fatalf("masked key %d has weight %v", j, x)
							}
							s += float64(x)
						}
						// A band can hold only padded keys (sliding-window's
						// query 2 of the short sequence): then the row is 0.
						if math.Abs(s-1) > 1e-6 && !(headOf(vr).name == "sliding-window" && s == 0) {
							t.Fatalf("weights of (b %d, head %d, query %d) sum to %v, want 1", bb, h, i, s)
						}
					}
				}
			}
		})
	}
}

// TestInitAndParamNames checks that variants with parameters implement
// layers.Initializer, that the same seed gives the same values, and that
// names are unique.
func TestInitAndParamNames(t *testing.T) {
	for _, vr := range allVariants() {
		t.Run(vr.String(), func(t *testing.T) {
			a, err := attention.New(vr.name, vr.params, testDims)
			if err != nil {
				t.Fatal(err)
			}
			ps := a.Params()
			if len(ps) == 0 {
				return
			}
			in, ok := a.(layers.Initializer)
			if !ok {
				t.Fatalf("%T has parameters but no Init", a)
			}
			seen := map[string]bool{}
			for _, p := range ps {
				if seen[p.Name] || p.Name == "" {
					t.Fatalf("parameter name %q repeated or empty", p.Name)
				}
				seen[p.Name] = true
				if !p.RequiresGrad() {
					t.Fatalf("parameter %s does not require gradients", p.Name)
				}
			}
			in.Init(tensor.NewRNG(3))
			first := layers.Tensors(ps)
			saved := make([][]float32, len(first))
			nonzero := false
			for i, p := range first {
				saved[i] = append([]float32(nil), p.Data...)
				for _, x := range p.Data {
					nonzero = nonzero || x != 0
				}
			}
			if !nonzero {
				t.Fatal("Init left every parameter at 0")
			}
			in.Init(tensor.NewRNG(3))
			for i, p := range ps {
				if maxAbsDiff(p.Data, saved[i]) != 0 {
					t.Fatalf("Init with the same seed gives different %s", p.Name)
				}
			}
		})
	}
}

// TestEmptySource: a sequence whose every key is padding (length 0) gets a
// zero context for every query, through the key-padding path of each
// variant, and nothing is NaN.
func TestEmptySource(t *testing.T) {
	const b, tq, tk = 2, 3, 4
	d := testDims
	for _, vr := range allVariants() {
		t.Run(vr.String(), func(t *testing.T) {
			a := build(t, vr, d)
			rng := tensor.NewRNG(10)
			q, k, v := randn(rng, true, b, tq, d.Query), randn(rng, true, b, tk, d.Key), randn(rng, true, b, tk, d.Value)
			r := rng.Uniform(tensor.New(b, tq, d.Value), -1, 1).Data
			ctx, w, gq, gk, gv, _ := run(a, q, k, v, attention.KeyPaddingMask([]int{tk, 0}, tk), r)
			if got := ctx.Data[tq*d.Value:]; maxAbsDiff(got, make([]float32, len(got))) != 0 {
				t.Fatalf("context of an empty source = %v, want zeros", got)
			}
			if w != nil && maxAbsDiff(w.Data[w.Len()/2:], make([]float32, w.Len()/2)) != 0 {
				t.Fatal("weights of an empty source are not zero")
			}
			if hasNaN(ctx.Data) || hasNaN(gq) || hasNaN(gk) || hasNaN(gv) {
				t.Fatal("NaN or Inf")
			}
		})
	}
}

// TestPreparedMatchesAttend checks that every variant's prepared form gives
// Attend's context, weights and gradients.
func TestPreparedMatchesAttend(t *testing.T) {
	for _, name := range attention.Registry.Names() {
		t.Run(name, func(t *testing.T) {
			a, err := attention.New(name, nil, attention.Dims{Query: 6, Key: 6, Value: 8, Directions: 2})
			if err != nil {
				t.Fatal(err)
			}
			attention.Init(a, tensor.NewRNG(3))
			if r, ok := a.(attention.WeightsOnRequest); ok {
				r.RequestWeights(true)
			}
			rng := tensor.NewRNG(4)
			q := rng.Normal(tensor.New(2, 3, 6), 0, 1).SetRequiresGrad(true)
			k := rng.Normal(tensor.New(2, 4, 6), 0, 1).SetRequiresGrad(true)
			v := rng.Normal(tensor.New(2, 4, 8), 0, 1).SetRequiresGrad(true)
			mask := attention.KeyPaddingMask([]int{4, 2}, 4)
			c1, w1 := a.Attend(q, k, v, mask)
			tensor.SumAll(c1).Backward()
			g1 := append(append([]float32(nil), q.Grad...), k.Grad...)
			q.ZeroGrad()
			k.ZeroGrad()
			p := attention.Prepare(a, k, v, mask)
			c2, w2 := p.Attend(q)
			tensor.SumAll(c2).Backward()
			g2 := append(append([]float32(nil), q.Grad...), k.Grad...)
			for i := range c1.Data {
				if math.Abs(float64(c1.Data[i]-c2.Data[i])) > 1e-6 {
					t.Fatalf("context differs at %d: %v vs %v", i, c1.Data[i], c2.Data[i])
				}
			}
			if (w1 == nil) != (w2 == nil) {
				t.Fatal("weights present in one form only")
			}
			for i := range g1 {
				if math.Abs(float64(g1[i]-g2[i])) > 1e-5 {
					t.Fatalf("gradient differs at %d: %v vs %v", i, g1[i], g2[i])
				}
			}
		})
	}
}

// TestMultiHeadPreparedMatchesAttend: multi-head's prepared form (keys and
// values projected once, the per-head attention prepared over them) gives
// Attend's context, weights and gradients (parameters included) with every
// per-head attention of the property tests, weights requested or not (a
// prepared dense attention returns its weights even when not requested:
// then only the contexts are compared).
func TestMultiHeadPreparedMatchesAttend(t *testing.T) {
	for _, params := range configs["multi-head"] {
		for _, weights := range []bool{false, true} {
			vr := variant{"multi-head", params}
			t.Run(fmt.Sprintf("%s/weights=%v", vr, weights), func(t *testing.T) {
				a := build(t, vr, testDims)
				if r, ok := a.(attention.WeightsOnRequest); ok {
					r.RequestWeights(weights)
				}
				if _, ok := a.(attention.Preparer); !ok {
					t.Fatal("multi-head does not prepare")
				}
				leaves := map[string]*tensor.Tensor{}
				for _, p := range a.Params() {
					leaves["param "+p.Name] = p.Tensor
				}
				rng := tensor.NewRNG(5)
				q, k, v := randn(rng, true, 2, 3, 4), randn(rng, true, 2, 5, 4), randn(rng, true, 2, 5, 3)
				leaves["q"], leaves["k"], leaves["v"] = q, k, v
				mask := attention.KeyPaddingMask([]int{5, 2}, 5)
				outs := func(c, w *tensor.Tensor) []*tensor.Tensor {
					if w == nil || !weights {
						return []*tensor.Tensor{c}
					}
					return []*tensor.Tensor{c, w}
				}
				compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
					return outs(attention.Prepare(a, k, v, mask).Attend(q))
				}, func() []*tensor.Tensor {
					return outs(a.Attend(q, k, v, mask))
				})
			})
		}
	}
}
