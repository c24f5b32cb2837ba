package experiments

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAndFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"512", 512}, {"64MiB", 64 << 20}, {"8 GiB", 8 << 30}, {"1.5G", 3 << 29}, {"2KB", 2048}, {"1t", 1 << 40}, {"8gb", 8 << 30}, {"8gib", 8 << 30}, {"3MIB", 3 << 20}} {
		if got, err := ParseBytes(tc.in); err != nil || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "lots", "-1G", "8 parsecs", "1.2.3M", "1024i", "2048bb", "3ki"} {
		if n, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, n)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 1536: "1.50 KiB", 12 << 20: "12.0 MiB", 125 << 30: "125 GiB",
		10235: "10.0 KiB", 1<<20 - 1: "1.00 MiB", 1023: "1023 B", 1024: "1.00 KiB", 999 << 10: "999 KiB", 1000 << 10: "1000 KiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestEstimateMemoryGrows: the estimate follows the sizes (a runs test
// holds its parameter counts to the models runs builds): the hostile
// configuration of issue 16 (embed 4096, hidden 16384, 4 layers) is
// estimated far above any machine's memory, a tiny one far below (the
// minimal experiment: a training step holds 37.7 MiB of tensors, its
// dataset 18 MiB; estimated at 95 MiB, under 128).
func TestEstimateMemoryGrows(t *testing.T) {
	_, small := mustLoad(t, minimal)
	_, huge := mustLoad(t, minimal, "model.embed=4096", "model.encoder.hidden=16384", "model.encoder.layers=4")
	s, h := EstimateMemory(small[0].Config), EstimateMemory(huge[0].Config)
	if s.Bytes <= 0 || s.Bytes > 128<<20 {
		t.Errorf("the minimal experiment is estimated at %v", s)
	}
	if h.Params < 5e9 || h.Bytes < 64<<30 {
		t.Errorf("embed 4096, hidden 16384, 4 layers is estimated at %v", h)
	}
	t.Logf("minimal: %v; huge: %v", s, h)
}

// TestEstimateMemoryTestsWithoutBackward: a test split longer than the
// training split costs an evaluation's forward pass, not a training step
// at its lengths: reverse trained on 3–8 symbols and tested on 2,000–3,000
// is estimated far below the same model trained on 3,000, and above the
// same model tested on 3–8 (its evaluation's memory counts), for an RNN
// and a Transformer. (Measured on a GRU of 64 and on this Transformer,
// whole runs of these lengths peaked at 348 MB and 399 MB RSS, estimated
// at 584 MiB and 995 MiB.)
func TestEstimateMemoryTestsWithoutBackward(t *testing.T) {
	for _, model := range []string{"model: {attention: {name: additive}}", "model: {name: seq2seq-transformer, d_model: 64, ff: 128, encoder_layers: 2, decoder_layers: 2, attention: {name: multi-head, heads: 4}}"} {
		text := "name: m\ntask: {name: reverse, symbols: 16, min_len: 3, max_len: 8, test_min_len: 2000, test_max_len: 3000, train_size: 200, valid_size: 20, test_size: 64}\n" + model + "\ntrain: {batch_size: 16}\n"
		dir := t.TempDir()
		est := func(sets ...string) MemoryEstimate { return estimateFile(t, dir, text, sets...) }
		long, trained, short := est(), est("task.min_len=2000", "task.max_len=3000"), est("task.test_min_len=3", "task.test_max_len=8")
		t.Logf("%s: tested long %v; trained long %v; tested short %v", model, long, trained, short)
		if long.Length != 3001 || long.Bytes*4 > trained.Bytes-trained.Data || long.Bytes-long.Data < 2*(short.Bytes-short.Data) {
			t.Errorf("%s: tested on 3,000 symbols estimated at %v, trained on them %v, tested on 8 %v", model, long, trained, short)
		}
	}
}

