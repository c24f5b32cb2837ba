package tensor

import "unsafe"

// gemmPureGo is the blocked driver over a 4×8 micro-kernel written in Go.
// It is Gemm's kernel where no assembly kernel runs (see gemm_other.go);
// on amd64 it lets the blocking, packing and edge logic be tested, and is
// the executable specification of what the assembly kernels compute.
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
		if rows == 4 && nr == 8 {
			gemmGoFull(mode, k, a, as, b, bs, c, cs, alpha, beta)
			return
		}
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

// gemmGoFull is the full 4×8 tile, as two 4×4 halves whose sixteen
// accumulators are local variables the compiler keeps in registers (the
// general loop above keeps its tile in memory and runs at a third of the
// speed). Each element sums the same products in the same order as the
// general loop, so its results are the same.
func gemmGoFull(mode, k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32) {
	ap, bp, cp := unsafe.Pointer(a), unsafe.Pointer(b), unsafe.Pointer(c)
	di, dp := uintptr(4), uintptr(as)
	if mode == 1 {
		di, dp = uintptr(as), 4
	}
	f := func(p unsafe.Pointer, off uintptr) float32 { return *(*float32)(unsafe.Add(p, off)) }
	for half := uintptr(0); half < 32; half += 16 {
		var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
		// Byte offsets, not advanced pointers: after the last step a
		// pointer would point past A and B, which unsafe.Pointer's rules
		// forbid (checkptr, on with -race, stops the program).
		oa, ob := uintptr(0), half
		for range k {
			a0, a1, a2, a3 := f(ap, oa), f(ap, oa+di), f(ap, oa+2*di), f(ap, oa+3*di)
			b0, b1, b2, b3 := f(bp, ob), f(bp, ob+4), f(bp, ob+8), f(bp, ob+12)
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
			c20 += a2 * b0
			c21 += a2 * b1
			c22 += a2 * b2
			c23 += a2 * b3
			c30 += a3 * b0
			c31 += a3 * b1
			c32 += a3 * b2
			c33 += a3 * b3
			oa, ob = oa+dp, ob+uintptr(bs)
		}
		for i, r := range [4][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}} {
			crow := (*[4]float32)(unsafe.Add(cp, uintptr(i*cs)+half))
			for j, v := range r {
				if beta == 0 {
					crow[j] = alpha * v
				} else {
					crow[j] = alpha*v + beta*crow[j]
				}
			}
		}
	}
}
