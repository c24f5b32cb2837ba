package metrics

import (
	"fmt"
	"strconv"
)

// DefaultLengthEdges are the upper bounds of the default length buckets:
// 1–10, 11–20, 21–40, 41–80, 81–160 and 161+, named len_1_10, len_11_20,
// len_21_40, len_41_80, len_81_160 and len_161_inf.
var DefaultLengthEdges = []int{10, 20, 40, 80, 160}

// ValidateEdges returns an error unless edges are positive and strictly
// increasing, as LengthBucket requires.
func ValidateEdges(edges []int) error {
	for i, e := range edges {
		if e < 1 {
			return fmt.Errorf("metrics: length bucket edge %d must be at least 1, got %d", i, e)
		}
		if i > 0 && e <= edges[i-1] {
			return fmt.Errorf("metrics: length bucket edges must increase, got %d after %d", e, edges[i-1])
		}
	}
	return nil
}

// LengthBucket returns the name of the bucket of length n: with edges
// e0 < e1 < ..., the buckets are 1..e0, e0+1..e1, ..., and above the last
// edge, named "len_LO_HI" and "len_LO_inf" (e.g. len_21_40, len_161_inf).
// Lengths below 1 fall in the first bucket. nil edges mean
// DefaultLengthEdges. It panics if edges fail [ValidateEdges].
func LengthBucket(n int, edges []int) string {
	if edges == nil {
		edges = DefaultLengthEdges
	}
	if err := ValidateEdges(edges); err != nil {
		panic(err)
	}
	lo := 1
	for _, e := range edges {
		if n <= e {
			return "len_" + strconv.Itoa(lo) + "_" + strconv.Itoa(e)
		}
		lo = e + 1
	}
	return "len_" + strconv.Itoa(lo) + "_inf"
}

// LengthBuckets returns every bucket name of edges, shortest first.
func LengthBuckets(edges []int) []string {
	if edges == nil {
		edges = DefaultLengthEdges
	}
	names := make([]string, 0, len(edges)+1)
	for _, e := range edges {
		names = append(names, LengthBucket(e, edges))
	}
	if len(edges) == 0 {
		return append(names, LengthBucket(1, edges))
	}
	return append(names, LengthBucket(edges[len(edges)-1]+1, edges))
}

// BucketedExactMatch accumulates exact match per length bucket, for
// metrics such as test/exact_match/len_21_40. The length is the caller's
// choice (usually the source length, to measure length generalisation).
// The zero value is not usable: call [NewBucketedExactMatch]. Not safe for
// concurrent use.
type BucketedExactMatch struct {
	edges   []int
	correct map[string]int
	total   map[string]int
}

// NewBucketedExactMatch returns an empty accumulator over the buckets of
// edges (nil: DefaultLengthEdges). It panics if edges fail ValidateEdges.
func NewBucketedExactMatch(edges []int) *BucketedExactMatch {
	if edges == nil {
		edges = DefaultLengthEdges
	}
	if err := ValidateEdges(edges); err != nil {
		panic(err)
	}
	return &BucketedExactMatch{edges: edges, correct: map[string]int{}, total: map[string]int{}}
}

// Add counts one example of the given length, exactly matched or not.
func (b *BucketedExactMatch) Add(length int, correct bool) {
	name := LengthBucket(length, b.edges)
	b.total[name]++
	if correct {
		b.correct[name]++
	}
}

// Count returns the matched and total examples of bucket name.
func (b *BucketedExactMatch) Count(name string) (correct, total int) {
	return b.correct[name], b.total[name]
}

// Metrics returns "split/exact_match/BUCKET" → exact-match rate and
// "split/examples/BUCKET" → the number of examples, for every bucket that
// received an example; empty buckets are left out.
func (b *BucketedExactMatch) Metrics(split string) map[string]float64 {
	out := make(map[string]float64, 2*len(b.total))
	for name, n := range b.total {
		out[split+"/exact_match/"+name] = float64(b.correct[name]) / float64(n)
		out[split+"/examples/"+name] = float64(n)
	}
	return out
}
