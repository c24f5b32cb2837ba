//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

//go:generate go run gemm_asmgen.go

// gemmAVX512 is the 12×32 AVX-512F micro-kernel family (24 zmm
// accumulators); it needs AVX512F and the OS saving zmm state, which
// cpu.X86.HasAVX512F already checks.
var gemmAVX512 = &gemmKernel{
	name: "avx512", mr: 12, nr: 32, vlen: 16,
	micro: gemmKernels512, packT: gemmPackTrans512, packN: gemmPackCopy512,
	prefetch: gemmPrefetchRows,
}

// gemmAVX2 is the 6×16 AVX2+FMA micro-kernel family (12 ymm accumulators).
var gemmAVX2 = &gemmKernel{
	name: "avx2", mr: 6, nr: 16, vlen: 8, maskedEdge: true,
	micro: gemmKernels256, packT: gemmPackTrans256, packN: gemmPackCopy256,
	prefetch: gemmPrefetchRows, packBMin: 60 << 10, packSteps: true, transA: true,
	panels: gemmPanels256,
}

func init() {
	gemmKernelList = nil
	if cpu.X86.HasAVX512F {
		gemmKernelList = append(gemmKernelList, gemmAVX512)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		gemmKernelList = append(gemmKernelList, gemmAVX2)
	}
	gemmKernelList = append(gemmKernelList, gemmPureGo)
	gemmDefault = gemmKernelList[0]
}

// gemmPackTrans512 is gemmPackTrans with AVX-512 16×16 transposes.
func gemmPackTrans512(dst []float32, ds int, src []float32, ld, rows, cols int) {
	_ = src[(rows-1)*ld+cols-1]
	_ = dst[(cols-1)*ds+rows-1]
	for r := 0; r < rows; r += 16 {
		gemmPackT16(&dst[r], 4*ds, &src[r*ld], 4*ld, min(16, rows-r), cols)
	}
}

// gemmPackTrans256 is gemmPackTrans with AVX2 8×8 transposes.
func gemmPackTrans256(dst []float32, ds int, src []float32, ld, rows, cols int) {
	_ = src[(rows-1)*ld+cols-1]
	_ = dst[(cols-1)*ds+rows-1]
	for r := 0; r < rows; r += 8 {
		gemmPackT8(&dst[r], 4*ds, &src[r*ld], 4*ld, min(8, rows-r), cols)
	}
}

// gemmPackCopy512 is gemmPackCopy with opmasked AVX-512 row copies for
// blocks up to 32 columns wide (panels of a transposed A, of a plain B).
func gemmPackCopy512(dst []float32, ds int, src []float32, ld, rows, cols int) {
	if cols > 32 {
		gemmPackCopy(dst, ds, src, ld, rows, cols)
		return
	}
	_ = src[(rows-1)*ld+cols-1]
	_ = dst[(rows-1)*ds+cols-1]
	gemmPackN32(&dst[0], 4*ds, &src[0], 4*ld, rows, cols)
}

// gemmPackCopy256 is gemmPackCopy with ymm row copies for blocks exactly
// 16 columns wide (the full panels of a plain B for the AVX2 kernels);
// other widths take gemmPackCopy.
func gemmPackCopy256(dst []float32, ds int, src []float32, ld, rows, cols int) {
	if cols != 16 {
		gemmPackCopy(dst, ds, src, ld, rows, cols)
		return
	}
	_ = src[(rows-1)*ld+cols-1]
	_ = dst[(rows-1)*ds+cols-1]
	gemmPackN16(&dst[0], 4*ds, &src[0], 4*ld, rows)
}

// prefetchRows asks for rows rows of width floats, ld floats apart, from x
// on (PREFETCHT0 on every cache line).
func prefetchRows(x []float32, ld, rows, width int) {
	gemmPrefetchRows(&x[0], 4*ld, rows, 4*width)
}
