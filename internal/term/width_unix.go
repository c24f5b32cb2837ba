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

// Sized reports whether the terminal f reports its size (columns and
// rows): a pseudo-terminal that no one sized reports 0 × 0, on which
// progress bars would draw nothing.
func Sized(f *os.File) bool {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil && ws.Col > 0 && ws.Row > 0
}
