package layers

import (
	"slices"

	"github.com/attnlab/attnlab/tensor"
)

// The recurrent kernels run one layer and one direction over a whole padded
// sequence as a single autodiff op (tensor.Custom): the forward loop does
// one GEMM per step (h·W_hh, to which the gate arithmetic adds the
// precomputed x·W_ih + b) and the gate arithmetic in place; the backward
// pass is back-propagation through time over the saved activations, with
// one GEMM per step for dh and a single GEMM over all steps for dW_hh.
// Packed-sequence semantics are applied per row: a row past its length
// keeps its state, outputs 0 and passes its state gradient through
// unchanged. Steps are packed as PyTorch's packed sequences are (see
// packing): each step's products run over the rows still running only.

// seqArgs are the operands of a kernel.
type seqArgs struct {
	xw      *tensor.Tensor // [B,T,G·H]: x·W_ih + b, batch-major
	whh     *tensor.Tensor // [H,G·H]
	bhn     *tensor.Tensor // GRU: [H]
	h0, c0  *tensor.Tensor // [B,H] or nil for zeros
	lengths []int          // nil: every row has T steps
	reverse bool
	b, t, h int
}

// lens returns each row's length and the longest one.
func (a *seqArgs) lens() ([]int, int) {
	lens := make([]int, a.b)
	longest := 0
	for i := range lens {
		lens[i] = a.t
		if a.lengths != nil {
			lens[i] = a.lengths[i]
		}
		longest = max(longest, lens[i])
	}
	return lens, longest
}

func (a *seqArgs) tracked() bool {
	for _, t := range []*tensor.Tensor{a.xw, a.whh, a.bhn, a.h0, a.c0} {
		if t != nil && t.RequiresGrad() {
			return true
		}
	}
	return false
}

// kernelResult splits the flat result of a kernel: outputs [B,T,H], then
// the final h [B,H] and, for an LSTM, the final c [B,H].
func kernelResult(y *tensor.Tensor, a *seqArgs, lstm bool) (*tensor.Tensor, State) {
	bth, bh := a.b*a.t*a.h, a.b*a.h
	out := tensor.Reshape(tensor.Narrow(y, 0, 0, bth), a.b, a.t, a.h)
	s := State{H: tensor.Reshape(tensor.Narrow(y, 0, bth, bh), a.b, a.h)}
	if lstm {
		s.C = tensor.Reshape(tensor.Narrow(y, 0, bth+bh, bh), a.b, a.h)
	}
	return out, s
}

// bufs allocates a kernel's buffers: from tensor's pools when the result
// will be part of a training graph (tensor.Release recycles the result and
// the saved state), plainly otherwise.
type bufs struct {
	pooled bool
	saved  [][]float32 // pooled buffers other than the result's own data
	first  bool
}

func newBufs(track bool) *bufs { return &bufs{pooled: track, first: true} }

// get returns a zeroed buffer of n values; the first one is the result's
// data, the others are saved state to keep with the result.
func (b *bufs) get(n int) []float32 { return b.take(n, true) }

// getDirty is get for saved state the kernel writes before any read of
// it: it skips the clearing (in W2, clearing the LSTMs' saved gates and
// states was about 4 % of a training step).
func (b *bufs) getDirty(n int) []float32 { return b.take(n, false) }

func (b *bufs) take(n int, zero bool) []float32 {
	if !b.pooled {
		return make([]float32, n)
	}
	var s []float32
	if zero {
		s = tensor.Scratch(n)
	} else {
		s = tensor.ScratchDirty(n)
	}
	if !b.first {
		b.saved = append(b.saved, s)
	}
	b.first = false
	return s
}

// seqRun is what both kernels share: the sizes, each row's length, the
// number of steps run (the longest row), whether gradients are tracked, and
// the buffers.
type seqRun struct {
	seqArgs
	g       int // width of the fused gates, G·H
	lens    []int
	steps   int
	track   bool
	buf     *bufs
	bth, bh int  // B·T·H and B·H
	hasC    bool // the state has a cell part (LSTM)
}

// newSeqRun prepares a kernel with the given number of gate blocks; lstm
// says whether the state has a cell part.
func newSeqRun(a seqArgs, gates int, lstm bool) *seqRun {
	lens, steps := a.lens()
	track := a.tracked()
	return &seqRun{seqArgs: a, g: gates * a.h, lens: lens, steps: steps, track: track, buf: newBufs(track),
		bth: a.b * a.t * a.h, bh: a.b * a.h, hasC: lstm}
}

