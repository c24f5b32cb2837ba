package tasks

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/attnlab/attnlab/registry"
)

// The lengths of ListOps expressions. An expression of depth at most 1 is
// a digit (1 token); one of depth at most d > 1 is a digit, or an operator,
// 2 to max_args expressions of depth at most d-1 and "]" (2 tokens plus
// theirs). So not every length up to listOpsLongest exists: max_depth 3 and
// max_args 2 make only 1, 4, 7 and 10 tokens. Lint refuses a length range
// with none, at plan, instead of the run rejecting draws until it gives up.

// lenSet is a set of lengths 0..n-1, as a bit set.
type lenSet struct {
	w []uint64
	n int
}

func newLenSet(n int) lenSet { return lenSet{w: make([]uint64, (n+63)/64), n: n} }

func (s lenSet) add(i int) {
	if i < s.n {
		s.w[i/64] |= 1 << (i % 64)
	}
}

func (s lenSet) has(i int) bool { return i >= 0 && i < s.n && s.w[i/64]&(1<<(i%64)) != 0 }

func (s lenSet) clone() lenSet { return lenSet{w: append([]uint64(nil), s.w...), n: s.n} }

// truncate returns a copy of s holding its lengths below n (n ≤ s.n).
func (s lenSet) truncate(n int) lenSet {
	t := newLenSet(n)
	copy(t.w, s.w)
	if rest := n % 64; rest != 0 {
		t.w[len(t.w)-1] &= 1<<rest - 1
	}
	return t
}

func (s lenSet) equal(t lenSet) bool {
	for i := range s.w {
		if s.w[i] != t.w[i] {
			return false
		}
	}
	return true
}

// or sets s to s ∪ t.
func (s lenSet) or(t lenSet) {
	for i := range s.w {
		s.w[i] |= t.w[i]
	}
}

// orShift sets s to s ∪ {x+k : x ∈ t} (lengths past n dropped); s and t
// must not share words.
func (s lenSet) orShift(t lenSet, k int) {
	q, r := k/64, uint(k%64)
	for i := len(s.w) - 1; i >= q; i-- {
		v := t.w[i-q] << r
		if r != 0 && i-q > 0 {
			v |= t.w[i-q-1] >> (64 - r)
		}
		s.w[i] |= v
	}
	if rest := s.n % 64; rest != 0 {
		s.w[len(s.w)-1] &= 1<<rest - 1
	}
}

// sum returns {x+y : x ∈ s, y ∈ t}.
func (s lenSet) sum(t lenSet) lenSet {
	out := newLenSet(s.n)
	for i, w := range t.w {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			w &= w - 1
			out.orShift(s, i*64+b)
		}
	}
	return out
}

// upTo returns the sums of 1 to k elements of s (k ≥ 1), by doubling:
// the sums of 1..a+b elements are those of 1..a, of 1..b, and a sum of
// one of each.
func (s lenSet) upTo(k int) lenSet {
	var acc lenSet // 1..(bits of k seen so far)
	p := s.clone() // 1..2^i
	for {
		if k&1 != 0 {
			if acc.w == nil {
				acc = p.clone()
			} else {
				x := acc.sum(p)
				x.or(acc)
				x.or(p)
				acc = x
			}
		}
		if k >>= 1; k == 0 {
			return acc
		}
		x := p.sum(p)
		x.or(p)
		p = x
	}
}

// listOpsReach returns the set of the lengths below n that expressions of
// depth at most depth with at most args arguments per operator have.
// Whether a length exists depends only on the shorter ones, so the set
// below n is a truncation of the set below any larger n: the memo keeps,
// per depth and args, the set for the largest n computed, and every call
// with a smaller n (Lint's and listOpsSources' on the same parameters)
// truncates it.
func listOpsReach(depth, args, n int) lenSet {
	key := [2]int{depth, args}
	listOpsReachMemo.Lock()
	defer listOpsReachMemo.Unlock()
	s, ok := listOpsReachMemo.m[key]
	if ok && s.n >= n {
		return s.truncate(n)
	}
	want := n
	if ok {
		// A sweep over lengths computes O(log) sets, not one per point.
		n = max(n, min(2*s.n, maxSeqLen+listOpsLongestGap+1))
	}
	listOpsReachMemo.computed++
	l := newLenSet(n)
	l.add(1)
	for range depth - 1 {
		// 2 to args expressions of the level below: one, then 1 to args-1.
		u := l.sum(l.upTo(args - 1))
		next := newLenSet(n)
		next.add(1)
		next.orShift(u, 2)
		if next.equal(l) {
			break // deeper trees add no length below n
		}
		l = next
	}
	if listOpsReachMemo.m == nil || len(listOpsReachMemo.m) > 64 {
		listOpsReachMemo.m = map[[2]int]lenSet{}
	}
	listOpsReachMemo.m[key] = l
	return l.truncate(want)
}

var listOpsReachMemo struct {
	sync.Mutex
	m        map[[2]int]lenSet
	computed int // sets computed (not from the memo), for tests
}

// listOpsCounted bounds the lengths whose expressions listOpsSources
// counts one by one: an expression of n tokens has at least (n+2)/3
// digits, so from 31 tokens on every length that exists has more than
// 10^11 expressions.
const listOpsCounted = 31

