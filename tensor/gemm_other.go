//go:build !amd64 || purego

package tensor

// Without the amd64 assembly kernels Gemm keeps gonum's blas32 Sgemm
// (gemmDefault stays nil); the pure-Go blocked kernel remains available to
// tests.
func init() {
	gemmKernelList = []*gemmKernel{gemmPureGo}
}

// prefetchRows does nothing without the assembly kernels.
func prefetchRows(x []float32, ld, rows, width int) {}
