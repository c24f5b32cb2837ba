package attention_test

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// compareGrads runs f twice (got, want) on the same leaves and checks
// outputs and the gradients of L = Σ out⊙R for every leaf within tol.
func compareGrads(t *testing.T, tol float64, leaves map[string]*tensor.Tensor, got, want func() []*tensor.Tensor) {
	t.Helper()
	eval := func(f func() []*tensor.Tensor) ([][]float32, map[string][]float32) {
		for _, l := range leaves {
			l.ZeroGrad()
		}
		outs := f()
		rng := tensor.NewRNG(99)
		var vals, rs [][]float32
		var live []*tensor.Tensor
		for _, o := range outs {
			vals = append(vals, append([]float32(nil), o.Data...))
			r := rng.Uniform(tensor.New(o.Shape()...), -1, 1).Data
			if o.RequiresGrad() {
				live = append(live, o)
				rs = append(rs, r)
			}
		}
		tensor.BackwardFrom(live, rs)
		gs := map[string][]float32{}
		for n, l := range leaves {
			gs[n] = append([]float32(nil), grad(l)...)
		}
		return vals, gs
	}
	gv, gg := eval(got)
	wv, wg := eval(want)
	for i := range gv {
		if d := maxAbsDiff(gv[i], wv[i]); d > tol {
			t.Errorf("output %d differs from the reference by %.3g", i, d)
		}
	}
	for n := range leaves {
		if d := maxAbsDiff(gg[n], wg[n]); d > tol {
			t.Errorf("gradient of %s differs from the reference by %.3g", n, d)
		}
	}
}

// TestChunkedMatchesScaledDot: chunked equals scaled-dot within 1e-5 in
// value and gradient, for lengths 1, 7, 64 and 300 and block sizes that do
// and do not divide them, with key padding, with and without a causal mask.
func TestChunkedMatchesScaledDot(t *testing.T) {
	d := attention.Dims{Query: 8, Key: 8, Value: 5}
	ref, err := attention.New("scaled-dot", nil, d)
	if err != nil {
		t.Fatal(err)
	}
	requestWeights(ref) // the dense kernel, whatever the length
	for _, n := range []int{1, 7, 64, 300} {
		for _, blk := range []int{1, 3, 7, 16, 64, 100} {
			if n == 300 && blk < 3 {
				continue // 90 000 one-by-one tiles add nothing but time
			}
			for _, causal := range []bool{false, true} {
				t.Run(fmt.Sprintf("T=%d/block=%d/causal=%v", n, blk, causal), func(t *testing.T) {
					c, err := attention.NewChunked(attention.ChunkedParams{Block: blk, Weights: true}, d)
					if err != nil {
						t.Fatal(err)
					}
					rng := tensor.NewRNG(uint64(n*1000 + blk))
					q := randn(rng, true, 2, n, 8)
					k := randn(rng, true, 2, n, 8)
					v := randn(rng, true, 2, n, 5)
					// Scale q up so the softmax is peaked and the running max matters.
					for i := range q.Data {
						q.Data[i] *= 3
					}
					mask := attention.KeyPaddingMask([]int{n, max(1, n-n/3)}, n)
					if causal {
						mask = attention.CombineMasks(mask, attention.CausalMask(n))
					}
					leaves := map[string]*tensor.Tensor{"q": q, "k": k, "v": v}
					var cw, rw *tensor.Tensor
					compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
						ctx, w := c.Attend(q, k, v, mask)
						cw = w
						return []*tensor.Tensor{ctx}
					}, func() []*tensor.Tensor {
						ctx, w := ref.Attend(q, k, v, mask)
						rw = w
						return []*tensor.Tensor{ctx}
					})
					if d := maxAbsDiff(cw.Data, rw.Data); d > 1e-5 {
						t.Errorf("weights differ from scaled-dot by %.3g", d)
					}
				})
			}
		}
	}
}

