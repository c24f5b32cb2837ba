package attention_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// positioned lists the variants the position tests run, with a head size
// of 4 (rope needs an even one).
var positioned = []variant{
	{"scaled-dot", nil},
	{"general", nil},
	{"additive", map[string]any{"dim": 3}},
	{"location", map[string]any{"max_len": 9}},
	{"chunked", map[string]any{"block": 2}},
	{"chunked", map[string]any{"block": 3, "score": map[string]any{"name": "general"}}},
	{"local", map[string]any{"mode": "monotonic", "window": 1, "score": map[string]any{"name": "scaled-dot"}}},
	{"local", map[string]any{"mode": "predictive", "window": 2, "score": map[string]any{"name": "additive"}}},
	{"linear", nil},
	{"performer", map[string]any{"features": 6}},
	{"sliding-window", map[string]any{"window": 2, "block": 2}},
	{"sliding-window", map[string]any{"window": 3, "score": map[string]any{"name": "additive"}}},
	{"multi-head", map[string]any{"heads": 2, "dim": 4}},
	{"multi-head", map[string]any{"heads": 2, "dim": 4, "head": map[string]any{"name": "chunked", "block": 2}}},
	{"multi-head", map[string]any{"heads": 2, "dim": 4, "head": map[string]any{"name": "linear"}}},
}

var schemes = []string{attention.PositionsRoPE, attention.PositionsALiBi, attention.PositionsT5}

// refusal returns the part of the construction error expected when v
// cannot take scheme, or "".
func refusal(v variant, scheme string) string {
	h := headOf(v)
	name, score := h.name, ""
	if s, ok := h.params["score"].(map[string]any); ok {
		score = s["name"].(string)
	}
	switch {
	case scheme == attention.PositionsRoPE && (name == "additive" || name == "location" || score == "additive"):
		return "need a dot-product score"
	case scheme != attention.PositionsRoPE && (name == "linear" || name == "performer"):
		return "never computes"
	}
	return ""
}

// buildAt builds v at a site with a fresh position scheme; ok is false
// when the combination is refused (the test checks the message).
func buildAt(t *testing.T, v variant, scheme string, d attention.Dims) (attention.Attention, *attention.Positions, bool) {
	t.Helper()
	pos, err := attention.NewPositions(scheme, d.Causal)
	if err != nil {
		t.Fatal(err)
	}
	d.Positions = pos
	a, err := attention.New(v.name, v.params, d)
	if want := refusal(v, scheme); want != "" {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("New(%s) with positions %s: error %v, want one containing %q", v, scheme, err, want)
		}
		return nil, nil, false
	}
	if err != nil {
		t.Fatalf("New(%s) with positions %s: %v", v, scheme, err)
	}
	rng := tensor.NewRNG(11)
	attention.Init(a, rng)
	pos.Init(rng)
	if pos.Params() != nil { // spread t5's biases so that they matter
		for i := range pos.Params()[0].Data {
			pos.Params()[0].Data[i] *= 4
		}
	}
	requestWeights(a)
	return a, pos, true
}

