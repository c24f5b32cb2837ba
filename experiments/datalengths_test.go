package experiments

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tasks"
)

// writePairs writes a pairs experiment over a TSV of short lines and one
// line of long characters, and returns the experiment's path.
func writePairs(t *testing.T, long int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i := range 40 {
		s := strings.Repeat(string(rune('a'+i%6)), 5+i%7)
		if i == 17 {
			s = strings.Repeat("ab", long/2)
		}
		b.WriteString(s + "\t" + s + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "d.tsv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.yaml")
	text := "name: x\ntask: {name: pairs, path: d.tsv, src_tokenizer: char, tgt_tokenizer: char, test_fraction: 0.2}\n" +
		"model: {name: seq2seq-transformer}\ntrain: {steps: 1, batch_size: 4}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadPairs loads writePairs' experiment and returns its path and its
// first run's configuration.
func loadPairs(t *testing.T, long int) (string, Config) {
	t.Helper()
	path := writePairs(t, long)
	x, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := x.Plan()
	return path, runs[0].Config
}

// TestDataLengths: the lengths of a file task follow from its data, not its
// parameters. Load finds them (Config.DataLengths), refuses a model too
// short for them and a decoding limit above models.MaxDecodeLen, and the
// memory estimate counts the activations of the longest batch.
func TestDataLengths(t *testing.T) {
	path, c := loadPairs(t, 3000)
	if c.DataLengths != [2]int{3000, 3000} {
		t.Fatalf("DataLengths = %v, want [3000 3000]", c.DataLengths)
	}
	long := EstimateMemory(c)
	if long.Length != 3001 {
		t.Errorf("the estimate assumed sequences of %d tokens, want 3001 (the decoder input of the longest target)", long.Length)
	}
	short := c
	short.DataLengths = [2]int{12, 12}
	if s := EstimateMemory(short); long.Bytes < 100*s.Bytes {
		t.Errorf("a 3,000-token line is estimated at %v, sequences of 12 at %v: attention's scores grow as the square", long, s)
	}

	_, err := Load(path, []string{"model.max_len=100"})
	if err == nil || !strings.Contains(err.Error(), `--set: model.max_len: 100 is shorter than task "pairs"'s sequences: it makes sources of up to 3000 tokens and decoder inputs of up to 3001 (set model.max_len to at least 3001`) {
		t.Errorf("model.max_len 100 for a 3,000-token line: Load error = %v", err)
	}

	path = writePairs(t, 20000)
	_, err = Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), "x.yaml: eval.decode.max_len: 0 decodes up to the longest target + 10 = 20010 tokens, above the limit of 10000") {
		t.Errorf("a 20,000-token target with eval.decode.max_len 0: Load error = %v", err)
	}
	if _, err := Load(path, []string{"eval.decode.max_len=50", "train.batch_size=1"}); err != nil && strings.Contains(err.Error(), "eval.decode.max_len") {
		t.Errorf("eval.decode.max_len 50 is within the limit: Load error = %v", err)
	}
}

