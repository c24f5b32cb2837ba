// Package golden compares a test's output with a golden file under the
// test package's testdata directory, or rewrites the file when the test
// binary runs with -update (go test ./pkg -update), as go/printer's tests
// do. Importing it defines the -update flag: a test package that imports
// it must not define its own.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update is the -update flag: rewrite golden files instead of comparing.
var Update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check compares got with testdata/NAME; with -update it writes got there
// instead (creating testdata if needed). A difference is a test error that
// shows both texts.
func Check(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		tb.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
