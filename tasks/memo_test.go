package tasks

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestFileReadAndTokenizedOnce: loading an experiment (FingerprintFile,
// then CheckData with the fingerprints and the first run's seed) and that
// run's Build read the file once (and build its ids once: CheckData
// measures a text corpus without them); the run gets the
// dataset a fresh Build gives. A second Build, or a Build with another seed,
// reads the file again. Not parallel: it counts the package's file reads.
func TestFileReadAndTokenizedOnce(t *testing.T) {
	dir := t.TempDir()
	text := strings.Repeat("the cat sat on the mat. ", 200)
	if err := os.WriteFile(filepath.Join(dir, "book.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"path": "book.txt", "context": 16}
	opt := Options{BaseDir: dir, Seed: 3}
	reads := fileReads.Load()
	fp, err := FingerprintFile("text", "book.txt", opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Data = map[string]Fingerprint{"path": fp}
	if problems := CheckData("text", params, opt).Problems; problems != nil {
		t.Fatal(problems)
	}
	d, err := Build("text", params, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := fileReads.Load() - reads; n != 1 {
		t.Errorf("fingerprint, check and build read the file %d times, want 1", n)
	}
	fresh, err := Build("text", params, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := fileReads.Load() - reads; n != 2 {
		t.Errorf("a second Build read the file %d times in all, want 2 (the memo's dataset is taken once)", n)
	}
	if d == fresh {
		t.Error("two Builds returned the same dataset: runs would share it")
	}
	if !reflect.DeepEqual(d.Train, fresh.Train) || !reflect.DeepEqual(d.Test, fresh.Test) || d.TgtVocab.Len() != fresh.TgtVocab.Len() {
		t.Error("the dataset the check kept differs from a fresh Build's")
	}
	if problems := CheckData("text", params, opt).Problems; problems != nil {
		t.Fatal(problems)
	}
	other := opt
	other.Seed = 4
	if _, err := Build("text", params, other); err != nil {
		t.Fatal(err)
	}
	if n := fileReads.Load() - reads; n != 4 {
		t.Errorf("check and a Build with another seed read the file %d times in all, want 4", n)
	}
	memoData.take(datasetKey("text", params, opt)) // leave the memo empty
}

// TestCheckDataLengths: CheckData returns the longest source and target
// of a file task's data (Dataset.Longest), and nothing for a task that
// reads no files.
func TestCheckDataLengths(t *testing.T) {
	dir := t.TempDir()
	lines := "ab\tabc\nabcdefg\tx\nxy\tabcd\n"
	if err := os.WriteFile(filepath.Join(dir, "p.tsv"), []byte(strings.Repeat(lines, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"path": "p.tsv", "src_tokenizer": "char", "tgt_tokenizer": "char", "valid_fraction": 0.0, "test_fraction": 0.0}
	c := CheckData("pairs", params, Options{BaseDir: dir, Seed: 1})
	problems, src, tgt := c.Problems, c.Src, c.Tgt
	if problems != nil || src != 7 || tgt != 4 {
		t.Errorf("CheckData = %v, %d, %d; want no problems, 7, 4", problems, src, tgt)
	}
	if c := CheckData("reverse", nil, Options{Seed: 1}); c.Problems != nil || c.Src != 0 || c.Tgt != 0 || c.Bytes != 0 {
		t.Errorf("CheckData(reverse) = %+v, want the zero DataCheck", c)
	}
}
