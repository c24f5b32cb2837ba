package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

// writeIn writes a file under dir and returns its path.
func writeIn(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEvalScoresAFile scores the stored test samples of a tiny trained
// run with eval: greedy decoding gives the outputs the run's evaluation
// stored, and the scores are those of runs.Scorer on them, printed as
// sacreBLEU prints them; a TSV and aligned --src/--ref files give the same.
func TestEvalScoresAFile(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	samples := samplesOf(t, db, run)
	dir := t.TempDir()
	var tsv, src, ref strings.Builder
	var outs, refs []string
	correct := 0
	for _, s := range samples {
		tsv.WriteString(s.Source + "\t" + s.Reference + "\r\n\n") // CRLF and empty lines are fine
		src.WriteString(s.Source + "\n")
		ref.WriteString(s.Reference + "\n")
		outs, refs = append(outs, s.Output), append(refs, s.Reference)
		if s.Correct {
			correct++
		}
	}
	tsvPath := writeIn(t, dir, "test.tsv", tsv.String())
	hyps := filepath.Join(dir, "hyps.txt")
	r := attnlab(t, "eval", id(run), tsvPath, "--out", hyps, "--db", db)
	wantOK(t, r)
	got, err := os.ReadFile(hyps)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(outs, "\n") + "\n"; string(got) != want {
		t.Errorf("--out wrote\n%s\nwant the run's own greedy outputs\n%s", got, want)
	}
	sc, err := runs.NewScorer(experiments.BLEU{Tokenize: "auto"}, tasks.Char{})
	if err != nil {
		t.Fatal(err)
	}
	ts := sc.Score(outs, refs)
	if ts.Exact != correct {
		t.Fatalf("scorer: %d exact, the samples say %d", ts.Exact, correct)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{
		"run " + id(run) + " on " + tsvPath + ": 8 lines, decoding: greedy",
		ts.BLEU.String(), ts.ChrF.String(), ts.ChrFPP.String(),
	}
	if len(lines) != 5 || !strings.HasPrefix(lines[4], "exact match = ") || strings.Join(lines[:4], "\n") != strings.Join(want, "\n") {
		t.Fatalf("eval printed\n%s\nwant\n%s\nexact match = ...", r.stdout, strings.Join(want, "\n"))
	}
	if !strings.Contains(lines[1], "tok:char") || r.stderr != "" {
		t.Errorf("a character task's BLEU is over characters (tokenize auto), no note expected: %v", r)
	}

	// --out -: the outputs alone on stdout, one per line, the scores on stderr.
	r1 := attnlab(t, "eval", id(run), tsvPath, "--out", "-", "--db", db)
	wantOK(t, r1)
	if want := strings.Join(outs, "\n") + "\n"; r1.stdout != want || r1.stderr != r.stdout {
		t.Errorf("--out -: stdout\n%s\nstderr\n%s\nwant the outputs\n%s\nand the scores\n%s", r1.stdout, r1.stderr, want, r.stdout)
	}

	// One line is "1 line" (it said "1 lines").
	one := writeIn(t, dir, "one.tsv", samples[0].Source+"\t"+samples[0].Reference+"\n")
	if r := attnlab(t, "eval", id(run), one, "--db", db); !strings.HasPrefix(r.stdout, "run "+id(run)+" on "+one+": 1 line, decoding: greedy\n") {
		t.Errorf("eval of one line: %v", r)
	}

	// The same lines as two aligned files.
	srcPath, refPath := writeIn(t, dir, "src.txt", src.String()), writeIn(t, dir, "ref.txt", ref.String())
	r2 := attnlab(t, "eval", id(run), "--src", srcPath, "--ref", refPath, "--db", db)
	wantOK(t, r2)
	if strings.SplitN(r2.stdout, "\n", 2)[1] != strings.SplitN(r.stdout, "\n", 2)[1] {
		t.Errorf("--src/--ref scores\n%s\ndiffer from the TSV's\n%s", r2.stdout, r.stdout)
	}

	// JSON carries the same numbers, and tokenize and case can be overridden.
	r3 := attnlab(t, "eval", id(run), tsvPath, "--json", "--tokenize", "none", "--lowercase", "--db", db)
	wantOK(t, r3)
	var rep evalReport
	if err := json.Unmarshal([]byte(r3.stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r3.stdout)
	}
	if rep.Lines != 8 || rep.Exact != correct || len(rep.Scores) != 3 || rep.Scores[0].Key != "bleu" ||
		rep.Scores[0].Signature != "nrefs:1|case:lc|eff:no|tok:none|smooth:exp|version:2.5.1" || rep.Scores[1].Score != ts.ChrF.Score {
		t.Errorf("--json report %+v", rep)
	}

	// Beam search: a beam of one is greedy search.
	r4 := attnlab(t, "eval", id(run), tsvPath, "--beam", "1", "--db", db)
	wantOK(t, r4)
	if !strings.Contains(r4.stdout, "decoding: greedy (beam 1)\n") || strings.SplitN(r4.stdout, "\n", 2)[1] != strings.SplitN(r.stdout, "\n", 2)[1] {
		t.Errorf("--beam 1:\n%s\ngreedy:\n%s", r4.stdout, r.stdout)
	}
}

// TestEvalUnknownSource: source symbols the model never saw are fed as
// <unk>, with a note that counts them.
func TestEvalUnknownSource(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	p := writeIn(t, t.TempDir(), "x.tsv", "abc\tcba\nxyzab\tbazyx\n")
	r := attnlab(t, "eval", id(run), p, "--db", db)
	wantOK(t, r)
	if r.stderr != "attnlab: note: 3 of 8 source tokens are not in run "+id(run)+"'s vocabulary and were fed as <unk> (\"x\", \"y\", \"z\")\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	if !strings.Contains(r.stdout, "2 lines") {
		t.Errorf("stdout %q", r.stdout)
	}
}

func TestEvalOutRefusals(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	dir := t.TempDir()
	p := writeIn(t, dir, "x.tsv", "abc\tcba\n")
	existing := writeIn(t, dir, "hyps.txt", "keep me\n")
	r := attnlab(t, "eval", id(run), p, "--out", existing, "--db", db)
	wantError(t, r, exitUsage, existing, "--force")
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Fatalf("refused --out changed the file: %q", b)
	}
	r = attnlab(t, "eval", id(run), p, "--out", existing, "--force", "--db", db)
	wantOK(t, r)
	if b, _ := os.ReadFile(existing); string(b) == "keep me\n" || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("--force did not replace the file with one output line: %q", b)
	}
	r = attnlab(t, "eval", id(run), p, "--out", db, "--force", "--db", db)
	wantError(t, r, exitUsage, "run database")
	r = attnlab(t, "eval", id(run), p, "--out", dir, "--db", db)
	wantError(t, r, exitUsage, dir)
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatalf("the run database after --out attempts: %v", err)
	}
	st.Close()
}

