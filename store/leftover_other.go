//go:build !unix

package store

// removeLeftovers leaves the -wal and -shm files off unix, where it cannot
// tell whether another process uses them.
func removeLeftovers(path string, hadWAL, hadSHM bool) {}
