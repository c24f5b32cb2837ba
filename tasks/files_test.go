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

	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/registry"
)

// writeFiles writes name → content under a new temporary directory and
// returns the directory.
func writeFiles(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestText(t *testing.T) {
	t.Parallel()
	// 100 characters: 80 train, 10 valid, 10 test.
	text := strings.Repeat("abcdefghi\n", 10)
	dir := writeFiles(t, map[string]string{"data/corpus.txt": text})
	d, err := Build("text", map[string]any{"path": "data/corpus.txt", "context": 8, "valid_fraction": 0.1, "test_fraction": 0.1}, Options{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if !d.LM || d.SrcVocab != d.TgtVocab || d.SrcTok.Name() != "char" || d.TgtVocab.Len() != 4+10 {
		t.Fatalf("LM %v, shared vocab %v, tokenizer %s, vocab %d", d.LM, d.SrcVocab == d.TgtVocab, d.SrcTok.Name(), d.TgtVocab.Len())
	}
	// Windows of 9 characters, stride 8: train 80 chars → starts 0..72 (the
	// last window 72..79 has 8), valid and test 10 chars → starts 0, 8 (2).
	lens := func(ex []Example) []int {
		var out []int
		for _, e := range ex {
			if len(e.Src) != 0 {
				t.Fatalf("LM example with a source")
			}
			out = append(out, len(e.Tgt))
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ex   []Example
		want []int
	}{
		{"train", d.Train.All(), []int{9, 9, 9, 9, 9, 9, 9, 9, 9, 8}},
		{"valid", d.Valid.All(), []int{9, 2}},
		{"test", d.Test.All(), []int{9, 2}},
	} {
		if got := lens(tc.ex); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s window lengths = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Windows overlap by one token and cover the split contiguously.
	var joined []int
	for i, e := range d.Train.All() {
		if i > 0 && joined[len(joined)-1] != e.Tgt[0] {
			t.Fatalf("window %d does not start with the previous window's last token", i)
		}
		if i > 0 {
			joined = append(joined, e.Tgt[1:]...)
		} else {
			joined = append(joined, e.Tgt...)
		}
	}
	if got := d.TgtTok.Join(d.TgtVocab.Decode(joined)); got != text[:80] {
		t.Fatalf("train windows spell %q, want %q", got, text[:80])
	}
	if got := d.TgtTok.Join(d.TgtVocab.Decode(d.Test.At(0).Tgt)); got != text[90:99] {
		t.Fatalf("first test window = %q, want %q", got, text[90:99])
	}
}

func TestTextWords(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"c.txt": "the cat sat on the mat . the dog sat on the log .\n"})
	d, err := Build("text", map[string]any{"path": "c.txt", "tokenizer": "word", "context": 3, "valid_fraction": 0.0, "test_fraction": 0.0}, Options{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Valid.Len() != 0 || d.Test.Len() != 0 || d.Train.Len() != 5 || d.TgtVocab.Token(4) != "the" {
		t.Fatalf("word text: %d/%d/%d examples, first token %q", d.Train.Len(), d.Valid.Len(), d.Test.Len(), d.TgtVocab.Token(4))
	}
}

func TestPairsTSV(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 200 {
		src := fmt.Sprintf("x%d y%d z%d", i%5, i/5%5, i/25)
		b.WriteString(src + "\t" + strings.ToUpper(src) + "\r\n")
		if i%10 == 0 {
			b.WriteString(src + "\t" + "DUPLICATE SOURCE\n\n")
		}
	}
	dir := writeFiles(t, map[string]string{"d/train.tsv": b.String()})
	params := map[string]any{"path": "d/train.tsv", "tgt_tokenizer": "char", "valid_fraction": 0.1, "test_fraction": 0.2}
	d, err := Build("pairs", params, Options{BaseDir: dir, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Train.Len() + d.Valid.Len() + d.Test.Len(); got != 220 {
		t.Fatalf("%d pairs, want 220", got)
	}
	owner := map[string]string{}
	for _, s := range []string{"train", "valid", "test"} {
		split, _ := d.Split(s)
		ex := split.All()
		src, tgt := texts(d, ex)
		for i := range src {
			if o, ok := owner[src[i]]; ok && o != s {
				t.Fatalf("source %q is in %s and %s", src[i], o, s)
			}
			owner[src[i]] = s
			if tgt[i] != strings.ToUpper(src[i]) && tgt[i] != "DUPLICATE SOURCE" && s == "train" {
				t.Fatalf("train pair %q → %q", src[i], tgt[i])
			}
			if ref := ex[i].Ref; ref != strings.ToUpper(src[i]) && ref != "DUPLICATE SOURCE" {
				t.Fatalf("%s pair %q: Ref %q, want the target as written (no \\r)", s, src[i], ref)
			}
		}
	}
	if n := d.Test.Len(); n < 40 || n > 44 {
		t.Errorf("test has %d pairs, want the 40 sources of 20%% (plus their duplicates)", n)
	}
	if d.SrcTok.Name() != "word" || d.TgtTok.Name() != "char" {
		t.Errorf("tokenizers = %s, %s; want word, char", d.SrcTok.Name(), d.TgtTok.Name())
	}
	again, _ := Build("pairs", params, Options{BaseDir: dir, Seed: 4})
	if !reflect.DeepEqual(d, again) {
		t.Errorf("two builds with the same seed differ")
	}
}

func TestPairsAlignedAndSplitFiles(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"src.txt":   "a b\nc d\n\ne f\ng h\n",
		"tgt.txt":   "1 2\n3 4\n\n5 6\n7 8\n",
		"valid.tsv": "a c\tx y\n",
		"test.tsv":  "e g\tz\n",
	})
	d, err := Build("pairs", map[string]any{"src_path": "src.txt", "tgt_path": "tgt.txt", "valid_path": "valid.tsv", "test_path": "test.tsv"}, Options{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	src, tgt := texts(d, d.Train.All())
	if want := []string{"a b", "c d", "e f", "g h"}; !slices.Equal(src, want) || tgt[3] != "7 8" {
		t.Fatalf("train = %q → %q, want every aligned pair in file order", src, tgt)
	}
	vs, vt := texts(d, d.Valid.All())
	ts, _ := texts(d, d.Test.All())
	if !slices.Equal(vs, []string{"a c"}) || !slices.Equal(vt, []string{"<unk> <unk>"}) || !slices.Equal(ts, []string{"e g"}) {
		t.Fatalf("valid %q → %q, test %q", vs, vt, ts)
	}
	// The references keep the words the vocabulary lacks.
	if d.Valid.At(0).Ref != "x y" || d.Test.At(0).Ref != "z" || d.Train.At(3).Ref != "7 8" {
		t.Fatalf("Refs %q, %q, %q; want the target lines as written", d.Valid.At(0).Ref, d.Test.At(0).Ref, d.Train.At(3).Ref)
	}
}

func TestFileErrors(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"empty.txt":   "",
		"bad.txt":     "fine\nstill fine\nbad \xff byte\n",
		"tabless.tsv": "a\tb\n\nc\td\nno tab here\n",
		"spaces.tsv":  "a\tb\n  \nc\td\n",
		"tabs.tsv":    "a\tb\tc\n",
		"emptytgt":    "a\tb\nc\t   \n",
		"blank.tsv":   "\n\n",
		"src.txt":     "a\nb\nc\n",
		"tgt2.txt":    "1\n2\n",
		"tgt3.txt":    "1\n\n3\n",
		"one.txt":     "a",
	})
	haveFifo := testenv.Mkfifo(t, filepath.Join(dir, "fifo"))
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   string
	}{
		{"text", map[string]any{"path": "missing.txt"}, "text: missing.txt: no such file (looked for " + filepath.Join(dir, "missing.txt") + ")"},
		{"text", map[string]any{"path": "empty.txt"}, "text: empty.txt: empty file"},
		{"text", map[string]any{"path": "bad.txt"}, "text: bad.txt:3: invalid UTF-8"},
		{"text", map[string]any{"path": "."}, "text: .: is a directory, not a regular file"},
		{"text", map[string]any{"path": "/dev/zero"}, "text: /dev/zero: is a character device, not a regular file"},
		{"pairs", map[string]any{"path": "fifo"}, "pairs: fifo: is a named pipe (FIFO), not a regular file"},
		{"text", map[string]any{"path": "one.txt"}, "text: one.txt: 1 train tokens of 1, need at least 2: use a longer file or a larger train fraction"},
		{"pairs", map[string]any{"path": "missing.tsv"}, "pairs: missing.tsv: no such file (looked for " + filepath.Join(dir, "missing.tsv") + ")"},
		{"pairs", map[string]any{"path": "empty.txt"}, "pairs: empty.txt: empty file"},
		{"pairs", map[string]any{"path": "bad.txt"}, "pairs: bad.txt:1: no tab between source and target (and 2 more: attnlab plan lists them)"},
		{"pairs", map[string]any{"path": "tabless.tsv"}, "pairs: tabless.tsv:4: no tab between source and target"},
		{"pairs", map[string]any{"path": "spaces.tsv"}, "pairs: spaces.tsv:2: a line of only spaces (want source<TAB>target; an empty line is skipped)"},
		{"pairs", map[string]any{"path": "tabs.tsv"}, "pairs: tabs.tsv:1: more than one tab (want source<TAB>target)"},
		{"pairs", map[string]any{"path": "emptytgt"}, "pairs: emptytgt:2: empty target"},
		{"pairs", map[string]any{"path": "blank.tsv"}, "pairs: blank.tsv: no pairs, only empty lines"},
		{"pairs", map[string]any{"src_path": "src.txt", "tgt_path": "tgt2.txt"}, "pairs: src.txt has 3 lines but tgt2.txt has 2: the files must be aligned line by line"},
		{"pairs", map[string]any{"src_path": "src.txt", "tgt_path": "tgt3.txt"}, "pairs: tgt3.txt:2: empty line, but src.txt:2 is not: the files must be aligned line by line"},
		{"pairs", map[string]any{"src_path": "src.txt", "tgt_path": "tgt3.txt"}, "pairs: tgt3.txt:2: empty line, but src.txt:2 is not: the files must be aligned line by line"},
		{"pairs", map[string]any{"path": "src.txt", "test_fraction": 0.5, "valid_fraction": 0.4}, "pairs: src.txt:1: no tab between source and target (and 2 more: attnlab plan lists them)"},
		// The main file's problem first, then the missing valid file's.
		{"pairs", map[string]any{"path": "tabs.tsv", "valid_path": "missing.tsv"}, "pairs: tabs.tsv:1: more than one tab (want source<TAB>target) (and 1 more: attnlab plan lists them)"},
	} {
		if tc.params["path"] == "fifo" && !haveFifo {
			t.Log("no FIFOs on this platform: the FIFO case does not run")
			continue
		}
		_, err := Build(tc.task, tc.params, Options{BaseDir: dir})
		if err == nil || err.Error() != tc.want {
			t.Errorf("Build(%s, %v) error = %v,\nwant %q", tc.task, tc.params, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q spans several lines", err)
		}
	}
}

func TestFileParamErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   string
	}{
		{"text", nil, `path: required: the text file to model for task "text"`},
		{"text", map[string]any{"path": "x", "tokenizer": "bpe"}, `tokenizer: unknown tokenizer "bpe" (known: char, word) for task "text"`},
		{"text", map[string]any{"path": "x", "context": 0}, `context: must be in [1, 65536], got 0 for task "text"`},
		{"text", map[string]any{"path": "x", "valid_fraction": 0.5, "test_fraction": 0.5}, `test_fraction: valid_fraction + test_fraction must be below 1, got 1 for task "text"`},
		{"text", map[string]any{"path": "x", "max_vocab": 3}, `max_vocab: must be 0 (no limit) or above the 4 reserved ids, got 3 for task "text"`},
		{"pairs", nil, `path: required: a TSV file of source<TAB>target lines (or src_path and tgt_path) for task "pairs"`},
		{"pairs", map[string]any{"path": "x", "src_path": "y"}, `path: give either path or src_path and tgt_path, not both for task "pairs"`},
		{"pairs", map[string]any{"src_path": "y"}, `tgt_path: required with src_path for task "pairs"`},
		{"pairs", map[string]any{"path": "x", "min_count": 0}, `min_count: must be in [1, 1000000000], got 0 for task "pairs"`},
		{"pairs", map[string]any{"path": "x", "test_fraction": -0.1}, `test_fraction: must be in [0, 1), got -0.1 for task "pairs"`},
	} {
		_, err := Build(tc.task, tc.params, Options{})
		var pe *registry.ParamError
		if !errors.As(err, &pe) || err.Error() != tc.want {
			t.Errorf("Build(%s, %v) error = %v,\nwant *registry.ParamError %q", tc.task, tc.params, err, tc.want)
		}
	}
}

func TestPairsTooFewSources(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"p.tsv": "a\tb\na\tc\n", "q.tsv": "a\tb\nb\tc\nc\td\n"})
	_, err := Build("pairs", map[string]any{"path": "p.tsv", "valid_fraction": 0.5, "test_fraction": 0.4}, Options{BaseDir: dir})
	if want := "pairs: p.tsv: only 1 distinct sources, too few for valid_fraction 0.5 (less than one source): use at least 2, or set valid_fraction to 0"; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	_, err = Build("pairs", map[string]any{"path": "q.tsv", "valid_fraction": 0.5, "test_fraction": 0.34}, Options{BaseDir: dir})
	if want := "pairs: q.tsv: only 3 distinct sources, too few to hold out 1 for test and 2 for validation"; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
	_, err = Build("pairs", map[string]any{"path": "q.tsv", "valid_fraction": 0.2, "test_fraction": 0.2}, Options{BaseDir: dir})
	if want := "pairs: q.tsv: only 3 distinct sources, too few for valid_fraction 0.2 (less than one source): use at least 5, or set valid_fraction to 0"; err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// TestFingerprints: a file task's files are fingerprinted by key, and a
// file that changed after its fingerprint was recorded is an error when
// the task reads it.
func TestFingerprints(t *testing.T) {
	dir := writeFiles(t, map[string]string{"p.tsv": "a\tb\nc\td\ne\tf\ng\th\n", "v.tsv": "x\ty"})
	params := map[string]any{"path": "p.tsv", "valid_path": "v.tsv", "valid_fraction": 0.0, "test_fraction": 0.25}
	info, _ := Registry.Info("pairs")
	p, err := info.Decode(params, registry.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files := p.(FileParams).Files()
	if want := map[string]string{"path": "p.tsv", "valid_path": "v.tsv"}; !reflect.DeepEqual(files, want) {
		t.Fatalf("Files() = %v, want %v", files, want)
	}
	opt := Options{BaseDir: dir, Data: map[string]Fingerprint{}}
	for key, path := range files {
		if opt.Data[key], err = FingerprintFile("pairs", path, opt); err != nil {
			t.Fatal(err)
		}
	}
	// sha256 of "a\tb\nc\td\ne\tf\ng\th\n" (sha256sum), 16 hex digits.
	if want := (Fingerprint{SHA256: "ec89e2acc3b8d092", Size: 16, Lines: 4}); opt.Data["path"] != want {
		t.Errorf("fingerprint of p.tsv = %+v, want %+v", opt.Data["path"], want)
	}
	if got := opt.Data["valid_path"]; got.Lines != 1 || got.Size != 3 {
		t.Errorf("fingerprint of v.tsv (no final newline) = %+v, want 1 line of 3 bytes", got)
	}
	if _, err := Build("pairs", params, opt); err != nil {
		t.Fatalf("Build with the recorded fingerprints: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p.tsv"), []byte("a\tb\nc\td\ne\tf\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Build("pairs", params, opt)
	if err == nil || !strings.Contains(err.Error(), "pairs: p.tsv: changed since the experiment was loaded (sha256 ec89e2acc3b8d092, 4 lines; now ") {
		t.Fatalf("Build after the file changed: %v", err)
	}
}

// TestDataErrorListsEveryLine: a pairs file's problems are all reported,
// in line order (a *DataError), long lines and invalid UTF-8 included, at
// most MaxLineProblems of them with a count of the rest.
func TestDataErrorListsEveryLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("w ", MaxLineBytes/2+1) + "\tx"
	many := strings.Repeat("no tab\n", MaxLineProblems+5)
	dir := writeFiles(t, map[string]string{
		"three.tsv": "a b\tc\nno tab here\nd e\tf\nstill none\ng h\ti\nnor here\nj\tk\n",
		"mixed.tsv": "a\tb\n" + long + "\nbad \xff\tx\na\tb\tc\nx\t \n",
		"many.tsv":  many,
		"src.txt":   "a\n\xff\nc\nd\n",
		"tgt.txt":   "1\n2\n\n4\n",
	})
	for _, tc := range []struct {
		params map[string]any
		want   []string
		more   int
	}{
		{map[string]any{"path": "three.tsv"}, []string{
			"three.tsv:2: no tab between source and target",
			"three.tsv:4: no tab between source and target",
			"three.tsv:6: no tab between source and target"}, 0},
		{map[string]any{"path": "mixed.tsv"}, []string{
			"mixed.tsv:2: line of 65540 bytes, longer than 64 KiB (the limit)",
			"mixed.tsv:3: invalid UTF-8",
			"mixed.tsv:4: more than one tab (want source<TAB>target)",
			"mixed.tsv:5: empty target"}, 0},
		{map[string]any{"src_path": "src.txt", "tgt_path": "tgt.txt"}, []string{
			"src.txt:2: invalid UTF-8",
			"tgt.txt:3: empty line, but src.txt:3 is not: the files must be aligned line by line"}, 0},
	} {
		_, err := Build("pairs", tc.params, Options{BaseDir: dir})
		var de *DataError
		if !errors.As(err, &de) {
			t.Errorf("Build(pairs, %v) error = %v, want a *DataError", tc.params, err)
			continue
		}
		if !slices.Equal(de.Problems, tc.want) || de.More != tc.more {
			t.Errorf("Build(pairs, %v) problems\n%q (+%d)\nwant\n%q (+%d)", tc.params, de.Problems, de.More, tc.want, tc.more)
		}
	}
	_, err := Build("pairs", map[string]any{"path": "many.tsv"}, Options{BaseDir: dir})
	var de *DataError
	if !errors.As(err, &de) || len(de.Problems) != MaxLineProblems || de.More != 5 {
		t.Fatalf("Build(pairs, many.tsv) error = %#v, want %d problems and 5 more", err, MaxLineProblems)
	}
	if want := "pairs: many.tsv:1: no tab between source and target (and 24 more: attnlab plan lists them)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestTextAsSplit: the text task, which walks its file's tokens instead of
// holding them, builds the dataset that Split, BuildVocab and Encode give,
// for both tokenizers, with min_count and max_vocab at work.
func TestTextAsSplit(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	text := strings.ReplaceAll(randomText(r, 3000), "\x00", "") // a NUL byte is refused
	dir := writeFiles(t, map[string]string{"c.txt": text})
	for _, tc := range []struct {
		tok                string
		minCount, maxVocab int
	}{{"char", 1, 0}, {"char", 3, 12}, {"word", 1, 0}, {"word", 2, 9}} {
		params := map[string]any{"path": "c.txt", "tokenizer": tc.tok, "context": 7, "valid_fraction": 0.1, "test_fraction": 0.15,
			"min_count": tc.minCount, "max_vocab": tc.maxVocab}
		d, err := Build("text", params, Options{BaseDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := TokenizerByName(tc.tok)
		toks := tok.Split(text)
		n := len(toks)
		nTest, nValid := fractionCount(0.15, n), fractionCount(0.1, n)
		v := BuildVocab([][]string{toks[:n-nValid-nTest]}, tc.minCount, tc.maxVocab)
		if !slices.Equal(d.TgtVocab.Tokens(), v.Tokens()) {
			t.Fatalf("%+v: vocabulary %q, want %q", tc, d.TgtVocab.Tokens(), v.Tokens())
		}
		for i, seg := range [][]string{toks[:n-nValid-nTest], toks[n-nValid-nTest : n-nTest], toks[n-nTest:]} {
			got := [][]Example{d.Train.All(), d.Valid.All(), d.Test.All()}[i]
			if want := refWindows(v.Encode(seg), 7); !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v: split %d differs from Split's", tc, i)
			}
		}
		if !slices.Equal(ints(d.TestTokens), v.Encode(toks[n-nTest:])) {
			t.Fatalf("%+v: TestTokens differ", tc)
		}
	}
}

// TestTextOnlyWhiteSpace: a text file of white space has no word tokens,
// which the error says (not "use a longer file").
func TestTextOnlyWhiteSpace(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"w.txt": strings.Repeat(" \n\t", 1000)})
	_, err := Build("text", map[string]any{"path": "w.txt", "tokenizer": "word"}, Options{BaseDir: dir})
	if err == nil || err.Error() != "text: w.txt: no tokens: the word tokenizer finds none in a file of white space only" {
		t.Fatalf("err = %v", err)
	}
}

// TestPairsProblemsOfEveryFile: the bad lines of valid_path and test_path
// are listed with the main file's, not only once it is clean.
func TestPairsProblemsOfEveryFile(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"main.tsv": "a\tb\nno tab\n", "valid.tsv": "c\td\nno tab either\n"})
	_, err := Build("pairs", map[string]any{"path": "main.tsv", "valid_path": "valid.tsv"}, Options{BaseDir: dir})
	var de *DataError
	if !errors.As(err, &de) || !slices.Equal(de.Problems, []string{"main.tsv:2: no tab between source and target", "valid.tsv:2: no tab between source and target"}) {
		t.Fatalf("err = %v (%+v)", err, de)
	}
}

// TestTextReadsCRLFAsLF: a corpus written on Windows ("\r\n" line ends)
// gives the text task the same vocabulary and tokens as the same text with
// "\n": no "\r" token, whose nearly free predictions would lower the loss.
// A lone "\r" stays.
func TestTextReadsCRLFAsLF(t *testing.T) {
	lf := strings.Repeat("the cat sat.\nthe dog ran\rfast.\n", 40)
	build := func(content string) *Dataset {
		t.Helper()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "corpus.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Build("text", map[string]any{"path": "corpus.txt", "context": 16}, Options{BaseDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	want, got := build(lf), build(strings.ReplaceAll(lf, "\n", "\r\n"))
	if !slices.Equal(got.TgtVocab.Tokens(), want.TgtVocab.Tokens()) || !slices.Equal(got.TestTokens, want.TestTokens) {
		t.Errorf("CRLF corpus: vocabulary %q, %d test tokens; with LF: %q, %d", got.TgtVocab.Tokens(), len(got.TestTokens),
			want.TgtVocab.Tokens(), len(want.TestTokens))
	}
	if !slices.Contains(want.TgtVocab.Tokens(), "\r") {
		t.Errorf("the lone \\r is gone from the vocabulary %q", want.TgtVocab.Tokens())
	}
}

// TestNotUTF8Text: NUL bytes are refused like invalid UTF-8, with the
// file and line, and a file that starts with a UTF-16 byte-order mark or
// has NUL bytes in its first line is refused at once as UTF-16, before it
// is fingerprinted (FingerprintFile) or split.
func TestNotUTF8Text(t *testing.T) {
	t.Parallel()
	good := "the cat\tle chat\nthe dog\tle chien\n"
	utf16 := func(s string, le bool) string {
		var b strings.Builder
		for _, r := range s {
			if le {
				b.WriteByte(byte(r))
				b.WriteByte(0)
			} else {
				b.WriteByte(0)
				b.WriteByte(byte(r))
			}
		}
		return b.String()
	}
	dir := writeFiles(t, map[string]string{
		"u16be.tsv":  utf16(good, false),
		"u16le.tsv":  "\xff\xfe" + utf16(good, true),
		"bomBE.txt":  "\xfe\xff" + utf16(good, false),
		"nuls.txt":   strings.Repeat("\x00", 5000),
		"nul3.tsv":   good + "a\x00b\tc\n",
		"nul3.txt":   "one\ntwo\nth\x00ree\n",
		"nulsrc.txt": "a\nb\x00\n",
		"tgt.txt":    "x\ny\n",
	})
	const u16 = "has NUL bytes in its first line: UTF-16 or binary, not UTF-8 text (iconv -f UTF-16 -t UTF-8 converts UTF-16)"
	const bom = "looks like UTF-16 (it starts with a UTF-16 byte-order mark): convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   string
	}{
		{"pairs", map[string]any{"path": "u16be.tsv"}, "pairs: u16be.tsv: " + u16},
		{"pairs", map[string]any{"path": "u16le.tsv"}, "pairs: u16le.tsv: " + bom},
		{"text", map[string]any{"path": "u16be.tsv"}, "text: u16be.tsv: " + u16},
		{"text", map[string]any{"path": "bomBE.txt"}, "text: bomBE.txt: " + bom},
		{"text", map[string]any{"path": "nuls.txt"}, "text: nuls.txt:1: NUL byte (a UTF-8 text file has none)"},
		{"pairs", map[string]any{"path": "nuls.txt"}, "pairs: nuls.txt:1: NUL byte (a UTF-8 text file has none)"},
		{"text", map[string]any{"path": "nul3.txt"}, "text: nul3.txt:3: NUL byte (a UTF-8 text file has none)"},
		{"pairs", map[string]any{"path": "nul3.tsv"}, "pairs: nul3.tsv:3: NUL byte (a UTF-8 text file has none)"},
		{"pairs", map[string]any{"src_path": "nulsrc.txt", "tgt_path": "tgt.txt"}, "pairs: nulsrc.txt:2: NUL byte (a UTF-8 text file has none)"},
	} {
		_, err := Build(tc.task, tc.params, Options{BaseDir: dir})
		if err == nil || err.Error() != tc.want {
			t.Errorf("Build(%s, %v) error = %v,\nwant %q", tc.task, tc.params, err, tc.want)
		}
	}
	// A file of NULs is refused by its head, before it is read: even one
	// (sparse) past MaxFileSize.
	if err := os.Truncate(filepath.Join(dir, "nuls.txt"), MaxFileSize+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Build("text", map[string]any{"path": "nuls.txt"}, Options{BaseDir: dir}); err == nil || err.Error() != "text: nuls.txt:1: NUL byte (a UTF-8 text file has none)" {
		t.Errorf("Build(text, %d bytes of NULs) error = %v, want the NUL byte of line 1", MaxFileSize+1, err)
	}
	// Refused by FingerprintFile, which plan calls first.
	if _, err := FingerprintFile("pairs", "u16be.tsv", Options{BaseDir: dir}); err == nil || err.Error() != "pairs: u16be.tsv: "+u16 {
		t.Errorf("FingerprintFile(u16be.tsv) error = %v", err)
	}
}

// TestReservedTokensInData: a data file whose tokens include "<pad>",
// "<bos>" or "<eos>" is refused with its line (they would train as <unk>
// while the reference kept them, so never score); "<unk>" is allowed and
// means the unknown token, and with the char tokenizer "<eos>" is five
// ordinary characters.
func TestReservedTokensInData(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"eos.tsv":  "a b\tc d\ne f\tg <eos>\n<pad> x\ty\n",
		"unk.tsv":  "a <unk> b\tc <unk>\nd e\tf g\ne f\tg h\nf g\th i\ng h\ti j\n",
		"src.txt":  "a\nb\nc\n",
		"tgt.txt":  "x\ny <bos>\nz\n",
		"c.txt":    strings.Repeat("the cat sat\n", 10) + "on the <eos> mat\n",
		"pad.txt":  strings.Repeat("one two\r\n", 5) + "three<pad> four\r\nfive\t<pad>\r\n",
		"unk.txt":  strings.Repeat("the <unk> sat on the mat\n", 20),
		"char.tsv": "<eos>a\t<pad>b\n<bos>c\t<eos>d\ne\tf\ng\th\ni\tj\n",
	})
	const tail = " (of the reserved tokens, data may use only <unk>)"
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   []string
	}{
		{"pairs", map[string]any{"path": "eos.tsv"}, []string{
			`eos.tsv:2: token "<eos>" in the target is reserved for the end of a sequence` + tail,
			`eos.tsv:3: token "<pad>" in the source is reserved for padding` + tail}},
		{"pairs", map[string]any{"src_path": "src.txt", "tgt_path": "tgt.txt"}, []string{
			`tgt.txt:2: token "<bos>" in the target is reserved for the beginning of a sequence` + tail}},
		{"text", map[string]any{"path": "c.txt", "tokenizer": "word"}, []string{
			`c.txt:11: token "<eos>" is reserved for the end of a sequence` + tail}},
		{"text", map[string]any{"path": "pad.txt", "tokenizer": "word"}, []string{
			`pad.txt:7: token "<pad>" is reserved for padding` + tail}},
	} {
		_, err := Build(tc.task, tc.params, Options{BaseDir: dir})
		var de *DataError
		switch {
		case errors.As(err, &de):
			if !slices.Equal(de.Problems, tc.want) {
				t.Errorf("Build(%s, %v) problems %q, want %q", tc.task, tc.params, de.Problems, tc.want)
			}
		case err == nil || err.Error() != tc.task+": "+tc.want[0]:
			t.Errorf("Build(%s, %v) error = %v, want %q", tc.task, tc.params, err, tc.want[0])
		}
	}
	// <unk> is the unknown token: no vocabulary entry of its own, UnkID.
	d, err := Build("pairs", map[string]any{"path": "unk.tsv", "valid_fraction": 0.0, "test_fraction": 0.2}, Options{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(d.SrcVocab.Tokens()[4:], UnkToken) || d.SrcVocab.ID(UnkToken) != 3 {
		t.Errorf("source vocabulary %q: <unk> has an entry of its own", d.SrcVocab.Tokens())
	}
	if _, err := Build("text", map[string]any{"path": "unk.txt", "tokenizer": "word"}, Options{BaseDir: dir}); err != nil {
		t.Errorf("text with <unk>: %v", err)
	}
	// With the char tokenizer, "<eos>" is five characters.
	if _, err := Build("pairs", map[string]any{"path": "char.tsv", "src_tokenizer": "char", "tgt_tokenizer": "char", "valid_fraction": 0.0, "test_fraction": 0.2}, Options{BaseDir: dir}); err != nil {
		t.Errorf("char pairs with <eos> characters: %v", err)
	}
	if _, err := Build("text", map[string]any{"path": "c.txt"}, Options{BaseDir: dir}); err != nil {
		t.Errorf("char text with <eos> characters: %v", err)
	}
}

// TestEmptyVocabulary: a min_count that leaves none of the training
// data's tokens in a vocabulary (all-<unk> data) is refused on min_count,
// a *registry.ParamError that CheckData reports with its key, saying how
// often the most frequent token occurs.
func TestEmptyVocabulary(t *testing.T) {
	t.Parallel()
	var tsv strings.Builder
	for i := range 40 {
		fmt.Fprintf(&tsv, "s%d a\tt%d\n", i, i) // "a" 40 times in the sources; every target once
	}
	dir := writeFiles(t, map[string]string{
		"p.tsv":   tsv.String(),
		"c.txt":   strings.Repeat("the cat sat on the mat\n", 30),
		"unk.tsv": "<unk>\tx\n<unk> <unk>\ty\n",
	})
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   string
	}{
		{"pairs", map[string]any{"path": "p.tsv", "min_count": 100000}, `min_count: 100000 leaves no token of the training data in the source vocabulary (the most frequent occurs 34 times) for task "pairs"`},
		{"pairs", map[string]any{"path": "p.tsv", "min_count": 2}, `min_count: 2 leaves no token of the training data in the target vocabulary (the most frequent occurs once) for task "pairs"`},
		{"text", map[string]any{"path": "c.txt", "tokenizer": "word", "min_count": 1000}, `min_count: 1000 leaves no token of the training data in the vocabulary (the most frequent occurs 54 times) for task "text"`},
	} {
		_, err := Build(tc.task, tc.params, Options{BaseDir: dir})
		var pe *registry.ParamError
		if !errors.As(err, &pe) || pe.Key != "min_count" || err.Error() != tc.want {
			t.Errorf("Build(%s, %v) error = %v,\nwant *registry.ParamError %q", tc.task, tc.params, err, tc.want)
		}
		dc := CheckData(tc.task, tc.params, Options{BaseDir: dir})
		if msg, _ := strings.CutSuffix(strings.TrimPrefix(tc.want, "min_count: "), ` for task "`+tc.task+`"`); dc.Key != "min_count" || !slices.Equal(dc.Problems, []string{msg}) {
			t.Errorf("CheckData(%s, %v) = key %q, problems %q; want min_count, %q", tc.task, tc.params, dc.Key, dc.Problems, msg)
		}
	}
	_, err := Build("pairs", map[string]any{"path": "unk.tsv", "valid_fraction": 0.0, "test_fraction": 0.0}, Options{BaseDir: dir})
	if want := "pairs: unk.tsv: the training data has no token for the source vocabulary but <unk>"; err == nil || err.Error() != want {
		t.Errorf("Build(pairs, unk.tsv) error = %v, want %q", err, want)
	}
}

// TestCRLineEnds: a line-based data file whose lines end in a lone "\r"
// (classic Mac OS) is refused as such, not as one line with "more than
// one tab"; "\r\n" and stray "\r" inside lines ended by "\n" are not.
func TestCRLineEnds(t *testing.T) {
	t.Parallel()
	pairs := "a b\tc\rd e\tf\rg h\ti\rj k\tl\rm n\to\r"
	dir := writeFiles(t, map[string]string{
		"cronly.tsv": pairs,
		"two.tsv":    "a\tb\rc\td", // two lines, neither ended by "\n"
		"cr1.tsv":    "a\tb\rc\td\re\tf\n",
		"src.txt":    "a\rb\rc\r",
		"tgt.txt":    "x\ny\nz\n",
		"crlf.tsv":   strings.ReplaceAll(pairs, "\r", "\r\n"),
		"stray.tsv":  "a\tb\rc\nd\te\nf\tg\nh\ti\nj\tk\n",
		"stray2.tsv": "a\rb\rc\td\ne\tf\ng\th\ni\tj\nk\tl\n", // two in the first line
	})
	const cr = `looks like it has CR line endings (classic Mac OS), which end no line here: convert them to LF (tr '\r' '\n')`
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"path": "cronly.tsv"}, "pairs: cronly.tsv: " + cr},
		{map[string]any{"path": "two.tsv"}, "pairs: two.tsv: " + cr},
		{map[string]any{"path": "cr1.tsv"}, "pairs: cr1.tsv: " + cr},
		{map[string]any{"src_path": "src.txt", "tgt_path": "tgt.txt"}, "pairs: src.txt: " + cr},
		{map[string]any{"path": "crlf.tsv", "valid_fraction": 0.0, "test_fraction": 0.2}, ""},
		{map[string]any{"path": "stray.tsv", "valid_fraction": 0.0, "test_fraction": 0.2}, ""},
		{map[string]any{"path": "stray2.tsv", "valid_fraction": 0.0, "test_fraction": 0.2}, ""},
	} {
		_, err := Build("pairs", tc.params, Options{BaseDir: dir})
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && got != tc.want {
			t.Errorf("Build(pairs, %v) error = %v, want %q", tc.params, err, tc.want)
		}
	}
}

