package attention

import (
	"fmt"
	"math"

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
	qf, kf := c.queries(q), c.keys(k)
	ops := linearOperands{
		q: strided{qf.Data, qf.Dim(2), 0}, k: strided{kf.Data, kf.Dim(2), 0}, v: strided{v.Data, v.Dim(2), 0},
		inputs: []*tensor.Tensor{qf, kf, v}, qi: 0, ki: 1, vi: 2,
	}
	return linearAttend(c, ops, c.dq, true, l.weights)
}

// attendPacked is Attend for self-attention with the queries, keys and
// values read in place from qkv [B,T,q+k+v] (see AttendPacked): no copies
// of them and, in the backward pass, their gradients added straight into
// qkv's. Rotary positions rotate the queries and keys into tensors of their
// own, so a site with a position scheme (and sizes that do not fit, for
// Attend's message) gets them split.
func (l *Linear) attendPacked(qkv *tensor.Tensor, q, k, v int, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	d, h := l.dims, l.heads
	if d.Positions != nil || qkv.Dims() != 3 || q != h*d.Query || k != h*d.Key || v != h*d.Value || qkv.Dim(2) != q+k+v {
		return attendSplit(l, qkv, q, k, v, mask)
	}
	b, t := qkv.Dim(0), qkv.Dim(1)
	c := &call{b: b, tq: t, tk: t, h: h, dq: d.Query, dk: d.Key, dv: d.Value, m: newMaskView(l.name, mask, b, t, t)}
	c.m.causal = d.Causal
	ld := qkv.Dim(2)
	ops := linearOperands{
		q: strided{qkv.Data, ld, 0}, k: strided{qkv.Data, ld, q}, v: strided{qkv.Data, ld, q + k},
		inputs: []*tensor.Tensor{qkv},
	}
	return linearAttend(c, ops, d.Query, true, l.weights)
}

// strided is a matrix read in place: row r (batch row bb, position i:
// r = bb·T + i) starts at data[r·ld + off].
type strided struct {
	data    []float32
	ld, off int
}

func (s strided) row(r, n int) []float32 { return s.data[r*s.ld+s.off:][:n] }

// prefetch asks for rows r … r+rows−1, n values each (tensor.PrefetchRows).
func (s strided) prefetch(r, rows, n int) {
	if rows > 0 && s.ld > n && s.data != nil {
		tensor.PrefetchRows(s.data[r*s.ld+s.off:], s.ld, rows, n)
	}
}

// linearAhead is how many rows ahead the row loops over strided operands
// ask for (strided.prefetch), in blocks of that many. At n = 4096 (W5) the
// rows of q, k and their gradients are 128 bytes out of every 1,536; asking
// for them ahead took the feature maps' and the gradient rows' loops from
// 4.9 to 3.0 ms of a forward+backward (CPU profiles, 4 alternating runs of
// 100).
const linearAhead = 8

// at returns the matrix from row r on (a GEMM operand with leading
// dimension s.ld), shifted right by col columns.
func (s strided) at(r, col int) []float32 { return s.data[r*s.ld+s.off+col:] }

// linearOperands are the inputs of one linear-attention op: queries and
// keys (raw, or already features), values, read in place, and the tensors
// they come from (inputs[qi], inputs[ki] and inputs[vi]; one packed tensor
// is all three).
type linearOperands struct {
	q, k, v    strided
	inputs     []*tensor.Tensor
	qi, ki, vi int
}

// attendFeatures runs linear attention on feature maps fq [B,Tq,H·m] and
// fk [B,Tk,H·m] of a call's queries and keys (performer's FAVOR+).
func attendFeatures(c *call, fq, fk *tensor.Tensor, weights bool) (ctx, w *tensor.Tensor) {
	ops := linearOperands{
		q: strided{fq.Data, fq.Dim(2), 0}, k: strided{fk.Data, fk.Dim(2), 0}, v: strided{c.v.Data, c.v.Dim(2), 0},
		inputs: []*tensor.Tensor{fq, fk, c.v}, qi: 0, ki: 1, vi: 2,
	}
	return linearAttend(c, ops, fq.Dim(2)/c.h, false, weights)
}

