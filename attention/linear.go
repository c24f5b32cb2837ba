package attention

import (
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// LinearParams are the parameters of linear attention.
type LinearParams struct {
	Weights bool `yaml:"weights" doc:"also return the implied [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Linear is kernelised linear attention (Katharopoulos, Vyas, Pappas &
// Fleuret 2020, "Transformers are RNNs: Fast Autoregressive Transformers
// with Linear Attention"), with the feature map φ(x) = elu(x) + 1:
//
//	context_i = φ(q_i)ᵀ S / φ(q_i)ᵀ z,   S = Σ_j φ(k_j) v_jᵀ [Dk,Dv],  z = Σ_j φ(k_j)
//
// in O(n·Dk·Dv) time and O(Dk·Dv) working memory per sequence and head.
// Causal form (a causal site): S_i and z_i are prefix sums over j ≤ i,
// accumulated step by step in the forward pass and, for the gradients of k
// and v, as suffix sums of φ(q_i) dnum_iᵀ in a reverse pass (as the paper's
// causal kernel); no [Tq,Tk] matrix and no per-step [Dk,Dv] state is
// stored. As a per-head attention every head has its own sums.
//
// Masks: linear attention cannot apply an arbitrary mask. It honours key
// padding (φ(k_j) = 0 at masked keys), fully masked query rows (zero
// context) and the causal rule, in any product: masks of the form
// keep[b,i,j] = row[b,i] · key[b,j] (· [j ≤ i]). Attend reads the mask once
// to recognise that form and panics with a clear message on any other mask
// (a model that builds other masks must use another variant). A query row
// with no kept key gets a zero context.
//
// Weights (φ(q_i)·φ(k_j) / φ(q_i)ᵀz, masked) are computed only on request
// (the `weights` parameter or RequestWeights), without gradient; otherwise
// Attend returns nil weights. Needs equal query and key sizes; no
// parameters.
type Linear struct{ base }

var (
	_ Attention        = (*Linear)(nil)
	_ WeightsOnRequest = (*Linear)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "linear",
		Doc:    "Katharopoulos linear attention with φ = elu+1, O(n) (key-padding and causal masks only), weights only on request",
		Params: &LinearParams{},
		New: func(p any, d Dims) (Attention, error) {
			return NewLinear(*p.(*LinearParams), d)
		},
	})
}

// NewLinear returns linear attention for site d (causal sites included).
func NewLinear(p LinearParams, d Dims) (*Linear, error) {
	b, err := newBase("linear", d)
	if err != nil {
		return nil, err
	}
	if d.Query != d.Key {
		return nil, errorf("linear needs equal query and key sizes, got %d and %d", d.Query, d.Key)
	}
	l := &Linear{b}
	l.self = l
	l.weights = p.Weights
	if err := l.usePositions(true, false); err != nil {
		return nil, err
	}
	return l, nil
}

// Params returns nil: linear attention has no parameters.
func (l *Linear) Params() []*layers.Param { return nil }

// Attend returns the context [B,Tq,H·Dv] and, on request, the implied
// weights ([B,Tq,Tk], or [B,H,Tq,Tk] for H heads; nil otherwise). It panics
// on a mask linear attention cannot honour (see Linear).
func (l *Linear) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return l.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (l *Linear) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	c := l.newCall(q, k, v, mask, off)
	return attendFeatures(c, eluPlusOne(c.queries(q)), eluPlusOne(c.keys(k)), l.weights)
}

// attendFeatures runs linear attention on feature maps fq [B,Tq,H·m] and
// fk [B,Tk,H·m] of a call's queries and keys.
func attendFeatures(c *call, fq, fk *tensor.Tensor, weights bool) (ctx, w *tensor.Tensor) {
	lm, err := classifyLinearMask(&c.m, c.b, c.tq, c.tk)
	if err != nil {
		var shape []int
		if c.m.t != nil {
			shape = c.m.t.Shape()
		}
		panic(fmt.Sprintf("attention linear: %v (mask %v); linear attention honours only key-padding and causal masks", err, shape))
	}
	la := &linearAttn{fq: fq, fk: fk, v: c.v, lm: lm, m: &c.m, b: c.b, tq: c.tq, tk: c.tk, h: c.h,
		f: fq.Dim(2) / c.h, dv: c.dv}
	ctx = la.forward()
	if weights {
		w = c.weightsOut(la.weightsMatrix())
	}
	return ctx, w
}

// eluPlusOne returns φ(x) = elu(x) + 1: x+1 for x > 0, eˣ otherwise.
func eluPlusOne(x *tensor.Tensor) *tensor.Tensor {
	y := tensor.Scratch(x.Len()) // recycled with the result
	tensor.ExpSlice(y, x.Data)
	for i, v := range x.Data {
		if v > 0 {
			y[i] = v + 1
		}
	}
	return tensor.Custom("EluPlusOne", y, x.Shape(), []*tensor.Tensor{x}, func(out *tensor.Tensor, g [][]float32) {
		for i, v := range x.Data {
			d := out.Data[i] // φ'(x) = eˣ = φ(x) for x ≤ 0
			if v > 0 {
				d = 1
			}
			g[0][i] += out.Grad[i] * d
		}
	})
}

// linearMask is a mask in the form linear attention can honour.
type linearMask struct {
	keys   []bool // [B·Tk] kept keys; nil: all
	rows   []bool // [B·Tq] live query rows; nil: all
	causal bool   // the causal rule: query i sees the keys before m.hi(b,i)
}

// classifyLinearMask recognises keep[b,i,j] = row[b,i]·key[b,j]·([j < hi]),
// the causal rule coming from the site or from the mask itself.
func classifyLinearMask(m *maskView, b, tq, tk int) (linearMask, error) {
	lm := linearMask{causal: m.causal}
	if m.data == nil {
		return lm, nil
	}
	lm.keys = make([]bool, b*tk)
	if m.si == 0 { // the same for every query: key padding
		for bb := 0; bb < b; bb++ {
			row, sj := m.row(bb, 0)
			for j := 0; j < tk; j++ {
				lm.keys[bb*tk+j] = row[j*sj] != 0
			}
		}
		return lm, nil
	}
	lm.rows = make([]bool, b*tq)
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			for j := 0; j < tk; j++ {
				if m.keep(bb, i, j) {
					lm.keys[bb*tk+j] = true
					lm.rows[bb*tq+i] = true
				}
			}
		}
	}
	fits := func(causal bool) bool {
		for bb := 0; bb < b; bb++ {
			for i := 0; i < tq; i++ {
				hi := i + 1
				if m.causal {
					hi = m.hi(bb, i)
				}
				for j := 0; j < tk; j++ {
					want := lm.rows[bb*tq+i] && lm.keys[bb*tk+j] && (!causal || j < hi)
					if m.keep(bb, i, j) != want {
						return false
					}
				}
			}
		}
		return true
	}
	if fits(m.causal) {
		return lm, nil
	}
	if !m.causal && tq == tk && fits(true) {
		lm.causal = true
		return lm, nil
	}
	return lm, fmt.Errorf("mask is not a product of key padding, query rows and a causal mask")
}

// linearAttn holds one call's inputs and saved values. Features and values
// hold H heads side by side: fq [B,Tq,H·f], fk [B,Tk,H·f], v [B,Tk,H·dv].
type linearAttn struct {
	fq, fk, v *tensor.Tensor
	lm        linearMask
	m         *maskView
	b, tq, tk int
	h, f, dv  int
	fkm       []float32 // φ(k) with masked keys zeroed (aliases fk.Data without key padding)
	den       []float32 // [B,H,Tq]: φ(q_i)ᵀz_i, 0 for a row with nothing to attend
	s, z      []float32 // non-causal: S [B,H,f,dv] and z [B,H,f]
}

func (a *linearAttn) keyKept(bb, j int) bool  { return a.lm.keys == nil || a.lm.keys[bb*a.tk+j] }
func (a *linearAttn) rowAlive(bb, i int) bool { return a.lm.rows == nil || a.lm.rows[bb*a.tq+i] }

// hi is the end of the keys query i of batch row bb sees (causal: its
// prefix).
func (a *linearAttn) hi(bb, i int) int {
	if !a.lm.causal {
		return a.tk
	}
	if a.m.causal {
		return a.m.hi(bb, i)
	}
	return min(a.tk, i+1)
}

func (a *linearAttn) forward() *tensor.Tensor {
	b, tq, tk, h, f, dv := a.b, a.tq, a.tk, a.h, a.f, a.dv
	ldf, ldv := h*f, h*dv
	a.fkm = a.fk.Data
	if a.lm.keys != nil {
		a.fkm = make([]float32, len(a.fk.Data))
		for bb := 0; bb < b; bb++ {
			for j := 0; j < tk; j++ {
				if a.keyKept(bb, j) {
					copy(a.fkm[(bb*tk+j)*ldf:][:ldf], a.fk.Data[(bb*tk+j)*ldf:])
				}
			}
		}
	}
	out := tensor.Scratch(b * tq * ldv) // recycled with the result
	a.den = make([]float32, b*h*tq)
	if a.lm.causal {
		s := make([]float32, f*dv)
		z := make([]float32, f)
		for bb := 0; bb < b; bb++ {
			for hh := 0; hh < h; hh++ {
				clear(s)
				clear(z)
				j := 0
				for i := 0; i < tq; i++ {
					for ; j < a.hi(bb, i); j++ {
						a.addKey(s, z, bb, hh, j)
					}
					if !a.rowAlive(bb, i) {
						continue
					}
					fqi := a.fq.Data[(bb*tq+i)*ldf+hh*f:][:f]
					oi := out[(bb*tq+i)*ldv+hh*dv:][:dv]
					var den float64
					for x, fv := range fqi {
						den += float64(fv * z[x])
						axpy(oi, fv, s[x*dv:(x+1)*dv])
					}
					a.finishRow(oi, (bb*h+hh)*tq+i, den)
				}
			}
		}
	} else {
		a.s = make([]float32, b*h*f*dv)
		a.z = make([]float32, b*h*f)
		for bb := 0; bb < b; bb++ {
			for hh := 0; hh < h; hh++ {
				s, z := a.s[(bb*h+hh)*f*dv:][:f*dv], a.z[(bb*h+hh)*f:][:f]
				fk := a.fkm[bb*tk*ldf+hh*f:]
				tensor.Gemm(true, false, f, dv, tk, 1, fk, ldf, a.v.Data[bb*tk*ldv+hh*dv:], ldv, 0, s, dv)
				for j := 0; j < tk; j++ {
					axpy(z, 1, fk[j*ldf:j*ldf+f])
				}
				tensor.Gemm(false, false, tq, dv, f, 1, a.fq.Data[bb*tq*ldf+hh*f:], ldf, s, dv, 0, out[bb*tq*ldv+hh*dv:], ldv)
				for i := 0; i < tq; i++ {
					oi := out[(bb*tq+i)*ldv+hh*dv:][:dv]
					if !a.rowAlive(bb, i) {
						clear(oi)
						continue
					}
					var den float64
					for x, fv := range a.fq.Data[(bb*tq+i)*ldf+hh*f:][:f] {
						den += float64(fv * z[x])
					}
					a.finishRow(oi, (bb*h+hh)*tq+i, den)
				}
			}
		}
	}
	return tensor.Custom("LinearAttention", out, []int{b, tq, ldv}, []*tensor.Tensor{a.fq, a.fk, a.v}, a.backward)
}

// addKey adds key j of batch row bb, head hh to the running sums S and z.
func (a *linearAttn) addKey(s, z []float32, bb, hh, j int) {
	if !a.keyKept(bb, j) {
		return
	}
	f, dv := a.f, a.dv
	fkj := a.fk.Data[(bb*a.tk+j)*a.h*f+hh*f:][:f]
	vj := a.v.Data[(bb*a.tk+j)*a.h*dv+hh*dv:][:dv]
	for x, fv := range fkj {
		z[x] += fv
		axpy(s[x*dv:(x+1)*dv], fv, vj)
	}
}

// finishRow divides a row's numerator by its denominator, or zeroes a row
// with nothing to attend; r indexes den.
func (a *linearAttn) finishRow(oi []float32, r int, den float64) {
	if den <= 0 {
		clear(oi)
		return
	}
	a.den[r] = float32(den)
	tensor.ScaleSlice(oi, float32(1/den))
}

// axpy computes y += alpha·x.
func axpy(y []float32, alpha float32, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func (a *linearAttn) backward(out *tensor.Tensor, g [][]float32) {
	b, tq, tk, h, f, dv := a.b, a.tq, a.tk, a.h, a.f, a.dv
	ldf, ldv := h*f, h*dv
	gq, gk, gv := g[0], g[1], g[2]
	// dnum_i = G_i/den_i, dden_i = −G_i·out_i/den_i (0 for dead rows).
	dnum := make([]float32, tq*dv)
	dden := make([]float32, tq)
	dfq := make([]float32, tq*f)
	ds := make([]float32, f*dv)
	dz := make([]float32, f)
	for bb := 0; bb < b; bb++ {
		for hh := 0; hh < h; hh++ {
			for i := 0; i < tq; i++ {
				den := a.den[(bb*h+hh)*tq+i]
				ni := dnum[i*dv : (i+1)*dv]
				if den == 0 {
					clear(ni)
					dden[i] = 0
					continue
				}
				gi := out.Grad[(bb*tq+i)*ldv+hh*dv:][:dv]
				oi := out.Data[(bb*tq+i)*ldv+hh*dv:][:dv]
				var dot float64
				for x, gx := range gi {
					ni[x] = gx / den
					dot += float64(gx * oi[x])
				}
				dden[i] = -float32(dot) / den
			}
			if a.lm.causal {
				a.backwardCausal(bb, hh, dnum, dden, gq, gk, gv)
				continue
			}
			s, z := a.s[(bb*h+hh)*f*dv:][:f*dv], a.z[(bb*h+hh)*f:][:f]
			fq := a.fq.Data[bb*tq*ldf+hh*f:]
			if gq != nil {
				// dφq = dnum Sᵀ + dden zᵀ
				tensor.Gemm(false, true, tq, f, dv, 1, dnum, dv, s, dv, 0, dfq, f)
				for i := 0; i < tq; i++ {
					axpy(dfq[i*f:(i+1)*f], dden[i], z)
				}
				for i := 0; i < tq; i++ {
					axpy(gq[(bb*tq+i)*ldf+hh*f:][:f], 1, dfq[i*f:])
				}
			}
			if gk == nil && gv == nil {
				continue
			}
			// dS = φ(Q)ᵀ dnum, dz = φ(Q)ᵀ dden.
			tensor.Gemm(true, false, f, dv, tq, 1, fq, ldf, dnum, dv, 0, ds, dv)
			clear(dz)
			for i := 0; i < tq; i++ {
				axpy(dz, dden[i], fq[i*ldf:i*ldf+f])
			}
			if gv != nil {
				// dV = φ(K)ᵀ-masked · dS
				tensor.Gemm(false, false, tk, dv, f, 1, a.fkm[bb*tk*ldf+hh*f:], ldf, ds, dv, 1, gv[bb*tk*ldv+hh*dv:], ldv)
			}
			if gk != nil && a.lm.keys == nil {
				// dφk = V dSᵀ + 1 dzᵀ: every key is kept, one product.
				tensor.Gemm(false, true, tk, f, dv, 1, a.v.Data[bb*tk*ldv+hh*dv:], ldv, ds, dv, 1, gk[bb*tk*ldf+hh*f:], ldf)
				for j := 0; j < tk; j++ {
					axpy(gk[(bb*tk+j)*ldf+hh*f:][:f], 1, dz)
				}
			} else if gk != nil {
				// dφk_j = dS v_j + dz at kept keys
				for j := 0; j < tk; j++ {
					if !a.keyKept(bb, j) {
						continue
					}
					gkj := gk[(bb*tk+j)*ldf+hh*f:][:f]
					vj := a.v.Data[(bb*tk+j)*ldv+hh*dv:][:dv]
					for x := 0; x < f; x++ {
						var acc float32
						for y, w := range ds[x*dv : (x+1)*dv] {
							acc += w * vj[y]
						}
						gkj[x] += acc + dz[x]
					}
				}
			}
		}
	}
}

// backwardCausal runs the two passes of the causal backward for batch row
// bb and head hh: forward again for dφq (prefix sums S_i, z_i), then in
// reverse for dφk and dv (suffix sums R = Σ_{i sees j} φq_i dnum_iᵀ,
// r = Σ_{i sees j} φq_i dden_i).
func (a *linearAttn) backwardCausal(bb, hh int, dnum, dden, gq, gk, gv []float32) {
	tq, tk, f, dv := a.tq, a.tk, a.f, a.dv
	ldf, ldv := a.h*f, a.h*dv
	s := make([]float32, f*dv)
	z := make([]float32, f)
	if gq != nil {
		j := 0
		for i := 0; i < tq; i++ {
			for ; j < a.hi(bb, i); j++ {
				a.addKey(s, z, bb, hh, j)
			}
			ni := dnum[i*dv : (i+1)*dv]
			gqi := gq[(bb*tq+i)*ldf+hh*f:][:f]
			for x := 0; x < f; x++ {
				var acc float32
				sx := s[x*dv : (x+1)*dv]
				for y, nv := range ni {
					acc += sx[y] * nv
				}
				gqi[x] += acc + dden[i]*z[x]
			}
		}
	}
	if gk == nil && gv == nil {
		return
	}
	r, rr := z, s
	clear(r)
	clear(rr)
	i := tq - 1
	for j := tk - 1; j >= 0; j-- {
		for ; i >= 0 && a.hi(bb, i) > j; i-- {
			fqi := a.fq.Data[(bb*tq+i)*ldf+hh*f:][:f]
			ni := dnum[i*dv : (i+1)*dv]
			for x, fv := range fqi {
				axpy(rr[x*dv:(x+1)*dv], fv, ni)
				r[x] += fv * dden[i]
			}
		}
		if !a.keyKept(bb, j) {
			continue
		}
		vj := a.v.Data[(bb*tk+j)*ldv+hh*dv:][:dv]
		if gk != nil {
			gkj := gk[(bb*tk+j)*ldf+hh*f:][:f]
			for x := 0; x < f; x++ {
				var acc float32
				for y, w := range rr[x*dv : (x+1)*dv] {
					acc += w * vj[y]
				}
				gkj[x] += acc + r[x]
			}
		}
		if gv != nil {
			gvj := gv[(bb*tk+j)*ldv+hh*dv:][:dv]
			for x, fv := range a.fk.Data[(bb*tk+j)*ldf+hh*f:][:f] {
				axpy(gvj, fv, rr[x*dv:(x+1)*dv])
			}
		}
	}
}

// weightsMatrix returns the implied weights φ(q_i)·φ(k_j)/den_i over the
// kept pairs [B,H,Tq,Tk], as a leaf without gradient.
func (a *linearAttn) weightsMatrix() *tensor.Tensor {
	ldf := a.h * a.f
	w := tensor.New(a.b, a.h, a.tq, a.tk)
	for bb := 0; bb < a.b; bb++ {
		for hh := 0; hh < a.h; hh++ {
			wb := w.Data[(bb*a.h+hh)*a.tq*a.tk:]
			tensor.Gemm(false, true, a.tq, a.tk, a.f, 1, a.fq.Data[bb*a.tq*ldf+hh*a.f:], ldf, a.fk.Data[bb*a.tk*ldf+hh*a.f:], ldf, 0, wb, a.tk)
			for i := 0; i < a.tq; i++ {
				den := a.den[(bb*a.h+hh)*a.tq+i]
				row := wb[i*a.tk : (i+1)*a.tk]
				hi := a.hi(bb, i)
				for j := range row {
					if den == 0 || j >= hi || !a.keyKept(bb, j) {
						row[j] = 0
					} else {
						row[j] /= den
					}
				}
			}
		}
	}
	return w
}
