package experiments

import (
	"os"
	"path/filepath"
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
// at 231 MiB and 438 MiB.)
func TestEstimateMemoryTestsWithoutBackward(t *testing.T) {
	for _, model := range []string{"model: {attention: {name: additive}}", "model: {name: seq2seq-transformer, d_model: 64, ff: 128, encoder_layers: 2, decoder_layers: 2, attention: {name: multi-head, heads: 4}}"} {
		text := "name: m\ntask: {name: reverse, symbols: 16, min_len: 3, max_len: 8, test_min_len: 2000, test_max_len: 3000, train_size: 200, valid_size: 20, test_size: 64}\n" + model + "\ntrain: {batch_size: 16}\n"
		path := filepath.Join(t.TempDir(), "m.yaml") // the real registries (mustLoad's are fakes)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		est := func(sets ...string) MemoryEstimate {
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
		long, trained, short := est(), est("task.min_len=2000", "task.max_len=3000"), est("task.test_min_len=3", "task.test_max_len=8")
		t.Logf("%s: tested long %v; trained long %v; tested short %v", model, long, trained, short)
		if long.Length != 3001 || long.Bytes*4 > trained.Bytes-trained.Data || long.Bytes-long.Data < 2*(short.Bytes-short.Data) {
			t.Errorf("%s: tested on 3,000 symbols estimated at %v, trained on them %v, tested on 8 %v", model, long, trained, short)
		}
	}
}
