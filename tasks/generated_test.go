package tasks

import (
	"errors"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
)

var generated = []string{"addition", "copy", "dates", "listops", "reverse", "scan", "sort"}

// build builds a task or fails the test.
func build(tb testing.TB, name string, params map[string]any, seed uint64) *Dataset {
	tb.Helper()
	d, err := Build(name, params, Options{Seed: seed})
	if err != nil {
		tb.Fatalf("Build(%s, %v): %v", name, params, err)
	}
	return d
}

// texts returns the source and target texts of a split.
func texts(d *Dataset, ex []Example) (src, tgt []string) {
	for _, e := range ex {
		src = append(src, d.SrcTok.Join(d.SrcVocab.Decode(e.Src)))
		tgt = append(tgt, d.TgtTok.Join(d.TgtVocab.Decode(e.Tgt)))
	}
	return src, tgt
}

func TestRegisteredTasks(t *testing.T) {
	t.Parallel()
	// Every task registers itself: these are here (and maybe others).
	for _, name := range []string{"addition", "copy", "dates", "listops", "pairs", "reverse", "scan", "sort", "text"} {
		if !Registry.Has(name) {
			t.Errorf("task %s is not registered", name)
		}
	}
	for _, e := range Registry.Entries() {
		if e.Doc == "" || len(e.Describe()) == 0 {
			t.Errorf("task %s has no doc or no parameters", e.Name)
		}
		for _, p := range e.Describe() {
			if p.Doc == "" {
				t.Errorf("task %s: parameter %s has no doc", e.Name, p.Name)
			}
		}
	}
}

// TestGeneratedTasksCommon checks every generated task with its defaults:
// sizes, determinism, disjoint splits, and that training data needs no <unk>.
func TestGeneratedTasksCommon(t *testing.T) {
	t.Parallel()
	for _, name := range generated {
		t.Run(name, func(t *testing.T) {
			d := build(t, name, nil, 7)
			if d.Name != name || d.LM {
				t.Fatalf("Name, LM = %q, %v; want %q, false", d.Name, d.LM, name)
			}
			if name != "scan" {
				if d.Train.Len() != 10000 || d.Valid.Len() != 500 || d.Test.Len() != 1000 {
					t.Fatalf("sizes = %d/%d/%d, want 10000/500/1000", d.Train.Len(), d.Valid.Len(), d.Test.Len())
				}
			}
			again := build(t, name, nil, 7)
			if !reflect.DeepEqual(d, again) {
				t.Fatalf("two builds with seed 7 differ")
			}
			other := build(t, name, nil, 8)
			if reflect.DeepEqual(d.Train, other.Train) {
				t.Fatalf("seeds 7 and 8 give the same training data")
			}
			owner := map[string]string{}
			for _, s := range []string{"train", "valid", "test"} {
				split, _ := d.Split(s)
				ex := split.All()
				if len(ex) == 0 {
					t.Fatalf("split %s is empty", s)
				}
				src, tgt := texts(d, ex)
				for i, x := range src {
					if o, ok := owner[x]; ok && (o != s || s != "train") {
						t.Fatalf("source %q is in %s and %s", x, o, s)
					}
					owner[x] = s
					if ex[i].Ref != tgt[i] {
						t.Fatalf("%s example %d: Ref %q, but its target joined is %q", s, i, ex[i].Ref, tgt[i])
					}
				}
			}
			for _, e := range d.Train.All() {
				if slices.Contains(e.Src, seq.UnkID) || slices.Contains(e.Tgt, seq.UnkID) || len(e.Src) == 0 || len(e.Tgt) == 0 {
					t.Fatalf("training example %v has <unk> or an empty side", e)
				}
			}
		})
	}
}

