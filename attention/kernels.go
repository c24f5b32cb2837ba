package attention

import (
	"math"

	"github.com/attnlab/attnlab/tensor"
)

// Fused kernels shared by the variants. Each is one tensor.Custom op with
// its forward and backward side by side; heads are read in place from the
// interleaved layout [B,T,H·d] (head h owns columns h·d … h·d+d−1) through
// GEMM row strides, so no variant copies per-head slices.

// dotSoftmax returns the attention weights P [B,H,Tq,Tk] with
// P[b,h,i,:] = softmax_j(scale · q_h[b,i]·k_h[b,j]) over the keys the mask
// keeps, for q [B,Tq,H·d] and k [B,Tk,H·d]. A fully masked row is all zeros.
// Scores and softmax are fused: the scores are never stored.
func dotSoftmax(q, k *tensor.Tensor, heads int, scale float32, m maskView) *tensor.Tensor {
	b, tq, tk, ld := q.Dim(0), q.Dim(1), k.Dim(1), q.Dim(2)
	d := ld / heads
	p := make([]float32, b*heads*tq*tk)
	for bb := 0; bb < b; bb++ {
		for h := 0; h < heads; h++ {
			ph := p[(bb*heads+h)*tq*tk:][:tq*tk]
			tensor.Gemm(false, true, tq, tk, d, scale, q.Data[bb*tq*ld+h*d:], ld, k.Data[bb*tk*ld+h*d:], ld, 0, ph, tk)
			for i := 0; i < tq; i++ {
				mrow, ms := m.row(bb, i)
				softmaxInPlace(ph[i*tk:(i+1)*tk], mrow, ms)
			}
		}
	}
	return tensor.Custom("DotSoftmax", p, []int{b, heads, tq, tk}, []*tensor.Tensor{q, k}, func(out *tensor.Tensor, g [][]float32) {
		ds := make([]float32, tq*tk)
		for bb := 0; bb < b; bb++ {
			for h := 0; h < heads; h++ {
				off := (bb*heads + h) * tq * tk
				softmaxBackward(ds, out.Grad[off:off+tq*tk], out.Data[off:off+tq*tk], tk)
				if g[0] != nil {
					tensor.Gemm(false, false, tq, d, tk, scale, ds, tk, k.Data[bb*tk*ld+h*d:], ld, 1, g[0][bb*tq*ld+h*d:], ld)
				}
				if g[1] != nil {
					tensor.Gemm(true, false, tk, d, tq, scale, ds, tk, q.Data[bb*tq*ld+h*d:], ld, 1, g[1][bb*tk*ld+h*d:], ld)
				}
			}
		}
	})
}

// softmaxInPlace replaces x by its softmax over the positions whose mask
// value (mrow[j*ms]; nil mrow keeps all) is non-zero; masked positions and
// fully masked rows become 0.
func softmaxInPlace(x, mrow []float32, ms int) {
	if mrow != nil {
		// Masked positions become −Inf, whose exponential is exactly 0.
		for j := range x {
			if mrow[j*ms] == 0 {
				x[j] = float32(math.Inf(-1))
			}
		}
	}
	mx := tensor.MaxSlice(x) // NaNs ignored
	if math.IsInf(float64(mx), -1) {
		// Every key masked (or every score −Inf): a zero row, never NaN.
		clear(x)
		return
	}
	s := tensor.ExpShiftSum(x, x, mx)
	tensor.ScaleSlice(x, float32(1/s))
}

// softmaxBackward writes dS = P ⊙ (dP − Σ_j dP⊙P) row by row (rows of n).
func softmaxBackward(ds, gp, p []float32, n int) {
	for r := 0; r+n <= len(p); r += n {
		pr, gr, dr := p[r:r+n], gp[r:r+n], ds[r:r+n]
		var dot float64
		for j, v := range pr {
			dot += float64(v * gr[j])
		}
		dd := float32(dot)
		for j, v := range pr {
			dr[j] = v * (gr[j] - dd)
		}
	}
}

