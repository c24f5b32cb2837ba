package tensor

import "math"

//go:generate go run blas1_asmgen.go

// The memory-bound passes of a training step — adds, gradient
// accumulation, ReLU, sums of squares, the Adam update — as slice kernels:
// AVX-512 or AVX2+FMA assembly where the CPU has it (blas1_amd64.s, from
// blas1_asmgen.go; the column sums of a block of rows, sumRows, written by
// hand in sumrows_amd64.s, and LayerNorm's rows in layernorm_amd64.s), Go
// loops otherwise. Dispatchers take checked slices.

// AddSlice sets dst[i] = a[i] + b[i] for i < len(dst); dst may alias a or
// b. It panics if a or b is shorter than dst.
func AddSlice(dst, a, b []float32) {
	if len(dst) == 0 {
		return
	}
	_, _ = a[len(dst)-1], b[len(dst)-1]
	vadd(dst, a, b)
}

// AccSlice adds x into dst: dst[i] += x[i] for i < len(x). It panics if
// dst is shorter than x.
func AccSlice(dst, x []float32) {
	if len(x) == 0 {
		return
	}
	_ = dst[len(x)-1]
	vacc(dst, x)
}

// sumRows sets dst[j] to the sum over r < rows of src[r·ld+j], for j < n,
// added in row order: src[j] + src[ld+j] + … (rows ≥ 1, ld ≥ n), the same
// value, bit for bit, as copying the first row and adding the others with
// AccSlice one by one. It panics if dst or src is too short.
func sumRows(dst, src []float32, rows, n, ld int) {
	if n <= 0 || rows <= 0 {
		return
	}
	if ld < n {
		panic(errorf("tensor.sumRows: row stride %d < %d columns", ld, n))
	}
	_, _ = dst[n-1], src[(rows-1)*ld+n-1]
	vsumRows(dst, src, rows, n, ld)
}

// AxpySlice adds s·x into dst: dst[i] += s·x[i] for i < len(x). It panics
// if dst is shorter than x.
func AxpySlice(dst, x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	_ = dst[len(x)-1]
	vaxpy(dst, x, s)
}

// SumSquares returns Σ x[i]², accumulated in float64: by blocks of
// parGrain elements (on several threads when SetThreads allows), then the
// blocks in order, so the sum does not depend on the number of threads.
func SumSquares(x []float32) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	if n <= parGrain {
		return vsumsq(x)
	}
	part := make([]float64, (n+parGrain-1)/parGrain)
	parallelElems(n, func(lo, hi int) {
		for b := lo; b < hi; b += parGrain {
			part[b/parGrain] = vsumsq(x[b:min(b+parGrain, hi)])
		}
	})
	var s float64
	for _, v := range part {
		s += v
	}
	return s
}

// AdamHyper are the per-step constants of an Adam or AdamW update (see
// AdamUpdate).
type AdamHyper struct {
	Beta1, Beta2 float32
	StepSize     float32 // lr / (1 − β₁ᵗ)
	InvBC2       float32 // 1 / √(1 − β₂ᵗ)
	Eps          float32
	Decay        float32 // AdamW: 1 − lr·wd; 1 otherwise
	L2           float32 // Adam: wd added to the gradient as wd·p; 0 otherwise
}

// AdamUpdate applies one Adam step to the parameters p with gradients g
// and moments m, v (all of the same length), in one pass:
//
//	g' = g + L2·p,  p ← Decay·p
//	m ← β₁m + (1−β₁)g',  v ← β₂v + (1−β₂)g'²
//	p ← p − StepSize·m / (√v·InvBC2 + Eps)
//
// g is not modified. It panics on slices of different lengths.
func AdamUpdate(p, g, m, v []float32, h AdamHyper) {
	n := len(p)
	if len(g) != n || len(m) != n || len(v) != n {
		panic(errorf("tensor.AdamUpdate: lengths %d, %d, %d, %d differ", n, len(g), len(m), len(v)))
	}
	if n == 0 {
		return
	}
	c := [9]float32{h.Beta1, 1 - h.Beta1, h.Beta2, 1 - h.Beta2, h.StepSize, h.InvBC2, h.Eps, h.Decay, h.L2}
	parallelElems(n, func(lo, hi int) { vadam(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], &c) })
}

// reluSlice sets dst[i] = max(x[i], 0), with NaN and −0 passed through
// unchanged, in every implementation.
func reluSlice(dst, x []float32) {
	if len(x) == 0 {
		return
	}
	_ = dst[len(x)-1]
	vrelu(dst, x)
}

// reluGradAcc adds g[i] into gx[i] where y[i] > 0.
func reluGradAcc(gx, g, y []float32) {
	if len(g) == 0 {
		return
	}
	_, _ = gx[len(g)-1], y[len(g)-1]
	vreluGrad(gx, g, y)
}

// reluGradSet writes gx = g where y > 0 and 0 elsewhere: reluGradAcc
// into zeros without clearing gx first.
func reluGradSet(gx, g, y []float32) {
	if len(g) == 0 {
		return
	}
	_, _ = gx[len(g)-1], y[len(g)-1]
	vreluGradSet(gx, g, y)
}

func vreluGradSetGo(gx, g, y []float32) {
	gx, y = gx[:len(g)], y[:len(g)]
	for i, v := range g {
		gx[i] = 0
		if y[i] > 0 {
			gx[i] += v
		}
	}
}

func vaddGo(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func vaccGo(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += v
	}
}

func vsumRowsGo(dst, src []float32, rows, n, ld int) {
	dst = dst[:n]
	copy(dst, src[:n])
	for r := 1; r < rows; r++ {
		vaccGo(dst, src[r*ld:r*ld+n])
	}
}

func vaxpyGo(dst, x []float32, s float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] += s * v
	}
}

func vsumsqGo(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

func vreluGo(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		// MAXPS(0, v) as the SIMD kernels compute it: v unless 0 > v, so
		// −0 and NaN pass through (Go's max(v, 0) turns −0 into +0).
		if 0 > v {
			v = 0
		}
		dst[i] = v
	}
}

func vreluGradGo(gx, g, y []float32) {
	gx, y = gx[:len(g)], y[:len(g)]
	for i, v := range g {
		if y[i] > 0 {
			gx[i] += v
		}
	}
}

// vadamGo is the update of AdamUpdate; c holds β₁, 1−β₁, β₂, 1−β₂, step
// size, 1/√(1−β₂ᵗ), eps, decay and L2, as the assembly reads them.
func vadamGo(p, g, m, v []float32, c *[9]float32) {
	b1, nb1, b2, nb2, step, inv, eps, decay, l2 := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i, pi := range p {
		gi := g[i] + l2*pi
		pi *= decay
		mi := b1*m[i] + nb1*gi
		vi := b2*v[i] + nb2*gi*gi
		m[i], v[i] = mi, vi
		p[i] = pi - step*mi/(float32(math.Sqrt(float64(vi)))*inv+eps)
	}
}