// TestAttentionMapsBounded: the attention maps a run stores keep at most
// artifact.MaxAttentionWeights weights: the default 4 is lowered for a
// long test split (sources of 2,100: 2,110 × 2,100 weights a map, 3 fit),
// kept for a short one, and a number written above the bound is refused
// by key (testdata/bad/attention_maps has the message).
func TestAttentionMapsBounded(t *testing.T) {
	text := func(test int) string {
		return fmt.Sprintf("name: m\ntask: {name: copy, symbols: 16, min_len: 3, max_len: 8, test_min_len: %d, test_max_len: %d}\nmodel: {attention: {name: dot}}\n", test, test)
	}
	for _, tc := range []struct{ test, want int }{{2100, 3}, {1000, 4}, {9000, 0}} {
		_, runs := mustLoad(t, text(tc.test))
		if got := runs[0].Config.Eval.AttentionMaps; got != tc.want {
			t.Errorf("test sources of %d: attention_maps %d, want %d", tc.test, got, tc.want)
		}
	}
	errs := loadErr(t, text(2100), "eval.attention_maps=4")
	if len(errs) != 1 || !strings.Contains(errs[0], "eval.attention_maps: 4 of up to 2110 output × 2100 source tokens would keep 67.6 MiB") {
		t.Errorf("4 maps written for sources of 2,100: %q", errs)
	}
}

// TestEstimateMemoryCountsEvaluation: what an evaluation holds beyond a
// forward pass is counted: beam search's hypotheses (each may gather its
// own copy of the encoder's keys and values), the attention rows the
// stored maps keep (16 bytes a weight, with their JSON), and a language
// model's losses at a longer eval.context.
func TestEstimateMemoryCountsEvaluation(t *testing.T) {
	dir := t.TempDir()
	load := func(text string, sets ...string) MemoryEstimate { return estimateFile(t, dir, text, sets...) }
	s2s := "name: m\ntask: {name: reverse, symbols: 16, min_len: 3, max_len: 8, test_min_len: 1000, test_max_len: 1000}\n" +
		"model: {name: seq2seq-transformer, d_model: 64, ff: 128, encoder_layers: 1, decoder_layers: 4, attention: {name: multi-head, heads: 4}}\n" +
		"train: {batch_size: 16}\neval: {attention_maps: 0}\n"
	greedy, beam := load(s2s), load(s2s, "eval.decode.strategy=beam", "eval.decode.beam=8")
	if beam.Bytes < greedy.Bytes+greedy.Bytes/2 || beam.Train != greedy.Train {
		t.Errorf("beam 8 estimated at %v, greedy at %v: want the beams counted, training alike", beam, greedy)
	}
	maps := load(s2s, "eval.attention_maps=3")
	if want := int64(16 * 3 * 1010 * 1000); maps.Bytes-greedy.Bytes < want {
		t.Errorf("3 attention maps of 1,010 × 1,000 weights add %d bytes, want at least %d", maps.Bytes-greedy.Bytes, want)
	}
	if err := os.WriteFile(filepath.Join(dir, "t.txt"), []byte(strings.Repeat("the cat sat on the mat. ", 4000)), 0o644); err != nil {
		t.Fatal(err)
	}
	lm := "name: lm\ntask: {name: text, path: t.txt, context: 64}\n" +
		"model: {name: lm-transformer, d_model: 64, ff: 128, decoder_layers: 2, positions: sinusoidal, attention: {name: additive}}\ntrain: {batch_size: 8}\n"
	short, long := load(lm), load(lm, "eval.context=[4096]")
	if long.Bytes < 4*short.Bytes {
		t.Errorf("eval.context 4096 estimated at %v, without at %v: want the 4,096-token losses counted", long, short)
	}
	t.Logf("greedy %v, beam 8 %v, 3 maps %v; LM %v, at context 4096 %v", greedy, beam, maps, short, long)
}

