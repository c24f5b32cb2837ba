package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Parallel loops. ParallelFor spreads the passes of a training step that
// are not matrix products (elementwise work, rows of LayerNorm, softmax and
// cross-entropy, the optimizer's update, attention heads) over the
// goroutines SetThreads allows. A pass of a small model lasts tens of
// microseconds, so the hand-off must cost far less: the workers are
// started once and live for the process; after a job they spin on an
// atomic generation counter for parSpin (yielding the processor to other
// goroutines every parYield) before they park on a channel, and the caller
// takes chunks itself rather than waiting idle. Chunks are claimed from an
// atomic counter, so a worker that is late (the machine busy with other
// jobs) leaves its share to the caller instead of holding it up.

// parSpin is how long an idle worker spins before it parks. A training
// step's parallel passes follow each other within microseconds; parking
// and waking through the scheduler costs a few microseconds each way, and
// a third of a two-thread W4 step's hand-offs found the worker parked after
// 50 µs. 500 µs gave W4 +4 % and W3 +1.5 % with two threads (three
// alternating pairs, quiet machine); with one thread no worker exists.
const parSpin = 500 * time.Microsecond

// parYield is how often a spinning goroutine yields its processor to
// other goroutines (runtime.Gosched takes the scheduler's lock: yielding
// every few hundred nanoseconds cost a tenth of a two-thread step).
const parYield = 10 * time.Microsecond

// parChunksPerThread is how many chunks each thread's share is cut into,
// so that the work balances when one goroutine runs late.
const parChunksPerThread = 4

// parJob is one ParallelFor call.
type parJob struct {
	fn      func(lo, hi int)
	n, size int
	chunks  int64
	workers int          // workers (besides the caller) that may take part
	next    atomic.Int64 // next chunk to claim
	done    atomic.Int64 // chunks finished
}

// run claims and runs chunks until none is left.
func (j *parJob) run() {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		lo := int(c) * j.size
		j.fn(lo, min(j.n, lo+j.size))
		j.done.Add(1)
	}
}

type parWorker struct {
	id     int
	parked atomic.Bool
	wake   chan struct{}
}

var par struct {
	busy    atomic.Bool // a job is running: other calls (nested, concurrent) run inline
	gen     atomic.Uint64
	job     atomic.Pointer[parJob]
	mu      sync.Mutex // guards workers
	workers []*parWorker
	n       atomic.Int32 // len(workers)
}

// parStart makes sure at least n workers exist.
func parStart(n int) {
	if int(par.n.Load()) >= n {
		return
	}
	par.mu.Lock()
	defer par.mu.Unlock()
	for len(par.workers) < n {
		w := &parWorker{id: len(par.workers), wake: make(chan struct{}, 1)}
		par.workers = append(par.workers, w)
		go w.loop(par.gen.Load())
	}
	par.n.Store(int32(len(par.workers)))
}

func (w *parWorker) loop(seen uint64) {
	for {
		g := par.gen.Load()
		start := time.Now()
		yielded := start
		for i := 1; g == seen; i++ {
			if i%256 == 0 {
				now := time.Now()
				switch {
				case now.Sub(start) > parSpin:
					w.park(seen)
					start = time.Now()
					yielded = start
				case now.Sub(yielded) > parYield:
					runtime.Gosched()
					yielded = now
				}
			}
			g = par.gen.Load()
		}
		seen = g
		if j := par.job.Load(); j != nil && w.id < j.workers {
			j.run()
		}
	}
}

// park blocks until a job newer than seen is published.
func (w *parWorker) park(seen uint64) {
	w.parked.Store(true)
	if par.gen.Load() != seen && w.parked.CompareAndSwap(true, false) {
		return // a job came meanwhile, and nobody will send
	}
	<-w.wake
}

