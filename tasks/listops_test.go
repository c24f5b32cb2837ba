package tasks

import (
	"strconv"
	"strings"
	"testing"
)

func TestListOpsValue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op   string
		args []int
		want int
	}{
		{ListOpsMin, []int{4, 7, 2}, 2},
		{ListOpsMax, []int{4, 7, 2}, 7},
		{ListOpsMed, []int{9, 1, 5}, 5},
		{ListOpsMed, []int{2, 5}, 3},       // int(np.median([2, 5])) = int(3.5)
		{ListOpsMed, []int{4, 1, 3, 2}, 2}, // int(2.5)
		{ListOpsMed, []int{8, 9}, 8},
		{ListOpsSum, []int{9, 8, 7}, 4},
	} {
		if got := ListOpsValue(tc.op, tc.args); got != tc.want {
			t.Errorf("ListOpsValue(%s, %v) = %d, want %d", tc.op, tc.args, got, tc.want)
		}
	}
}

func TestEvalListOps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want int
		err  string
	}{
		{"[MAX 2 9 [MIN 4 7 ] 0 ]", 9, ""},
		{"[SM [MED 1 2 3 ] [MIN 9 8 ] 5 ]", 5, ""},
		{"7", 7, ""},
		{"[MAX 2 9", 0, "listops: [MAX without ]"},
		{"[MIN ]", 0, "listops: [MIN without arguments"},
		{"[MAX 1 ] 2", 0, "listops: 1 tokens after the expression"},
		{"[FIRST 1 ]", 0, `listops: unexpected token "[FIRST"`},
	} {
		got, err := EvalListOps(strings.Fields(tc.expr))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("EvalListOps(%q) error = %v, want %q", tc.expr, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EvalListOps(%q) = %d, %v; want %d", tc.expr, got, err, tc.want)
		}
	}
}

func TestListOpsTask(t *testing.T) {
	t.Parallel()
	d := build(t, "listops", map[string]any{"max_depth": 4, "max_args": 4, "min_len": 5, "max_len": 30,
		"test_min_len": 31, "test_max_len": 60, "train_size": 2000, "valid_size": 100, "test_size": 100}, 2)
	for _, s := range []string{"train", "valid", "test"} {
		split, _ := d.Split(s)
		ex := split.All()
		src, tgt := texts(d, ex)
		lo, hi := 5, 30
		if s == "test" {
			lo, hi = 31, 60
		}
		for i := range src {
			toks := strings.Fields(src[i])
			v, err := EvalListOps(toks)
			if err != nil || strconv.Itoa(v) != tgt[i] {
				t.Fatalf("%q → %q, evaluates to %d, %v", src[i], tgt[i], v, err)
			}
			if len(toks) < lo || len(toks) > hi {
				t.Fatalf("%s: %d tokens, want %d..%d: %q", s, len(toks), lo, hi, src[i])
			}
			depth, deepest := 0, 0
			for _, tok := range toks {
				if strings.HasPrefix(tok, "[") {
					depth++
					deepest = max(deepest, depth)
				} else if tok == "]" {
					depth--
				}
			}
			if deepest > 3 {
				t.Fatalf("%q nests %d operators, want at most max_depth-1 = 3", src[i], deepest)
			}
		}
	}
}

// TestListOpsRefusesUnreachableLengths: no expression of max_depth 4 with
// at most 5 arguments is longer than 187 tokens (a full tree: 1, 7, 37,
// 187), so a shortest length above that is refused by key when the
// parameters are checked, not after a run has drawn for nothing; 187
// itself is reachable.
func TestListOpsRefusesUnreachableLengths(t *testing.T) {
	if got := listOpsLongest(4, 5); got != 187 {
		t.Fatalf("listOpsLongest(4, 5) = %d, want 187", got)
	}
	base := ListOpsParams{MaxDepth: 4, MaxArgs: 5, MinLen: 10, MaxLen: 100, TrainSize: 10, ValidSize: 1, TestSize: 1}
	ok, test, train := base, base, base
	ok.TestMinLen, ok.TestMaxLen = 187, 300
	test.TestMinLen, test.TestMaxLen = 188, 300
	train.MinLen, train.MaxLen = 200, 300
	if err := ok.Validate(); err != nil {
		t.Errorf("test lengths 187-300: %v", err)
	}
	for key, p := range map[string]ListOpsParams{"test_min_len": test, "min_len": train} {
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "(187 tokens)") {
			t.Errorf("%s beyond 187 tokens: %v", key, err)
		}
	}
}
