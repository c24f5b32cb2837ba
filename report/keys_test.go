package report

import (
	"strings"
	"testing"
)

// TestKeySetResolve: one key syntax for --where, --by, --pool and
// --baseline.
func TestKeySetResolve(t *testing.T) {
	ks := keySet{
		params: []string{"model.attention.name", "model.encoder.name", "model.attention.dim", "task.name",
			"train.optimizer.lr", "train.schedule.warmup", "name", "seed"},
		metrics: []string{"test/bleu", "test/exact_match", "test/exact_match/len_21_40", "valid/exact_match",
			"train/loss", "valid/loss", "perf/tokens_per_s"},
		pseudo: []string{"experiment", "id", "seed", "status"},
	}
	for _, tc := range []struct{ in, want, err string }{
		{"model.attention.name", "model.attention.name", ""},
		{"attention.name", "model.attention.name", ""},
		{" attention.name ", "model.attention.name", ""},
		{"lr", "train.optimizer.lr", ""},
		{"optimizer.lr", "train.optimizer.lr", ""},
		{"name", "", `key "name" is ambiguous (name, model.attention.name, model.encoder.name, task.name): give more of it, or experiment for the experiment's name`}, // the experiment's own name param is a guess too far: experiment names it
		{"seed", "seed", ""},
		{"status", "status", ""},
		{"test/bleu", "test/bleu", ""},
		{"bleu", "test/bleu", ""},
		{"exact_match", "test/exact_match", ""}, // test/ before valid/
		{"loss", "valid/loss", ""},              // valid/ before train/
		{"len_21_40", "test/exact_match/len_21_40", ""},
		{"exact_match/len_21_40", "test/exact_match/len_21_40", ""},
		{"tokens_per_s", "perf/tokens_per_s", ""},
		{"encoder.name", "model.encoder.name", ""},
		{".name", "", `unknown key ".name"`},
		{"atention.name", "", `unknown key "atention.name" (closest: model.attention.name, `},
		{"test/blue", "", `unknown key "test/blue" (closest: test/bleu, `},
		{"warmpu", "", `unknown key "warmpu" (closest: train.schedule.warmup, `},
		{"test/exact", "", `unknown key "test/exact" (closest: test/exact_match, `}, // a part of the key
		{"", "", "empty key"},
	} {
		got, err := ks.resolve(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("resolve(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("resolve(%q) = %q, %v; want an error containing %q", tc.in, got, err, tc.err)
		}
	}
	// Ambiguous: two params end in .name after dropping "model.".
	ks.params = append(ks.params, "model.decoder.attention.name")
	if _, err := ks.resolve("attention.name"); err == nil ||
		!strings.Contains(err.Error(), `key "attention.name" is ambiguous (model.attention.name, model.decoder.attention.name)`) {
		t.Errorf("ambiguous: %v", err)
	}
	if _, err := (keySet{}).resolve("x"); err == nil || !strings.Contains(err.Error(), "the selected runs have no keys") {
		t.Errorf("no keys: %v", err)
	}
}
