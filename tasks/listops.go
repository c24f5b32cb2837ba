package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/attnlab/attnlab/registry"
)

// ListOpsParams are the parameters of the listops task, the ListOps of the
// Long Range Arena (Tay et al. 2021, after Nangia & Bowman 2018): nested
// expressions over the digits 0–9 with the operators MIN, MAX, MED (median;
// for an even count the mean of the two middle values, rounded down, as
// LRA's int(np.median)) and SM (sum modulo 10), written as whitespace tokens
// such as "[MAX 2 9 [MIN 4 7 ] 0 ]", and answered by one digit token.
//
// Trees are drawn as in LRA's generator: a node at depth < max_depth is an
// operator with probability 1/4 and otherwise a digit (at max_depth always a
// digit); an operator takes 2..max_args arguments. Draws whose token count
// lies outside [min_len, max_len] (test: [test_min_len, test_max_len]) are
// rejected. Not every length exists (see listops_shapes.go): Lint refuses
// a range with none at plan, and valid and test sizes beyond the distinct
// expressions of their lengths.
type ListOpsParams struct {
	MaxDepth   int `yaml:"max_depth" doc:"deepest nesting; the root is at depth 1" range:"[1,100]"`
	MaxArgs    int `yaml:"max_args" doc:"most arguments of an operator (at least 2)" range:"[2,100]"`
	MinLen     int `yaml:"min_len" doc:"fewest tokens of a train or valid expression" range:"[1,10000]"`
	MaxLen     int `yaml:"max_len" doc:"most tokens of a train or valid expression" range:"[1,10000]"`
	TestMinLen int `yaml:"test_min_len" doc:"fewest tokens of a test expression (0: min_len)" range:"[0,10000]"`
	TestMaxLen int `yaml:"test_max_len" doc:"most tokens of a test expression (0: max_len)" range:"[0,10000]"`
	TrainSize  int `yaml:"train_size" doc:"training examples (drawn i.i.d., may repeat)" range:"[1,10000000]"`
	ValidSize  int `yaml:"valid_size" doc:"validation examples (distinct, none in train)" range:"[0,10000000]"`
	TestSize   int `yaml:"test_size" doc:"test examples (distinct, none in train or valid)" range:"[0,10000000]"`
}

func defaultListOpsParams() *ListOpsParams {
	return &ListOpsParams{MaxDepth: 6, MaxArgs: 5, MinLen: 10, MaxLen: 100, TrainSize: 10000, ValidSize: 500, TestSize: 1000}
}

// Validate checks the ranges of every key.
func (p *ListOpsParams) Validate() error {
	if p.MaxDepth < 1 || p.MaxDepth > 100 {
		return registry.Invalid("max_depth", "must be in [1, 100], got %d", p.MaxDepth)
	}
	if p.MaxArgs < 2 || p.MaxArgs > 100 {
		return registry.Invalid("max_args", "must be in [2, 100], got %d", p.MaxArgs)
	}
	if err := validateRange("min_len", "max_len", p.MinLen, p.MaxLen, 1, maxSeqLen); err != nil {
		return err
	}
	if err := validateTestRange("test_min_len", "test_max_len", p.TestMinLen, p.TestMaxLen, p.MinLen, p.MaxLen, 1, maxSeqLen); err != nil {
		return err
	}
	// No draw can be longer than a full tree: refused here rather than
	// after a run has drawn for nothing.
	most := listOpsLongest(p.MaxDepth, p.MaxArgs)
	for _, k := range []struct {
		key string
		n   int
	}{{"min_len", p.MinLen}, {"test_min_len", p.TestMinLen}} {
		if k.n > most {
			return registry.Invalid(k.key, "%d tokens is more than the longest expression max_depth %d and max_args %d make (%d tokens): raise them, or lower %s",
				k.n, p.MaxDepth, p.MaxArgs, most, k.key)
		}
	}
	return validateSizes(p.TrainSize, p.ValidSize, p.TestSize)
}

// listOpsLongest returns the tokens of the longest expression of depth at
// most depth with at most args arguments per operator (every operator
// with args arguments, down to the deepest level: an operator, its
// arguments and "]"), capped beyond any length limit.
func listOpsLongest(depth, args int) int {
	n := 1 // a digit
	for range depth - 1 {
		n = min(2+args*n, 1<<30)
	}
	return n
}

// ListOps operator tokens.
const (
	ListOpsMin = "[MIN"
	ListOpsMax = "[MAX"
	ListOpsMed = "[MED"
	ListOpsSum = "[SM"
	ListOpsEnd = "]"
)

var listOpsOperators = []string{ListOpsMin, ListOpsMax, ListOpsMed, ListOpsSum}

// MaxLengths returns the longest expression in tokens and the one-digit
// value.
func (p *ListOpsParams) MaxLengths() (src, tgt int) { return max(p.MaxLen, p.TestMaxLen), 1 }

// TrainMaxLengths returns the longest training expression and its answer.
func (p *ListOpsParams) TrainMaxLengths() (src, tgt int) { return p.MaxLen, 1 }

// ValidExamples returns valid_size.
func (p *ListOpsParams) ValidExamples() int { return p.ValidSize }

// SplitExamples returns train_size, valid_size and test_size.
func (p *ListOpsParams) SplitExamples() (train, valid, test int) {
	return p.TrainSize, p.ValidSize, p.TestSize
}

