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
// in O(n·Dk·Dv) time and O(Dk·Dv) working memory per sequence. Causal form:
// S_i and z_i are prefix sums over j ≤ i, accumulated step by step in the
// forward pass and, for the gradients of k and v, as suffix sums of
// φ(q_i) dnum_iᵀ in a reverse pass (as the paper's causal kernel); no
// [Tq,Tk] matrix and no per-step [Dk,Dv] state is stored.
//
// Masks: linear attention cannot apply an arbitrary mask. It honours key
// padding (φ(k_j) = 0 at masked keys), fully masked query rows (zero
// context) and, when Tq = Tk, the causal mask j ≤ i, in any product: masks
// of the form keep[b,i,j] = row[b,i] · key[b,j] (· [j ≤ i]). Attend reads the
// mask once to recognise that form and panics with a clear message on any
// other mask (a model that builds other masks must use another variant).
// A query row with no kept key gets a zero context.
//
// Weights (φ(q_i)·φ(k_j) / φ(q_i)ᵀz, masked) are computed only on request
// (the `weights` parameter or RequestWeights), without gradient; otherwise
// Attend returns nil weights. Needs equal query and key sizes; no
// parameters.
type Linear struct {
	dims    Dims
	weights bool
}

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
	if err := checkDims(d); err != nil {
		return nil, err
	}
	if d.Query != d.Key {
		return nil, errorf("linear needs equal query and key sizes, got %d and %d", d.Query, d.Key)
	}
	return &Linear{dims: d, weights: p.Weights}, nil
}

// RequestWeights turns the computation of weights on or off.
func (l *Linear) RequestWeights(on bool) { l.weights = on }

// Params returns nil: linear attention has no parameters.
func (l *Linear) Params() []*layers.Param { return nil }

// linearMask is a mask in the form linear attention can honour.
type linearMask struct {
	keys   []bool // [B·Tk] kept keys; nil: all
	rows   []bool // [B·Tq] live query rows; nil: all
	causal bool
}

// classifyLinearMask recognises keep[b,i,j] = row[b,i]·key[b,j]·([j≤i]).
func classifyLinearMask(m maskView, b, tq, tk int) (linearMask, error) {
	var lm linearMask
	if m.data == nil {
		return lm, nil
	}
	lm.keys = make([]bool, b*tk)
	if m.si == 0 { // the same for every query: key padding
		for bb := 0; bb < b; bb++ {
			for j := 0; j < tk; j++ {
				lm.keys[bb*tk+j] = m.keep(bb, 0, j)
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
				for j := 0; j < tk; j++ {
					want := lm.rows[bb*tq+i] && lm.keys[bb*tk+j] && (!causal || j <= i)
					if m.keep(bb, i, j) != want {
						return false
					}
				}
			}
		}
		return true
	}
	if fits(false) {
		return lm, nil
	}
	if tq == tk && fits(true) {
		lm.causal = true
		return lm, nil
	}
	return lm, fmt.Errorf("mask is not a product of key padding, query rows and a causal mask")
}

// Attend returns the context [B,Tq,Dv] and, on request, the implied
// weights [B,Tq,Tk] (nil otherwise). It panics on a mask linear attention
// cannot honour (see Linear).
func (l *Linear) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	b, tq, tk := checkInputs("linear", q, k, v, l.dims)
	m := newMaskView("linear", mask, b, tq, tk)
	lm, err := classifyLinearMask(m, b, tq, tk)
	if err != nil {
		panic(fmt.Sprintf("attention linear: %v (mask %v); linear attention honours only key-padding and causal masks", err, mask.Shape()))
	}
	la := &linearAttn{q: q, k: k, v: v, lm: lm, b: b, tq: tq, tk: tk, d: q.Dim(2), dv: v.Dim(2)}
	ctx = la.forward()
	if l.weights {
		weights = la.weightsMatrix()
	}
	return ctx, weights
}

