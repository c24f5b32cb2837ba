//go:build amd64 && !purego

package tensor

//go:noescape
func vsumRows512(dst, src *float32, rows, n, ld int)

func vsumRows(dst, src []float32, rows, n, ld int) {
	if vmathUse == vmathAVX512 {
		vsumRows512(&dst[0], &src[0], rows, n, ld)
		return
	}
	vsumRowsGo(dst, src, rows, n, ld)
}
