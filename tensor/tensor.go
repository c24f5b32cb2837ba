package tensor

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
)

// Tensor is an n-dimensional float32 array in row-major order, optionally
// carrying a gradient and, when produced by an op from inputs that require
// gradients, the inputs and the backward function of that op.
//
// Tensors are not safe for concurrent mutation. Ops never modify their inputs;
// the optimizer updates parameters in place between steps.
type Tensor struct {
	shape []int
	// Data holds the values, row-major; len(Data) equals the product of the shape.
	Data []float32
	// Grad holds dL/dData after Backward, or nil when no gradient reached
	// this tensor. It has the length of Data.
	Grad []float32

	requiresGrad bool
	op           string      // name of the op that made this tensor ("" for leaves)
	inputs       []*Tensor   // inputs that require gradients, for the graph walk
	backward     func()      // accumulates into the inputs' Grad from this Grad
	mark         uint64      // visit mark of the last Backward walk
	view         bool        // Data belongs to another tensor (Reshape)
	kept         [][]float32 // saved state released with this tensor (Keep)

	// uses counts the ops that took t as an input needing its gradient
	// (atomically: ops on one input may be built side by side).
	uses int32
	// gradEpi, set by the op that made t, turns t's gradient into that
	// op's first backward step in place, block by block: a consumer that
	// is t's only one and writes t's whole gradient with a GEMM into a
	// fresh buffer may run it as the GEMM's epilogue while the blocks are
	// in cache, and sets gradFused; t's backward then skips that step.
	gradEpi   func(r0, r1, c0, c1 int)
	gradFused bool
}

// New returns a zero tensor of the given shape. A shape with no dimensions
// is a scalar holding one value.
func New(shape ...int) *Tensor {
	n := checkShape("New", shape)
	return &Tensor{shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromData returns a tensor that uses data (not a copy) with the given shape.
// It panics if len(data) does not match the shape.
func FromData(data []float32, shape ...int) *Tensor {
	n := checkShape("FromData", shape)
	if len(data) != n {
		panic(errorf("tensor.FromData: %d values for shape %v (want %d)", len(data), shape, n))
	}
	return &Tensor{shape: append([]int(nil), shape...), Data: data}
}

// Scalar returns a tensor of shape [] holding v.
func Scalar(v float32) *Tensor { return &Tensor{Data: []float32{v}} }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

func checkShape(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(errorf("tensor.%s: negative dimension in shape %v", op, shape))
		}
		n *= d
	}
	return n
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Dims returns the number of dimensions.
func (t *Tensor) Dims() int { return len(t.shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Item returns the single value of a one-element tensor; it panics otherwise.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(errorf("tensor.Item: tensor of shape %v has %d elements", t.shape, len(t.Data)))
	}
	return t.Data[0]
}

// At returns the element at the given index (one coordinate per dimension).
func (t *Tensor) At(idx ...int) float32 { return t.Data[t.offset(idx)] }

// Set sets the element at the given index.
func (t *Tensor) Set(v float32, idx ...int) { t.Data[t.offset(idx)] = v }

func (t *Tensor) offset(idx []int) int {
	if len(idx) != len(t.shape) {
		panic(errorf("tensor: index %v for shape %v", idx, t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(errorf("tensor: index %v out of range for shape %v", idx, t.shape))
		}
		off = off*t.shape[i] + x
	}
	return off
}

// Op returns the name of the op that produced t, or "" for a leaf.
func (t *Tensor) Op() string { return t.op }

// RequiresGrad reports whether gradients flow to or through t.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

// SetRequiresGrad marks a leaf tensor (a parameter) as requiring gradients
// and returns t. It panics on a tensor produced by an op.
func (t *Tensor) SetRequiresGrad(on bool) *Tensor {
	if t.backward != nil {
		panic(Error{"tensor.SetRequiresGrad: not a leaf tensor (made by " + t.op + ")"})
	}
	t.requiresGrad = on
	return t
}

// ZeroGrad clears t's gradient (keeping its buffer).
func (t *Tensor) ZeroGrad() {
	g := t.Grad
	parallelElems(len(g), func(lo, hi int) { clear(g[lo:hi]) })
}

// Detach returns a leaf tensor sharing t's data, outside any graph.
func (t *Tensor) Detach() *Tensor { return &Tensor{shape: t.shape, Data: t.Data} }

// ShareData makes the leaf t use src's data (src has t's shape) from now
// on, keeping its own gradient: a second copy of a model whose parameters
// are the first's, run on another part of a batch beside it, accumulates
// its gradients apart from the first's. GraphBytes counts the data once,
// as src's. It panics if t is not a leaf or the shapes differ.
func (t *Tensor) ShareData(src *Tensor) {
	if t.backward != nil || len(t.inputs) != 0 {
		panic(Error{"tensor.ShareData: not a leaf tensor (made by " + t.op + ")"})
	}
	if !slices.Equal(t.shape, src.shape) {
		panic(errorf("tensor.ShareData: shape %v, source %v", t.shape, src.shape))
	}
	t.Data, t.view = src.Data, true
}

// Clone returns a leaf tensor with a copy of t's data.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{shape: append([]int(nil), t.shape...), Data: append([]float32(nil), t.Data...)}
}

// String formats the shape and, for small tensors, the values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v", t.shape)
	if len(t.Data) <= 16 {
		fmt.Fprintf(&b, "%v", t.Data)
	}
	return b.String()
}

// grad returns t.Grad, allocating a zero gradient on first use.
func (t *Tensor) grad() []float32 {
	if t.Grad == nil {
		if t.backward == nil && len(t.inputs) == 0 {
			t.Grad = make([]float32, len(t.Data)) // a leaf keeps its gradient
		} else {
			t.Grad = alloc(len(t.Data))
		}
	}
	return t.Grad
}