// TestLocalMonotonicIsBandedGeneral: local-m with the general score equals
// general attention under the mask "|j − i| ≤ D and kept".
func TestLocalMonotonicIsBandedGeneral(t *testing.T) {
	d := testDims
	const b, tq, tk, win = 2, 6, 7, 2
	for _, score := range attention.Scores.Names() {
		t.Run(score, func(t *testing.T) {
			loc, err := attention.New("local", map[string]any{"mode": "monotonic", "window": win, "score": map[string]any{"name": score}}, d)
			if err != nil {
				t.Fatal(err)
			}
			attention.Init(loc, tensor.NewRNG(4))
			dense, err := attention.New(score, nil, d)
			if err != nil {
				t.Fatal(err)
			}
			leaves := shareParams(t, loc, dense)
			rng := tensor.NewRNG(9)
			q, k, v := randn(rng, true, b, tq, d.Query), randn(rng, true, b, tk, d.Key), randn(rng, true, b, tk, d.Value)
			leaves["q"], leaves["k"], leaves["v"] = q, k, v
			pad := attention.KeyPaddingMask([]int{tk, 4}, tk)
			bandMask := tensor.New(1, tq, tk)
			for i := 0; i < tq; i++ {
				for j := max(0, i-win); j <= min(tk-1, i+win); j++ {
					bandMask.Set(1, 0, i, j)
				}
			}
			compareGrads(t, 1e-6, leaves, func() []*tensor.Tensor {
				ctx, w := loc.Attend(q, k, v, pad)
				_ = w
				return []*tensor.Tensor{ctx}
			}, func() []*tensor.Tensor {
				ctx, _ := dense.Attend(q, k, v, attention.CombineMasks(pad, bandMask))
				return []*tensor.Tensor{ctx}
			})
		})
	}
}

// shareParams copies src's parameters into dst's (matched by name) and
// makes dst use src's tensors, returning them as leaves.
func shareParams(t *testing.T, src, dst attention.Attention) map[string]*tensor.Tensor {
	t.Helper()
	leaves := map[string]*tensor.Tensor{}
	byName := map[string]*layers.Param{}
	for _, p := range src.Params() {
		byName[p.Name] = p
		leaves["param "+p.Name] = p.Tensor
	}
	for _, p := range dst.Params() {
		s, ok := byName[p.Name]
		if !ok {
			t.Fatalf("no parameter %s in the source", p.Name)
		}
		copy(p.Data, s.Data)
		p.Tensor = s.Tensor // sharing: gradients land on the same leaf
	}
	return leaves
}

