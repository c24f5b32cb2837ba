package attention

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// MultiHeadParams are the parameters of multi-head attention.
type MultiHeadParams struct {
	Heads int             `yaml:"heads" doc:"number of heads; must divide dim" range:"[1,1024]"`
	Dim   int             `yaml:"dim" doc:"model size of the projections, all heads together; 0: the value size" range:"[0,65536]"`
	Head  registry.Plugin `yaml:"head" doc:"per-head attention: a block {name: ..., parameters} naming any variant but multi-head and none"`
	Bias  bool            `yaml:"bias" doc:"biases on the in- and output projections (PyTorch's default)"`
}

// Validate checks the ranges.
func (p *MultiHeadParams) Validate() error {
	switch {
	case p.Heads < 1:
		return registry.Invalid("heads", "must be at least 1, got %d", p.Heads)
	case p.Dim < 0:
		return registry.Invalid("dim", "must be 0 (the value size) or positive, got %d", p.Dim)
	}
	return nil
}

// MultiHead is multi-head attention (Vaswani et al. 2017, "Attention Is All
// You Need"), identical to torch.nn.MultiheadAttention with the default
// per-head attention scaled-dot:
//
//	Q = q W_q + b_q,  K = k W_k + b_k,  V = v W_v + b_v     (W_q [Dq,D], W_k [Dk,D], W_v [Dv,D])
//	head h uses columns h·d … h·d+d−1 (d = D/H) of Q, K, V:
//	heads[b,i,h·d:(h+1)·d] = Attend_h(Q_h, K_h, V_h, mask)     (the per-head attention)
//	context = heads W_o + b_o                                  (W_o [D,Dv])
//
// The per-head attention is any variant but multi-head and none (the `head`
// parameter): a dense score (scaled-dot, dot, general, additive, location),
// chunked, linear, local, … It is built once for all H heads, which it
// reads in place from Q, K and V through strides (no per-head copies), each
// head with its own parameters. The weights are the per-head attention's
// [B,H,Tq,Tk] (nil from variants that build them only on request, unless
// requested). A query whose every key is masked gets a zero context (not
// b_o: PyTorch would give NaN). Parameters W_q, b_q, W_k, b_k, W_v, b_v,
// head.* and W_o, b_o, initialised as PyTorch's: in-projections
// Xavier-uniform (as one stacked [3D,D] matrix when Dq = Dk = Dv = D), W_o
// uniform in ±1/√D, biases 0.
type MultiHead struct {
	dims          Dims
	heads, dim    int
	head          Attention
	wq, wk, wv    *layers.Param
	bq, bk, bv    *layers.Param
	wo, bo        *layers.Param
	stackedInProj bool
}

var (
	_ layers.Incremental      = (*MultiHead)(nil)
	_ layers.ResidualAttender = (*MultiHead)(nil)
	_ Attention               = (*MultiHead)(nil)
	_ layers.Initializer      = (*MultiHead)(nil)
	_ WeightsOnRequest        = (*MultiHead)(nil)
	_ layers.Trainable        = (*MultiHead)(nil)
	_ Preparer                = (*MultiHead)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "multi-head",
		Doc:    "Vaswani multi-head attention: projections, H heads of any per-head attention, output projection",
		Params: &MultiHeadParams{Heads: 4, Head: registry.Plugin{Name: "scaled-dot"}, Bias: true},
		New: func(p any, d Dims) (Attention, error) {
			return NewMultiHead(*p.(*MultiHeadParams), d)
		},
	})
}

