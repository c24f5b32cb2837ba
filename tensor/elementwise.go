package tensor

import (
	"math"
	"slices"
)

type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
)

var binNames = [...]string{"Add", "Sub", "Mul", "Div"}

// Add returns a + b with NumPy broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(opAdd, a, b) }

// Sub returns a − b with NumPy broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(opSub, a, b) }

// Mul returns a ⊙ b (elementwise) with NumPy broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(opMul, a, b) }

// Div returns a / b (elementwise) with NumPy broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(opDiv, a, b) }

func binary(op binOp, a, b *Tensor) *Tensor {
	name := binNames[op]
	var shape []int
	if slices.Equal(a.shape, b.shape) {
		shape = append([]int(nil), a.shape...)
	} else {
		shape = broadcastShape(name, a.shape, b.shape)
	}
	out := resultFull(name, shape, a, b)
	od, ad, bd := out.Data, a.Data, b.Data
	if len(ad) == len(od) && len(bd) == len(od) {
		parallelElems(len(od), func(lo, hi int) { binRow(op, od[lo:hi], ad[lo:], 1, bd[lo:], 1) })
	} else {
		newIter(shape, a.shape, b.shape).each(func(o, ia, ib, n, inca, incb int) {
			binRow(op, od[o:o+n], ad[ia:], inca, bd[ib:], incb)
		})
	}
	if out.requiresGrad {
		out.backward = func() { binaryBackward(op, out, a, b) }
	}
	return out
}

// binRow computes one output row; inca and incb are the operands' strides
// along the row (0 when broadcast).
func binRow(op binOp, out, a []float32, inca int, b []float32, incb int) {
	n := len(out)
	if inca == 1 && incb == 1 {
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = a[i] + b[i]
			}
		case opSub:
			for i := range out {
				out[i] = a[i] - b[i]
			}
		case opMul:
			for i := range out {
				out[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range out {
				out[i] = a[i] / b[i]
			}
		}
		return
	}
	if inca == 1 && incb == 0 {
		a, s := a[:n], b[0]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = a[i] + s
			}
		case opSub:
			for i := range out {
				out[i] = a[i] - s
			}
		case opMul:
			for i := range out {
				out[i] = a[i] * s
			}
		case opDiv:
			for i := range out {
				out[i] = a[i] / s
			}
		}
		return
	}
	ia, ib := 0, 0
	for i := range out {
		x, y := a[ia], b[ib]
		switch op {
		case opAdd:
			out[i] = x + y
		case opSub:
			out[i] = x - y
		case opMul:
			out[i] = x * y
		case opDiv:
			out[i] = x / y
		}
		ia += inca
		ib += incb
	}
}

func binaryBackward(op binOp, out, a, b *Tensor) {
	g := out.Grad
	ad, bd := a.Data, b.Data
	same := len(ad) == len(g) && len(bd) == len(g)
	if same && (op == opAdd || op == opSub) {
		// A residual connection: pass the gradient on (negated for b of a
		// subtraction), assigning into new buffers.
		if a.requiresGrad {
			a.accGrad(g)
		}
		if b.requiresGrad {
			if op == opAdd {
				b.accGrad(g)
			} else {
				gb := b.grad()
				parallelElems(len(g), func(lo, hi int) { AxpySlice(gb[lo:hi], g[lo:hi], -1) })
			}
		}
		return
	}
	var ga, gb []float32
	if a.requiresGrad {
		ga = a.grad()
	}
	if b.requiresGrad {
		gb = b.grad()
	}
	if same {
		parallelElems(len(g), func(lo, hi int) {
			var gaa, gbb []float32
			if ga != nil {
				gaa = ga[lo:hi]
			}
			if gb != nil {
				gbb = gb[lo:hi]
			}
			binGradRow(op, g[lo:hi], gaa, ad[lo:], 1, gbb, bd[lo:], 1)
		})
		return
	}
	newIter(out.shape, a.shape, b.shape).each(func(o, ia, ib, n, inca, incb int) {
		var gaa, gbb []float32
		if ga != nil {
			gaa = ga[ia:]
		}
		if gb != nil {
			gbb = gb[ib:]
		}
		binGradRow(op, g[o:o+n], gaa, ad[ia:], inca, gbb, bd[ib:], incb)
	})
}

