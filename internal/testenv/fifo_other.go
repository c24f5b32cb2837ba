//go:build !unix

package testenv

import "testing"

// Mkfifo reports false: there are no named pipes in the file system here
// (Windows keeps its pipes under \\.\pipe\), so the FIFO cases are left out.
func Mkfifo(testing.TB, string) bool { return false }
