package tensor

import (
	"slices"
	"sync/atomic"
)

// Reshape returns x with a new shape holding the same number of elements;
// one dimension may be -1 and is inferred. The result shares x's data.
func Reshape(x *Tensor, shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	infer, n := -1, 1
	for i, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			panic(errorf("tensor.Reshape: bad shape %v for %v", shape, x.shape))
		default:
			n *= d
		}
	}
	if infer >= 0 {
		if n == 0 || len(x.Data)%n != 0 {
			panic(errorf("tensor.Reshape: cannot infer -1 in %v for %v", shape, x.shape))
		}
		shape[infer] = len(x.Data) / n
		n = len(x.Data)
	}
	if n != len(x.Data) {
		panic(errorf("tensor.Reshape: shape %v does not hold the %d elements of %v", shape, len(x.Data), x.shape))
	}
	out := &Tensor{shape: shape, Data: x.Data, op: "Reshape", view: true}
	if x.requiresGrad {
		out.requiresGrad = true
		out.inputs = []*Tensor{x}
		atomic.AddInt32(&x.uses, 1)
		out.backward = func() { x.accGrad(out.Grad) }
	}
	return out
}

// Transpose swaps dimensions d0 and d1 (negative counts from the end),
// copying the data.
func Transpose(x *Tensor, d0, d1 int) *Tensor {
	r := len(x.shape)
	if d0 < 0 {
		d0 += r
	}
	if d1 < 0 {
		d1 += r
	}
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	if d0 < 0 || d0 >= r || d1 < 0 || d1 >= r {
		panic(errorf("tensor.Transpose: dims %d, %d out of range for %v", d0, d1, x.shape))
	}
	perm[d0], perm[d1] = perm[d1], perm[d0]
	return Permute(x, perm...)
}

// Permute reorders the dimensions: the result's dimension i is x's
// dimension perm[i]. It copies the data.
func Permute(x *Tensor, perm ...int) *Tensor {
	r := len(x.shape)
	if len(perm) != r {
		panic(errorf("tensor.Permute: permutation %v for shape %v", perm, x.shape))
	}
	seen := make([]bool, r)
	shape := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			panic(errorf("tensor.Permute: %v is not a permutation for shape %v", perm, x.shape))
		}
		seen[p] = true
		shape[i] = x.shape[p]
	}
	// Strides of x, reordered to the output's dimensions.
	xs := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		xs[i] = s
		s *= x.shape[i]
	}
	src := make([]int, r)
	for i, p := range perm {
		src[i] = xs[p]
	}
	out := resultFull("Permute", shape, x)
	permuteCopy(out.Data, x.Data, shape, src, false)
	if out.requiresGrad {
		out.backward = func() {
			gx, beta := x.gradDst()
			if beta == 0 {
				clear(gx) // permuteCopy adds; the walk covers every element once
			}
			permuteCopy(out.Grad, gx, shape, src, true)
		}
	}
	return out
}

// permuteCopy walks dst (shape, contiguous) and reads src with the given
// strides; with back set it instead accumulates dst's values into src.
func permuteCopy(dst, src []float32, shape, strides []int, back bool) {
	r := len(shape)
	if len(dst) == 0 {
		return
	}
	if r == 0 {
		if back {
			src[0] += dst[0]
		} else {
			dst[0] = src[0]
		}
		return
	}
	idx := make([]int, r)
	n, inc := shape[r-1], strides[r-1]
	off, o := 0, 0
	for {
		if back {
			for j, p := 0, off; j < n; j, p = j+1, p+inc {
				src[p] += dst[o+j]
			}
		} else {
			for j, p := 0, off; j < n; j, p = j+1, p+inc {
				dst[o+j] = src[p]
			}
		}
		o += n
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			off += strides[k]
			if idx[k] < shape[k] {
				break
			}
			off -= strides[k] * shape[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// Concat joins tensors along axis; all other dimensions must match.
func Concat(axis int, xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic(Error{"tensor.Concat: no tensors"})
	}
	first := xs[0].shape
	if axis < 0 {
		axis += len(first)
	}
	if axis < 0 || axis >= len(first) {
		panic(errorf("tensor.Concat: axis out of range for %v", first))
	}
	shape := append([]int(nil), first...)
	shape[axis] = 0
	for _, x := range xs {
		if len(x.shape) != len(first) {
			panic(errorf("tensor.Concat: shapes %v and %v differ in rank", first, x.shape))
		}
		for i, d := range x.shape {
			if i != axis && d != first[i] {
				panic(errorf("tensor.Concat: shapes %v and %v differ outside axis %d", first, x.shape, axis))
			}
		}
		shape[axis] += x.shape[axis]
	}
	outer := shapeSize(first[:axis])
	inner := shapeSize(first[axis+1:])
	out := resultFull("Concat", shape, xs...)
	row := shape[axis] * inner
	off := 0
	for _, x := range xs {
		w := x.shape[axis] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*row+off:o*row+off+w], x.Data[o*w:(o+1)*w])
		}
		off += w
	}
	if out.requiresGrad {
		out.backward = func() {
			off := 0
			for _, x := range xs {
				w := x.shape[axis] * inner
				if x.requiresGrad {
					// A new gradient buffer is written, not cleared and added to.
					gx, beta := x.gradDst()
					for o := 0; o < outer; o++ {
						g := out.Grad[o*row+off : o*row+off+w]
						dst := gx[o*w : (o+1)*w]
						if beta == 0 {
							copy(dst, g)
						} else {
							AccSlice(dst, g)
						}
					}
				}
				off += w
			}
		}
	}
	return out
}

