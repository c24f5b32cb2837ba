package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/tensor"
)

func init() {
	testCommands = append(testCommands, func() *cobra.Command {
		return &cobra.Command{Use: "test-bug", Hidden: true, Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				if args[0] == "tensor" {
					panic(tensor.Error{Msg: "tensor.MatMul: inner dimensions differ"})
				}
				panic("deliberate bug\nin two lines")
			}}
	})
}

// TestPanicIsInternalError: a bug that panics in a command exits 3 with one
// line naming a crash report; the stack is in the report, never on the
// terminal. A tensor.Error is the input's fault: exit 1, its message.
func TestPanicIsInternalError(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ATTNLAB_CRASH_DIR", dir)
	r := attnlab(t, "test-bug", "bug")
	wantError(t, r, exitInternal, "attnlab: test-bug: internal error: deliberate bug (a bug in attnlab; report written to "+dir)
	reports, _ := filepath.Glob(filepath.Join(dir, "crash-*.log"))
	if len(reports) != 1 {
		t.Fatalf("crash reports: %v, want one", reports)
	}
	data, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "goroutine ") || !strings.Contains(string(data), "crash_test.go") {
		t.Errorf("the report has no stack:\n%s", data)
	}
	if !strings.Contains(r.stderr, reports[0]) {
		t.Errorf("stderr does not name the report %s: %q", reports[0], r.stderr)
	}

	wantError(t, attnlab(t, "test-bug", "tensor"), exitFailure, "attnlab: test-bug: tensor.MatMul: inner dimensions differ")
}
