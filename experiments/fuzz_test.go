package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that the loader never panics, whatever the file and the
// --set override, and that what it returns is well formed: either runs with
// hashes or one-line errors naming a file. Its seed corpus is every
// experiment of testdata, so plain go test runs it.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "")
	}
	f.Add([]byte(minimal), "model.attention={name: multi-head, heads: 2}")
	f.Add([]byte(minimal), "sweep.grid.model.embed=[1, 2]")
	f.Add([]byte(minimal), "sweep.random.params.train.clip={uniform: [0, 1]}")
	f.Add([]byte("a: &a [*a]\n"), "")
	f.Add([]byte("a: &x {b: 1}\nb:\n  <<: *x\n  c: 2\n"), "")
	f.Add([]byte("name: x\ntask: {name: reverse}\n\"a\\nb\": 1\n"), "")
	regs := testRegistries(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		path := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		x, err := load(regs, path, sets, LoadOptions{})
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v, want Errors", err, err)
			}
			for _, e := range es {
				if e.File == "" || strings.ContainsAny(e.Error(), "\n\r") {
					t.Fatalf("malformed error %q", e.Error())
				}
			}
			return
		}
		runs, err := x.Plan()
		if err != nil || len(runs) == 0 {
			t.Fatalf("Plan = %d runs, %v", len(runs), err)
		}
		for _, r := range runs {
			if len(r.Hash) != 16 || len(r.Params) == 0 {
				t.Fatalf("run %d: hash %q, %d params", r.Index, r.Hash, len(r.Params))
			}
		}
	})
}