// gradDst returns t's gradient buffer for a backward pass that will write
// every element of it, and the beta to write with: 0 when the buffer is
// new — its contents are garbage and the caller must assign, not add
// (GEMM with beta 0, a copy) — and 1 when it already holds gradients to add
// to. It saves clearing a new buffer that would be overwritten at once.
func (t *Tensor) gradDst() ([]float32, float32) {
	if t.Grad != nil {
		return t.Grad, 1
	}
	if t.backward == nil && len(t.inputs) == 0 {
		t.Grad = make([]float32, len(t.Data)) // a leaf keeps its (zeroed) gradient
		return t.Grad, 1
	}
	t.Grad = allocDirty(len(t.Data))
	return t.Grad, 0
}

// accGrad adds g into t's gradient (copying it when the buffer is new).
func (t *Tensor) accGrad(g []float32) {
	dst, beta := t.gradDst()
	parallelElems(len(g), func(lo, hi int) {
		if beta == 0 {
			copy(dst[lo:hi], g[lo:hi])
		} else {
			AccSlice(dst[lo:hi], g[lo:hi])
		}
	})
}

// NoGrad turns off gradient tracking on the given leaf tensors (usually a
// model's parameters) and returns a function that restores it. Ops on inputs
// that do not require gradients build no graph, so evaluation and decoding
// under NoGrad allocate only their results:
//
//	defer tensor.NoGrad(params...)()
//
// Gradient tracking is a property of tensors, not of a global mode, so runs
// in different goroutines do not affect each other.
func NoGrad(ts ...*Tensor) (restore func()) {
	saved := make([]bool, len(ts))
	for i, t := range ts {
		saved[i] = t.requiresGrad
		t.requiresGrad = false
	}
	return func() {
		for i, t := range ts {
			t.requiresGrad = saved[i]
		}
	}
}

// result makes the output tensor of an op, zeroed. If any input requires
// gradients, the output records the inputs that do, and the caller sets its
// backward function (its backward field).
func result(op string, shape []int, inputs ...*Tensor) *Tensor {
	return newResult(op, shape, true, inputs)
}

// resultFull is result for an op that writes every element of its output:
// a recycled buffer is not cleared first.
func resultFull(op string, shape []int, inputs ...*Tensor) *Tensor {
	return newResult(op, shape, false, inputs)
}

func newResult(op string, shape []int, zero bool, inputs []*Tensor) *Tensor {
	out := &Tensor{shape: shape, op: op}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			if out.inputs == nil {
				out.inputs = make([]*Tensor, 0, len(inputs))
			}
			out.inputs = append(out.inputs, in)
			out.requiresGrad = true
			atomic.AddInt32(&in.uses, 1)
		}
	}
	switch {
	case !out.requiresGrad:
		out.Data = make([]float32, shapeSize(shape))
	case zero:
		out.Data = alloc(shapeSize(shape)) // recycled by Release
	default:
		out.Data = allocDirty(shapeSize(shape))
	}
	return out
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

var walkMark atomic.Uint64

// Backward computes the gradient of the scalar t with respect to every
// tensor in its graph that requires gradients, accumulating into their Grad
// (leaf gradients add up across calls; clear them with ZeroGrad). It panics
// if t does not hold exactly one value.
func (t *Tensor) Backward() {
	if len(t.Data) != 1 {
		panic(errorf("tensor.Backward: called on shape %v; need a scalar (use BackwardFrom)", t.shape))
	}
	BackwardFrom([]*Tensor{t}, [][]float32{{1}})
}

// BackwardFrom runs the backward pass from several outputs at once, seeding
// each output's gradient with the matching entry of grads (same length as
// its Data). The graph is walked once in reverse topological order.
// Gradients of intermediate tensors are reset at the start, so running
// BackwardFrom twice on one graph after zeroing the leaves gives the same
// leaf gradients.
func BackwardFrom(outs []*Tensor, grads [][]float32) {
	if len(outs) != len(grads) {
		panic(errorf("tensor.BackwardFrom: %d outputs, %d gradients", len(outs), len(grads)))
	}
	order := topoOrder(outs)
	for _, n := range order {
		if n.backward != nil && n.Grad != nil {
			n.ZeroGrad()
		}
		n.gradFused = false
	}
	for i, o := range outs {
		if len(grads[i]) != len(o.Data) {
			panic(errorf("tensor.BackwardFrom: gradient of length %d for shape %v", len(grads[i]), o.shape))
		}
		if !o.requiresGrad {
			continue
		}
		g, beta := o.gradDst()
		if beta == 0 {
			copy(g, grads[i]) // a fresh buffer: no clearing first
		} else {
			AccSlice(g, grads[i])
		}
	}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if n.backward != nil && n.Grad != nil {
			n.backward()
		}
	}
}

// topoOrder lists the tensors reachable from outs that require gradients,
// inputs before the tensors made from them.
func topoOrder(outs []*Tensor) []*Tensor {
	mark := walkMark.Add(1)
	var order []*Tensor
	type frame struct {
		t    *Tensor
		next int
	}
	var stack []frame
	for _, o := range outs {
		if !o.requiresGrad || o.mark == mark {
			continue
		}
		o.mark = mark
		stack = append(stack, frame{t: o})
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next < len(top.t.inputs) {
				in := top.t.inputs[top.next]
				top.next++
				if in.mark != mark && in.requiresGrad {
					in.mark = mark
					stack = append(stack, frame{t: in})
				}
				continue
			}
			order = append(order, top.t)
			stack = stack[:len(stack)-1]
		}
	}
	return order
}

// HasNaN reports whether t holds a NaN or an infinity.
func (t *Tensor) HasNaN() bool {
	for _, v := range t.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return true
		}
	}
	return false
}
