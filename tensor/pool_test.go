package tensor

import (
	"math"
	"runtime"
	"strconv"
	"testing"
	"unsafe"
)

// TestReleaseRecyclesAndKeepsResults: a step's buffers come back for the
// next step, results are unchanged by recycling, views and leaves are left
// alone.
func TestReleaseRecyclesAndKeepsResults(t *testing.T) {
	rng := NewRNG(1)
	w := rng.Uniform(New(64, 32), -1, 1).SetRequiresGrad(true)
	x := rng.Uniform(New(16, 64), -1, 1)
	step := func() (float32, []float32, *Tensor) {
		w.ZeroGrad()
		h := Tanh(MatMul(x, w))
		loss := MeanAll(Reshape(h, -1))
		loss.Backward()
		return loss.Item(), append([]float32(nil), w.Grad...), h
	}
	l1, g1, h := step()
	wData := unsafe.SliceData(w.Data)
	Release(h, MeanAll(h)) // also a root outside the loss graph
	if h.Data != nil || w.Data == nil || w.Grad == nil || unsafe.SliceData(w.Data) != wData {
		t.Fatal("Release touched a leaf or left a result's data")
	}
	for i := 0; i < 3; i++ {
		l2, g2, h2 := step()
		if l2 != l1 {
			t.Fatalf("loss after recycling %v, before %v", l2, l1)
		}
		for j := range g1 {
			if g1[j] != g2[j] {
				t.Fatalf("gradient %d after recycling %v, before %v", j, g2[j], g1[j])
			}
		}
		Release(h2)
	}
	// With Release, a step's big buffers come from the pools: far fewer
	// bytes are allocated than without.
	bytesPerStep := func(release bool) uint64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := 0; i < 20; i++ {
			w.ZeroGrad()
			loss := MeanAll(Tanh(MatMul(x, w)))
			loss.Backward()
			if release {
				Release(loss)
			}
		}
		runtime.ReadMemStats(&m1)
		return (m1.TotalAlloc - m0.TotalAlloc) / 20
	}
	with, without := bytesPerStep(true), bytesPerStep(false)
	if with*3 > without {
		t.Errorf("a step allocates %d bytes with Release, %d without: buffers are not recycled", with, without)
	}
}

// TestPoolsSurviveGC: buffers given back stay in the free lists across
// garbage collections (a sync.Pool would drop them), up to the limit, and
// TrimPools empties the lists.
func TestPoolsSurviveGC(t *testing.T) {
	TrimPools()
	a := alloc(1000)
	a[3] = 7
	p := unsafe.SliceData(a)
	free(a)
	runtime.GC()
	runtime.GC()
	b := alloc(900) // same size class (1024)
	if unsafe.SliceData(b) != p {
		t.Fatal("a freed buffer did not survive garbage collection")
	}
	if b[3] != 0 {
		t.Fatal("alloc returned a recycled buffer without clearing it")
	}
	free(b)
	TrimPools()
	if c := alloc(1000); unsafe.SliceData(c) == p {
		t.Fatal("TrimPools kept a buffer")
	}
	// Beyond the limit, freed buffers go to the garbage collector.
	defer func(l int64) { poolLimit = l }(poolLimit)
	poolLimit = 4 * 1024
	d, e := alloc(1024), alloc(1024)
	free(d)
	free(e)
	if pool.bytes != 4*1024 {
		t.Fatalf("free lists hold %d bytes, limit %d", pool.bytes, poolLimit)
	}
	TrimPools()
	// A buffer not made by alloc (capacity not a power of two) is not kept.
	free(make([]float32, 100))
	if pool.bytes != 0 {
		t.Fatalf("free kept a buffer of capacity 100")
	}
}

// TestGraphBytes: GraphBytes counts the data and gradients of every tensor
// of the graph that requires a gradient — leaves included, a view's shared
// data once, inputs without gradient not at all — and grows with the
// gradients the backward pass allocates.
func TestGraphBytes(t *testing.T) {
	rng := NewRNG(2)
	w := rng.Uniform(New(64, 32), -1, 1).SetRequiresGrad(true)
	x := rng.Uniform(New(16, 64), -1, 1)
	y := MatMul(x, w)
	flat := Reshape(y, -1)
	loss := MeanAll(flat)
	if !flat.view {
		t.Fatal("Reshape did not make a view: the test needs one")
	}
	data := 4 * int64(cap(w.Data)+cap(y.Data)+cap(loss.Data))
	if got := GraphBytes(loss); got != data {
		t.Fatalf("GraphBytes before backward = %d, want %d (w, y and loss data)", got, data)
	}
	loss.Backward()
	want := data + 4*int64(cap(w.Grad)+cap(y.Grad)+cap(flat.Grad)+cap(loss.Grad))
	if got := GraphBytes(loss); got != want || cap(flat.Grad) == 0 {
		t.Fatalf("GraphBytes after backward = %d, want %d (data and every gradient)", got, want)
	}
	if got := GraphBytes(x); got != 0 {
		t.Fatalf("GraphBytes of an input without gradient = %d, want 0", got)
	}
}

func TestPoisonDirty(t *testing.T) {
	was := PoisonDirty(true)
	defer PoisonDirty(was)
	for _, n := range []int{3, minPooled, 1000} {
		s := ScratchDirty(n)
		for i, v := range s {
			if v == v {
				t.Fatalf("ScratchDirty(%d)[%d] = %v while poisoned, want NaN", n, i, v)
			}
		}
		Recycle(s)
		if c := Scratch(n); c[0] != 0 || c[n-1] != 0 {
			t.Fatalf("Scratch(%d) not cleared while poisoned", n)
		}
	}
}

// TestSizeClasses: a buffer's class is the smallest whose capacity holds
// it, capacities are quarter powers of two, and no buffer of at least
// minPooled elements wastes more than a fifth of its capacity.
func TestSizeClasses(t *testing.T) {
	prev := 0
	// Every class whose capacity an int holds (classCap(c) < 2^(c/4+3)):
	// all of them with 64 bits; with 32, classes from 116 on (2³¹ floats
	// and more) cannot be asked for.
	for c := 0; c < numClasses-1 && c/4+3 < strconv.IntSize; c++ {
		if cc := classCap(c); cc <= prev {
			t.Fatalf("classCap(%d) = %d, not above classCap(%d) = %d", c, cc, c-1, prev)
		}
		prev = classCap(c)
	}
	for n := 1; n < 1<<16; n++ {
		c := sizeClass(n)
		if classCap(c) < n || c > 0 && classCap(c-1) >= n {
			t.Fatalf("sizeClass(%d) = %d (capacity %d), not the smallest class that holds it", n, c, classCap(c))
		}
		if n >= minPooled && float64(classCap(c)-n) > 0.2*float64(classCap(c)) {
			t.Fatalf("%d elements in a capacity of %d", n, classCap(c))
		}
	}
	sizes := []int{261 * 64 * 8, 1 << 30}
	// And 5 GiB+1 where an int holds it (converted at run time, so that
	// 32-bit builds compile).
	if huge := int64(5<<30 + 1); huge <= math.MaxInt {
		sizes = append(sizes, int(huge))
	}
	for _, n := range sizes {
		if c := sizeClass(n); classCap(c) < n || classCap(c) > n+n/4 {
			t.Errorf("sizeClass(%d): capacity %d", n, classCap(c))
		}
	}
}
