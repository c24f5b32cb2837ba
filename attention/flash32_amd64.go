//go:build amd64 && !purego

package attention

import "golang.org/x/sys/cpu"

//go:generate go run flash_asmgen.go

var (
	// flashAVX512 and flashAVX2 report which fused flash kernels can run.
	flashAVX512 = cpu.X86.HasAVX512F
	flashAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	// flashUse512 picks the AVX-512 kernels where both run (tests switch
	// it to run the AVX2 ones too).
	flashUse512 = flashAVX512
)

// flashFwd runs flashFwd32 or its AVX2 twin.
func flashFwd(qt, k, v *float32, nk int, ot, ml, kbias *float32) {
	if flashUse512 {
		flashFwd32(qt, k, v, nk, ot, ml, kbias)
		return
	}
	flashFwd32y(qt, k, v, nk, ot, ml, kbias)
}

// flashBwd runs flashBwd32 or its AVX2 twin.
func flashBwd(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int) {
	if flashUse512 {
		flashBwd32(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias, nsub)
		return
	}
	flashBwd32y(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias, nsub)
}

//go:noescape
func flashFwd32(qt, k, v *float32, nk int, ot, ml, kbias *float32)

//go:noescape
func flashBwd32(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int)

//go:noescape
func flashFwd32y(qt, k, v *float32, nk int, ot, ml, kbias *float32)

//go:noescape
func flashBwd32y(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int)
