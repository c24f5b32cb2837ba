package attention

import (
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// ChunkedParams are the parameters of chunked attention.
type ChunkedParams struct {
	Block   int  `yaml:"block" doc:"queries and keys per block; working memory per step is block×block scores"`
	Weights bool `yaml:"weights" doc:"also return the [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Validate requires a positive block size.
func (p *ChunkedParams) Validate() error {
	if p.Block < 1 {
		return registry.Invalid("block", "must be at least 1, got %d", p.Block)
	}
	return nil
}

// Chunked is exact scaled dot-product attention computed block by block
// with a running maximum and sum (the online softmax of Milakov & Gimelshein
// 2018, as in FlashAttention: Dao et al. 2022, "FlashAttention: Fast and
// Memory-Efficient Exact Attention with IO-Awareness"):
//
//	score(q_i, k_j) = q_i · k_j / √d
//	for each key block J:  m_i ← max(m_i, max_{j∈J} s_ij);  ℓ_i ← ℓ_i·e^(m_old−m_i) + Σ_{j∈J} e^(s_ij−m_i)
//	                       o_i ← o_i·e^(m_old−m_i) + Σ_{j∈J} e^(s_ij−m_i) v_j
//	context_i = o_i / ℓ_i,   lse_i = m_i + log ℓ_i
//
// Its value equals scaled-dot's (up to float32 rounding), for any mask.
// Forward and backward are one fused op: only a block×block tile of scores
// exists at a time, the forward pass keeps just the context and the
// per-query log-sum-exp, and the backward pass recomputes each tile's
// weights as exp(s − lse) (FlashAttention-2's backward). Tiles whose pairs
// are all masked (above the diagonal under a causal mask) are skipped.
//
// Weights are computed only on request (the `weights` parameter or
// RequestWeights), without gradient; otherwise Attend returns nil weights.
// Needs equal query and key sizes; no parameters.
type Chunked struct {
	dims    Dims
	block   int
	weights bool
}

var (
	_ Attention        = (*Chunked)(nil)
	_ WeightsOnRequest = (*Chunked)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "chunked",
		Doc:    "exact scaled-dot attention over key blocks with a running max (flash-attention style), weights only on request",
		Params: &ChunkedParams{Block: 64},
		New: func(p any, d Dims) (Attention, error) {
			return NewChunked(*p.(*ChunkedParams), d)
		},
	})
}

// NewChunked returns chunked attention for site d.
func NewChunked(p ChunkedParams, d Dims) (*Chunked, error) {
	if err := checkDims(d); err != nil {
		return nil, err
	}
	if d.Query != d.Key {
		return nil, errorf("chunked needs equal query and key sizes, got %d and %d", d.Query, d.Key)
	}
	if p.Block < 1 {
		return nil, errorf("block must be at least 1, got %d", p.Block)
	}
	return &Chunked{dims: d, block: p.Block, weights: p.Weights}, nil
}

// RequestWeights turns the computation of weights on or off.
func (c *Chunked) RequestWeights(on bool) { c.weights = on }

// Params returns nil: chunked attention has no parameters.
func (c *Chunked) Params() []*layers.Param { return nil }

// Attend returns the context [B,Tq,Dv] and, on request, the weights
// [B,Tq,Tk] (nil otherwise).
func (c *Chunked) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs("chunked", q, k, v, c.dims)
	m := newMaskView("chunked", mask, b, tq, tk)
	f := &flash{q: q, k: k, v: v, m: m, b: b, tq: tq, tk: tk, d: q.Dim(2), dv: v.Dim(2),
		blk: c.block, scale: float32(1 / math.Sqrt(float64(q.Dim(2))))}
	ctx = f.forward()
	if c.weights {
		weights = f.weightsMatrix()
	}
	return ctx, weights
}

// flash holds one call's inputs and the saved log-sum-exp.
type flash struct {
	q, k, v     *tensor.Tensor
	m           maskView
	b, tq, tk   int
	d, dv, blk  int
	scale       float32
	lse         []float32 // [B,Tq]; +Inf for a query with no kept key
	scores, tmp []float32 // one block×block tile each
}

// live reports whether any pair of the tile (queries i0…i0+qb−1, keys
// j0…j0+kb−1) of batch row bb is kept.
func (f *flash) live(bb, i0, qb, j0, kb int) bool {
	if f.m.data == nil {
		return true
	}
	for i := i0; i < i0+qb; i++ {
		row, sj := f.m.row(bb, i)
		for j := j0; j < j0+kb; j++ {
			if row[j*sj] != 0 {
				return true
			}
		}
	}
	return false
}

// tile computes the scaled scores of a tile into f.scores (qb×kb).
func (f *flash) tile(bb, i0, qb, j0, kb int) []float32 {
	s := f.scores[:qb*kb]
	tensor.Gemm(false, true, qb, kb, f.d, f.scale, f.q.Data[(bb*f.tq+i0)*f.d:], f.d, f.k.Data[(bb*f.tk+j0)*f.d:], f.d, 0, s, kb)
	return s
}

// probs turns a tile of scores into weights exp(s − lse) in place, 0 where
// masked.
func (f *flash) probs(s []float32, bb, i0, qb, j0, kb int) {
	for r := 0; r < qb; r++ {
		row, sj := f.m.row(bb, i0+r)
		l := f.lse[bb*f.tq+i0+r]
		sr := s[r*kb : (r+1)*kb]
		maskTile(sr, row, j0, sj)
		tensor.ExpShiftSum(sr, sr, l)
	}
}

// maskTile sets the masked scores of a tile row to −Inf, whose exponential
// is exactly 0.
func maskTile(sr, row []float32, j0, sj int) {
	if row == nil {
		return
	}
	negInf := float32(math.Inf(-1))
	for j := range sr {
		if row[(j0+j)*sj] == 0 {
			sr[j] = negInf
		}
	}
}

func (f *flash) forward() *tensor.Tensor {
	b, tq, tk, dv, blk := f.b, f.tq, f.tk, f.dv, f.blk
	o := make([]float32, b*tq*dv)
	f.lse = make([]float32, b*tq)
	f.scores = make([]float32, blk*blk)
	f.tmp = make([]float32, blk*blk)
	mx := make([]float32, blk)
	sum := make([]float64, blk)
	negInf := float32(math.Inf(-1))
	for bb := 0; bb < b; bb++ {
		for i0 := 0; i0 < tq; i0 += blk {
			qb := min(blk, tq-i0)
			for r := range qb {
				mx[r], sum[r] = negInf, 0
			}
			ob := o[(bb*tq+i0)*dv:]
			for j0 := 0; j0 < tk; j0 += blk {
				kb := min(blk, tk-j0)
				if !f.live(bb, i0, qb, j0, kb) {
					continue
				}
				s := f.tile(bb, i0, qb, j0, kb)
				for r := 0; r < qb; r++ {
					row, sj := f.m.row(bb, i0+r)
					sr := s[r*kb : (r+1)*kb]
					maskTile(sr, row, j0, sj)
					tileMax := tensor.MaxSlice(sr)
					if tileMax == negInf {
						clear(sr)
						continue
					}
					mnew := max(mx[r], tileMax)
					corr := float32(math.Exp(float64(mx[r] - mnew)))
					ts := tensor.ExpShiftSum(sr, sr, mnew)
					sum[r] = sum[r]*float64(corr) + ts
					if corr != 1 {
						or := ob[r*dv : (r+1)*dv]
						for x := range or {
							or[x] *= corr
						}
					}
					mx[r] = mnew
				}
				tensor.Gemm(false, false, qb, dv, kb, 1, s, kb, f.v.Data[(bb*tk+j0)*dv:], dv, 1, ob, dv)
			}
			for r := 0; r < qb; r++ {
				or := ob[r*dv : (r+1)*dv]
				if sum[r] == 0 {
					clear(or)
					f.lse[bb*tq+i0+r] = float32(math.Inf(1))
					continue
				}
				inv := float32(1 / sum[r])
				for x := range or {
					or[x] *= inv
				}
				f.lse[bb*tq+i0+r] = mx[r] + float32(math.Log(sum[r]))
			}
		}
	}
	return tensor.Custom("ChunkedAttention", o, []int{b, tq, dv}, []*tensor.Tensor{f.q, f.k, f.v}, f.backward)
}

func (f *flash) backward(out *tensor.Tensor, g [][]float32) {
	b, tq, tk, d, dv, blk := f.b, f.tq, f.tk, f.d, f.dv, f.blk
	gq, gk, gv := g[0], g[1], g[2]
	do := out.Grad
	// D_i = dO_i · O_i, the row term of the softmax backward.
	dd := make([]float32, b*tq)
	for r := range dd {
		var s float64
		for x, gx := range do[r*dv : (r+1)*dv] {
			s += float64(gx * out.Data[r*dv+x])
		}
		dd[r] = float32(s)
	}
	for bb := 0; bb < b; bb++ {
		for j0 := 0; j0 < tk; j0 += blk {
			kb := min(blk, tk-j0)
			for i0 := 0; i0 < tq; i0 += blk {
				qb := min(blk, tq-i0)
				if !f.live(bb, i0, qb, j0, kb) {
					continue
				}
				p := f.tile(bb, i0, qb, j0, kb)
				f.probs(p, bb, i0, qb, j0, kb)
				dob := do[(bb*tq+i0)*dv:]
				if gv != nil {
					tensor.Gemm(true, false, kb, dv, qb, 1, p, kb, dob, dv, 1, gv[(bb*tk+j0)*dv:], dv)
				}
				if gq == nil && gk == nil {
					continue
				}
				ds := f.tmp[:qb*kb]
				tensor.Gemm(false, true, qb, kb, dv, 1, dob, dv, f.v.Data[(bb*tk+j0)*dv:], dv, 0, ds, kb)
				for r := 0; r < qb; r++ {
					dr := dd[bb*tq+i0+r]
					pr, sr := p[r*kb:(r+1)*kb], ds[r*kb:(r+1)*kb]
					for j, x := range pr {
						sr[j] = x * (sr[j] - dr)
					}
				}
				if gq != nil {
					tensor.Gemm(false, false, qb, d, kb, f.scale, ds, kb, f.k.Data[(bb*tk+j0)*d:], d, 1, gq[(bb*tq+i0)*d:], d)
				}
				if gk != nil {
					tensor.Gemm(true, false, kb, d, qb, f.scale, ds, kb, f.q.Data[(bb*tq+i0)*d:], d, 1, gk[(bb*tk+j0)*d:], d)
				}
			}
		}
	}
}

// weightsMatrix materialises the weights [B,Tq,Tk] from the saved
// log-sum-exp, tile by tile, as a leaf without gradient.
func (f *flash) weightsMatrix() *tensor.Tensor {
	w := tensor.New(f.b, f.tq, f.tk)
	for bb := 0; bb < f.b; bb++ {
		for i0 := 0; i0 < f.tq; i0 += f.blk {
			qb := min(f.blk, f.tq-i0)
			for j0 := 0; j0 < f.tk; j0 += f.blk {
				kb := min(f.blk, f.tk-j0)
				if !f.live(bb, i0, qb, j0, kb) {
					continue
				}
				p := f.tile(bb, i0, qb, j0, kb)
				f.probs(p, bb, i0, qb, j0, kb)
				for r := 0; r < qb; r++ {
					copy(w.Data[(bb*f.tq+i0+r)*f.tk+j0:][:kb], p[r*kb:(r+1)*kb])
				}
			}
		}
	}
	return w
}
