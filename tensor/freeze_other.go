//go:build !amd64 || purego

package tensor

// frozenMicro: no prefetching kernels on this platform.
func frozenMicro(kr *gemmKernel, rows, kc, lines int) gemmMicroPF { return nil }
