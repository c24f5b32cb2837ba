package tasks

import (
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
)

// TestLintLeftByTrain: valid and test sizes beyond what their draws, within
// drawSplits' budget, find of what train_size's draws leave of their
// sources are refused by Lint on their key, with a size that builds; each
// refused case indeed fails to build (the run it spares), and each
// accepted one builds; the suggested size builds for seeds 1 to 3 and the
// smallest refused size fails for each.
func TestLintLeftByTrain(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task   string
		params map[string]any
		err    string // a fragment of Lint's error; "" when accepted
	}{
		// 1364 strings; 10000 draws leave about 130.
		{"copy", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "train_size": 10000, "valid_size": 500, "test_size": 500},
			"valid_size: 500 distinct sources wanted, but train_size 10000 draws leave about 1"},
		{"copy", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "train_size": 10000, "valid_size": 50, "test_size": 50}, ""},
		{"copy", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "train_size": 10000, "valid_size": 100, "test_size": 100},
			"test_size: valid_size + test_size = 200 distinct sources wanted"},
		// Test lengths train never draws: only Validate's bound applies.
		{"reverse", map[string]any{"symbols": 4, "min_len": 1, "max_len": 5, "test_min_len": 6, "test_max_len": 6, "train_size": 10000, "valid_size": 50, "test_size": 2000}, ""},
		// 10,000 sums; 100,000 draws leave about 370.
		{"addition", map[string]any{"min_digits": 1, "digits": 2, "train_size": 100000, "valid_size": 500, "test_size": 0},
			"valid_size: 500 distinct sources wanted, but train_size 100000 draws"},
		{"addition", map[string]any{"min_digits": 1, "digits": 2, "train_size": 10000, "valid_size": 500, "test_size": 1000}, ""},
		// About 370 left, but valid's 31,500 draws find only about 230 of
		// them (a sum of two 2-digit operands is one of 8100 equally
		// likely): runs drew 190 to 230.
		{"addition", map[string]any{"min_digits": 1, "digits": 2, "train_size": 100000, "valid_size": 430, "test_size": 0},
			"valid_size: 430 distinct sources wanted, but train_size 100000 draws leave about 369 of the 10000 sums a+b of operands of 1 to 2 digits, and valid's 31500 draws find about 229: lower valid_size to at most 101"},
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
		// Near the boundary: the size Lint suggests builds for seeds 1 to
		// 3, and the smallest size it refuses fails to build for each.
		key := strings.SplitN(err.Error(), ":", 2)[0]
		_, after, _ := strings.Cut(err.Error(), "to at most ")
		suggested, convErr := strconv.Atoi(strings.SplitN(after, ",", 2)[0])
		if convErr != nil {
			t.Fatalf("%s %v: no size in %v", tc.task, tc.params, err)
		}
		with := func(n int) map[string]any {
			m := maps.Clone(tc.params)
			m[key] = n
			if key == "valid_size" {
				m["test_size"] = 0 // valid's own boundary
			}
			return m
		}
		lo, hi := suggested, tc.params[key].(int) // accepted below lo+1, refused at hi
		for hi-lo > 1 {
			m := (lo + hi) / 2
			p, _ := info.Decode(with(m), registry.DecodeOptions{})
			if info.Lint(p) == nil {
				lo = m
			} else {
				hi = m
			}
		}
		for seed := uint64(1); seed <= 3; seed++ {
			if _, err := Build(tc.task, with(suggested), Options{Seed: seed}); err != nil {
				t.Errorf("%s %v seed %d: the suggested %s %d fails to build: %v", tc.task, tc.params, seed, key, suggested, err)
			}
			if _, err := Build(tc.task, with(hi), Options{Seed: seed}); err == nil {
				t.Errorf("%s %v seed %d: %s %d, the smallest refused, builds", tc.task, tc.params, seed, key, hi)
			}
		}
	}
}