// Narrow returns the slice [start, start+length) of x along axis (a copy).
func Narrow(x *Tensor, axis, start, length int) *Tensor {
	if axis < 0 {
		axis += len(x.shape)
	}
	if axis < 0 || axis >= len(x.shape) || start < 0 || length < 0 || start+length > x.shape[axis] {
		panic(errorf("tensor.Narrow: axis %d [%d, %d) out of range for %v", axis, start, start+length, x.shape))
	}
	shape := append([]int(nil), x.shape...)
	shape[axis] = length
	outer := shapeSize(x.shape[:axis])
	inner := shapeSize(x.shape[axis+1:])
	row, w, off := x.shape[axis]*inner, length*inner, start*inner
	out := resultFull("Narrow", shape, x)
	if outer == 1 {
		copy(out.Data, x.Data[off:off+w])
	} else {
		for o := 0; o < outer; o++ {
			copy(out.Data[o*w:(o+1)*w], x.Data[o*row+off:o*row+off+w])
		}
	}
	if out.requiresGrad {
		out.backward = func() {
			// A new gradient buffer is written: the slice's part copied,
			// the rest cleared.
			gx, beta := x.gradDst()
			for o := 0; o < outer; o++ {
				r := gx[o*row : (o+1)*row]
				g := out.Grad[o*w : (o+1)*w]
				if beta == 0 {
					clear(r[:off])
					copy(r[off:off+w], g)
					clear(r[off+w:])
				} else {
					AccSlice(r[off:off+w], g)
				}
			}
		}
	}
	return out
}

// Split cuts x along axis into pieces of the given sizes, which must add up
// to the axis length.
func Split(x *Tensor, axis int, sizes ...int) []*Tensor {
	if axis < 0 {
		axis += len(x.shape)
	}
	total := 0
	for _, s := range sizes {
		total += s
	}
	if axis < 0 || axis >= len(x.shape) || total != x.shape[axis] {
		panic(errorf("tensor.Split: sizes %v along axis %d of %v", sizes, axis, x.shape))
	}
	out := make([]*Tensor, len(sizes))
	start := 0
	for i, s := range sizes {
		out[i] = Narrow(x, axis, start, s)
		start += s
	}
	return out
}

// Stack joins tensors of equal shape along a new axis.
func Stack(axis int, xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic(Error{"tensor.Stack: no tensors"})
	}
	r := len(xs[0].shape)
	if axis < 0 {
		axis += r + 1
	}
	if axis < 0 || axis > r {
		panic(errorf("tensor.Stack: axis out of range for %v", xs[0].shape))
	}
	ys := make([]*Tensor, len(xs))
	for i, x := range xs {
		if !slices.Equal(x.shape, xs[0].shape) {
			panic(errorf("tensor.Stack: shapes %v and %v differ", xs[0].shape, x.shape))
		}
		shape := make([]int, 0, r+1)
		shape = append(shape, x.shape[:axis]...)
		shape = append(shape, 1)
		shape = append(shape, x.shape[axis:]...)
		ys[i] = Reshape(x, shape...)
	}
	return Concat(axis, ys...)
}

// Gather returns the rows of table [V, D...] picked by ids, shaped
// [len(ids), D...] (an embedding lookup). Ids equal to padID give a zero row
// and pass no gradient (use -1 for no padding id). The gradient of rows
// picked several times adds up. It panics on an id outside [0, V).
func Gather(table *Tensor, ids []int, padID int) *Tensor {
	if table.Dims() < 1 {
		panic(errorf("tensor.Gather: table of shape %v", table.shape))
	}
	v := table.shape[0]
	d := shapeSize(table.shape[1:])
	shape := append([]int{len(ids)}, table.shape[1:]...)
	out := result("Gather", shape, table)
	for i, id := range ids {
		if id == padID {
			continue
		}
		if id < 0 || id >= v {
			panic(errorf("tensor.Gather: id %d out of range for table %v", id, table.shape))
		}
		copy(out.Data[i*d:(i+1)*d], table.Data[id*d:(id+1)*d])
	}
	if out.requiresGrad {
		out.backward = func() {
			gt := table.grad()
			for i, id := range ids {
				if id == padID {
					continue
				}
				AccSlice(gt[id*d:(id+1)*d], out.Grad[i*d:(i+1)*d])
			}
		}
	}
	return out
}