// result returns the kernel's result buffer y (outputs [B,T,H], then the
// final h and, for an LSTM, the final c) and its parts, with h and c
// starting from h0 and c0.
func (r *seqRun) result() (y, out, h, c []float32) {
	n := r.bth + r.bh
	if r.hasC {
		n += r.bh
	}
	y = r.buf.get(n)
	out, h = y[:r.bth], y[r.bth:r.bth+r.bh]
	if r.h0 != nil {
		copy(h, r.h0.Data)
	}
	if r.hasC {
		c = y[r.bth+r.bh:]
		if r.c0 != nil {
			copy(c, r.c0.Data)
		}
	}
	return y, out, h, c
}

// timeOf returns the time step of the s-th step run: s forwards, counted
// back from the last step of the longest row in reverse.
func (r *seqRun) timeOf(s int) int {
	if r.reverse {
		return r.steps - 1 - s
	}
	return s
}

// gradOut splits the gradient of a kernel's result: the outputs' part, and
// copies of the final state's parts (h, and c for an LSTM; nil for a GRU)
// that the backward pass turns into the initial state's gradients. The
// copies come from tensor's free lists: give them back with tensor.Recycle.
func (r *seqRun) gradOut(yt *tensor.Tensor) (gout, dh, dc []float32) {
	gy := yt.Grad
	gout = gy[:r.bth]
	dh = tensor.ScratchDirty(r.bh)
	copy(dh, gy[r.bth:r.bth+r.bh])
	if r.hasC {
		dc = tensor.ScratchDirty(r.bh)
		copy(dc, gy[r.bth+r.bh:])
	}
	return gout, dh, dc
}

// op makes y the kernel's autodiff op, with backward when gradients are
// tracked, and splits it into the outputs and the final state.
func (r *seqRun) op(name string, y []float32, inputs []*tensor.Tensor, backward func(*tensor.Tensor, [][]float32)) (*tensor.Tensor, State) {
	return r.opDst(name, y, inputs, func(yt *tensor.Tensor, grads [][]float32, _ []float32) { backward(yt, grads) }, false)
}

// opDst is op for a backward pass that writes its gradients with betas
// (tensor.CustomDst) when dst is set, and adds them (tensor.Custom)
// otherwise, betas then nil.
func (r *seqRun) opDst(name string, y []float32, inputs []*tensor.Tensor, backward func(*tensor.Tensor, [][]float32, []float32), dst bool) (*tensor.Tensor, State) {
	if !r.track {
		// No graph (decoding, evaluation): the outputs and the final
		// state are views of y, not copies (a decoder steps once per
		// token).
		bth, bh := r.bth, r.bh
		s := State{H: tensor.FromData(y[bth:bth+bh], r.b, r.h)}
		if r.hasC {
			s.C = tensor.FromData(y[bth+bh:bth+2*bh], r.b, r.h)
		}
		return tensor.FromData(y[:bth], r.b, r.t, r.h), s
	}
	var yt *tensor.Tensor
	switch {
	case dst:
		yt = tensor.CustomDst(name, y, []int{len(y)}, inputs, backward)
	default:
		yt = tensor.Custom(name, y, []int{len(y)}, inputs, func(yt *tensor.Tensor, grads [][]float32) { backward(yt, grads, nil) })
	}
	yt.Keep(r.buf.saved...)
	return kernelResult(yt, &r.seqArgs, r.hasC)
}

// packing orders a kernel's batch rows for packed steps, as PyTorch's
// pack_padded_sequence does: rows by length, longest first, so that the
// rows running at any step are a prefix of that order, and each step's
// products and saved state cover only them. The state of a row that is not
// running (finished, or in reverse not yet started) is kept as it is.
type packing struct {
	perm  []int // batch rows by length, longest first (stable)
	ident bool  // perm is the identity
	n     []int // n[s]: rows running at step s
	off   []int // off[s]: rows run before step s; off[steps] is the total
}

func newPacking(r *seqRun) packing {
	p := packing{perm: make([]int, r.b), ident: true, n: make([]int, r.steps), off: make([]int, r.steps+1)}
	for i := range p.perm {
		p.perm[i] = i
	}
	lens := r.lens
	if !slices.IsSortedFunc(p.perm, func(x, y int) int { return lens[y] - lens[x] }) {
		slices.SortStableFunc(p.perm, func(x, y int) int { return lens[y] - lens[x] })
		p.ident = false
	}
	for s := range p.n {
		t := r.timeOf(s)
		for _, b := range p.perm {
			if lens[b] <= t {
				break
			}
			p.n[s]++
		}
		p.off[s+1] = p.off[s] + p.n[s]
	}
	return p
}

