//go:build amd64 && !purego

package attention

import "golang.org/x/sys/cpu"

// linearAVX512 selects the AVX-512 kernels of linear attention's
// elementwise passes (tests switch it off to run the Go loops too).
var linearAVX512 = cpu.X86.HasAVX512F

// linearAVX2 selects their AVX2+FMA variants where linearAVX512 is off
// (CPUs without AVX-512; tests switch it on and off to run each kernel).
var linearAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func eluSel512(y, d, x *float32, n int)

//go:noescape
func eluSelY512(y, x *float32, n int)

//go:noescape
func eluSelZ512(y, z, x *float32, n int)

//go:noescape
func eluGrad512(dst, gr, add, fx *float32, n int)

//go:noescape
func qGrad512(gr, o, fq, dz, df, z, dq, gq *float32, n int, inv float32)

//go:noescape
func eluSel256(y, d, x *float32, n int)

//go:noescape
func eluSelY256(y, x *float32, n int)

//go:noescape
func eluSelZ256(y, z, x *float32, n int)

//go:noescape
func eluGrad256(dst, gr, add, fx *float32, n int)

//go:noescape
func qGrad256(gr, o, fq, dz, df, z, dq, gq *float32, n int, inv float32)

// linearLanes is how many values the elementwise kernels in use take at a
// time (16 with AVX-512, 8 with AVX2; 0: none, the Go loops do all).
func linearLanes() int {
	switch {
	case linearAVX512:
		return 16
	case linearAVX2:
		return 8
	}
	return 0
}

// eluSelect finishes φ and φ' (see eluRow) on the leading multiple of the
// kernels' lanes of x with AVX-512 or AVX2, returning how many values it
// did.
func eluSelect(y, d, x []float32) int {
	l := linearLanes()
	if l == 0 || len(x) < l {
		return 0
	}
	n := len(x) &^ (l - 1)
	_ = y[n-1]
	switch {
	case d == nil && l == 16:
		eluSelY512(&y[0], &x[0], n)
	case d == nil:
		eluSelY256(&y[0], &x[0], n)
	case l == 16:
		_ = d[n-1]
		eluSel512(&y[0], &d[0], &x[0], n)
	default:
		_ = d[n-1]
		eluSel256(&y[0], &d[0], &x[0], n)
	}
	return n
}

// eluSelectSum is eluSelect without φ' and with z += φ.
func eluSelectSum(y, z, x []float32) int {
	l := linearLanes()
	if l == 0 || len(x) < l {
		return 0
	}
	n := len(x) &^ (l - 1)
	_, _ = y[n-1], z[n-1]
	if l == 16 {
		eluSelZ512(&y[0], &z[0], &x[0], n)
	} else {
		eluSelZ256(&y[0], &z[0], &x[0], n)
	}
	return n
}

// eluGradSIMD is eluGradRow's add-variant on the leading multiple of 8
// values: with AVX-512 the multiple of 16 first, then a remaining 8 with
// the AVX2 kernel, as the AVX2 kernels would take them. The Go loop
// rounds twice where the kernels fuse, so the two kinds of kernel leave
// it the same values and give the same bits (with AVX-512 alone, n = 8
// gave −0.038690507 where the AVX2 kernel gave −0.038690496).
func eluGradSIMD(dst, g, add, fx []float32) int {
	l := linearLanes()
	if l == 0 || len(fx) < 8 {
		return 0
	}
	n := 0
	if l == 16 && len(fx) >= 16 {
		n = len(fx) &^ 15
		_, _, _ = dst[n-1], g[n-1], add[n-1]
		eluGrad512(&dst[0], &g[0], &add[0], &fx[0], n)
	}
	if m := len(fx) &^ 7; m > n {
		_, _, _ = dst[m-1], g[m-1], add[m-1]
		eluGrad256(&dst[n], &g[n], &add[n], &fx[n], m-n)
		n = m
	}
	return n
}

// qGradSIMD does, with AVX-512 or AVX2 (bitwise the same), one head of
// one query row of the non-causal backward pass: c = g·o, dz −= c·fq,
// gq += (df − c·z)·inv ⊙ dq (see backwardAll), when the feature and value
// sizes are the same multiple of 16; it reports whether it did.
func qGradSIMD(g, o, fq, dz, df, z, dq, gq []float32, inv float32) bool {
	n := len(fq)
	l := linearLanes()
	if l == 0 || n&15 != 0 || n == 0 || len(g) != n {
		return false
	}
	_, _, _, _, _, _, _ = o[n-1], fq[n-1], dz[n-1], df[n-1], z[n-1], dq[n-1], gq[n-1]
	if l == 16 {
		qGrad512(&g[0], &o[0], &fq[0], &dz[0], &df[0], &z[0], &dq[0], &gq[0], n, inv)
	} else {
		qGrad256(&g[0], &o[0], &fq[0], &dz[0], &df[0], &z[0], &dq[0], &gq[0], n, inv)
	}
	return true
}
