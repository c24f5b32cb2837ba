package tasks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/attnlab/attnlab/registry"
)

// SymbolParams are the parameters of the copy, reverse and sort tasks: a
// source is a random string of symbols, of a length drawn uniformly from
// [min_len, max_len] (test: [test_min_len, test_max_len]), each symbol drawn
// uniformly.
type SymbolParams struct {
	Symbols    int `yaml:"symbols" doc:"alphabet size: up to 62 the characters a-z, A-Z, 0-9 (char tokens); above, the words s0..sN-1 (word tokens)" range:"[1,100000]"`
	MinLen     int `yaml:"min_len" doc:"shortest sequence in train and valid" range:"[1,10000]"`
	MaxLen     int `yaml:"max_len" doc:"longest sequence in train and valid" range:"[1,10000]"`
	TestMinLen int `yaml:"test_min_len" doc:"shortest test sequence (0: min_len)" range:"[0,10000]"`
	TestMaxLen int `yaml:"test_max_len" doc:"longest test sequence (0: max_len)" range:"[0,10000]"`
	TrainSize  int `yaml:"train_size" doc:"training examples (drawn i.i.d., may repeat)" range:"[1,10000000]"`
	ValidSize  int `yaml:"valid_size" doc:"validation examples (distinct, none in train)" range:"[0,10000000]"`
	TestSize   int `yaml:"test_size" doc:"test examples (distinct, none in train or valid)" range:"[0,10000000]"`
}

func defaultSymbolParams() *SymbolParams {
	return &SymbolParams{Symbols: 16, MinLen: 5, MaxLen: 20, TrainSize: 10000, ValidSize: 500, TestSize: 1000}
}

// Validate checks the ranges of every key.
func (p *SymbolParams) Validate() error {
	if p.Symbols < 1 || p.Symbols > maxSymbols {
		return registry.Invalid("symbols", "must be in [1, %d], got %d", maxSymbols, p.Symbols)
	}
	if err := validateRange("min_len", "max_len", p.MinLen, p.MaxLen, 1, maxSeqLen); err != nil {
		return err
	}
	if err := validateTestRange("test_min_len", "test_max_len", p.TestMinLen, p.TestMaxLen, p.MinLen, p.MaxLen, 1, maxSeqLen); err != nil {
		return err
	}
	if err := validateSizes(p.TrainSize, p.ValidSize, p.TestSize); err != nil {
		return err
	}
	return p.distinctFits()
}

// distinctFits refuses valid and test sizes that no draw can fill: each
// holds distinct sources, none shared, so a split cannot be larger than the
// number of strings of its lengths, and the two together not larger than
// those of both ranges. (The check is necessary, not sufficient: training
// examples take sources too, which Lint counts for new experiments, and
// the draws have a budget.)
func (p *SymbolParams) distinctFits() error {
	tlo, thi := orDefault(p.TestMinLen, p.MinLen), orDefault(p.TestMaxLen, p.MaxLen)
	strs := func(lo, hi int) int { return distinctStrings(p.Symbols, lo, hi, maxSplitSize+1) }
	switch {
	case p.ValidSize > strs(p.MinLen, p.MaxLen):
		return registry.Invalid("valid_size", "%d distinct sources wanted, but %d symbols make only %d strings of lengths %d to %d: widen the lengths or the alphabet, or lower valid_size",
			p.ValidSize, p.Symbols, strs(p.MinLen, p.MaxLen), p.MinLen, p.MaxLen)
	case p.TestSize > strs(tlo, thi):
		return registry.Invalid("test_size", "%d distinct sources wanted, but %d symbols make only %d strings of lengths %d to %d: widen the lengths or the alphabet, or lower test_size",
			p.TestSize, p.Symbols, strs(tlo, thi), tlo, thi)
	case p.ValidSize+p.TestSize > strs(min(p.MinLen, tlo), max(p.MaxLen, thi)):
		n := strs(min(p.MinLen, tlo), max(p.MaxLen, thi))
		return registry.Invalid("valid_size", "valid_size + test_size = %d distinct sources wanted, but %d symbols make only %d strings of lengths %d to %d: widen the lengths or the alphabet, or use smaller splits",
			p.ValidSize+p.TestSize, p.Symbols, n, min(p.MinLen, tlo), max(p.MaxLen, thi))
	}
	return nil
}