// gather copies rows of w values from src, in batch order, to dst in
// packing order; scatter copies them back.
func (p *packing) gather(dst, src []float32, w int) {
	for i, b := range p.perm {
		copy(dst[i*w:(i+1)*w], src[b*w:(b+1)*w])
	}
}

func (p *packing) scatter(dst, src []float32, w int) {
	for i, b := range p.perm {
		copy(dst[b*w:(b+1)*w], src[i*w:(i+1)*w])
	}
}

// state returns a copy of a [B,W] state in packing order, from tensor's
// free lists (give it back with tensor.Recycle), or x itself when the
// order is the batch's.
func (p *packing) state(x []float32, w int) []float32 {
	if p.ident {
		return x
	}
	y := tensor.ScratchDirty(len(x))
	p.gather(y, x, w)
	return y
}

// unstate copies y, a state from state, back to x in batch order and
// recycles it (nothing to do when state returned x itself).
func (p *packing) unstate(x, y []float32, w int) {
	if p.ident {
		return
	}
	p.scatter(x, y, w)
	tensor.Recycle(y)
}

// lstmSequence runs the LSTM kernel and returns the outputs [B,T,H] and
// the final state. Steps are packed (see packing): step s runs the n[s]
// longest rows, and what it saves for the backward pass is kept row after
// row, step after step, n[s] rows each.
func lstmSequence(a seqArgs) (*tensor.Tensor, State) {
	r := newSeqRun(a, 4, true)
	bs, ts, hs, g, steps, lens, track, buf := r.b, r.t, r.h, r.g, r.steps, r.lens, r.track, r.buf
	y, out, hy, cy := r.result()
	p := newPacking(r)
	total := p.off[steps]
	// Saved when gradients are needed, per row run: the state before the
	// step, the activated gates, and tanh of the new cell state. Each is
	// written in full.
	var hprev, cprev, acts, tcs []float32
	if track {
		hprev = buf.getDirty(total * hs)
		cprev = buf.getDirty(total * hs)
		acts = buf.getDirty(total * g)
		tcs = buf.getDirty(total * hs)
	} else {
		acts = make([]float32, bs*g+hs)
		acts, tcs = acts[:bs*g], acts[bs*g:] // tcs: one row's tanh(c)
	}
	h, c := p.state(hy, hs), p.state(cy, hs)
	xw, whh := a.xw.Data, a.whh.Data
	defer freezeSteps(a.whh, steps)()
	for s := 0; s < steps; s++ {
		t, n, o := r.timeOf(s), p.n[s], p.off[s]
		act := acts
		if track {
			act = acts[o*g : (o+n)*g]
			copy(hprev[o*hs:(o+n)*hs], h)
			copy(cprev[o*hs:(o+n)*hs], c)
		}
		// act = h·W_hh for the running rows; LSTMCell adds x·W_ih + b.
		tensor.Gemm(false, false, n, g, hs, 1, h, hs, whh, g, 0, act, g)
		for i, b := range p.perm[:n] {
			th := tcs[:hs]
			if track {
				th = tcs[(o+i)*hs : (o+i+1)*hs]
			}
			tensor.LSTMCell(act[i*g:(i+1)*g], xw[(b*ts+t)*g:(b*ts+t+1)*g], c[i*hs:(i+1)*hs], th, h[i*hs:(i+1)*hs], out[(b*ts+t)*hs:(b*ts+t+1)*hs])
		}
	}
	p.unstate(hy, h, hs)
	p.unstate(cy, c, hs)
	return r.opDst("LSTMSeq", y, []*tensor.Tensor{a.xw, a.whh, a.h0, a.c0}, func(yt *tensor.Tensor, grads [][]float32, betas []float32) {
		gout, dhy, dcy := r.gradOut(yt)
		defer tensor.Recycle(dhy)
		defer tensor.Recycle(dcy)
		dh, dc := p.state(dhy, hs), p.state(dcy, hs)
		// The gates' gradient dG, per row run as acts (written in full).
		dg := tensor.ScratchDirty(total * g)
		defer tensor.Recycle(dg)
		defer freezeSteps(a.whh, steps)()
		for s := steps - 1; s >= 0; s-- {
			t, n, o := r.timeOf(s), p.n[s], p.off[s]
			for i, b := range p.perm[:n] {
				k := o + i
				tensor.LSTMCellGrad(acts[k*g:(k+1)*g], dg[k*g:(k+1)*g], tcs[k*hs:(k+1)*hs],
					cprev[k*hs:(k+1)*hs], gout[(b*ts+t)*hs:(b*ts+t+1)*hs], dh[i*hs:(i+1)*hs], dc[i*hs:(i+1)*hs])
			}
			// dh_prev = dG·W_hhᵀ for the running rows; the others' state
			// gradient passes through.
			tensor.Gemm(false, true, n, hs, g, 1, dg[o*g:(o+n)*g], g, whh, g, 1, dh, hs)
		}
		p.unstate(dhy, dh, hs)
		p.unstate(dcy, dc, hs)
		// d(x·W_ih + b): dG where a step ran, 0 elsewhere.
		if gx := grads[0]; gx != nil {
			write := betas[0] == 0
			for s := 0; s < steps; s++ {
				t, o := r.timeOf(s), p.off[s]
				for i, b := range p.perm[:p.n[s]] {
					dst, src := gx[(b*ts+t)*g:(b*ts+t+1)*g], dg[(o+i)*g:(o+i+1)*g]
					if write {
						copy(dst, src)
					} else {
						tensor.AccSlice(dst, src)
					}
				}
			}
			if write {
				for b, n := range lens {
					clear(gx[(b*ts+n)*g : (b+1)*ts*g])
				}
			}
		}
		// dW_hh = Σ h_prevᵀ·dG over the rows run.
		if gw := grads[1]; gw != nil {
			if total > 0 {
				tensor.Gemm(true, false, hs, g, total, 1, hprev, hs, dg, g, betas[1], gw, g)
			} else if betas[1] == 0 {
				clear(gw)
			}
		}
		writeTo(grads[2], dhy, betas[2])
		writeTo(grads[3], dcy, betas[3])
	}, true)
}

