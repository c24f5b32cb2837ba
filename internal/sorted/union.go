// Package sorted holds what attnlab does with sorted slices in more than one
// place: the union of metric steps, which plot curves (report) and the
// dashboard's curves (web) both take.
package sorted

import "cmp"

// Union returns the sorted distinct values of a and b, both sorted in
// increasing order (either may repeat a value: a step logged twice). It
// returns a itself, without allocating, when b adds no value to it — the
// usual case when runs log the same steps.
func Union[T cmp.Ordered](a, b []T) []T {
	i, j := 0, 0
	for i < len(a) && j < len(b) { // is every value of b in a?
		switch {
		case a[i] < b[j]:
			i++
		case a[i] == b[j]:
			j++
		default:
			i = len(a) // b[j] is new
		}
	}
	if j == len(b) {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	i, j = 0, 0
	for i < len(a) || j < len(b) {
		var v T
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			v, i = a[i], i+1
		case i == len(a) || b[j] < a[i]:
			v, j = b[j], j+1
		default:
			v, i, j = a[i], i+1, j+1
		}
		if n := len(out); n == 0 || out[n-1] != v {
			out = append(out, v)
		}
	}
	return out
}