// binGradRow accumulates one row of gradients into ga and gb (either may be
// nil). With a stride of 0 the row's gradient sums into one element. The
// strides are 0 or 1: rows come from newIter, whose row is the output's
// innermost dimension of size > 1 (coalesced with outer ones), and an
// operand's stride there is the product of its later dimensions, all 1
// (they broadcast to the output's 1s), or 0 where it is broadcast.
func binGradRow(op binOp, g, ga, a []float32, inca int, gb, b []float32, incb int) {
	if op == opAdd || op == opSub {
		// The common bias case: a row of a [.., D] input plus a broadcast [D].
		sign := float32(1)
		if op == opSub {
			sign = -1
		}
		accRow(ga, g, inca, 1)
		accRow(gb, g, incb, sign)
		return
	}
	ia, ib := 0, 0
	for _, gi := range g {
		switch op {
		case opMul:
			if ga != nil {
				ga[ia] += gi * b[ib]
			}
			if gb != nil {
				gb[ib] += gi * a[ia]
			}
		case opDiv:
			y := b[ib]
			if ga != nil {
				ga[ia] += gi / y
			}
			if gb != nil {
				gb[ib] -= gi * a[ia] / (y * y)
			}
		}
		ia += inca
		ib += incb
	}
}

// accRow adds s·g into dst with stride inc, 0 (sums g into dst[0]) or 1
// (see binGradRow), for s = ±1; a nil dst is skipped.
func accRow(dst, g []float32, inc int, s float32) {
	switch {
	case dst == nil:
	case inc == 0:
		var sum float32
		for _, v := range g {
			sum += v
		}
		dst[0] += s * sum
	default:
		dst = dst[:len(g)]
		if s == 1 {
			AccSlice(dst, g)
		} else {
			for i, v := range g {
				dst[i] -= v
			}
		}
	}
}

// unary applies f elementwise; df computes the derivative from the input x
// and the output y.
func unary(name string, x *Tensor, f func(float32) float32, df func(x, y float32) float32) *Tensor {
	out := resultFull(name, append([]int(nil), x.shape...), x)
	for i, v := range x.Data {
		out.Data[i] = f(v)
	}
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			for i, g := range out.Grad {
				gx[i] += g * df(x.Data[i], out.Data[i])
			}
		}
	}
	return out
}

// Neg returns −x.
func Neg(x *Tensor) *Tensor { return Scale(x, -1) }

// Scale returns s·x.
func Scale(x *Tensor, s float32) *Tensor {
	out := resultFull("Scale", append([]int(nil), x.shape...), x)
	parallelElems(len(x.Data), func(lo, hi int) {
		copy(out.Data[lo:hi], x.Data[lo:hi])
		ScaleSlice(out.Data[lo:hi], s)
	})
	if out.requiresGrad {
		out.backward = func() {
			gx, beta := x.gradDst()
			parallelElems(len(gx), func(lo, hi int) {
				if beta == 0 {
					copy(gx[lo:hi], out.Grad[lo:hi])
					ScaleSlice(gx[lo:hi], s)
				} else {
					AxpySlice(gx[lo:hi], out.Grad[lo:hi], s)
				}
			})
		}
	}
	return out
}

// AddScalar returns x + s.
func AddScalar(x *Tensor, s float32) *Tensor {
	out := resultFull("AddScalar", append([]int(nil), x.shape...), x)
	for i, v := range x.Data {
		out.Data[i] = v + s
	}
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			for i, g := range out.Grad {
				gx[i] += g
			}
		}
	}
	return out
}

