package attention

import (
	"github.com/attnlab/attnlab/tensor"
)

// A window lists, for every query of every head, the keys a score is
// computed for: all Tk keys (a full window, dense attention) or a band of W
// keys start … start+W−1 (local and sliding-window attention). Scores,
// weights and their gradients over a window are laid out [B,H,Tq,W]. A pair
// is kept when its key exists and the mask (with the site's causal rule)
// keeps it; the kernels below skip the others, which get weight exactly 0
// and no gradient.
type window struct {
	b, h, tq, tk, w int
	m               *maskView
	full            bool
	perHead         bool   // start and keep differ per head (else head 0's serve all)
	start           []int  // [B·H'·Tq] first key of each window (H' = H when perHead, else 1)
	keep            []bool // [B·H'·Tq·W]
}

// fullWindow is the window of dense attention: every key of every query.
func fullWindow(c *call) *window {
	return &window{b: c.b, h: c.h, tq: c.tq, tk: c.tk, w: c.tk, m: &c.m, full: true}
}

// bandWindow is the window of W keys starting at start[r] for the query
// row r = (b·H'+h)·Tq+i (H' = H when perHead, else 1).
func bandWindow(c *call, width int, start []int, perHead bool) *window {
	w := &window{b: c.b, h: c.h, tq: c.tq, tk: c.tk, w: width, m: &c.m, perHead: perHead, start: start}
	w.keep = make([]bool, len(start)*width)
	hh := w.rowHeads()
	for r, s := range start {
		bb, i := r/(hh*c.tq), r%c.tq
		lo, hi := max(0, s), min(c.tk, s+width)
		for j := lo; j < hi; j++ {
			w.keep[r*width+j-s] = c.m.keep(bb, i, j)
		}
	}
	return w
}

func (w *window) rowHeads() int {
	if w.perHead {
		return w.h
	}
	return 1
}

// row returns the index of query (b,h,i) in start and keep.
func (w *window) row(b, h, i int) int {
	if !w.perHead {
		h = 0
	}
	return (b*w.rowHeads()+h)*w.tq + i
}

// key returns the key of slot x of query (b,h,i)'s window and whether the
// pair is kept.
func (w *window) key(b, h, i, x int) (int, bool) {
	if w.full {
		return x, w.m.keep(b, i, x)
	}
	r := w.row(b, h, i)
	if !w.keep[r*w.w+x] {
		return 0, false
	}
	return w.start[r] + x, true
}

// first returns the key of slot 0 of query (b,h,i)'s window.
func (w *window) first(b, h, i int) int {
	if w.full {
		return 0
	}
	return w.start[w.row(b, h, i)]
}

// each calls f for every kept pair: output index o = ((b·H+h)·Tq+i)·W+x,
// key j.
func (w *window) each(f func(b, h, i, x, j, o int)) {
	for bb := 0; bb < w.b; bb++ {
		for h := 0; h < w.h; h++ {
			for i := 0; i < w.tq; i++ {
				o := ((bb*w.h+h)*w.tq + i) * w.w
				for x := 0; x < w.w; x++ {
					if j, ok := w.key(bb, h, i, x); ok {
						f(bb, h, i, x, j, o+x)
					}
				}
			}
		}
	}
}

