package attention

import (
	"fmt"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// Dense is softmax attention over every key with a registered score: the
// single-head variants dot, scaled-dot, general, additive and location
// (one per score, see RegisterScore):
//
//	weights[i,:] = softmax_j(score(q_i, k_j), masked),  context_i = Σ_j weights[i,j] v_j
//
// Scores of the dot-product form (DotScore) are computed and normalised by
// one fused op per call (one GEMM per head, the scores never stored); other
// scores by their own pair kernel and a masked softmax. The weights are
// returned with their gradient: [B,Tq,Tk], or [B,H,Tq,Tk] for H heads. The
// parameters are the score's.
//
// Unless its weights are requested (WeightsOnRequest: a model asks for
// them for heatmaps and alignment metrics), a dot-product score computes
// scores, softmax and the weighted sum as one op that keeps the weights to
// itself, and Attend returns nil weights; for long inputs it takes the
// chunked (flash) kernel instead — the same attention, equal up to float32
// rounding, in O(n) memory — from flashKeys keys (flashKeysCausal at a
// causal site, whose hidden half the flash kernel skips). Requested
// weights come with their gradient.
type Dense struct {
	base
	score Score
	dot   DotScore // the score as a DotScore, or nil
}

// Key counts from which a dense dot-product attention takes the flash
// kernel. Measured on this machine (4 heads of 32, batch 4, forward and
// backward, thread CPU time): bidirectional 6.4 ms dense vs 6.1 ms flash at
// 256 keys, 93 vs 22 ms at 512; causal 1.5 vs 1.3 ms at 128, 7.0 vs 4.1 ms
// at 256. Below these the dense kernel is as fast or faster.
//
// The fused kernel's weights are materialised in tiles of flashBlock. The
// unfused flash path (heads other than 32, position biases, causal masks,
// CPUs with neither AVX-512 nor AVX2) works in tiles of flashBlock at a causal site and
// of flashBlockOpen elsewhere (position biases included), where no tile is
// skipped and larger GEMMs pay: W5 softmax at n = 4 096 on the tile loop
// (AMD EPYC Zen 3, AVX2, one thread, CPU ms of a forward+backward, two
// trials each, before the AVX2 fused kernel) took
// 683/651 ms with tiles of 64, 618/616 with 128 and 562/568 with 256; at
// n = 1 024 45/44, 42/41 and 40/39. Causal and banded masks keep 64: a
// larger tile computes more of the masked triangle or outside the band.
const (
	flashKeys       = 256
	flashKeysCausal = 128
	flashBlock      = 64
	flashBlockOpen  = 256
)

// flashTile returns the unfused flash path's tile for call c.
func flashTile(c *call) int {
	if c.m.causal || c.m.band {
		return flashBlock
	}
	return flashBlockOpen
}

var (
	_ WeightsOnRequest   = (*Dense)(nil)
	_ Attention          = (*Dense)(nil)
	_ layers.Initializer = (*Dense)(nil)
	_ Preparer           = (*Dense)(nil)
)

func newDense(name string, p any, d Dims) (*Dense, error) {
	b, err := newBase(name, d)
	if err != nil {
		return nil, err
	}
	s, err := newScoreFor(name, p, d)
	if err != nil {
		return nil, err
	}
	a := &Dense{base: b, score: s}
	a.self = a
	a.dot, _ = s.(DotScore)
	if err := a.usePositions(a.dot != nil, true); err != nil {
		return nil, err
	}
	return a, nil
}

// newScoreFor builds the score registered as name for the heads of site d,
// without the "score" prefix in errors (the variant is the score).
func newScoreFor(name string, p any, d Dims) (Score, error) {
	e, err := Scores.Lookup(name)
	if err != nil {
		return nil, err
	}
	return e.New(p, ScoreDims{Heads: d.heads(), Query: d.Query, Key: d.Key})
}

// Score returns the attention's score.
func (a *Dense) Score() Score { return a.score }

// Params lists the score's parameters.
func (a *Dense) Params() []*layers.Param { return a.score.Params() }

// Init draws the score's parameters.
func (a *Dense) Init(rng *tensor.RNG) { a.score.Init(rng) }

// Attend returns the context [B,Tq,H·Dv] and the weights ([B,Tq,Tk] for one
// head, [B,H,Tq,Tk] for H).
func (a *Dense) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return a.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (a *Dense) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	c := a.newCall(q, k, v, mask, off)
	ks := c.keys(a.score.Keys(k))
	if a.flashPays(c) {
		return newFlash(c, c.queries(a.score.Queries(q)), ks, a.dot.Scale(), flashTile(c)).forward(), nil
	}
	if a.dot != nil && !a.weights {
		return dotAttention(c.queries(a.score.Queries(q)), ks, v, c.h, a.dot.Scale(), &c.m, c.bias()), nil
	}
	ctx, w := a.attend(c, ks)
	return ctx, c.weightsOut(w)
}