// writeTo adds src into dst (beta 1) or copies it (beta 0); dst nil: nothing.
func writeTo(dst, src []float32, beta float32) {
	switch {
	case dst == nil:
	case beta == 0:
		copy(dst, src)
	default:
		tensor.AccSlice(dst, src)
	}
}

// gruSequence runs the GRU kernel and returns the outputs [B,T,H] and the
// final state, with packed steps as lstmSequence.
func gruSequence(a seqArgs) (*tensor.Tensor, State) {
	r := newSeqRun(a, 3, false)
	bs, ts, hs, g, steps, track, buf := r.b, r.t, r.h, r.g, r.steps, r.track, r.buf
	y, out, hy, _ := r.result()
	p := newPacking(r)
	total := p.off[steps]
	// Saved per row run: the state before the step and r, z, n and
	// hn = h·W_hn + b_hn (4H per row), each written in full.
	var hprev, acts []float32
	if track {
		hprev = buf.getDirty(total * hs)
		acts = buf.getDirty(total * 4 * hs)
	} else {
		// Without gradients (decoding: one step per call) the step's
		// temporaries come from tensor's free lists, not fresh memory,
		// uncleared: a row's gates are written before they are read.
		acts = tensor.ScratchDirty(bs * 4 * hs)
		defer tensor.Recycle(acts)
	}
	hw := tensor.ScratchDirty(bs * g) // written by the product (beta 0)
	defer tensor.Recycle(hw)
	h := p.state(hy, hs)
	xw, whh, bhn := a.xw.Data, a.whh.Data, a.bhn.Data
	defer freezeSteps(a.whh, steps)()
	for s := 0; s < steps; s++ {
		t, n, o := r.timeOf(s), p.n[s], p.off[s]
		act := acts
		if track {
			act = acts[o*4*hs : (o+n)*4*hs]
			copy(hprev[o*hs:(o+n)*hs], h)
		}
		tensor.Gemm(false, false, n, g, hs, 1, h, hs, whh, g, 0, hw, g)
		for i, b := range p.perm[:n] {
			x := xw[(b*ts+t)*g : (b*ts+t+1)*g]
			hr := hw[i*g : (i+1)*g]
			row := act[i*4*hs : (i+1)*4*hs]
			hb := h[i*hs : (i+1)*hs]
			ob := out[(b*ts+t)*hs : (b*ts+t+1)*hs]
			// r, z = σ(x + h·W) over both blocks at once; then
			// n = tanh(x_n + r⊙(h·W_n + b_hn)).
			rz := row[:2*hs]
			tensor.AddSlice(rz, x[:2*hs], hr[:2*hs])
			tensor.SigmoidSlice(rz, rz)
			for j := range hb {
				hn := hr[2*hs+j] + bhn[j]
				row[3*hs+j] = hn
				row[2*hs+j] = x[2*hs+j] + row[j]*hn
			}
			tensor.TanhSlice(row[2*hs:3*hs], row[2*hs:3*hs])
			for j := range hb {
				z, n := row[hs+j], row[2*hs+j]
				nh := n + z*(hb[j]-n)
				hb[j], ob[j] = nh, nh
			}
		}
	}
	p.unstate(hy, h, hs)
	return r.op("GRUSeq", y, []*tensor.Tensor{a.xw, a.whh, a.h0, a.bhn}, func(yt *tensor.Tensor, grads [][]float32) {
		gout, dhy, _ := r.gradOut(yt)
		defer tensor.Recycle(dhy)
		dh := p.state(dhy, hs)
		// Per row run, as acts, written in full: d(x·W_ih + b) and
		// d(h·W_hh).
		dx := tensor.ScratchDirty(total * g)
		dhw := tensor.ScratchDirty(total * g)
		defer tensor.Recycle(dx)
		defer tensor.Recycle(dhw)
		gb := grads[3]
		defer freezeSteps(a.whh, steps)()
		for s := steps - 1; s >= 0; s-- {
			t, n, o := r.timeOf(s), p.n[s], p.off[s]
			for i, b := range p.perm[:n] {
				k := o + i
				row := acts[k*4*hs : (k+1)*4*hs]
				dxr := dx[k*g : (k+1)*g]
				dhr := dhw[k*g : (k+1)*g]
				hp := hprev[k*hs : (k+1)*hs]
				dhb := dh[i*hs : (i+1)*hs]
				gob := gout[(b*ts+t)*hs : (b*ts+t+1)*hs]
				for j := 0; j < hs; j++ {
					r, z, n, hn := row[j], row[hs+j], row[2*hs+j], row[3*hs+j]
					dht := dhb[j] + gob[j]
					dn := dht * (1 - z)
					dz := dht * (hp[j] - n)
					dpn := dn * (1 - n*n)
					dpr := dpn * hn * r * (1 - r)
					dpz := dz * z * (1 - z)
					dhn := dpn * r
					dxr[j], dxr[hs+j], dxr[2*hs+j] = dpr, dpz, dpn
					dhr[j], dhr[hs+j], dhr[2*hs+j] = dpr, dpz, dhn
					if gb != nil {
						gb[j] += dhn
					}
					dhb[j] = dht * z
				}
			}
			// dh_prev += d(h·W_hh)·W_hhᵀ for the running rows.
			tensor.Gemm(false, true, n, hs, g, 1, dhw[o*g:(o+n)*g], g, whh, g, 1, dh, hs)
		}
		p.unstate(dhy, dh, hs)
		if gx := grads[0]; gx != nil {
			for s := 0; s < steps; s++ {
				t, o := r.timeOf(s), p.off[s]
				for i, b := range p.perm[:p.n[s]] {
					tensor.AccSlice(gx[(b*ts+t)*g:(b*ts+t+1)*g], dx[(o+i)*g:(o+i+1)*g])
				}
			}
		}
		if gw := grads[1]; gw != nil && total > 0 {
			tensor.Gemm(true, false, hs, g, total, 1, hprev, hs, dhw, g, 1, gw, g)
		}
		writeTo(grads[2], dhy, 1)
	})
}

// freezeSteps packs the recurrent weight w once for the steps of a
// sequence (tensor.FreezeValues) instead of once per step's product, when
// there is more than one step and the kernels gain from it (packSteps);
// its result undoes that (deferred, so that a panic cannot leave a weight
// frozen that the optimizer then changes).
func freezeSteps(w *tensor.Tensor, steps int) (unfreeze func()) {
	if steps < 2 || !packSteps() {
		return func() {}
	}
	return tensor.FreezeValues(w)
}

// packSteps is tensor.PackSteps; tests set it to run both ways on every
// CPU.
var packSteps = tensor.PackSteps