func TestSymbolTasks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		align string
		want  func(string) string
	}{
		{"copy", AlignCopy, func(s string) string { return s }},
		{"reverse", AlignReverse, func(s string) string { r := []rune(s); slices.Reverse(r); return string(r) }},
		{"sort", "", func(s string) string {
			r := []rune(s)
			slices.SortFunc(r, func(a, b rune) int { return strings.IndexRune(charSymbols, a) - strings.IndexRune(charSymbols, b) })
			return string(r)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := build(t, tc.name, map[string]any{"symbols": 30, "min_len": 3, "max_len": 8, "test_min_len": 12, "test_max_len": 15,
				"train_size": 2000, "valid_size": 100, "test_size": 200}, 1)
			if d.Alignment != tc.align || d.SrcTok.Name() != "char" || d.SrcVocab.Len() != 34 {
				t.Fatalf("Alignment, tokenizer, vocab = %q, %s, %d; want %q, char, 34", d.Alignment, d.SrcTok.Name(), d.SrcVocab.Len(), tc.align)
			}
			lens := map[string]map[int]bool{}
			for _, s := range []string{"train", "valid", "test"} {
				split, _ := d.Split(s)
				ex := split.All()
				src, tgt := texts(d, ex)
				lens[s] = map[int]bool{}
				for i := range src {
					if got, want := tgt[i], tc.want(src[i]); got != want {
						t.Fatalf("%s: %q → %q, want %q", s, src[i], got, want)
					}
					lens[s][len(src[i])] = true
					if strings.ContainsAny(src[i], charSymbols[30:]) {
						t.Fatalf("%q uses symbols beyond the first 30", src[i])
					}
				}
			}
			for s, r := range map[string][2]int{"train": {3, 8}, "valid": {3, 8}, "test": {12, 15}} {
				for l := r[0]; l <= r[1]; l++ {
					if !lens[s][l] {
						t.Errorf("%s has no example of length %d", s, l)
					}
				}
				if len(lens[s]) != r[1]-r[0]+1 {
					t.Errorf("%s lengths %v, want %d..%d", s, lens[s], r[0], r[1])
				}
			}
		})
	}
}

func TestSymbolTasksWordTokens(t *testing.T) {
	t.Parallel()
	d := build(t, "reverse", map[string]any{"symbols": 100, "train_size": 50, "valid_size": 5, "test_size": 5}, 1)
	if d.SrcTok.Name() != "word" || d.SrcVocab.Len() != 104 || d.SrcVocab.Token(4) != "s0" || d.SrcVocab.Token(103) != "s99" {
		t.Fatalf("symbols 100: tokenizer %s, vocab %d, ids 4, 103 = %q, %q", d.SrcTok.Name(), d.SrcVocab.Len(), d.SrcVocab.Token(4), d.SrcVocab.Token(103))
	}
	src, tgt := texts(d, d.Test.All())
	w := strings.Fields(src[0])
	slices.Reverse(w)
	if strings.Join(w, " ") != tgt[0] {
		t.Fatalf("reverse(%q) = %q", src[0], tgt[0])
	}
}

func TestAddition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		params map[string]any
	}{
		{"plain", map[string]any{"digits": 4, "test_digits": 6, "test_min_digits": 5}},
		{"reversed", map[string]any{"digits": 4, "reverse_input": true, "reverse_output": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.params["train_size"], tc.params["valid_size"], tc.params["test_size"] = 1000, 100, 100
			d := build(t, "addition", tc.params, 3)
			rev := func(s string) string {
				if tc.params["reverse_input"] == true {
					return reversed(s)
				}
				return s
			}
			for _, s := range []string{"train", "test"} {
				split, _ := d.Split(s)
				ex := split.All()
				src, tgt := texts(d, ex)
				for i := range src {
					a, b, ok := strings.Cut(src[i], "+")
					x, okx := new(big.Int).SetString(rev(a), 10)
					y, oky := new(big.Int).SetString(rev(b), 10)
					if !ok || !okx || !oky {
						t.Fatalf("source %q is not a+b", src[i])
					}
					want := new(big.Int).Add(x, y).String()
					if tc.params["reverse_output"] == true {
						want = reversed(want)
					}
					if tgt[i] != want {
						t.Fatalf("%q → %q, want %q", src[i], tgt[i], want)
					}
					n := len(a)
					if lo, hi := 1, 4; s == "test" && tc.name == "plain" {
						lo, hi = 5, 6
						if n < lo || n > hi {
							t.Fatalf("test operand %q has %d digits, want %d..%d", a, n, lo, hi)
						}
					} else if n < lo || n > hi {
						t.Fatalf("%s operand %q has %d digits, want %d..%d", s, a, n, lo, hi)
					}
				}
			}
		})
	}
}