// linearAttend runs linear attention on a call's operands: with elu, the
// queries and keys are raw and φ = elu + 1 is applied inside the op (its
// derivative too, in the same passes); otherwise they are features of f
// values per head.
func linearAttend(c *call, ops linearOperands, f int, elu, weights bool) (ctx, w *tensor.Tensor) {
	lm, err := classifyLinearMask(&c.m, c.b, c.tq, c.tk)
	if err != nil {
		var shape []int
		if c.m.t != nil {
			shape = c.m.t.Shape()
		}
		panic(fmt.Sprintf("attention linear: %v (mask %v); linear attention honours only key-padding and causal masks", err, shape))
	}
	la := &linearAttn{linearOperands: ops, elu: elu, lm: lm, m: &c.m, b: c.b, tq: c.tq, tk: c.tk, h: c.h, f: f, dv: c.dv}
	ctx = la.forward()
	if weights {
		w = c.weightsOut(la.weightsMatrix())
	}
	if !ctx.RequiresGrad() {
		for _, buf := range la.saved {
			tensor.Recycle(buf)
		}
	}
	return ctx, w
}

// eluRow writes φ(x) = elu(x) + 1 (x + 1 for x > 0, eˣ otherwise) to y
// and, if d is not nil, φ'(x) (1 for x > 0, eˣ = φ(x) otherwise) to d.
// The choice is made on the sign bit with integer masks, not a branch
// (random signs defeat branch prediction): at x = ±0 both sides give 1.
func eluRow(y, d, x []float32) {
	tensor.ExpSlice(y, x)
	k := eluSelect(y, d, x)
	y = y[:len(x)]
	if d == nil {
		for i := k; i < len(x); i++ {
			v := x[i]
			neg := uint32(int32(math.Float32bits(v)) >> 31)
			y[i] = math.Float32frombits(math.Float32bits(y[i])&neg | math.Float32bits(v+1)&^neg)
		}
		return
	}
	d = d[:len(x)]
	for i := k; i < len(x); i++ {
		v := x[i]
		neg := uint32(int32(math.Float32bits(v)) >> 31)
		e := math.Float32bits(y[i]) & neg
		y[i] = math.Float32frombits(e | math.Float32bits(v+1)&^neg)
		d[i] = math.Float32frombits(e | one&^neg)
	}
}

// eluRowSum writes φ(x) to y (see eluRow) and adds it to z.
func eluRowSum(y, z, x []float32) {
	tensor.ExpSlice(y, x)
	y, z = y[:len(x)], z[:len(x)]
	for i := eluSelectSum(y, z, x); i < len(x); i++ {
		v := x[i]
		neg := uint32(int32(math.Float32bits(v)) >> 31)
		y[i] = math.Float32frombits(math.Float32bits(y[i])&neg | math.Float32bits(v+1)&^neg)
		z[i] += y[i]
	}
}

// one is the bits of float32 1.
const one = 0x3f800000

