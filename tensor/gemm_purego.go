package tensor

import "unsafe"

// gemmPureGo is the blocked driver over a 4×8 micro-kernel written in Go.
// It is slower than gonum's Sgemm and never the default; it exists so the
// blocking, packing and edge logic can be tested on every architecture, and
// as the executable specification of what the assembly kernels compute.
var gemmPureGo = &gemmKernel{name: "purego", mr: 4, nr: 8, vlen: 8, micro: gemmGoMicros()}

func gemmGoMicros() (t [2][][][2]gemmMicro) {
	for mode := range 2 {
		t[mode] = make([][][2]gemmMicro, 5)
		for rows := 1; rows <= 4; rows++ {
			f := gemmGoMicro(mode, rows)
			t[mode][rows] = [][2]gemmMicro{{f, f}}
		}
	}
	return t
}

func gemmGoMicro(mode, rows int) gemmMicro {
	return func(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, nr int) {
		var acc [4][8]float32
		ap, bp := unsafe.Pointer(a), unsafe.Pointer(b)
		// Byte steps to the next A element along i and along p.
		di, dp := 4, as
		if mode == 1 {
			di, dp = as, 4
		}
		for p := 0; p < k; p++ {
			brow := unsafe.Slice((*float32)(unsafe.Add(bp, p*bs)), nr)
			for i := 0; i < rows; i++ {
				av := *(*float32)(unsafe.Add(ap, p*dp+i*di))
				for j, bv := range brow {
					acc[i][j] += av * bv
				}
			}
		}
		for i := 0; i < rows; i++ {
			crow := unsafe.Slice((*float32)(unsafe.Add(unsafe.Pointer(c), i*cs)), nr)
			for j := range crow {
				if beta == 0 {
					crow[j] = alpha * acc[i][j]
				} else {
					crow[j] = alpha*acc[i][j] + beta*crow[j]
				}
			}
		}
	}
}
