package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/store"
)

// samplesOf returns the decoded test samples stored with a run.
func samplesOf(t testing.TB, db string, run store.Run) []artifact.Sample {
	t.Helper()
	st, err := store.OpenExisting(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	data, err := st.Artifact(context.Background(), run.ID, artifact.KindSamples, artifact.NameSamples)
	if err != nil {
		t.Fatal(err)
	}
	var s []artifact.Sample
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGenerateGreedy: greedy generation of the stored test samples' sources
// gives exactly the outputs the run's evaluation decoded (greedy), one
// input at a time and all at once through --stdin.
func TestGenerateGreedy(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	samples := samplesOf(t, db, run)
	var in, want strings.Builder
	for _, s := range samples {
		r := attnlab(t, "generate", id(run), "--input", s.Source, "--db", db)
		wantOK(t, r)
		if r.stdout != s.Output+"\n" || r.stderr != "" {
			t.Errorf("generate --input %q = %q, want the evaluation's %q\n%v", s.Source, r.stdout, s.Output, r)
		}
		in.WriteString(s.Source + "\n")
		want.WriteString(s.Output + "\n")
	}
	r := attnlabIn(t, in.String(), "generate", id(run), "--stdin", "--db", db)
	wantOK(t, r)
	if r.stdout != want.String() {
		t.Errorf("generate --stdin:\n%s\nwant\n%s", r.stdout, want.String())
	}
	// Empty lines give empty outputs, so outputs stay aligned with inputs.
	r = attnlabIn(t, samples[0].Source+"\n\n"+samples[1].Source+"\n", "generate", id(run), "--stdin", "--db", db)
	wantOK(t, r)
	if r.stdout != samples[0].Output+"\n\n"+samples[1].Output+"\n" {
		t.Errorf("generate --stdin with an empty line: %q", r.stdout)
	}
	// A beam of one is greedy search.
	r = attnlab(t, "generate", id(run), "--input", samples[0].Source, "--beam", "1", "--db", db)
	wantOK(t, r)
	if r.stdout != samples[0].Output+"\n" {
		t.Errorf("--beam 1 gives %q, greedy %q", r.stdout, samples[0].Output)
	}
}

// TestGenerateStdinAnswersEachLine: a program that writes one line to
// generate --stdin through a pipe and waits for its answer before writing
// the next gets every answer (the batch of a pipe is not held back for
// lines still to come), and they are the evaluation's outputs.
func TestGenerateStdinAnswersEachLine(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	samples := samplesOf(t, db, run)[:3]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var errb bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- execute(ctx, []string{"generate", id(run), "--stdin", "--db", db}, inR, outW, &errb)
		outW.Close()
	}()
	answers := make(chan string)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			answers <- sc.Text()
		}
		close(answers)
	}()
	for i, s := range samples {
		if _, err := io.WriteString(inW, s.Source+"\n"); err != nil {
			t.Fatal(err)
		}
		select { // a guard against the hang this test is about, not a timing
		case got := <-answers:
			if got != s.Output {
				t.Errorf("line %d: %q, want the evaluation's %q", i+1, got, s.Output)
			}
		case <-time.After(2 * time.Minute):
			cancel()
			t.Fatalf("no answer to line %d of %d before the next is written (stderr %q)", i+1, len(samples), errb.String())
		}
	}
	inW.Close()
	if c := <-code; c != exitOK {
		t.Fatalf("exit %d: %s", c, errb.String())
	}
	if rest, ok := <-answers; ok {
		t.Errorf("an answer after the last line: %q", rest)
	}
}