// ParallelFor calls fn(lo, hi) for ranges [lo, hi) that together cover
// [0, n) exactly once, on up to Threads() goroutines (the caller's
// included), and returns when every call has returned. Each range but the
// last is a whole number of grains, and ranges shorter than grain are
// never made: grain is the least work worth a hand-off (a few microseconds)
// and the alignment a kernel needs (a SIMD width, whole rows). With one
// thread, with n ≤ grain, and for a call made while another is running
// (from inside fn, or from another goroutine) fn(0, n) runs on the caller.
//
// fn must compute each element the same way whatever range it is given and
// touch nothing another range writes: then results do not depend on the
// number of threads, bit for bit.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	t := Threads()
	grains := (n + grain - 1) / grain
	if t <= 1 || grains <= 1 || !par.busy.CompareAndSwap(false, true) {
		fn(0, n)
		return
	}
	chunks := min(grains, t*parChunksPerThread)
	size := (grains + chunks - 1) / chunks * grain
	j := &parJob{fn: fn, n: n, size: size, chunks: int64((n + size - 1) / size), workers: t - 1}
	parStart(t - 1)
	par.job.Store(j)
	par.gen.Add(1)
	for _, w := range par.workers[:t-1] {
		if w.parked.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
	j.run()
	var since time.Time
	for i := 1; j.done.Load() < j.chunks; i++ {
		if i%256 == 0 {
			// Waiting long: a worker may be runnable without a processor.
			if now := time.Now(); since.IsZero() {
				since = now
			} else if now.Sub(since) > parYield {
				runtime.Gosched()
				since = now
			}
		}
	}
	par.job.Store(nil)
	par.busy.Store(false)
}

// Independent calls fn(0), …, fn(n−1), n independent pieces of work of
// about the same size (the products of a linear map's backward pass, the
// query, key and value projections): side by side, one per thread, when
// SetThreads allows exactly n threads, else one after the other, so that
// each piece can spread over all the threads itself (a large product splits
// across them, and with fewer threads than pieces some thread would idle
// at the end). Either way each piece is computed as it would be alone.
func Independent(n int, fn func(i int)) {
	if n > 1 && Threads() == n {
		ParallelFor(n, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				fn(i)
			}
		})
		return
	}
	for i := range n {
		fn(i)
	}
}

// rowBlock is the number of rows whose contributions to a shared gradient
// (a bias's, LayerNorm's gamma and beta) are summed together before they
// are added to it, block after block in order: a split fixed by the data,
// not by the number of threads, so that such sums come out the same, bit
// for bit, with any number of threads.
const rowBlock = 32

// sumRowBlocks calls rowsFn(r0, r1) on blocks of rows of [rows, n] (on
// several threads: rowsFn must write nothing another block touches), each
// returning its rows' values [r1−r0, n], and adds their sum over all rows
// into dst (nil: just the calls) — summed within each block, then the
// blocks in order.
func sumRowBlocks(dst []float32, rows, n int, rowsFn func(r0, r1 int) []float32) {
	nb := (rows + rowBlock - 1) / rowBlock
	var part []float32
	if dst != nil {
		part = allocDirty(nb * n)
		defer free(part)
	}
	ParallelFor(rows, rowBlock, func(lo, hi int) {
		for r0 := lo; r0 < hi; r0 += rowBlock {
			r1 := min(r0+rowBlock, hi)
			v := rowsFn(r0, r1)
			if dst == nil {
				continue
			}
			sumRows(part[r0/rowBlock*n:][:n], v, r1-r0, n, n)
		}
	})
	for i := 0; i < nb && dst != nil; i++ {
		AccSlice(dst[:n], part[i*n:(i+1)*n])
	}
}

// parGrain is the least number of elements of a memory-bound elementwise
// pass worth handing to another thread (a multiple of every SIMD width, so
// that chunks split no vector).
const parGrain = 8192

// parallelElems runs fn on chunks of [0, n) of at least parGrain elements.
func parallelElems(n int, fn func(lo, hi int)) { ParallelFor(n, parGrain, fn) }