// NewMultiHead returns multi-head attention for site d (parameters
// allocated, not initialised). It fails when heads does not divide dim or
// the per-head attention cannot serve heads of that size.
func NewMultiHead(p MultiHeadParams, d Dims) (*MultiHead, error) {
	if err := checkDims(d); err != nil {
		return nil, err
	}
	if d.Heads > 1 {
		return nil, fmt.Errorf("multi-head cannot be a per-head attention")
	}
	if p.Dim == 0 {
		p.Dim = d.Value
	}
	if p.Heads < 1 || p.Dim%p.Heads != 0 {
		return nil, fmt.Errorf("dim %d is not a multiple of heads %d", p.Dim, p.Heads)
	}
	if p.Head.Name == "" {
		p.Head.Name = "scaled-dot"
	}
	hd := p.Dim / p.Heads
	head, err := buildHead(p.Head, Dims{Query: hd, Key: hd, Value: hd, Heads: p.Heads, Causal: d.Causal, Positions: d.Positions})
	if err != nil {
		return nil, err
	}
	m := &MultiHead{
		dims: d, heads: p.Heads, dim: p.Dim, head: head,
		wq: layers.NewParam("W_q", d.Query, p.Dim),
		wk: layers.NewParam("W_k", d.Key, p.Dim),
		wv: layers.NewParam("W_v", d.Value, p.Dim),
		wo: layers.NewParam("W_o", p.Dim, d.Value),
	}
	if p.Bias {
		m.bq, m.bk, m.bv = layers.NewParam("b_q", p.Dim), layers.NewParam("b_k", p.Dim), layers.NewParam("b_v", p.Dim)
		m.bo = layers.NewParam("b_o", d.Value)
	}
	m.stackedInProj = d.Query == p.Dim && d.Key == p.Dim && d.Value == p.Dim
	return m, nil
}

// Heads returns the number of heads.
func (m *MultiHead) Heads() int { return m.heads }

// Head returns the per-head attention (built for all heads).
func (m *MultiHead) Head() Attention { return m.head }

// RequestWeights passes the request on to the per-head attention.
func (m *MultiHead) RequestWeights(on bool) {
	if r, ok := m.head.(WeightsOnRequest); ok {
		r.RequestWeights(on)
	}
}

// SetTraining passes the mode on to the per-head attention.
func (m *MultiHead) SetTraining(on bool) { layers.SetTraining(on, m.head) }

// Params lists W_q, b_q, W_k, b_k, W_v, b_v, the per-head attention's
// parameters (prefixed "head."), W_o and b_o; biases only with bias on.
func (m *MultiHead) Params() []*layers.Param {
	var ps []*layers.Param
	add := func(p ...*layers.Param) {
		for _, x := range p {
			if x != nil {
				ps = append(ps, x)
			}
		}
	}
	add(m.wq, m.bq, m.wk, m.bk, m.wv, m.bv)
	add(layers.Prefix("head", m.head.Params())...)
	add(m.wo, m.bo)
	return ps
}

// Init draws the parameters as torch.nn.MultiheadAttention does, then the
// per-head attention's.
func (m *MultiHead) Init(rng *tensor.RNG) {
	xavier := func(p *layers.Param, in int) {
		fanIn, fanOut := in, m.dim
		if m.stackedInProj {
			fanOut = 3 * m.dim
		}
		layers.InitUniform(rng, p, math.Sqrt(6/float64(fanIn+fanOut)))
	}
	xavier(m.wq, m.dims.Query)
	xavier(m.wk, m.dims.Key)
	xavier(m.wv, m.dims.Value)
	layers.InitUniform(rng, m.wo, layers.FanInBound(m.dim))
	for _, b := range []*layers.Param{m.bq, m.bk, m.bv, m.bo} {
		if b != nil {
			clear(b.Data)
		}
	}
	Init(m.head, rng)
}

// affine returns x·W + b (b may be nil) as one op: the bias is added in
// the product's epilogue and its gradient summed in the same backward.
func affine(x *tensor.Tensor, w, b *layers.Param) *tensor.Tensor {
	var bt *tensor.Tensor
	if b != nil {
		bt = b.Tensor
	}
	return tensor.Linear(x, w.Tensor, bt)
}

// Attend returns the context [B,Tq,Dv] and the weights [B,H,Tq,Tk] (nil
// when the per-head attention builds them only on request).
func (m *MultiHead) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return m.attend(nil, q, k, v, mask)
}

// AttendAdd returns res + the context of Attend(q, k, v, mask) and the
// weights (layers.ResidualAttender): the residual is added in the output
// projection's epilogue (tensor.AddLinear), bitwise the values of
// tensor.Add(res, ctx) with one op and one pass over memory fewer. res has
// the context's shape.
func (m *MultiHead) AttendAdd(res, q, k, v, mask *tensor.Tensor) (out, weights *tensor.Tensor) {
	if res == nil {
		panic("attention multi-head: AttendAdd with a nil residual")
	}
	return m.attend(res, q, k, v, mask)
}

