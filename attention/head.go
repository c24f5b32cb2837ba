package attention

import (
	"github.com/attnlab/attnlab/tensor"
)

// base is the set-up every variant but multi-head shares: the site, its
// name for messages, and whether weights that are built only on request
// have been requested. Variants embed it and turn a call into a context.
type base struct {
	name    string
	dims    Dims
	heads   int
	weights bool // return weights built only on request (WeightsOnRequest)
}

func newBase(name string, d Dims) (base, error) {
	if err := checkDims(d); err != nil {
		return base{}, err
	}
	return base{name: name, dims: d, heads: d.heads()}, nil
}

// RequestWeights turns the building of weights on or off, for the variants
// that build them only on request.
func (s *base) RequestWeights(on bool) { s.weights = on }

// call is one Attend call, checked: H heads of queries, keys and values
// read in place from [B,T,H·d], and the mask with the site's causal rule.
type call struct {
	q, k, v    *tensor.Tensor // [B,Tq,H·dq], [B,Tk,H·dk], [B,Tk,H·dv]
	b, tq, tk  int
	h          int
	dq, dk, dv int // per head
	m          maskView
	pos        *posCall // the site's position scheme, or nil
}

// newCall checks the inputs and builds the mask view: off holds, per batch
// row, the position of query 0 relative to key 0 for the causal rule (nil:
// 0).
func (s *base) newCall(q, k, v, mask *tensor.Tensor, off []int) *call {
	b, tq, tk := checkInputs(s.name, q, k, v, s.dims)
	c := &call{q: q, k: k, v: v, b: b, tq: tq, tk: tk, h: s.heads,
		dq: s.dims.Query, dk: s.dims.Key, dv: s.dims.Value,
		m: newMaskView(s.name, mask, b, tq, tk)}
	c.m.off = off
	c.m.causal = s.dims.Causal
	if s.dims.Positions != nil {
		c.pos = s.dims.Positions.newCall(c)
	}
	return c
}

// usePositions binds the site's position scheme, if any, to a variant
// whose score is (dot) or is not a dot product, and that can (bias) or
// cannot add a bias to its scores.
func (s *base) usePositions(dot, bias bool) error {
	if s.dims.Positions == nil {
		return nil
	}
	return s.dims.Positions.bind(s.name, s.heads, s.dims.Key, dot, bias)
}

// queries and keys apply rotary positions to mapped queries and keys (the
// vectors a dot-product score multiplies); other schemes leave them.
func (c *call) queries(x *tensor.Tensor) *tensor.Tensor {
	if c.pos == nil || c.pos.p.scheme != PositionsRoPE {
		return x
	}
	return c.pos.rope(x, c.h, true)
}

func (c *call) keys(x *tensor.Tensor) *tensor.Tensor {
	if c.pos == nil || c.pos.p.scheme != PositionsRoPE {
		return x
	}
	return c.pos.rope(x, c.h, false)
}

// bias returns the call's additive position bias, or nil.
func (c *call) bias() *biasCall {
	if c.pos == nil {
		return nil
	}
	return c.pos.bias
}

// weightsOut reshapes weights [B,H,Tq,Tk] of a one-head call to the
// single-head contract's [B,Tq,Tk]; nil stays nil.
func (c *call) weightsOut(w *tensor.Tensor) *tensor.Tensor {
	if w == nil || c.h != 1 {
		return w
	}
	return tensor.Reshape(w, c.b, c.tq, c.tk)
}
