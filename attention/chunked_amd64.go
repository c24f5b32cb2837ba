//go:build amd64 && !purego

package attention

//go:noescape
func dsRow512(s, p *float32, n int, d float32)

//go:noescape
func dsRow256(s, p *float32, n int, d float32)

// dsRowSIMD does dsRow on the leading multiple of 16 with AVX-512 (when
// linearAVX512 selects the AVX-512 kernels), or of 8 with AVX2 (when
// linearAVX2 does), returning how many values it did. Both compute each
// value as the Go loop does: one subtraction, one product.
func dsRowSIMD(s, p []float32, d float32) int {
	n := 0
	switch {
	case linearAVX512:
		n = len(p) &^ 15
	case linearAVX2:
		n = len(p) &^ 7
	}
	if n == 0 {
		return 0
	}
	_ = s[n-1]
	if linearAVX512 {
		dsRow512(&s[0], &p[0], n, d)
	} else {
		dsRow256(&s[0], &p[0], n, d)
	}
	return n
}
