package experiments

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// setsOf returns the --set overrides a test file asks for in its leading
// "# --set key=value" comment lines.
func setsOf(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var sets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# --set ")
		if !ok {
			break
		}
		sets = append(sets, line)
	}
	return sets
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// TestBadCorpus loads every malformed experiment of testdata/bad and
// compares its errors with the .err file next to it.
func TestBadCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("testdata/bad has %d experiments, want at least 25", len(files))
	}
	regs := testRegistries(t)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			x, err := load(regs, path, setsOf(t, path), LoadOptions{})
			if err == nil {
				t.Fatalf("Load(%s) = %d runs, want an error", path, len(x.runs))
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Load(%s) error %T %v, want Errors", path, err, err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce != es[0] {
				t.Fatalf("errors.As(*ConfigError) did not give the first error")
			}
			for _, e := range es {
				if e.File == "" {
					t.Errorf("error without a file: %v", e)
				}
				if strings.Contains(e.Error(), "\n") {
					t.Errorf("error spans lines: %q", e.Error())
				}
			}
			golden(t, strings.TrimSuffix(path, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

// TestGoodCorpus loads every experiment of testdata/good and compares its
// plan with the .plan file next to it.
func TestGoodCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/good/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	regs := testRegistries(t)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			x, err := load(regs, path, setsOf(t, path), LoadOptions{})
			if err != nil {
				t.Fatalf("Load(%s):\n%v", path, err)
			}
			runs, err := x.Plan()
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			fmt.Fprintf(&b, "name: %s\nruns: %d\nvarying: %s\n", x.Name, len(runs), strings.Join(VaryingKeys(runs), " "))
			for _, r := range runs {
				fmt.Fprintf(&b, "%d seed=%d %s %s\n", r.Index, r.Seed, r.Hash, r.Label)
			}
			var pretty bytes.Buffer
			if err := jsonIndent(&pretty, runs[0].Canonical); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "first run:\n%s\n", pretty.Bytes())
			golden(t, strings.TrimSuffix(path, ".yaml")+".plan", b.Bytes())
		})
	}
}

func jsonIndent(dst *bytes.Buffer, src []byte) error { return json.Indent(dst, src, "", "  ") }
