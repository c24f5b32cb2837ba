package tensor

import (
	"slices"
	"sync/atomic"
)

// Act is an activation applied by LinearAct in the epilogue of its matrix
// product.
type Act uint8

// The activations LinearAct fuses.
const (
	ActNone Act = iota // identity
	ActReLU            // max(z, 0), as ReLU
	ActGELU            // the tanh approximation, as GELU
)

func (a Act) String() string {
	switch a {
	case ActNone:
		return "none"
	case ActReLU:
		return "relu"
	case ActGELU:
		return "gelu"
	}
	return "unknown"
}

// Linear returns the affine map x·W + b over the last axis of x: x
// [..., K], W [K, N], b [N] (nil: no bias), giving [..., N]. It is one op:
// the bias is added to each block of the product as soon as the block is
// final, while it is in cache, and the backward pass computes the bias's
// gradient, x's and W's from the upstream gradient directly. It panics on
// mismatched shapes.
func Linear(x, w, b *Tensor) *Tensor { return linear("Linear", nil, x, w, b, ActNone) }

// LinearAct returns act(x·W + b) (see Linear), the activation applied in
// the same pass as the bias. With ActGELU it keeps the pre-activation and
// its ½(1 + tanh(…)) for the backward pass (see GELUSlice); with ActReLU
// the output suffices.
func LinearAct(x, w, b *Tensor, act Act) *Tensor {
	if act > ActGELU {
		panic(errorf("tensor.LinearAct: unknown activation %d", act))
	}
	return linear("LinearAct", nil, x, w, b, act)
}

// AddLinear returns res + x·W + b (see Linear): a residual connection
// around a linear map in one op. res has the shape of the result.
func AddLinear(res, x, w, b *Tensor) *Tensor {
	if res == nil {
		panic(errorf("tensor.AddLinear: nil residual"))
	}
	return linear("AddLinear", res, x, w, b, ActNone)
}

func linear(op string, res, x, w, b *Tensor, act Act) *Tensor {
	if x.Dims() < 1 || w.Dims() != 2 || x.shape[len(x.shape)-1] != w.shape[0] {
		panic(errorf("tensor.%s: x %v and W %v do not fit", op, x.shape, w.shape))
	}
	k, n := w.shape[0], w.shape[1]
	if b != nil && (b.Dims() != 1 || b.shape[0] != n) {
		panic(errorf("tensor.%s: bias %v for W %v", op, b.shape, w.shape))
	}
	shape := append(append([]int(nil), x.shape[:len(x.shape)-1]...), n)
	if res != nil && !slices.Equal(res.shape, shape) {
		panic(errorf("tensor.%s: residual %v for a result %v", op, res.shape, shape))
	}
	rows := shapeSize(shape[:len(shape)-1])
	out := resultFull(op, shape, x, w, b, res)
	y := out.Data
	// With GELU and gradients the product goes to z (kept with t, its
	// ½(1 + tanh)), the output is gelu(z); otherwise the epilogue works in
	// place.
	var z, t []float32
	if act == ActGELU && out.requiresGrad {
		z, t = allocDirty(rows*n), allocDirty(rows*n)
		out.Keep(z, t)
	} else {
		z = y
	}
	var bd, rd []float32
	if b != nil {
		bd = b.Data
	}
	if res != nil {
		rd = res.Data
	}
	epi := func(r0, r1, c0, c1 int) {
		for r := r0; r < r1; r++ {
			zr := z[r*n+c0 : r*n+c1]
			if bd != nil {
				vacc(zr, bd[c0:c1])
			}
			if rd != nil {
				vacc(zr, rd[r*n+c0:r*n+c1])
			}
			switch act {
			case ActReLU:
				vrelu(zr, zr)
			case ActGELU:
				var tr []float32
				if t != nil {
					tr = t[r*n+c0 : r*n+c1]
				}
				vgelu(y[r*n+c0:r*n+c1], tr, zr)
			}
		}
	}
	if rows > 0 && n > 0 {
		gemmWithEpilogue(false, false, rows, n, k, 1, x.Data, k, w.Data, n, 0, z, n, epi)
	}
	if !out.requiresGrad {
		return out
	}
	// The activation's gradient, in place on blocks of the gradient: the
	// consumer's GEMM may run it as its epilogue (see gradEpi).
	switch act {
	case ActReLU:
		out.gradEpi = func(r0, r1, c0, c1 int) {
			for r := r0; r < r1; r++ {
				seg := out.Grad[r*n+c0 : r*n+c1]
				reluGradSet(seg, seg, y[r*n+c0:r*n+c1])
			}
		}
	case ActGELU:
		out.gradEpi = func(r0, r1, c0, c1 int) {
			for r := r0; r < r1; r++ {
				seg := out.Grad[r*n+c0 : r*n+c1]
				geluGradSet(seg, seg, z[r*n+c0:r*n+c1], t[r*n+c0:r*n+c1])
			}
		}
	}
	out.backward = func() {
		g := out.Grad
		gz := g
		fused := out.gradFused // g already holds the activation's gradient
		if act != ActNone && !fused {
			gz = allocDirty(rows * n)
		}
		if res != nil && res.requiresGrad {
			res.accGrad(g)
		}
		var gb []float32
		if b != nil && b.requiresGrad {
			gb = b.grad()
		}
		if (act != ActNone && !fused) || gb != nil {
			// One pass over the rows: the activation's gradient and the
			// bias's, summed by fixed blocks of rows (see sumRowBlocks).
			sumRowBlocks(gb, rows, n, func(r0, r1 int) []float32 {
				seg := gz[r0*n : r1*n]
				if fused {
					return seg
				}
				switch act {
				case ActReLU:
					reluGradSet(seg, g[r0*n:r1*n], y[r0*n:r1*n])
				case ActGELU:
					geluGradSet(seg, g[r0*n:r1*n], z[r0*n:r1*n], t[r0*n:r1*n])
				}
				return seg
			})
		}
		// The two products are independent: with several threads the
		// blocks of both are handed out together (gemmPair).
		dx, dw := x.requiresGrad, w.requiresGrad
		var pdx, pdw *gemmProduct
		if dx {
			gx, beta := x.gradDst()
			pdx = &gemmProduct{transB: true, m: rows, n: k, k: n, alpha: 1, a: gz, lda: n, b: w.Data, ldb: n, beta: beta, c: gx, ldc: k}
			if epi := x.gradEpi; epi != nil && beta == 0 && atomic.LoadInt32(&x.uses) == 1 {
				// x's whole gradient, fresh, from its only consumer: its
				// producer's first backward step runs on the blocks as
				// they are made (it writes x's gradient only and reads
				// x's values, which dW's product only reads too).
				pdx.epi = epi
				x.gradFused = true
			}
		}
		if dw {
			pdw = &gemmProduct{transA: true, m: k, n: n, k: rows, alpha: 1, a: x.Data, lda: k, b: gz, ldb: n, beta: 1, c: w.grad(), ldc: n}
		}
		gemmPair(pdx, pdw)
		if act != ActNone && !fused {
			free(gz)
		}
	}
	return out
}