// TestPositionsGradCheck checks every gradient (the t5 table's included)
// with each scheme, at bidirectional and causal sites.
func TestPositionsGradCheck(t *testing.T) {
	for _, vr := range positioned {
		for _, scheme := range schemes {
			for _, causal := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/causal=%v", vr, scheme, causal), func(t *testing.T) {
					d := attention.Dims{Query: 4, Key: 4, Value: 3, Causal: causal}
					a, pos, ok := buildAt(t, vr, scheme, d)
					if !ok {
						return
					}
					rng := tensor.NewRNG(21)
					b, tq, tk := 2, 3, 5
					mask := attention.KeyPaddingMask([]int{tk, 3}, tk)
					if causal {
						tq = tk
					}
					q, k, v := randn(rng, true, b, tq, 4), randn(rng, true, b, tk, 4), randn(rng, true, b, tk, 3)
					inputs := map[string]*tensor.Tensor{"q": q, "k": k, "v": v}
					for _, p := range append(a.Params(), pos.Params()...) {
						inputs["param "+p.Name] = p.Tensor
					}
					f := func() []*tensor.Tensor {
						ctx, _ := a.Attend(q, k, v, mask)
						return []*tensor.Tensor{ctx}
					}
					if err := tensor.GradCheck(f, inputs, tensor.GradCheckOptions{}); err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

// TestPositionsCausalAndPadding: with each scheme, a causal site's query i
// ignores keys after i, and padded keys change nothing.
func TestPositionsCausalAndPadding(t *testing.T) {
	const b, n, pad = 2, 6, 2
	for _, vr := range positioned {
		for _, scheme := range schemes {
			t.Run(vr.String()+"/"+scheme, func(t *testing.T) {
				d := attention.Dims{Query: 4, Key: 4, Value: 3, Causal: true}
				a, _, ok := buildAt(t, vr, scheme, d)
				if !ok {
					return
				}
				rng := tensor.NewRNG(7)
				q, k, v := randn(rng, false, b, n, 4), randn(rng, false, b, n+pad, 4), randn(rng, false, b, n+pad, 3)
				lengths := []int{n, 4}
				ctx, _ := a.Attend(q, tensor.Narrow(k, 1, 0, n), tensor.Narrow(v, 1, 0, n), attention.KeyPaddingMask(lengths, n))
				ctx2, _ := a.Attend(q, k, v, attention.KeyPaddingMask(lengths, n+pad))
				if dd := maxAbsDiff(ctx.Data, ctx2.Data); dd > 1e-6 {
					t.Fatalf("padded keys move the context by %.3g", dd)
				}
				for p := 1; p < n; p++ {
					k2, v2 := k.Clone(), v.Clone()
					for bb := 0; bb < b; bb++ {
						for x := 0; x < 4; x++ {
							k2.Set(k2.At(bb, p, x)+0.5, bb, p, x)
						}
						for x := 0; x < 3; x++ {
							v2.Set(-v2.At(bb, p, x)+0.3, bb, p, x)
						}
					}
					ctx3, _ := a.Attend(q, k2, v2, attention.KeyPaddingMask(lengths, n+pad))
					for bb := 0; bb < b; bb++ {
						got := ctx3.Data[bb*n*3 : (bb*n+p)*3]
						want := ctx2.Data[bb*n*3 : (bb*n+p)*3]
						if dd := maxAbsDiff(got, want); dd > 1e-6 {
							t.Fatalf("changing key %d moves earlier queries by %.3g", p, dd)
						}
					}
				}
			})
		}
	}
}

// TestChunkedMatchesDenseWithPositions: chunked and scaled-dot agree in
// value and gradient (the t5 table's too) under every scheme.
func TestChunkedMatchesDenseWithPositions(t *testing.T) {
	for _, scheme := range schemes {
		for _, causal := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/causal=%v", scheme, causal), func(t *testing.T) {
				d := attention.Dims{Query: 8, Key: 8, Value: 5, Heads: 3, Causal: causal}
				pos, _ := attention.NewPositions(scheme, causal)
				d.Positions = pos
				dense, err := attention.New("scaled-dot", nil, d)
				if err != nil {
					t.Fatal(err)
				}
				ch, err := attention.New("chunked", map[string]any{"block": 7}, d)
				if err != nil {
					t.Fatal(err)
				}
				pos.Init(tensor.NewRNG(3))
				rng := tensor.NewRNG(4)
				const n = 40
				q, k, v := randn(rng, true, 2, n, 24), randn(rng, true, 2, n, 24), randn(rng, true, 2, n, 15)
				mask := attention.KeyPaddingMask([]int{n, 29}, n)
				leaves := map[string]*tensor.Tensor{"q": q, "k": k, "v": v}
				for _, p := range pos.Params() {
					leaves[p.Name] = p.Tensor
				}
				compareGrads(t, 1e-5, leaves, func() []*tensor.Tensor {
					c, _ := ch.Attend(q, k, v, mask)
					return []*tensor.Tensor{c}
				}, func() []*tensor.Tensor {
					c, _ := dense.Attend(q, k, v, mask)
					return []*tensor.Tensor{c}
				})
			})
		}
	}
}

// TestALiBiSlopes: the slopes of Press et al. for 8 heads (1/2 … 1/256)
// and for 6 (those of 4, then every other slope of 8), read back from the
// bias a one-query call adds.
func TestALiBiSlopes(t *testing.T) {
	for _, tc := range []struct {
		heads int
		want  []float64
	}{
		{8, []float64{1. / 2, 1. / 4, 1. / 8, 1. / 16, 1. / 32, 1. / 64, 1. / 128, 1. / 256}},
		{6, []float64{1. / 4, 1. / 16, 1. / 64, 1. / 256, 1. / 2, 1. / 8}},
		{1, []float64{1. / 256}},
	} {
		got := alibiFromWeights(t, tc.heads)
		for h := range tc.want {
			if math.Abs(got[h]-tc.want[h]) > 1e-5 {
				t.Errorf("%d heads: slope %d = %v, want %v", tc.heads, h, got[h], tc.want[h])
			}
		}
	}
}

// alibiFromWeights recovers each head's slope from the weights of query 1
// over keys 0 and 1 with zero queries and keys: w1/w0 = e^m.
func alibiFromWeights(t *testing.T, heads int) []float64 {
	pos, _ := attention.NewPositions(attention.PositionsALiBi, true)
	a, err := attention.New("scaled-dot", nil, attention.Dims{Query: 2, Key: 2, Value: 1, Heads: heads, Causal: true, Positions: pos})
	if err != nil {
		t.Fatal(err)
	}
	requestWeights(a)
	z := tensor.New(1, 2, 2*heads)
	_, w := a.Attend(z, z, tensor.New(1, 2, heads), nil)
	out := make([]float64, heads)
	for h := range out {
		if heads == 1 {
			out[h] = math.Log(float64(w.At(0, 1, 1) / w.At(0, 1, 0)))
		} else {
			out[h] = math.Log(float64(w.At(0, h, 1, 1) / w.At(0, h, 1, 0)))
		}
	}
	return out
}
