package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	for _, tc := range []struct {
		key   string
		dir   Direction
		kind  Kind
		scale Scale
	}{
		{"train/loss", LowerIsBetter, Quality, Scale{0, inf, "nats"}},
		{"valid/loss", LowerIsBetter, Quality, Scale{0, inf, "nats"}},
		{"test/loss", LowerIsBetter, Quality, Scale{0, inf, "nats"}},
		{"test/loss@256", LowerIsBetter, Quality, Scale{0, inf, "nats"}},
		{"best/test/loss@64", LowerIsBetter, Quality, Scale{0, inf, "nats"}},
		{"test/majority_exact_match", NoDirection, Constant, Scale{0, 1, ""}},
		{"test/majority_exact_match/len_11_20", NoDirection, Constant, Scale{0, 1, ""}},
		{"train/src_len_min", NoDirection, Constant, Scale{0, inf, "tokens"}},
		{"train/src_len_max", NoDirection, Constant, Scale{0, inf, "tokens"}},
		{"train/context", NoDirection, Constant, Scale{0, inf, "tokens"}},
		{"perf/src_tokens_per_s", HigherIsBetter, Cost, Scale{0, inf, "tokens/s"}},
		{"perf/peak_mib", LowerIsBetter, Cost, Scale{0, inf, "MiB"}},
		{"valid/ppl", LowerIsBetter, Quality, Scale{1, inf, ""}},
		{"test/ppl", LowerIsBetter, Quality, Scale{1, inf, ""}},
		{"valid/token_acc", HigherIsBetter, Quality, Scale{0, 1, ""}},
		{"valid/exact_match", HigherIsBetter, Quality, Scale{0, 1, ""}},
		{"test/exact_match", HigherIsBetter, Quality, Scale{0, 1, ""}},
		{"test/exact_match/len_21_40", HigherIsBetter, Quality, Scale{0, 1, ""}},
		{"test/exact_match/len_161_inf", HigherIsBetter, Quality, Scale{0, 1, ""}},
		{"valid/bleu", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"test/bleu", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"best/valid/bleu", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"test/chrf", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"test/chrf++", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"test/bleu_legacy", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"best/valid/bleu_legacy", HigherIsBetter, Quality, Scale{0, 100, ""}},
		{"test/align_acc", HigherIsBetter, Quality, Scale{0, 1, ""}}, // report and early stopping disagreed here
		{"test/attn_entropy", NoDirection, Quality, Scale{0, inf, "nats"}},
		{"train/lr", NoDirection, Constant, Scale{0, inf, ""}},
		{"train/steps", NoDirection, Cost, Scale{0, inf, ""}},
		{"best/step", NoDirection, Cost, Scale{0, inf, ""}},
		{"best/valid/loss", LowerIsBetter, Quality, Scale{0, inf, "nats"}},
		{"best/valid/exact_match", HigherIsBetter, Quality, Scale{0, 1, ""}},
		{"perf/tokens_per_s", HigherIsBetter, Cost, Scale{0, inf, "tokens/s"}},
		{"perf/train_seconds", LowerIsBetter, Cost, Scale{0, inf, "s"}},
		{"perf/loop_seconds", LowerIsBetter, Cost, Scale{0, inf, "s"}},
		{"model/params", LowerIsBetter, Constant, Scale{0, inf, ""}},
	} {
		d := Describe(tc.key)
		if !d.Known || d.Key != tc.key || d.Direction != tc.dir || d.Kind != tc.kind || d.Scale != tc.scale || d.Doc == "" {
			t.Errorf("Describe(%q) = %+v, want known, %s, %s, %s, with a doc", tc.key, d, tc.dir, tc.kind, tc.scale)
		}
	}
}

func TestDescribeUnknown(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		"custom", "", "test/nope", "train/exact_match", // not recorded under train
		"valid/loss/len_1_10",         // loss is not bucketed
		"test/exact_match/len_x",      // not a bucket name
		"test/exact_match/len_1_10/x", // too deep
		"best/step/x", "best/", "perf/loss",
		"valid/loss@64",         // only the test split is measured at other contexts
		"test/loss@",            // no length
		"test/loss@0",           // not a length
		"test/loss@064",         // not as AtContext writes it
		"test/loss@x",           // not a number
		"test/bleu@64",          // not measured at other contexts
		"test/loss@64/len_1_10", // not bucketed
	} {
		d := Describe(key)
		if d.Known || d.Direction != NoDirection || d.Kind != Quality || d.Key != key {
			t.Errorf("Describe(%q) = %+v, want unknown, no direction, quality", key, d)
		}
	}
}

