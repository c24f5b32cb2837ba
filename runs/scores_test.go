package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tasks"
)

func TestScorer(t *testing.T) {
	t.Parallel()
	sc, err := NewScorer(experiments.BLEU{Tokenize: "13a"}, tasks.Word{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		out, ref string
		want     bool
	}{
		{"a b c", "a  b\tc ", true}, // word tokens: spacing does not count
		{"a <unk> c", "a zebra c", false},
		{"a b", "a b c", false},
		{"<unk>", "<unk>", true}, // a reference that really says <unk>
	} {
		if got := sc.Match(tc.out, tc.ref); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.out, tc.ref, got, tc.want)
		}
	}
	if got := (&Scorer{tok: tasks.Char{}}).Match("ab", "a b"); got {
		t.Error("char tokens: \"ab\" matches \"a b\"")
	}
	// Exact match compares word tokens: "mat ." is not "mat.", and
	// "hello" is not "hello world"; only the last pair is equal.
	outs := []string{"The cat sat on the mat .", "hello", "good  day"}
	refs := []string{"The cat sat on the mat.", "hello world", "good day"}
	ts := sc.Score(outs, refs)
	b, _ := metrics.NewBLEU(metrics.BLEUOptions{})
	if want := b.Corpus(outs, [][]string{refs}); ts.BLEU != want {
		t.Errorf("BLEU = %v, want %v", ts.BLEU, want)
	}
	c, _ := metrics.NewChrF(metrics.ChrFPlusPlus())
	if want := c.Corpus(outs, [][]string{refs}); ts.ChrFPP != want {
		t.Errorf("chrF++ = %v, want %v", ts.ChrFPP, want)
	}
	if ts.Exact != 1 || ts.N != 3 || ts.ExactMatch() != 1.0/3 {
		t.Errorf("exact match %d/%d, want 1/3", ts.Exact, ts.N)
	}
	arts := ts.Artifacts("test")
	if len(arts) != 3 || arts[0].Key != "test/bleu" || arts[2].Key != "test/chrf++" || arts[0].Line() != ts.BLEU.String() || arts[1].Line() != ts.ChrF.String() {
		t.Errorf("artifacts %+v", arts)
	}
	if _, err := NewScorer(experiments.BLEU{Tokenize: "moses"}, tasks.Word{}); err == nil {
		t.Error("NewScorer accepted tokenizer moses")
	}
	for _, tc := range []struct {
		name string
		tok  tasks.Tokenizer
		want string
	}{{"auto", tasks.Word{}, "13a"}, {"auto", tasks.Char{}, "char"}, {"", tasks.Char{}, "char"}, {"", tasks.Word{}, "13a"},
		{"intl", tasks.Char{}, "intl"}, {"none", tasks.Word{}, "none"}} {
		if got := BLEUTokenizer(tc.name, tc.tok); got != tc.want {
			t.Errorf("BLEUTokenizer(%q, %s) = %q, want %q", tc.name, tc.tok.Name(), got, tc.want)
		}
	}
	// Character targets: auto scores BLEU over characters, as sacreBLEU's
	// char tokenizer; 13a would see one word per output and give 0.
	charSc, _ := NewScorer(experiments.BLEU{Tokenize: "auto"}, tasks.Char{})
	chars := charSc.Score([]string{"abcdef", "fedcba"}, []string{"abcdef", "fedcab"})
	if !(chars.BLEU.Score > 50) || !strings.Contains(chars.BLEU.Signature, "tok:char") {
		t.Errorf("auto on characters: %v", chars.BLEU)
	}
}

