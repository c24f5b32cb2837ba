package attention

import (
	"fmt"
	"slices"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// base is the set-up every variant but multi-head shares: the site, its
// name for messages, and whether weights that are built only on request
// have been requested. Variants embed it and turn a call into a context.
type base struct {
	name    string
	dims    Dims
	heads   int
	weights bool  // return weights built only on request (WeightsOnRequest)
	self    atter // the variant embedding this base (for AttendNext)
}

// atter is what every variant but multi-head implements: Attend with the
// queries at positions off[b]+i over keys at positions 0, 1, ….
type atter interface {
	attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor)
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

// kvCache keeps, per sequence, the keys and values an incremental attention
// has seen: rows of ldk and ldv features (all heads side by side), in
// position order. It implements layers.KVCache.
type kvCache struct {
	ldk, ldv int
	k, v     [][]float32
}

var _ layers.KVCache = (*kvCache)(nil)

// Len returns the number of tokens cached for sequence i.
func (c *kvCache) Len(i int) int { return len(c.k[i]) / c.ldk }

// Select returns the caches of sequences idx (copies: the receiver stays
// valid, and two hypotheses that share a prefix then diverge).
func (c *kvCache) Select(idx []int) layers.KVCache {
	out := &kvCache{ldk: c.ldk, ldv: c.ldv, k: make([][]float32, len(idx)), v: make([][]float32, len(idx))}
	for i, j := range idx {
		out.k[i] = slices.Clone(c.k[j])
		out.v[i] = slices.Clone(c.v[j])
	}
	return out
}

// NewCache returns an empty cache for n sequences (see AttendNext).
func (s *base) NewCache(n int) layers.KVCache {
	return &kvCache{ldk: s.heads * s.dims.Key, ldv: s.heads * s.dims.Value, k: make([][]float32, n), v: make([][]float32, n)}
}

// AttendNext decodes step by step (layers.Incremental): it appends the
// first lens[i] rows of k and v [N,T,·] to sequence i's cache and lets the
// first lens[i] queries of q [N,T,·], at the positions that follow the
// cached ones, attend over everything cached — under the site's rules
// (the causal rule, a band, position schemes), so the context equals that
// of Attend over the whole prefix. Keys are cached as given and mapped by
// the score (and rotated) again at each call. The other rows of the
// context are 0; the result carries no gradient and the weights are nil:
// this is for decoding.
func (s *base) AttendNext(q, k, v *tensor.Tensor, lens []int, cache layers.KVCache) (ctx, weights *tensor.Tensor) {
	c := cache.(*kvCache)
	n, t, ldq := q.Dim(0), q.Dim(1), q.Dim(2)
	ldo := s.heads * s.dims.Value
	if k.Dim(2) != c.ldk || v.Dim(2) != c.ldv || len(lens) != n || len(c.k) != n {
		panic(fmt.Sprintf("attention %s: AttendNext with q %v, k %v, v %v, %d lengths for a cache of %d sequences of %d and %d features",
			s.name, q.Shape(), k.Shape(), v.Shape(), len(lens), len(c.k), c.ldk, c.ldv))
	}
	out := tensor.New(n, t, ldo)
	for i, m := range lens {
		if m < 0 || m > t {
			panic(fmt.Sprintf("attention %s: AttendNext: %d new rows of %d", s.name, m, t))
		}
		l := c.Len(i)
		c.k[i] = append(c.k[i], k.Data[i*t*c.ldk:(i*t+m)*c.ldk]...)
		c.v[i] = append(c.v[i], v.Data[i*t*c.ldv:(i*t+m)*c.ldv]...)
		if m == 0 {
			continue
		}
		qi := tensor.FromData(q.Data[i*t*ldq:(i*t+m)*ldq], 1, m, ldq)
		ki := tensor.FromData(c.k[i], 1, l+m, c.ldk)
		vi := tensor.FromData(c.v[i], 1, l+m, c.ldv)
		ci, _ := s.self.attendAt(qi, ki, vi, nil, []int{l})
		copy(out.Data[i*t*ldo:], ci.Data)
	}
	return out, nil
}
