package tasks

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
)

// TestLintLeftByTrain: valid and test sizes beyond what train_size's
// draws leave of their sources are refused by Lint on their key, with the
// largest size that fits; each refused case indeed fails to build (the
// run it spares), and each accepted one builds.
func TestLintLeftByTrain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task   string
		params map[string]any
		err    string // a fragment of Lint's error; "" when accepted
	}{
		// 1364 strings; 10000 draws leave about 130.
		{"copy", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "train_size": 10000, "valid_size": 500, "test_size": 500},
			"valid_size: 500 distinct sources wanted, but train_size 10000 draws (i.i.d., taken first) are expected to leave only about 1"},
		{"copy", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "train_size": 10000, "valid_size": 50, "test_size": 50}, ""},
		{"copy", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "train_size": 10000, "valid_size": 100, "test_size": 100},
			"test_size: valid_size + test_size = 200 distinct sources wanted"},
		// Test lengths train never draws: only Validate's bound applies.
		{"reverse", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "test_min_len": 6, "test_max_len": 6, "train_size": 10000, "valid_size": 50, "test_size": 2000}, ""},
		// 10,000 sums; 100,000 draws leave about 370.
		{"addition", map[string]any{"min_digits": 1, "digits": 2, "train_size": 100000, "valid_size": 500, "test_size": 0},
			"valid_size: 500 distinct sources wanted, but train_size 100000 draws"},
		{"addition", map[string]any{"min_digits": 1, "digits": 2, "train_size": 10000, "valid_size": 500, "test_size": 1000}, ""},
	} {
		info, err := Registry.Info(tc.task)
		if err != nil {
			t.Fatal(err)
		}
		p, err := info.Decode(tc.params, registry.DecodeOptions{})
		if err != nil {
			t.Fatalf("%s %v: %v", tc.task, tc.params, err)
		}
		err = info.Lint(p)
		_, buildErr := Build(tc.task, tc.params, Options{Seed: 1})
		if tc.err == "" {
			if err != nil || buildErr != nil {
				t.Errorf("%s %v: Lint() = %v, Build: %v; want both nil", tc.task, tc.params, err, buildErr)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "to at most ") {
			t.Errorf("%s %v: Lint() = %v, want ...%s...", tc.task, tc.params, err, tc.err)
		}
		if buildErr == nil || !strings.Contains(buildErr.Error(), "could draw only") {
			t.Errorf("%s %v: Build: %v, want it to fail drawing (else Lint refuses a run that works)", tc.task, tc.params, buildErr)
		}
	}
}
