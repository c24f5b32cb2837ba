//go:build amd64 && !purego

package tensor

// The blas1 kernels run in assembly when the slice kernels use AVX-512 or
// AVX2+FMA (vmathUse; tests switch it to run every implementation).

func vadd(dst, a, b []float32) {
	switch vmathUse {
	case vmathAVX512:
		vadd512(&dst[0], &a[0], &b[0], len(dst))
	case vmathAVX2:
		vadd256(&dst[0], &a[0], &b[0], len(dst))
	default:
		vaddGo(dst, a, b)
	}
}

func vacc(dst, x []float32) {
	switch vmathUse {
	case vmathAVX512:
		vacc512(&dst[0], &x[0], len(x))
	case vmathAVX2:
		vacc256(&dst[0], &x[0], len(x))
	default:
		vaccGo(dst, x)
	}
}

func vaxpy(dst, x []float32, s float32) {
	switch vmathUse {
	case vmathAVX512:
		vaxpy512(&dst[0], &x[0], len(x), s)
	case vmathAVX2:
		vaxpy256(&dst[0], &x[0], len(x), s)
	default:
		vaxpyGo(dst, x, s)
	}
}

func vsumsq(x []float32) float64 {
	switch vmathUse {
	case vmathAVX512:
		return vsumsq512(&x[0], len(x))
	case vmathAVX2:
		return vsumsq256(&x[0], len(x))
	}
	return vsumsqGo(x)
}

func vrelu(dst, x []float32) {
	switch vmathUse {
	case vmathAVX512:
		vrelu512(&dst[0], &x[0], len(x))
	case vmathAVX2:
		vrelu256(&dst[0], &x[0], len(x))
	default:
		vreluGo(dst, x)
	}
}

func vreluGrad(gx, g, y []float32) {
	switch vmathUse {
	case vmathAVX512:
		vreluGrad512(&gx[0], &g[0], &y[0], len(g))
	case vmathAVX2:
		vreluGrad256(&gx[0], &g[0], &y[0], len(g))
	default:
		vreluGradGo(gx, g, y)
	}
}

func vreluGradSet(gx, g, y []float32) {
	switch vmathUse {
	case vmathAVX512:
		vreluGradSet512(&gx[0], &g[0], &y[0], len(g))
	case vmathAVX2:
		vreluGradSet256(&gx[0], &g[0], &y[0], len(g))
	default:
		vreluGradSetGo(gx, g, y)
	}
}

func vadam(p, g, m, v []float32, c *[9]float32) {
	switch vmathUse {
	case vmathAVX512:
		vadam512(&p[0], &g[0], &m[0], &v[0], len(p), &c[0])
	case vmathAVX2:
		vadam256(&p[0], &g[0], &m[0], &v[0], len(p), &c[0])
	default:
		vadamGo(p, g, m, v, c)
	}
}

func lnForwardRow(y, h, x, gamma, beta []float32, eps float32, st []float32) {
	switch vmathUse {
	case vmathAVX512:
		lnFwd512(&y[0], &h[0], &x[0], &gamma[0], &beta[0], len(x), eps, &st[0])
	case vmathAVX2:
		lnFwd256(&y[0], &h[0], &x[0], &gamma[0], &beta[0], len(x), eps, &st[0])
	default:
		lnForwardRowGo(y, h, x, gamma, beta, eps, st)
	}
}

func lnBackwardRow(gx, gg, gb, gy, h, gamma []float32, rstd float32, set bool) {
	s := 0
	if set {
		s = 1
	}
	switch vmathUse {
	case vmathAVX512:
		lnBwd512(&gx[0], &gg[0], &gb[0], &gy[0], &h[0], &gamma[0], len(gy), rstd, s)
	case vmathAVX2:
		lnBwd256(&gx[0], &gg[0], &gb[0], &gy[0], &h[0], &gamma[0], len(gy), rstd, s)
	default:
		lnBackwardRowGo(gx, gg, gb, gy, h, gamma, rstd, set)
	}
}