// attendRows is Attend on the real rows of the queries' and the keys'
// batches (qrows, krows; nil: a whole padded batch [B,T,·]) without
// scattering them into their padded batches: q [Nq,H·d], k and v the same
// for the keys, the context [Nq,H·dv] the real rows of Attend's. It
// returns false, having done nothing, unless the call would take
// dotAttention — a dot-product score that maps neither queries nor keys,
// no position scheme, weights not requested, too few keys for the flash
// kernel — and the real rows can stand for the batch (realRowsLayout).
func (a *Dense) attendRows(q, k, v, mask *tensor.Tensor, qrows, krows *layers.Rows, b, tq, tk int) (*tensor.Tensor, bool) {
	if _, rowWise := a.score.(interface{ rowWise() }); !rowWise || a.dot == nil || a.weights || a.dims.Positions != nil {
		return nil, false
	}
	if tk >= flashKeys || (a.dims.Causal && tk >= flashKeysCausal) {
		return nil, false
	}
	rows := func(x *tensor.Tensor, r *layers.Rows, t int) {
		n := b * t
		if r != nil {
			n = len(r.Real)
		}
		if x.Dims() < 2 || len(x.Data) != n*x.Dim(-1) {
			panic(fmt.Sprintf("attention %s: operand %v for %d rows", a.name, x.Shape(), n))
		}
	}
	rows(q, qrows, tq)
	rows(k, krows, tk)
	rows(v, krows, tk)
	m := newMaskView(a.name, mask, b, tq, tk)
	m.causal = a.dims.Causal
	l, ok := realRowsLayout(qrows, krows, b, tq, tk, &m)
	if !ok {
		return nil, false
	}
	return dotAttentionRows(q, k, v, a.heads, a.dot.Scale(), &m, nil, l), true
}

// flashPays reports whether the call takes the flash kernel (see Dense).
func (a *Dense) flashPays(c *call) bool {
	if a.dot == nil || a.weights {
		return false
	}
	return c.tk >= flashKeys || (a.dims.Causal && c.tk >= flashKeysCausal)
}

// attend computes a call's context and weights from the mapped (and
// rotated) keys ks.
func (a *Dense) attend(c *call, ks *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	qs := c.queries(a.score.Queries(c.q))
	var p *tensor.Tensor
	if a.dot != nil {
		p = dotSoftmax(qs, ks, c.h, a.dot.Scale(), &c.m, c.bias())
	} else {
		w := fullWindow(c)
		p = windowSoftmax(a.score.pairs(qs, ks, w), w, c.bias())
	}
	return weightedSum(p, c.v, &c.m), p
}

// Prepare maps the keys once (additive: k·W_k + b) for many Attend calls
// over the same keys and values, as a recurrent decoder makes. The
// prepared form always takes the dense kernel and returns the weights,
// requested or not (a decoder's queries are one step long). At a site with
// a position scheme there is nothing to prepare (rope moves the keys).
func (a *Dense) Prepare(k, v, mask *tensor.Tensor) Prepared {
	if a.dims.Positions != nil { // keys move with the queries' positions: nothing to prepare
		return plain{a, k, v, mask}
	}
	ks := a.score.Keys(k)
	return &preparedDense{a: a, k: k, ks: ks, v: v, mask: mask, finite: allFinite(ks.Data) && allFinite(v.Data)}
}

type preparedDense struct {
	a        *Dense
	k, ks, v *tensor.Tensor
	mask     *tensor.Tensor
	// finite: every mapped key and value is finite, checked once here, so
	// that no step scans the rows the mask drops for a NaN (cleanRows):
	// a decoder attends over the same keys and values at every step.
	finite bool
}

