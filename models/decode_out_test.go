package models

import (
	"slices"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// TestStepOutputMatchesGraphOps: the decoding output layer (buffers reused,
// no graph) gives exactly what Linear then LogSoftmax give, step after step
// with different row counts, with and without bias, and falls back to the
// graph when dropout is on.
func TestStepOutputMatchesGraphOps(t *testing.T) {
	rng := tensor.NewRNG(5)
	for _, bias := range []bool{true, false} {
		l := layers.NewLinear(7+5+3, 37, bias)
		l.Init(rng)
		drop := layers.NewDropout(0.5)
		drop.Init(rng)
		drop.Training = false
		var o stepOutput
		for step, n := range []int{4, 9, 2, 9} {
			parts := []*tensor.Tensor{tensor.New(n, 1, 7), tensor.New(n, 5), tensor.New(n, 1, 3)}
			for _, p := range parts {
				for i := range p.Data {
					p.Data[i] = float32(rng.Float64()*6 - 3)
				}
			}
			want := logProbs(l.Forward(tensor.Concat(-1, tensor.Reshape(parts[0], n, 7), parts[1], tensor.Reshape(parts[2], n, 3))))
			got := o.logProbs(l, drop, parts)
			if !slices.Equal(got.Shape(), []int{n, 37}) {
				t.Fatalf("step %d: shape %v, want [%d 37]", step, got.Shape(), n)
			}
			for i := range want.Data {
				if got.Data[i] != want.Data[i] {
					t.Fatalf("bias %v, step %d: element %d is %v, want %v (Linear, LogSoftmax)", bias, step, i, got.Data[i], want.Data[i])
				}
			}
			// One part is used as it is.
			one := o.logProbs(l, drop, []*tensor.Tensor{tensor.Concat(-1, tensor.Reshape(parts[0], n, 7), parts[1], tensor.Reshape(parts[2], n, 3))})
			for i := range want.Data {
				if one.Data[i] != want.Data[i] {
					t.Fatalf("one part: element %d is %v, want %v", i, one.Data[i], want.Data[i])
				}
			}
		}
		// Dropout on (training mode): the features are dropped.
		drop.Training = true
		parts := []*tensor.Tensor{tensor.Full(1, 3, 1, 10), tensor.Full(1, 3, 5)}
		lp := o.logProbs(l, drop, parts)
		noDrop := logProbs(l.Forward(tensor.Full(1, 3, 15)))
		same := true
		for i := range lp.Data {
			same = same && lp.Data[i] == noDrop.Data[i]
		}
		if same {
			t.Fatal("dropout in training mode left the features alone")
		}
	}
}
