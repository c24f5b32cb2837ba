//go:build linux || darwin || freebsd

package tensor

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time of the calling OS thread in seconds: on a
// machine shared with other jobs it counts only the time this thread ran,
// so benchmarks report it next to wall time (lock the goroutine to its
// thread first).
func threadCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return float64(ts.Nano()) / 1e9
}

// cpuLoop runs f b.N times (b.Loop) on a locked thread and returns the
// thread's CPU seconds per call.
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
