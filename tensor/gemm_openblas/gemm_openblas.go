//go:build openblas && cgo

package gemmopenblas

/*
#cgo LDFLAGS: -lopenblas

// Declared here rather than through <cblas.h>, which Debian's alternatives
// may point at another BLAS. CBLAS enums: RowMajor 101, NoTrans 111, Trans 112.
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
	float alpha, const float *a, int lda, const float *b, int ldb,
	float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
*/
import "C"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices with
// cblas_sgemm. Arguments must already be checked (tensor.Gemm does), with
// m, n, k > 0.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ta, tb := C.int(111), C.int(111)
	if transA {
		ta = 112
	}
	if transB {
		tb = 112
	}
	C.cblas_sgemm(101, ta, tb, C.int(m), C.int(n), C.int(k),
		C.float(alpha), (*C.float)(&a[0]), C.int(lda), (*C.float)(&b[0]), C.int(ldb),
		C.float(beta), (*C.float)(&c[0]), C.int(ldc))
}

// SetThreads sets the number of OpenBLAS worker threads.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