// linearAttn holds one call's inputs and saved values.
type linearAttn struct {
	q, k, v   *tensor.Tensor
	lm        linearMask
	b, tq, tk int
	d, dv     int
	fq, fk    []float32 // φ(q), φ(k) (0 at masked keys)
	den       []float32 // [B,Tq]: φ(q_i)ᵀz_i, 0 for a row with nothing to attend
	s, z      []float32 // non-causal: S [B,d,dv] and z [B,d]
}

// phiSlice sets dst[i] = φ(x[i]) = elu(x[i]) + 1: x+1 for x > 0, eˣ
// otherwise.
func phiSlice(dst, x []float32) {
	tensor.ExpSlice(dst, x)
	for i, v := range x[:len(dst)] {
		if v > 0 {
			dst[i] = v + 1
		}
	}
}

// dphi is φ'(x) given x and φ(x).
func dphi(x, fx float32) float32 {
	if x > 0 {
		return 1
	}
	return fx
}

func (a *linearAttn) keyKept(bb, j int) bool  { return a.lm.keys == nil || a.lm.keys[bb*a.tk+j] }
func (a *linearAttn) rowAlive(bb, i int) bool { return a.lm.rows == nil || a.lm.rows[bb*a.tq+i] }

func (a *linearAttn) forward() *tensor.Tensor {
	b, tq, tk, d, dv := a.b, a.tq, a.tk, a.d, a.dv
	a.fq = make([]float32, len(a.q.Data))
	phiSlice(a.fq, a.q.Data)
	a.fk = make([]float32, len(a.k.Data))
	for bb := 0; bb < b; bb++ {
		for j := 0; j < tk; j++ {
			if !a.keyKept(bb, j) {
				continue
			}
			off := (bb*tk + j) * d
			phiSlice(a.fk[off:off+d], a.k.Data[off:off+d])
		}
	}
	out := make([]float32, b*tq*dv)
	a.den = make([]float32, b*tq)
	if a.lm.causal {
		s := make([]float32, d*dv)
		z := make([]float32, d)
		for bb := 0; bb < b; bb++ {
			clear(s)
			clear(z)
			for i := 0; i < tq; i++ {
				a.addKey(s, z, bb, i)
				if !a.rowAlive(bb, i) {
					continue
				}
				fqi := a.fq[(bb*tq+i)*d:][:d]
				oi := out[(bb*tq+i)*dv:][:dv]
				var den float64
				for x, f := range fqi {
					den += float64(f * z[x])
					axpy(oi, f, s[x*dv:(x+1)*dv])
				}
				a.finishRow(oi, bb, i, den)
			}
		}
	} else {
		a.s = make([]float32, b*d*dv)
		a.z = make([]float32, b*d)
		for bb := 0; bb < b; bb++ {
			s, z := a.s[bb*d*dv:][:d*dv], a.z[bb*d:][:d]
			fk := a.fk[bb*tk*d:][:tk*d]
			tensor.Gemm(true, false, d, dv, tk, 1, fk, d, a.v.Data[bb*tk*dv:], dv, 0, s, dv)
			for j := 0; j < tk; j++ {
				axpy(z, 1, fk[j*d:(j+1)*d])
			}
			tensor.Gemm(false, false, tq, dv, d, 1, a.fq[bb*tq*d:], d, s, dv, 0, out[bb*tq*dv:], dv)
			for i := 0; i < tq; i++ {
				oi := out[(bb*tq+i)*dv:][:dv]
				if !a.rowAlive(bb, i) {
					clear(oi)
					continue
				}
				var den float64
				for x, f := range a.fq[(bb*tq+i)*d:][:d] {
					den += float64(f * z[x])
				}
				a.finishRow(oi, bb, i, den)
			}
		}
	}
	return tensor.Custom("LinearAttention", out, []int{b, tq, dv}, []*tensor.Tensor{a.q, a.k, a.v}, a.backward)
}

