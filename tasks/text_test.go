package tasks

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// variedText returns about size bytes of seeded random text of the shapes
// a corpus has: words of ASCII and of 2-, 3- and 4-byte characters, a
// literal U+FFFD, "<unk>", runs of spaces, tabs and Unicode white space,
// "\r\n" and lone "\r" line ends, blank lines, and rare words that only
// some splits see.
func variedText(seed uint64, size int) string {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"the", "cat", "sat", "on", "a", "mat", ".", ",", "naïve", "café", "日本語", "ελληνικά", "🙂", "z̄", "\ufffd", UnkToken, "<b>", "x"}
	seps := []string{" ", " ", " ", "  ", "\t", "\u00a0", "\u2003", "\n", "\r\n", "\n\n", "\r"}
	var b strings.Builder
	for b.Len() < size {
		if r.IntN(20) == 0 {
			fmt.Fprintf(&b, "w%d", r.IntN(2000)) // rare
		} else {
			b.WriteString(words[r.IntN(len(words))])
		}
		b.WriteString(seps[r.IntN(len(seps))])
	}
	return b.String()
}

// refText builds a text dataset the plain way the task is specified: the
// file's tokens as tok.Split gives them (after a byte-order mark is dropped
// and "\r\n" read as "\n"), the vocabulary of BuildVocab over the training
// tokens, every token encoded by Vocab.Encode, and refWindows of each
// split.
func refText(text, tokenizer string, context, minCount, maxVocab int, validFrac, testFrac float64) (*Vocab, [3][]Example, []int) {
	tok, _ := TokenizerByName(tokenizer)
	text = strings.ReplaceAll(strings.TrimPrefix(text, "\ufeff"), "\r\n", "\n")
	toks := tok.Split(text)
	n := len(toks)
	nTest, nValid := fractionCount(testFrac, n), fractionCount(validFrac, n)
	ends := [3]int{n - nValid - nTest, n - nTest, n}
	v := BuildVocab([][]string{toks[:ends[0]]}, minCount, maxVocab)
	ids := v.Encode(toks)
	var splits [3][]Example
	for i := range splits {
		splits[i] = refWindows(ids[splitStart(ends, i):ends[i]], context)
	}
	return v, splits, ids[ends[1]:]
}

// refWindows cuts ids as the text task is specified: windows of context+1
// tokens with stride context, while at least 2 tokens are left, each its
// own []int (what Windows' At builds from its int32 stream).
func refWindows(ids []int, context int) []Example {
	ex := []Example{}
	for start := 0; start+1 < len(ids); start += context {
		ex = append(ex, Example{Tgt: slices.Clone(ids[start:min(start+context+1, len(ids))])})
	}
	return ex
}