// windowDot returns S [B,H,Tq,W] with S = scale · q_h[b,i]·k_h[b,j] for the
// kept pairs (0 elsewhere), for q [B,Tq,H·d] and k [B,Tk,H·d].
func windowDot(q, k *tensor.Tensor, scale float32, w *window) *tensor.Tensor {
	ld := q.Dim(2)
	d := ld / w.h
	s := tensor.Scratch(w.b * w.h * w.tq * w.w) // recycled with the result (Custom's data)
	w.each(func(b, h, i, _, j, o int) {
		qi := q.Data[(b*w.tq+i)*ld+h*d:][:d]
		kj := k.Data[(b*w.tk+j)*ld+h*d:][:d]
		var acc float32
		for y, qv := range qi {
			acc += qv * kj[y]
		}
		s[o] = scale * acc
	})
	return tensor.Custom("WindowDot", s, []int{w.b, w.h, w.tq, w.w}, []*tensor.Tensor{q, k}, func(out *tensor.Tensor, g [][]float32) {
		w.each(func(b, h, i, _, j, o int) {
			gs := scale * out.Grad[o]
			if gs == 0 {
				return
			}
			qo, ko := (b*w.tq+i)*ld+h*d, (b*w.tk+j)*ld+h*d
			if g[0] != nil {
				axpy(g[0][qo:qo+d], gs, k.Data[ko:])
			}
			if g[1] != nil {
				axpy(g[1][ko:ko+d], gs, q.Data[qo:])
			}
		})
	})
}

// windowAdditive returns S [B,H,Tq,W] with
// S = Σ_a v[h,a] · tanh(qa_h[b,i,a] + ka_h[b,j,a]) for the kept pairs (0
// elsewhere), for qa [B,Tq,H·A], ka [B,Tk,H·A] (any bias already added) and
// v [H,A] (or [A] for one head). The backward pass recomputes the tanh
// instead of storing [B,H,Tq,W,A].
func windowAdditive(qa, ka, v *tensor.Tensor, w *window) *tensor.Tensor {
	ld := qa.Dim(2)
	a := ld / w.h
	s := tensor.Scratch(w.b * w.h * w.tq * w.w) // recycled with the result (Custom's data)
	w.each(func(b, h, i, _, j, o int) {
		s[o] = tensor.AddTanhDot(qa.Data[(b*w.tq+i)*ld+h*a:][:a], ka.Data[(b*w.tk+j)*ld+h*a:], v.Data[h*a:])
	})
	return tensor.Custom("WindowAdditive", s, []int{w.b, w.h, w.tq, w.w}, []*tensor.Tensor{qa, ka, v}, func(out *tensor.Tensor, g [][]float32) {
		gq, gk, gv := g[0], g[1], g[2]
		dq := make([]float32, a)
		dvh := make([]float32, a)
		for bb := 0; bb < w.b; bb++ {
			for h := 0; h < w.h; h++ {
				vh := v.Data[h*a : (h+1)*a]
				clear(dvh)
				for i := 0; i < w.tq; i++ {
					qi := qa.Data[(bb*w.tq+i)*ld+h*a:][:a]
					o := ((bb*w.h+h)*w.tq + i) * w.w
					clear(dq)
					for x := 0; x < w.w; x++ {
						gs := out.Grad[o+x]
						if gs == 0 {
							continue
						}
						j, ok := w.key(bb, h, i, x)
						if !ok {
							continue
						}
						var gkj []float32
						if gk != nil {
							gkj = gk[(bb*w.tk+j)*ld+h*a:]
						}
						tensor.AddTanhDotGrad(qi, ka.Data[(bb*w.tk+j)*ld+h*a:], vh, gs, dq, gkj, dvh)
					}
					if gq != nil {
						axpy(gq[(bb*w.tq+i)*ld+h*a:][:a], 1, dq)
					}
				}
				if gv != nil {
					axpy(gv[h*a:(h+1)*a], 1, dvh)
				}
			}
		}
	})
}