// addKey adds key j of batch row bb to the running sums S and z.
func (a *linearAttn) addKey(s, z []float32, bb, j int) {
	if !a.keyKept(bb, j) {
		return
	}
	d, dv := a.d, a.dv
	fkj := a.fk[(bb*a.tk+j)*d:][:d]
	vj := a.v.Data[(bb*a.tk+j)*dv:][:dv]
	for x, f := range fkj {
		z[x] += f
		axpy(s[x*dv:(x+1)*dv], f, vj)
	}
}

// finishRow divides a row's numerator by its denominator, or zeroes a row
// with nothing to attend.
func (a *linearAttn) finishRow(oi []float32, bb, i int, den float64) {
	if den <= 0 {
		clear(oi)
		return
	}
	a.den[bb*a.tq+i] = float32(den)
	inv := float32(1 / den)
	for x := range oi {
		oi[x] *= inv
	}
}

// axpy computes y += alpha·x.
func axpy(y []float32, alpha float32, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func (a *linearAttn) backward(out *tensor.Tensor, g [][]float32) {
	b, tq, tk, d, dv := a.b, a.tq, a.tk, a.d, a.dv
	gq, gk, gv := g[0], g[1], g[2]
	// dnum_i = G_i/den_i, dden_i = −G_i·out_i/den_i (0 for dead rows).
	dnum := make([]float32, tq*dv)
	dden := make([]float32, tq)
	dfq := make([]float32, d)
	dfk := make([]float32, d)
	for bb := 0; bb < b; bb++ {
		for i := 0; i < tq; i++ {
			den := a.den[bb*tq+i]
			gi := out.Grad[(bb*tq+i)*dv:][:dv]
			ni := dnum[i*dv : (i+1)*dv]
			if den == 0 {
				clear(ni)
				dden[i] = 0
				continue
			}
			oi := out.Data[(bb*tq+i)*dv:][:dv]
			var dot float64
			for x, gx := range gi {
				ni[x] = gx / den
				dot += float64(gx * oi[x])
			}
			dden[i] = -float32(dot) / den
		}
		if a.lm.causal {
			a.backwardCausal(bb, dnum, dden, dfq, dfk, gq, gk, gv)
			continue
		}
		s, z := a.s[bb*d*dv:][:d*dv], a.z[bb*d:][:d]
		fq := a.fq[bb*tq*d:][:tq*d]
		if gq != nil {
			for i := 0; i < tq; i++ {
				// dφq_i = S dnum_i + dden_i z
				for x := 0; x < d; x++ {
					var acc float32
					sx := s[x*dv : (x+1)*dv]
					for y, nv := range dnum[i*dv : (i+1)*dv] {
						acc += sx[y] * nv
					}
					dfq[x] = acc + dden[i]*z[x]
				}
				a.addPhiGrad(gq, a.q.Data, a.fq, (bb*tq+i)*d, dfq)
			}
		}
		if gk == nil && gv == nil {
			continue
		}
		// dS = φ(Q)ᵀ dnum, dz = φ(Q)ᵀ dden.
		ds := make([]float32, d*dv)
		tensor.Gemm(true, false, d, dv, tq, 1, fq, d, dnum, dv, 0, ds, dv)
		dz := make([]float32, d)
		for i := 0; i < tq; i++ {
			axpy(dz, dden[i], fq[i*d:(i+1)*d])
		}
		for j := 0; j < tk; j++ {
			if !a.keyKept(bb, j) {
				continue
			}
			off := (bb*tk + j) * d
			if gk != nil {
				// dφk_j = dS v_j + dz
				vj := a.v.Data[(bb*tk+j)*dv:][:dv]
				for x := 0; x < d; x++ {
					var acc float32
					for y, w := range ds[x*dv : (x+1)*dv] {
						acc += w * vj[y]
					}
					dfk[x] = acc + dz[x]
				}
				a.addPhiGrad(gk, a.k.Data, a.fk, off, dfk)
			}
			if gv != nil {
				// dv_j = dSᵀ φ(k_j)
				gvj := gv[(bb*tk+j)*dv:][:dv]
				for x, f := range a.fk[off : off+d] {
					axpy(gvj, f, ds[x*dv:(x+1)*dv])
				}
			}
		}
	}
}

// backwardCausal runs the two passes of the causal backward for batch row
// bb: forward again for dφq (prefix sums S_i, z_i), then in reverse for dφk
// and dv (suffix sums R = Σ_{i≥j} φq_i dnum_iᵀ, r = Σ_{i≥j} φq_i dden_i).
func (a *linearAttn) backwardCausal(bb int, dnum, dden, dfq, dfk, gq, gk, gv []float32) {
	tq, d, dv := a.tq, a.d, a.dv
	s := make([]float32, d*dv)
	z := make([]float32, d)
	if gq != nil {
		for i := 0; i < tq; i++ {
			a.addKey(s, z, bb, i)
			ni := dnum[i*dv : (i+1)*dv]
			for x := 0; x < d; x++ {
				var acc float32
				sx := s[x*dv : (x+1)*dv]
				for y, nv := range ni {
					acc += sx[y] * nv
				}
				dfq[x] = acc + dden[i]*z[x]
			}
			a.addPhiGrad(gq, a.q.Data, a.fq, (bb*tq+i)*d, dfq)
		}
	}
	if gk == nil && gv == nil {
		return
	}
	r := z
	rr := s
	clear(r)
	clear(rr)
	for j := tq - 1; j >= 0; j-- {
		fqj := a.fq[(bb*tq+j)*d:][:d]
		nj := dnum[j*dv : (j+1)*dv]
		for x, f := range fqj {
			axpy(rr[x*dv:(x+1)*dv], f, nj)
			r[x] += f * dden[j]
		}
		if !a.keyKept(bb, j) {
			continue
		}
		off := (bb*a.tk + j) * d
		vj := a.v.Data[(bb*a.tk+j)*dv:][:dv]
		if gk != nil {
			for x := 0; x < d; x++ {
				var acc float32
				for y, w := range rr[x*dv : (x+1)*dv] {
					acc += w * vj[y]
				}
				dfk[x] = acc + r[x]
			}
			a.addPhiGrad(gk, a.k.Data, a.fk, off, dfk)
		}
		if gv != nil {
			gvj := gv[(bb*a.tk+j)*dv:][:dv]
			for x, f := range a.fk[off : off+d] {
				axpy(gvj, f, rr[x*dv:(x+1)*dv])
			}
		}
	}
}

// addPhiGrad adds dφ ⊙ φ'(x) to the gradient of the d inputs at off.
func (a *linearAttn) addPhiGrad(g, x, fx []float32, off int, dfx []float32) {
	for i, dv := range dfx {
		g[off+i] += dv * dphi(x[off+i], fx[off+i])
	}
}

// weightsMatrix returns the implied weights φ(q_i)·φ(k_j)/den_i over the
// kept pairs, as a leaf without gradient.
func (a *linearAttn) weightsMatrix() *tensor.Tensor {
	w := tensor.New(a.b, a.tq, a.tk)
	for bb := 0; bb < a.b; bb++ {
		wb := w.Data[bb*a.tq*a.tk:]
		tensor.Gemm(false, true, a.tq, a.tk, a.d, 1, a.fq[bb*a.tq*a.d:], a.d, a.fk[bb*a.tk*a.d:], a.d, 0, wb, a.tk)
		for i := 0; i < a.tq; i++ {
			den := a.den[bb*a.tq+i]
			row := wb[i*a.tk : (i+1)*a.tk]
			for j := range row {
				if den == 0 || (a.lm.causal && j > i) || !a.keyKept(bb, j) {
					row[j] = 0
				} else {
					row[j] /= den
				}
			}
		}
	}
	return w
}
