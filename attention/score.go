package attention

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// Score functions shared by the single-head variants (one head) and by
// multi-head and local (per head). Each head has its own parameters; with
// one head they have the single-head shapes (general's W [Dq,Dk]), with H
// heads a leading head axis (W [H,dq,dk]).
const (
	scoreDot      = "dot"
	scoreScaled   = "scaled-dot"
	scoreGeneral  = "general"
	scoreAdditive = "additive"
	scoreLocation = "location"
)

var scoreNames = []string{scoreAdditive, scoreDot, scoreGeneral, scoreLocation, scoreScaled}

// scorer turns per-head queries and keys into attention weights.
type scorer struct {
	kind   string
	heads  int
	dq, dk int // per-head query and key sizes
	dim    int // additive: attention size per head
	maxLen int // location: number of source positions

	w          *layers.Param // general [dq,dk]; location [dq,maxLen] (per head: [H,…])
	wq, wk     *layers.Param // additive [dq,A], [dk,A]
	bias, vvec *layers.Param // additive [A], [A]
}

// newScorer checks that the score can serve heads of the given sizes and
// allocates its parameters.
func newScorer(kind string, heads, dq, dk, dim, maxLen int) (*scorer, error) {
	s := &scorer{kind: kind, heads: heads, dq: dq, dk: dk, dim: dim, maxLen: maxLen}
	shape := func(dims ...int) []int {
		if heads == 1 {
			return dims
		}
		return append([]int{heads}, dims...)
	}
	switch kind {
	case scoreDot, scoreScaled:
		if dq != dk {
			return nil, fmt.Errorf("score %s needs equal query and key sizes, got %d and %d", kind, dq, dk)
		}
	case scoreGeneral:
		s.w = layers.NewParam("W", shape(dq, dk)...)
	case scoreAdditive:
		if dim <= 0 {
			return nil, fmt.Errorf("score additive needs a positive attention size, got %d", dim)
		}
		s.wq = layers.NewParam("W_q", shape(dq, dim)...)
		s.wk = layers.NewParam("W_k", shape(dk, dim)...)
		s.bias = layers.NewParam("b", shape(dim)...)
		s.vvec = layers.NewParam("v", shape(dim)...)
	case scoreLocation:
		if maxLen <= 0 {
			return nil, fmt.Errorf("score location needs a positive max_len, got %d", maxLen)
		}
		s.w = layers.NewParam("W", shape(dq, maxLen)...)
	default:
		return nil, fmt.Errorf("unknown score %q (known: %v)", kind, scoreNames)
	}
	return s, nil
}

// params lists the score's parameters (none for dot and scaled-dot).
func (s *scorer) params() []*layers.Param {
	switch s.kind {
	case scoreGeneral, scoreLocation:
		return []*layers.Param{s.w}
	case scoreAdditive:
		return []*layers.Param{s.wq, s.wk, s.bias, s.vvec}
	}
	return nil
}

// init draws the parameters as PyTorch's nn.Linear would for the maps they
// stand for: general and location as Linear(dq, ·), additive as
// Linear(dq, A, bias=False), Linear(dk, A) and Linear(A, 1, bias=False).
func (s *scorer) init(rng *tensor.RNG) {
	switch s.kind {
	case scoreGeneral, scoreLocation:
		layers.InitUniform(rng, s.w, layers.FanInBound(s.dq))
	case scoreAdditive:
		layers.InitUniform(rng, s.wq, layers.FanInBound(s.dq))
		layers.InitUniform(rng, s.wk, layers.FanInBound(s.dk))
		layers.InitUniform(rng, s.bias, layers.FanInBound(s.dk))
		layers.InitUniform(rng, s.vvec, layers.FanInBound(s.dim))
	}
}

// weights returns the attention weights P [B,H,Tq,Tk] for queries
// q [B,Tq,H·dq] and keys k [B,Tk,H·dk] under the mask: a softmax over the
// kept keys of each row, zero for a fully masked row.
func (s *scorer) weights(q, k *tensor.Tensor, m maskView) *tensor.Tensor {
	switch s.kind {
	case scoreDot:
		return dotSoftmax(q, k, s.heads, 1, m)
	case scoreScaled:
		return dotSoftmax(q, k, s.heads, float32(1/math.Sqrt(float64(s.dk))), m)
	case scoreGeneral:
		return dotSoftmax(headLinear(q, s.w.Tensor), k, s.heads, 1, m)
	case scoreAdditive:
		return s.additive(q, s.keyPart(k), m)
	case scoreLocation:
		return s.location(q, k.Dim(1), m)
	}
	panic("attention: unknown score " + s.kind)
}