func TestGenerateStrategies(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	known := "abcdef"
	onlyKnown := func(name, out string) {
		t.Helper()
		out = strings.TrimSuffix(out, "\n")
		if strings.Contains(out, "\n") || strings.Trim(out, known) != "" {
			t.Errorf("%s: output %q is not one line of known symbols", name, out)
		}
	}
	beam := attnlab(t, "generate", id(run), "--input", "abcdef", "--beam", "3", "--length-penalty", "1", "--db", db)
	wantOK(t, beam)
	onlyKnown("--beam 3", beam.stdout)

	s1 := attnlab(t, "generate", id(run), "--input", "fedcba", "--sample", "--seed", "7", "--temperature", "1.5", "--top-k", "4", "--db", db)
	s2 := attnlab(t, "generate", id(run), "--input", "fedcba", "--sample", "--seed", "7", "--temperature", "1.5", "--top-k", "4", "--db", db)
	wantOK(t, s1)
	onlyKnown("--sample", s1.stdout)
	if s1.stdout != s2.stdout {
		t.Errorf("the same seed sampled %q and then %q", s1.stdout, s2.stdout)
	}
	p := attnlab(t, "generate", id(run), "--input", "abc", "--sample", "--top-p", "0.5", "--db", db)
	wantOK(t, p)
	onlyKnown("--top-p", p.stdout)

	short := attnlab(t, "generate", id(run), "--input", "abcdef", "--max-len", "2", "--db", db)
	wantOK(t, short)
	if n := len(strings.TrimSuffix(short.stdout, "\n")); n > 2 {
		t.Errorf("--max-len 2 gave %d tokens: %q", n, short.stdout)
	}
}

func TestGenerateShowAttention(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	r := attnlab(t, "generate", id(run), "--input", "abcde", "--show-attention", "--db", db)
	wantOK(t, r)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	out := lines[0]
	if len(lines) < 4 || !strings.HasPrefix(lines[1], "attention (rows: output tokens, columns: source tokens; ") {
		t.Fatalf("--show-attention:\n%s", r.stdout)
	}
	if strings.TrimSpace(lines[2]) != "a  b  c  d  e" {
		t.Errorf("source labels %q", lines[2])
	}
	rows := lines[3:]
	if len(rows) != len(out)+1 && len(rows) != len(out) {
		t.Errorf("%d heatmap rows for the output %q", len(rows), out)
	}
	for i, c := range out {
		if got := strings.TrimSpace(rows[i][:5]); got != string(c) {
			t.Errorf("row %d is labelled %q, want %q", i, got, string(c))
		}
	}
	if len(rows) > len(out) && !strings.HasPrefix(rows[len(out)], "<eos>") {
		t.Errorf("the last row is not <eos>: %q", rows[len(out)])
	}
	for _, row := range rows {
		if strings.Trim(row[5:], " ░▒▓█") != "" {
			t.Errorf("a heatmap row holds more than shades: %q", row)
		}
	}

	// The weights a heatmap keeps grow with output × input: a long input
	// is refused by name, and decodes without the flag.
	long := strings.Repeat("abcde", 400)
	r = attnlab(t, "generate", id(run), "--input", long, "--max-len", "10000", "-a", "--db", db)
	wantError(t, r, 2, "--input has 2000 tokens: too long for --show-attention", "10000 × 2000 attention weights (76.3 MiB, at most 64.0 MiB)")
	r = attnlabIn(t, "abc\n"+long+"\n", "generate", id(run), "--stdin", "--max-len", "10000", "-a", "--db", db)
	wantError(t, r, exitFailure, "stdin line 2 has 2000 tokens: too long for --show-attention") // as other stdin lines the model cannot take
	wantOK(t, attnlab(t, "generate", id(run), "--input", long, "--max-len", "10000", "--db", db))
	r = attnlab(t, "generate", id(run), "--input", long[:1000], "--max-len", "10000", "--beam", "4", "-a", "--db", db)
	wantError(t, r, 2, "--input has 1000 tokens: too long for --show-attention, whose heatmap would keep up to 4 hypotheses × 10000 × 1000 attention weights (153 MiB, at most 64.0 MiB)")

	none := runOf(t, db, "tiny", `"none"`)
	r = attnlab(t, "generate", id(none), "--input", "abc", "-a", "--db", db)
	wantOK(t, r)
	if strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stderr, "attention weights are all 0 (attention none") {
		t.Errorf("--show-attention with attention none: %v", r)
	}
}

