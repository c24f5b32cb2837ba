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
	return custom("Custom", op, data, shape, inputs, backward, nil)
}

// CustomDst is Custom for a backward pass that writes every element of each
// gradient it is given (the op's inputs are covered whole, as attention's
// heads cover their projections): grads[i] may be a fresh buffer holding
// garbage, and betas[i] says how to write it — 0: assign (the buffer is
// new), 1: add (it already holds gradients) — as GEMM's beta does. This
// saves clearing buffers that would be overwritten at once. An input listed
// twice gets one cleared buffer and beta 1 everywhere.
func CustomDst(op string, data []float32, shape []int, inputs []*Tensor, backward func(out *Tensor, grads [][]float32, betas []float32)) *Tensor {
	return custom("CustomDst", op, data, shape, inputs, nil, backward)
}

func custom(name, op string, data []float32, shape []int, inputs []*Tensor, backward func(out *Tensor, grads [][]float32), dst func(out *Tensor, grads [][]float32, betas []float32)) *Tensor {
	n := checkShape(name, shape)
	if len(data) != n {
		panic(errorf("tensor.%s(%s): %d values for shape %v (want %d)", name, op, len(data), shape, n))
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
	if backward == nil && dst == nil {
		panic(errorf("tensor.%s(%s): nil backward for inputs that require gradients", name, op))
	}
	ins := append([]*Tensor(nil), inputs...)
	out.backward = func() {
		grads := make([][]float32, len(ins))
		if dst == nil {
			for i, in := range ins {
				if in != nil && in.requiresGrad {
					grads[i] = in.grad()
				}
			}
			backward(out, grads)
			return
		}
		betas := make([]float32, len(ins))
		for i, in := range ins {
			if in == nil || !in.requiresGrad {
				continue
			}
			twice := false
			for j, o := range ins {
				twice = twice || (j != i && o == in)
			}
			if twice {
				grads[i], betas[i] = in.grad(), 1
			} else {
				grads[i], betas[i] = in.gradDst()
			}
		}
		dst(out, grads, betas)
	}
	return out
}
