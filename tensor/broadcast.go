package tensor

// broadcastShape returns the NumPy broadcast of shapes a and b, or panics
// naming op and both shapes.
func broadcastShape(op string, a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			panic(errorf("tensor.%s: shapes %v and %v do not broadcast", op, a, b))
		}
	}
	return out
}

// bstrides returns the strides of an operand of shape s aligned to out
// (right-aligned), with 0 for broadcast dimensions.
func bstrides(out, s []int) []int {
	st := make([]int, len(out))
	stride := 1
	for i := len(s) - 1; i >= 0; i-- {
		j := i + len(out) - len(s)
		if s[i] != 1 {
			st[j] = stride
		}
		stride *= s[i]
	}
	return st
}

// iter walks an output shape row by row (the last, possibly coalesced,
// dimension is the row) with the matching offsets of up to two operands.
type iter struct {
	dims   []int
	sa, sb []int
}

// newIter builds an iterator over out for operands of shapes a and b (b may
// be nil), merging adjacent dimensions that are contiguous for every operand.
func newIter(out, a, b []int) iter {
	sa := bstrides(out, a)
	var sb []int
	if b != nil {
		sb = bstrides(out, b)
	} else {
		sb = make([]int, len(out))
	}
	// Drop size-1 dimensions, then coalesce.
	var dims, ca, cb []int
	for i, d := range out {
		if d == 1 {
			continue
		}
		k := len(dims) - 1
		if k >= 0 && ca[k] == sa[i]*d && cb[k] == sb[i]*d {
			dims[k] *= d
			ca[k], cb[k] = sa[i], sb[i]
			continue
		}
		dims = append(dims, d)
		ca = append(ca, sa[i])
		cb = append(cb, sb[i])
	}
	if len(dims) == 0 {
		dims, ca, cb = []int{1}, []int{0}, []int{0}
	}
	return iter{dims: dims, sa: ca, sb: cb}
}

// each calls fn for every row: o is the output offset of the row's first
// element, ia and ib the operands' offsets, n the row length, inca and incb
// the operands' strides along the row (0 when broadcast).
func (it iter) each(fn func(o, ia, ib, n, inca, incb int)) {
	for _, d := range it.dims {
		if d == 0 {
			return // an empty tensor has no rows
		}
	}
	r := len(it.dims) - 1
	n, inca, incb := it.dims[r], it.sa[r], it.sb[r]
	if r == 0 {
		fn(0, 0, 0, n, inca, incb)
		return
	}
	idx := make([]int, r)
	o, ia, ib := 0, 0, 0
	for {
		fn(o, ia, ib, n, inca, incb)
		o += n
		k := r - 1
		for ; k >= 0; k-- {
			idx[k]++
			ia += it.sa[k]
			ib += it.sb[k]
			if idx[k] < it.dims[k] {
				break
			}
			ia -= it.sa[k] * it.dims[k]
			ib -= it.sb[k] * it.dims[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}