// eluGradRow adds g ⊙ φ'(x) to dst, given fx = φ(x); g += add first (add
// may be nil). φ'(x) is 1 for x > 0 and eˣ = φ(x) otherwise, which is
// min(φ(x), 1) exactly (x + 1 > 1 for x > 0 and eˣ ≤ 1 otherwise, and
// where x + 1 rounds to 1 both give 1), so x itself is not read again.
func eluGradRow(dst, g, add, fx []float32) {
	dst, g = dst[:len(fx)], g[:len(fx)]
	if add != nil {
		add = add[:len(fx)]
		for i := eluGradSIMD(dst, g, add, fx); i < len(fx); i++ {
			dst[i] += (g[i] + add[i]) * min(fx[i], 1)
		}
		return
	}
	for i, f := range fx {
		dst[i] += g[i] * min(f, 1)
	}
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

// linearAttn holds one call's operands and saved values. Features hold H
// heads side by side in rows of H·f, the context rows of H·dv.
//
// Non-causal, the forward pass saves the normalised query features
// φ̂(q_i) = φ(q_i)/den_i (den_i = φ(q_i)ᵀz), so that the context is one
// product per head, C = φ̂(Q) S, and the backward pass needs neither a
// scaled copy of dC nor a division per element:
//
//	dS = φ̂(Q)ᵀ dC,  dz = −Σ_i c_i φ̂(q_i),  dφ(q_i) = (dC_i Sᵀ − c_i z)/den_i,  c_i = dC_i·C_i
//	dV = φ(K) dS,   dφ(k_j) = dS v_j + dz
//
// (per head; dead rows have φ̂ = 0 and den 0, and get no gradient).
// Causal, it saves φ(q) itself (the prefix sums change with i).
type linearAttn struct {
	linearOperands
	elu       bool // q and k are raw, φ = elu + 1 applied here; else they are features
	lm        linearMask
	m         *maskView
	b, tq, tk int
	h, f, dv  int
	fq        []float32 // [B·Tq, H·f]: φ̂(q) (non-causal) or φ(q) (causal)
	dq        []float32 // [B·Tq, H·f]: φ'(q) (elu only)
	fk        []float32 // [B·Tk, H·f]: φ(k), 0 at masked keys
	den       []float32 // [B,H,Tq]: φ(q_i)ᵀz_i, 0 for a row with nothing to attend
	s, z      []float32 // non-causal: S [B,H,f,dv] and z [B,H·f]
	saved     [][]float32
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

// scratch returns a zeroed buffer saved with the result.
func (a *linearAttn) scratch(n int) []float32 {
	s := tensor.Scratch(n)
	a.saved = append(a.saved, s)
	return s
}

// dirty is scratch without the clearing, for a buffer written in full
// before it is read.
func (a *linearAttn) dirty(n int) []float32 {
	s := tensor.ScratchDirty(n)
	a.saved = append(a.saved, s)
	return s
}

// features writes the feature row of input row x to dst (and φ' to d
// with elu; d may be nil).
func (a *linearAttn) features(dst, d, x []float32) {
	if a.elu {
		eluRow(dst, d, x)
	} else {
		copy(dst, x)
	}
}

func (a *linearAttn) forward() *tensor.Tensor {
	b, tq, tk, h, f, dv := a.b, a.tq, a.tk, a.h, a.f, a.dv
	ldf, ldo := h*f, h*dv
	a.fk = a.dirty(b * tk * ldf)
	a.fq = a.dirty(b * tq * ldf)
	if a.elu {
		a.dq = a.dirty(b * tq * ldf)
	}
	a.den = a.scratch(b * h * tq)
	if !a.lm.causal {
		a.z = a.scratch(b * ldf) // z = Σ_j φ(k_j), summed as the features are made
	}
	if a.lm.causal {
		a.keyFeatures(0, b*tk)
		a.queryFeatures(0, b*tq)
	}
	var out []float32 // recycled with the result
	if a.lm.causal {
		out = tensor.Scratch(b * tq * ldo) // rows are summed into, dead rows stay 0
	} else {
		out = tensor.ScratchDirty(b * tq * ldo) // written in full by the products
	}
	if a.lm.causal {
		a.forwardCausal(out)
	} else {
		a.forwardAll(out)
	}
	res := tensor.CustomDst("LinearAttention", out, []int{b, tq, ldo}, a.inputs, a.backward)
	if res.RequiresGrad() {
		res.Keep(a.saved...)
	}
	return res
}

// keyFeatures writes φ(k) for the key rows [r0, r1) of the whole batch
// (and, non-causal, adds them to z).
func (a *linearAttn) keyFeatures(r0, r1 int) {
	ldf := a.h * a.f
	for r := r0; r < r1; r++ {
		if (r-r0)%linearAhead == 0 {
			a.k.prefetch(r+linearAhead, min(linearAhead, r1-r-linearAhead), ldf)
		}
		fk, k := a.fk[r*ldf:][:ldf], a.k.row(r, ldf)
		if !a.keyKept(r/a.tk, r%a.tk) {
			clear(fk)
			continue
		}
		switch {
		case a.z == nil:
			a.features(fk, nil, k)
		case a.elu:
			eluRowSum(fk, a.z[r/a.tk*ldf:][:ldf], k)
		default:
			copy(fk, k)
			tensor.AccSlice(a.z[r/a.tk*ldf:][:ldf], fk)
		}
	}
}

// queryFeatures writes φ(q) (and φ'(q)) for the query rows [r0, r1) of
// the whole batch.
func (a *linearAttn) queryFeatures(r0, r1 int) {
	ldf := a.h * a.f
	for r := r0; r < r1; r++ {
		if (r-r0)%linearAhead == 0 {
			a.q.prefetch(r+linearAhead, min(linearAhead, r1-r-linearAhead), ldf)
		}
		var d []float32
		if a.dq != nil {
			d = a.dq[r*ldf:][:ldf]
		}
		a.features(a.fq[r*ldf:][:ldf], d, a.q.row(r, ldf))
	}
}

// linearBlock is the number of rows the non-causal passes take at a time:
// every head's products and the row loops use a block of rows while it is
// in L2, instead of each head streaming every operand again (the heads'
// columns of a row share its cache lines). A multiple of the GEMM's depth
// blocks (gemmKC), so that S summed block by block is the one product's
// sums.
const linearBlock = 256

// forwardAll is the non-causal forward pass: φ(k), z and S per head, then
// φ̂(q) and the context C = φ̂(Q) S, each over blocks of rows.
func (a *linearAttn) forwardAll(out []float32) {
	b, tq, tk, h, f, dv := a.b, a.tq, a.tk, a.h, a.f, a.dv
	ldf, ldo := h*f, h*dv
	a.s = a.dirty(b * h * f * dv)
	for bb := 0; bb < b; bb++ {
		z := a.z[bb*ldf:][:ldf]
		v := a.keptValues(bb)
		for j0 := 0; j0 < tk; j0 += linearBlock {
			n := min(linearBlock, tk-j0)
			a.keyFeatures(bb*tk+j0, bb*tk+j0+n)
			beta := float32(1)
			if j0 == 0 {
				beta = 0
			}
			for hh := 0; hh < h; hh++ {
				tensor.Gemm(true, false, f, dv, n, 1, a.fk[(bb*tk+j0)*ldf+hh*f:], ldf, v.at(bb*tk+j0, hh*dv), v.ld, beta, a.s[(bb*h+hh)*f*dv:], dv)
			}
		}
		anyKey := a.anyKey(bb)
		for i0 := 0; i0 < tq; i0 += linearBlock {
			n := min(linearBlock, tq-i0)
			a.queryFeatures(bb*tq+i0, bb*tq+i0+n)
			a.normalise(bb, i0, n, z, anyKey)
			for hh := 0; hh < h; hh++ {
				tensor.Gemm(false, false, n, dv, f, 1, a.fq[(bb*tq+i0)*ldf+hh*f:], ldf, a.s[(bb*h+hh)*f*dv:], dv, 0, out[(bb*tq+i0)*ldo+hh*dv:], ldo)
			}
		}
	}
}

// anyKey reports whether batch row bb keeps any key.
func (a *linearAttn) anyKey(bb int) bool {
	if a.lm.keys == nil {
		return a.tk > 0
	}
	for _, k := range a.lm.keys[bb*a.tk:][:a.tk] {
		if k {
			return true
		}
	}
	return false
}

// keptValues returns the values for S = φ(K)ᵀV of batch row bb: a.v, or,
// when the value of a masked key holds a NaN or an infinity, a copy of
// the batch row's values with the masked keys' rows zeroed (its rows
// keep their indices r = bb·Tk + j): φ(k) is 0 there, but 0·NaN is NaN.
// Only the masked keys' rows are scanned.
func (a *linearAttn) keptValues(bb int) strided {
	if a.lm.keys == nil {
		return a.v
	}
	tk, ldv := a.tk, a.h*a.dv
	keys := a.lm.keys[bb*tk:][:tk]
	for j, kept := range keys {
		if kept || finiteRow(a.v.row(bb*tk+j, ldv)) {
			continue
		}
		c := make([]float32, tk*ldv)
		for r, kept := range keys {
			if kept {
				copy(c[r*ldv:(r+1)*ldv], a.v.row(bb*tk+r, ldv))
			}
		}
		return strided{c, ldv, -bb * tk * ldv}
	}
	return a.v
}

// normalise divides the query features of rows [i0, i0+n) of batch row bb
// by their denominators φ(q_i)ᵀz per head, saved in den (a row with
// nothing to attend — a dead query row, or a batch row that keeps no key
// (anyKey false) — gets φ̂ = 0 and den 0, also when its query is NaN).
func (a *linearAttn) normalise(bb, i0, n int, z []float32, anyKey bool) {
	tq, h, f := a.tq, a.h, a.f
	ldf := h * f
	for i := i0; i < i0+n; i++ {
		fqi := a.fq[(bb*tq+i)*ldf:][:ldf]
		alive := anyKey && a.rowAlive(bb, i)
		for hh := 0; hh < h; hh++ {
			x, zh := fqi[hh*f:][:f], z[hh*f:][:f]
			var den float32
			if alive {
				den = dotPositive(x, zh)
			}
			if den <= 0 {
				clear(x)
				continue
			}
			a.den[(bb*h+hh)*tq+i] = den
			tensor.ScaleSlice(x, 1/den)
		}
	}
}

// forwardCausal is the causal forward pass: running sums S_i and z_i per
// head, key by key.
func (a *linearAttn) forwardCausal(out []float32) {
	b, tq, h, f, dv := a.b, a.tq, a.h, a.f, a.dv
	ldf, ldo := h*f, h*dv
	s := make([]float32, f*dv)
	z := make([]float32, f)
	for bb := 0; bb < b; bb++ {
		for hh := 0; hh < h; hh++ {
			clear(s)
			clear(z)
			j, seen := 0, false // seen: a key is kept before j
			for i := 0; i < tq; i++ {
				for ; j < a.hi(bb, i); j++ {
					a.addKey(s, z, bb, hh, j)
					seen = seen || a.keyKept(bb, j)
				}
				if !seen || !a.rowAlive(bb, i) {
					continue // nothing to attend: context 0, den 0, also for a NaN query
				}
				fqi := a.fq[(bb*tq+i)*ldf+hh*f:][:f]
				oi := out[(bb*tq+i)*ldo+hh*dv:][:dv]
				var den float64
				for x, fv := range fqi {
					den += float64(fv * z[x])
					axpy(oi, fv, s[x*dv:(x+1)*dv])
				}
				a.finishRow(oi, (bb*h+hh)*tq+i, den)
			}
		}
	}
}

// addKey adds key j of batch row bb, head hh to the running sums S and z.
func (a *linearAttn) addKey(s, z []float32, bb, hh, j int) {
	if !a.keyKept(bb, j) {
		return
	}
	f, dv := a.f, a.dv
	r := bb*a.tk + j
	fkj := a.fk[r*a.h*f+hh*f:][:f]
	vj := a.v.row(r, a.h*dv)[hh*dv:][:dv]
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

// dotPositive returns x·y for vectors of non-negative terms (features and
// their sums), in four float32 partial sums: with no cancellation its
// relative error stays within a few float32 roundings, and the four chains
// do not wait on one another's additions as one float64 sum did.
func dotPositive(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy computes y += alpha·x.
func axpy(y []float32, alpha float32, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// grads returns the gradient destinations of q, k and v (data nil: not
// wanted), laid out as the operands.
func (a *linearAttn) grads(g [][]float32) (gq, gk, gv strided) {
	return strided{g[a.qi], a.q.ld, a.q.off}, strided{g[a.ki], a.k.ld, a.k.off}, strided{g[a.vi], a.v.ld, a.v.off}
}

// backward writes the gradients of q, k and v. An input's buffer with
// beta 0 is fresh (tensor.CustomDst): the non-causal pass writes its rows
// as it reaches them; the causal pass, which adds along the way, has them
// cleared first.
func (a *linearAttn) backward(out *tensor.Tensor, g [][]float32, betas []float32) {
	if !a.lm.causal {
		a.backwardAll(out, g, betas)
		return
	}
	for i, gi := range g {
		if gi != nil && betas[i] == 0 {
			clear(gi)
		}
	}
	a.backwardCausal(out, g)
}

// backwardAll is the non-causal backward pass (see linearAttn), over
// blocks of rows (linearBlock): the queries first (dφ(q) and, summed
// block by block, dS and dz), then the keys (dV and dφ(k)).
func (a *linearAttn) backwardAll(out *tensor.Tensor, g [][]float32, betas []float32) {
	b, tq, tk, h, f, dv := a.b, a.tq, a.tk, a.h, a.f, a.dv
	ldf, ldo := h*f, h*dv
	gq, gk, gv := a.grads(g)
	// Fresh rows of q's and k's gradients are cleared as the passes reach
	// them (in cache), then added to; v's are written by products.
	freshQ, freshK, betaV := betas[a.qi] == 0, betas[a.ki] == 0, betas[a.vi]
	wantK := gk.data != nil || gv.data != nil
	df := tensor.ScratchDirty(min(max(tq, tk), linearBlock) * ldf) // a block's dφ(Q) Sᵀ part, then its dφ(K): written by the products
	ds := tensor.ScratchDirty(h * f * dv)
	dz := tensor.Scratch(ldf)
	defer func() {
		tensor.Recycle(df)
		tensor.Recycle(ds)
		tensor.Recycle(dz)
	}()
	for bb := 0; bb < b; bb++ {
		clear(dz)
		z := a.z[bb*ldf:][:ldf]
		for i0 := 0; i0 < tq; i0 += linearBlock {
			n := min(linearBlock, tq-i0)
			gc := out.Grad[(bb*tq+i0)*ldo:]
			beta := float32(1)
			if i0 == 0 {
				beta = 0
			}
			for hh := 0; hh < h; hh++ {
				sh := a.s[(bb*h+hh)*f*dv:][:f*dv]
				if gq.data != nil {
					tensor.Gemm(false, true, n, f, dv, 1, gc[hh*dv:], ldo, sh, dv, 0, df[hh*f:], ldf)
				}
				if wantK {
					tensor.Gemm(true, false, f, dv, n, 1, a.fq[(bb*tq+i0)*ldf+hh*f:], ldf, gc[hh*dv:], ldo, beta, ds[hh*f*dv:], dv)
				}
			}
			a.queryGrads(out, gq, freshQ, df, dz, z, bb, i0, n, wantK)
		}
		if !wantK {
			continue
		}
		for j0 := 0; j0 < tk; j0 += linearBlock {
			n := min(linearBlock, tk-j0)
			for hh := 0; hh < h; hh++ {
				dsh := ds[hh*f*dv:]
				if gv.data != nil {
					tensor.Gemm(false, false, n, dv, f, 1, a.fk[(bb*tk+j0)*ldf+hh*f:], ldf, dsh, dv, betaV, gv.at(bb*tk+j0, hh*dv), gv.ld)
				}
				if gk.data != nil {
					tensor.Gemm(false, true, n, f, dv, 1, a.v.at(bb*tk+j0, hh*dv), a.v.ld, dsh, dv, 0, df[hh*f:], ldf)
				}
			}
			if gk.data == nil {
				continue
			}
			for j := j0; j < j0+n; j++ {
				if (j-j0)%linearAhead == 0 {
					r, m := bb*tk+j+linearAhead, min(linearAhead, j0+n-j-linearAhead)
					gk.prefetch(r, m, ldf)
					a.k.prefetch(r, m, ldf)
				}
				r := bb*tk + j
				gkj, dfj := gk.row(r, ldf), df[(j-j0)*ldf:][:ldf]
				if freshK {
					clear(gkj)
				}
				if !a.keyKept(bb, j) {
					continue
				}
				if a.elu {
					eluGradRow(gkj, dfj, dz, a.fk[r*ldf:][:ldf])
					continue
				}
				for x := range gkj {
					gkj[x] += dfj[x] + dz[x]
				}
			}
		}
	}
}

// queryGrads adds dφ(q) (through φ', with elu) to q's gradient for the
// query rows [i0, i0+n) of batch row bb, whose dC_i Sᵀ parts df holds
// (clearing each row first when the buffer is fresh), and, with wantK,
// their −c_i φ̂(q_i) to dz.
func (a *linearAttn) queryGrads(out *tensor.Tensor, gq strided, fresh bool, df, dz, z []float32, bb, i0, n int, wantK bool) {
	tq, h, f, dv := a.tq, a.h, a.f, a.dv
	ldf, ldo := h*f, h*dv
	for i := i0; i < i0+n; i++ {
		r := bb*tq + i
		if (i-i0)%linearAhead == 0 && gq.data != nil {
			gq.prefetch(r+linearAhead, min(linearAhead, i0+n-i-linearAhead), ldf)
		}
		if fresh && gq.data != nil {
			clear(gq.row(r, ldf))
		}
		for hh := 0; hh < h; hh++ {
			den := a.den[(bb*h+hh)*tq+i]
			if den == 0 {
				continue
			}
			gi := out.Grad[r*ldo+hh*dv:][:dv]
			oi := out.Data[r*ldo+hh*dv:][:dv]
			fqi := a.fq[r*ldf+hh*f:][:f]
			dfi := df[(i-i0)*ldf+hh*f:][:f]
			if wantK && gq.data != nil && a.dq != nil &&
				qGradSIMD(gi, oi, fqi, dz[hh*f:][:f], dfi, z[hh*f:][:f], a.dq[r*ldf+hh*f:][:f], gq.row(r, ldf)[hh*f:][:f], 1/den) {
				continue
			}
			var dot float64
			for x, gx := range gi {
				dot += float64(gx * oi[x])
			}
			c := float32(dot)
			if wantK {
				axpy(dz[hh*f:][:f], -c, fqi)
			}
			if gq.data == nil {
				continue
			}
			gqi := gq.row(r, ldf)[hh*f:][:f]
			zh := z[hh*f:][:f]
			inv := 1 / den
			if a.dq == nil {
				for x := range gqi {
					gqi[x] += (dfi[x] - c*zh[x]) * inv
				}
				continue
			}
			dqi := a.dq[r*ldf+hh*f:][:f]
			for x := range gqi {
				gqi[x] += (dfi[x] - c*zh[x]) * inv * dqi[x]
			}
		}
	}
}

// backwardCausal is the causal backward pass: dnum_i = G_i/den_i and
// dden_i = −G_i·out_i/den_i per head, then two passes over the positions
// (see causalHead) that add dφ(q), dφ(k) to feature gradients and dv to
// v's gradient; last, φ' takes the feature gradients to q's and k's.
func (a *linearAttn) backwardCausal(out *tensor.Tensor, g [][]float32) {
	b, tq, tk, h, f, dv := a.b, a.tq, a.tk, a.h, a.f, a.dv
	ldf, ldv := h*f, h*dv
	gq, gk, gv := a.grads(g)
	var dfq, dfk []float32
	if gq.data != nil {
		dfq = tensor.Scratch(b * tq * ldf)
		defer tensor.Recycle(dfq)
	}
	if gk.data != nil {
		dfk = tensor.Scratch(b * tk * ldf)
		defer tensor.Recycle(dfk)
	}
	dnum := make([]float32, tq*dv)
	dden := make([]float32, tq)
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
			a.causalHead(bb, hh, dnum, dden, dfq, dfk, gv)
		}
	}
	for r := 0; dfq != nil && r < b*tq; r++ {
		gqr, dfr := gq.row(r, ldf), dfq[r*ldf:][:ldf]
		if a.dq == nil {
			tensor.AccSlice(gqr, dfr)
			continue
		}
		dqr := a.dq[r*ldf:][:ldf]
		for x := range gqr {
			gqr[x] += dfr[x] * dqr[x]
		}
	}
	for r := 0; dfk != nil && r < b*tk; r++ {
		if bb, j := r/tk, r%tk; !a.keyKept(bb, j) || tq == 0 || j >= a.hi(bb, tq-1) {
			continue // masked, or past every query's causal prefix (causalHead): not read
		}
		if a.elu {
			eluGradRow(gk.row(r, ldf), dfk[r*ldf:], nil, a.fk[r*ldf:][:ldf])
		} else {
			tensor.AccSlice(gk.row(r, ldf), dfk[r*ldf:][:ldf])
		}
	}
}

// causalHead runs the two passes of the causal backward for batch row
// bb and head hh: forward again for dφq (prefix sums S_i, z_i), then in
// reverse for dφk and dv (suffix sums R = Σ_{i sees j} φq_i dnum_iᵀ,
// r = Σ_{i sees j} φq_i dden_i). dfq and dfk ([B·T, H·f]) get the
// feature gradients (nil: not wanted), gv the values'.
func (a *linearAttn) causalHead(bb, hh int, dnum, dden, dfq, dfk []float32, gv strided) {
	tq, tk, f, dv := a.tq, a.tk, a.f, a.dv
	ldf, ldv := a.h*f, a.h*dv
	s := make([]float32, f*dv)
	z := make([]float32, f)
	if dfq != nil {
		j := 0
		for i := 0; i < tq; i++ {
			for ; j < a.hi(bb, i); j++ {
				a.addKey(s, z, bb, hh, j)
			}
			ni := dnum[i*dv : (i+1)*dv]
			gqi := dfq[(bb*tq+i)*ldf+hh*f:][:f]
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
	if dfk == nil && gv.data == nil {
		return
	}
	r, rr := z, s
	clear(r)
	clear(rr)
	i := tq - 1
	for j := tk - 1; j >= 0; j-- {
		for ; i >= 0 && a.hi(bb, i) > j; i-- {
			fqi := a.fq[(bb*tq+i)*ldf+hh*f:][:f]
			ni := dnum[i*dv : (i+1)*dv]
			for x, fv := range fqi {
				axpy(rr[x*dv:(x+1)*dv], fv, ni)
				r[x] += fv * dden[i]
			}
		}
		if !a.keyKept(bb, j) || i == tq-1 {
			continue // masked, or no query sees it (past the causal rule): no gradient, not read
		}
		vj := a.v.row(bb*tk+j, ldv)[hh*dv:][:dv]
		if dfk != nil {
			gkj := dfk[(bb*tk+j)*ldf+hh*f:][:f]
			for x := 0; x < f; x++ {
				var acc float32
				for y, w := range rr[x*dv : (x+1)*dv] {
					acc += w * vj[y]
				}
				gkj[x] += acc + r[x]
			}
		}
		if gv.data != nil {
			gvj := gv.row(bb*tk+j, ldv)[hh*dv:][:dv]
			for x, fv := range a.fk[(bb*tk+j)*ldf+hh*f:][:f] {
				axpy(gvj, fv, rr[x*dv:(x+1)*dv])
			}
		}
	}
}

// weightsMatrix returns the implied weights φ(q_i)·φ(k_j)/den_i over the
// kept pairs [B,H,Tq,Tk], as a leaf without gradient (non-causal, the
// saved φ̂(q_i) is already divided by den_i).
func (a *linearAttn) weightsMatrix() *tensor.Tensor {
	ldf := a.h * a.f
	w := tensor.New(a.b, a.h, a.tq, a.tk)
	for bb := 0; bb < a.b; bb++ {
		for hh := 0; hh < a.h; hh++ {
			wb := w.Data[(bb*a.h+hh)*a.tq*a.tk:]
			tensor.Gemm(false, true, a.tq, a.tk, a.f, 1, a.fq[bb*a.tq*ldf+hh*a.f:], ldf, a.fk[bb*a.tk*ldf+hh*a.f:], ldf, 0, wb, a.tk)
			for i := 0; i < a.tq; i++ {
				den := a.den[(bb*a.h+hh)*a.tq+i]
				row := wb[i*a.tk : (i+1)*a.tk]
				hi := a.hi(bb, i)
				for j := range row {
					switch {
					case den == 0 || j >= hi || !a.keyKept(bb, j):
						row[j] = 0
					case a.lm.causal:
						row[j] /= den
					}
				}
			}
		}
	}
	return w
}
