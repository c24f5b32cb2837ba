package models

import (
	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// selectRows returns the rows idx (with repeats) of t along its first axis,
// or nil for a nil t.
func selectRows(t *tensor.Tensor, idx []int) *tensor.Tensor {
	if t == nil {
		return nil
	}
	return tensor.Gather(t, idx, -1)
}

func selectInts(xs []int, idx []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// headMean averages multi-head weights [B,H,Tq,Tk] over heads; other shapes
// pass through. nil stays nil.
func headMean(w *tensor.Tensor) *tensor.Tensor {
	if w == nil || w.Dims() != 4 {
		return w
	}
	return tensor.Mean(w, 1, false)
}

// stepRows splits one decoding step's weights [N,1,S] (or [N,H,1,S]) into
// per-hypothesis rows cut to each source length.
func stepRows(w *tensor.Tensor, srcLen []int) [][]float32 {
	w = headMean(w)
	if w == nil {
		return nil
	}
	n, s := w.Dim(0), w.Dim(-1)
	rows := make([][]float32, n)
	for i := range rows {
		l := s
		if srcLen != nil {
			l = min(srcLen[i], s)
		}
		rows[i] = append([]float32(nil), w.Data[i*s:i*s+l]...)
	}
	return rows
}

// requestWeights asks variants that skip their weights by default (long
// input variants) to return them.
func requestWeights(on bool, as ...attention.Attention) {
	for _, a := range as {
		if r, ok := a.(attention.WeightsOnRequest); ok {
			r.RequestWeights(on)
		}
	}
}

// lastStep returns row t of every sequence of x [B,T,D] as [B,1,D].
func lastStep(x *tensor.Tensor, t int) *tensor.Tensor {
	return tensor.Narrow(x, 1, t, 1)
}

// logProbs turns logits [N,1,V] or [N,V] into log-probabilities [N,V].
func logProbs(logits *tensor.Tensor) *tensor.Tensor {
	v := logits.Dim(-1)
	return tensor.LogSoftmax(tensor.Reshape(logits, -1, v))
}