// TestAll checks that every pattern All lists is one Describe knows, and
// that the table names each (split, name) once.
func TestAll(t *testing.T) {
	t.Parallel()
	all := All()
	if !slices.IsSortedFunc(all, func(a, b Descriptor) int { return strings.Compare(a.Key, b.Key) }) {
		t.Error("All is not sorted by key")
	}
	seen := map[string]bool{}
	for _, d := range all {
		if seen[d.Key] {
			t.Errorf("All lists %s twice", d.Key)
		}
		seen[d.Key] = true
		key := strings.Replace(strings.Replace(d.Key, "len_LO_HI", "len_1_10", 1), "@N", "@256", 1)
		if got := Describe(key); !got.Known || got.Direction != d.Direction || got.Kind != d.Kind || got.Scale != d.Scale {
			t.Errorf("All lists %+v, Describe(%q) = %+v", d, key, got)
		}
	}
	for _, key := range []string{"test/exact_match/len_LO_HI", "test/loss@N", "valid/loss", "model/params", "perf/tokens_per_s"} {
		if !seen[key] {
			t.Errorf("All does not list %s", key)
		}
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{HigherIsBetter.String(), "higher"}, {LowerIsBetter.String(), "lower"}, {NoDirection.String(), "none"},
		{Quality.String(), "quality"}, {Cost.String(), "cost"}, {Constant.String(), "constant"},
		{Scale{0, 1, ""}.String(), "0–1"}, {Scale{0, 100, ""}.String(), "0–100"},
		{Scale{1, math.Inf(1), ""}.String(), "≥ 1"}, {Scale{0, math.Inf(1), "nats"}.String(), "≥ 0 nats"},
	} {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

func TestContextKeys(t *testing.T) {
	t.Parallel()
	if got := AtContext("test/loss", 256); got != "test/loss@256" {
		t.Fatalf("AtContext = %q, want test/loss@256", got)
	}
	for _, tc := range []struct {
		key  string
		base string
		n    int
		ok   bool
	}{
		{"test/loss@256", "test/loss", 256, true},
		{"test/loss@1", "test/loss", 1, true},
		{"test/loss", "", 0, false},
		{"test/loss@", "", 0, false},
		{"test/loss@0", "", 0, false},
		{"test/loss@012", "", 0, false},
		{"test/loss@-3", "", 0, false},
		{"test/loss@1e3", "", 0, false},
	} {
		base, n, ok := SplitContext(tc.key)
		if base != tc.base || n != tc.n || ok != tc.ok {
			t.Errorf("SplitContext(%q) = %q, %d, %v, want %q, %d, %v", tc.key, base, n, ok, tc.base, tc.n, tc.ok)
		}
	}
}

// TestBucketDocsSayBucketOnce: a bucket's key is described once as a
// bucket's (test/examples/len_LO_HI read "per bucket those whose source
// length is in it … over the sources whose length is in the bucket").
func TestBucketDocsSayBucketOnce(t *testing.T) {
	for _, d := range All() {
		if strings.HasSuffix(d.Key, "/len_LO_HI") {
			if n := strings.Count(d.Doc, "bucket"); n != 1 {
				t.Errorf("%s says bucket %d times: %s", d.Key, n, d.Doc)
			}
			if got := Describe(strings.TrimSuffix(d.Key, "LO_HI") + "1_10").Doc; got != d.Doc {
				t.Errorf("%s: Describe gives %q, All %q", d.Key, got, d.Doc)
			}
		}
	}
}

func TestIsLoss(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"test/loss", true}, {"valid/ppl", true}, {"train/loss", true}, {"best/valid/loss", true},
		{"test/loss@8", true}, {"best/test/loss@8", true},
		{"test/exact_match", false}, {"test/len_ratio", false}, {"loss", false}, {"/loss", false},
		{"test/loss/len_1_10", false}, {"test/loss@x", false}, {"perf/tokens_per_s", false},
	} {
		if got := IsLoss(tc.key); got != tc.want {
			t.Errorf("IsLoss(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

// TestInfiniteLoss: the first loss or perplexity key, in sorted order,
// that is ±Inf; a NaN, or an infinite metric that is not a loss, is none.
func TestInfiniteLoss(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		sums map[string]float64
		want string
	}{
		{nil, ""},
		{map[string]float64{"test/loss": 2, "test/ppl": 7.4}, ""},
		{map[string]float64{"test/loss": math.NaN(), "test/len_ratio": inf}, ""},
		{map[string]float64{"test/loss": 800, "test/ppl": inf}, "test/ppl"},
		{map[string]float64{"valid/ppl": inf, "best/valid/loss": math.Inf(-1)}, "best/valid/loss"},
		{map[string]float64{"test/loss@8": inf, "test/exact_match": 0}, "test/loss@8"},
	} {
		if got := InfiniteLoss(tc.sums); got != tc.want {
			t.Errorf("InfiniteLoss(%v) = %q, want %q", tc.sums, got, tc.want)
		}
	}
}

// FuzzLossKeyParts: every key IsLoss takes for a loss or a
// perplexity contains one of LossKeyParts, so runs.Execute, which has the
// store return only the ±Inf summaries whose keys do, counts the runs a
// full read tested by InfiniteLoss would.
func FuzzLossKeyParts(f *testing.F) {
	for _, d := range All() {
		k := strings.Replace(d.Key, "@N", "@8", 1)
		f.Add(k)
		f.Add("best/" + k)
	}
	for _, k := range []string{"test/loss@194", "best/test/loss@1", "a/ppl", "x/loss@08", "/loss", "valid/loss/x", "best/best/valid/loss"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if !IsLoss(key) {
			return
		}
		for _, sub := range LossKeyParts {
			if strings.Contains(key, sub) {
				return
			}
		}
		t.Errorf("IsLoss(%q) but the key contains none of %q: a store filtering by LossKeyParts would miss it", key, LossKeyParts)
	})
}
