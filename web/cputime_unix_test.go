//go:build unix

package web

import (
	"syscall"
	"time"
)

// cpuTime is the process's user + system CPU time: on a machine shared
// with other work, wall time says more about the neighbours than about
// the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