func (p *preparedDense) Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	c := p.a.newCall(q, p.k, p.v, p.mask, nil)
	c.m.finite = p.finite
	ctx, w := p.a.attend(c, p.ks)
	return ctx, c.weightsOut(w)
}

// allFinite reports whether every element of x is finite.
func allFinite(x []float32) bool { return finiteRow(x) }

// Select returns the prepared form for the rows idx of the batch (see
// RowSelector). Nothing is gathered: the rows' queries are laid out as
// queries of their sources (groupedDense). At a causal or multi-head site,
// where a query's index or the weights' layout would differ, the mapped
// keys, values and mask are gathered instead, not mapped again.
func (p *preparedDense) Select(idx []int) Prepared {
	if p.a.dims.Causal || p.a.heads > 1 {
		out := &preparedDense{a: p.a, k: gatherRows(p.k, idx), ks: gatherRows(p.ks, idx), mask: gatherRows(p.mask, idx), finite: p.finite}
		out.v = out.k
		if p.v != p.k {
			out.v = gatherRows(p.v, idx)
		}
		return out
	}
	return newGroupedDense(p, idx)
}

// groupedDense is a preparedDense's attention for rows that each belong to
// one of its batch's rows (their source): row i's source is src[i], and
// sources may have several rows (a beam search's hypotheses) or none. A
// query step [N,1,D] is laid out as [B,c,D], c the most rows of a source,
// row i at (src[i], its rank among its source's rows), so the keys are
// read where they are, never gathered; empty slots repeat some row and are
// dropped. Each query's context and weights are those of the query alone
// (the dense kernel treats the queries of a row independently; a causal
// site is not grouped), so the results are the gathered keys' exactly.
type groupedDense struct {
	p          *preparedDense
	src        []int
	c          int
	slot, fill []int // row → slot of [B·c]; slot → row (nil: the identity)
}

func newGroupedDense(p *preparedDense, src []int) *groupedDense {
	b := p.k.Dim(0)
	count := make([]int, b)
	c := 0
	for _, s := range src {
		if s < 0 || s >= b {
			panic(fmt.Sprintf("attention: row of source %d selected from a batch of %d", s, b))
		}
		count[s]++
		c = max(c, count[s])
	}
	g := &groupedDense{p: p, src: append([]int(nil), src...), c: max(c, 1)}
	identity := len(src) == b*g.c
	slot := make([]int, len(src))
	clear(count)
	for i, s := range src {
		slot[i] = s*g.c + count[s]
		count[s]++
		identity = identity && slot[i] == i
	}
	if !identity {
		g.slot = slot
		g.fill = make([]int, b*g.c)
		for i, sl := range slot {
			g.fill[sl] = i
		}
	}
	return g
}

func (g *groupedDense) Select(idx []int) Prepared {
	return newGroupedDense(g.p, selectSources(g.src, idx))
}

func selectSources(src, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = src[j]
	}
	return out
}

func (g *groupedDense) Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	n := len(g.src)
	if n == 0 || q.Dims() != 3 || q.Dim(0) != n || q.Dim(1) != 1 {
		// Not one query step per row: attend over gathered keys.
		k := gatherRows(g.p.k, g.src)
		v := k
		if g.p.v != g.p.k {
			v = gatherRows(g.p.v, g.src)
		}
		pd := &preparedDense{a: g.p.a, k: k, ks: gatherRows(g.p.ks, g.src), v: v, mask: gatherRows(g.p.mask, g.src), finite: g.p.finite}
		return pd.Attend(q)
	}
	b, d := g.p.k.Dim(0), q.Dim(2)
	qs := tensor.Reshape(q, n, d)
	if g.fill != nil {
		qs = tensor.Gather(qs, g.fill, -1)
	}
	ctx, weights = g.p.Attend(tensor.Reshape(qs, b, g.c, d))
	return g.rows(ctx), g.rows(weights)
}

// rows turns a result [B,c,X] back into the rows' [N,1,X].
func (g *groupedDense) rows(t *tensor.Tensor) *tensor.Tensor {
	if t == nil {
		return nil
	}
	x := t.Dim(-1)
	t = tensor.Reshape(t, -1, x)
	if g.slot != nil {
		t = tensor.Gather(t, g.slot, -1)
	}
	return tensor.Reshape(t, len(g.src), 1, x)
}
