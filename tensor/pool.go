package tensor

import (
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
)

// Buffers of a training step are recycled: the results and gradients of
// ops on tensors that require gradients come from size-class free lists,
// and Release returns those of a finished step's graph, so a run's steps
// reuse the same memory instead of making the garbage collector and the
// kernel (page faults) clear it again at every step.
//
// The free lists are not sync.Pools: a sync.Pool empties at every garbage
// collection, and a training step that allocates megabytes triggers one
// every few steps, so its buffers would keep coming from fresh memory. The
// lists keep what was given back, up to poolLimit bytes; TrimPools empties
// them.

const (
	minPooled  = 64 // smaller buffers are left to the allocator
	numClasses = 4 * 48
)

// poolLimit is the most bytes the free lists keep; beyond it free lets
// buffers go to the garbage collector.
var poolLimit int64 = 4 << 30

var pool struct {
	mu    sync.Mutex
	bytes int64
	// free[c] holds buffers of capacity exactly classCap(c).
	free [numClasses][][]float32
}

// The size classes are quarter powers of two — capacities 4·2ᵉ, 5·2ᵉ,
// 6·2ᵉ and 7·2ᵉ — so that a buffer wastes at most a fifth of its
// capacity (powers of two wasted up to half: a step of 261-token
// sequences held as much as one of 500).

// classCap returns the capacity of class c: (4 + c mod 4)·2^(c/4).
func classCap(c int) int { return (4 + c%4) << (c / 4) }

// sizeClass returns the class of a buffer of n > 0 elements: the smallest
// c with classCap(c) ≥ n.
func sizeClass(n int) int {
	e := max(0, bits.Len(uint(n-1))-3) // n ≤ 8·2ᵉ
	m := (n + 1<<e - 1) >> e           // ⌈n / 2ᵉ⌉, in [4, 8] for n > 4
	if m <= 4 {
		return 4 * e
	}
	if m == 8 {
		return 4 * (e + 1)
	}
	return 4*e + m - 4
}

// alloc returns a zeroed buffer of length n, from the free lists when
// possible; its capacity is rounded up to its size class so that it can go
// back.
func alloc(n int) []float32 {
	s := allocDirty(n)
	clear(s)
	return s
}

// allocDirty is alloc without the clearing: for a result every element of
// which the op writes.
func allocDirty(n int) []float32 {
	s := allocDirtyPooled(n)
	if poison.Load() {
		nan := float32(math.NaN())
		for i := range s {
			s[i] = nan
		}
	}
	return s
}

// poison is PoisonDirty's switch.
var poison atomic.Bool

// PoisonDirty fills every buffer handed out uncleared with NaN while on:
// ScratchDirty's, and the results and gradients that an op writes in full
// without clearing them first. Tests switch it on to show that no kernel
// reads an element it has not written (recycled memory is often zeros, so
// such a read passes unnoticed otherwise). It returns the previous setting.
func PoisonDirty(on bool) (was bool) { return poison.Swap(on) }

func allocDirtyPooled(n int) []float32 {
	if n < minPooled {
		return make([]float32, n)
	}
	c := sizeClass(n)
	pool.mu.Lock()
	if l := pool.free[c]; len(l) > 0 {
		s := l[len(l)-1]
		l[len(l)-1] = nil
		pool.free[c] = l[:len(l)-1]
		pool.bytes -= 4 * int64(classCap(c))
		pool.mu.Unlock()
		return s[:n]
	}
	pool.mu.Unlock()
	return make([]float32, n, classCap(c))
}

// free gives a buffer back to the free lists. Buffers whose capacity is not
// a class's (not made by alloc) are left to the garbage collector.
func free(s []float32) {
	c := cap(s)
	if c < minPooled {
		return
	}
	cl := sizeClass(c)
	if classCap(cl) != c {
		return
	}
	pool.mu.Lock()
	if pool.bytes+4*int64(c) <= poolLimit {
		pool.free[cl] = append(pool.free[cl], s[:0])
		pool.bytes += 4 * int64(c)
	}
	pool.mu.Unlock()
}

// TrimPools empties the free lists, leaving their memory to the garbage
// collector (for a long-lived process between runs). It is safe for
// concurrent use.
func TrimPools() {
	pool.mu.Lock()
	for c := range pool.free {
		clear(pool.free[c])
		pool.free[c] = nil
	}
	pool.bytes = 0
	pool.mu.Unlock()
}

// Scratch returns a zeroed buffer of length n from the free lists, for the
// saved state of a fused op defined outside this package: give it to the
// result with Keep (or as Custom's data) so that Release recycles it with
// the result, or back with Recycle once nothing uses it.
func Scratch(n int) []float32 { return alloc(n) }

// ScratchDirty is Scratch without the clearing, for a buffer every element
// of which the caller writes before it reads any.
func ScratchDirty(n int) []float32 { return allocDirty(n) }

// FreeBytes returns the bytes of the buffers waiting in the free lists:
// steady from one training step to the next, unless an op hands the
// pool a buffer it did not take from it (a test's check).
func FreeBytes() int64 {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	return pool.bytes
}

// Recycle gives a buffer from Scratch back at once (a temporary of a
// kernel). The caller must not use it afterwards, nor give it back twice,
// nor Recycle a buffer that a result owns.
func Recycle(buf []float32) { free(buf) }

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
		n.gradEpi = nil
	}
}

// GraphBytes returns the bytes of tensor memory that the graph producing
// the given tensors holds: the data (views aside), gradients and kept
// buffers of every tensor reachable from roots that requires a gradient,
// leaves (parameters) included, counted by capacity. Nothing is released
// during a backward pass, so called after it and before Release, this is
// the step's tensor memory at its peak — but for a kernel's temporaries
// given back within the op (Recycle) and tensors that require no
// gradient. It is safe to call concurrently with other graphs' work, not
// with work on this graph.
func GraphBytes(roots ...*Tensor) int64 {
	var n int64
	for _, t := range topoOrder(roots) {
		if !t.view {
			n += int64(cap(t.Data))
		}
		n += int64(cap(t.Grad))
		for _, b := range t.kept {
			n += int64(cap(b))
		}
	}
	return 4 * n
}