// TestLocalPredictiveFormula rebuilds local-p densely from tensor ops:
// p_i = S_i·sigmoid(v_pᵀ tanh(q_i W_p)), window round(p_i) ± D, softmax of
// q W k over the window, times exp(−(j − p_i)²/(2σ²)).
func TestLocalPredictiveFormula(t *testing.T) {
	d := testDims
	const b, tq, tk, win = 2, 4, 9, 2
	loc, err := attention.New("local", map[string]any{"mode": "predictive", "window": win, "score": map[string]any{"name": "general"}, "dim": 3, "weights": true}, d)
	if err != nil {
		t.Fatal(err)
	}
	attention.Init(loc, tensor.NewRNG(12))
	ps := loc.Params() // W, W_p, v_p
	w, wp, vp := ps[0].Tensor, ps[1].Tensor, ps[2].Tensor
	for i := range vp.Data {
		vp.Data[i] *= 4 // spread the predicted positions
	}
	rng := tensor.NewRNG(13)
	q, k, v := randn(rng, true, b, tq, d.Query), randn(rng, true, b, tk, d.Key), randn(rng, true, b, tk, d.Value)
	lengths := []int{tk, 6}
	pad := attention.KeyPaddingMask(lengths, tk)
	leaves := map[string]*tensor.Tensor{"q": q, "k": k, "v": v, "W": w, "W_p": wp, "v_p": vp}
	var gotW *tensor.Tensor
	compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
		ctx, ww := loc.Attend(q, k, v, pad)
		gotW = ww
		return []*tensor.Tensor{ctx}
	}, func() []*tensor.Tensor {
		count := tensor.New(b, 1, 1)
		for bb, n := range lengths {
			count.Data[bb] = float32(n)
		}
		p := tensor.Mul(tensor.Sigmoid(tensor.MatMul(tensor.Tanh(tensor.MatMul(q, wp)), tensor.Reshape(vp, 3, 1))), count) // [B,Tq,1]
		mask := tensor.New(b, tq, tk)
		pos := tensor.New(1, 1, tk)
		for j := 0; j < tk; j++ {
			pos.Data[j] = float32(j)
		}
		for bb := 0; bb < b; bb++ {
			for i := 0; i < tq; i++ {
				c := int(math.Floor(float64(p.At(bb, i, 0)) + 0.5))
				for j := max(0, c-win); j <= min(lengths[bb]-1, c+win); j++ {
					mask.Set(1, bb, i, j)
				}
			}
		}
		scores := tensor.MatMulT(tensor.MatMul(q, w), k, false, true)
		diff := tensor.Sub(pos, p)
		sigma := float32(win) / 2
		gauss := tensor.Exp(tensor.Scale(tensor.Mul(diff, diff), -1/(2*sigma*sigma)))
		weights := tensor.Mul(tensor.MaskedSoftmax(scores, mask), gauss)
		weights = tensor.Mul(weights, mask) // the Gaussian is only inside the window
		ref := tensor.MatMul(weights, v)
		// Compare weights too.
		if dd := maxAbsDiff(gotW.Data, weights.Data); dd > 1e-6 {
			t.Errorf("weights differ from the dense formula by %.3g", dd)
		}
		return []*tensor.Tensor{ref}
	})
}

// TestLinearMatchesDenseFormula checks linear attention (values and
// gradients) against context_i = Σ_j a_ij v_j with
// a_ij = keep_ij φ(q_i)·φ(k_j) / Σ_j keep_ij φ(q_i)·φ(k_j), built densely;
// the long cases (hundreds of rows: several of the products' depth blocks,
// the last partial) include a batch row whose keys are all padding.
func TestLinearMatchesDenseFormula(t *testing.T) {
	d := testDims
	const b, n = 2, 7
	for _, tc := range []struct {
		name string
		tq   int
		mask func() *tensor.Tensor
		tk   int // 0: n
	}{
		{"long, key padding", 600, func() *tensor.Tensor { return attention.KeyPaddingMask([]int{530, 300}, 530) }, 530},
		{"long, no keys in a row", 530, func() *tensor.Tensor { return attention.KeyPaddingMask([]int{0, 517}, 600) }, 600},
		{"no mask", 4, func() *tensor.Tensor { return nil }, 0},
		{"key padding", 4, func() *tensor.Tensor { return attention.KeyPaddingMask([]int{n, 3}, n) }, 0},
		{"causal", n, func() *tensor.Tensor { return attention.CausalMask(n) }, 0},
		{"causal and padding", n, func() *tensor.Tensor {
			return attention.CombineMasks(attention.KeyPaddingMask([]int{n, 4}, n), attention.CausalMask(n))
		}, 0},
		{"causal with left padding", n, func() *tensor.Tensor {
			m := attention.CombineMasks(attention.KeyPaddingMask([]int{n, n}, n), attention.CausalMask(n))
			m = tensor.Mul(m, tensor.Full(1, b, 1, n)) // [B,T,T]
			for i := 0; i < n; i++ {
				m.Set(0, 1, i, 0)
				m.Set(0, 1, i, 1) // batch 1: keys 0, 1 padded on the left
			}
			return m
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lin, err := attention.NewLinear(attention.LinearParams{Weights: true}, d)
			if err != nil {
				t.Fatal(err)
			}
			rng := tensor.NewRNG(31)
			tk := n
			if tc.tk > 0 {
				tk = tc.tk
			}
			q, k, v := randn(rng, true, b, tc.tq, d.Query), randn(rng, true, b, tk, d.Key), randn(rng, true, b, tk, d.Value)
			mask := tc.mask()
			var gotW, wantW *tensor.Tensor
			compareGrads(t, 1e-5, map[string]*tensor.Tensor{"q": q, "k": k, "v": v}, func() []*tensor.Tensor {
				ctx, w := lin.Attend(q, k, v, mask)
				gotW = w
				return []*tensor.Tensor{ctx}
			}, func() []*tensor.Tensor {
				phi := func(x *tensor.Tensor) *tensor.Tensor { return tensor.AddScalar(tensor.ELU(x, 1), 1) }
				sim := tensor.MatMulT(phi(q), phi(k), false, true)
				if mask != nil {
					sim = tensor.Mul(sim, mask)
				}
				den := tensor.Sum(sim, -1, true)
				// Rows with nothing to attend: 0/1 instead of 0/0.
				safe := tensor.New(den.Shape()...)
				for i, x := range den.Data {
					if x == 0 {
						safe.Data[i] = 1
					}
				}
				a := tensor.Div(sim, tensor.Add(den, safe))
				wantW = a
				return []*tensor.Tensor{tensor.MatMul(a, v)}
			})
			if dd := maxAbsDiff(gotW.Data, wantW.Data); dd > 1e-6 {
				t.Errorf("implied weights differ from the dense formula by %.3g", dd)
			}
		})
	}
}

