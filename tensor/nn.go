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
// may be nil for no affine transform.
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
	mean := make([]float32, rows)
	rstd := make([]float32, rows)
	for r := 0; r < rows; r++ {
		xs, ys := x.Data[r*d:(r+1)*d], out.Data[r*d:(r+1)*d]
		var s float64
		for _, v := range xs {
			s += float64(v)
		}
		mu := s / float64(d)
		var ss float64
		for _, v := range xs {
			dv := float64(v) - mu
			ss += dv * dv
		}
		rs := 1 / math.Sqrt(ss/float64(d)+float64(eps))
		mean[r], rstd[r] = float32(mu), float32(rs)
		m, q := float32(mu), float32(rs)
		for i, v := range xs {
			h := (v - m) * q
			if gamma != nil {
				h *= gamma.Data[i]
			}
			if beta != nil {
				h += beta.Data[i]
			}
			ys[i] = h
		}
	}
	if out.requiresGrad {
		out.backward = func() {
			var gx, gg, gb []float32
			if x.requiresGrad {
				gx = x.grad()
			}
			if gamma != nil && gamma.requiresGrad {
				gg = gamma.grad()
			}
			if beta != nil && beta.requiresGrad {
				gb = beta.grad()
			}
			dxhat := make([]float32, d)
			for r := 0; r < rows; r++ {
				xs, gy := x.Data[r*d:(r+1)*d], out.Grad[r*d:(r+1)*d]
				m, q := mean[r], rstd[r]
				var s1, s2 float64
				for i, g := range gy {
					h := (xs[i] - m) * q
					if gg != nil {
						gg[i] += g * h
					}
					if gb != nil {
						gb[i] += g
					}
					dh := g
					if gamma != nil {
						dh *= gamma.Data[i]
					}
					dxhat[i] = dh
					s1 += float64(dh)
					s2 += float64(dh * h)
				}
				if gx == nil {
					continue
				}
				m1, m2 := float32(s1/float64(d)), float32(s2/float64(d))
				g := gx[r*d : (r+1)*d]
				for i := range g {
					h := (xs[i] - m) * q
					g[i] += q * (dxhat[i] - m1 - h*m2)
				}
			}
		}
	}
	return out
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
	if logits.Dims() == 0 {
		panic(Error{"tensor.CrossEntropy: scalar logits"})
	}
	v := logits.shape[len(logits.shape)-1]
	rows := len(logits.Data) / max(v, 1)
	if len(targets) != rows {
		panic(errorf("tensor.CrossEntropy: %d targets for logits %v", len(targets), logits.shape))
	}
	out := result("CrossEntropy", []int{}, logits)
	var logp []float32
	if out.requiresGrad {
		logp = alloc(len(logits.Data))
		out.Keep(logp)
	} else {
		logp = make([]float32, len(logits.Data))
	}
	count := 0
	var total float64
	eps := float64(smoothing)
	for r, t := range targets {
		if t == ignoreIndex {
			continue
		}
		if t < 0 || t >= v {
			panic(errorf("tensor.CrossEntropy: target %d out of range for %d classes", t, v))
		}
		lp := logp[r*v : (r+1)*v]
		logSoftmaxRow(lp, logits.Data[r*v:(r+1)*v])
		nll := -float64(lp[t])
		if eps != 0 {
			var s float64
			for _, x := range lp {
				s -= float64(x)
			}
			nll = (1-eps)*nll + eps*s/float64(v)
		}
		total += nll
		count++
	}
	if count > 0 {
		out.Data[0] = float32(total / float64(count))
	}
	if out.requiresGrad && count > 0 {
		out.backward = func() {
			g := logits.grad()
			scale := out.Grad[0] / float32(count)
			off := smoothing / float32(v)
			p := make([]float32, v) // softmax of the row
			for r, t := range targets {
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
		}
	}
	return out
}
