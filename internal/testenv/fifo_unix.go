//go:build unix

package testenv

import (
	"syscall"
	"testing"
)

// Mkfifo makes a named pipe (FIFO) at path and reports true. Where the
// file system has no named pipes it reports false (fifo_other.go), and the
// caller leaves its FIFO case out.
func Mkfifo(tb testing.TB, path string) bool {
	tb.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		tb.Fatal(err)
	}
	return true
}