func TestEvalErrors(t *testing.T) {
	db := sharedDB(t)
	run := id(runOf(t, db, "tiny", `"additive"`))
	lm := id(runOf(t, db, "tinylm", ""))
	dir := t.TempDir()
	good := writeIn(t, dir, "good.tsv", "abc\tcba\n")
	noTab := writeIn(t, dir, "notab.tsv", "abc\tcba\n\nabc cba\n")
	twoTabs := writeIn(t, dir, "tabs.tsv", "abc\tcba\tx\n")
	blank := writeIn(t, dir, "blank.tsv", "\n\n")
	src3 := writeIn(t, dir, "src.txt", "a\nb\nc\n")
	ref2 := writeIn(t, dir, "ref.txt", "a\nb\n")
	badUTF8 := writeIn(t, dir, "bad.tsv", "abc\tcba\nab\xff\tx\n")
	foreign := writeIn(t, dir, "foreign.tsv", "xyz\tzyx\n\nyy\tyy\n")
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		parts []string
	}{
		{"no file", []string{"eval", run}, exitUsage, []string{"FILE.tsv", "--src"}},
		{"file and src", []string{"eval", run, good, "--src", src3, "--ref", ref2}, exitUsage, []string{"not both"}},
		{"src without ref", []string{"eval", run, "--src", src3}, exitUsage, []string{"--src needs --ref"}},
		{"ref without src", []string{"eval", run, "--ref", ref2}, exitUsage, []string{"--ref needs --src"}},
		// Cobra's flag group said "missing [ref]" to a FILE.tsv with --src.
		{"file and src alone", []string{"eval", run, good, "--src", src3}, exitUsage, []string{"not both"}},
		{"file and ref alone", []string{"eval", run, good, "--ref", ref2}, exitUsage, []string{"not both"}},
		{"missing file", []string{"eval", run, filepath.Join(dir, "nope.tsv")}, exitUsage, []string{"nope.tsv", "no such file"}},
		{"no tab", []string{"eval", run, noTab}, exitUsage, []string{noTab + ":3", "no tab"}},
		{"two tabs", []string{"eval", run, twoTabs}, exitUsage, []string{twoTabs + ":1", "more than one tab"}},
		{"only empty lines", []string{"eval", run, blank}, exitUsage, []string{blank, "no lines"}},
		{"invalid UTF-8", []string{"eval", run, badUTF8}, exitUsage, []string{badUTF8 + ":2", "UTF-8"}},
		{"unaligned", []string{"eval", run, "--src", src3, "--ref", ref2}, exitUsage, []string{"3 lines", "2", "aligned"}},
		{"beam 0", []string{"eval", run, good, "--beam", "0"}, exitUsage, []string{"--beam 0"}},
		{"bad tokenizer", []string{"eval", run, good, "--tokenize", "13b"}, exitUsage, []string{"13b", "13a, intl, char, none"}},
		{"force without out", []string{"eval", run, good, "--force"}, exitUsage, []string{"--force", "--out"}},
		{"empty out", []string{"eval", run, good, "--out", ""}, exitUsage, []string{`--out ""`, "empty output path"}},
		{"out - and json", []string{"eval", run, good, "--out", "-", "--json"}, exitUsage, []string{"--out -", "--json"}},
		{"language model", []string{"eval", lm, good}, exitUsage, []string{"run " + lm, "language model"}},
		{"unknown run", []string{"eval", "999", good}, exitUsage, []string{`no run "999"`}},
		{"every token unknown", []string{"eval", run, foreign}, exitUsage, []string{"none of the 5 source tokens is in run " + run + "'s vocabulary", `("x", "y", "z")`, "tokenizer (char)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := attnlab(t, append(tc.args, "--db", db)...)
			wantError(t, r, tc.code, tc.parts...)
		})
	}
}

