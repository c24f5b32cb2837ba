//go:build openblas && cgo

package tensor

import "github.com/attnlab/attnlab/tensor/gemm_openblas"

// With -tags openblas, OpenBLAS's cblas_sgemm (package gemmopenblas; needs
// `apt-get install libopenblas-dev`) becomes Gemm's default backend, for
// comparison with the built-in kernels, which stay available to tests and
// benchmarks. Its threads follow SetThreads (1 by default).

var gemmOpenBLASKernel = &gemmKernel{name: "openblas", fn: gemmopenblas.Sgemm}

func init() {
	gemmDefault = gemmOpenBLASKernel
	gemmExternal = append(gemmExternal, gemmOpenBLASKernel)
	gemmopenblas.SetThreads(1)
	gemmThreadsHook = gemmopenblas.SetThreads
}
