//go:build linux

package term

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/attnlab/attnlab/internal/testenv"
)

// TestSized: a pseudo-terminal no one sized (0 × 0) is not Sized, so no
// progress bars are drawn on it; once given a size, it is. A file that is
// no terminal is not Sized either.
func TestSized(t *testing.T) {
	_, pts := testenv.PseudoTerminal(t)
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{}); err != nil {
		t.Fatal(err)
	}
	if Sized(pts) {
		t.Error("a 0 × 0 terminal is Sized")
	}
	if err := unix.IoctlSetWinsize(int(pts.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: 80, Row: 24}); err != nil {
		t.Fatal(err)
	}
	if !Sized(pts) {
		t.Error("an 80 × 24 terminal is not Sized")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if Sized(f) {
		t.Error("a regular file is Sized")
	}
}
