package tasks

import (
	"math"
	"strings"
	"testing"
)

// listOpsCountsBrute counts the expressions of each length below n of
// depth at most depth with at most args arguments, by enumerating their
// shapes (digits counted as 10, operators as 4). It counts in int64: the
// counts pass 2^31, which a 32-bit int cannot hold.
func listOpsCountsBrute(depth, args, n int) []int64 {
	count := make([]int64, n)
	count[1] = 10
	for range depth - 1 {
		next := make([]int64, n)
		next[1] = 10
		var seqs func(k, total int, ways int64)
		seqs = func(k, total int, ways int64) {
			if k >= 2 && total+2 < n {
				next[total+2] += 4 * ways
			}
			if k == args {
				return
			}
			for l := 1; total+l+2 < n; l++ {
				if count[l] != 0 {
					seqs(k+1, total+l, ways*count[l])
				}
			}
		}
		seqs(0, 0, 1)
		count = next
	}
	return count
}

// TestListOpsShapes: the lengths listOpsReach says exist and the numbers
// of expressions listOpsSources counts are those of every shape,
// enumerated, for small depths and arities (max_depth 3, max_args 2 make
// only 1, 4, 7 and 10 tokens).
func TestListOpsShapes(t *testing.T) {
	t.Parallel()
	const n = 20 // the counts of 4 levels of 4 arguments stay below 1<<60
	// listOpsSources saturates at limit: 1<<60, or math.MaxInt where an
	// int has 32 bits.
	const limit = min(1<<60, math.MaxInt)
	for depth := 1; depth <= 4; depth++ {
		for args := 2; args <= 4; args++ {
			want := listOpsCountsBrute(depth, args, n)
			reach := listOpsReach(depth, args, n)
			for l := range n {
				if reach.has(l) != (want[l] > 0) {
					t.Errorf("depth %d args %d: listOpsReach has %d = %v, want %v", depth, args, l, reach.has(l), want[l] > 0)
				}
				if got := listOpsSources(depth, args, l, l, limit); int64(got) != min(want[l], limit) {
					t.Errorf("depth %d args %d: listOpsSources(%d tokens) = %d, want %d", depth, args, l, got, want[l])
				}
			}
		}
	}
	r := listOpsReach(3, 2, 100)
	var got []int
	for l := range 100 {
		if r.has(l) {
			got = append(got, l)
		}
	}
	if want := []int{1, 4, 7, 10}; !slicesEqual(got, want) {
		t.Errorf("max_depth 3, max_args 2: lengths %v, want %v", got, want)
	}
	// Past the counted lengths, any length that exists saturates.
	if got := listOpsSources(6, 5, 40, 41, 1000); got != 1000 {
		t.Errorf("listOpsSources(6, 5, 40..41) = %d, want the limit 1000", got)
	}
	// The largest parameters are answered (in well under a second on an
	// idle machine: BenchmarkListOpsReach; a test asserts no wall time).
	listOpsReach(100, 100, 10000+listOpsLongestGap)
	listOpsReach(100, 2, 10000+listOpsLongestGap)
}

