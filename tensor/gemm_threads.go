package tensor

import (
	"sync"
	"sync/atomic"
)

// gemmThreads is the number of goroutines one large GEMM may use.
var gemmThreads atomic.Int32

func init() { gemmThreads.Store(1) }

// gemmParMinFlops is the smallest product (2·m·n·k) split across
// goroutines. Waking a parked worker costs microseconds, more on a busy
// machine: with two goroutines 512³ ran 1.56× faster but 256³ 0.9× as
// fast (Zen 5, 2 cores shared with other jobs), hence 300³.
var gemmParMinFlops = 2.0 * 300 * 300 * 300

// SetThreads sets how many goroutines a single large matrix product (Gemm,
// and so MatMul) may use; n < 1 means 1, the default. Products smaller than
// about 300³ multiply-adds always stay on the calling goroutine. A training
// run sets it from its train.threads config. It is safe to call at any
// time, also while other goroutines run products: each product reads the
// setting once when it starts.
func SetThreads(n int) {
	if n < 1 {
		n = 1
	}
	gemmThreads.Store(int32(min(n, 1<<16)))
	if gemmThreadsHook != nil {
		gemmThreadsHook(n)
	}
}

// gemmThreadsHook passes SetThreads on to an external backend (OpenBLAS).
var gemmThreadsHook func(n int)

// Threads returns the setting of SetThreads. It is safe for concurrent use.
func Threads() int { return int(gemmThreads.Load()) }

// gemmJob is one goroutine's share of a split product.
type gemmJob struct {
	kr             *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
	epi            gemmEpilogue
	wg             *sync.WaitGroup
}

var gemmWorkers struct {
	mu      sync.Mutex
	started int
	jobs    chan gemmJob
}

var gemmWaitPool = sync.Pool{New: func() any { return new(sync.WaitGroup) }}

// gemmStartWorkers makes sure at least n worker goroutines exist. Workers
// live for the rest of the process, idle on a channel.
func gemmStartWorkers(n int) {
	w := &gemmWorkers
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.jobs == nil {
		w.jobs = make(chan gemmJob, 64)
	}
	for ; w.started < n; w.started++ {
		go func(jobs <-chan gemmJob) {
			for j := range jobs {
				j.kr.gemmEpi(j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc, j.epi)
				j.wg.Done()
			}
		}(w.jobs)
	}
}

// gemmRun runs a checked, non-trivial product with kr, splitting it across
// goroutines when SetThreads allows and it is large enough: by column
// blocks of C when n is wide enough, else by row blocks, in whole tiles.
func gemmRun(kr *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmRunEpi(kr, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil, nil)
}

// gemmRunEpi is gemmRun calling epi on blocks of C as they become final
// (see gemmEpilogue); blocks done by different goroutines may be passed to
// epi concurrently, never the same element twice. pre, when not nil, is B
// packed already (a frozen weight).
func gemmRunEpi(kr *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, epi func(r0, r1, c0, c1 int), pre *gemmPacked) {
	if kr.fn != nil {
		kr.fn(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		if epi != nil {
			epi(0, m, 0, n)
		}
		return
	}
	t := int(gemmThreads.Load())
	if t <= 1 || 2*float64(m)*float64(n)*float64(k) < gemmParMinFlops {
		kr.gemmEpi(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, gemmEpilogue{fn: epi, pre: pre})
		return
	}
	// Chunk size in whole tiles; splitting along n keeps A panels shared
	// in cache, along m needs each goroutine to pack all of B (unless it is
	// packed already, for all of n).
	byN := n >= 2*kr.nr && n >= m/2 && pre == nil
	size, tile := m, kr.mr
	if byN {
		size, tile = n, kr.nr
	}
	tiles := (size + tile - 1) / tile
	t = min(t, tiles)
	if t <= 1 {
		kr.gemmEpi(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, gemmEpilogue{fn: epi, pre: pre})
		return
	}
	gemmStartWorkers(t - 1)
	wg := gemmWaitPool.Get().(*sync.WaitGroup)
	wg.Add(t - 1)
	var first gemmJob
	for w := range t {
		lo := (tiles * w / t) * tile
		hi := min(size, (tiles*(w+1)/t)*tile)
		j := gemmJob{kr: kr, transA: transA, transB: transB, m: m, n: n, k: k,
			alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc, epi: gemmEpilogue{fn: epi, pre: pre}, wg: wg}
		if byN {
			j.epi.coff = lo
			j.n = hi - lo
			j.c = c[lo:]
			if transB {
				j.b = b[lo*ldb:]
			} else {
				j.b = b[lo:]
			}
		} else {
			j.epi.roff = lo
			j.m = hi - lo
			j.c = c[lo*ldc:]
			if transA {
				j.a = a[lo:]
			} else {
				j.a = a[lo*lda:]
			}
		}
		if w == 0 {
			first = j
			continue
		}
		gemmWorkers.jobs <- j
	}
	kr.gemmEpi(first.transA, first.transB, first.m, first.n, first.k, alpha, first.a, lda, first.b, ldb, beta, first.c, ldc, first.epi)
	wg.Wait()
	gemmWaitPool.Put(wg)
}
