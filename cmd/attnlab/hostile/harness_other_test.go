//go:build !unix

package hostile

import "os"

// fifo skips the case: there are no named pipes in the file system here
// (Windows keeps its pipes under \\.\pipe\).
func (e *env) fifo(name string) string {
	e.t.Helper()
	e.t.Skip("no FIFOs on this platform")
	return ""
}

// peakRSS returns -1, not measured: the process state has no peak
// resident set here (Windows gives only times), and verify says so.
func peakRSS(*os.ProcessState) int64 { return -1 }
