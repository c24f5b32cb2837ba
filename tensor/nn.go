package tensor

import (
	"math"
)

// Dropout zeroes each element of x with probability p and scales the others
// by 1/(1−p) (inverted dropout), drawing from rng. When training is false or
// p is 0 it returns x itself.
func Dropout(x *Tensor, p float32, rng *RNG, training bool) *Tensor {
	if !training || p <= 0 {
		return x
	}
	if p >= 1 {
		return Scale(x, 0)
	}
	out := resultFull("Dropout", append([]int(nil), x.shape...), x)
	var keep []float32
	if out.requiresGrad {
		keep = allocDirty(len(x.Data))
		out.Keep(keep)
	} else {
		keep = make([]float32, len(x.Data))
	}
	scale := 1 / (1 - p)
	for i := range keep {
		keep[i] = 0
		if rng.Float32() >= p {
			keep[i] = scale
		}
	}
	for i, v := range x.Data {
		out.Data[i] = v * keep[i]
	}
	if out.requiresGrad {
		out.backward = func() {
			gx := x.grad()
			for i, g := range out.Grad {
				gx[i] += g * keep[i]
			}
		}
	}
	return out
}

// LayerNorm normalises x over its last axis with the biased variance:
// y = (x − mean)/√(var + eps) ⊙ gamma + beta. gamma and beta (shape [D])
// may be nil for no affine transform. Forward and backward each take one
// kernel call per row (AVX-512 or AVX2+FMA assembly where the CPU has
// it): the forward pass keeps the normalised values for the backward pass,
// which accumulates the gradients of x, gamma and beta together.
func LayerNorm(x, gamma, beta *Tensor, eps float32) *Tensor {
	if x.Dims() == 0 {
		panic(Error{"tensor.LayerNorm: scalar input"})
	}
	d := x.shape[len(x.shape)-1]
	if (gamma != nil && gamma.Len() != d) || (beta != nil && beta.Len() != d) {
		panic(errorf("tensor.LayerNorm: x %v with gamma %v, beta %v", x.shape, shapeOf(gamma), shapeOf(beta)))
	}
	rows := len(x.Data) / max(d, 1)
	out := resultFull("LayerNorm", append([]int(nil), x.shape...), x, gamma, beta)
	if rows == 0 || d == 0 {
		return out
	}
	// h holds the normalised rows (x − mean)·rstd, stats each row's mean
	// and rstd; both are kept for the backward pass.
	var h, stats []float32
	if out.requiresGrad {
		h, stats = allocDirty(rows*d), allocDirty(2*rows)
		out.Keep(h, stats)
	}
	ones, zeros := lnAffine(gamma, beta, d)
	grain := max(1, parGrain/2/d) // rows
	ParallelFor(rows, grain, func(lo, hi int) {
		hr, st := h, stats
		if h == nil { // no gradient: one scratch row per chunk
			hr, st = allocDirty(d), make([]float32, 2)
			defer free(hr)
		}
		for r := lo; r < hi; r++ {
			if h != nil {
				hr, st = h[r*d:(r+1)*d], stats[2*r:2*r+2]
			}
			lnForwardRow(out.Data[r*d:(r+1)*d], hr, x.Data[r*d:(r+1)*d], ones, zeros, eps, st)
		}
	})
	if !out.requiresGrad {
		return out
	}
	out.backward = func() {
		// Rows go to several threads; gamma's and beta's gradients are
		// summed by blocks of rows (rowBlock), then the blocks in order, so
		// the result does not depend on the number of threads.
		var gx []float32
		fresh := false
		if x.requiresGrad {
			var beta float32
			gx, beta = x.gradDst()
			fresh = beta == 0 // a new buffer: each row is written, not added to
		}
		var gg, gb []float32
		if gamma != nil && gamma.requiresGrad {
			gg = gamma.grad()
		}
		if beta != nil && beta.requiresGrad {
			gb = beta.grad()
		}
		nb := (rows + rowBlock - 1) / rowBlock
		part := allocDirty(2 * nb * d) // per block: gamma's sum, beta's
		ParallelFor(rows, rowBlock, func(lo, hi int) {
			var scratch []float32
			if gx == nil {
				scratch = allocDirty(d)
				defer free(scratch)
			}
			for r0 := lo; r0 < hi; r0 += rowBlock {
				pg := part[2*(r0/rowBlock)*d:][:2*d]
				clear(pg)
				for r := r0; r < min(r0+rowBlock, hi); r++ {
					gxr := scratch
					if gx != nil {
						gxr = gx[r*d : (r+1)*d]
					}
					// A new buffer (or the scratch row) is written, not
					// added to: no clearing first.
					lnBackwardRow(gxr, pg[:d], pg[d:], out.Grad[r*d:(r+1)*d], h[r*d:(r+1)*d], ones, stats[2*r+1], fresh || gx == nil)
				}
			}
		})
		for i := 0; i < nb; i++ {
			if gg != nil {
				AccSlice(gg, part[2*i*d:(2*i+1)*d])
			}
			if gb != nil {
				AccSlice(gb, part[(2*i+1)*d:(2*i+2)*d])
			}
		}
		free(part)
	}
	return out
}

