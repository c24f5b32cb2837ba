//go:build unix

package term

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalWidth returns the column count of the terminal f, or 0 when f
// is not a terminal.
func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 0
	}
	return int(ws.Col)
}
