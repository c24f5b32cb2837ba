//go:build amd64 && !purego

package attention

import "golang.org/x/sys/cpu"

// linearAVX512 selects the AVX-512 kernels of linear attention's
// elementwise passes (tests switch it off to run the Go loops too).
var linearAVX512 = cpu.X86.HasAVX512F

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

// eluSelect finishes φ and φ' (see eluRow) on the leading multiple of 16
// of x with AVX-512, returning how many values it did.
func eluSelect(y, d, x []float32) int {
	n := len(x) &^ 15
	if !linearAVX512 || n == 0 {
		return 0
	}
	if d == nil {
		eluSelY512(&y[0], &x[0], n)
	} else {
		eluSel512(&y[0], &d[0], &x[0], n)
	}
	return n
}

// eluSelectSum is eluSelect without φ' and with z += φ.
func eluSelectSum(y, z, x []float32) int {
	n := len(x) &^ 15
	if !linearAVX512 || n == 0 {
		return 0
	}
	_, _ = y[n-1], z[n-1]
	eluSelZ512(&y[0], &z[0], &x[0], n)
	return n
}

// eluGradSIMD is eluGradRow's add-variant on the leading multiple of 16.
func eluGradSIMD(dst, g, add, fx []float32) int {
	n := len(fx) &^ 15
	if !linearAVX512 || n == 0 {
		return 0
	}
	eluGrad512(&dst[0], &g[0], &add[0], &fx[0], n)
	return n
}

// qGradSIMD does, with AVX-512, one head of one query row of the
// non-causal backward pass: c = g·o, dz −= c·fq, gq += (df − c·z)·inv ⊙ dq
// (see backwardAll), when the feature and value sizes are the same
// multiple of 16; it reports whether it did.
func qGradSIMD(g, o, fq, dz, df, z, dq, gq []float32, inv float32) bool {
	n := len(fq)
	if !linearAVX512 || n&15 != 0 || n == 0 || len(g) != n {
		return false
	}
	_, _, _, _, _, _, _ = o[n-1], fq[n-1], dz[n-1], df[n-1], z[n-1], dq[n-1], gq[n-1]
	qGrad512(&g[0], &o[0], &fq[0], &dz[0], &df[0], &z[0], &dq[0], &gq[0], n, inv)
	return true
}