// BenchmarkListOpsReach times the reachable lengths at the largest
// parameters the lint allows, computed afresh (not from the memo).
func BenchmarkListOpsReach(b *testing.B) {
	for b.Loop() {
		listOpsReachMemo.Lock()
		clear(listOpsReachMemo.m)
		listOpsReachMemo.Unlock()
		listOpsReach(100, 100, 10000+listOpsLongestGap)
		listOpsReach(100, 2, 10000+listOpsLongestGap)
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestListOpsLint: a length range no expression has, and valid and test
// sizes beyond the distinct expressions of their lengths, are refused on
// their key with what exists; ranges that exist pass. Validate (which a
// stored run's configuration goes through) accepts every case.
func TestListOpsLint(t *testing.T) {
	t.Parallel()
	base := func(m map[string]any) *ListOpsParams {
		p := defaultListOpsParams()
		p.MaxDepth, p.MaxArgs = 3, 2
		p.MinLen, p.MaxLen, p.TrainSize, p.ValidSize, p.TestSize = 1, 10, 100, 10, 10
		for k, v := range m {
			switch k {
			case "min_len":
				p.MinLen = v.(int)
			case "max_len":
				p.MaxLen = v.(int)
			case "test_min_len":
				p.TestMinLen = v.(int)
			case "test_max_len":
				p.TestMaxLen = v.(int)
			case "valid_size":
				p.ValidSize = v.(int)
			case "test_size":
				p.TestSize = v.(int)
			case "max_args":
				p.MaxArgs = v.(int)
			}
		}
		return p
	}
	for _, tc := range []struct {
		name string
		set  map[string]any
		key  string
		msg  string // a fragment of the message; "" when accepted
	}{
		{"train gap", map[string]any{"min_len": 8, "max_len": 9}, "min_len", "has 8 to 9 tokens (the nearest have 7 and 10)"},
		{"train exists", map[string]any{"min_len": 8, "max_len": 10}, "", ""},
		{"test gap", map[string]any{"test_min_len": 5, "test_max_len": 6}, "test_min_len", "has 5 to 6 tokens (the nearest have 4 and 7)"},
		{"test max gap", map[string]any{"min_len": 2, "max_len": 4, "test_max_len": 3, "valid_size": 0, "test_size": 1}, "test_max_len", "has 2 to 3 tokens (the nearest have 1 and 4)"},
		// no test split: its lengths draw nothing (the run builds)
		{"test gap unused", map[string]any{"test_min_len": 5, "test_max_len": 6, "test_size": 0}, "", ""},
		// max_depth 3, max_args 2, 1 to 10 tokens: 10 + 4·100 + 2·4·10·400 + 4·400² expressions
		{"valid too many", map[string]any{"valid_size": 10 + 400 + 32000 + 640000 + 1}, "valid_size", "make only 672410 of 1 to 10 tokens, and train's draws take from the same expressions first: lower valid_size well below that"},
		{"valid fits", map[string]any{"valid_size": 672410, "test_size": 0}, "", ""},
		{"test too many", map[string]any{"test_min_len": 4, "test_max_len": 4, "test_size": 401}, "test_size", "make only 400 of 4 to 4 tokens, and train's and valid's draws take from the same expressions first: lower test_size well below that"},
		{"together too many", map[string]any{"max_len": 4, "valid_size": 300, "test_size": 300}, "test_size", "valid_size + test_size = 600 distinct expressions wanted, but max_depth 3 and max_args 2 make only 410 of 1 to 4 tokens, and train's draws take from the same expressions first: lower the sizes well below that"},
	} {
		p := base(tc.set)
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: Validate: %v", tc.name, err)
		}
		err := p.Lint()
		if tc.msg == "" {
			if err != nil {
				t.Errorf("%s: Lint() = %v, want nil", tc.name, err)
			}
			if tc.name == "test gap unused" { // and the run builds
				if _, err := newListOps(p, Options{Seed: 1}); err != nil {
					t.Errorf("%s: build: %v", tc.name, err)
				}
			}
			continue
		}
		// No size is promised: train's draws take most short expressions
		// first (max_depth 2, max_args 2, 1 to 10 tokens: even valid_size 5
		// fails to build).
		if err != nil && strings.Contains(err.Error(), "at most") {
			t.Errorf("%s: Lint() = %v, promises a size that may not build", tc.name, err)
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), tc.key+": ") {
			t.Errorf("%s: Lint() = %v, want %s: ...%s...", tc.name, err, tc.key, tc.msg)
		}
	}
}

// TestListOpsReachMemo: a plan sweeping max_len over 300 points at
// max_depth 100 computes the reachable lengths a handful of times (Lint
// and listOpsSources share one set per max_depth and max_args, and a
// longer range reuses a doubled one), not twice per point; truncated sets
// equal freshly computed ones. Not parallel: it counts computations.
func TestListOpsReachMemo(t *testing.T) {
	listOpsReachMemo.Lock()
	listOpsReachMemo.m, listOpsReachMemo.computed = nil, 0
	listOpsReachMemo.Unlock()
	for maxLen := 10; maxLen < 310; maxLen++ {
		p := defaultListOpsParams()
		p.MaxDepth, p.MaxArgs, p.MinLen, p.MaxLen = 100, 5, 10, maxLen
		if err := p.Lint(); err != nil {
			t.Fatalf("max_len %d: %v", maxLen, err)
		}
	}
	listOpsReachMemo.Lock()
	computed := listOpsReachMemo.computed
	listOpsReachMemo.Unlock()
	if computed > 8 {
		t.Errorf("300 plans computed the reachable lengths %d times, want at most 8", computed)
	}
	big := listOpsReach(3, 2, 500)
	for _, n := range []int{1, 64, 65, 100, 130} {
		got := big.truncate(n)
		listOpsReachMemo.Lock()
		delete(listOpsReachMemo.m, [2]int{3, 2})
		listOpsReachMemo.Unlock()
		if want := listOpsReach(3, 2, n); got.n != n || !got.equal(want) {
			t.Errorf("reach below %d: truncated %v, computed %v", n, got.w, want.w)
		}
	}
}
