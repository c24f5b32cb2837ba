//go:build !unix

package tasks

import "testing"

// mkfifo reports false: there are no named pipes in the file system here
// (Windows keeps its pipes under \\.\pipe\), so the FIFO cases skip.
func mkfifo(*testing.T, string) bool { return false }
