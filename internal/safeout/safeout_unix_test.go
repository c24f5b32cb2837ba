//go:build unix

package safeout

import "syscall"

// testUmasks are the umasks TestWriteNewFile writes a file under, and
// newFilePerm the mode Write creates it with, less the umask.
var testUmasks = []int{0o022, 0o077, 0o002}

const newFilePerm = 0o644

func setUmask(mask int) (old int) { return syscall.Umask(mask) }
