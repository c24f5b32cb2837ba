package tensor

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// withTestThreads sets SetThreads(n) for the rest of the test.
func withTestThreads(t testing.TB, n int) {
	old := Threads()
	SetThreads(n)
	t.Cleanup(func() { SetThreads(old) })
}

func TestParallelForCoversOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		withTestThreads(t, threads)
		for _, tc := range []struct{ n, grain int }{{0, 1}, {1, 1}, {7, 16}, {16, 16}, {17, 16}, {1000, 1}, {1000, 16}, {4097, 64}, {100000, 128}} {
			hits := make([]int32, tc.n)
			var calls atomic.Int32
			ParallelFor(tc.n, tc.grain, func(lo, hi int) {
				calls.Add(1)
				if lo%tc.grain != 0 || hi <= lo || (hi != tc.n && (hi-lo)%tc.grain != 0) {
					t.Errorf("threads %d, n %d, grain %d: range [%d,%d) not in whole grains", threads, tc.n, tc.grain, lo, hi)
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("threads %d, n %d, grain %d: element %d covered %d times", threads, tc.n, tc.grain, i, h)
				}
			}
			if tc.n > 0 && calls.Load() == 0 {
				t.Fatalf("threads %d, n %d: fn never called", threads, tc.n)
			}
		}
	}
}

func TestParallelForNestedAndConcurrent(t *testing.T) {
	withTestThreads(t, 2)
	const n = 64
	var total atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 200; rep++ {
				ParallelFor(n, 4, func(lo, hi int) {
					// A nested call runs inline on the goroutine that makes it.
					ParallelFor(hi-lo, 1, func(a, b int) { total.Add(int64(b - a)) })
				})
			}
		}()
	}
	wg.Wait()
	if got, want := total.Load(), int64(4*200*n); got != want {
		t.Fatalf("covered %d elements, want %d", got, want)
	}
}

func TestParallelForStartsWorkers(t *testing.T) {
	withTestThreads(t, 3)
	ParallelFor(8, 1, func(lo, hi int) { spinFor(1000) })
	if got := par.n.Load(); got < 2 {
		t.Fatalf("%d workers after a loop with three threads, want at least 2", got)
	}
}

//go:noinline
func spinFor(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i ^ s
	}
	return s
}

func BenchmarkParallelForHandoff(b *testing.B) {
	// The cost of one hand-off: a loop of two chunks of trivial work.
	for _, threads := range []int{1, 2} {
		b.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(b *testing.B) {
			withTestThreads(b, threads)
			var sink atomic.Int64
			for b.Loop() {
				ParallelFor(2, 1, func(lo, hi int) { sink.Add(int64(hi - lo)) })
			}
		})
	}
}

// TestGradCheckBlockedRows checks the gradients of the ops whose row
// loops run on several threads, with two threads and more rows than one
// rowBlock, so that the blocked sums of bias, gamma and beta gradients
// span several blocks.
func TestGradCheckBlockedRows(t *testing.T) {
	withTestThreads(t, 2)
	rng := NewRNG(21)
	mk := func(lo, hi float32, shape ...int) *Tensor {
		x := New(shape...)
		for i := range x.Data {
			x.Data[i] = lo + (hi-lo)*rng.Float32()
		}
		x.SetRequiresGrad(true)
		return x
	}
	rows := 2*rowBlock + 5
	x := mk(-2, 2, rows, 6)
	gamma, beta := mk(0.5, 1.5, 6), mk(-1, 1, 6)
	w, b := mk(-1, 1, 6, 7), mk(-1, 1, 7)
	targets := make([]int, rows)
	for i := range targets {
		targets[i] = i % 7 // 0 is ignored
	}
	for _, tc := range []struct {
		name string
		f    func() []*Tensor
		in   map[string]*Tensor
	}{
		{"LayerNorm", func() []*Tensor { return []*Tensor{LayerNorm(x, gamma, beta, 1e-5)} }, map[string]*Tensor{"x": x, "gamma": gamma, "beta": beta}},
		{"LinearAct/gelu", func() []*Tensor { return []*Tensor{LinearAct(x, w, b, ActGELU)} }, map[string]*Tensor{"x": x, "w": w, "b": b}},
		{"LinearAct/relu", func() []*Tensor { return []*Tensor{LinearAct(x, w, b, ActReLU)} }, map[string]*Tensor{"x": x, "w": w, "b": b}},
		{"AddLinear", func() []*Tensor { return []*Tensor{AddLinear(LinearAct(x, w, nil, ActNone), x, w, b)} }, map[string]*Tensor{"x": x, "w": w, "b": b}},
		{"CrossEntropy", func() []*Tensor { return []*Tensor{CrossEntropy(Linear(x, w, b), targets, 0, 0.1)} }, map[string]*Tensor{"x": x, "w": w, "b": b}},
		{"LogSoftmax", func() []*Tensor { return []*Tensor{LogSoftmax(Linear(x, w, b))} }, map[string]*Tensor{"x": x, "b": b}},
	} {
		opt := GradCheckOptions{}
		if tc.name == "LinearAct/relu" {
			opt.Step = 1e-3 // pre-activations close to ReLU's kink
		}
		if err := GradCheck(tc.f, tc.in, opt); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestSumSquaresBlocked(t *testing.T) {
	rng := NewRNG(3)
	x := make([]float32, 3*parGrain+5)
	var want float64
	for i := range x {
		x[i] = 2*rng.Float32() - 1
		want += float64(x[i]) * float64(x[i])
	}
	got := map[int]float64{}
	for _, threads := range []int{1, 2, 3} {
		withTestThreads(t, threads)
		got[threads] = SumSquares(x)
		if d := got[threads] - want; d > 1e-9*want || d < -1e-9*want {
			t.Fatalf("%d threads: SumSquares = %v, want %v", threads, got[threads], want)
		}
	}
	if got[1] != got[2] || got[1] != got[3] {
		t.Fatalf("SumSquares differs with the number of threads: %v", got)
	}
}

func TestIndependent(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		withTestThreads(t, threads)
		var seen [3]atomic.Int32
		Independent(3, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("%d threads: piece %d ran %d times", threads, i, seen[i].Load())
			}
		}
	}
}

// BenchmarkBiasGrad times a bias's gradient, summed over W4's 768 rows by
// blocks of rowBlock rows (sumRowBlocks), at W4's widths.
func BenchmarkBiasGrad(b *testing.B) {
	for _, n := range []int{128, 512} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			const rows = 768
			g, db := make([]float32, rows*n), make([]float32, n)
			for i := range g {
				g[i] = float32(i%7) - 3
			}
			for b.Loop() {
				sumRowBlocks(db, rows, n, func(r0, r1 int) []float32 { return g[r0*n : r1*n] })
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows*n), "ns/elem")
		})
	}
}
