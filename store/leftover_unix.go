//go:build unix

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// shmLockBytes are the bytes of a -shm file that SQLite's unix VFS locks:
// its 8 WAL locks from offset 120 and the "DMS" byte after them, on which
// every connection to the database holds a shared lock while open.
const shmLockStart, shmLockLen = 120, 9

// removeLeftovers removes the -wal and -shm files of the SQLite database
// at path that a failed open created (hadWAL, hadSHM: which existed
// before it), as SQLite does when the last connection closes: only while
// no other process uses them (a write lock on the -shm's lock bytes, as
// SQLite takes), and a -wal only when empty (nothing was written to it).
// Problems are ignored: the files are then left, as before.
func removeLeftovers(path string, hadWAL, hadSHM bool) {
	wal, shm := path+"-wal", path+"-shm"
	if !hadSHM {
		f, err := os.OpenFile(shm, os.O_RDWR, 0)
		if err != nil {
			return
		}
		// Closing f drops this process's locks on the file, held through f
		// or not; no connection of this process uses a -shm file that the
		// failed open created.
		defer f.Close()
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: shmLockStart, Len: shmLockLen}
		if unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk) != nil {
			return // another process has the database open
		}
	} else if _, err := os.Lstat(shm); err == nil {
		return // a -shm that was there: another connection may use the -wal
	}
	if !hadWAL {
		if fi, err := os.Lstat(wal); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			os.Remove(wal)
		}
	}
	if !hadSHM {
		os.Remove(shm)
	}
}
