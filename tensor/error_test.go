package tensor_test

import (
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// TestMisusePanicsWithError checks that misused ops panic with a
// tensor.Error naming the op (the run executor recovers exactly that type),
// one op from each file that checks its arguments.
func TestMisusePanicsWithError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"FromData", func() { tensor.FromData([]float32{1, 2}, 3) }, "tensor.FromData: 2 values for shape [3]"},
		{"Item", func() { tensor.New(2).Item() }, "tensor.Item"},
		{"At", func() { tensor.New(2, 2).At(2, 0) }, "out of range"},
		{"Reshape", func() { tensor.Reshape(tensor.New(2, 3), 4) }, "tensor.Reshape"},
		{"Add", func() { tensor.Add(tensor.New(2, 3), tensor.New(4)) }, "do not broadcast"},
		{"MatMul", func() { tensor.MatMul(tensor.New(2, 3), tensor.New(2, 3)) }, "tensor.MatMul: inner dimensions differ"},
		{"Gather", func() { tensor.Gather(tensor.New(3, 2), []int{5}, 0) }, "tensor.Gather: id 5"},
		{"TakeRows", func() { tensor.TakeRows(tensor.New(2, 3, 2), []int{6}, 1, 2) }, "tensor.TakeRows: row 6"},
		{"TakeRowsShape", func() { tensor.TakeRows(tensor.New(3, 2), []int{0, 1}, 3, 2) }, "tensor.TakeRows: 2 rows"},
		{"Sum", func() { tensor.Sum(tensor.New(2), 1, false) }, "axis out of range"},
		{"CrossEntropy", func() { tensor.CrossEntropy(tensor.New(1, 3), []int{7}, -1, 0) }, "target 7 out of range"},
		{"LayerNorm", func() { tensor.LayerNorm(tensor.New(2, 3), tensor.New(2), nil, 1e-5) }, "tensor.LayerNorm"},
		{"Backward", func() { tensor.New(2).SetRequiresGrad(true).Backward() }, "tensor.Backward"},
		{"Gemm", func() { tensor.Gemm(false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) }, "blas: m < 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				r := recover()
				e, ok := r.(tensor.Error)
				if !ok {
					t.Fatalf("panic = %#v, want a tensor.Error", r)
				}
				if !strings.Contains(e.Error(), tc.want) {
					t.Fatalf("panic %q, want one containing %q", e.Error(), tc.want)
				}
			}()
			tc.f()
		})
	}
}