// weightedSum returns the context C [B,Tq,H·dv] with
// C_h[b,i] = Σ_j P[b,h,i,j] v_h[b,j], for weights P [B,H,Tq,Tk] and values
// v [B,Tk,H·dv].
func weightedSum(p, v *tensor.Tensor) *tensor.Tensor {
	b, heads, tq, tk, ld := p.Dim(0), p.Dim(1), p.Dim(2), p.Dim(3), v.Dim(2)
	dv := ld / heads
	c := make([]float32, b*tq*ld)
	for bb := 0; bb < b; bb++ {
		for h := 0; h < heads; h++ {
			tensor.Gemm(false, false, tq, dv, tk, 1, p.Data[(bb*heads+h)*tq*tk:], tk, v.Data[bb*tk*ld+h*dv:], ld, 0, c[bb*tq*ld+h*dv:], ld)
		}
	}
	return tensor.Custom("WeightedSum", c, []int{b, tq, ld}, []*tensor.Tensor{p, v}, func(out *tensor.Tensor, g [][]float32) {
		for bb := 0; bb < b; bb++ {
			for h := 0; h < heads; h++ {
				gc := out.Grad[bb*tq*ld+h*dv:]
				if g[0] != nil {
					tensor.Gemm(false, true, tq, tk, dv, 1, gc, ld, v.Data[bb*tk*ld+h*dv:], ld, 1, g[0][(bb*heads+h)*tq*tk:], tk)
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

// additiveScores returns S [B,H,Tq,Tk] with
// S[b,h,i,j] = Σ_a v[h,a] · tanh(qa_h[b,i,a] + ka_h[b,j,a]) for qa
// [B,Tq,H·A], ka [B,Tk,H·A] (any bias already added to ka) and v [H,A] (or
// [A] for one head). Masked pairs are skipped (score 0, no gradient), and
// the backward pass recomputes the tanh instead of storing [B,H,Tq,Tk,A].
func additiveScores(qa, ka, v *tensor.Tensor, heads int, m maskView) *tensor.Tensor {
	b, tq, tk, ld := qa.Dim(0), qa.Dim(1), ka.Dim(1), qa.Dim(2)
	a := ld / heads
	s := make([]float32, b*heads*tq*tk)
	for bb := 0; bb < b; bb++ {
		for h := 0; h < heads; h++ {
			vh := v.Data[h*a : (h+1)*a]
			for i := 0; i < tq; i++ {
				qi := qa.Data[(bb*tq+i)*ld+h*a:][:a]
				row := s[((bb*heads+h)*tq+i)*tk:][:tk]
				for j := range row {
					if !m.keep(bb, i, j) {
						continue
					}
					row[j] = additivePair(qi, ka.Data[(bb*tk+j)*ld+h*a:], vh)
				}
			}
		}
	}
	return tensor.Custom("AdditiveScores", s, []int{b, heads, tq, tk}, []*tensor.Tensor{qa, ka, v}, func(out *tensor.Tensor, g [][]float32) {
		gq, gk, gv := g[0], g[1], g[2]
		dq := make([]float32, a)
		dvh := make([]float32, a)
		for bb := 0; bb < b; bb++ {
			for h := 0; h < heads; h++ {
				vh := v.Data[h*a : (h+1)*a]
				clear(dvh)
				for i := 0; i < tq; i++ {
					qi := qa.Data[(bb*tq+i)*ld+h*a:][:a]
					grow := out.Grad[((bb*heads+h)*tq+i)*tk:][:tk]
					clear(dq)
					for j, gs := range grow {
						if gs == 0 || !m.keep(bb, i, j) {
							continue
						}
						var gkj []float32
						if gk != nil {
							gkj = gk[(bb*tk+j)*ld+h*a:]
						}
						additivePairBackward(qi, ka.Data[(bb*tk+j)*ld+h*a:], vh, gs, dq, gkj, dvh)
					}
					if gq != nil {
						gqi := gq[(bb*tq+i)*ld+h*a:][:a]
						for x, d := range dq {
							gqi[x] += d
						}
					}
				}
				if gv != nil {
					for x, d := range dvh {
						gv[h*a+x] += d
					}
				}
			}
		}
	})
}

// additivePair returns Σ_x v[x]·tanh(q[x] + k[x]) over len(q) terms.
func additivePair(q, k, v []float32) float32 { return tensor.AddTanhDot(q, k, v) }

// additivePairBackward adds the gradients of g·Σ_x v[x]·tanh(q[x] + k[x]):
// to dq and dk (dk may be nil) g·v[x]·(1 − t²), to dv g·t.
func additivePairBackward(q, k, v []float32, g float32, dq, dk, dv []float32) {
	tensor.AddTanhDotGrad(q, k, v, g, dq, dk, dv)
}
