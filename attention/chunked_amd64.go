//go:build amd64 && !purego

package attention

//go:noescape
func dsRow512(s, p *float32, n int, d float32)

// dsRowSIMD does dsRow on the leading multiple of 16 with AVX-512 (when
// linearAVX512 selects the AVX-512 kernels), returning how many values it
// did.
func dsRowSIMD(s, p []float32, d float32) int {
	n := len(p) &^ 15
	if !linearAVX512 || n == 0 {
		return 0
	}
	_ = s[n-1]
	dsRow512(&s[0], &p[0], n, d)
	return n
}