// estimateFile writes text as an experiment file in dir and returns the
// memory estimate of its first run, with the sets overrides. It loads
// through the real registries (mustLoad's attention registry is a fake,
// whose estimates differ).
func estimateFile(t *testing.T, dir, text string, sets ...string) MemoryEstimate {
	t.Helper()
	path := filepath.Join(dir, "x.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	x, err := Load(path, sets)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := x.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return EstimateMemory(runs[0].Config)
}

// TestFormatCount: an estimated count has two significant digits, whatever
// its unit, and rounds across units (999,600 is 1.0 million).
func TestFormatCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 950: "950", 987: "990", 6_612: "6.6 thousand", 12_345: "12 thousand",
		365_600: "370 thousand", 238_100: "240 thousand", 999_600: "1.0 million", 1_234_567: "1.2 million", 7_800_000_000: "7.8 billion",
		994_000_000_000_000: "990 trillion", 999_600_000_000_000: "1.0e+15", 4_200_000_000_000_000: "4.2e+15", math.MaxInt64: "9.2e+18"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMemoryEstimateString: what plan prints, without a parameter count a
// model that cannot estimate itself would give as "roughly 0".
func TestMemoryEstimateString(t *testing.T) {
	for _, tc := range []struct {
		m    MemoryEstimate
		want string
	}{
		{MemoryEstimate{Bytes: 12 << 20, Params: 238_100, Length: 31, Data: 3 << 20}, "12.0 MiB (roughly 240 thousand parameters, sequences of up to 31 tokens, the dataset 3.00 MiB)"},
		{MemoryEstimate{Bytes: 12 << 20, Length: 31}, "12.0 MiB (sequences of up to 31 tokens)"},
		{MemoryEstimate{Bytes: 12 << 20}, "12.0 MiB"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}

// TestEstimateMemoryBatchAtMostTheSplit: a batch holds at most its split
// (tasks.Batcher), so a batch_size far above a file task's measured
// examples is estimated as a batch of all of them: 65,536 over 50 pairs
// was estimated at 763 MiB and refused under --max-memory 500MiB.
func TestEstimateMemoryBatchAtMostTheSplit(t *testing.T) {
	_, runs := mustLoad(t, minimal)
	c := runs[0].Config
	c.DataSizes.Train, c.DataSizes.Valid, c.DataSizes.Test = 50, 10, 10
	at := func(batch int) MemoryEstimate {
		c := c
		c.Train.BatchSize = batch
		return EstimateMemory(c)
	}
	if huge, fifty := at(65536), at(50); huge.Bytes != fifty.Bytes {
		t.Errorf("batch_size 65,536 over 50 training examples is estimated at %v, batch_size 50 at %v", huge, fifty)
	}
	if small, fifty := at(16), at(50); small.Bytes >= fifty.Bytes {
		t.Errorf("batch_size 16 is estimated at %v, not below batch_size 50's %v", small, fifty)
	}
}

// TestEstimateMemoryBatchAtMostTheGeneratedSplit: a generated task's
// splits bound its batches as a file task's measured ones do: batch_size
// 65,536 over a train_size of 50 is estimated as a batch of 50 (it was
// estimated as 65,536), in training and in evaluation.
func TestEstimateMemoryBatchAtMostTheGeneratedSplit(t *testing.T) {
	_, runs := mustLoad(t, "name: small\ntask: {name: reverse, train_size: 50, valid_size: 10, test_size: 10}\nmodel: {attention: {name: dot}}\n")
	c := runs[0].Config
	at := func(batch int) MemoryEstimate {
		c := c
		c.Train.BatchSize = batch
		return EstimateMemory(c)
	}
	if huge, fifty := at(65536), at(50); huge.Bytes != fifty.Bytes || huge.Train != fifty.Train {
		t.Errorf("batch_size 65,536 over train_size 50 is estimated at %v, batch_size 50 at %v", huge, fifty)
	}
	if small, fifty := at(16), at(50); small.Train >= fifty.Train {
		t.Errorf("batch_size 16 is estimated at %v, not below batch_size 50's %v", small, fifty)
	}
}

// TestEstimateMemoryCountsTheBatcher: the Batcher's order of the training
// examples (8 bytes each, tasks.BatcherBytes) is held for the whole run
// and counted: a character corpus of 10 MB at context 1 was estimated at
// 47.9 MiB (4 bytes a token and the text) and peaked at 307 MiB of RSS,
// 80 MB of it the order of its 10 million windows.
func TestEstimateMemoryCountsTheBatcher(t *testing.T) {
	_, runs := mustLoad(t, minimal)
	c := runs[0].Config
	c.Train.BatchSize = 8
	c.DataSizes.Valid, c.DataSizes.Test = 10, 10
	at := func(train int) int64 {
		c := c
		c.DataSizes.Train = train
		return EstimateMemory(c).Bytes
	}
	const n = 1_000_000
	if got, want := at(2*n)-at(n), 8*int64(n); got < want {
		t.Errorf("a million more training examples add %d bytes to the estimate, want at least %d (an int each)", got, want)
	}
}
