package tasks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/attnlab/attnlab/registry"
)

// AdditionParams are the parameters of the addition task: "123+45" → "168".
// Each operand's number of digits is drawn uniformly from
// [min_digits, digits] (test: [test_min_digits, test_digits]); a number of
// d > 1 digits has no leading zero.
type AdditionParams struct {
	Digits        int  `yaml:"digits" doc:"most digits of an operand in train and valid" range:"[1,1000]"`
	MinDigits     int  `yaml:"min_digits" doc:"fewest digits of an operand in train and valid" range:"[1,1000]"`
	TestDigits    int  `yaml:"test_digits" doc:"most digits of a test operand (0: digits)" range:"[0,1000]"`
	TestMinDigits int  `yaml:"test_min_digits" doc:"fewest digits of a test operand (0: min_digits)" range:"[0,1000]"`
	ReverseInput  bool `yaml:"reverse_input" doc:"write the operands least significant digit first"`
	ReverseOutput bool `yaml:"reverse_output" doc:"write the sum least significant digit first"`
	TrainSize     int  `yaml:"train_size" doc:"training examples (drawn i.i.d., may repeat)" range:"[1,10000000]"`
	ValidSize     int  `yaml:"valid_size" doc:"validation examples (distinct, none in train)" range:"[0,10000000]"`
	TestSize      int  `yaml:"test_size" doc:"test examples (distinct, none in train or valid)" range:"[0,10000000]"`
}

const maxDigits = 1000

// Validate checks the ranges of every key.
func (p *AdditionParams) Validate() error {
	if err := validateRange("min_digits", "digits", p.MinDigits, p.Digits, 1, maxDigits); err != nil {
		return err
	}
	if err := validateTestRange("test_min_digits", "test_digits", p.TestMinDigits, p.TestDigits, p.MinDigits, p.Digits, 1, maxDigits); err != nil {
		return err
	}
	if err := validateSizes(p.TrainSize, p.ValidSize, p.TestSize); err != nil {
		return err
	}
	return p.distinctFits()
}

// distinctFits refuses valid and test sizes that no draw can fill, as
// SymbolParams.distinctFits does: a source is a pair of operands, so
// operands of lo to hi digits make N² sources, N the numbers of those
// digits.
func (p *AdditionParams) distinctFits() error {
	tlo, thi := orDefault(p.TestMinDigits, p.MinDigits), orDefault(p.TestDigits, p.Digits)
	srcs := func(lo, hi int) int {
		n := distinctNumbers(lo, hi, maxSplitSize+1)
		if n > (maxSplitSize+1)/n {
			return maxSplitSize + 1
		}
		return n * n
	}
	switch {
	case p.ValidSize > srcs(p.MinDigits, p.Digits):
		return registry.Invalid("valid_size", "%d distinct sources wanted, but operands of %d to %d digits make only %d sums a+b: widen the digits, or lower valid_size",
			p.ValidSize, p.MinDigits, p.Digits, srcs(p.MinDigits, p.Digits))
	case p.TestSize > srcs(tlo, thi):
		return registry.Invalid("test_size", "%d distinct sources wanted, but operands of %d to %d digits make only %d sums a+b: widen the digits, or lower test_size",
			p.TestSize, tlo, thi, srcs(tlo, thi))
	case p.ValidSize+p.TestSize > srcs(min(p.MinDigits, tlo), max(p.Digits, thi)):
		lo, hi := min(p.MinDigits, tlo), max(p.Digits, thi)
		return registry.Invalid("valid_size", "valid_size + test_size = %d distinct sources wanted, but operands of %d to %d digits make only %d sums a+b: widen the digits, or use smaller splits",
			p.ValidSize+p.TestSize, lo, hi, srcs(lo, hi))
	}
	return nil
}

// Lint refuses, in new experiments (registry.Linter), valid and test sizes
// beyond the sums a+b train_size's draws are expected to leave them
// (coverage.go). Runs stored with such sizes failed; their
// configurations still load.
func (p *AdditionParams) Lint() error {
	k := float64(p.Digits - p.MinDigits + 1)
	numbers := func(d int) float64 {
		if d == 1 {
			return 10
		}
		return 9 * math.Pow(10, float64(d-1))
	}
	leftOf := func(lo, hi int) left {
		var total left
		digits := float64(hi - lo + 1) // a draw of the range: each operand's digits, then the number
		for da := lo; da <= hi; da++ {
			for db := lo; db <= hi; db++ {
				n := numbers(da) * numbers(db)
				q := 1 / (digits * digits) / n
				switch {
				case n >= plentyLeft:
					return left{mean: math.Inf(1)}
				case da >= p.MinDigits && da <= p.Digits && db >= p.MinDigits && db <= p.Digits:
					total.add(leftAfter(n, 1/(k*k), p.TrainSize).at(q))
				default:
					total.add(left{mean: n}.at(q))
				}
			}
		}
		return total
	}
	what := func(lo, hi int) string {
		n := distinctNumbers(lo, hi, maxSplitSize+1)
		return fmt.Sprintf("%d sums a+b of operands of %d to %d digits", n*n, lo, hi)
	}
	return lintLeft(p.ValidSize, p.TestSize, p.TrainSize, p.MinDigits, p.Digits,
		orDefault(p.TestMinDigits, p.MinDigits), orDefault(p.TestDigits, p.Digits), leftOf, what)
}