// AttendAddRows is AttendAdd on real rows only (layers.RowsAttender): res
// and q are the real rows [N,D] of the queries' batch (qrows; nil: the
// whole batch), k and v those of the keys' (krows), and the result is the
// real rows of AttendAdd's. The projections run on real rows. A dense
// per-head attention reads them in place where Dense.attendRows can (a dot
// or scaled-dot score without positions, weights not requested, fewer keys
// than the flash kernel takes, a key-padding mask that drops every padded
// key, right-padded rows); otherwise the
// projected operands are scattered to their padded layout, zeros in padded
// rows, for the per-head attention, whose real rows are gathered for the
// output projection. Real rows get AttendAdd's values either way: every op
// but the per-head attention works row by row, and the per-head attention
// never reads a padded key (masked) and gives real queries' rows their own
// values (TestAttendAddRowsLayouts).
func (m *MultiHead) AttendAddRows(res, q, k, v, mask *tensor.Tensor, qrows, krows *layers.Rows) (out, weights *tensor.Tensor) {
	if res == nil {
		panic("attention multi-head: AttendAddRows with a nil residual")
	}
	b, tq, tk := rowsShape(q, k, qrows, krows)
	mv := newMaskView("multi-head", mask, b, tq, tk)
	mv.causal = m.dims.Causal
	if (qrows == nil && krows == nil) || (m.bo != nil && mv.deadRows(b, tq) != nil) {
		out, weights = m.attend(qrows.Scatter(res), qrows.Scatter(q), krows.Scatter(k), krows.Scatter(v), mask)
		return qrows.Gather(out), weights
	}
	var bo *tensor.Tensor
	if m.bo != nil {
		bo = m.bo.Tensor
	}
	q, k, v = affine(q, m.wq, m.bq), affine(k, m.wk, m.bk), affine(v, m.wv, m.bv)
	if d, ok := m.head.(*Dense); ok {
		// The per-head attention on the real rows themselves, where it can.
		if heads, ok := d.attendRows(q, k, v, mask, qrows, krows, b, tq, tk); ok {
			return tensor.AddLinear(res, heads, m.wo.Tensor, bo), nil
		}
	}
	heads, w := m.head.Attend(qrows.Scatter(q), krows.Scatter(k), krows.Scatter(v), mask)
	out = tensor.AddLinear(res, qrows.Gather(heads), m.wo.Tensor, bo)
	if w != nil && m.heads == 1 {
		w = tensor.Reshape(w, b, 1, tq, tk)
	}
	return out, w
}

// rowsShape returns the batch size and the query and key lengths of
// AttendAddRows' operands: from their rows, or from q and k themselves.
func rowsShape(q, k *tensor.Tensor, qrows, krows *layers.Rows) (b, tq, tk int) {
	dims := func(x *tensor.Tensor, rows *layers.Rows) (int, int) {
		if rows != nil {
			return rows.B, rows.T
		}
		if x.Dims() != 3 {
			panic(fmt.Sprintf("attention multi-head: need a batch [B,T,D] without rows, got %v", x.Shape()))
		}
		return x.Dim(0), x.Dim(1)
	}
	b, tq = dims(q, qrows)
	kb, tk := dims(k, krows)
	if kb != b {
		panic(fmt.Sprintf("attention multi-head: queries of %d sequences, keys of %d", b, kb))
	}
	return b, tq, tk
}

func (m *MultiHead) attend(res, q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs("multi-head", q, k, v, m.dims)
	mv := newMaskView("multi-head", mask, b, tq, tk)
	mv.causal = m.dims.Causal
	pq, pk, pv := m.project(q, k, v)
	heads, w := m.head.Attend(pq, pk, pv, mask)
	if res != nil {
		return m.outputAdd(res, heads, w, &mv, b, tq, tk)
	}
	return m.output(heads, w, &mv, b, tq, tk)
}