// ints returns ids as []int.
func ints(ids []int32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// TestTextAsSpecified: the text task's vocabulary, windows and test stream
// are exactly those of the plain definition (refText: tok.Split, BuildVocab,
// Encode), for both tokenizers, on varied text, with a byte-order mark and
// with min_count and max_vocab cutting the vocabulary.
func TestTextAsSpecified(t *testing.T) {
	for _, tc := range []struct {
		name, tokenizer   string
		context, min, max int
		valid, test       float64
		bom               bool
		seed              uint64
		size              int
	}{
		{"char", "char", 16, 1, 0, 0.1, 0.1, false, 1, 50_000},
		{"char bom min_count", "char", 7, 3, 0, 0.05, 0.2, true, 2, 30_000},
		{"char max_vocab", "char", 64, 1, 12, 0.1, 0, false, 3, 20_000},
		{"word", "word", 16, 1, 0, 0.1, 0.1, false, 4, 50_000},
		{"word min_count", "word", 5, 2, 0, 0.2, 0.1, true, 5, 40_000},
		{"word max_vocab", "word", 32, 1, 20, 0, 0.3, false, 6, 40_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := variedText(tc.seed, tc.size)
			if tc.bom {
				text = "\ufeff" + text
			}
			dir := writeFiles(t, map[string]string{"c.txt": text})
			d, err := Build("text", map[string]any{"path": "c.txt", "tokenizer": tc.tokenizer, "context": tc.context,
				"min_count": tc.min, "max_vocab": tc.max, "valid_fraction": tc.valid, "test_fraction": tc.test}, Options{BaseDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			v, splits, testTokens := refText(text, tc.tokenizer, tc.context, tc.min, tc.max, tc.valid, tc.test)
			if got, want := d.TgtVocab.Tokens(), v.Tokens(); !reflect.DeepEqual(got, want) {
				t.Fatalf("vocabulary = %q, want %q", got, want)
			}
			if d.SrcVocab != d.TgtVocab {
				t.Error("an LM dataset's source vocabulary is not its target's")
			}
			for i, got := range [3][]Example{d.Train.All(), d.Valid.All(), d.Test.All()} {
				if !reflect.DeepEqual(got, splits[i]) {
					t.Errorf("%s: %d windows differ from the %d of the definition", splitNames[i], len(got), len(splits[i]))
				}
			}
			if !reflect.DeepEqual(ints(d.TestTokens), testTokens) {
				t.Errorf("TestTokens: %d ids differ from the %d of the definition", len(d.TestTokens), len(testTokens))
			}
		})
	}
}

// TestTextIDsPastSixteenBits: a word corpus of more distinct words than
// 16 bits can number keeps every id whole in its int32 stream: the windows
// and the test stream are those of the definition (refText), and ids above
// 65 535 occur in them.
func TestTextIDsPastSixteenBits(t *testing.T) {
	t.Parallel()
	const words = 70_000
	r := rand.New(rand.NewPCG(8, 1))
	var b strings.Builder
	for range 2 {
		for _, i := range r.Perm(words) {
			fmt.Fprintf(&b, "w%d ", i)
		}
	}
	text := b.String()
	dir := writeFiles(t, map[string]string{"c.txt": text})
	d, err := Build("text", map[string]any{"path": "c.txt", "tokenizer": "word", "context": 100, "valid_fraction": 0.1, "test_fraction": 0.1}, Options{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	v, splits, testTokens := refText(text, "word", 100, 1, 0, 0.1, 0.1)
	if d.TgtVocab.Len() != v.Len() || v.Len() <= 1<<16 {
		t.Fatalf("vocabulary of %d tokens, want the definition's %d, above 65536", d.TgtVocab.Len(), v.Len())
	}
	for i, got := range [3][]Example{d.Train.All(), d.Valid.All(), d.Test.All()} {
		if !reflect.DeepEqual(got, splits[i]) {
			t.Errorf("%s: %d windows differ from the %d of the definition", splitNames[i], len(got), len(splits[i]))
		}
	}
	if got := ints(d.TestTokens); !reflect.DeepEqual(got, testTokens) || slices.Max(got) < 1<<16 {
		t.Errorf("TestTokens: %d ids (largest %d) differ from the %d of the definition, or none is above 65535", len(got), slices.Max(got), len(testTokens))
	}
}

// benchText loads a text corpus of about size bytes as `attnlab run` does
// (FingerprintFile, CheckData with the fingerprint, then Build), and
// reports the throughput in MB/s of the file.
func benchText(b *testing.B, tokenizer string, size int) {
	dir := b.TempDir()
	text := variedText(1, size)
	if err := os.WriteFile(filepath.Join(dir, "c.txt"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	params := map[string]any{"path": "c.txt", "tokenizer": tokenizer, "context": 64}
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		opt := Options{BaseDir: dir, Seed: 1}
		fp, err := FingerprintFile("text", "c.txt", opt)
		if err != nil {
			b.Fatal(err)
		}
		opt.Data = map[string]Fingerprint{"path": fp}
		if p := CheckData("text", params, opt).Problems; p != nil {
			b.Fatal(p)
		}
		if _, err := Build("text", params, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTextChar8MB(b *testing.B) { benchText(b, "char", 8<<20) }
func BenchmarkTextWord8MB(b *testing.B) { benchText(b, "word", 8<<20) }

// TestReadTextNoCopy: readText shares the memory the file is read into
// instead of copying it into a string: reading a corpus takes its size
// once, not twice. (Not parallel: it reads the process's allocation
// counters.)
func TestReadTextNoCopy(t *testing.T) {
	if raceBuild {
		t.Skip("allocations measured under -race include the race detector's; this test runs without -race (as CI does)")
	}
	const size = 8 << 20
	text := strings.Repeat("the cat sat on the mat\n", size/23)
	dir := writeFiles(t, map[string]string{"c.txt": text})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := readText("text", "c.txt", Options{BaseDir: dir})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if s != text {
		t.Fatalf("readText read %d bytes, want the file's %d", len(s), len(text))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size+size/8 {
		t.Errorf("readText of %d bytes allocated %d bytes, want about the file's size", len(text), got)
	}
}

// TestTextMeasuredAsBuilt: what CheckData reports of a text corpus, which
// it measures without building the ids (TextParams.measure), is what the
// dataset a Build gives shows (checkOf): sizes, lengths, vocabulary and
// bytes; and a corpus a Build refuses, CheckData reports with the same
// error.
func TestTextMeasuredAsBuilt(t *testing.T) {
	text := variedText(7, 20_000)
	dir := writeFiles(t, map[string]string{"c.txt": text, "bom.txt": "\ufeff" + text, "short.txt": "ab", "eos.txt": "a <eos> b\n"})
	for _, params := range []map[string]any{
		{"path": "c.txt"},
		{"path": "c.txt", "context": 1},
		{"path": "c.txt", "context": 5000, "valid_fraction": 0.01, "test_fraction": 0.3},
		{"path": "c.txt", "tokenizer": "word", "context": 7, "min_count": 3},
		{"path": "c.txt", "tokenizer": "word", "max_vocab": 10, "valid_fraction": 0.0},
		{"path": "c.txt", "tokenizer": "word", "context": 60000, "test_fraction": 0.0},
		{"path": "bom.txt", "tokenizer": "word"},
		{"path": "c.txt", "min_count": 1000000},
		{"path": "short.txt"},
		{"path": "eos.txt", "tokenizer": "word"},
		{"path": "missing.txt"},
	} {
		t.Run(fmt.Sprint(params), func(t *testing.T) {
			got := CheckData("text", params, Options{BaseDir: dir})
			d, err := Build("text", params, Options{BaseDir: dir})
			if err != nil {
				if len(got.Problems) != 1 || !strings.Contains(err.Error(), got.Problems[0]) {
					t.Fatalf("CheckData = %+v, want the problem of Build: %v", got, err)
				}
				return
			}
			if want := checkOf(d); !reflect.DeepEqual(got, want) {
				t.Fatalf("CheckData = %+v, want the built dataset's %+v", got, want)
			}
		})
	}
}

// TestCheckDataLeavesFileBytes: CheckData of a text corpus (with its
// fingerprint, as plan and run give it) leaves the bytes FingerprintFile
// read in the memo unchanged, "\r\n" line ends included, for the run's
// Build, which takes them.
func TestCheckDataLeavesFileBytes(t *testing.T) {
	text := "one line\r\nanother line\r\n\ufeff a third\n"
	dir := writeFiles(t, map[string]string{"c.txt": text})
	opt := Options{BaseDir: dir, Seed: 1}
	fp, err := FingerprintFile("text", "c.txt", opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Data = map[string]Fingerprint{"path": fp}
	if p := CheckData("text", map[string]any{"path": "c.txt", "context": 4}, opt).Problems; p != nil {
		t.Fatal(p)
	}
	b, ok := memoBytes.take(bytesKey(opt.Path("c.txt"), fp))
	if !ok || string(b) != text {
		t.Fatalf("after CheckData the memo holds %q (%v), want the file's bytes %q", b, ok, text)
	}
}

// TestTextFileFitsUnderTwiceItsSize: a word corpus that fits in the
// memory limit is not refused by its size for being larger than half of
// it (what a pairs file's bytes and text take): its text shares the
// file's bytes and its ids take 4 bytes a token. A pairs file as large is
// still refused by its size.
func TestTextFileFitsUnderTwiceItsSize(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 100_000; i++ {
		fmt.Fprintf(&b, "measurement%02d ", i%50)
	}
	text := b.String()
	dir := writeFiles(t, map[string]string{"c.txt": text, "p.tsv": strings.ReplaceAll(text, " ", "\t\n")})
	limit := MemoryLimit{Bytes: int64(len(text)) * 3 / 2, Name: "--max-memory X"}
	opt := Options{BaseDir: dir, Memory: limit}
	fp, err := FingerprintFile("text", "c.txt", opt)
	if err != nil {
		t.Fatalf("FingerprintFile of a %d-byte word corpus under a limit of %d: %v", len(text), limit.Bytes, err)
	}
	opt.Data = map[string]Fingerprint{"path": fp}
	d, err := Build("text", map[string]any{"path": "c.txt", "tokenizer": "word"}, opt)
	if err != nil {
		t.Fatalf("Build under a limit of %d: %v", limit.Bytes, err)
	}
	if d.Bytes > limit.Bytes {
		t.Errorf("the dataset took %d bytes, over the limit %d", d.Bytes, limit.Bytes)
	}
	var over *OverMemoryError
	if _, err := FingerprintFile("pairs", "p.tsv", opt); !errors.As(err, &over) {
		t.Errorf("FingerprintFile of a pairs file of %d bytes under a limit of %d: %v, want it refused", len(text), limit.Bytes, err)
	}
}
