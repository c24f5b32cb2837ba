package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"plan_tiny.golden", []string{"plan", "testdata/tiny.yaml"}},
		{"plan_sweep.golden", []string{"plan", "testdata/sweep.yaml", "--width", "120"}},
		{"plan_sweep.80.golden", []string{"plan", "testdata/sweep.yaml", "--width", "80"}},
		{"plan_sweep.60.golden", []string{"plan", "testdata/sweep.yaml", "--width", "60"}},
		{"plan_lm.golden", []string{"plan", "testdata/lm.yaml"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := attnlab(t, tc.args...)
			wantOK(t, r)
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestPlanSet(t *testing.T) {
	r := attnlab(t, "plan", "testdata/tiny.yaml", "--set", "seeds=[1, 2, 3]", "--set", "sweep.grid.model.attention.name=[dot, general, additive]")
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, "experiment tiny: 9 runs = 3 points × 3 seeds\n") {
		t.Errorf("plan with --set:\n%s", r.stdout)
	}
	for _, want := range []string{"general", "dot", "additive"} {
		if strings.Count(r.stdout, want) != 3 {
			t.Errorf("%q is not in 3 runs:\n%s", want, r.stdout)
		}
	}
}

// TestPlanMaxMemory: plan and run refuse a run estimated above
// --max-memory with one line that states the estimate and the limit, exit
// 2, before any database is opened; a bad size is a usage error.
func TestPlanMaxMemory(t *testing.T) {
	want := "testdata/tiny.yaml: model: run 1 (model.attention.name=none): estimated training memory 1.28 MiB (roughly 6.6 thousand parameters, sequences of up to 7 tokens, the dataset 235 KiB) exceeds --max-memory 100 KiB (and 3 more runs): use smaller sizes or batch_size, or raise --max-memory\n"
	db := filepath.Join(t.TempDir(), "lab.db")
	for _, args := range [][]string{
		{"plan", "testdata/tiny.yaml", "--max-memory", "100KiB"},
		{"run", "testdata/tiny.yaml", "--max-memory", "100KiB", "--db", db},
	} {
		r := attnlab(t, args...)
		if r.code != exitUsage || r.stderr != want || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", args, r.code, r.stdout, r.stderr, exitUsage, want)
		}
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("run created %s although it refused the plan", db)
	}
	// A dataset too large is named as the task's.
	r := attnlab(t, "plan", "testdata/tiny.yaml", "--max-memory", "1MiB", "--set", "task.train_size=100000")
	if r.code != exitUsage || !strings.HasPrefix(r.stderr, "testdata/tiny.yaml: task: run 1 (model.attention.name=none): estimated training memory ") ||
		!strings.HasSuffix(r.stderr, "exceeds --max-memory 1.00 MiB (and 3 more runs): its dataset is most of it: use smaller train_size, valid_size or test_size, or shorter sequences, or raise --max-memory\n") {
		t.Errorf("a dataset over --max-memory: exit %d, stderr %q", r.code, r.stderr)
	}
	r = attnlab(t, "plan", "testdata/tiny.yaml", "--max-memory", "lots")
	wantError(t, r, exitUsage, "--max-memory: \"lots\" is not a size")
	// 0 is not "no limit"; "1.5" is not 1.5 GiB.
	wantError(t, attnlab(t, "plan", "testdata/tiny.yaml", "--max-memory", "0"), exitUsage, "--max-memory 0: 0 B is below 1 KiB")
	wantError(t, attnlab(t, "plan", "testdata/tiny.yaml", "--max-memory", "1.5"), exitUsage, "--max-memory 1.5: 1 B is below 1 KiB")
	r = attnlab(t, "plan", "testdata/tiny.yaml", "--max-memory", "1GiB", "--width", "200") // one line each
	wantOK(t, r)
	if !strings.Contains(r.stdout, "estimated training memory of the largest run: about 1.30 MiB (roughly 6.6 thousand parameters, sequences of up to 7 tokens, the dataset 235 KiB)") {
		t.Errorf("plan printed %q, want the estimate", r.stdout)
	}
}