// outputAdd is output with the residual res added: in the projection's
// epilogue, unless rows with nothing to attend must have their context
// zeroed first.
func (m *MultiHead) outputAdd(res, heads, w *tensor.Tensor, mv *maskView, b, tq, tk int) (out, weights *tensor.Tensor) {
	if m.bo != nil && mv.deadRows(b, tq) != nil {
		ctx, w := m.output(heads, w, mv, b, tq, tk)
		return tensor.Add(res, ctx), w
	}
	var bo *tensor.Tensor
	if m.bo != nil {
		bo = m.bo.Tensor
	}
	out = tensor.AddLinear(res, heads, m.wo.Tensor, bo)
	if w != nil && m.heads == 1 {
		w = tensor.Reshape(w, b, 1, tq, tk)
	}
	return out, w
}

// project returns the projected queries, keys and values: three
// independent products (tensor.Independent: side by side with three
// threads; with two, each product splits across them).
func (m *MultiHead) project(q, k, v *tensor.Tensor) (pq, pk, pv *tensor.Tensor) {
	tensor.Independent(3, func(i int) {
		switch i {
		case 0:
			pq = affine(q, m.wq, m.bq)
		case 1:
			pk = affine(k, m.wk, m.bk)
		case 2:
			pv = affine(v, m.wv, m.bv)
		}
	})
	return pq, pk, pv
}

// output projects the heads [B,Tq,D] out, zeroes the rows of queries with
// nothing to attend, and shapes the weights of one head as [B,1,Tq,Tk].
func (m *MultiHead) output(heads, w *tensor.Tensor, mv *maskView, b, tq, tk int) (ctx, weights *tensor.Tensor) {
	ctx = affine(heads, m.wo, m.bo)
	if m.bo != nil {
		if keep := mv.deadRows(b, tq); keep != nil {
			ctx = tensor.Mul(ctx, keep)
		}
	}
	if w != nil && m.heads == 1 {
		w = tensor.Reshape(w, b, 1, tq, tk)
	}
	return ctx, w
}

// Prepare projects the keys and values once, and lets the per-head
// attention prepare them in turn (attention.Prepare), for many Attend calls
// over the same keys: a recurrent decoder's steps, or a Transformer
// decoder's cross-attention over the encoder's memory while it decodes.
// Prepared.Attend(q) equals Attend(q, k, v, mask).
func (m *MultiHead) Prepare(k, v, mask *tensor.Tensor) Prepared {
	if m.dims.Positions != nil { // keys move with the queries' positions: nothing to prepare
		return plain{m, k, v, mask}
	}
	return &preparedMultiHead{m: m, k: k, v: v, mask: mask,
		heads: Prepare(m.head, affine(k, m.wk, m.bk), affine(v, m.wv, m.bv), mask)}
}

type preparedMultiHead struct {
	m          *MultiHead
	k, v, mask *tensor.Tensor
	heads      Prepared
}

func (p *preparedMultiHead) Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	m := p.m
	b, tq, tk := checkInputs("multi-head", q, p.k, p.v, m.dims)
	mv := newMaskView("multi-head", p.mask, b, tq, tk)
	mv.causal = m.dims.Causal
	heads, w := p.heads.Attend(affine(q, m.wq, m.bq))
	return m.output(heads, w, &mv, b, tq, tk)
}

// NewCache returns an empty cache of the projected keys and values of n
// sequences (layers.Incremental).
func (m *MultiHead) NewCache(n int) layers.KVCache { return m.incremental().NewCache(n) }

// AttendNext decodes step by step (layers.Incremental): the new queries,
// keys and values are projected, the per-head attention extends its cache
// of projected keys and values and attends, and the heads are projected
// out. Past tokens are never projected again.
func (m *MultiHead) AttendNext(q, k, v *tensor.Tensor, lens []int, c layers.KVCache) (ctx, weights *tensor.Tensor) {
	heads, _ := m.incremental().AttendNext(affine(q, m.wq, m.bq), affine(k, m.wk, m.bk), affine(v, m.wv, m.bv), lens, c)
	return affine(heads, m.wo, m.bo), nil
}

func (m *MultiHead) incremental() layers.Incremental {
	inc, ok := m.head.(layers.Incremental)
	if !ok {
		panic(fmt.Sprintf("attention multi-head: per-head attention %T cannot decode step by step", m.head))
	}
	return inc
}