// TestLinearRejectsArbitraryMasks: a mask that is not key padding × causal
// (here a band) must not give a wrong answer: Attend panics and says why.
func TestLinearRejectsArbitraryMasks(t *testing.T) {
	lin, err := attention.New("linear", nil, testDims)
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(1)
	q, k, v := randn(rng, false, 1, 4, 4), randn(rng, false, 1, 4, 4), randn(rng, false, 1, 4, 3)
	band := attention.CausalMask(4)
	band.Set(0, 0, 3, 0) // query 3 may not see key 0: not causal any more
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.Contains(msg, "attention linear") || !strings.Contains(msg, "key-padding and causal") {
			t.Fatalf("panic = %v, want a message naming linear and the masks it honours", r)
		}
	}()
	lin.Attend(q, k, v, band)
	t.Fatal("Attend accepted a mask linear attention cannot honour")
}

// TestLocationBeyondMaxLen: keys at positions ≥ max_len are never attended;
// the result equals attending over the first max_len keys only.
func TestLocationBeyondMaxLen(t *testing.T) {
	d := testDims
	loc, err := attention.New("location", map[string]any{"max_len": 4}, d)
	if err != nil {
		t.Fatal(err)
	}
	attention.Init(loc, tensor.NewRNG(2))
	rng := tensor.NewRNG(3)
	const b, tq, tk = 2, 3, 7
	q, k, v := randn(rng, true, b, tq, 4), randn(rng, true, b, tk, 4), randn(rng, true, b, tk, 3)
	ctx, w := loc.Attend(q, k, v, attention.KeyPaddingMask([]int{tk, 6}, tk))
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			var s float32
			for j := 0; j < tk; j++ {
				x := w.At(bb, i, j)
				if j >= 4 && x != 0 {
					t.Fatalf("key %d beyond max_len 4 has weight %v", j, x)
				}
				s += x
			}
			if math.Abs(float64(s)-1) > 1e-6 {
				t.Fatalf("weights sum to %v, want 1", s)
			}
		}
	}
	ctx4, _ := loc.Attend(q, tensor.Narrow(k, 1, 0, 4), tensor.Narrow(v, 1, 0, 4), nil)
	if dd := maxAbsDiff(ctx.Data, ctx4.Data); dd > 1e-6 {
		t.Fatalf("context differs from attending over the first max_len keys by %.3g", dd)
	}
	// A query whose kept keys all lie beyond max_len gets a zero context.
	only := tensor.New(1, 1, tk)
	only.Data[5] = 1
	ctx, w = loc.Attend(q, k, v, only)
	if hasNaN(ctx.Data) || maxAbsDiff(ctx.Data, make([]float32, ctx.Len())) != 0 || maxAbsDiff(w.Data, make([]float32, w.Len())) != 0 {
		t.Fatalf("only keys beyond max_len: context %v, want zeros", ctx.Data)
	}
}

