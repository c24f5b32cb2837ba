//go:build !amd64 || purego

package attention

// Off amd64 the flash op keeps its tile loop.
var (
	flashAVX512 = false
	flashAVX2   = false
	flashUse512 = false
)

func flashFwd(qt, k, v *float32, nk int, ot, ml, kbias *float32) {
	panic("attention: fused flash kernel without AVX-512 or AVX2")
}

func flashBwd(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int) {
	panic("attention: fused flash kernel without AVX-512 or AVX2")
}
