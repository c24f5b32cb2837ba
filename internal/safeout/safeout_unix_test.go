//go:build unix

package safeout

import (
	"syscall"
	"testing"
)

// testUmasks are the umasks TestWriteNewFile writes a file under, and
// newFilePerm the mode Write creates it with, less the umask.
var testUmasks = []int{0o022, 0o077, 0o002}

const newFilePerm = 0o644

func setUmask(mask int) (old int) { return syscall.Umask(mask) }

// mkfifo makes a named pipe (FIFO) at path and reports true.
func mkfifo(t *testing.T, path string) bool {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return true
}
