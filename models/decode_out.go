package models

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// stepOutput computes a decoding step's log-probabilities over the target
// vocabulary, log softmax([x_1; …; x_k]·W + b), in buffers that it reuses
// from step to step. The output layer is most of a decoding step's work and
// its results the largest tensors (rows × vocabulary: 1.5 MB for 64 rows
// of 6,000): made afresh at every step, they cost the garbage collector's
// and the kernel's clearing of new memory, where reused buffers stay in
// cache. The values are those of Linear then LogSoftmax: the same
// operations in the same order.
type stepOutput struct {
	x, logp, exp []float32
	in           []float32 // the decoder RNN's input (see Seq2SeqRNN.step)
}

// logProbs returns log softmax(drop([parts…])·W + b) [N, V] for parts
// [N, 1, d_i] or [N, d_i] whose widths add up to l.In. The result is
// overwritten by the next call. With dropout active (training mode) it
// runs the graph ops: Linear, LogSoftmax.
func (o *stepOutput) logProbs(l *layers.Linear, drop *layers.Dropout, parts []*tensor.Tensor) *tensor.Tensor {
	return o.logProbsRows(l, drop, parts, nil)
}

// logProbsRows is logProbs calling each(r, row) with every row r of the
// result as soon as it is final, while it is still in L1 (each may be nil):
// a decoder picks its tokens there (a greedy argmax, a beam's best 2·Beam)
// instead of reading the rows again from further caches once all of them
// are done (64 rows of 6,000 words are 1.5 MB, 320 rows 7.7 MB).
func (o *stepOutput) logProbsRows(l *layers.Linear, drop *layers.Dropout, parts []*tensor.Tensor, each func(r int, row []float32)) *tensor.Tensor {
	n := parts[0].Dim(0)
	k, v := l.In, l.Out
	width := 0
	for _, p := range parts {
		if p.Dim(0) != n || p.Len() != n*p.Dim(-1) {
			panic(fmt.Sprintf("models: output features of shape %v for %d rows", p.Shape(), n))
		}
		width += p.Dim(-1)
	}
	if width != k {
		panic(fmt.Sprintf("models: output features of width %d for an output layer of %d inputs", width, k))
	}
	if drop != nil && drop.Training && drop.P > 0 { // dropout on: not a decoding
		rows := make([]*tensor.Tensor, len(parts))
		for i, p := range parts {
			rows[i] = tensor.Reshape(p, n, p.Dim(-1))
		}
		lp := logProbs(l.Forward(drop.Forward(tensor.Concat(-1, rows...))))
		eachRow(lp, each)
		return lp
	}
	x, ldx := parts[0].Data, k
	if len(parts) > 1 {
		// Rows 64 bytes longer than the features: the product reads x
		// by rows in place, and rows 4 KiB apart (k = 1,024) share L1
		// sets (W6's beam product ran ~15% slower, m = 320).
		ldx = k + 16
		o.x = grow(o.x, n*ldx)
		x = o.x
		for r := 0; r < n; r++ {
			off := r * ldx
			for _, p := range parts {
				d := p.Dim(-1)
				off += copy(x[off:], p.Data[r*d:(r+1)*d])
			}
		}
	}
	o.logp = grow(o.logp, n*v)
	o.exp = grow(o.exp, v)
	lp := o.logp
	tensor.Gemm(false, false, n, v, k, 1, x, ldx, l.W.Data, v, 0, lp, v)
	for r := 0; r < n; r++ {
		row := lp[r*v : (r+1)*v]
		if l.B != nil {
			tensor.AccSlice(row, l.B.Data)
		}
		// As tensor.LogSoftmax: x − max − log Σ exp(x − max).
		m := tensor.MaxSlice(row)
		s := tensor.ExpShiftSum(o.exp, row, m)
		lse := m + float32(math.Log(s))
		for i := range row {
			row[i] -= lse
		}
		if each != nil {
			each(r, row)
		}
	}
	return tensor.FromData(lp, n, v)
}

// eachRow calls each(r, row) for every row of lp [N, V] (each may be nil).
func eachRow(lp *tensor.Tensor, each func(r int, row []float32)) {
	if each == nil {
		return
	}
	v := lp.Dim(-1)
	for r := 0; r < lp.Len()/v; r++ {
		each(r, lp.Data[r*v:(r+1)*v])
	}
}

// rowStepper is a State whose Step can hand each row of its result to a
// function as soon as the row is final (see stepOutput.logProbsRows).
type rowStepper interface {
	StepRows(tokens []int, each func(r int, row []float32)) (*tensor.Tensor, [][]float32)
}

// stepRowsOf runs st.Step and calls each on every row of its result: while
// the row is still in cache when st is a rowStepper, after the step
// otherwise.
func stepRowsOf(st State, tokens []int, each func(r int, row []float32)) (*tensor.Tensor, [][]float32) {
	if rs, ok := st.(rowStepper); ok {
		return rs.StepRows(tokens, each)
	}
	lp, attn := st.Step(tokens)
	eachRow(lp, each)
	return lp, attn
}

// grow returns s resized to n elements, reallocated only when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
