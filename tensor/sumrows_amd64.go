//go:build amd64 && !purego

package tensor

//go:noescape
func vsumRows512(dst, src *float32, rows, n, ld int)

//go:noescape
func vsumRows256(dst, src *float32, rows, n, ld int)

func vsumRows(dst, src []float32, rows, n, ld int) {
	switch vmathUse {
	case vmathAVX512:
		vsumRows512(&dst[0], &src[0], rows, n, ld)
	case vmathAVX2:
		vsumRows256(&dst[0], &src[0], rows, n, ld)
	default:
		vsumRowsGo(dst, src, rows, n, ld)
	}
}
