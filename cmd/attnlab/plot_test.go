package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// isPNG checks that path holds a PNG image.
func isPNG(t testing.TB, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 1000 {
		t.Errorf("%s is not a PNG image (%d bytes)", path, len(data))
	}
}

func TestPlot(t *testing.T) {
	db := sharedDB(t)
	dir := t.TempDir()
	run := runOf(t, db, "tiny", `"additive"`)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"curves.png", []string{"plot", "curves", "tiny", "--metric", "valid/loss"}},
		{"curves_by.png", []string{"plot", "curves", "tiny", "--metric", "train/loss", "--by", "seed", "--where", "model.attention.name = additive"}},
		{"attention.png", []string{"plot", "attention", id(run), "--example", "1"}},
		{"attention_max.png", []string{"plot", "attention", id(run), "--vmax", "max"}},
		{"attention_vmax.png", []string{"plot", "attention", id(run), "--vmax", "0.3"}},
		{"length.png", []string{"plot", "length", "tiny"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			r := attnlab(t, append(tc.args, "-o", path, "--db", db)...)
			wantOK(t, r)
			if r.stdout != "wrote "+path+"\n" {
				t.Errorf("stdout %q", r.stdout)
			}
			isPNG(t, path)
		})
	}
}

func TestPlotErrors(t *testing.T) {
	db := sharedDB(t)
	out := filepath.Join(t.TempDir(), "x.png")
	run := runOf(t, db, "tiny", `"additive"`)
	wantError(t, attnlab(t, "plot", "attention", "99", "-o", out, "--db", db), exitUsage, `plot attention: no run "99"`)
	wantError(t, attnlab(t, "plot", "attention", id(run), "--example", "50", "-o", out, "--db", db), exitUsage, "example 50")
	wantError(t, attnlab(t, "plot", "curves", "tiny", "--metric", "nope", "-o", out, "--db", db), exitUsage, `"nope"`)
	wantError(t, attnlab(t, "plot", "curves", "nope", "-o", out, "--db", db), exitUsage, `"nope"`)
	wantError(t, attnlab(t, "plot", "length", "tiny", "-o", filepath.Join(t.TempDir(), "x.doc"), "--db", db), exitUsage, ".doc")
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed plot wrote %s", out)
	}
	// Over an existing file, a mistake in the arguments is said first; with
	// them right, the file is refused without --force and left as it was.
	old := filepath.Join(t.TempDir(), "old.png")
	if err := os.WriteFile(old, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantError(t, attnlab(t, "plot", "curves", "tiny", "--metric", "nope", "-o", old, "--db", db), exitUsage, `"nope"`)
	wantError(t, attnlab(t, "plot", "length", "nope", "-o", old, "--db", db), exitUsage, `"nope"`)
	wantError(t, attnlab(t, "plot", "attention", id(run), "--example", "50", "-o", old, "--db", db), exitUsage, "example 50")
	wantError(t, attnlab(t, "plot", "curves", "tiny", "-o", old, "--db", db), exitUsage, "file exists (--force replaces it)")
	if b, _ := os.ReadFile(old); string(b) != "keep" {
		t.Errorf("%s now holds %q", old, b)
	}
}