// unarySlice is unary for a function with a slice kernel: fwd fills the
// output from the input, bwd accumulates into gx from the upstream gradient
// g, the input x and the output y.
func unarySlice(name string, x *Tensor, fwd func(dst, x []float32), bwd func(gx, g, x, y []float32)) *Tensor {
	out := resultFull(name, append([]int(nil), x.shape...), x)
	fwd(out.Data, x.Data)
	if out.requiresGrad {
		out.backward = func() { bwd(x.grad(), out.Grad, x.Data, out.Data) }
	}
	return out
}

// Exp returns eˣ elementwise.
func Exp(x *Tensor) *Tensor {
	return unarySlice("Exp", x, ExpSlice, func(gx, g, _, y []float32) {
		y = y[:len(g)]
		for i, v := range g {
			gx[i] += v * y[i]
		}
	})
}

// Log returns the natural logarithm elementwise.
func Log(x *Tensor) *Tensor {
	return unary("Log", x, func(v float32) float32 { return float32(math.Log(float64(v))) },
		func(x, _ float32) float32 { return 1 / x })
}

// Sqrt returns √x elementwise.
func Sqrt(x *Tensor) *Tensor {
	return unary("Sqrt", x, sqrt32, func(_, y float32) float32 { return 0.5 / y })
}

// Tanh returns tanh(x) elementwise.
func Tanh(x *Tensor) *Tensor {
	return unarySlice("Tanh", x, TanhSlice, func(gx, g, _, y []float32) {
		y = y[:len(g)]
		for i, v := range g {
			gx[i] += v * (1 - y[i]*y[i])
		}
	})
}

// Sigmoid returns 1/(1+e⁻ˣ) elementwise.
func Sigmoid(x *Tensor) *Tensor {
	return unarySlice("Sigmoid", x, SigmoidSlice, func(gx, g, _, y []float32) {
		y = y[:len(g)]
		for i, v := range g {
			gx[i] += v * (y[i] * (1 - y[i]))
		}
	})
}

// ReLU returns max(x, 0) elementwise (gradient 0 at 0), passing −0 and
// NaN through as reluSlice's kernels do.
func ReLU(x *Tensor) *Tensor {
	return unary("ReLU", x, func(v float32) float32 {
		if 0 > v {
			return 0
		}
		return v
	},
		func(x, _ float32) float32 {
			if x > 0 {
				return 1
			}
			return 0
		})
}

// ELU returns x for x > 0 and alpha·(eˣ−1) otherwise.
func ELU(x *Tensor, alpha float32) *Tensor {
	return unarySlice("ELU", x, func(dst, x []float32) {
		ExpSlice(dst, x)
		for i, v := range x {
			if v > 0 {
				dst[i] = v
			} else {
				dst[i] = alpha * (dst[i] - 1)
			}
		}
	}, func(gx, g, x, y []float32) {
		x, y = x[:len(g)], y[:len(g)]
		for i, v := range g {
			if x[i] > 0 {
				gx[i] += v
			} else {
				gx[i] += v * (y[i] + alpha)
			}
		}
	})
}

const geluC = 0.7978845608028654 // √(2/π)

// GELU returns the tanh approximation of the Gaussian error linear unit,
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as PyTorch's
// gelu(approximate="tanh"). Each element's ½(1 + tanh(…)) is kept for
// the backward pass instead of being computed again (see GELUSlice).
func GELU(x *Tensor) *Tensor {
	out := resultFull("GELU", append([]int(nil), x.shape...), x)
	var s []float32 // ½(1 + tanh(…)) of each element
	if out.requiresGrad {
		s = allocDirty(len(x.Data))
		out.Keep(s)
	}
	GELUSlice(out.Data, s, x.Data)
	if out.requiresGrad {
		out.backward = func() { geluGradAcc(x.grad(), out.Grad, x.Data, s) }
	}
	return out
}
