//go:build amd64 && !purego

package tensor

// The blas1 kernels run in assembly when the slice kernels use AVX-512
// (vmathUse; tests switch it to run the Go loops too).

func vadd(dst, a, b []float32) {
	if vmathUse == vmathAVX512 {
		vadd512(&dst[0], &a[0], &b[0], len(dst))
		return
	}
	vaddGo(dst, a, b)
}

func vacc(dst, x []float32) {
	if vmathUse == vmathAVX512 {
		vacc512(&dst[0], &x[0], len(x))
		return
	}
	vaccGo(dst, x)
}

func vaxpy(dst, x []float32, s float32) {
	if vmathUse == vmathAVX512 {
		vaxpy512(&dst[0], &x[0], len(x), s)
		return
	}
	vaxpyGo(dst, x, s)
}

func vsumsq(x []float32) float64 {
	if vmathUse == vmathAVX512 {
		return vsumsq512(&x[0], len(x))
	}
	return vsumsqGo(x)
}

func vrelu(dst, x []float32) {
	if vmathUse == vmathAVX512 {
		vrelu512(&dst[0], &x[0], len(x))
		return
	}
	vreluGo(dst, x)
}

func vreluGrad(gx, g, y []float32) {
	if vmathUse == vmathAVX512 {
		vreluGrad512(&gx[0], &g[0], &y[0], len(g))
		return
	}
	vreluGradGo(gx, g, y)
}

func vreluGradSet(gx, g, y []float32) {
	if vmathUse == vmathAVX512 {
		vreluGradSet512(&gx[0], &g[0], &y[0], len(g))
		return
	}
	vreluGradSetGo(gx, g, y)
}

func vadam(p, g, m, v []float32, c *[9]float32) {
	if vmathUse == vmathAVX512 {
		vadam512(&p[0], &g[0], &m[0], &v[0], len(p), &c[0])
		return
	}
	vadamGo(p, g, m, v, c)
}

func lnForwardRow(y, h, x, gamma, beta []float32, eps float32, st []float32) {
	if vmathUse == vmathAVX512 {
		lnFwd512(&y[0], &h[0], &x[0], &gamma[0], &beta[0], len(x), eps, &st[0])
		return
	}
	lnForwardRowGo(y, h, x, gamma, beta, eps, st)
}

func lnBackwardRow(gx, gg, gb, gy, h, gamma []float32, rstd float32, set bool) {
	if vmathUse == vmathAVX512 {
		s := 0
		if set {
			s = 1
		}
		lnBwd512(&gx[0], &gg[0], &gb[0], &gy[0], &h[0], &gamma[0], len(gy), rstd, s)
		return
	}
	lnBackwardRowGo(gx, gg, gb, gy, h, gamma, rstd, set)
}
