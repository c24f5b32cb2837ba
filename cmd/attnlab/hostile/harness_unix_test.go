//go:build unix

package hostile

import (
	"os"
	"syscall"
)

// fifo creates a named pipe that nobody writes to.
func (e *env) fifo(name string) string {
	e.t.Helper()
	p := e.path(name)
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// peakRSS returns the peak resident set of a process that ended, in bytes.
func peakRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) << 10 // KB on Linux
	}
	return 0
}