// writeCopyPairs writes a word-copying corpus: train.tsv, whose lines copy
// 3–6 of 12 common words and, in a third of the lines, one of many rare
// words that occur once (so min_count 2 makes them <unk> on both sides and
// the model learns to copy <unk>), and test.tsv, whose every line holds a
// word that appears nowhere in training.
func writeCopyPairs(t testing.TB, dir string) {
	t.Helper()
	common := strings.Fields("the a cat dog sat ran on under mat big red old")
	r := rand.New(rand.NewPCG(1, 2))
	line := func(rare string) string {
		ws := make([]string, 3+r.IntN(4))
		for i := range ws {
			ws[i] = common[r.IntN(len(common))]
		}
		if rare != "" {
			ws[r.IntN(len(ws))] = rare
		}
		s := strings.Join(ws, " ")
		return s + "\t" + s + "\n"
	}
	var train, test strings.Builder
	for i := range 3000 {
		rare := ""
		if i%3 == 0 {
			rare = fmt.Sprintf("rare%d", i)
		}
		train.WriteString(line(rare))
	}
	for i := range 40 {
		test.WriteString(line(fmt.Sprintf("unseen%d", i)))
	}
	for name, s := range map[string]string{"train.tsv": train.String(), "test.tsv": test.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnkOutputEarnsNoMatch trains a word-copying model on a pairs file and
// tests it on lines with a word the vocabulary lacks: the model copies the
// <unk> it reads, and that <unk> must match nothing in the raw reference —
// neither for BLEU nor for exact match — while against references mapped
// through the vocabulary (the old way) it matched.
func TestUnkOutputEarnsNoMatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeCopyPairs(t, dir)
	exp := filepath.Join(dir, "copy.yaml")
	if err := os.WriteFile(exp, []byte(`name: unk-copy
task: {name: pairs, path: train.tsv, test_path: test.tsv, valid_fraction: 0.05, test_fraction: 0, min_count: 2}
model:
  name: seq2seq-rnn
  embed: 32
  encoder: {name: lstm, hidden: 64}
  attention: {name: additive}
train:
  optimizer: {name: adam, lr: 5.0e-3}
  batch_size: 32
  steps: 500
  eval_every: 250
  log_every: 50
eval: {samples: 40}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, exp)
	rec := newMemRecorder()
	res, err := Train(context.Background(), cfg, rec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := res.Summaries
	t.Logf("summaries: bleu %.2f chrf %.2f chrf++ %.2f exact %.3f valid/bleu %.2f", sum["test/bleu"], sum["test/chrf"], sum["test/chrf++"], sum["test/exact_match"], sum["valid/bleu"])

	var samples []artifact.Sample
	if err := json.Unmarshal(rec.artifacts[artifact.KindSamples+"/"+artifact.NameSamples], &samples); err != nil {
		t.Fatal(err)
	}
	d, err := tasks.Build("pairs", cfg.Task.Params, tasks.Options{BaseDir: dir, Seed: uint64(cfg.Seed)})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != d.Test.Len() || d.Test.Len() != 40 {
		t.Fatalf("%d samples of %d test pairs, want 40 of 40", len(samples), d.Test.Len())
	}
	// Rescore the outputs the old way: references mapped through the
	// target vocabulary, exact match on ids.
	var outs, raw, mapped []string
	unkCopies, oldExact := 0, 0
	for i, s := range samples {
		ex := d.Test.At(i)
		if s.Reference != ex.Ref || !strings.Contains(ex.Ref, "unseen") {
			t.Fatalf("sample %d: reference %q, want the raw test line %q with its unseen word", i, s.Reference, ex.Ref)
		}
		ids := d.TgtVocab.Encode(d.TgtTok.Split(s.Output))
		if slices.Equal(ids, ex.Tgt) {
			oldExact++
			if slices.Contains(ex.Tgt, seq.UnkID) {
				unkCopies++
			}
			if s.Correct {
				t.Errorf("sample %d: output %q counted correct against %q", i, s.Output, s.Reference)
			}
		}
		outs, raw = append(outs, s.Output), append(raw, ex.Ref)
		mapped = append(mapped, d.TgtTok.Join(d.TgtVocab.Decode(ex.Tgt)))
	}
	if unkCopies < 20 {
		t.Fatalf("only %d of 40 outputs copy their source with its <unk>; the test needs a model that learned to copy", unkCopies)
	}
	b, _ := metrics.NewBLEU(metrics.BLEUOptions{})
	rawBLEU, oldBLEU := b.Corpus(outs, [][]string{raw}), b.Corpus(outs, [][]string{mapped})
	t.Logf("%d outputs copy <unk>; BLEU %.2f against raw references, %.2f against vocabulary-mapped ones; exact match %.3f, old %.3f",
		unkCopies, rawBLEU.Score, oldBLEU.Score, sum["test/exact_match"], float64(oldExact)/40)
	if math.Abs(sum["test/bleu"]-rawBLEU.Score) > 1e-9 {
		t.Errorf("test/bleu = %v, but the stored outputs score %v against the raw references", sum["test/bleu"], rawBLEU.Score)
	}
	if !(rawBLEU.Score < oldBLEU.Score-5) || rawBLEU.Counts[0] > oldBLEU.Counts[0]-unkCopies {
		t.Errorf("BLEU against raw references %v (unigram matches %d) is not clearly below the <unk>-matching %v (%d)",
			rawBLEU.Score, rawBLEU.Counts[0], oldBLEU.Score, oldBLEU.Counts[0])
	}
	if sum["test/exact_match"] != 0 {
		t.Errorf("test/exact_match = %v: every test line has an unseen word, no output can equal it", sum["test/exact_match"])
	}
	for _, k := range []string{"test/chrf", "test/chrf++", "valid/bleu"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("no summary %s", k)
		}
	}
	if !(sum["valid/bleu"] > 50) {
		t.Errorf("valid/bleu = %v: a copying model scores high on lines of known words", sum["valid/bleu"])
	}
	var scores []artifact.Score
	if err := json.Unmarshal(rec.artifacts[artifact.KindScores+"/"+artifact.NameScores], &scores); err != nil {
		t.Fatal(err)
	}
	if len(scores) != 3 || scores[0].Key != "test/bleu" || scores[0].Score != sum["test/bleu"] ||
		scores[0].Signature != "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:"+metrics.SacreBLEUVersion ||
		scores[2].Name != "chrF2++" || scores[2].Score != sum["test/chrf++"] {
		t.Errorf("scores artifact %+v does not match the summaries", scores)
	}
}
