package attention_test

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// requestWeights asks variants that compute their weights only on request
// to return them.
func requestWeights(a attention.Attention) {
	if r, ok := a.(attention.WeightsOnRequest); ok {
		r.RequestWeights(true)
	}
}

// Sizes of the property and gradient tests: query and key size 4, value
// size 3 (so the context's size differs from the query's); the values are
// a one-direction recurrent encoder's outputs (none's context final).
var testDims = attention.Dims{Query: 4, Key: 4, Value: 3, Directions: 1}

// configs lists, for every registered variant, the parameter sets the
// property tests run; a variant without an entry fails TestEveryVariantIsTested.
var configs = map[string][]map[string]any{
	"none":       {nil, {"context": "mean"}, {"context": "zero"}},
	"dot":        {nil},
	"general":    {nil},
	"scaled-dot": {nil},
	"additive":   {{"dim": 5}},
	"location":   {{"max_len": 9}},
	"multi-head": {
		{"heads": 2, "dim": 4},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "dot"}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "general"}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "additive", "dim": 3}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "location", "max_len": 9}},
		{"heads": 1, "dim": 4, "bias": false},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "chunked", "block": 2}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "chunked", "block": 3, "score": map[string]any{"name": "general"}}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "linear"}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "local", "mode": "monotonic", "window": 1, "score": map[string]any{"name": "scaled-dot"}}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "local", "window": 2, "score": map[string]any{"name": "additive", "dim": 3}}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "sliding-window", "window": 2, "block": 2}},
		{"heads": 2, "dim": 4, "head": map[string]any{"name": "performer", "features": 5}},
	},
	"local": {
		{"mode": "monotonic", "window": 2},
		{"mode": "monotonic", "window": 1, "score": map[string]any{"name": "scaled-dot"}},
		{"mode": "predictive", "window": 2},
		{"mode": "predictive", "window": 3, "score": map[string]any{"name": "additive", "dim": 3}},
		{"mode": "predictive", "window": 2, "score": map[string]any{"name": "dot"}, "dim": 3},
		{"mode": "monotonic", "window": 2, "score": map[string]any{"name": "location", "max_len": 6}},
	},
	"linear": {nil},
	"sliding-window": {
		{"window": 2, "block": 2},
		{"window": 3, "block": 64},
		{"window": 1},
		{"window": 3, "score": map[string]any{"name": "additive", "dim": 3}},
		{"window": 4, "score": map[string]any{"name": "general"}, "block": 3},
	},
	"performer": {{"features": 8}, {"features": 3}},
	"chunked":   {{"block": 1}, {"block": 2}, {"block": 3}, {"block": 64}, {"block": 2, "score": map[string]any{"name": "general"}}, {"block": 3, "score": map[string]any{"name": "dot"}}},
}

// variant is one configured attention under test.
type variant struct {
	name   string
	params map[string]any
}

func (v variant) String() string {
	s := v.name
	for _, k := range sortedKeys(v.params) {
		s += "," + k + "=" + fmtAny(v.params[k])
	}
	return s
}

func allVariants() []variant {
	var out []variant
	for _, name := range attention.Registry.Names() {
		for _, p := range configs[name] {
			out = append(out, variant{name, p})
		}
	}
	return out
}

// build constructs and initialises v for dims with a fixed seed, with
// weights requested.
func build(tb testing.TB, v variant, d attention.Dims) attention.Attention {
	tb.Helper()
	a, err := attention.New(v.name, v.params, d)
	if err != nil {
		tb.Fatalf("New(%s): %v", v, err)
	}
	attention.Init(a, tensor.NewRNG(11))
	requestWeights(a)
	return a
}

func randn(rng *tensor.RNG, grad bool, shape ...int) *tensor.Tensor {
	t := rng.Uniform(tensor.New(shape...), -1, 1)
	return t.SetRequiresGrad(grad)
}

// isSoftmax reports whether v's weights sum to 1 over the keys it may
// attend to.
func isSoftmax(v variant) bool {
	switch v.name {
	case "none":
		return v.params["context"] == "mean"
	case "local":
		return v.params["mode"] == "monotonic"
	case "multi-head":
		return isSoftmax(headOf(v))
	}
	return true
}

// headOf returns multi-head's per-head attention as a variant (scaled-dot
// when not given); other variants are returned as they are.
func headOf(v variant) variant {
	if v.name != "multi-head" {
		return v
	}
	switch h := v.params["head"].(type) {
	case map[string]any:
		params := map[string]any{}
		for k, x := range h {
			if k != "name" {
				params[k] = x
			}
		}
		return variant{h["name"].(string), params}
	case string:
		return variant{h, nil}
	}
	return variant{"scaled-dot", nil}
}

// maxAbsDiff returns max |a−b|, +Inf on a length mismatch or NaN.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

func grad(t *tensor.Tensor) []float32 {
	if t.Grad == nil {
		return make([]float32, t.Len())
	}
	return t.Grad
}

// cols returns columns [from, to) of x seen as rows of the given width.
func cols(x []float32, width, from, to int) []float32 {
	var out []float32
	for r := 0; r+width <= len(x); r += width {
		out = append(out, x[r+from:r+to]...)
	}
	return out
}
