// Package editdist measures how far apart two strings are, for the "did
// you mean" lists of unknown names and keys (experiments' validation,
// report's keys).
package editdist

// Distance returns the Levenshtein distance between a and b, counted in
// bytes: the fewest insertions, deletions and substitutions of one byte
// that turn a into b. It is safe for concurrent use.
func Distance(a, b string) int {
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
