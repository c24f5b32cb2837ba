//go:build unix

package store

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// fileID identifies a file on this machine: its device and inode.
type fileID struct{ dev, ino uint64 }

// fileIDs says whether fileID tells files apart.
const fileIDs = true

// statID returns the identity of the file at path (following symlinks).
func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{dev: uint64(st.Dev), ino: st.Ino}, nil
}

// accessW reports whether this process may write path (access(2), which
// uses the real user id: root may write anything not on a read-only mount).
func accessW(path string) bool { return unix.Access(path, unix.W_OK) == nil }
