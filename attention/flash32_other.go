//go:build !amd64 || purego

package attention

// flashAVX512 is false off amd64: the flash op keeps its tile loop.
var flashAVX512 = false

func flashFwd32(qt, k, v *float32, nk int, ot, ml, kbias *float32) {
	panic("attention: flashFwd32 without AVX-512")
}

func flashBwd32(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int) {
	panic("attention: flashBwd32 without AVX-512")
}