// listOpsSources returns the number of distinct expressions of lo to hi
// tokens that depth and args make, or limit if at least that many.
func listOpsSources(depth, args, lo, hi, limit int) int {
	// count[n]: expressions of n tokens (n < listOpsCounted), saturated at limit.
	add := func(a, b int) int {
		if a > limit-b {
			return limit
		}
		return a + b
	}
	mul := func(a, b int) int {
		if a != 0 && b > limit/a {
			return limit
		}
		return min(a*b, limit)
	}
	count := make([]int, listOpsCounted)
	count[1] = 10
	for range depth - 1 {
		next := make([]int, listOpsCounted)
		next[1] = 10
		pow := count // sequences of k expressions, by total length
		for k := 2; k <= args && k < listOpsCounted; k++ {
			p := make([]int, listOpsCounted)
			for i, a := range pow {
				for j := 1; a != 0 && i+j < listOpsCounted; j++ {
					p[i+j] = add(p[i+j], mul(a, count[j]))
				}
			}
			pow = p
			for n := 2; n < listOpsCounted; n++ {
				next[n] = add(next[n], mul(len(listOpsOperators), pow[n-2]))
			}
		}
		count = next
	}
	total := 0
	reach := listOpsReach(depth, args, hi+1)
	for n := lo; n <= hi && total < limit; n++ {
		switch {
		case n < listOpsCounted:
			total = add(total, count[n])
		case reach.has(n):
			total = limit
		}
	}
	return total
}

// nearestLengths returns the longest length below lo and the shortest
// above hi that reach holds (0 when there is none).
func nearestLengths(reach lenSet, lo, hi int) (below, above int) {
	for n := lo - 1; n > 0 && below == 0; n-- {
		if reach.has(n) {
			below = n
		}
	}
	for n := hi + 1; n < reach.n && above == 0; n++ {
		if reach.has(n) {
			above = n
		}
	}
	return below, above
}

// Lint refuses, in new experiments (registry.Linter), length ranges that
// no expression has (the run would reject draws until it gave up; the
// test lengths only when test_size draws at them) and valid and test
// sizes larger than the distinct expressions of their lengths (drawn
// distinct, none shared). A size within that count may still fail, since
// train's draws take from the same expressions first, so the message
// names the count, not a size that builds. Runs stored with such
// settings failed; their configurations still load.
func (p *ListOpsParams) Lint() error {
	tlo, thi := orDefault(p.TestMinLen, p.MinLen), orDefault(p.TestMaxLen, p.MaxLen)
	tkey := "test_min_len"
	if p.TestMinLen == 0 {
		tkey = "test_max_len"
	}
	reach := listOpsReach(p.MaxDepth, p.MaxArgs, max(p.MaxLen, thi)+listOpsLongestGap)
	for _, r := range []struct {
		key, keys string
		lo, hi    int
	}{{"min_len", "min_len and max_len", p.MinLen, p.MaxLen}, {tkey, "test_min_len and test_max_len", tlo, thi}} {
		if r.key != "min_len" && p.TestSize == 0 {
			continue // nothing is drawn at the test lengths
		}
		found := false
		for n := r.lo; n <= r.hi && !found; n++ {
			found = reach.has(n)
		}
		if found {
			continue
		}
		// 1 token always exists, and a longer length within
		// listOpsLongestGap: Validate refused ranges past the longest.
		below, above := nearestLengths(reach, r.lo, r.hi)
		near := fmt.Sprintf("the nearest have %d and %d", below, above)
		if above == 0 {
			near = fmt.Sprintf("the nearest below has %d", below)
		}
		return registry.Invalid(r.key, "no expression that max_depth %d and max_args %d make has %d to %d tokens (%s): change %s, or max_depth and max_args",
			p.MaxDepth, p.MaxArgs, r.lo, r.hi, near, r.keys)
	}
	srcs := func(lo, hi int) int { return listOpsSources(p.MaxDepth, p.MaxArgs, lo, hi, maxSplitSize+1) }
	// Only sizes beyond the distinct expressions are certain to fail: a
	// smaller one may fail too, since train's draws (short expressions are
	// the likeliest) take from the same expressions first, so no size is
	// promised.
	switch {
	case p.ValidSize > srcs(p.MinLen, p.MaxLen):
		return registry.Invalid("valid_size", "%d distinct expressions wanted, but max_depth %d and max_args %d make only %d of %d to %d tokens, and train's draws take from the same expressions first: lower valid_size well below that, or widen the lengths",
			p.ValidSize, p.MaxDepth, p.MaxArgs, srcs(p.MinLen, p.MaxLen), p.MinLen, p.MaxLen)
	case p.TestSize > srcs(tlo, thi):
		return registry.Invalid("test_size", "%d distinct expressions wanted, but max_depth %d and max_args %d make only %d of %d to %d tokens, and train's and valid's draws take from the same expressions first: lower test_size well below that, or widen the test lengths",
			p.TestSize, p.MaxDepth, p.MaxArgs, srcs(tlo, thi), tlo, thi)
	case p.ValidSize+p.TestSize > srcs(min(p.MinLen, tlo), max(p.MaxLen, thi)):
		n := srcs(min(p.MinLen, tlo), max(p.MaxLen, thi))
		return registry.Invalid("test_size", "valid_size + test_size = %d distinct expressions wanted, but max_depth %d and max_args %d make only %d of %d to %d tokens, and train's draws take from the same expressions first: lower the sizes well below that, or widen the lengths",
			p.ValidSize+p.TestSize, p.MaxDepth, p.MaxArgs, n, min(p.MinLen, tlo), max(p.MaxLen, thi))
	}
	return nil
}

// listOpsLongestGap is how far past a length range Lint looks for the
// nearest length that exists, to name it.
const listOpsLongestGap = 64
