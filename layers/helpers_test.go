package layers_test

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// check runs tensor.GradCheck with the default options.
func check(tb testing.TB, f func() []*tensor.Tensor, in map[string]*tensor.Tensor) {
	tb.Helper()
	if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
		tb.Fatal(err)
	}
}

// paramInputs returns the parameters of ps as GradCheck inputs, by name.
func paramInputs(ps []*layers.Param, extra map[string]*tensor.Tensor) map[string]*tensor.Tensor {
	in := map[string]*tensor.Tensor{}
	for _, p := range ps {
		in[p.Name] = p.Tensor
	}
	for k, v := range extra {
		in[k] = v
	}
	return in
}

// leaf returns a tensor requiring gradients, uniform in [-1, 1).
func leaf(rng *tensor.RNG, shape ...int) *tensor.Tensor {
	return rng.Uniform(tensor.New(shape...), -1, 1).SetRequiresGrad(true)
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}

// keyPadding returns the keep-mask [B,1,T] for the given lengths.
func keyPadding(lengths []int, t int) *tensor.Tensor {
	m := tensor.New(len(lengths), 1, t)
	for b, n := range lengths {
		for j := 0; j < min(n, t); j++ {
			m.Data[b*t+j] = 1
		}
	}
	return m
}

// causal returns the keep-mask [1,T,T] letting query i see keys j <= i.
func causal(t int) *tensor.Tensor {
	m := tensor.New(1, t, t)
	for i := 0; i < t; i++ {
		for j := 0; j <= i; j++ {
			m.Data[i*t+j] = 1
		}
	}
	return m
}

// scaledDot is a parameter-free scaled dot-product attention, a stand-in for
// the attention package's variants (which layers must not import).
type scaledDot struct{}

func (scaledDot) Attend(q, k, v, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	s := tensor.Scale(tensor.MatMulT(q, k, false, true), float32(1/math.Sqrt(float64(q.Dim(-1)))))
	w := tensor.MaskedSoftmax(s, mask)
	return tensor.MatMul(w, v), w
}

func (scaledDot) Params() []*layers.Param { return nil }

// multiHead is a small multi-head scaled dot-product attention with input
// and output projections, for block tests and benchmarks.
type multiHead struct {
	heads          int
	wq, wk, wv, wo *layers.Linear
}

func newMultiHead(d, heads int) *multiHead {
	return &multiHead{heads: heads,
		wq: layers.NewLinear(d, d, true), wk: layers.NewLinear(d, d, true),
		wv: layers.NewLinear(d, d, true), wo: layers.NewLinear(d, d, true)}
}

func (m *multiHead) Init(rng *tensor.RNG) {
	for _, l := range []*layers.Linear{m.wq, m.wk, m.wv, m.wo} {
		l.Init(rng)
	}
}

func (m *multiHead) Params() []*layers.Param {
	return layers.Collect(layers.Named{Prefix: "q", Module: m.wq}, layers.Named{Prefix: "k", Module: m.wk},
		layers.Named{Prefix: "v", Module: m.wv}, layers.Named{Prefix: "o", Module: m.wo})
}

func (m *multiHead) split(x *tensor.Tensor) *tensor.Tensor {
	b, t, d := x.Dim(0), x.Dim(1), x.Dim(2)
	return tensor.Permute(tensor.Reshape(x, b, t, m.heads, d/m.heads), 0, 2, 1, 3) // [B,H,T,dh]
}

// AttendAdd is res + Attend's context, the add fused into the output
// projection (layers.ResidualAttender), as attention.MultiHead does it.
func (m *multiHead) AttendAdd(res, q, k, v, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	ctx, w := m.context(q, k, v, mask)
	return m.wo.AddForward(res, ctx), w
}

func (m *multiHead) Attend(q, k, v, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	ctx, w := m.context(q, k, v, mask)
	return m.wo.Forward(ctx), w
}

// context returns the heads' context [B,Tq,D] before the output projection,
// and the weights.
func (m *multiHead) context(q, k, v, mask *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	b, tq, d := q.Dim(0), q.Dim(1), q.Dim(2)
	qh, kh, vh := m.split(m.wq.Forward(q)), m.split(m.wk.Forward(k)), m.split(m.wv.Forward(v))
	s := tensor.Scale(tensor.MatMulT(qh, kh, false, true), float32(1/math.Sqrt(float64(d/m.heads))))
	var mk *tensor.Tensor
	if mask != nil {
		ms := mask.Shape()
		mk = tensor.Reshape(mask, ms[0], 1, ms[1], ms[2])
	}
	w := tensor.MaskedSoftmax(s, mk)
	ctx := tensor.Reshape(tensor.Permute(tensor.MatMul(w, vh), 0, 2, 1, 3), b, tq, d)
	return ctx, w
}