func TestGenerateUnknownSymbols(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	r := attnlab(t, "generate", id(run), "--input", "ab#c!#", "--db", db)
	wantError(t, r, exitUsage)
	if want := `attnlab: generate: unknown symbols in --input: "#", "!" (the model knows: a b c d e f)` + "\n"; r.stderr != want {
		t.Errorf("stderr %q\nwant   %q", r.stderr, want)
	}
	unk := attnlab(t, "generate", id(run), "--input", "ab#c", "--unk", "--db", db)
	wantOK(t, unk)

	s := attnlabIn(t, "abc\nab?\nabc\n", "generate", id(run), "--stdin", "--db", db)
	wantError(t, s, exitFailure, `generate: unknown symbols in stdin line 2: "?"`)
	if strings.Count(s.stdout, "\n") != 1 {
		t.Errorf("--stdin wrote %q before the bad line, want the first output", s.stdout)
	}
	wantError(t, attnlab(t, "generate", id(run), "--input", "", "--db", db), exitUsage, "--input is empty")
	wantError(t, attnlab(t, "generate", "99", "--input", "abc", "--db", db), exitUsage, `generate: no run "99"`)
	// A file with a byte-order mark and CRLF lines, as Windows' editors save
	// it, reads as its lines; a mark inside a line is a symbol like others.
	bom := attnlabIn(t, "\ufeffabc\r\nab\r\n", "generate", id(run), "--stdin", "--db", db)
	wantOK(t, bom)
	if plain := attnlabIn(t, "abc\nab\n", "generate", id(run), "--stdin", "--db", db); bom.stdout != plain.stdout {
		t.Errorf("--stdin with a byte-order mark and CRLF wrote %q, without %q", bom.stdout, plain.stdout)
	}
	wantError(t, attnlabIn(t, "abc\n\ufeffab\n", "generate", id(run), "--stdin", "--db", db), exitFailure, `unknown symbols in stdin line 2: "\ufeff"`)
	// Bytes that are not UTF-8 are said as such, not as a symbol "\ufffd".
	wantError(t, attnlabIn(t, "abc\nab\xe9c\n", "generate", id(run), "--stdin", "--db", db), exitFailure, "generate: stdin line 2 is not valid UTF-8 text")
	wantError(t, attnlab(t, "generate", id(run), "--input", "ab\xffc", "--db", db), exitUsage, "generate: --input is not valid UTF-8 text")
}

