//go:build !linux && !darwin && !freebsd

package tensor

import (
	"runtime"
	"testing"
	"time"
)

var cpuClockStart = time.Now()

// threadCPU stands in for the calling thread's CPU time where attnlab has
// no per-thread clock: wall seconds, which count other jobs' time too.
func threadCPU() float64 { return time.Since(cpuClockStart).Seconds() }

// cpuLoop runs f b.N times (b.Loop) on a locked thread and returns the
// seconds per call (wall time here; see threadCPU).
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