// TestBLEUScaleInFilters: BLEU is stored on sacreBLEU's 0–100 scale, so the
// filter of ls's help (test/bleu > 50) means what it says.
func TestBLEUScaleInFilters(t *testing.T) {
	db := sharedDB(t)
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.Runs(context.Background(), store.RunFilter{Experiments: []string{"tiny"}})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(all))
	for i, r := range all {
		ids[i] = r.ID
	}
	sums, err := st.Summaries(context.Background(), ids)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var above []string
	for _, r := range all {
		if b := sums[r.ID]["test/bleu"]; b > 10 {
			above = append(above, id(r))
		} else if !(b >= 0) {
			t.Fatalf("run %d: test/bleu %v", r.ID, b)
		}
	}
	if len(above) == 0 {
		t.Fatalf("no tiny run has test/bleu above 10: %v", sums)
	}
	r := attnlab(t, "ls", "runs", "--where", "test/bleu > 10", "--db", db)
	wantOK(t, r)
	var listed []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] { // after the header
		listed = append(listed, strings.Fields(l)[0])
	}
	if strings.Join(listed, " ") != strings.Join(above, " ") {
		t.Errorf("ls --where 'test/bleu > 10' lists runs %v, want %v:\n%s", listed, above, r.stdout)
	}
}

// TestEvalBounds: a line over tasks.MaxLineBytes, or a file of more than
// maxEvalLines lines, is one line naming the file, before any decoding
// (a 50 MB line took 8 GB and died in the allocator).
func TestEvalBounds(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	dir := t.TempDir()
	long := writeIn(t, dir, "long.tsv", "abc\tcba\n"+strings.Repeat("a", tasks.MaxLineBytes+1)+"\tb\n")
	wantError(t, attnlab(t, "eval", id(run), long, "--db", db), exitUsage, "long.tsv:2: line of 65539 bytes, longer than 64 KiB (the limit)")
	many := writeIn(t, dir, "many.tsv", strings.Repeat("a\tb\n", maxEvalLines+1))
	wantError(t, attnlab(t, "eval", id(run), many, "--db", db), exitUsage, "many.tsv: 1000001 lines, more than 1000000")
	nul := writeIn(t, dir, "u16.tsv", "abc\tcba\na\x00b\x00c\x00\tcba\n")
	wantError(t, attnlab(t, "eval", id(run), nul, "--db", db), exitUsage, "u16.tsv:2: NUL byte: UTF-16 or binary, not UTF-8 text")
}