func TestGenerateLM(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tinylm", "")
	r := attnlab(t, "generate", id(run), "--input", "the ", "--max-len", "20", "--db", db)
	wantOK(t, r)
	text := strings.TrimSuffix(r.stdout, "\n")
	if !strings.HasPrefix(text, "the ") || len([]rune(text)) > 4+20 || len([]rune(text)) < 5 {
		t.Errorf("LM generate: %q", r.stdout)
	}
	scratch := attnlab(t, "generate", id(run), "--input", "", "--max-len", "10", "--sample", "--db", db)
	wantOK(t, scratch)
	if n := len([]rune(strings.TrimSuffix(scratch.stdout, "\n"))); n == 0 || n > 10 {
		t.Errorf("LM generate from an empty prompt: %q", scratch.stdout)
	}
	// --stdin: one line per prompt, newlines in the output escaped.
	s := attnlabIn(t, "the dog\na cat\n", "generate", id(run), "--stdin", "--max-len", "60", "--db", db)
	wantOK(t, s)
	lines := strings.Split(strings.TrimSuffix(s.stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "the dog") || !strings.HasPrefix(lines[1], "a cat") {
		t.Errorf("LM generate --stdin:\n%s", s.stdout)
	}
	a := attnlab(t, "generate", id(run), "--input", "the", "-a", "--max-len", "5", "--db", db)
	wantOK(t, a)
	if !strings.Contains(a.stderr, "attnlab: note: --show-attention: run ") || !strings.Contains(a.stderr, "is a language model (lm-rnn): it has no source to attend over") {
		t.Errorf("LM --show-attention: %v", a)
	}
	wantError(t, attnlab(t, "generate", id(run), "--input", "THE", "--db", db), exitUsage, `unknown symbols in --input: "T", "H", "E"`)
}

// TestGenerateWordLM: a word-level language model's prompt and its
// continuation are joined with spaces, as its tokenizer joins words.
func TestGenerateWordLM(t *testing.T) {
	db := filepath.Join(t.TempDir(), "words.db")
	wantOK(t, attnlab(t, "run", "testdata/lmword.yaml", "--db", db, "-q"))
	r := attnlab(t, "generate", "1", "--input", "the  dog", "--max-len", "6", "--db", db)
	wantOK(t, r)
	words := strings.Fields(r.stdout)
	if !strings.HasPrefix(r.stdout, "the dog ") || len(words) < 3 || len(words) > 8 || strings.Count(r.stdout, "  ") > 0 {
		t.Errorf("word LM generate: %q", r.stdout)
	}
	wantError(t, attnlab(t, "generate", "1", "--input", "the zebra", "--db", db), exitUsage, `unknown symbols in --input: "zebra" (the model knows: the `)
	// "<unk>" is the unknown token, which the model writes itself.
	unk := attnlab(t, "generate", "1", "--input", "the <unk> dog", "--max-len", "2", "--db", db)
	wantOK(t, unk)
	if !strings.HasPrefix(unk.stdout, "the <unk> dog ") {
		t.Errorf("word LM generate with <unk>: %q", unk.stdout)
	}
}

// TestGenerateBadNumbers: NaN and infinite decoding settings, and a
// --stdin line over the limit, are one clear line each.
func TestGenerateBadNumbers(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--beam", "2", "--length-penalty", "NaN"}, "--length-penalty NaN: must be a finite number"},
		{[]string{"--beam", "2", "--length-penalty", "+Inf"}, "--length-penalty +Inf: must be a finite number"},
		{[]string{"--sample", "--temperature", "Inf"}, "--temperature +Inf: must be a finite number above 0"},
		{[]string{"--sample", "--temperature", "NaN"}, "--temperature NaN: must be a finite number above 0"},
		{[]string{"--sample", "--top-p", "NaN"}, "--top-p NaN"},
	} {
		args := append([]string{"generate", id(run), "--input", "abc", "--db", db}, tc.args...)
		wantError(t, attnlab(t, args...), exitUsage, tc.want)
	}
	long := "abc\n" + strings.Repeat("a", maxStdinLine+1) + "\n"
	r := attnlabIn(t, long, "generate", id(run), "--stdin", "--db", db)
	wantError(t, r, exitFailure, "stdin line 2: longer than 64 KiB, the limit of one input line")
	// --input has the same limit.
	wantError(t, attnlab(t, "generate", id(run), "--input", strings.TrimSpace(long[4:]), "--db", db), exitUsage, "--input: 65537 bytes, longer than 64 KiB, the limit of one input")
}