// distinctNumbers returns how many decimal numbers have lo to hi digits
// (one digit: 0–9; more: no leading zero), or limit if at least that many.
func distinctNumbers(lo, hi, limit int) int {
	total := 0
	for d, pow := 1, 1; d <= hi; d++ {
		if pow > limit/10 {
			return limit
		}
		n := 9 * pow // d digits, no leading zero
		if d == 1 {
			n = 10
		}
		pow *= 10
		if d >= lo {
			total += n
			if total >= limit {
				return limit
			}
		}
	}
	return total
}

// MaxLengths returns the longest source ("a+b", two operands of up to the
// most digits) and target (the sum, one digit longer).
func (p *AdditionParams) MaxLengths() (src, tgt int) {
	d := max(p.Digits, p.TestDigits)
	return 2*d + 1, d + 1
}

// TrainMaxLengths returns the longest training source and target.
func (p *AdditionParams) TrainMaxLengths() (src, tgt int) { return 2*p.Digits + 1, p.Digits + 1 }

// ValidExamples returns valid_size.
func (p *AdditionParams) ValidExamples() int { return p.ValidSize }

// SplitExamples returns train_size, valid_size and test_size.
func (p *AdditionParams) SplitExamples() (train, valid, test int) {
	return p.TrainSize, p.ValidSize, p.TestSize
}

// DataSize: operands of up to digits (test: test_digits), the sum one
// digit longer.

func (p *AdditionParams) DataSize() (examples, tokens int64) {
	size := func(d int) int { return 2*d + 1 + d + 1 }
	return splitsSize(p.TrainSize, p.ValidSize, p.TestSize, size(p.Digits), size(max(p.Digits, p.TestDigits)))
}

func init() {
	Registry.Register(Entry{
		Name:   "addition",
		Doc:    "add two decimal numbers, character by character: 123+45 → 168",
		Params: defaultAdditionParams(),
		New:    newAddition,
	})
}

func defaultAdditionParams() *AdditionParams {
	return &AdditionParams{Digits: 3, MinDigits: 1, TrainSize: 10000, ValidSize: 500, TestSize: 1000}
}

func newAddition(params any, opt Options) (*Dataset, error) {
	p := paramsOf(params, defaultAdditionParams())
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r := newRand(opt.Seed, "addition")
	lo := [3]int{p.MinDigits, p.MinDigits, orDefault(p.TestMinDigits, p.MinDigits)}
	hi := [3]int{p.Digits, p.Digits, orDefault(p.TestDigits, p.Digits)}
	splits, err := drawSplits("addition", [3]int{p.TrainSize, p.ValidSize, p.TestSize}, func(split int) (pair, error) {
		a := randomNumber(r, lo[split]+r.IntN(hi[split]-lo[split]+1))
		b := randomNumber(r, lo[split]+r.IntN(hi[split]-lo[split]+1))
		sum := addDecimal(a, b)
		if p.ReverseInput {
			a, b = reversed(a), reversed(b)
		}
		if p.ReverseOutput {
			sum = reversed(sum)
		}
		return pair{src: Char{}.Split(a + "+" + b), tgt: Char{}.Split(sum)}, nil
	})
	if err != nil {
		return nil, err
	}
	src := NewVocab(Char{}.Split("0123456789+"))
	tgt := NewVocab(Char{}.Split("0123456789"))
	return dataset("addition", splits, src, tgt, Char{}, Char{}, ""), nil
}

// randomNumber returns a uniformly drawn decimal number of exactly d digits
// (for d = 1: 0–9).
func randomNumber(r *rand.Rand, d int) string {
	b := make([]byte, d)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	if d > 1 {
		b[0] = byte('1' + r.IntN(9))
	}
	return string(b)
}

// addDecimal returns the sum of two non-negative decimal numbers.
func addDecimal(a, b string) string {
	out := make([]byte, 0, max(len(a), len(b))+1)
	carry := 0
	for i := 0; i < len(a) || i < len(b) || carry > 0; i++ {
		s := carry
		if i < len(a) {
			s += int(a[len(a)-1-i] - '0')
		}
		if i < len(b) {
			s += int(b[len(b)-1-i] - '0')
		}
		out = append(out, byte('0'+s%10))
		carry = s / 10
	}
	slices.Reverse(out)
	return string(out)
}

func reversed(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
