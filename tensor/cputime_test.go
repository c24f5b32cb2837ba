package tensor

import (
	"runtime"
	"testing"
)

// cpuLoop runs f b.N times (b.Loop) on a locked thread and returns the
// thread's CPU seconds per call (threadCPU: wall seconds where there is no
// per-thread clock).
func cpuLoop(b *testing.B, f func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	return (threadCPU() - t0) / float64(max(n, 1))
}
