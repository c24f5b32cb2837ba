//go:build linux

package testenv

import (
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// PseudoTerminal opens a pseudo-terminal: tty is the terminal a program
// writes to (os.Stdout's place), master reads what it shows. Both are
// closed when the test ends. Without pseudo-terminals the test is skipped
// (fails in CI).
func PseudoTerminal(tb testing.TB) (master, tty *os.File) {
	tb.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		if InCI() {
			tb.Fatalf("testenv: CI needs pseudo-terminals: %v", err)
		}
		tb.Skipf("testenv: skipped, no pseudo-terminals here: %v", err)
	}
	tb.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		tb.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		tb.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tty.Close() })
	return master, tty
}