// TestPairsHeaderLine: a first line of column names (source<TAB>target,
// src/tgt, input/output, in any case; or src_path's "src" beside
// tgt_path's "tgt") is refused as a problem naming the file's line 1, not
// trained on as a pair, as it used to be; the same words on another line
// are a pair like any other.
func TestPairsHeaderLine(t *testing.T) {
	t.Parallel()
	var body strings.Builder
	for i := range 40 {
		fmt.Fprintf(&body, "a%d b%d\tc%d\n", i, i%7, i%3)
	}
	dir := writeFiles(t, map[string]string{
		"header.tsv": "Source\tTarget\n" + body.String(),
		"input.tsv":  " input \toutput\n" + body.String(),
		"later.tsv":  body.String() + "source\ttarget\n",
		"half.tsv":   "source\tcible\n" + body.String(),
		"copy.tsv":   "input\tinput\n" + body.String(),
		"swap.tsv":   "target\tsource\n" + body.String(),
		"src.txt":    "src\n" + "a\nb\nc\nd\n",
		"tgt.txt":    "TGT\n" + "1\n2\n3\n4\n",
		"valid.tsv":  "src\ttgt\na0 b0\tc0\n",
	})
	for _, tc := range []struct {
		params map[string]any
		want   string // the problem, "" for none
	}{
		{map[string]any{"path": "header.tsv"}, "header.tsv:1: Source<TAB>Target is a header (column names), not a pair"},
		{map[string]any{"path": "input.tsv"}, "input.tsv:1:  input <TAB>output is a header"},
		{map[string]any{"path": "later.tsv"}, ""},
		{map[string]any{"path": "half.tsv"}, ""},
		{map[string]any{"path": "copy.tsv"}, ""}, // a copy task's pair, not a header
		{map[string]any{"path": "swap.tsv"}, ""}, // names in no header's order
		{map[string]any{"src_path": "src.txt", "tgt_path": "tgt.txt", "valid_fraction": 0.25, "test_fraction": 0.25}, "src.txt:1 and tgt.txt:1: src and TGT is a header"},
		{map[string]any{"path": "later.tsv", "valid_path": "valid.tsv"}, "valid.tsv:1: src<TAB>tgt is a header"},
	} {
		_, err := Build("pairs", tc.params, Options{BaseDir: dir, Seed: 1})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Build(%v): %v, want no error", tc.params, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Build(%v): %v, want a problem %q", tc.params, err, tc.want)
		}
	}
}

