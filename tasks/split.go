package tasks

import (
	"fmt"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// The three splits, in the order generated tasks draw them.
const (
	splitTrain = iota
	splitValid
	splitTest
)

var splitNames = [3]string{"train", "valid", "test"}

// pair is one example as tokens, before the vocabularies exist.
type pair struct {
	src, tgt []string
}

// drawSplits draws the splits of a generated task from draw, which returns
// one example for the given split (its length range may differ by split)
// or an error that drawSplits returns as it is.
// Train is drawn first, i.i.d., so it may repeat an example; valid and test
// then hold distinct sources that appear in no other split: a draw whose
// source was already taken is rejected and drawn again. When a split cannot
// be filled within a generous budget of draws, drawSplits returns an error
// telling the user to widen the space or shrink the split.
func drawSplits(task string, sizes [3]int, draw func(split int) (pair, error)) ([3][]pair, error) {
	var out [3][]pair
	owner := make(map[string]int)
	for split, n := range sizes {
		out[split] = make([]pair, 0, n)
		budget := 50*n + 10000
		for len(out[split]) < n {
			if budget == 0 {
				return out, fmt.Errorf("%s: could draw only %d of %d %s examples whose sources appear in no other split: widen the lengths or vocabulary, or use smaller splits",
					task, len(out[split]), n, splitNames[split])
			}
			budget--
			p, err := draw(split)
			if err != nil {
				return out, err
			}
			key := strings.Join(p.src, "\x00")
			if s, seen := owner[key]; seen && (s != split || split != splitTrain) {
				continue
			}
			owner[key] = split
			out[split] = append(out[split], p)
		}
	}
	return out, nil
}

// encodePairs turns token pairs into examples with the given vocabularies;
// each example's Ref is its target tokens joined by tgtTok.
func encodePairs(ps []pair, src, tgt *Vocab, tgtTok Tokenizer) []Example {
	ex := make([]Example, len(ps))
	for i, p := range ps {
		ex[i] = Example{Src: src.Encode(p.src), Tgt: tgt.Encode(p.tgt), Ref: tgtTok.Join(p.tgt)}
	}
	return ex
}

// dataset assembles a seq2seq Dataset from drawn splits.
func dataset(name string, splits [3][]pair, src, tgt *Vocab, srcTok, tgtTok Tokenizer, align string) *Dataset {
	return &Dataset{
		Name: name, SrcVocab: src, TgtVocab: tgt, SrcTok: srcTok, TgtTok: tgtTok, Alignment: align,
		Train: ListOf(encodePairs(splits[splitTrain], src, tgt, tgtTok)),
		Valid: ListOf(encodePairs(splits[splitValid], src, tgt, tgtTok)),
		Test:  ListOf(encodePairs(splits[splitTest], src, tgt, tgtTok)),
	}
}

// sideTokens returns the source (src true) or target sides of ps.
func sideTokens(ps []pair, src bool) [][]string {
	out := make([][]string, len(ps))
	for i, p := range ps {
		if src {
			out[i] = p.src
		} else {
			out[i] = p.tgt
		}
	}
	return out
}

// maxSplitSize bounds each split of a generated task, to catch typos such
// as an extra zero before they exhaust memory.
const maxSplitSize = 10_000_000

// validateSizes checks the train_size, valid_size and test_size keys.
func validateSizes(train, valid, test int) error {
	for _, s := range []struct {
		key    string
		n, min int
	}{{"train_size", train, 1}, {"valid_size", valid, 0}, {"test_size", test, 0}} {
		if s.n < s.min || s.n > maxSplitSize {
			return registry.Invalid(s.key, "must be in [%d, %d], got %d", s.min, maxSplitSize, s.n)
		}
	}
	return nil
}

// validateRange checks a min/max pair of keys: lo ≤ hi, both in [floor, ceil].
func validateRange(loKey, hiKey string, lo, hi, floor, ceil int) error {
	if lo < floor || lo > ceil {
		return registry.Invalid(loKey, "must be in [%d, %d], got %d", floor, ceil, lo)
	}
	if hi < floor || hi > ceil {
		return registry.Invalid(hiKey, "must be in [%d, %d], got %d", floor, ceil, hi)
	}
	if lo > hi {
		return registry.Invalid(hiKey, "must be at least %s = %d, got %d", loKey, lo, hi)
	}
	return nil
}

// validateTestRange checks the test_min/test_max pair of keys, which
// default (when 0) to the training bounds lo and hi.
func validateTestRange(loKey, hiKey string, testLo, testHi, lo, hi, floor, ceil int) error {
	if testHi == 0 && testLo > hi {
		return registry.Invalid(hiKey, "must be set when %s = %d exceeds the training maximum %d", loKey, testLo, hi)
	}
	return validateRange(loKey, hiKey, orDefault(testLo, lo), orDefault(testHi, hi), floor, ceil)
}

// orDefault returns v, or def when v is 0.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