// lnAffine returns gamma's and beta's values, or ones and zeros for a nil
// one.
func lnAffine(gamma, beta *Tensor, d int) (g, b []float32) {
	if gamma != nil {
		g = gamma.Data
	} else {
		g = make([]float32, d)
		for i := range g {
			g[i] = 1
		}
	}
	if beta != nil {
		b = beta.Data
	} else {
		b = make([]float32, d)
	}
	return g, b
}

// lnForwardRowGo is the forward row kernel in Go: h = (x − mean)·rstd,
// y = h·gamma + beta, st = {mean, rstd}, the sums in float32 as the
// assembly's.
func lnForwardRowGo(y, h, x, gamma, beta []float32, eps float32, st []float32) {
	n := float32(len(x))
	var s float32
	for _, v := range x {
		s += v
	}
	mean := s / n
	var ss float32
	for _, v := range x {
		dv := v - mean
		ss += dv * dv
	}
	rstd := 1 / float32(math.Sqrt(float64(ss/n+eps)))
	h, y, gamma, beta = h[:len(x)], y[:len(x)], gamma[:len(x)], beta[:len(x)]
	for i, v := range x {
		hv := (v - mean) * rstd
		h[i] = hv
		y[i] = hv*gamma[i] + beta[i]
	}
	st[0], st[1] = mean, rstd
}

// lnBackwardRowGo is the backward row kernel in Go: with dh = gy·gamma,
// gg += gy·h, gb += gy, gx += rstd·(dh − mean(dh) − h·mean(dh·h)).
func lnBackwardRowGo(gx, gg, gb, gy, h, gamma []float32, rstd float32, set bool) {
	n := float32(len(gy))
	var s1, s2 float32
	h, gamma, gg, gb, gx = h[:len(gy)], gamma[:len(gy)], gg[:len(gy)], gb[:len(gy)], gx[:len(gy)]
	for i, g := range gy {
		dh := g * gamma[i]
		s1 += dh
		s2 += dh * h[i]
		gg[i] += g * h[i]
		gb[i] += g
	}
	m1, m2 := s1/n, s2/n
	if set {
		for i, g := range gy {
			gx[i] = rstd * (g*gamma[i] - m1 - h[i]*m2)
		}
		return
	}
	for i, g := range gy {
		gx[i] += rstd * (g*gamma[i] - m1 - h[i]*m2)
	}
}

func shapeOf(t *Tensor) []int {
	if t == nil {
		return nil
	}
	return t.shape
}