func TestAddDecimal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b, want string }{
		{"123", "45", "168"}, {"0", "0", "0"}, {"999", "1", "1000"}, {"5", "95", "100"},
	} {
		if got := addDecimal(tc.a, tc.b); got != tc.want {
			t.Errorf("addDecimal(%s, %s) = %s, want %s", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParamErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   string
	}{
		{"copy", map[string]any{"lenght": 3}, `lenght: unknown key (known: symbols, min_len, max_len, test_min_len, test_max_len, train_size, valid_size, test_size) for task "copy"`},
		{"copy", map[string]any{"min_len": 0}, `min_len: must be in [1, 10000], got 0 for task "copy"`},
		{"reverse", map[string]any{"max_len": 3}, `max_len: must be at least min_len = 5, got 3 for task "reverse"`},
		{"sort", map[string]any{"test_max_len": 3}, `test_max_len: must be at least test_min_len = 5, got 3 for task "sort"`},
		{"sort", map[string]any{"symbols": 0}, `symbols: must be in [1, 100000], got 0 for task "sort"`},
		{"copy", map[string]any{"test_min_len": 25}, `test_max_len: must be set when test_min_len = 25 exceeds the training maximum 20 for task "copy"`},
		{"listops", map[string]any{"test_min_len": 200, "test_max_len": 150}, `test_max_len: must be at least test_min_len = 200, got 150 for task "listops"`},
		{"addition", map[string]any{"test_min_digits": 5}, `test_digits: must be set when test_min_digits = 5 exceeds the training maximum 3 for task "addition"`},
		{"copy", map[string]any{"train_size": 0}, `train_size: must be in [1, 10000000], got 0 for task "copy"`},
		{"copy", map[string]any{"valid_size": -1}, `valid_size: must be in [0, 10000000], got -1 for task "copy"`},
		{"addition", map[string]any{"digits": 0}, `digits: must be in [1, 1000], got 0 for task "addition"`},
		{"addition", map[string]any{"test_digits": 2000}, `test_digits: must be in [0, 1000], got 2000 for task "addition"`},
		{"dates", map[string]any{"from": "1993-13-01"}, `from: want a date YYYY-MM-DD from 0001-01-01, got "1993-13-01" for task "dates"`},
		{"dates", map[string]any{"to": "1900-01-01"}, `to: 1900-01-01 is before from = 1950-01-01 for task "dates"`},
		{"dates", map[string]any{"formats": []any{"{d} {month}"}}, `formats[0]: "{d} {month}": needs a day, a month and a year placeholder for task "dates"`},
		{"dates", map[string]any{"formats": []any{"{d} {mont} {yyyy}"}}, `formats[0]: "{d} {mont} {yyyy}": unknown placeholder {mont}`},
		{"dates", map[string]any{"from": "1900-01-01"}, `formats[1]: "{d}/{m}/{yy}": {yy} is ambiguous when from and to are 100 years or more apart for task "dates"`},
		{"dates", map[string]any{"from": "2000-01-01", "to": "2000-12-31"}, `to: the range has 366 days, too few to hold out valid_size+test_size = 1500 distinct dates (at most half the range) for task "dates"`},
		{"scan", map[string]any{"split": "lenght"}, `split: unknown split "lenght" (known: simple, length, addprim_jump, addprim_turn_left) for task "scan"`},
		{"scan", map[string]any{"valid_fraction": 1}, `valid_fraction: must be in [0, 1), got 1 for task "scan"`},
		{"listops", map[string]any{"max_args": 1}, `max_args: must be in [2, 100], got 1 for task "listops"`},
		{"listops", map[string]any{"max_depth": 0}, `max_depth: must be in [1, 100], got 0 for task "listops"`},
	} {
		_, err := Build(tc.task, tc.params, Options{})
		var pe *registry.ParamError
		if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Build(%s, %v) error = %v,\nwant *registry.ParamError %q", tc.task, tc.params, err, tc.want)
		}
	}
}

func TestSplitsTooSmall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task   string
		params map[string]any
		want   string
	}{
		// 6 strings exist, but the training draws take some of them.
		{"copy", map[string]any{"symbols": 2, "min_len": 1, "max_len": 2, "train_size": 10, "valid_size": 6, "test_size": 0},
			"copy: could draw only "},
		// Sizes no draw can fill are refused by Validate.
		{"copy", map[string]any{"symbols": 2, "min_len": 1, "max_len": 2, "train_size": 10, "valid_size": 500},
			`valid_size: 500 distinct sources wanted, but 2 symbols make only 6 strings of lengths 1 to 2: widen the lengths or the alphabet, or lower valid_size for task "copy"`},
		{"reverse", map[string]any{"symbols": 3, "min_len": 2, "max_len": 2, "test_min_len": 3, "test_max_len": 3, "valid_size": 5, "test_size": 28},
			`test_size: 28 distinct sources wanted, but 3 symbols make only 27 strings of lengths 3 to 3: widen the lengths or the alphabet, or lower test_size for task "reverse"`},
		{"sort", map[string]any{"symbols": 3, "min_len": 1, "max_len": 2, "valid_size": 7, "test_size": 6},
			`valid_size: valid_size + test_size = 13 distinct sources wanted, but 3 symbols make only 12 strings of lengths 1 to 2: widen the lengths or the alphabet, or use smaller splits for task "sort"`},
		{"addition", map[string]any{"digits": 1, "valid_size": 101, "test_size": 0},
			`valid_size: 101 distinct sources wanted, but operands of 1 to 1 digits make only 100 sums a+b: widen the digits, or lower valid_size for task "addition"`},
		{"addition", map[string]any{"digits": 2, "min_digits": 2, "test_digits": 3, "test_min_digits": 3, "valid_size": 10, "test_size": 810001},
			`test_size: 810001 distinct sources wanted, but operands of 3 to 3 digits make only 810000 sums a+b: widen the digits, or lower test_size for task "addition"`},
		{"addition", map[string]any{"digits": 1, "valid_size": 60, "test_size": 50},
			`valid_size: valid_size + test_size = 110 distinct sources wanted, but operands of 1 to 1 digits make only 100 sums a+b: widen the digits, or use smaller splits for task "addition"`},
		// Reachable (a full tree of depth 6 has 94 tokens) but never drawn:
		// every one of its 30 inner nodes below the root must be an operator.
		{"listops", map[string]any{"max_depth": 6, "max_args": 2, "min_len": 94, "max_len": 94, "train_size": 1},
			"listops: no expression of 94–94 tokens in 200000 draws with max_depth 6 and max_args 2: widen the train length range or allow deeper trees"},
		{"listops", map[string]any{"max_depth": 2, "max_args": 2, "min_len": 5, "max_len": 10, "train_size": 1},
			`min_len: 5 tokens is more than the longest expression max_depth 2 and max_args 2 make (4 tokens)`},
	} {
		_, err := Build(tc.task, tc.params, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Build(%s, %v) error = %v, want %q", tc.task, tc.params, err, tc.want)
		}
	}
}