// keyPart returns what a score computes from the keys alone, which a
// prepared attention reuses across calls: additive's k·W_k + b (other scores:
// the keys themselves).
func (s *scorer) keyPart(k *tensor.Tensor) *tensor.Tensor {
	if s.kind != scoreAdditive {
		return k
	}
	return tensor.Add(headLinear(k, s.wk.Tensor), tensor.Reshape(s.bias.Tensor, s.heads*s.dim))
}

// additive returns the additive weights for queries q and the key part ka.
func (s *scorer) additive(q, ka *tensor.Tensor, m maskView) *tensor.Tensor {
	qa := headLinear(q, s.wq.Tensor)
	return tensor.MaskedSoftmax(additiveScores(qa, ka, s.vvec.Tensor, s.heads, m), m.heads())
}

// location scores source positions from the query alone: the first
// min(Tk, max_len) columns of q·W; keys at positions ≥ max_len are never
// attended (as if padded).
func (s *scorer) location(q *tensor.Tensor, tk int, m maskView) *tensor.Tensor {
	b, tq, l := q.Dim(0), q.Dim(1), s.maxLen
	x := headLinear(q, s.w.Tensor) // [B,Tq,H·L]
	if s.heads == 1 {
		x = tensor.Reshape(x, b, 1, tq, l)
	} else {
		x = tensor.Permute(tensor.Reshape(x, b, tq, s.heads, l), 0, 2, 1, 3)
	}
	mask := m.heads()
	switch {
	case tk < l:
		x = tensor.Narrow(x, 3, 0, tk)
	case tk > l:
		x = tensor.Concat(3, x, tensor.New(b, s.heads, tq, tk-l))
		pos := tensor.New(1, 1, 1, tk)
		for j := 0; j < l; j++ {
			pos.Data[j] = 1
		}
		if mask == nil {
			mask = pos
		} else {
			mask = tensor.Mul(mask, pos)
		}
	}
	return tensor.MaskedSoftmax(x, mask)
}

// single is the body shared by the single-head variants: weights from a
// score, then the weighted sum of the values.
type single struct {
	name  string
	dims  Dims
	score *scorer
}

func newSingle(name, kind string, d Dims, dim, maxLen int) (single, error) {
	if err := checkDims(d); err != nil {
		return single{}, err
	}
	s, err := newScorer(kind, 1, d.Query, d.Key, dim, maxLen)
	if err != nil {
		return single{}, err
	}
	return single{name: name, dims: d, score: s}, nil
}

// Attend returns the context [B,Tq,Dv] and the weights [B,Tq,Tk].
func (s *single) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs(s.name, q, k, v, s.dims)
	m := newMaskView(s.name, mask, b, tq, tk)
	p := s.score.weights(q, k, m)
	return weightedSum(p, v), tensor.Reshape(p, b, tq, tk)
}

// Params lists the score's parameters.
func (s *single) Params() []*layers.Param { return s.score.params() }

// Prepare does the per-key work of the score once (additive: k·W_k + b) for
// many Attend calls over the same keys and values.
func (s *single) Prepare(k, v, mask *tensor.Tensor) Prepared {
	return &preparedSingle{s: s, k: k, ka: s.score.keyPart(k), v: v, mask: mask}
}

type preparedSingle struct {
	s        *single
	k, ka, v *tensor.Tensor
	mask     *tensor.Tensor
}

func (p *preparedSingle) Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	s := p.s
	b, tq, tk := checkInputs(s.name, q, p.k, p.v, s.dims)
	m := newMaskView(s.name, p.mask, b, tq, tk)
	var w *tensor.Tensor
	if s.score.kind == scoreAdditive {
		w = s.score.additive(q, p.ka, m)
	} else {
		w = s.score.weights(q, p.k, m)
	}
	return weightedSum(w, p.v), tensor.Reshape(w, b, tq, tk)
}

// Init draws the score's parameters.
func (s *single) Init(rng *tensor.RNG) { s.score.init(rng) }