// TestGenerateMemoryBound: an input whose decoding is estimated above
// --max-memory is refused by name, before anything is decoded; inputs
// that fit only a few at a time are decoded in smaller batches, to the
// same outputs.
func TestGenerateMemoryBound(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	r := attnlab(t, "generate", id(run), "--input", "abcde", "--max-memory", "1KiB", "--db", db)
	wantError(t, r, exitUsage, "generate: --input has 5 tokens: decoding it is estimated at ", ", over --max-memory 1.00 KiB; give a shorter input, or raise --max-memory")
	r = attnlabIn(t, "abc\nabcde\n", "generate", id(run), "--stdin", "--max-memory", "1KiB", "--db", db)
	wantError(t, r, exitFailure, "stdin line 1 has 3 tokens: decoding it is estimated at ")
	tsv := writeIn(t, t.TempDir(), "test.tsv", "abc\tcba\n")
	r = attnlab(t, "eval", id(run), tsv, "--max-memory", "1KiB", "--db", db)
	wantError(t, r, exitUsage, "test.tsv:1", "has 3 tokens: decoding it is estimated at ")

	tr, err := loadRun(t.Context(), db, id(run))
	if err != nil {
		t.Fatal(err)
	}
	gen := newGenerator(tr, &generateFlags{}, func(string) bool { return false })
	gen.memLimit = gen.decodeMemory(2, 6)
	var inputs []input
	for _, n := range []int{6, 6, 6, 2, 3} {
		inputs = append(inputs, input{ids: make([]int, n)})
	}
	if got := fmt.Sprint(gen.chunks(inputs, []int{0, 1, 2, 3, 4})); got != "[[0 1] [2 3] [4]]" {
		t.Errorf("batches within the memory of two 6-token inputs: %s, want [[0 1] [2 3] [4]]", got)
	}
	lines := strings.Repeat("abcde\nedcba\nab\n", 4)
	all := attnlabIn(t, lines, "generate", id(run), "--stdin", "--db", db)
	wantOK(t, all)
	few := attnlabIn(t, lines, "generate", id(run), "--stdin", "--max-memory", fmt.Sprint(gen.decodeMemory(2, 5)+1), "--db", db)
	wantOK(t, few)
	if few.stdout != all.stdout {
		t.Errorf("decoded two at a time:\n%s\nall at once:\n%s", few.stdout, all.stdout)
	}
	// Samples do not depend on the batch either: each input has its own
	// stream, the first the seed's, as --input.
	sample := []string{"--sample", "--seed", "7", "--temperature", "1.5", "--db", db}
	s1 := attnlabIn(t, lines, append([]string{"generate", id(run), "--stdin"}, sample...)...)
	s2 := attnlabIn(t, lines, append([]string{"generate", id(run), "--stdin", "--max-memory", fmt.Sprint(gen.decodeMemory(2, 5) + 1)}, sample...)...)
	one := attnlab(t, append([]string{"generate", id(run), "--input", "abcde"}, sample...)...)
	wantOK(t, s1)
	if s1.stdout != s2.stdout || !strings.HasPrefix(s1.stdout, one.stdout) {
		t.Errorf("sampled with all lines at once:\n%s\ntwo at a time:\n%s\nthe first line alone: %s", s1.stdout, s2.stdout, one.stdout)
	}
}

// TestServeSampleIsGenerates: the dashboard's generate form samples what
// attnlab generate --sample prints for the same run, prompt, seed and
// settings (both decode with models.GenerateTokens and the seed's stream).
func TestServeSampleIsGenerates(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tinylm", "")
	base := startServe(t, "--db", db, "--read-only=false")
	for _, seed := range []string{"1", "7", "12345"} {
		cli := attnlab(t, "generate", id(run), "--input", "the ", "--sample", "--seed", seed, "--temperature", "1.3", "--top-k", "20", "--top-p", "0.95", "--db", db)
		wantOK(t, cli)
		resp, err := http.PostForm(base+"/r/"+id(run)+"/generate", url.Values{
			"input": {"the "}, "beam": {"sample"}, "temperature": {"1.3"}, "top_k": {"20"}, "top_p": {"0.95"}, "seed": {seed},
		})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("POST generate: %d %v\n%s", resp.StatusCode, err, body)
		}
		m := regexp.MustCompile(`(?s)<pre class="output" id="output">(.*?)</pre>`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no output on the page:\n%s", body)
		}
		web := html.UnescapeString(string(m[1]))
		if want := strings.TrimSuffix(cli.stdout, "\n"); web != want {
			t.Errorf("seed %s: the dashboard samples %q, attnlab generate --sample %q", seed, web, want)
		}
	}
}

