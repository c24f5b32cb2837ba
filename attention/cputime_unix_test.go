//go:build linux || darwin || freebsd

package attention

import (
	"testing"

	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU seconds of the calling OS thread (lock the
// goroutine to its thread first).
func threadCPU(b *testing.B) float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return float64(ts.Nano()) / 1e9
}