// TestEvalLongerInputs: a run records its data's longest source, so that
// eval and generate raise the output limit for longer inputs (it was the
// run's own limit, which cut a long reversal at the training length
// without a word); outputs that stop at the limit are counted and said.
func TestEvalLongerInputs(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	tr, err := loadRun(context.Background(), db, id(run))
	if err != nil {
		t.Fatal(err)
	}
	if tr.LongestSrc != 6 || tr.MaxOut != 16 {
		t.Fatalf("longest source %d, limit %d; want 6 (task.max_len) and 16 (6 + %d)", tr.LongestSrc, tr.MaxOut, experiments.DecodeSlack)
	}
	if got := tr.OutputLimit(30); got != 40 {
		t.Errorf("limit for a source of 30 tokens: %d, want 16 + 24 = 40", got)
	}
	dir := t.TempDir()
	file := writeIn(t, dir, "long.tsv", "abcdefabcdefabcdefabcdef\tfedcbafedcbafedcbafedcba\nabc\tcba\n")
	r := attnlab(t, "eval", id(run), file, "--max-len", "1", "--json", "--db", db)
	wantOK(t, r)
	var rep struct{ Unfinished int }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Unfinished != 2 || !strings.Contains(r.stderr, "2 of 2 outputs stopped at --max-len 1 without an end token") {
		t.Errorf("--max-len 1: %d unfinished, stderr %q; want 2 and a note", rep.Unfinished, r.stderr)
	}
	r = attnlab(t, "generate", id(run), "--input", "abcdefabcdef", "--max-len", "1", "--db", db)
	wantOK(t, r)
	if !strings.Contains(r.stderr, "the output stopped at --max-len 1 without an end token") {
		t.Errorf("generate --max-len 1: stderr %q, want a note", r.stderr)
	}
	wantError(t, attnlab(t, "eval", id(run), file, "--max-len", "0", "--db", db), exitUsage, "--max-len 0")
}

// TestEvalOutputsDoNotDependOnTheBatch: sources of different output limits
// (within the run's data, and longer) decoded in one eval batch, grouped by
// limit, give the outputs each gives alone, through generate; the longest
// source's output runs past the run's own limit of 16 tokens.
func TestEvalOutputsDoNotDependOnTheBatch(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	srcs := []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaa", "ffffffffffff", "fff", "eee"}
	dir := t.TempDir()
	var tsv strings.Builder
	for _, s := range srcs {
		tsv.WriteString(s + "\tx\n")
	}
	hyps := filepath.Join(dir, "hyps.txt")
	wantOK(t, attnlab(t, "eval", id(run), writeIn(t, dir, "mixed.tsv", tsv.String()), "--out", hyps, "--db", db))
	got, err := os.ReadFile(hyps)
	if err != nil {
		t.Fatal(err)
	}
	outs := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(outs) != len(srcs) {
		t.Fatalf("%d outputs for %d sources", len(outs), len(srcs))
	}
	if n := len(outs[0]); n <= 16 {
		t.Errorf("the 30-symbol source's output has %d symbols: cut at the run's own limit (16 with the end token)", n)
	}
	for i, s := range srcs {
		r := attnlab(t, "generate", id(run), "--input", s, "--db", db)
		wantOK(t, r)
		if alone := strings.TrimSuffix(r.stdout, "\n"); alone != outs[i] {
			t.Errorf("source %q: %q in the batch, %q alone", s, outs[i], alone)
		}
	}
}

