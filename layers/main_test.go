package layers_test

import (
	"os"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// TestMain runs the package's tests with uncleared buffers full of NaN
// (tensor.PoisonDirty): a kernel that reads memory it did not write fails
// them instead of passing on recycled zeros.
func TestMain(m *testing.M) {
	tensor.PoisonDirty(true)
	os.Exit(m.Run())
}
