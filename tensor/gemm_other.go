//go:build !amd64 || purego

package tensor

// Without the amd64 assembly kernels Gemm runs the blocked driver over the
// micro-kernel written in Go, not gonum's Sgemm: a row of C then sums its
// products in the same order whatever the other rows, the depth blocks or
// a frozen operand's packing — the properties the decoders' row selection,
// token tables and frozen weights are tested for (TestRowSelectorMatches-
// PreparingAgain, TestTokenTableBitwise, TestFreezeUsesPackedWeights), which
// gonum's Sgemm does not keep. Its full tile runs about as fast as gonum's
// Go code (3.4–3.9 against 3.3–4.4 GFLOP/s on one Zen 4 core, -tags
// purego,noasm); gonum's SSE loops, where they exist, are faster.
func init() {
	gemmKernelList = []*gemmKernel{gemmPureGo}
	gemmDefault = gemmPureGo
}

// prefetchRows does nothing without the assembly kernels.
func prefetchRows(x []float32, ld, rows, width int) {}
