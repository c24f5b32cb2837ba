// Package editdist measures how far apart two strings are, for the "did
// you mean" lists of unknown names and keys (experiments' validation,
// report's keys).
package editdist

// Distance returns the optimal-string-alignment (restricted
// Damerau–Levenshtein) distance between a and b, counted in bytes: the
// fewest insertions, deletions and substitutions of one byte, and swaps of
// two adjacent bytes, that turn a into b, no substring edited twice. A
// swap is one edit because it is the commonest typing slip ("stpes" for
// "steps", "gird" for "grid"). It is safe for concurrent use.
func Distance(a, b string) int {
	// Three rows of the table: two back (for swaps), one back, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
