package attention

import (
	"math"

	"github.com/attnlab/attnlab/tensor"
)

// Fused kernels shared by the variants. Each is one tensor.Custom op with
// its forward and backward side by side; heads are read in place from the
// interleaved layout [B,T,H·d] (head h owns columns h·d … h·d+d−1) through
// GEMM row strides, so no variant copies per-head slices.

// headWeights writes to ph [Tq,Tk] the attention weights of head h of batch
// row bb: the scaled dot scores of its queries and keys, plus the bias, masked
// and softmaxed row by row (see dotSoftmax).
//
// l says where batch row bb's queries and keys are among the rows of q and
// k and how many it has (paddedLayout: rows bb·Tq… and bb·Tk…, all of
// them); only its queries' rows of ph are written, and keys past its count
// are not scored (zero weight, like masked keys).
func headWeights(ph []float32, q, k *tensor.Tensor, bb, h, heads int, scale float32, m *maskView, bias *biasCall, blocks []rowBlock, l *rowLayout) {
	tk, ld := l.tk, q.Dim(-1)
	d := ld / heads
	qh, kh := q.Data[l.qoff[bb]*ld+h*d:], k.Data[l.koff[bb]*ld+h*d:]
	// Each block of queries is scored against the keys it may see, up to
	// its last query's hi (one block of all keys without a causal rule or
	// band); the loop below zeroes the rest of each row.
	for _, rb := range blocks {
		tensor.Gemm(false, true, rb.i1-rb.i0, rb.kh, d, scale, qh[rb.i0*ld:], ld, kh, ld, 0, ph[rb.i0*tk:], tk)
	}
	for i := 0; i < l.qn[bb]; i++ {
		// Only the keys the causal rule and the band leave are scored and
		// normalised; the others are set to 0 (as the softmax of −Inf).
		row := ph[i*tk : (i+1)*tk]
		lo, hi := m.lo(bb, i), min(m.hi(bb, i), l.kn[bb])
		if hi <= lo {
			clear(row)
			continue
		}
		x := row[lo:hi]
		if bias != nil {
			axpy(x, 1, bias.row(m, bb, h, i, lo))
		}
		m.maskRow(x, bb, i, lo)
		softmaxRow(x)
		clear(row[:lo])
		clear(row[hi:])
	}
}

// rowBlock is a block of queries [i0, i1) of a causal or banded attention
// and kh, the end of the keys any of them may see.
type rowBlock struct{ i0, i1, kh int }

// causalRows is the height of the blocks of rowBlocks: a multiple of the
// GEMM kernels' tile height (12 rows), small enough that the keys a block
// may not see are a good share of the product at short lengths (at 64
// queries, blocks of 24 compute 67 % of the scores), large enough that
// each product keeps whole tiles.
var causalRows = 24

// rowBlocks appends to dst the blocks of causalRows queries of batch row
// b of a causal or banded site, each with the keys it needs — hi (mask.go)
// does not decrease along the queries (pos(b, i) grows with i), so a
// block's last query has the largest — and returns the blocks it appended.
// It appends nothing and returns nil where blocks save nothing: no such
// rule, fewer than two blocks, or every block sees every key.
func (m *maskView) rowBlocks(dst []rowBlock, b, tq int) (grown, blocks []rowBlock) {
	if !m.causal && !m.band || tq < 2*causalRows {
		return dst, nil
	}
	start, short := len(dst), false
	for i0 := 0; i0 < tq; i0 += causalRows {
		i1 := min(tq, i0+causalRows)
		kh := m.hi(b, i1-1)
		short = short || kh < m.tk
		dst = append(dst, rowBlock{i0, i1, kh})
	}
	if !short {
		return dst[:start], nil
	}
	return dst, dst[start:]
}

// allRowBlocks returns the query blocks of every batch row: its rowBlocks,
// or one block of all queries and all keys where it has none, so that the
// products go block by block either way.
func (m *maskView) allRowBlocks(b, tq int) [][]rowBlock {
	all := make([][]rowBlock, b)
	whole := []rowBlock{{0, tq, m.tk}}
	var buf []rowBlock
	if (m.causal || m.band) && tq >= 2*causalRows {
		buf = make([]rowBlock, 0, b*((tq+causalRows-1)/causalRows))
	}
	for bb := range all {
		buf, all[bb] = m.rowBlocks(buf, bb, tq)
		if all[bb] == nil {
			all[bb] = whole
		}
	}
	return all
}

