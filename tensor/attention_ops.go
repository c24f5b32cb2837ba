package tensor

import "sync/atomic"

// Custom returns the result of an op defined outside this package: a tensor
// of the given shape holding data (used, not copied), made from inputs. data
// must belong to the result alone (no input's or other result's memory):
// Release recycles it with the result.
//
// When any input requires gradients, the result records the inputs and, in
// the backward pass, backward is called once with the result (its Grad holds
// dL/dresult, its Data the values) and one slice per input to which backward
// must add dL/dinput: grads[i] is inputs[i]'s gradient buffer, or nil when
// inputs[i] is nil or does not require gradients. An input listed twice gets
// the same buffer twice, so adding keeps the sum right. backward must add,
// never assign, and must not keep the slices after it returns.
//
// Fused kernels (attention over key blocks, kernelised linear attention) use
// Custom so that forward and backward stay in one place and intermediate
// results live only in the closure. Custom panics if len(data) does not match
// shape or backward is nil while an input requires gradients.
func Custom(op string, data []float32, shape []int, inputs []*Tensor, backward func(out *Tensor, grads [][]float32)) *Tensor {
	n := checkShape("Custom", shape)
	if len(data) != n {
		panic(errorf("tensor.Custom(%s): %d values for shape %v (want %d)", op, len(data), shape, n))
	}
	out := &Tensor{shape: append([]int(nil), shape...), Data: data, op: op}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			out.inputs = append(out.inputs, in)
			out.requiresGrad = true
			atomic.AddInt32(&in.uses, 1)
		}
	}
	if !out.requiresGrad {
		return out
	}
	if backward == nil {
		panic(errorf("tensor.Custom(%s): nil backward for inputs that require gradients", op))
	}
	ins := append([]*Tensor(nil), inputs...)
	out.backward = func() {
		grads := make([][]float32, len(ins))
		for i, in := range ins {
			if in != nil && in.requiresGrad {
				grads[i] = in.grad()
			}
		}
		backward(out, grads)
	}
	return out
}
