package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateAndEvalOnOldRuns: runs stored before commit 0756f25 hold their
// plugins as {"Name": ..., "Params": {...}} in model_spec.json; generate
// and eval must still load their models (testdata/schema2/bleu01.db: two
// runs of a reversal task, run 2 with additive attention).
func TestGenerateAndEvalOnOldRuns(t *testing.T) {
	data, err := os.ReadFile("testdata/schema2/bleu01.db")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "bleu01.db")
	if err := os.WriteFile(db, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"1", "2"} {
		r := attnlab(t, "generate", run, "--input", "abc", "--db", db)
		wantOK(t, r)
		if out := strings.TrimSpace(r.stdout); out == "" || strings.ContainsAny(out, "\n") {
			t.Errorf("generate %s printed %q, want one output line", run, r.stdout)
		}
	}
	tsv := writeIn(t, dir, "t.tsv", "abc\tcba\nbad\tdab\n")
	r := attnlab(t, "eval", "2", tsv, "--db", db)
	wantOK(t, r)
	for _, w := range []string{"2 lines", "BLEU|", "chrF2|", "exact match = "} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("eval printed %q, want %q in it", r.stdout, w)
		}
	}
}