// keyBlockProducts computes C = alpha·Aᵀ·B + beta·C (C [tk, n], A [tq, tk]
// with rows lda apart, B [tq, n]), the sum over queries of dv and dk, by
// blocks of keys cut as the query blocks are: keys j0…j1 take only the
// queries of the blocks from the first that sees key j0 (kh > j0); the
// rows of A before them are zero there (masked weights), so the sums are
// those of the whole product. Keys no query sees get alpha·0 (with beta
// 0, C is written, not read). One block is the whole product.
func keyBlockProducts(blocks []rowBlock, tk, n int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	tq := blocks[len(blocks)-1].i1
	if len(blocks) == 1 {
		tensor.Gemm(true, false, tk, n, tq, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	s := 0
	for j0 := 0; j0 < tk; j0 += causalRows {
		j1 := min(tk, j0+causalRows)
		for s < len(blocks) && blocks[s].kh <= j0 {
			s++
		}
		if s == len(blocks) {
			for j := j0; j < j1 && beta == 0; j++ {
				clear(c[j*ldc : j*ldc+n])
			}
			continue
		}
		r0 := blocks[s].i0
		tensor.Gemm(true, false, j1-j0, n, tq-r0, alpha, a[r0*lda+j0:], lda, b[r0*ldb:], ldb, beta, c[j0*ldc:], ldc)
	}
}

// dotSoftmax returns the attention weights P [B,H,Tq,Tk] with
// P[b,h,i,:] = softmax_j(scale · q_h[b,i]·k_h[b,j] + bias_h(j − p_i)) over
// the keys the mask (and the site's rules) keeps, for q [B,Tq,H·d] and
// k [B,Tk,H·d]; bias may be nil. A fully masked row is all zeros. Scores
// and softmax are fused: the scores are never stored.
func dotSoftmax(q, k *tensor.Tensor, heads int, scale float32, m *maskView, bias *biasCall) *tensor.Tensor {
	b, tq, tk, ld := q.Dim(0), q.Dim(1), k.Dim(1), q.Dim(2)
	d := ld / heads
	p := tensor.Scratch(b * heads * tq * tk) // recycled with the result
	all := m.allRowBlocks(b, tq)
	l := paddedLayout(b, tq, tk)
	for bb := 0; bb < b; bb++ {
		blocks := all[bb]
		for h := 0; h < heads; h++ {
			ph := p[(bb*heads+h)*tq*tk:][:tq*tk]
			headWeights(ph, q, k, bb, h, heads, scale, m, bias, blocks, l)
		}
	}
	return tensor.Custom("DotSoftmax", p, []int{b, heads, tq, tk}, []*tensor.Tensor{q, k, bias.input()}, func(out *tensor.Tensor, g [][]float32) {
		ds := tensor.Scratch(tq * tk)
		defer tensor.Recycle(ds)
		dtab := bias.grads(g[2])
		for bb := 0; bb < b; bb++ {
			for h := 0; h < heads; h++ {
				off := (bb*heads + h) * tq * tk
				softmaxBackwardLive(ds, out.Grad[off:off+tq*tk], out.Data[off:off+tq*tk], tk, tk, m, bb)
				if dtab != nil {
					for i := 0; i < tq; i++ {
						r := h*bias.n - m.pos(bb, i) - bias.lo
						axpy(dtab[r:r+tk], 1, ds[i*tk:(i+1)*tk])
					}
				}
				if g[0] != nil {
					kh, ldk := m.cleanRows(k.Data[bb*tk*ld+h*d:], ld, d, tk, bb, tq)
					tensor.Gemm(false, false, tq, d, tk, scale, ds, tk, kh, ldk, 1, g[0][bb*tq*ld+h*d:], ld)
				}
				if g[1] != nil {
					qh, ldq := m.cleanQueries(q.Data[bb*tq*ld+h*d:], ld, d, tq, bb)
					tensor.Gemm(true, false, tk, d, tq, scale, ds, tk, qh, ldq, 1, g[1][bb*tk*ld+h*d:], ld)
				}
			}
		}
		bias.backward(dtab, g[2])
	})
}

// forPairs calls fn(scratch, bb, h) for every batch row bb < b and head
// h < heads, spread over threads (tensor.ParallelFor), with a scratch
// buffer of n floats per goroutine (not cleared: fn writes before it
// reads). With shared (the pairs of a head add
// into one bias table) each head's batch rows run in order on one thread,
// so that the sums come out as with one thread.
func forPairs(b, heads int, shared bool, n int, fn func(scratch []float32, bb, h int)) {
	items, inner := b*heads, 1
	if shared {
		items, inner = heads, b
	}
	tensor.ParallelFor(items, 1, func(lo, hi int) {
		scratch := tensor.ScratchDirty(n)
		defer tensor.Recycle(scratch)
		for i := lo; i < hi; i++ {
			for j := 0; j < inner; j++ {
				if shared {
					fn(scratch, j, i)
				} else {
					fn(scratch, i/heads, i%heads)
				}
			}
		}
	})
}

// softmaxRow replaces x by its softmax; −Inf entries (masked) become 0,
// and a row of −Inf only (fully masked) becomes all zeros. A NaN makes
// the whole row NaN, also in a row with no finite entry (a NaN query
// scores NaN against every key): it is not read as a masked row.
func softmaxRow(x []float32) {
	if softmaxFwdSIMD(x) { // the same arithmetic in one kernel call
		return
	}
	mx := tensor.MaxSlice(x) // NaNs ignored
	if math.IsInf(float64(mx), -1) {
		noFiniteRow(x)
		return
	}
	s := tensor.ExpShiftSum(x, x, mx)
	tensor.ScaleSlice(x, float32(1/s))
}

// noFiniteRow is the softmax of a row with no finite entry: zeros when
// every entry is −Inf (masked), NaN everywhere when any is NaN. Only rows
// that take this branch pay for the NaN check.
func noFiniteRow(x []float32) {
	for _, v := range x {
		if v != v {
			fillNaN(x)
			return
		}
	}
	clear(x)
}

// fillNaN sets every element of x to NaN.
func fillNaN(x []float32) {
	nan := float32(math.NaN())
	for j := range x {
		x[j] = nan
	}
}

// softmaxBackward writes dS = P ⊙ (dP − Σ_j dP⊙P) row by row (rows of n).
func softmaxBackward(ds, gp, p []float32, n int) {
	for r := 0; r+n <= len(p); r += n {
		softmaxBwdRow(ds[r:r+n], gp[r:r+n], p[r:r+n])
	}
}

// softmaxBwdRow writes ds = p ⊙ (g − Σ_j g⊙p) for one row (ds may be g):
// with AVX-512 the dot product is summed in float32 lanes, otherwise in
// float64.
func softmaxBwdRow(ds, g, p []float32) {
	if softmaxBwdSIMD(ds, g, p) {
		return
	}
	g, ds = g[:len(p)], ds[:len(p)]
	var dot float64
	for j, v := range p {
		dot += float64(v * g[j])
	}
	dd := float32(dot)
	for j, v := range p {
		ds[j] = v * (g[j] - dd)
	}
}

// softmaxBackwardLive is softmaxBackward over the rows of one head of
// batch row bb (rows of tk keys) that reads and writes only the keys each
// query may see under the causal rule and the band and before kn, the
// batch row's keys (mv.lo … min(mv.hi, kn)−1, where headWeights left the
// weights); the others get dS = 0, as P = 0 there.
func softmaxBackwardLive(ds, gp, p []float32, tk, kn int, mv *maskView, bb int) {
	for i, r := 0, 0; r+tk <= len(p); i, r = i+1, r+tk {
		lo, hi := mv.lo(bb, i), min(mv.hi(bb, i), kn)
		dr := ds[r : r+tk]
		if hi <= lo {
			clear(dr)
			continue
		}
		softmaxBwdRow(dr[lo:hi], gp[r+lo:r+hi], p[r+lo:r+hi])
		clear(dr[:lo])
		clear(dr[hi:])
	}
}

// weightedSum returns the context C [B,Tq,H·dv] with
// C_h[b,i] = Σ_j P[b,h,i,j] v_h[b,j], for weights P [B,H,Tq,Tk] and values
// v [B,Tk,H·dv], that are 0 where the mask m drops a pair: the values
// dropped for every query are not read (maskView.cleanRows), so a NaN
// there does not reach the context or dP.
func weightedSum(p, v *tensor.Tensor, m *maskView) *tensor.Tensor {
	b, heads, tq, tk, ld := p.Dim(0), p.Dim(1), p.Dim(2), p.Dim(3), v.Dim(2)
	dv := ld / heads
	c := tensor.ScratchDirty(b * tq * ld) // recycled with the result; the products write all of it (beta 0)
	for bb := 0; bb < b; bb++ {
		for h := 0; h < heads; h++ {
			vh, ldv := m.cleanRows(v.Data[bb*tk*ld+h*dv:], ld, dv, tk, bb, tq)
			tensor.Gemm(false, false, tq, dv, tk, 1, p.Data[(bb*heads+h)*tq*tk:], tk, vh, ldv, 0, c[bb*tq*ld+h*dv:], ld)
		}
	}
	return tensor.Custom("WeightedSum", c, []int{b, tq, ld}, []*tensor.Tensor{p, v}, func(out *tensor.Tensor, g [][]float32) {
		for bb := 0; bb < b; bb++ {
			for h := 0; h < heads; h++ {
				gc := out.Grad[bb*tq*ld+h*dv:]
				if g[0] != nil {
					vh, ldv := m.cleanRows(v.Data[bb*tk*ld+h*dv:], ld, dv, tk, bb, tq)
					tensor.Gemm(false, true, tq, tk, dv, 1, gc, ld, vh, ldv, 1, g[0][(bb*heads+h)*tq*tk:], tk)
				}
				if g[1] != nil {
					tensor.Gemm(true, false, tk, dv, tq, 1, p.Data[(bb*heads+h)*tq*tk:], tk, gc, ld, 1, g[1][bb*tk*ld+h*dv:], ld)
				}
			}
		}
	})
}

// headLinear maps each head of x [B,T,H·din] by its own matrix:
// y_h = x_h · W[h], W [H,din,dout], giving [B,T,H·dout]. A 2-D W is one head.
func headLinear(x, w *tensor.Tensor) *tensor.Tensor {
	if w.Dims() == 2 {
		return tensor.MatMul(x, w)
	}
	heads, din, dout := w.Dim(0), w.Dim(1), w.Dim(2)
	rows := x.Len() / (heads * din)
	ldx, ldy := heads*din, heads*dout
	y := make([]float32, rows*ldy)
	for h := 0; h < heads; h++ {
		tensor.Gemm(false, false, rows, dout, din, 1, x.Data[h*din:], ldx, w.Data[h*din*dout:], dout, 0, y[h*dout:], ldy)
	}
	shape := append(append([]int(nil), x.Shape()[:x.Dims()-1]...), ldy)
	return tensor.Custom("HeadLinear", y, shape, []*tensor.Tensor{x, w}, func(out *tensor.Tensor, g [][]float32) {
		for h := 0; h < heads; h++ {
			if g[0] != nil {
				tensor.Gemm(false, true, rows, din, dout, 1, out.Grad[h*dout:], ldy, w.Data[h*din*dout:], dout, 1, g[0][h*din:], ldx)
			}
			if g[1] != nil {
				tensor.Gemm(true, false, din, dout, rows, 1, x.Data[h*din:], ldx, out.Grad[h*dout:], ldy, 1, g[1][h*din*dout:], dout)
			}
		}
	})
}

// dotAttention returns the context C [B,Tq,H·dv] of softmax attention with
// a dot-product score, C_h[b,i] = Σ_j P[b,h,i,j] v_h[b,j] with
// P[b,h,i,:] = softmax_j(scale · q_h[b,i]·k_h[b,j] + bias_h(j − p_i)) over
// the kept keys, as one op: the weights P live in the op's own buffer (from
// the tensor free lists, recycled with the result), not as a tensor of the
// graph, so no gradient buffer of P's size is allocated and cleared, and
// the backward pass goes from dC to dq, dk, dv (and the bias table) in one
// sweep per head: dP = dC vᵀ, dv = Pᵀ dC, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
// dq = scale·dS k, dk = scale·dSᵀ q. Dense uses it when the weights are not
// requested.
func dotAttention(q, k, v *tensor.Tensor, heads int, scale float32, m *maskView, bias *biasCall) *tensor.Tensor {
	return dotAttentionRows(q, k, v, heads, scale, m, bias, paddedLayout(q.Dim(0), q.Dim(1), k.Dim(1)))
}

// dotAttentionRows is dotAttention with the queries, keys and values of
// each batch row where l says (rows of q, k, v of any rank, features last):
// the real rows of a padded batch (MultiHead.AttendAddRows), or the padded
// batch itself (paddedLayout). The context has q's rows, and its shape.
func dotAttentionRows(q, k, v *tensor.Tensor, heads int, scale float32, m *maskView, bias *biasCall, l *rowLayout) *tensor.Tensor {
	b, tq, tk, ld, ldv := l.b, l.tq, l.tk, q.Dim(-1), v.Dim(-1)
	d, dv := ld/heads, ldv/heads
	nq := len(q.Data) / ld
	p := tensor.ScratchDirty(b * heads * tq * tk) // the rows of queries written
	c := tensor.ScratchDirty(nq * ldv)
	blocks := l.capBlocks(m.allRowBlocks(b, tq))
	// The (batch row, head) pairs are independent: they go to several
	// threads (tensor.ParallelFor), each computed as it would be alone.
	tensor.ParallelFor(b*heads, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			bb, h := i/heads, i%heads
			if l.qn[bb] == 0 {
				continue
			}
			ph := p[i*tq*tk:][:tq*tk]
			headWeights(ph, q, k, bb, h, heads, scale, m, bias, blocks[bb], l)
			vh, ldvh := m.cleanRows(v.Data[l.koff[bb]*ldv+h*dv:], ldv, dv, l.kn[bb], bb, l.qn[bb])
			ch := c[l.qoff[bb]*ldv+h*dv:]
			for _, rb := range blocks[bb] {
				tensor.Gemm(false, false, rb.i1-rb.i0, dv, rb.kh, 1, ph[rb.i0*tk:], tk, vh, ldvh, 0, ch[rb.i0*ldv:], ldv)
			}
		}
	})
	// The pairs write every element of dq, dk and dv (the heads cover the
	// columns, the batch rows the rows): fresh gradient buffers are
	// assigned (beta 0), not cleared first (tensor.CustomDst).
	shape := append([]int(nil), q.Shape()...)
	shape[len(shape)-1] = ldv
	out := tensor.CustomDst("DotAttention", c, shape, []*tensor.Tensor{q, k, v, bias.input()}, func(out *tensor.Tensor, g [][]float32, beta []float32) {
		gq, gk, gv := g[0], g[1], g[2]
		bq, bk, bv := beta[0], beta[1], beta[2]
		if g[3] != nil && beta[3] == 0 {
			clear(g[3]) // the bias table's gradient is added to, below
		}
		dtab := bias.grads(g[3])
		pair := func(dp []float32, bb, h int) {
			qn, kn := l.qn[bb], l.kn[bb]
			qo, ko := l.qoff[bb], l.koff[bb]
			if qn == 0 {
				// Keys no query reads (a padded batch of no queries): their
				// fresh gradients are 0.
				for j := ko; j < ko+kn; j++ {
					if gv != nil && bv == 0 {
						clear(gv[j*ldv+h*dv : j*ldv+h*dv+dv])
					}
					if gk != nil && bk == 0 {
						clear(gk[j*ld+h*d : j*ld+h*d+d])
					}
				}
				return
			}
			ph := p[(bb*heads+h)*tq*tk:][:qn*tk]
			gc := out.Grad[qo*ldv+h*dv:]
			qh, kh, vh := q.Data[qo*ld+h*d:], k.Data[ko*ld+h*d:], v.Data[ko*ldv+h*dv:]
			blocks := blocks[bb]
			if gv != nil {
				keyBlockProducts(blocks, kn, dv, 1, ph, tk, gc, ldv, bv, gv[ko*ldv+h*dv:], ldv)
			}
			if gq == nil && gk == nil && dtab == nil {
				return
			}
			// dP only where the weights are live: softmaxBackwardLive reads
			// each row up to its hi and writes all of it.
			vc, ldvc := m.cleanRows(vh, ldv, dv, kn, bb, qn)
			for _, rb := range blocks {
				tensor.Gemm(false, true, rb.i1-rb.i0, rb.kh, dv, 1, gc[rb.i0*ldv:], ldv, vc, ldvc, 0, dp[rb.i0*tk:], tk)
			}
			softmaxBackwardLive(dp, dp, ph, tk, kn, m, bb)
			if dtab != nil {
				for i := 0; i < qn; i++ {
					r := h*bias.n - m.pos(bb, i) - bias.lo
					axpy(dtab[r:r+tk], 1, dp[i*tk:(i+1)*tk])
				}
			}
			if gq != nil {
				kc, ldk := m.cleanRows(kh, ld, d, kn, bb, qn)
				for _, rb := range blocks {
					tensor.Gemm(false, false, rb.i1-rb.i0, d, rb.kh, scale, dp[rb.i0*tk:], tk, kc, ldk, bq, gq[(qo+rb.i0)*ld+h*d:], ld)
				}
			}
			if gk != nil {
				qc, ldq := m.cleanQueries(qh, ld, d, qn, bb)
				keyBlockProducts(blocks, kn, d, scale, dp, tk, qc, ldq, bk, gk[ko*ld+h*d:], ld)
			}
		}
		forPairs(b, heads, dtab != nil, tq*tk, pair)
		bias.backward(dtab, g[3])
	})
	if out.RequiresGrad() {
		out.Keep(p)
	} else {
		tensor.Recycle(p)
	}
	return out
}