// DataSize: expressions of up to max_len tokens (test: test_max_len), a
// one-digit value.

func (p *ListOpsParams) DataSize() (examples, tokens int64) {
	return splitsSize(p.TrainSize, p.ValidSize, p.TestSize, p.MaxLen+1, max(p.MaxLen, p.TestMaxLen)+1)
}

func init() {
	Registry.Register(Entry{
		Name:   "listops",
		Doc:    "evaluate a nested list expression (Long Range Arena ListOps): [MAX 2 9 [MIN 4 7 ] 0 ] → 9",
		Params: defaultListOpsParams(),
		New:    newListOps,
	})
}

// maxListOpsTries bounds the rejection sampling of one expression.
const maxListOpsTries = 200_000

func newListOps(params any, opt Options) (*Dataset, error) {
	p := paramsOf(params, defaultListOpsParams())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r := newRand(opt.Seed, "listops")
	lo := [3]int{p.MinLen, p.MinLen, orDefault(p.TestMinLen, p.MinLen)}
	hi := [3]int{p.MaxLen, p.MaxLen, orDefault(p.TestMaxLen, p.MaxLen)}
	splits, err := drawSplits("listops", [3]int{p.TrainSize, p.ValidSize, p.TestSize}, func(split int) (pair, error) {
		for range maxListOpsTries {
			toks, v, ok := listOpsTree(r, 1, p.MaxDepth, p.MaxArgs, hi[split], nil)
			if ok && len(toks) >= lo[split] {
				return pair{src: toks, tgt: []string{strconv.Itoa(v)}}, nil
			}
		}
		return pair{}, fmt.Errorf("listops: no expression of %d–%d tokens in %d draws with max_depth %d and max_args %d: widen the %s length range or allow deeper trees",
			lo[split], hi[split], maxListOpsTries, p.MaxDepth, p.MaxArgs, splitNames[split])
	})
	if err != nil {
		return nil, err
	}
	src := NewVocab(append(slices.Clone(listOpsOperators), ListOpsEnd, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"))
	tgt := NewVocab([]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
	return dataset("listops", splits, src, tgt, Word{}, Word{}, ""), nil
}

// listOpsTree appends a random tree of the given depth to toks and returns
// the tokens and the tree's value. It gives up (ok false) as soon as toks
// holds more than maxLen tokens.
func listOpsTree(r *rand.Rand, depth, maxDepth, maxArgs, maxLen int, toks []string) ([]string, int, bool) {
	if depth >= maxDepth || r.Float64() >= 0.25 {
		v := r.IntN(10)
		return append(toks, strconv.Itoa(v)), v, len(toks) < maxLen
	}
	n := 2 + r.IntN(maxArgs-1)
	op := listOpsOperators[r.IntN(len(listOpsOperators))]
	toks = append(toks, op)
	args := make([]int, 0, n)
	for range n {
		var v int
		var ok bool
		if toks, v, ok = listOpsTree(r, depth+1, maxDepth, maxArgs, maxLen, toks); !ok {
			return toks, 0, false
		}
		args = append(args, v)
	}
	toks = append(toks, ListOpsEnd)
	return toks, ListOpsValue(op, args), len(toks) <= maxLen
}

// ListOpsValue returns the value of operator op (one of "[MIN", "[MAX",
// "[MED", "[SM") applied to args. It panics on an unknown operator or no
// arguments.
func ListOpsValue(op string, args []int) int {
	switch op {
	case ListOpsMin:
		return slices.Min(args)
	case ListOpsMax:
		return slices.Max(args)
	case ListOpsMed:
		s := slices.Sorted(slices.Values(args))
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	case ListOpsSum:
		sum := 0
		for _, a := range args {
			sum += a
		}
		return sum % 10
	}
	panic(fmt.Sprintf("tasks: unknown ListOps operator %q", op))
}

// EvalListOps returns the value of a ListOps expression given as tokens, or
// an error if it is malformed.
func EvalListOps(toks []string) (int, error) {
	v, rest, err := evalListOps(toks)
	if err != nil {
		return 0, err
	}
	if len(rest) > 0 {
		return 0, fmt.Errorf("listops: %d tokens after the expression", len(rest))
	}
	return v, nil
}

func evalListOps(toks []string) (int, []string, error) {
	if len(toks) == 0 {
		return 0, nil, fmt.Errorf("listops: expression ends early")
	}
	t := toks[0]
	if len(t) == 1 && t[0] >= '0' && t[0] <= '9' {
		return int(t[0] - '0'), toks[1:], nil
	}
	if !slices.Contains(listOpsOperators, t) {
		return 0, nil, fmt.Errorf("listops: unexpected token %q", t)
	}
	rest := toks[1:]
	var args []int
	for len(rest) > 0 && rest[0] != ListOpsEnd {
		v, r, err := evalListOps(rest)
		if err != nil {
			return 0, nil, err
		}
		args, rest = append(args, v), r
	}
	if len(rest) == 0 {
		return 0, nil, fmt.Errorf("listops: %s without %s", t, ListOpsEnd)
	}
	if len(args) == 0 {
		return 0, nil, fmt.Errorf("listops: %s without arguments", t)
	}
	return ListOpsValue(t, args), rest[1:], nil
}
