package tensor

import (
	"math/bits"
	"sync"
)

// Buffers of a training step are recycled: the results and gradients of
// ops on tensors that require gradients come from size-class pools, and
// Release returns those of a finished step's graph, so a run's steps reuse
// the same memory instead of making the garbage collector and the kernel
// (page faults) clear it again at every step.

const (
	minPooled  = 64 // smaller buffers are left to the allocator
	numClasses = 48
)

// pools[c] holds *[]float32 with capacity of at least 1<<c.
var pools [numClasses]sync.Pool

// alloc returns a zeroed buffer of length n, from the pools when possible;
// its capacity is rounded up to a power of two so that it can go back.
func alloc(n int) []float32 {
	if n < minPooled {
		return make([]float32, n)
	}
	c := bits.Len(uint(n - 1))
	if p, ok := pools[c].Get().(*[]float32); ok {
		s := (*p)[:n]
		clear(s)
		return s
	}
	return make([]float32, n, 1<<c)
}

// free gives a buffer back to the pools.
func free(s []float32) {
	c := cap(s)
	if c < minPooled {
		return
	}
	s = s[:0]
	pools[bits.Len(uint(c))-1].Put(&s)
}

// Scratch returns a zeroed buffer of length n from the pools, for the saved
// state of a fused op defined outside this package; give it to the result
// with Keep so that Release recycles it with the result.
func Scratch(n int) []float32 { return alloc(n) }

// Keep hands buffers of a Custom op's saved state to its result t: Release
// recycles them with t. The caller must not use them after that.
func (t *Tensor) Keep(bufs ...[]float32) {
	t.kept = append(t.kept, bufs...)
}

// Release recycles the memory of the graph that produced the given tensors
// (a training step's loss): the data, gradients and kept buffers of every
// tensor made by an op on tensors that require gradients. Leaves —
// parameters, inputs — are untouched. After Release those tensors must not
// be used (their Data and Grad are nil); call it once the step is complete,
// after the optimizer's update. Views (Reshape) give back only what they
// own.
func Release(roots ...*Tensor) {
	for _, n := range topoOrder(roots) {
		if n.backward == nil && len(n.inputs) == 0 {
			continue // a leaf
		}
		if !n.view {
			free(n.Data)
		}
		if n.Grad != nil {
			free(n.Grad)
		}
		for _, b := range n.kept {
			free(b)
		}
		n.Data, n.Grad, n.kept, n.inputs, n.backward = nil, nil, nil, nil, nil
	}
}