// windowSoftmax returns the weights P [B,H,Tq,W]: for each query a softmax
// of its scores s [B,H,Tq,W] (plus the position bias, if any) over the
// kept pairs of its window, 0 at the others; a query with no kept pair gets
// a zero row, never NaN. Scores of −Inf (a score's own exclusions, as
// location's keys beyond max_len) count as masked.
func windowSoftmax(s *tensor.Tensor, w *window, bias *biasCall) *tensor.Tensor {
	p := tensor.Scratch(len(s.Data)) // recycled with the result (Custom's data)
	copy(p, s.Data)
	for bb := 0; bb < w.b; bb++ {
		for h := 0; h < w.h; h++ {
			for i := 0; i < w.tq; i++ {
				o := ((bb*w.h+h)*w.tq + i) * w.w
				x := p[o : o+w.w]
				if w.full {
					if bias != nil {
						axpy(x, 1, bias.row(w.m, bb, h, i, 0))
					}
					w.m.maskRow(x, bb, i, 0)
				} else {
					r := w.row(bb, h, i)
					keep := w.keep[r*w.w:][:w.w]
					for y, k := range keep {
						switch {
						case !k:
							x[y] = negInf
						case bias != nil:
							x[y] += bias.at(w.m, bb, h, i, w.start[r]+y)
						}
					}
				}
				softmaxRow(x)
			}
		}
	}
	return tensor.Custom("WindowSoftmax", p, s.Shape(), []*tensor.Tensor{s, bias.input()}, func(out *tensor.Tensor, g [][]float32) {
		ds := make([]float32, w.w)
		dtab := bias.grads(g[1])
		for r := 0; r+w.w <= len(out.Data); r += w.w {
			softmaxBackward(ds, out.Grad[r:r+w.w], out.Data[r:r+w.w], w.w)
			if g[0] != nil {
				axpy(g[0][r:r+w.w], 1, ds)
			}
			if dtab != nil {
				q := r / w.w // (b·H+h)·Tq+i
				bb, h, i := q/(w.h*w.tq), (q/w.tq)%w.h, q%w.tq
				j0 := w.first(bb, h, i)
				for x, d := range ds {
					if d != 0 {
						dtab[h*bias.n+j0+x-w.m.pos(bb, i)-bias.lo] += d
					}
				}
			}
		}
		bias.backward(dtab, g[1])
	})
}

// windowSum returns the context C [B,Tq,H·dv] with
// C_h[b,i] = Σ_x P[b,h,i,x] v_h[b,start+x] over the kept pairs, for weights
// P [B,H,Tq,W] and values v [B,Tk,H·dv]. A full window is one GEMM per head.
func windowSum(p, v *tensor.Tensor, w *window) *tensor.Tensor {
	if w.full {
		return weightedSum(p, v, w.m)
	}
	ld := v.Dim(2)
	dv := ld / w.h
	c := tensor.Scratch(w.b * w.tq * ld) // recycled with the result (Custom's data)
	w.each(func(b, h, i, _, j, o int) {
		axpy(c[(b*w.tq+i)*ld+h*dv:][:dv], p.Data[o], v.Data[(b*w.tk+j)*ld+h*dv:])
	})
	return tensor.Custom("WindowSum", c, []int{w.b, w.tq, ld}, []*tensor.Tensor{p, v}, func(out *tensor.Tensor, g [][]float32) {
		w.each(func(b, h, i, _, j, o int) {
			gc := out.Grad[(b*w.tq+i)*ld+h*dv:][:dv]
			vj := v.Data[(b*w.tk+j)*ld+h*dv:][:dv]
			if g[0] != nil {
				var acc float32
				for y, gv := range gc {
					acc += gv * vj[y]
				}
				g[0][o] += acc
			}
			if g[1] != nil {
				axpy(g[1][(b*w.tk+j)*ld+h*dv:][:dv], p.Data[o], gc)
			}
		})
	})
}

// scatter returns weights over a window as the dense [B,H,Tq,Tk] matrix
// (0 outside the window), without gradient, for heatmaps.
func (w *window) scatter(p *tensor.Tensor) *tensor.Tensor {
	if w.full {
		return p.Detach()
	}
	out := tensor.New(w.b, w.h, w.tq, w.tk)
	w.each(func(b, h, i, _, j, o int) {
		out.Data[((b*w.h+h)*w.tq+i)*w.tk+j] = p.Data[o]
	})
	return out
}