// TestMaxLengths: the lengths a task's parameters declare (Lengths) bound
// every example it builds, and are reached.
func TestMaxLengths(t *testing.T) {
	for _, tc := range []struct {
		task   string
		params map[string]any
	}{
		{"copy", map[string]any{"min_len": 2, "max_len": 5, "test_max_len": 9, "train_size": 200, "valid_size": 20, "test_size": 50}},
		{"reverse", map[string]any{"max_len": 7, "train_size": 200, "valid_size": 20, "test_size": 20}},
		{"sort", map[string]any{"max_len": 6, "train_size": 200, "valid_size": 20, "test_size": 20}},
		{"addition", map[string]any{"digits": 3, "test_digits": 4, "train_size": 300, "valid_size": 20, "test_size": 50}},
		{"listops", map[string]any{"max_len": 30, "train_size": 300, "valid_size": 20, "test_size": 20}},
	} {
		t.Run(tc.task, func(t *testing.T) {
			info, _ := Registry.Info(tc.task)
			p, err := info.Decode(tc.params, registry.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			src, tgt := p.(Lengths).MaxLengths()
			d := build(t, tc.task, tc.params, 3)
			var gotSrc, gotTgt int
			for _, split := range [][]Example{d.Train.All(), d.Valid.All(), d.Test.All()} {
				for _, ex := range split {
					gotSrc, gotTgt = max(gotSrc, len(ex.Src)), max(gotTgt, len(ex.Tgt))
				}
			}
			if gotSrc > src || gotTgt > tgt {
				t.Fatalf("examples up to %d/%d tokens, declared %d/%d", gotSrc, gotTgt, src, tgt)
			}
			if tc.task != "listops" && tc.task != "addition" && (gotSrc != src || gotTgt != tgt) {
				t.Errorf("examples up to %d/%d tokens, declared %d/%d: the bound is not reached", gotSrc, gotTgt, src, tgt)
			}
		})
	}
	if s, tt := BatchLengths(5, 7, false); s != 5 || tt != 8 {
		t.Errorf("BatchLengths seq2seq = %d, %d", s, tt)
	}
	if s, tt := BatchLengths(0, 65, true); s != 0 || tt != 64 {
		t.Errorf("BatchLengths LM = %d, %d", s, tt)
	}
}

// TestDistinctNumbers counts decimal numbers by digits as randomNumber
// draws them (one digit: 0–9; more: no leading zero).
func TestDistinctNumbers(t *testing.T) {
	for _, tc := range []struct{ lo, hi, limit, want int }{
		{1, 1, 1e9, 10}, {1, 2, 1e9, 100}, {2, 2, 1e9, 90}, {3, 3, 1e9, 900}, {1, 3, 1e9, 1000}, {2, 3, 1e9, 990},
		{1, 1000, 1e9, 1e9}, {5, 6, 1000, 1000},
	} {
		if got := distinctNumbers(tc.lo, tc.hi, tc.limit); got != tc.want {
			t.Errorf("distinctNumbers(%d, %d, %d) = %d, want %d", tc.lo, tc.hi, tc.limit, got, tc.want)
		}
	}
}
