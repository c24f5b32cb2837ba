//go:build amd64 && !purego

package tensor

// frozenMicro returns kr's prefetching row-mode kernel for a full-width
// tile of rows rows (1 ≤ rows ≤ kr.mr) that prefetches lines lines over kc
// steps, or nil when kr has none. The kernel prefetches a line every 1, 2
// or 3 steps: as sparsely as still covers the lines (W6's vocabulary
// product ran 5 % faster with one every three steps than with one every
// step).
func frozenMicro(kr *gemmKernel, rows, kc, lines int) gemmMicroPF {
	every := 3
	if lines > 0 {
		every = min(3, max(1, (kc+lines-1)/lines))
	}
	switch kr {
	case gemmAVX512:
		return gemmFrozenKernels512[every-1][rows]
	case gemmAVX2:
		return gemmFrozenKernels256[every-1][rows]
	}
	return nil
}