// TestFlashTilesFitTheCall: the flash kernel's tile buffers are as large
// as the call's largest tile, not block×block: one query over 300 keys
// (a tile of 256 at a site without a causal mask) and sequences of 15
// tokens under chunked's block of 4096 allocate kilobytes, not the
// megabytes of whole tiles. (Not parallel: it reads the process's
// allocation counters.)
func TestFlashTilesFitTheCall(t *testing.T) {
	for _, tc := range []struct {
		variant string
		params  map[string]any
		tq, tk  int
	}{
		{"scaled-dot", nil, 1, 300},
		{"chunked", map[string]any{"block": 4096}, 15, 15},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			a, err := attention.New(tc.variant, tc.params, attention.Dims{Query: 32, Key: 32, Value: 32, Heads: 4})
			if err != nil {
				t.Fatal(err)
			}
			rng := tensor.NewRNG(1)
			q, k, v := randn(rng, false, 2, tc.tq, 128), randn(rng, false, 2, tc.tk, 128), randn(rng, false, 2, tc.tk, 128)
			a.Attend(q, k, v, nil) // warm up
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			ctx, _ := a.Attend(q, k, v, nil)
			runtime.ReadMemStats(&after)
			if ctx.Op() != "ChunkedAttention" {
				t.Fatalf("context from op %s, want the flash kernel's ChunkedAttention", ctx.Op())
			}
			const most = 128 << 10
			if got := after.TotalAlloc - before.TotalAlloc; got > most {
				t.Fatalf("Attend of %d queries over %d keys allocated %d bytes, want at most %d", tc.tq, tc.tk, got, most)
			}
		})
	}
}

// TestDenseTakesFlashWhenItPays: a dense dot-product attention whose
// weights are not requested returns nil weights and the context and
// gradients of the requested dense kernel within 1e-5, through the flash
// kernel on long inputs (at a causal site from 128 keys, elsewhere from
// 256) and through the fused dense op below those lengths.
func TestDenseTakesFlashWhenItPays(t *testing.T) {
	for _, tc := range []struct {
		score  string
		n      int
		causal bool
		flash  bool
	}{
		{"scaled-dot", 300, false, true},
		{"general", 260, false, true},
		{"dot", 130, true, true},
		{"scaled-dot", 200, false, false},
		{"scaled-dot", 100, true, false},
	} {
		t.Run(fmt.Sprintf("%s/%d/causal=%v", tc.score, tc.n, tc.causal), func(t *testing.T) {
			d := attention.Dims{Query: 8, Key: 8, Value: 5, Heads: 2, Causal: tc.causal}
			auto, err := attention.New(tc.score, nil, d)
			if err != nil {
				t.Fatal(err)
			}
			attention.Init(auto, tensor.NewRNG(3))
			dense, _ := attention.New(tc.score, nil, d)
			requestWeights(dense)
			leaves := shareParams(t, auto, dense)
			rng := tensor.NewRNG(uint64(tc.n))
			q, k, v := randn(rng, true, 2, tc.n, 16), randn(rng, true, 2, tc.n, 16), randn(rng, true, 2, tc.n, 10)
			leaves["q"], leaves["k"], leaves["v"] = q, k, v
			mask := attention.KeyPaddingMask([]int{tc.n, tc.n - 17}, tc.n)
			var w *tensor.Tensor
			op := ""
			compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
				c, ww := auto.Attend(q, k, v, mask)
				w, op = ww, c.Op()
				return []*tensor.Tensor{c}
			}, func() []*tensor.Tensor {
				c, _ := dense.Attend(q, k, v, mask)
				return []*tensor.Tensor{c}
			})
			want := map[bool]string{true: "ChunkedAttention", false: "DotAttention"}[tc.flash]
			if w != nil || op != want {
				t.Fatalf("weights nil = %v, context from op %s; want nil weights from %s", w == nil, op, want)
			}
		})
	}
}
