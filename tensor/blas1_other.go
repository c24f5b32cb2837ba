//go:build !amd64 || purego

package tensor

func vadd(dst, a, b []float32)                  { vaddGo(dst, a, b) }
func vacc(dst, x []float32)                     { vaccGo(dst, x) }
func vaxpy(dst, x []float32, s float32)         { vaxpyGo(dst, x, s) }
func vsumsq(x []float32) float64                { return vsumsqGo(x) }
func vrelu(dst, x []float32)                    { vreluGo(dst, x) }
func vreluGrad(gx, g, y []float32)              { vreluGradGo(gx, g, y) }
func vreluGradSet(gx, g, y []float32)           { vreluGradSetGo(gx, g, y) }
func vadam(p, g, m, v []float32, c *[9]float32) { vadamGo(p, g, m, v, c) }

func lnForwardRow(y, h, x, gamma, beta []float32, eps float32, st []float32) {
	lnForwardRowGo(y, h, x, gamma, beta, eps, st)
}

func lnBackwardRow(gx, gg, gb, gy, h, gamma []float32, rstd float32, set bool) {
	lnBackwardRowGo(gx, gg, gb, gy, h, gamma, rstd, set)
}