// TestLongLineNotCopied checks that a line over MaxLineBytes is refused
// without its text being copied out of the file's bytes: a pairs file of
// one line of a gigabyte took three gigabytes to be refused. readLines
// takes the file's size once (safein.ReadFile), not twice, and still
// names the line and its length among the other problems.
func TestLongLineNotCopied(t *testing.T) {
	const size = 8 << 20
	content := "a\tb\n" + strings.Repeat("x", size) + "\r\nc\t\xff\n\nd\te"
	dir := writeFiles(t, map[string]string{"long.tsv": content})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	lines, bad, err := readLines("pairs", "long.tsv", Options{BaseDir: dir})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(content))*5/4 {
		t.Errorf("readLines of a %d-byte file allocated %d bytes, want about the file's size", len(content), got)
	}
	if want := []string{"a\tb", "", "", "", "d\te"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
	want := map[int]string{1: fmt.Sprintf("line of %d bytes, longer than 64 KiB (the limit)", size), 2: "invalid UTF-8"}
	if !reflect.DeepEqual(bad, want) {
		t.Errorf("bad lines %v, want %v", bad, want)
	}
}

// TestLongLastLineReported: an over-long last line without a final "\n"
// is reported like any other, not dropped with the line end before it.
func TestLongLastLineReported(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes+1)
	for _, tc := range []struct {
		content string
		lines   []string
		bad     map[int]string
	}{
		{"a\tb\n" + long, []string{"a\tb", ""}, map[int]string{1: fmt.Sprintf("line of %d bytes, longer than 64 KiB (the limit)", MaxLineBytes+1)}},
		{"a\tb\n" + long + "\r", []string{"a\tb", ""}, map[int]string{1: fmt.Sprintf("line of %d bytes, longer than 64 KiB (the limit)", MaxLineBytes+1)}},
		{"a\tb\n\n" + long, []string{"a\tb", "", ""}, map[int]string{2: fmt.Sprintf("line of %d bytes, longer than 64 KiB (the limit)", MaxLineBytes+1)}},
		{long, []string{""}, map[int]string{0: fmt.Sprintf("line of %d bytes, longer than 64 KiB (the limit)", MaxLineBytes+1)}},
		{"a\tb\n" + long + "\n", []string{"a\tb", ""}, map[int]string{1: fmt.Sprintf("line of %d bytes, longer than 64 KiB (the limit)", MaxLineBytes+1)}},
	} {
		dir := writeFiles(t, map[string]string{"f.tsv": tc.content})
		lines, bad, err := readLines("pairs", "f.tsv", Options{BaseDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(lines, tc.lines) || !reflect.DeepEqual(bad, tc.bad) {
			t.Errorf("%q...: lines %q, bad %v; want %q, %v", tc.content[:8], lines, bad, tc.lines, tc.bad)
		}
	}
}
