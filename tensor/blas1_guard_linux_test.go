package tensor

import (
	"runtime/debug"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestKernelsStopAtSliceEnd runs the blas1, row-sum and LayerNorm row
// kernels, every implementation, on slices that end where an unreadable
// page begins: a tail that loads or stores a whole vector past the end
// (instead of masking it) faults here, where in the Go heap it would read
// a neighbour's floats unnoticed. Lengths cover every tail, none (n a
// multiple of the vector width: a kernel that runs its masked tail there
// anyway, with an empty mask, must not fault) and the unrolled loops.
func TestKernelsStopAtSliceEnd(t *testing.T) {
	const maxN = 140
	page := unix.Getpagesize()
	size := (4*(2*maxN+1) + page - 1) / page * page // sumRows reads 2n+1 floats
	var maps [][]byte
	defer func() {
		for _, m := range maps {
			unix.Munmap(m)
		}
	}()
	// region maps size bytes of floats followed by a page that cannot be
	// read or written; end(i, k) is the last k floats of region i.
	region := func() []float32 {
		m, err := unix.Mmap(-1, 0, size+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err != nil {
			t.Fatalf("mmap: %v", err)
		}
		maps = append(maps, m)
		if err := unix.Mprotect(m[size:], unix.PROT_NONE); err != nil {
			t.Fatalf("mprotect: %v", err)
		}
		f := unsafe.Slice((*float32)(unsafe.Pointer(&m[0])), size/4)
		for i := range f {
			f[i] = float32(i%7) - 2.5
		}
		return f
	}
	regs := make([][]float32, 6)
	for i := range regs {
		regs[i] = region()
	}
	end := func(i, k int) []float32 { return regs[i][len(regs[i])-k:] }
	forEachVMath(t, func(t *testing.T) {
		// A fault becomes a panic (of this goroutine) recovered below.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		for n := 1; n <= maxN; n++ {
			c := [9]float32{0.9, 0.1, 0.999, 0.001, 1e-3, 30, 1e-8, 1, 0.01}
			for _, k := range []struct {
				name string
				run  func()
			}{
				{"AddSlice", func() { AddSlice(end(0, n), end(1, n), end(2, n)) }},
				{"AccSlice", func() { AccSlice(end(0, n), end(1, n)) }},
				{"AxpySlice", func() { AxpySlice(end(0, n), end(1, n), 0.5) }},
				{"relu", func() { reluSlice(end(0, n), end(1, n)) }},
				{"reluGrad", func() { reluGradAcc(end(0, n), end(1, n), end(2, n)) }},
				{"reluGradSet", func() { reluGradSet(end(0, n), end(1, n), end(2, n)) }},
				{"SumSquares", func() { SumSquares(end(1, n)) }},
				{"adam", func() { vadam(end(0, n), end(1, n), end(2, n), end(3, n), &c) }},
				{"sumRows", func() { sumRows(end(0, n), end(1, 2*n+1), 2, n, n+1) }},
				{"lnForward", func() {
					lnForwardRow(end(0, n), end(1, n), end(2, n), end(3, n), end(4, n), 1e-5, end(5, 2))
				}},
				{"lnBackward", func() {
					lnBackwardRow(end(0, n), end(1, n), end(2, n), end(3, n), end(4, n), end(5, n), 0.7, false)
				}},
				{"lnBackwardSet", func() {
					lnBackwardRow(end(0, n), end(1, n), end(2, n), end(3, n), end(4, n), end(5, n), 0.7, true)
				}},
			} {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s n=%d: %v (memory past the end of a slice touched)", k.name, n, r)
						}
					}()
					k.run()
				}()
			}
		}
	})
}