// TestPlanResolvedValues: a key that some sweep points set and others
// leave to the file or the default shows the value those runs get
// (false), as compare shows it, not "-".
func TestPlanResolvedValues(t *testing.T) {
	r := attnlab(t, "plan", "../../examples/luong.yaml", "--width", "120")
	wantOK(t, r)
	lines := strings.Split(r.stdout, "\n")
	var rows []string
	for _, l := range lines {
		if strings.Contains(l, "bahdanau ") || strings.Contains(l, "luong ") {
			rows = append(rows, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{
		"1 1 bahdanau dot false bahdanau", "2 1 bahdanau general false bahdanau",
		"3 1 luong dot false luong", "4 1 luong general false luong",
		"5 1 luong-feed dot true luong", "6 1 luong-feed general true luong",
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q, want %d", rows, len(want))
	}
	for i, row := range rows {
		if !strings.HasPrefix(row, want[i]+" ") {
			t.Errorf("row %q, want it to start %q", row, want[i])
		}
	}
}

// TestPlanDataSizes: plan shows a pairs file's splits as the first seed
// draws them, and its vocabularies, as the task builds them for that seed.
func TestPlanDataSizes(t *testing.T) {
	dir := t.TempDir()
	var tsv strings.Builder
	words := []string{"ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "st"}
	for i := range 60 {
		fmt.Fprintf(&tsv, "%s %s\t%d\n", words[i%10], words[i/10], i)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("pairs.tsv", tsv.String())
	params := map[string]any{"path": "pairs.tsv", "src_tokenizer": "word", "tgt_tokenizer": "char", "valid_fraction": 0.1, "test_fraction": 0.2}
	exp := write("pairs.yaml", `name: p
task: {name: pairs, path: pairs.tsv, src_tokenizer: word, tgt_tokenizer: char, valid_fraction: 0.1, test_fraction: 0.2}
model: {name: seq2seq-rnn, embed: 8, encoder: {name: gru, hidden: 8}, attention: {name: dot}}
train: {steps: 2}
seeds: [3, 4]
`)
	d, err := tasks.Build("pairs", params, tasks.Options{Seed: 3, BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len()+d.Valid.Len()+d.Test.Len() != 60 {
		t.Fatalf("splits of %d, %d, %d examples, want 60 in all", d.Train.Len(), d.Valid.Len(), d.Test.Len())
	}
	r := attnlab(t, "plan", exp, "--width", "200") // one line each
	wantOK(t, r)
	want := fmt.Sprintf("\ndata: %d train, %d valid and %d test examples (as seed 3 splits it); vocabularies of %d source and %d target tokens, reserved ids included\n",
		d.Train.Len(), d.Valid.Len(), d.Test.Len(), d.SrcVocab.Len(), d.TgtVocab.Len())
	if !strings.Contains(r.stdout, want) {
		t.Errorf("plan:\n%s\nwant the line%s", r.stdout, want)
	}
}

// TestPlanRefusesLintedAttention: local attention's dim with mode
// monotonic (accepted and ignored before) is refused when an experiment is
// planned, on its key (registry.Linter), though stored runs with it load.
func TestPlanRefusesLintedAttention(t *testing.T) {
	exp := writeIn(t, t.TempDir(), "x.yaml", "name: x\ntask: {name: reverse}\nmodel: {attention: {name: local, mode: monotonic, dim: 4}}\n")
	r := attnlab(t, "plan", exp)
	if want := exp + ":3: model.attention.dim: only applies to mode predictive (the position predictor's size), got 4 with mode monotonic for attention \"local\"\n"; r.code != exitUsage || r.stderr != want {
		t.Errorf("plan: %v\nwant exit %d and %q", r, exitUsage, want)
	}
}

// TestPlanRefusesEncoderDropoutWithOneLayer: an encoder's dropout, which
// applies between stacked layers only, is refused with one layer (it did
// nothing there), on its key, with the usage exit code; two layers plan.
func TestPlanRefusesEncoderDropoutWithOneLayer(t *testing.T) {
	exp := writeIn(t, t.TempDir(), "x.yaml", "name: x\ntask: {name: reverse}\nmodel:\n  encoder: {name: lstm, hidden: 32, dropout: 0.3}\n")
	r := attnlab(t, "plan", exp)
	if want := exp + ":4: model.encoder.dropout: only applies between stacked layers (layers 2 or more; model.dropout drops embeddings and outputs), got 0.3 with layers 1 for encoder \"lstm\"\n"; r.code != exitUsage || r.stderr != want {
		t.Errorf("plan: %v\nwant exit %d and %q", r, exitUsage, want)
	}
	if r := attnlab(t, "plan", exp, "--set", "model.encoder.layers=2"); r.code != 0 {
		t.Errorf("plan with layers 2: %v, want exit 0", r)
	}
}

// TestRerunKeepsLintedStoredRuns: an experiment whose runs were stored
// before a check refused one of its settings (registry.Linter) is not
// refused when the command that stored them runs again: run resumes them,
// with a note, and submit records nothing new (both said only that the
// setting is refused, where the interrupt message says to rerun). A plan
// with a run not yet stored (another seed) is still refused, as is one
// against a database without its runs. slurm --dry-run agrees with them;
// plan, which opens no database, refuses.
func TestRerunKeepsLintedStoredRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	exp := writeIn(t, dir, "x.yaml", "name: x\n"+
		"task: {name: reverse, train_size: 40, valid_size: 4, test_size: 4}\n"+
		"model: {name: seq2seq-rnn, embed: 8, hidden: 8, encoder: {name: lstm, hidden: 8, dropout: 0.3}, attention: {name: dot}}\n"+
		"train: {steps: 2, batch_size: 4}\nseeds: [1]\n")
	lint := "model.encoder.dropout: only applies between stacked layers"
	if r := attnlab(t, "run", exp, "--db", db, "-q"); r.code != exitUsage || !strings.Contains(r.stderr, lint) {
		t.Fatalf("run of a new experiment: %v\nwant exit %d and %q", r, exitUsage, lint)
	}
	// Stored as an older binary stored it: without the check.
	x, err := experiments.LoadWith(exp, nil, experiments.LoadOptions{NoLint: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runs.Submit(context.Background(), st, x); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := attnlab(t, "run", exp, "--db", db)
	if r.code != exitOK || !strings.Contains(r.stderr, "attnlab: note: "+exp+": every run is stored already") || !strings.Contains(r.stderr, lint) {
		t.Fatalf("rerun of the stored experiment: %v\nwant exit 0 and a note naming the setting", r)
	}
	if got := runOf(t, db, "x", ""); got.Status != store.StatusDone {
		t.Errorf("the stored run is %s after the rerun, want done", got.Status)
	}
	if r := attnlab(t, "submit", exp, "--db", db); r.code != exitOK || !strings.Contains(r.stderr, "every run is stored already") {
		t.Errorf("submit of the stored experiment: %v\nwant exit 0 and the note", r)
	}
	// slurm --dry-run sees what slurm would; plan, which opens no
	// database, checks the experiment as a new one.
	if r := attnlab(t, "plan", exp); r.code != exitUsage || !strings.Contains(r.stderr, lint) {
		t.Errorf("plan: %v\nwant exit %d and %q", r, exitUsage, lint)
	}
	// (Its run is done: as slurm would, it says there is nothing to
	// train instead of printing a script.)
	if r := attnlab(t, "slurm", exp, "--db", db, "--dry-run", "--workers", "1", "--attnlab", "/opt/attnlab"); r.code != exitOK || !strings.Contains(r.stderr, "every run is stored already") || !strings.Contains(r.stdout, "nothing to train: every run of x is stored in "+db+" already") {
		t.Errorf("slurm --dry-run of the stored experiment: %v\nwant exit 0, the note and nothing to train", r)
	}
	// A dry run writes nothing: a database of an older schema, which
	// opening would migrate, is left as it was (and has not the runs).
	old := filepath.Join(dir, "old.db")
	orig, err := os.ReadFile("testdata/schema2/bleu01.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := attnlab(t, "slurm", exp, "--db", old, "--dry-run", "--workers", "1", "--attnlab", "/opt/attnlab"); r.code != exitUsage || !strings.Contains(r.stderr, lint) {
		t.Errorf("slurm --dry-run against an older database: %v\nwant exit %d and %q", r, exitUsage, lint)
	}
	if after, err := os.ReadFile(old); err != nil || !bytes.Equal(after, orig) {
		t.Errorf("slurm --dry-run changed the database of an older schema (%v)", err)
	}
	if r := attnlab(t, "run", exp, "--db", db, "--set", "seeds=[1,2]"); r.code != exitUsage || !strings.Contains(r.stderr, lint) {
		t.Errorf("run with a new seed: %v\nwant exit %d and %q", r, exitUsage, lint)
	}
	if r := attnlab(t, "run", exp, "--db", filepath.Join(dir, "other.db")); r.code != exitUsage || !strings.Contains(r.stderr, lint) {
		t.Errorf("run against another database: %v\nwant exit %d and %q", r, exitUsage, lint)
	}
}

// TestFailedStay: the line agrees with its number ("1 failed run stays
// failed", it said "1 failed run stay failed").
func TestFailedStay(t *testing.T) {
	for n, want := range map[int]string{
		1: "1 failed run stays failed: attnlab show RUN says why; --retry-failed queues it again",
		4: "4 failed runs stay failed: attnlab show RUN says why; --retry-failed queues them again",
	} {
		if got := failedStay(n); got != want {
			t.Errorf("failedStay(%d) = %q, want %q", n, got, want)
		}
	}
}

// Ctrl-C while plan or run loads a sweep ends the command with the
// interrupted message and exit 130, not once every point is resolved (or
// by the 5 s grace of main).
func TestPlanInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // before any point is resolved: the load stops at the first
	for _, args := range [][]string{{"plan"}, {"run", "--db", filepath.Join(t.TempDir(), "x.db")}} {
		cmd := args[0]
		t.Run(cmd, func(t *testing.T) {
			var errb bytes.Buffer
			r := attnlabWith(ctx, "", &errb, &errb, append(args, "testdata/sweep.yaml")...)
			wantError(t, r, exitInterrupted, "attnlab: "+cmd+": interrupted")
			if r.stdout != "" {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}
