//go:build amd64 && !purego

package tensor

//go:noescape
func lnFwd512(y, h, x, gamma, beta *float32, n int, eps float32, stats *float32)

//go:noescape
func lnBwd512(gx, gg, gb, gy, h, gamma *float32, n int, rstd float32, set int)

//go:noescape
func lnFwd256(y, h, x, gamma, beta *float32, n int, eps float32, stats *float32)

//go:noescape
func lnBwd256(gx, gg, gb, gy, h, gamma *float32, n int, rstd float32, set int)
