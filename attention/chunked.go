package attention

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// ChunkedParams are the parameters of chunked attention.
type ChunkedParams struct {
	Block   int             `yaml:"block" doc:"queries and keys per block; working memory per step is block×block scores" range:"[1,65536]"`
	Score   registry.Plugin `yaml:"score" doc:"a block {name: ..., parameters} naming a dot-product score: scaled-dot, dot or general"`
	Weights bool            `yaml:"weights" doc:"also return the [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Validate requires a positive block size.
func (p *ChunkedParams) Validate() error {
	if p.Block < 1 {
		return registry.Invalid("block", "must be at least 1, got %d", p.Block)
	}
	return nil
}

// Chunked is exact softmax attention computed block by block with a
// running maximum and sum (the online softmax of Milakov & Gimelshein 2018,
// as in FlashAttention: Dao et al. 2022, "FlashAttention: Fast and
// Memory-Efficient Exact Attention with IO-Awareness"), for any score of
// the dot-product form (scaled-dot by default):
//
//	s_ij = scale · q'_i · k'_j   (q' = Queries(q), k' = Keys(k) of the score)
//	for each key block J:  m_i ← max(m_i, max_{j∈J} s_ij);  ℓ_i ← ℓ_i·e^(m_old−m_i) + Σ_{j∈J} e^(s_ij−m_i)
//	                       o_i ← o_i·e^(m_old−m_i) + Σ_{j∈J} e^(s_ij−m_i) v_j
//	context_i = o_i / ℓ_i,   lse_i = m_i + log ℓ_i
//
// Its value equals the dense attention of the same score (up to float32
// rounding), for any mask. Forward and backward are one fused op: only a
// block×block tile of scores exists at a time, the forward pass keeps just
// the context and the per-query log-sum-exp, and the backward pass
// recomputes each tile's weights as exp(s − lse) (FlashAttention-2's
// backward). Tiles whose pairs are all masked (above the diagonal at a
// causal site) are skipped. As a per-head attention, all heads are read in
// place from [B,T,H·d] through GEMM strides.
//
// Weights are computed only on request (the `weights` parameter or
// RequestWeights), without gradient; otherwise Attend returns nil weights.
// The parameters are the score's.
type Chunked struct {
	base
	block int
	score DotScore
}

var (
	_ Attention          = (*Chunked)(nil)
	_ WeightsOnRequest   = (*Chunked)(nil)
	_ layers.Initializer = (*Chunked)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "chunked",
		Doc:    "exact softmax attention (scaled-dot or another dot-product score) over key blocks with a running max (flash-attention style), weights only on request",
		Params: &ChunkedParams{Block: 64, Score: registry.Plugin{Name: "scaled-dot"}},
		New: func(p any, d Dims) (Attention, error) {
			return NewChunked(*p.(*ChunkedParams), d)
		},
	})
}

// NewChunked returns chunked attention for site d.
func NewChunked(p ChunkedParams, d Dims) (*Chunked, error) {
	b, err := newBase("chunked", d)
	if err != nil {
		return nil, err
	}
	if p.Block < 1 {
		return nil, errorf("block must be at least 1, got %d", p.Block)
	}
	if p.Score.Name == "" {
		p.Score.Name = "scaled-dot"
	}
	s, err := buildScore(p.Score, ScoreDims{Heads: b.heads, Query: d.Query, Key: d.Key})
	if err != nil {
		return nil, err
	}
	ds, ok := s.(DotScore)
	if !ok {
		return nil, fmt.Errorf("chunked needs a dot-product score (dot, scaled-dot, general), not %s", p.Score.Name)
	}
	c := &Chunked{base: b, block: p.Block, score: ds}
	c.self = c
	c.weights = p.Weights
	if err := c.usePositions(true, true); err != nil {
		return nil, err
	}
	return c, nil
}

// Params lists the score's parameters.
func (c *Chunked) Params() []*layers.Param { return c.score.Params() }

// Init draws the score's parameters.
func (c *Chunked) Init(rng *tensor.RNG) { c.score.Init(rng) }

// Attend returns the context [B,Tq,H·Dv] and, on request, the weights
// ([B,Tq,Tk], or [B,H,Tq,Tk] for H heads; nil otherwise).
func (c *Chunked) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return c.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (c *Chunked) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	cl := c.newCall(q, k, v, mask, off)
	f := newFlash(cl, cl.queries(c.score.Queries(q)), cl.keys(c.score.Keys(k)), c.score.Scale(), c.block)
	ctx = f.forward()
	if c.weights {
		weights = cl.weightsOut(f.weightsMatrix())
	}
	return ctx, weights
}

// flash holds one call's inputs and the saved log-sum-exp.
type flash struct {
	q, k, v     *tensor.Tensor // mapped queries [B,Tq,H·d], keys [B,Tk,H·d], values [B,Tk,H·dv]
	m           *maskView
	bias        *biasCall // additive position bias, or nil
	b, tq, tk   int
	h, d, dv    int
	ldq, ldv    int // H·d, H·dv
	blk         int
	scale       float32
	lse         []float32  // [B,H,Tq]; +Inf for a query with no kept key
	scores, tmp []float32  // one tile each (tileLen)
	packed      *packedQKV // q, k and v read in place from one projection (the fused kernel only), or nil
}

func newFlash(c *call, q, k *tensor.Tensor, scale float32, blk int) *flash {
	d := q.Dim(2) / c.h
	return &flash{q: q, k: k, v: c.v, m: &c.m, bias: c.bias(), b: c.b, tq: c.tq, tk: c.tk, h: c.h, d: d, dv: c.dv,
		ldq: c.h * d, ldv: c.h * c.dv, blk: blk, scale: scale}
}

// tileLen returns the size of a tile buffer: the largest tile of the call,
// blk×blk or less where the queries or the keys are fewer than blk (one
// query of a decoding step needs one row, not blk).
func (f *flash) tileLen() int { return min(f.blk, f.tq) * min(f.blk, f.tk) }

// readRows returns the keys from…to−1 of batch row bb that the tile loop
// may read: those of the tiles that meet the keys between lo of query 0
// and hi of the last query (both grow with the query), outside which no
// tile is live. A decoding step over a long cache with a band reads a
// few tiles of it, and cleanRowsIn scans no more than those.
func (f *flash) readRows(bb int) (from, to int) {
	if f.tq == 0 {
		return 0, 0
	}
	lo, hi := f.m.lo(bb, 0), f.m.hi(bb, f.tq-1)
	return lo / f.blk * f.blk, min(f.tk, (hi+f.blk-1)/f.blk*f.blk)
}

// tile computes the scaled scores of a tile of head h, plus the position
// bias, into f.scores (qb×kb).
func (f *flash) tile(bb, h, i0, qb, j0, kb int) []float32 {
	s := f.scores[:qb*kb]
	tensor.Gemm(false, true, qb, kb, f.d, f.scale, f.q.Data[(bb*f.tq+i0)*f.ldq+h*f.d:], f.ldq, f.k.Data[(bb*f.tk+j0)*f.ldq+h*f.d:], f.ldq, 0, s, kb)
	if f.bias != nil {
		for r := 0; r < qb; r++ {
			axpy(s[r*kb:(r+1)*kb], 1, f.bias.row(f.m, bb, h, i0+r, j0))
		}
	}
	return s
}

// probs turns a tile of scores into weights exp(s − lse) in place, 0 where
// masked.
func (f *flash) probs(s []float32, bb, h, i0, qb, j0, kb int) {
	for r := 0; r < qb; r++ {
		sr := s[r*kb : (r+1)*kb]
		f.m.maskRow(sr, bb, i0+r, j0)
		tensor.ExpShiftSum(sr, sr, f.lse[(bb*f.h+h)*f.tq+i0+r])
	}
}

func (f *flash) forward() *tensor.Tensor {
	if f.fused32() {
		return f.forward32()
	}
	b, tq, tk, dv, blk, ldv := f.b, f.tq, f.tk, f.dv, f.blk, f.ldv
	o := tensor.Scratch(b * tq * ldv) // recycled with the result
	f.lse = make([]float32, b*f.h*tq)
	f.scores = make([]float32, f.tileLen())
	f.tmp = make([]float32, f.tileLen())
	mx := make([]float32, min(blk, tq))
	sum := make([]float64, min(blk, tq))
	for bb := 0; bb < b; bb++ {
		from, to := f.readRows(bb)
		for h := 0; h < f.h; h++ {
			// The values dropped for every query are not read (cleanRows).
			vh, ldvh := f.m.cleanRowsIn(f.v.Data[bb*tk*ldv+h*dv:], ldv, dv, tk, bb, tq, from, to)
			for i0 := 0; i0 < tq; i0 += blk {
				qb := min(blk, tq-i0)
				for r := range qb {
					mx[r], sum[r] = negInf, 0
				}
				ob := o[(bb*tq+i0)*ldv+h*dv:]
				for j0 := 0; j0 < tk; j0 += blk {
					kb := min(blk, tk-j0)
					if !f.m.live(bb, i0, i0+qb, j0, j0+kb) {
						continue
					}
					s := f.tile(bb, h, i0, qb, j0, kb)
					for r := 0; r < qb; r++ {
						sr := s[r*kb : (r+1)*kb]
						f.m.maskRow(sr, bb, i0+r, j0)
						tileMax := tensor.MaxSlice(sr) // NaNs ignored
						if tileMax == negInf {
							// No finite score: masked pairs (weight 0),
							// unless one is NaN (a NaN query's row), which
							// makes the row NaN from here on (max, sum and
							// context), not a masked row.
							noFiniteRow(sr)
							if sr[0] != sr[0] {
								mx[r], sum[r] = sr[0], math.NaN()
							}
							continue
						}
						mnew := max(mx[r], tileMax)
						corr := float32(1) // exp(0): the running max rarely moves after the first tiles
						if mnew != mx[r] {
							corr = float32(math.Exp(float64(mx[r] - mnew)))
						}
						ts := tensor.ExpShiftSum(sr, sr, mnew)
						sum[r] = sum[r]*float64(corr) + ts
						if corr != 1 {
							tensor.ScaleSlice(ob[r*ldv:r*ldv+dv], corr)
						}
						mx[r] = mnew
					}
					tensor.Gemm(false, false, qb, dv, kb, 1, s, kb, vh[j0*ldvh:], ldvh, 1, ob, ldv)
				}
				for r := 0; r < qb; r++ {
					or := ob[r*ldv : r*ldv+dv]
					li := (bb*f.h+h)*tq + i0 + r
					if sum[r] == 0 {
						clear(or)
						f.lse[li] = float32(math.Inf(1))
						continue
					}
					tensor.ScaleSlice(or, float32(1/sum[r]))
					f.lse[li] = mx[r] + float32(math.Log(sum[r]))
				}
			}
		}
	}
	return tensor.Custom("ChunkedAttention", o, []int{b, tq, ldv}, []*tensor.Tensor{f.q, f.k, f.v, f.bias.input()}, f.backward)
}

func (f *flash) backward(out *tensor.Tensor, g [][]float32) {
	b, tq, tk, d, dv, blk := f.b, f.tq, f.tk, f.d, f.dv, f.blk
	ldq, ldv := f.ldq, f.ldv
	gq, gk, gv := g[0], g[1], g[2]
	dtab := f.bias.grads(g[3])
	do := out.Grad
	// D_i = dO_i · O_i per head, the row term of the softmax backward.
	dd := make([]float32, b*f.h*tq)
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			for h := 0; h < f.h; h++ {
				off := (bb*tq+i)*ldv + h*dv
				var s float64
				for x, gx := range do[off : off+dv] {
					s += float64(gx * out.Data[off+x])
				}
				dd[(bb*f.h+h)*tq+i] = float32(s)
			}
		}
	}
	for bb := 0; bb < b; bb++ {
		from, to := f.readRows(bb)
		for h := 0; h < f.h; h++ {
			// The keys for dq, the queries for dk and the values for dP,
			// without the NaNs of rows that no query reads (cleanRows,
			// cleanQueries).
			var kh, qh []float32
			ldk, ldqc := ldq, ldq
			if gq != nil {
				kh, ldk = f.m.cleanRowsIn(f.k.Data[bb*tk*ldq+h*d:], ldq, d, tk, bb, tq, from, to)
			}
			if gk != nil {
				qh, ldqc = f.m.cleanQueries(f.q.Data[bb*tq*ldq+h*d:], ldq, d, tq, bb)
			}
			vh, ldvh := f.m.cleanRowsIn(f.v.Data[bb*tk*ldv+h*dv:], ldv, dv, tk, bb, tq, from, to)
			for j0 := 0; j0 < tk; j0 += blk {
				kb := min(blk, tk-j0)
				for i0 := 0; i0 < tq; i0 += blk {
					qb := min(blk, tq-i0)
					if !f.m.live(bb, i0, i0+qb, j0, j0+kb) {
						continue
					}
					p := f.tile(bb, h, i0, qb, j0, kb)
					f.probs(p, bb, h, i0, qb, j0, kb)
					dob := do[(bb*tq+i0)*ldv+h*dv:]
					if gv != nil {
						tensor.Gemm(true, false, kb, dv, qb, 1, p, kb, dob, ldv, 1, gv[(bb*tk+j0)*ldv+h*dv:], ldv)
					}
					if gq == nil && gk == nil && dtab == nil {
						continue
					}
					ds := f.tmp[:qb*kb]
					tensor.Gemm(false, true, qb, kb, dv, 1, dob, ldv, vh[j0*ldvh:], ldvh, 0, ds, kb)
					for r := 0; r < qb; r++ {
						dr := dd[(bb*f.h+h)*tq+i0+r]
						pr, sr := p[r*kb:(r+1)*kb], ds[r*kb:(r+1)*kb]
						dsRow(sr, pr, dr)
						if dtab != nil {
							o := h*f.bias.n + j0 - f.m.pos(bb, i0+r) - f.bias.lo
							axpy(dtab[o:o+kb], 1, sr)
						}
					}
					if gq != nil {
						tensor.Gemm(false, false, qb, d, kb, f.scale, ds, kb, kh[j0*ldk:], ldk, 1, gq[(bb*tq+i0)*ldq+h*d:], ldq)
					}
					if gk != nil {
						tensor.Gemm(true, false, kb, d, qb, f.scale, ds, kb, qh[i0*ldqc:], ldqc, 1, gk[(bb*tk+j0)*ldq+h*d:], ldq)
					}
				}
			}
		}
	}
	f.bias.backward(dtab, g[3])
}

// dsRow writes the softmax backward's s = p ⊙ (s − d) for one row (s
// holds dP on entry, d the row's dO·O).
func dsRow(s, p []float32, d float32) {
	s = s[:len(p)]
	for j := dsRowSIMD(s, p, d); j < len(p); j++ {
		s[j] = p[j] * (s[j] - d)
	}
}

// weightsMatrix materialises the weights [B,H,Tq,Tk] from the saved
// log-sum-exp, tile by tile, as a leaf without gradient.
func (f *flash) weightsMatrix() *tensor.Tensor {
	if f.scores == nil { // the fused kernel has no tile buffer
		f.scores = make([]float32, f.tileLen())
	}
	w := tensor.New(f.b, f.h, f.tq, f.tk)
	for bb := 0; bb < f.b; bb++ {
		for h := 0; h < f.h; h++ {
			wh := w.Data[(bb*f.h+h)*f.tq*f.tk:]
			for i0 := 0; i0 < f.tq; i0 += f.blk {
				qb := min(f.blk, f.tq-i0)
				for j0 := 0; j0 < f.tk; j0 += f.blk {
					kb := min(f.blk, f.tk-j0)
					if !f.m.live(bb, i0, i0+qb, j0, j0+kb) {
						continue
					}
					p := f.tile(bb, h, i0, qb, j0, kb)
					f.probs(p, bb, h, i0, qb, j0, kb)
					for r := 0; r < qb; r++ {
						copy(wh[(i0+r)*f.tk+j0:][:kb], p[r*kb:(r+1)*kb])
					}
				}
			}
		}
	}
	return w
}
