// Package gemmopenblas binds OpenBLAS's cblas_sgemm for tensor's optional
// "openblas" backend. Its cgo code is compiled only with -tags openblas
// (and needs `apt-get install libopenblas-dev` on Debian/Ubuntu); without
// the tag the package is empty. It lives apart from tensor because a
// package using cgo cannot also hold Go assembly.
package gemmopenblas
