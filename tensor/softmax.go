package tensor

import (
	"math"
	"slices"
)

// Softmax returns the softmax over the last axis.
func Softmax(x *Tensor) *Tensor { return MaskedSoftmax(x, nil) }

// MaskedSoftmax returns the softmax over the last axis of x where only the
// positions whose keep-mask value is non-zero take part. mask (nil: no mask)
// must broadcast to x's shape, e.g. a key-padding mask [B,1,Tk] for scores
// [B,Tq,Tk]. Masked positions get exactly 0 and receive exactly 0 gradient;
// a row whose every position is masked is all zeros (never NaN, never
// uniform). mask receives no gradient.
func MaskedSoftmax(x, mask *Tensor) *Tensor {
	if x.Dims() == 0 {
		panic(Error{"tensor.MaskedSoftmax: scalar input"})
	}
	n := x.shape[len(x.shape)-1]
	rows := len(x.Data) / max(n, 1)
	out := resultFull("Softmax", append([]int(nil), x.shape...), x)
	var moff []int
	minc := 0
	if mask != nil {
		moff, minc = maskRows("MaskedSoftmax", x.shape, mask.shape)
	}
	grain := max(1, parGrain/4/max(n, 1)) // rows
	ParallelFor(rows, grain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs := x.Data[r*n : (r+1)*n]
			ys := out.Data[r*n : (r+1)*n]
			if mask == nil {
				softmaxRow(ys, xs)
				continue
			}
			softmaxRowMasked(ys, xs, mask.Data[moff[r]:], minc)
		}
	})
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			ParallelFor(rows, grain, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					softmaxBackRow(gx[r*n:(r+1)*n], out.Grad[r*n:(r+1)*n], out.Data[r*n:(r+1)*n])
				}
			})
		}
	}
	return out
}

func softmaxRow(y, x []float32) { SoftmaxSlice(y, x) }

func softmaxRowMasked(y, x, mask []float32, minc int) {
	y = y[:len(x)]
	if minc == 0 { // one mask value for the whole row
		if mask[0] != 0 {
			SoftmaxSlice(y, x)
		} else {
			clear(y)
		}
		return
	}
	// Masked positions become −Inf, whose exponential is exactly 0.
	seen := false
	for i, v := range x {
		if mask[i*minc] != 0 {
			seen = true
			y[i] = v
		} else {
			y[i] = float32(math.Inf(-1))
		}
	}
	if !seen {
		clear(y)
		return
	}
	SoftmaxSlice(y, y)
}

// softmaxBackRow accumulates dx = y ⊙ (dy − Σ dy⊙y).
func softmaxBackRow(gx, gy, y []float32) {
	var dot float64
	for i, g := range gy {
		dot += float64(g * y[i])
	}
	d := float32(dot)
	for i, g := range gy {
		gx[i] += y[i] * (g - d)
	}
}

// maskRows returns, for each row (all dimensions but the last) of a tensor
// of shape xs, the offset of the matching mask row, and the mask's stride
// along the row (0 when the mask is constant across it).
func maskRows(op string, xs, ms []int) ([]int, int) {
	if bs := broadcastShape(op, xs, ms); !slices.Equal(bs, xs) {
		panic(errorf("tensor.%s: mask %v does not broadcast to %v", op, ms, xs))
	}
	st := bstrides(xs, ms)
	r := len(xs) - 1
	rows := shapeSize(xs[:r])
	offs := make([]int, rows)
	idx := make([]int, r)
	off := 0
	for i := 0; i < rows; i++ {
		offs[i] = off
		for k := r - 1; k >= 0; k-- {
			idx[k]++
			off += st[k]
			if idx[k] < xs[k] {
				break
			}
			off -= st[k] * xs[k]
			idx[k] = 0
		}
	}
	return offs, st[r]
}

// LogSoftmax returns log(softmax(x)) over the last axis, computed stably.
func LogSoftmax(x *Tensor) *Tensor {
	if x.Dims() == 0 {
		panic(Error{"tensor.LogSoftmax: scalar input"})
	}
	n := x.shape[len(x.shape)-1]
	rows := len(x.Data) / max(n, 1)
	out := resultFull("LogSoftmax", append([]int(nil), x.shape...), x)
	grain := max(1, parGrain/4/max(n, 1)) // rows
	ParallelFor(rows, grain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			logSoftmaxRow(out.Data[r*n:(r+1)*n], x.Data[r*n:(r+1)*n])
		}
	})
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			ParallelFor(rows, grain, func(lo, hi int) {
				logSoftmaxBackRows(gx, out.Grad, out.Data, n, lo, hi)
			})
		}
	}
	return out
}

// logSoftmaxBackRows adds LogSoftmax's input gradient of rows lo … hi−1
// (of n) into gx, from the output y and its gradient gy.
func logSoftmaxBackRows(gx, gy, y []float32, n, lo, hi int) {
	p := allocDirty(n) // softmax of the row
	defer free(p)
	for r := lo; r < hi; r++ {
		yr, gr, g := y[r*n:(r+1)*n], gy[r*n:(r+1)*n], gx[r*n:(r+1)*n]
		var s float64
		for _, v := range gr {
			s += float64(v)
		}
		sf := float32(s)
		ExpSlice(p, yr)
		for i, v := range gr {
			g[i] += v - p[i]*sf
		}
	}
}

// logSoftmaxRow writes x − max − log Σ exp(x − max) into y (which holds
// the exponentials meanwhile). A NaN in x makes the whole row NaN.
func logSoftmaxRow(y, x []float32) {
	m := MaxSlice(x)
	s := ExpShiftSum(y, x, m)
	lse := m + float32(math.Log(s))
	y = y[:len(x)]
	for i, v := range x {
		y[i] = v - lse
	}
}