// TestGenerateOutputEscapes: a model whose outputs hold a backslash, a tab
// and ESC: --input writes them byte for byte to a pipe (on a terminal:
// TestOneOutputOnATerminal), --stdin as its line format's \\, \t and
// \x1b, and eval --out with the same escapes, ESC raw.
func TestGenerateOutputEscapes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var src, tgt strings.Builder
	symbol := map[byte]string{'a': `\`, 'b': "\t", 'c': "\x1b", 'd': "x"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1500 {
		n := 3 + rng.IntN(5)
		for range n {
			c := "abcd"[rng.IntN(4)]
			src.WriteByte(c)
			tgt.WriteString(symbol[c])
		}
		src.WriteByte('\n')
		tgt.WriteByte('\n')
	}
	for name, text := range map[string]string{"src.txt": src.String(), "tgt.txt": tgt.String(), "esc.yaml": `name: esc
task: {name: pairs, src_path: src.txt, tgt_path: tgt.txt, src_tokenizer: char, tgt_tokenizer: char}
model: {name: seq2seq-rnn, embed: 16, encoder: {name: lstm, hidden: 32}, attention: {name: dot}}
train: {optimizer: {name: adam, lr: 1.0e-2}, batch_size: 32, steps: 400, eval_every: 400}
seeds: [1]
`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(dir, "lab.db")
	wantOK(t, attnlab(t, "run", filepath.Join(dir, "esc.yaml"), "--db", db, "-q"))
	one := attnlab(t, "generate", "esc/seed=1", "--input", "abcd", "--db", db)
	wantOK(t, one)
	stream := attnlabIn(t, "abcd\n", "generate", "esc/seed=1", "--stdin", "--db", db)
	wantOK(t, stream)
	// --input to a pipe: the model's text byte for byte; --stdin: one
	// line per output, escaped (on a terminal --input is shownOutput's:
	// TestOneOutputOnATerminal).
	raw := `\` + "\t\x1bx"
	if one.stdout != raw+"\n" {
		t.Errorf("generate --input abcd to a pipe = %q, want the model's output %q byte for byte", one.stdout, raw)
	}
	if want := shownOutput(raw, true) + "\n"; stream.stdout != want || want != `\\\t\x1bx`+"\n" {
		t.Errorf("generate --stdin = %q, want %q", stream.stdout, want)
	}
	// eval --out writes the same escapes of the one definition, and the
	// rest byte for byte (data): ESC raw in its file.
	for name, text := range map[string]string{"s.txt": "abcd\n", "r.txt": "\\\t\x1bx\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outs := filepath.Join(dir, "outs.txt")
	wantOK(t, attnlab(t, "eval", "esc/seed=1", "--src", filepath.Join(dir, "s.txt"), "--ref", filepath.Join(dir, "r.txt"), "--out", outs, "--db", db))
	got, err := os.ReadFile(outs)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(stream.stdout, `\x1b`, "\x1b"); string(got) != want {
		t.Errorf("eval --out wrote %q, want %q: generate's escapes, ESC raw", got, want)
	}
}

// TestGenerateShowAttentionNotes: with --stdin, an empty line (not decoded)
// draws no heatmap and no note (it said the run "has no attention weights
// to show (attention additive)"), and a note on why a model has no heatmap
// is written once, not once per line.
func TestGenerateShowAttentionNotes(t *testing.T) {
	db := sharedDB(t)
	run := runOf(t, db, "tiny", `"additive"`)
	r := attnlabIn(t, "abc\n\nabd\n", "generate", id(run), "--stdin", "-a", "--db", db)
	wantOK(t, r)
	if r.stderr != "" || strings.Count(r.stdout, "attention (rows:") != 2 || !strings.Contains(r.stdout, "\n\n") {
		t.Errorf("--stdin -a with an empty line: want two heatmaps, the empty output and no note\n%v", r)
	}
	for _, tc := range []struct {
		run  store.Run
		note string
	}{
		{runOf(t, db, "tiny", `"none"`), "attention weights are all 0"},
		{runOf(t, db, "tinylm", ""), "it has no source to attend over"},
	} {
		r := attnlabIn(t, "abc\nabd\nabc\n", "generate", id(tc.run), "--stdin", "-a", "--max-len", "3", "--db", db)
		wantOK(t, r)
		if n := strings.Count(r.stderr, tc.note); n != 1 {
			t.Errorf("run %d, three lines with -a: the note %q written %d times, want once\n%v", tc.run.ID, tc.note, n, r)
		}
	}
}