// CrossEntropy returns the mean token cross-entropy between logits
// [..., V] and integer targets (one per row of logits), ignoring rows whose
// target is ignoreIndex (the pad id): the sum over the other rows divided by
// their number, as PyTorch's F.cross_entropy(ignore_index=..., reduction
// "mean"). With label smoothing eps each row's loss is
// (1−eps)·(−log p[target]) + eps·mean_c(−log p[c]). The result is a scalar;
// it is 0 (with zero gradient) when every row is ignored. The softmax and
// the loss are fused, forward and backward. It panics on a target outside
// [0, V) that is not ignoreIndex.
func CrossEntropy(logits *Tensor, targets []int, ignoreIndex int, smoothing float32) *Tensor {
	return crossEntropy("CrossEntropy", logits, targets, ignoreIndex, smoothing, 0)
}

// CrossEntropyShare is CrossEntropy for rows that are part of a larger
// batch: their summed loss divided by of, the number of targets in the
// whole batch that are not ignoreIndex (of > 0), so that the shares of a
// batch's parts add up to the batch's mean loss, and the gradient each
// row receives is the one CrossEntropy over the whole batch gives it, bit
// for bit.
func CrossEntropyShare(logits *Tensor, targets []int, ignoreIndex int, smoothing float32, of int) *Tensor {
	if of < 1 {
		panic(errorf("tensor.CrossEntropyShare: a share of %d targets", of))
	}
	return crossEntropy("CrossEntropyShare", logits, targets, ignoreIndex, smoothing, of)
}

// crossEntropy is CrossEntropy dividing by of, or (of = 0) by the number
// of targets that are not ignored.
func crossEntropy(op string, logits *Tensor, targets []int, ignoreIndex int, smoothing float32, of int) *Tensor {
	if logits.Dims() == 0 {
		panic(errorf("tensor.%s: scalar logits", op))
	}
	v := logits.shape[len(logits.shape)-1]
	rows := len(logits.Data) / max(v, 1)
	if len(targets) != rows {
		panic(errorf("tensor.%s: %d targets for logits %v", op, len(targets), logits.shape))
	}
	out := result(op, []int{}, logits)
	var logp []float32
	if out.requiresGrad {
		logp = alloc(len(logits.Data))
		out.Keep(logp)
	} else {
		logp = make([]float32, len(logits.Data))
	}
	count := 0
	for _, t := range targets {
		if t == ignoreIndex {
			continue
		}
		if t < 0 || t >= v {
			panic(errorf("tensor.%s: target %d out of range for %d classes", op, t, v))
		}
		count++
	}
	live := count > 0 // rows with a target
	if of > 0 {
		count = of
	}
	// Rows go to several threads; their losses are summed in row order.
	nll := make([]float64, rows)
	eps := float64(smoothing)
	ParallelFor(rows, max(1, parGrain/4/max(v, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			t := targets[r]
			if t == ignoreIndex {
				continue
			}
			lp := logp[r*v : (r+1)*v]
			logSoftmaxRow(lp, logits.Data[r*v:(r+1)*v])
			l := -float64(lp[t])
			if eps != 0 {
				var s float64
				for _, x := range lp {
					s -= float64(x)
				}
				l = (1-eps)*l + eps*s/float64(v)
			}
			nll[r] = l
		}
	})
	var total float64
	for r, t := range targets {
		if t != ignoreIndex {
			total += nll[r]
		}
	}
	if live {
		out.Data[0] = float32(total / float64(count))
	}
	if out.requiresGrad && live {
		out.backward = func() {
			g := logits.grad()
			scale := out.Grad[0] / float32(count)
			off := smoothing / float32(v)
			ParallelFor(rows, max(1, parGrain/4/max(v, 1)), func(lo, hi int) {
				p := allocDirty(v) // softmax of the row
				defer free(p)
				for r := lo; r < hi; r++ {
					t := targets[r]
					if t == ignoreIndex {
						continue
					}
					lp, gr := logp[r*v:(r+1)*v], g[r*v:(r+1)*v]
					ExpSlice(p, lp)
					for c, pc := range p {
						q := off
						if c == t {
							q += 1 - smoothing
						}
						gr[c] += scale * (pc - q)
					}
				}
			})
		}
	}
	return out
}
