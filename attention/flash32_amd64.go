//go:build amd64 && !purego

package attention

import "golang.org/x/sys/cpu"

//go:generate go run flash_asmgen.go

// flashAVX512 reports whether the fused flash kernels can run.
var flashAVX512 = cpu.X86.HasAVX512F

//go:noescape
func flashFwd32(qt, k, v *float32, nk int, ot, ml, kbias *float32)

//go:noescape
func flashBwd32(qt, dot, q, do, lsed, k, v, dk, dv, dqt, scr, kbias *float32, nsub int)
