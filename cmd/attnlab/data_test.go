package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestDataIdentity (issue 10): the contents of a pairs file are part of a
// run's identity. Rerunning with the same file does nothing new; after the
// file changes, the same command makes a new run, and show prints each
// run's fingerprint.
func TestDataIdentity(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	writePairs := func(n int) {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "w%d x%d\tx%d w%d\n", i, i%7, i%7, i)
		}
		if err := os.WriteFile(filepath.Join(dir, "pairs.tsv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exp := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(exp, []byte(`name: data-id
task: {name: pairs, path: pairs.tsv}
model: {name: seq2seq-rnn, embed: 8, encoder: {name: gru, hidden: 8}, attention: {name: dot}}
train: {batch_size: 8, steps: 3, eval_every: 0, log_every: 1}
eval: {samples: 1, attention_maps: 0}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	hashes := func() []string {
		st, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		runs, err := st.Runs(context.Background(), store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range runs {
			if r.Status != store.StatusDone {
				t.Errorf("run %s is %s", r.Hash, r.Status)
			}
			out = append(out, r.Hash)
		}
		return out
	}
	writePairs(40)
	wantOK(t, attnlab(t, "run", exp, "--db", db, "--quiet"))
	wantOK(t, attnlab(t, "run", exp, "--db", db, "--quiet"))
	first := hashes()
	if len(first) != 1 {
		t.Fatalf("after two runs with one file: run hashes %v, want 1 run", first)
	}
	writePairs(30) // fewer lines: other contents
	wantOK(t, attnlab(t, "run", exp, "--db", db, "--quiet"))
	second := hashes()
	if len(second) != 2 {
		t.Fatalf("after the file changed: run hashes %v, want 2 runs", second)
	}
	for i, h := range first[:1] {
		s := attnlab(t, "show", h, "--db", db)
		wantOK(t, s)
		want := regexp.MustCompile(`(?m)^  data +task\.path = pairs\.tsv: 40 lines, 540 B, sha256 [0-9a-f]{16}$`)
		if !want.MatchString(s.stdout) {
			t.Errorf("show of run %d lacks its data fingerprint:\n%s", i, s.stdout)
		}
	}
}

// TestMaxLen (issue 10): a model whose max_len cannot hold the task's
// sequences is a one-line validation error (exit 2), whether the task's
// lengths follow from its parameters or from its data files; never a
// panic. (runs' TestCheckLengthLimit covers a worker's run, whose data
// were not checked in its process.)
func TestMaxLen(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	copyExp := write("copy.yaml", "name: short\ntask: {name: copy}\nmodel: {name: seq2seq-transformer, max_len: 4, attention: {name: multi-head}}\n")
	for _, cmd := range []string{"plan", "run"} {
		r := attnlab(t, cmd, copyExp, "--db", db)
		if cmd == "plan" {
			r = attnlab(t, cmd, copyExp)
		}
		want := copyExp + `:3: model.max_len: 4 is shorter than task "copy"'s sequences: it makes sources of up to 20 tokens and decoder inputs of up to 21 (set model.max_len to at least 21, or to 0 to size the model from the task)` + "\n"
		if r.code != exitUsage || r.stderr != want || r.stdout != "" {
			t.Errorf("%s: %v\nwant exit 2 and stderr %s", cmd, r, want)
		}
	}
	// A file task's lengths come from its data, which plan and run check
	// before any run: the same refusal, and no run is stored.
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "a b c d e f g h %d\tx y z %d\n", i, i)
	}
	write("long.tsv", b.String())
	pairsExp := write("pairs.yaml", "name: short-pairs\ntask: {name: pairs, path: long.tsv}\n"+
		"model: {name: seq2seq-transformer, d_model: 8, ff: 8, encoder_layers: 1, decoder_layers: 1, max_len: 4, attention: {name: multi-head, heads: 2}}\n"+
		"train: {steps: 2, batch_size: 4}\n")
	want := pairsExp + `:3: model.max_len: 4 is shorter than task "pairs"'s sequences: it makes sources of up to 9 tokens and decoder inputs of up to 5 (set model.max_len to at least 9, or to 0 to size the model from the task)` + "\n"
	for _, cmd := range []string{"plan", "run"} {
		r := attnlab(t, cmd, pairsExp, "--db", db)
		if cmd == "plan" {
			r = attnlab(t, cmd, pairsExp)
		}
		noTrace(t, r)
		if r.code != exitUsage || r.stderr != want || r.stdout != "" {
			t.Errorf("%s of a too-short model on a file task: %v\nwant exit 2 and stderr %s", cmd, r, want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		st, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		runs, err := st.Runs(context.Background(), store.RunFilter{Experiments: []string{"short-pairs"}})
		if err != nil || len(runs) != 0 {
			t.Errorf("runs stored = %v, %v; want none", runs, err)
		}
	}
}
