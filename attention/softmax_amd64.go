//go:build amd64 && !purego

package attention

//go:noescape
func softmaxBwd512(ds, gr, p *float32, n int)

// softmaxBwdSIMD does softmaxBwdRow with AVX-512 (when linearAVX512
// selects the AVX-512 kernels) and reports whether it did.
func softmaxBwdSIMD(ds, g, p []float32) bool {
	n := len(p)
	if !linearAVX512 || n == 0 {
		return false
	}
	_, _ = ds[n-1], g[n-1]
	softmaxBwd512(&ds[0], &g[0], &p[0], n)
	return true
}

// softmaxFwd512 replaces x (n ≥ 1 values) by its softmax and returns true,
// or leaves a row with no finite entry as it is and returns false.
//
//go:noescape
func softmaxFwd512(x *float32, n int) bool

// softmaxFwdSIMD does softmaxRow in one AVX-512 kernel (when linearAVX512
// selects the AVX-512 kernels) and reports whether it did: a row with no
// finite entry (fully masked, or a NaN query's) is left to softmaxRow's
// own branch for those.
func softmaxFwdSIMD(x []float32) bool {
	if !linearAVX512 || len(x) == 0 {
		return false
	}
	return softmaxFwd512(&x[0], len(x))
}