// Lint refuses, in new experiments (registry.Linter), valid and test sizes
// beyond the strings train_size's draws are expected to leave them
// (coverage.go). Runs stored with such sizes failed; their
// configurations still load.
func (p *SymbolParams) Lint() error {
	k := float64(p.MaxLen - p.MinLen + 1)
	leftOf := func(lo, hi int) left {
		var total left
		lengths := float64(hi - lo + 1) // a draw of the range: a length, then its symbols
		for l := lo; l <= hi; l++ {
			n := math.Pow(float64(p.Symbols), float64(l))
			switch {
			case n >= plentyLeft:
				return left{mean: math.Inf(1)}
			case l >= p.MinLen && l <= p.MaxLen:
				total.add(leftAfter(n, 1/k, p.TrainSize).at(1 / lengths / n))
			default:
				total.add(left{mean: n}.at(1 / lengths / n))
			}
		}
		return total
	}
	what := func(lo, hi int) string {
		return fmt.Sprintf("%d strings of lengths %d to %d", distinctStrings(p.Symbols, lo, hi, maxSplitSize+1), lo, hi)
	}
	return lintLeft(p.ValidSize, p.TestSize, p.TrainSize, p.MinLen, p.MaxLen,
		orDefault(p.TestMinLen, p.MinLen), orDefault(p.TestMaxLen, p.MaxLen), leftOf, what)
}

// distinctStrings returns the number of strings of lengths lo to hi over n
// symbols, or limit if there are at least that many.
func distinctStrings(n, lo, hi, limit int) int {
	total, pow := 0, 1
	for l := 1; l <= hi; l++ {
		if pow > limit/n {
			return limit
		}
		pow *= n
		if l >= lo {
			total += pow
			if total >= limit {
				return limit
			}
		}
	}
	return total
}

// MaxLengths returns the longest source and target: copy, reverse and
// sort keep the length.
func (p *SymbolParams) MaxLengths() (src, tgt int) {
	n := max(p.MaxLen, p.TestMaxLen)
	return n, n
}

// TrainMaxLengths returns the longest training source and target.
func (p *SymbolParams) TrainMaxLengths() (src, tgt int) { return p.MaxLen, p.MaxLen }

// ValidExamples returns valid_size.
func (p *SymbolParams) ValidExamples() int { return p.ValidSize }

// SplitExamples returns train_size, valid_size and test_size.
func (p *SymbolParams) SplitExamples() (train, valid, test int) {
	return p.TrainSize, p.ValidSize, p.TestSize
}

// DataSize: copy, reverse and sort keep the length.
func (p *SymbolParams) DataSize() (examples, tokens int64) {
	return splitsSize(p.TrainSize, p.ValidSize, p.TestSize, 2*p.MaxLen, 2*max(p.MaxLen, p.TestMaxLen))
}

const (
	maxSymbols  = 100_000
	maxSeqLen   = 10_000
	charSymbols = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// alphabet returns the n symbols in order and their tokenizer.
func alphabet(n int) ([]string, Tokenizer) {
	syms := make([]string, n)
	if n <= len(charSymbols) {
		for i := range syms {
			syms[i] = charSymbols[i : i+1]
		}
		return syms, Char{}
	}
	for i := range syms {
		syms[i] = "s" + strconv.Itoa(i)
	}
	return syms, Word{}
}

// symbolTask builds the copy, reverse or sort dataset: transform maps the
// source's symbol indices to the target's. Both vocabularies are the whole
// alphabet in order, so ids do not depend on the draw.
func symbolTask(name, align string, params any, opt Options, transform func([]int) []int) (*Dataset, error) {
	p := paramsOf(params, defaultSymbolParams())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	syms, tok := alphabet(p.Symbols)
	r := newRand(opt.Seed, name)
	lo := [3]int{p.MinLen, p.MinLen, orDefault(p.TestMinLen, p.MinLen)}
	hi := [3]int{p.MaxLen, p.MaxLen, orDefault(p.TestMaxLen, p.MaxLen)}
	splits, err := drawSplits(name, [3]int{p.TrainSize, p.ValidSize, p.TestSize}, func(split int) (pair, error) {
		idx := randomSymbols(r, lo[split], hi[split], p.Symbols)
		return pair{src: symbolsOf(syms, idx), tgt: symbolsOf(syms, transform(idx))}, nil
	})
	if err != nil {
		return nil, err
	}
	v := NewVocab(syms)
	return dataset(name, splits, v, v, tok, tok, align), nil
}

// randomSymbols draws a length uniformly in [lo, hi] and that many symbol
// indices uniformly in [0, n).
func randomSymbols(r *rand.Rand, lo, hi, n int) []int {
	idx := make([]int, lo+r.IntN(hi-lo+1))
	for i := range idx {
		idx[i] = r.IntN(n)
	}
	return idx
}

func symbolsOf(syms []string, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = syms[j]
	}
	return out
}

func copyOf(idx []int) []int { return slices.Clone(idx) }

func reverseOf(idx []int) []int {
	out := slices.Clone(idx)
	slices.Reverse(out)
	return out
}

func sortOf(idx []int) []int {
	out := slices.Clone(idx)
	slices.Sort(out)
	return out
}
