//go:build !amd64 || purego

package tensor

func vsumRows(dst, src []float32, rows, n, ld int) { vsumRowsGo(dst, src, rows, n, ld) }
