//go:build linux || darwin || freebsd

package tensor

import "golang.org/x/sys/unix"

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