// TakeRows returns the rows of x picked by rows, shaped as shape: x is seen
// as rows of its last dimension D, whatever its other dimensions, and row
// i of the result is x's row rows[i], or zeros where rows[i] is −1. shape
// must hold len(rows) rows of D. It is one op, without Reshape's copies of
// gradients: the Transformer blocks use it to gather the real rows of a
// padded batch [B,T,D] into [N,D] and to scatter them back (rows: the
// slots of the B·T positions, −1 for padding). The gradient of a row
// picked several times adds up. It panics on a row outside x.
func TakeRows(x *Tensor, rows []int, shape ...int) *Tensor {
	if x.Dims() < 1 || len(shape) < 1 || shape[len(shape)-1] != x.shape[len(x.shape)-1] || shapeSize(shape) != len(rows)*shape[len(shape)-1] {
		panic(errorf("tensor.TakeRows: %d rows of %v as %v", len(rows), x.shape, shape))
	}
	d := x.shape[len(x.shape)-1]
	n := 0
	if d > 0 {
		n = len(x.Data) / d
	}
	for _, r := range rows {
		if r < -1 || r >= n {
			panic(errorf("tensor.TakeRows: row %d of %v (%d rows)", r, x.shape, n))
		}
	}
	out := resultFull("TakeRows", append([]int(nil), shape...), x)
	grain := max(1, parGrain/max(d, 1)) // rows per hand-off
	ParallelFor(len(rows), grain, func(lo, hi int) {
		for i, r := range rows[lo:hi] {
			dst := out.Data[(lo+i)*d:][:d]
			if r < 0 {
				clear(dst)
			} else {
				copy(dst, x.Data[r*d:(r+1)*d])
			}
		}
	})
	if out.requiresGrad {
		out.backward = func() {
			gx, beta := x.gradDst()
			covered := distinctRows(rows, n)
			if covered == nil {
				// A row picked twice: its gradients add up, in order.
				if beta == 0 {
					clear(gx)
				}
				for i, r := range rows {
					if r >= 0 {
						AccSlice(gx[r*d:(r+1)*d], out.Grad[i*d:(i+1)*d])
					}
				}
				return
			}
			// Each row of x receives at most one row of the gradient: the
			// rows split across threads, and a fresh gradient is written
			// (its rows not picked cleared), not cleared and added to.
			if beta == 0 {
				ParallelFor(n, grain, func(lo, hi int) {
					for r := lo; r < hi; r++ {
						if !covered[r] {
							clear(gx[r*d : (r+1)*d])
						}
					}
				})
			}
			ParallelFor(len(rows), grain, func(lo, hi int) {
				for i, r := range rows[lo:hi] {
					if r < 0 {
						continue
					}
					g := out.Grad[(lo+i)*d:][:d]
					if beta == 0 {
						copy(gx[r*d:(r+1)*d], g)
					} else {
						AccSlice(gx[r*d:(r+1)*d], g)
					}
				}
			})
		}
	}
	return out
}

// distinctRows returns which of n rows rows picks, or nil if it picks one
// twice (−1 picks none).
func distinctRows(rows []int, n int) []bool {
	covered := make([]bool, n)
	for _, r := range rows {
		if r < 0 {
			continue
		}
		if covered[r] {
			return nil
		}
		covered[r] = true
	}
	return covered
}

// Where returns mask ? a : b elementwise, where mask holds 0 or 1 and
// broadcasts to the common shape of a and b, which must be equal. mask
// receives no gradient.
func Where(mask, a, b *Tensor) *Tensor {
	if !slices.Equal(a.shape, b.shape) {
		panic(errorf("tensor.Where: shapes %v and %v differ", a.shape, b.shape))
	}
	shape := append([]int(nil), a.shape...)
	if bs := broadcastShape("Where", shape, mask.shape); !slices.Equal(bs, shape) {
		panic(errorf("tensor.Where: mask %v does not broadcast to %v", mask.shape, shape))
	}
	out := resultFull("Where", shape, a, b)
	it := newIter(shape, mask.shape, nil)
	it.each(func(o, im, _, n, incm, _ int) {
		for j := 0; j < n; j++ {
			if mask.Data[im+j*incm] != 0 {
				out.Data[o+j] = a.Data[o+j]
			} else {
				out.Data[o+j] = b.Data[o+j]
			}
		}
	})
	if out.requiresGrad {
		out.backward = func() {
			var ga, gb []float32
			if a.requiresGrad {
				ga = a.grad()
			}
			if b.requiresGrad {
				gb = b.grad()
			}
			it.each(func(o, im, _, n, incm, _ int) {
				for j := 0; j < n; j++ {
					g := out.Grad[o+j]
					if mask.Data[im+j*incm] != 0 {
						if ga != nil {
							ga[o+j] += g
						}
					} else if gb != nil {
						gb[o+j] += g
					}
				}
			})
		}
	}
	return out
}
