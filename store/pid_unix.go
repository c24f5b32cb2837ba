//go:build unix

package store

import (
	"errors"
	"syscall"
)

// pidAlive reports whether a process with this id exists on this machine.
// Only ESRCH counts as dead: EPERM means it exists under another user.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return !errors.Is(err, syscall.ESRCH)
}
