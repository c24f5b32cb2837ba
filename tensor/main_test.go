package tensor

import (
	"os"
	"testing"
)

// TestMain runs the package's tests with uncleared buffers full of NaN
// (PoisonDirty): a kernel that reads memory it did not write fails them
// instead of passing on recycled zeros.
func TestMain(m *testing.M) {
	PoisonDirty(true)
	os.Exit(m.Run())
}