// TestDataBytes: Load records the memory a file task's dataset takes and
// the estimate adds it; LoadWith refuses a dataset above its memory limit
// on the task key.
func TestDataBytes(t *testing.T) {
	path, c := loadPairs(t, 3000)
	if c.DataBytes <= 0 {
		t.Fatalf("DataBytes = %d, want the dataset's memory", c.DataBytes)
	}
	if c.DataVocab <= 4 {
		t.Fatalf("DataVocab = %d, want the data's vocabulary", c.DataVocab)
	}
	big := c
	big.DataVocab = 100000 // a vocabulary of distinct words: embeddings and output layer
	if eb := EstimateMemory(big); eb.Params <= EstimateMemory(c).Params+100000 {
		t.Errorf("a 100,000-token vocabulary is estimated at %v, %d tokens at %v", eb, c.DataVocab, EstimateMemory(c))
	}
	without := c
	without.DataBytes, without.Data = 0, nil
	e, e0 := EstimateMemory(c), EstimateMemory(without)
	// Read back from the run database, the configuration has lost
	// DataBytes: its files' sizes stand in for it.
	stored := c
	stored.DataBytes = 0
	if es := EstimateMemory(stored); es.Data != 16*c.Data["path"].Size || es.Data <= 0 {
		t.Errorf("a stored configuration's dataset is estimated at %d bytes, want 16 × the file's %d", es.Data, c.Data["path"].Size)
	}
	if e.Data != c.DataBytes || e.Bytes != e0.Bytes+c.DataBytes || !strings.Contains(e.String(), "the dataset ") {
		t.Errorf("estimate %v (data %d), without the dataset %v; DataBytes %d", e, e.Data, e0, c.DataBytes)
	}
	_, err := LoadWith(path, nil, LoadOptions{Memory: tasks.MemoryLimit{Bytes: c.DataBytes - 1, Name: "the limit"}})
	if err == nil || !strings.Contains(err.Error(), "task: ") || !strings.Contains(err.Error(), "building its dataset takes more than the limit") {
		t.Errorf("LoadWith below the dataset's size: %v", err)
	}
	if _, err := LoadWith(path, nil, LoadOptions{Memory: tasks.MemoryLimit{Bytes: c.DataBytes, Name: "the limit"}}); err != nil {
		t.Errorf("LoadWith at the dataset's size: %v", err)
	}
}

// TestDataProblemsInLineOrder: the bad lines of a data file are listed in
// the file's order (line 2 before line 10), once each even when a sweep
// of several runs shares the data.
func TestDataProblemsInLineOrder(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 1; i <= 25; i++ {
		if i%2 == 0 {
			fmt.Fprintf(&b, "bad line %d\n", i) // no tab
		} else {
			fmt.Fprintf(&b, "s%d\tt%d\n", i, i)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "d.tsv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.yaml")
	text := "name: x\ntask: {name: pairs, path: d.tsv}\nmodel: {name: seq2seq-rnn}\nseeds: [1, 2, 3]\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load: %v, want Errors", err)
	}
	var lines []int
	for _, e := range es {
		var n int
		if _, err := fmt.Sscanf(e.Msg, "d.tsv:%d:", &n); err == nil {
			lines = append(lines, n)
		}
	}
	if want := []int{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24}; !slices.Equal(lines, want) {
		t.Errorf("bad lines listed as %v, want %v:\n%v", lines, want, err)
	}
}

// TestStoredTextDataEstimate: read back from the run database (DataBytes
// lost), a text corpus's dataset is estimated from its file's size at the
// text task's bytes a file byte (tasks.FileBytes: 6 for char, 4 for
// word), not the 16 of a pairs file, and still at least what building it
// took when it was measured.
func TestStoredTextDataEstimate(t *testing.T) {
	var b strings.Builder
	words := []string{"the", "cat", "sat", "on", "a", "mat", "and", "looked", "at", "another", "quiet", "dog"}
	for i := 0; b.Len() < 200_000; i++ {
		b.WriteString(words[(i*7+i/13)%len(words)])
		if i%11 == 10 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "corpus.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tokenizer string
		perByte   int64
	}{{"char", 6}, {"word", 4}} {
		path := filepath.Join(dir, tc.tokenizer+".yaml")
		exp := "name: x\ntask: {name: text, path: corpus.txt, tokenizer: " + tc.tokenizer + "}\nmodel: {name: lm-rnn}\nseeds: [1]\n"
		if err := os.WriteFile(path, []byte(exp), 0o644); err != nil {
			t.Fatal(err)
		}
		x, err := Load(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := x.Plan()
		c := runs[0].Config
		stored := c
		stored.DataBytes = 0
		size := c.Data["path"].Size
		if es := EstimateMemory(stored); es.Data != tc.perByte*size || es.Data < c.DataBytes {
			t.Errorf("%s: a stored configuration's dataset is estimated at %d bytes, want %d × the file's %d (measured: %d)",
				tc.tokenizer, es.Data, tc.perByte, size, c.DataBytes)
		}
	}
}
