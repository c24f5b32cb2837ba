package metrics

import (
	"fmt"
	"math"
	"slices"
)

// ExactMatch reports whether hyp equals ref, element by element.
func ExactMatch[T comparable](hyp, ref []T) bool { return slices.Equal(hyp, ref) }

// TokenAccuracy compares hyp with ref position by position and returns the
// number of positions of ref that hyp matches and len(ref): a missing
// position counts as wrong, an extra one is ignored. Sum both over a corpus
// before dividing.
func TokenAccuracy[T comparable](hyp, ref []T) (correct, total int) {
	for i, r := range ref {
		if i < len(hyp) && hyp[i] == r {
			correct++
		}
	}
	return correct, len(ref)
}

// MaskedTokenAccuracy compares predicted and target ids of a flat batch
// and returns the matches and the number of positions, both counted only
// where target differs from ignore (the padding id). It panics if the
// lengths differ.
func MaskedTokenAccuracy(pred, target []int, ignore int) (correct, total int) {
	if len(pred) != len(target) {
		panic(fmt.Sprintf("metrics: MaskedTokenAccuracy with %d predictions and %d targets", len(pred), len(target)))
	}
	for i, y := range target {
		if y == ignore {
			continue
		}
		total++
		if pred[i] == y {
			correct++
		}
	}
	return correct, total
}

// Ratio returns num/den, or NaN when den is 0.
func Ratio(num, den int) float64 {
	if den == 0 {
		return math.NaN()
	}
	return float64(num) / float64(den)
}

// Perplexity returns exp(meanLoss), the perplexity of a mean cross-entropy
// in nats per token. It returns +Inf for a huge loss and NaN for NaN.
func Perplexity(meanLoss float64) float64 { return math.Exp(meanLoss) }