// TestEvalNotesThePositionLimit: a Transformer decodes no further than its
// learned positions, whatever --max-len asks; eval's note on the outputs
// that stopped there without an end token names that limit, as generate's
// does, and does not tell the user to raise --max-len (it said "stopped
// at --max-len 100 ... (--max-len raises it)").
func TestEvalNotesThePositionLimit(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "runs.db")
	exp := writeIn(t, dir, "tr.yaml", "name: tr\n"+
		"task: {name: copy, symbols: 40, min_len: 3, max_len: 6, train_size: 50, valid_size: 5, test_size: 5}\n"+
		"model: {name: seq2seq-transformer, d_model: 8, ff: 8, encoder_layers: 1, decoder_layers: 1, positions: learned, attention: {name: multi-head, heads: 2}}\n"+
		"train: {steps: 1, batch_size: 4, optimizer: {name: adam, lr: 1.0e-9}}\n")
	wantOK(t, attnlab(t, "run", exp, "--db", db))
	run := runOf(t, db, "tr", "")
	tr, err := loadRun(context.Background(), db, id(run))
	if err != nil {
		t.Fatal(err)
	}
	p := tr.PositionLimit()
	if p <= 0 || p >= 100 {
		t.Fatalf("position limit %d, want one below --max-len 100", p)
	}
	file := writeIn(t, dir, "in.tsv", "abcdef\tabcdef\nabc\tabc\n")
	r := attnlab(t, "eval", id(run), file, "--max-len", "100", "--json", "--db", db)
	wantOK(t, r)
	var rep struct{ Unfinished int }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Unfinished == 0 {
		t.Fatalf("no output stopped at the %d positions (the untrained model ended them): the test checks nothing\n%v", p, r)
	}
	want := fmt.Sprintf("stopped at the model's %d learned positions", p)
	if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "--max-len") {
		t.Errorf("eval --max-len 100: stderr %q, want a note that says %q and not --max-len", r.stderr, want)
	}
	g := attnlab(t, "generate", id(run), "--input", "abcdef", "--max-len", "100", "--db", db)
	wantOK(t, g)
	if strings.Contains(g.stderr, "without an end token") && !strings.Contains(g.stderr, want) {
		t.Errorf("generate --max-len 100: stderr %q, want a note that says %q", g.stderr, want)
	}
	// Without --max-len, outputs that stopped below the positions (short
	// sources' limits) and at them: the note names both, and that
	// --max-len raises the lower ones (it blamed the positions for all).
	gen := &generator{t: tr, unfinished: 2, lo: p - 1, hi: p}
	note := gen.unfinishedNote(3)
	for _, part := range []string{fmt.Sprintf("their length limits (%d–%d tokens; %d is the model's learned positions", p-1, p, p), "--max-len raises"} {
		if !strings.Contains(note, part) {
			t.Errorf("two outputs stopped at %d and %d: note %q, want it to say %q", p-1, p, note, part)
		}
	}
}

// TestEvalMemoryOfLongSources: eval checks every source before decoding
// any, but does not keep every source's tokens and ids meanwhile: they take
// many times the source's bytes (eval of a 200 MB file took 3 GiB). Here 9
// MB of sources (9 million tokens, every one unknown, so eval refuses the
// file after reading it all) must not raise the heap by the ~200 MiB their
// tokens would take.
func TestEvalMemoryOfLongSources(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	line := strings.Repeat("x", 60000) + "\tabc\n"
	p := writeIn(t, t.TempDir(), "long.tsv", strings.Repeat(line, 150))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var s runtime.MemStats
		for {
			runtime.ReadMemStats(&s)
			if s.HeapAlloc > peak.Load() {
				peak.Store(s.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	r := attnlab(t, "eval", id(run), p, "--db", db)
	close(done)
	<-sampled
	wantError(t, r, exitUsage, "none of the 9000000 source tokens")
	grew := int64(peak.Load()) - int64(base)
	t.Logf("the heap grew by %d MiB", grew>>20)
	if grew > 100<<20 {
		t.Errorf("eval of 9 MB of sources raised the heap by %d MiB; want under 100 MiB", grew>>20)
	}
}

// TestEvalLongLineNotCopied checks that eval refuses a line over
// tasks.MaxLineBytes before the file's bytes are copied into text: a file
// of one 200 MB line took 640 MB to be refused.
func TestEvalLongLineNotCopied(t *testing.T) {
	const size = 8 << 20
	path := filepath.Join(t.TempDir(), "long.tsv")
	if err := os.WriteFile(path, []byte("a\tb\n"+strings.Repeat("x", size)+"\tb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readLines(path)
	runtime.ReadMemStats(&after)
	want := fmt.Sprintf("%s:2: line of %d bytes, longer than 64 KiB (the limit)", path, size+2)
	if err == nil || err.Error() != want {
		t.Fatalf("readLines error = %v, want %q", err, want)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size+size/4 {
		t.Errorf("readLines of a %d-byte file allocated %d bytes, want about the file's size", size, got)
	}
}
