package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// gemmCase is one product: shapes, transposes, extra stride beyond each
// stored row, and scalars.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	padA, padB     int
	padC           int
	alpha, beta    float32
}

func (tc gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/m%d_n%d_k%d/pad%d.%d.%d/a%g_b%g", t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.padA, tc.padB, tc.padC, tc.alpha, tc.beta)
}

// gemmOperands fills A, B and C for tc. The padding between rows of C is
// filled with a sentinel that must survive; when beta = 0 the rest of C is
// NaN, which must not leak into the result.
func gemmOperands(rng *rand.Rand, tc gemmCase) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	lda, ldb, ldc = ac+tc.padA, bc+tc.padB, tc.n+tc.padC
	fill := func(s []float32) {
		for i := range s {
			s[i] = 2*rng.Float32() - 1
		}
	}
	a = make([]float32, (ar-1)*lda+ac)
	b = make([]float32, (br-1)*ldb+bc)
	c = make([]float32, (tc.m-1)*ldc+tc.n)
	fill(a)
	fill(b)
	fill(c)
	for i := range c {
		if i%ldc >= tc.n {
			c[i] = gemmSentinel
		} else if tc.beta == 0 {
			c[i] = float32(math.NaN())
		}
	}
	return
}

const gemmSentinel = 12345.678

// gemmTolerance is the bound used for got-vs-reference comparisons of one
// element: the two implementations sum k products in different orders, and
// each is within γ ≈ (k+2)·u of the exact value times Σ|terms|, u = 2⁻²⁴:
//
//	|got − want| ≤ 2·(k+2)·u·(|alpha|·Σ_p |A_ip|·|B_pj| + |beta|·|C_ij|)
//
// A wrong element is off by O(1)·scale, far outside this.
func gemmTolerance(k int, absProd float64, alpha, beta float32, c0 float32) float64 {
	const u = 1.0 / (1 << 24)
	scale := math.Abs(float64(alpha))*absProd + math.Abs(float64(beta))*math.Abs(float64(c0))
	return 2*float64(k+2)*u*scale + 1e-30
}

// checkGemm runs tc with kr (through gemmRun with the current thread
// setting) and compares with gonum.
func checkGemm(t *testing.T, rng *rand.Rand, kr *gemmKernel, tc gemmCase) {
	t.Helper()
	a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
	want := slices.Clone(c)
	if tc.beta == 0 {
		for i := range want {
			if i%ldc < tc.n {
				want[i] = 0 // gonum also ignores C here; 0 keeps it NaN-free
			}
		}
	}
	c0 := slices.Clone(c)
	gemmGonum(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	gemmCheck(tc.transA, tc.transB, tc.m, tc.n, tc.k, a, lda, b, ldb, c, ldc)
	if tc.alpha == 0 || tc.k == 0 {
		gemmScaleC(tc.m, tc.n, tc.beta, c, ldc)
	} else {
		gemmRun(kr, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	}
	at := func(i, p int) float32 {
		if tc.transA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float32 {
		if tc.transB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				if got != gemmSentinel {
					t.Fatalf("%s %v: C[%d,%d] (row padding) = %g, want untouched", kr.name, tc, i, j, got)
				}
				continue
			}
			var absProd float64
			for p := 0; p < tc.k; p++ {
				absProd += math.Abs(float64(at(i, p)) * float64(bt(p, j)))
			}
			var cOld float32
			if tc.beta != 0 {
				cOld = c0[i*ldc+j]
			}
			w := want[i*ldc+j]
			tol := gemmTolerance(tc.k, absProd, tc.alpha, tc.beta, cOld)
			if d := math.Abs(float64(got) - float64(w)); !(d <= tol) {
				t.Errorf("%s %v: C[%d,%d] = %g, want %g (|diff| %.3g > tol %.3g)", kr.name, tc, i, j, got, w, d, tol)
				if bad++; bad > 5 {
					t.FailNow()
				}
			}
		}
	}
}

// gemmTestShapes returns (m, n, k) triples: tile edges of every kernel,
// primes, block boundaries (k around gemmKC, n around gemmNC) and random
// sizes up to 300.
func gemmTestShapes(rng *rand.Rand, short bool) [][3]int {
	s := [][3]int{
		{1, 1, 1}, {1, 1, 7}, {1, 33, 5}, {13, 1, 9}, {2, 3, 1},
		{12, 32, 16}, {11, 31, 3}, {13, 33, 17}, {24, 64, 40}, {25, 65, 41},
		{6, 16, 8}, {7, 17, 9}, {5, 15, 300}, {4, 8, 2}, {3, 9, 5},
		{16, 16, 16}, {30, 30, 128}, {64, 35, 256}, {37, 41, 43},
		{97, 101, 103}, {127, 129, 131}, {61, 257, 47}, {3, 600, 20},
		{130, 520, 259}, {257, 5, 513}, {50, 1100, 10},
	}
	if short {
		return s
	}
	primes := []int{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 53, 67, 89, 113, 149, 199, 251, 293}
	for range 12 {
		s = append(s, [3]int{primes[rng.IntN(len(primes))], primes[rng.IntN(len(primes))], primes[rng.IntN(len(primes))]})
	}
	for range 20 {
		s = append(s, [3]int{1 + rng.IntN(300), 1 + rng.IntN(300), 1 + rng.IntN(300)})
	}
	return s
}

var gemmTestScalars = [][2]float32{{1, 0}, {1, 1}, {-0.5, 0.3}, {1, 0.3}, {-0.5, 0}, {-0.5, 1}, {0, 0}, {0, 1}, {0, 0.3}}

// TestGemmKernels checks every kernel this CPU can run against gonum on
// all transposes, strides larger than a row, and alpha/beta combinations,
// with gemmPlan's choice of packing and (on the fixed shapes) with every
// forced choice.
func TestGemmKernels(t *testing.T) {
	defer func() { gemmPlanForce = 0 }()
	for _, kr := range gemmKernelList {
		for _, plan := range []int{0, 4, 5, 6, 7} {
			t.Run(fmt.Sprintf("%s/plan%d", kr.name, plan), func(t *testing.T) {
				gemmPlanForce = plan
				rng := rand.New(rand.NewPCG(1, uint64(plan)))
				testGemmShapes(t, rng, kr, gemmTestShapes(rng, testing.Short() || plan != 0))
			})
		}
	}
	for _, kr := range gemmExternal {
		t.Run(kr.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 0))
			testGemmShapes(t, rng, kr, gemmTestShapes(rng, testing.Short()))
		})
	}
}

func testGemmShapes(t *testing.T, rng *rand.Rand, kr *gemmKernel, shapes [][3]int) {
	for si, sh := range shapes {
		for tr := range 4 {
			for si2, ab := range gemmTestScalars {
				// All nine scalar pairs on small shapes, three on large.
				if sh[0]*sh[1]*sh[2] > 200000 && (si+tr+si2)%3 != 0 {
					continue
				}
				tc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
					alpha: ab[0], beta: ab[1]}
				if (si+tr)%2 == 1 {
					tc.padA, tc.padB, tc.padC = 1+rng.IntN(7), 1+rng.IntN(7), 1+rng.IntN(7)
				}
				checkGemm(t, rng, kr, tc)
			}
		}
	}
}

// TestGemmPlanPacksB pins gemmPlan's choice of packing B (the choice
// changes speed, not results: TestGemmKernels runs every plan): a kernel
// with packBMin packs a B of at least that many floats in a product of 16
// row tiles or more; every kernel packs a transposed B and, past 4 row
// tiles, a B of more than 1 MiB; A is never packed.
func TestGemmPlanPacksB(t *testing.T) {
	kr := &gemmKernel{name: "test", mr: 6, nr: 16, packBMin: 60 << 10}
	plain := &gemmKernel{name: "plain", mr: 6, nr: 16}
	for _, c := range []struct {
		kr      *gemmKernel
		transB  bool
		m, n, k int
		want    bool
	}{
		{kr, false, 384, 512, 128, true},  // W4's feed-forward product
		{kr, false, 96, 480, 128, true},   // 16 row tiles, B of 61,440 floats
		{kr, false, 95, 512, 128, false},  // fewer than 16 row tiles
		{kr, false, 384, 448, 128, false}, // B of 57,344 floats
		{kr, true, 7, 8, 8, true},         // transposed
		{kr, false, 25, 1024, 257, true},  // past 4 row tiles, B over 1 MiB
		{plain, false, 384, 512, 128, false},
		{plain, false, 25, 1024, 257, true},
		{plain, false, 24, 1024, 257, false},
		{plain, true, 1, 1, 1, true},
	} {
		packA, packB := c.kr.gemmPlan(false, c.transB, c.m, c.n, c.k)
		if packA || packB != c.want {
			t.Errorf("%s: %d × %d × %d (m × n × k, transB %v): pack A %v, B %v; want A false, B %v", c.kr.name, c.m, c.n, c.k, c.transB, packA, packB, c.want)
		}
	}
}

// TestGemmThreads checks the split products (by rows and by columns) with
// several thread counts (20×70: a short product whose B, packed when
// transposed, has fewer panels than blocks).
func TestGemmThreads(t *testing.T) {
	defer SetThreads(Threads())
	defer func(f float64) { gemmParMinFlops = f }(gemmParMinFlops)
	gemmParMinFlops = 1 // split even small products
	for _, kr := range gemmKernelList {
		for _, threads := range []int{2, 3, 7} {
			SetThreads(threads)
			rng := rand.New(rand.NewPCG(3, uint64(threads)))
			for _, sh := range [][3]int{{200, 300, 100}, {300, 40, 120}, {100, 97, 101}, {13, 1000, 64}, {1000, 13, 64}, {5, 7, 3}, {40, 33, 10}, {20, 70, 90}} {
				for tr := range 4 {
					tc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
						padA: tr, padB: 1, padC: 2, alpha: -0.5, beta: float32(tr%2) * 0.3}
					t.Run(fmt.Sprintf("%s/t%d/%v", kr.name, threads, tc), func(t *testing.T) { checkGemm(t, rng, kr, tc) })
				}
			}
		}
	}
}

// TestGemmThreadsBitwise checks that a split product equals the product on
// one goroutine bit for bit, on every kernel, transpose and packing plan,
// for shapes cut by rows (B in place, or frozen and packed once) and by
// columns (B packed per block), among them W3's and W4's.
func TestGemmThreadsBitwise(t *testing.T) {
	defer SetThreads(Threads())
	defer func(f float64) { gemmParMinFlops = f }(gemmParMinFlops)
	defer func() { gemmPlanForce = 0 }()
	gemmParMinFlops = 1
	shapes := [][3]int{{768, 128, 128}, {128, 512, 131}, {20, 300, 257}, {97, 65, 130}, {300, 20, 33}, {13, 5, 7}}
	if !testing.Short() {
		shapes = append(shapes, [3]int{40, 1100, 270})
	}
	for _, kr := range gemmKernelList {
		for _, plan := range []int{0, 7} {
			for _, frozenB := range []bool{false, true} {
				gemmPlanForce = plan
				rng := rand.New(rand.NewPCG(11, uint64(plan)))
				for _, sh := range shapes {
					for tr := range 4 {
						tc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2],
							padA: tr, padB: 1 - tr%2, padC: tr % 3, alpha: 0.7, beta: float32(tr/2) * 0.3}
						a, lda, b, ldb, c, ldc := gemmOperands(rng, tc)
						var want []float32
						for _, threads := range []int{1, 2, 3} {
							SetThreads(threads)
							got := slices.Clone(c)
							var pre *gemmPacked
							if frozenB {
								pre = newGemmPacked(kr, tc.transB, tc.k, tc.n, b, ldb)
							}
							gemmRunEpi(kr, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc, nil, pre)
							if threads == 1 {
								want = got
								continue
							}
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s plan %d frozen %v threads %d %v: C[%d] = %g, one thread %g", kr.name, plan, frozenB, threads, tc, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestLinearThreadsBitwise: the fused linear ops, whose epilogues run on
// the blocks a split product hands them, give the same outputs and
// gradients with one, two and three threads, bit for bit.
func TestLinearThreadsBitwise(t *testing.T) {
	defer SetThreads(Threads())
	for _, act := range []Act{ActNone, ActReLU, ActGELU} {
		for _, res := range []bool{false, true} {
			if res && act != ActNone {
				continue
			}
			var want [][]float32
			for _, threads := range []int{1, 2, 3} {
				SetThreads(threads)
				rng := NewRNG(5)
				x := rng.Uniform(New(300, 130), -1, 1).SetRequiresGrad(true)
				w := rng.Uniform(New(130, 520), -1, 1).SetRequiresGrad(true)
				b := rng.Uniform(New(520), -1, 1).SetRequiresGrad(true)
				var y *Tensor
				if res {
					r := rng.Uniform(New(300, 520), -1, 1).SetRequiresGrad(true)
					y = AddLinear(r, x, w, b)
				} else {
					y = LinearAct(x, w, b, act)
				}
				g := rng.Uniform(New(300, 520), -1, 1)
				SumAll(Mul(y, g)).Backward()
				got := [][]float32{y.Data, x.Grad, w.Grad, b.Grad}
				if threads == 1 {
					want = got
					continue
				}
				for i, name := range []string{"y", "dx", "dW", "db"} {
					for j := range got[i] {
						if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
							t.Fatalf("%v residual %v threads %d: %s[%d] = %g, one thread %g", act, res, threads, name, j, got[i][j], want[i][j])
						}
					}
				}
			}
		}
	}
}

// TestGemmConcurrent runs products and SetThreads from several goroutines
// at once (meant for -race).
func TestGemmConcurrent(t *testing.T) {
	defer SetThreads(Threads())
	defer func(f float64) { gemmParMinFlops = f }(gemmParMinFlops)
	gemmParMinFlops = 1
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(9, uint64(g)))
			for i := range 20 {
				SetThreads(1 + (g+i)%3)
				n := 50 + rng.IntN(150)
				a := make([]float32, n*n)
				b := make([]float32, n*n)
				for i := range a {
					a[i], b[i] = rng.Float32(), rng.Float32()
				}
				c := make([]float32, n*n)
				want := make([]float32, n*n)
				Gemm(false, true, n, n, n, 1, a, n, b, n, 0, c, n)
				gemmGonum(false, true, n, n, n, 1, a, n, b, n, 0, want, n)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-5*float64(n) {
						t.Errorf("goroutine %d: C[%d] = %g, want %g", g, i, c[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestGemmPanics checks that bad arguments panic as gonum's Sgemm does,
// before any assembly reads out of bounds.
func TestGemmPanics(t *testing.T) {
	s := make([]float32, 100)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"m<0", func() { Gemm(false, false, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }, "blas: m < 0"},
		{"lda", func() { Gemm(false, false, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }, "blas: bad leading dimension of A"},
		{"ldaT", func() { Gemm(true, false, 3, 2, 2, 1, s, 2, s, 2, 0, s, 2) }, "blas: bad leading dimension of A"},
		{"ldbT", func() { Gemm(false, true, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }, "blas: bad leading dimension of B"},
		{"ldc", func() { Gemm(false, false, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) }, "blas: bad leading dimension of C"},
		{"shortA", func() { Gemm(false, false, 11, 10, 10, 1, s, 10, s, 10, 0, make([]float32, 200), 10) }, "blas: insufficient length of a"},
		{"shortB", func() { Gemm(false, true, 10, 11, 10, 1, s, 10, s, 10, 0, make([]float32, 200), 11) }, "blas: insufficient length of b"},
		{"shortC", func() { Gemm(false, false, 10, 10, 10, 1, s, 10, s, 10, 0, s[:99], 10) }, "blas: insufficient length of c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != (Error{tc.want}) {
					t.Fatalf("panic = %v, want %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// TestGemmZeroSizes covers m, n or k = 0 and alpha = 0 through Gemm.
func TestGemmZeroSizes(t *testing.T) {
	nan := float32(math.NaN())
	c := []float32{nan, nan, nan, nan}
	Gemm(false, false, 2, 2, 0, 1, make([]float32, 1), 1, nil, 2, 0, c, 2)
	if !slices.Equal(c, []float32{0, 0, 0, 0}) {
		t.Fatalf("k = 0, beta = 0: C = %v, want zeros", c)
	}
	c = []float32{1, 2, 3, 4}
	a := []float32{nan, nan}
	Gemm(false, false, 2, 2, 1, 0, a, 1, a, 2, 2, c, 2)
	if !slices.Equal(c, []float32{2, 4, 6, 8}) {
		t.Fatalf("alpha = 0, beta = 2: C = %v, want [2 4 6 8]", c)
	}
	Gemm(false, false, 0, 2, 1, 1, nil, 1, a, 2, 2, nil, 2)
	Gemm(false, false, 2, 0, 1, 1, a, 1, nil, 1, 2, nil, 1)
}

// TestGemmEpilogue: the epilogue sees every element of C exactly once, and
// only once it holds its final value, on one goroutine and split across
// two, with k blocked (k > gemmKC) and edge tiles.
func TestGemmEpilogue(t *testing.T) {
	defer SetThreads(Threads())
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		for _, sz := range [][3]int{{5, 7, 3}, {37, 45, 300}, {420, 400, 350}} {
			m, n, k := sz[0], sz[1], sz[2]
			rng := NewRNG(uint64(m))
			a, b := rng.Uniform(New(m, k), -1, 1).Data, rng.Uniform(New(k, n), -1, 1).Data
			want := make([]float32, m*n)
			gemmGonum(false, false, m, n, k, 1, a, k, b, n, 0, want, n)
			c := make([]float32, m*n)
			seen := make([]int32, m*n)
			var mu sync.Mutex
			gemmWithEpilogue(false, false, m, n, k, 1, a, k, b, n, 0, c, n, func(r0, r1, c0, c1 int) {
				mu.Lock()
				defer mu.Unlock()
				for r := r0; r < r1; r++ {
					for j := c0; j < c1; j++ {
						seen[r*n+j]++
						if d := c[r*n+j] - want[r*n+j]; d > 1e-3 || d < -1e-3 {
							t.Errorf("threads %d %v: C[%d,%d] = %v in the epilogue, final %v", threads, sz, r, j, c[r*n+j], want[r*n+j])
						}
						c[r*n+j] = -c[r*n+j] // the epilogue may change C
					}
				}
			})
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("threads %d %v: element %d seen %d times", threads, sz, i, s)
				}
				if d := c[i] + want[i]; d > 1e-3 || d < -1e-3 {
					t.Fatalf("threads %d %v: the epilogue's write to %d was lost", threads, sz, i)
				}
			}
		}
	}
}

// TestPrefetchRows: a hint that changes nothing, whatever its bounds.
func TestPrefetchRows(t *testing.T) {
	x := make([]float32, 100)
	for i := range x {
		x[i] = float32(i)
	}
	for _, c := range [][3]int{{0, 10, 10}, {10, 10, 10}, {3, 40, 8}, {1000, 7, 3}, {5, 0, 5}, {5, 10, 0}, {2, 100, 100}, {2, 200, 100}} {
		PrefetchRows(x, c[0], c[1], c[2])
	}
	PrefetchRows(nil, 1, 1, 1)
	for i, v := range x {
		if v != float32(i) {
			t.Fatalf("x[%d] = %v after PrefetchRows", i, v)
		}
	}
}

// TestGemmTransposeABitwise: a product with A transposed that runs on A's
// transpose (transposeA) is correct (against gonum) and bitwise the
// product read from A's column panels, with one thread and two, at shapes
// that take each of transposeA's branches (and its edge tiles).
func TestGemmTransposeABitwise(t *testing.T) {
	defer func(off bool) { gemmTransposeOff = off }(gemmTransposeOff)
	defer SetThreads(Threads())
	ran := false
	for _, kr := range gemmKernelList {
		if !kr.transA {
			continue
		}
		ran = true
		for _, tc := range []gemmCase{
			{transA: true, m: 128, n: 384, k: 77, alpha: 1, beta: 0},                        // lda 128, n ≥ 256
			{transA: true, m: 20, n: 260, k: 300, alpha: 0.5, beta: 1, padA: 108},           // lda 128 over 20 rows, k past a block
			{transA: true, m: 512, n: 131, k: 40, alpha: -1, beta: 0.25, padC: 3},           // lda 512, n ≥ 128
			{transA: true, transB: true, m: 128, n: 300, k: 65, alpha: 1, beta: 0, padB: 1}, // B transposed too
		} {
			gemmTransposeOff = false
			if !kr.transposeA(tc.m, tc.n, tc.k, tc.m+tc.padA) {
				t.Fatalf("%s %v: transposeA declines the case meant to take it", kr.name, tc)
			}
			for _, threads := range []int{1, 2} {
				SetThreads(threads)
				gemmTransposeOff = false
				checkGemm(t, rand.New(rand.NewPCG(7, uint64(tc.m))), kr, tc)
				a, lda, b, ldb, c, ldc := gemmOperands(rand.New(rand.NewPCG(8, uint64(tc.n))), tc)
				col := slices.Clone(c)
				gemmRun(kr, true, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
				gemmTransposeOff = true
				gemmRun(kr, true, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, col, ldc)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(col[i]) {
						t.Fatalf("%s %v, %d threads: C[%d] = %v transposed, %v from column panels", kr.name, tc, threads, i, c[i], col[i])
					}
				}
			}
		}
		// The rule: no transpose where the stride spreads over L1's sets
		// or B has too few panels to pay for it.
		gemmTransposeOff = false
		for _, c := range [][4]int{{128, 128, 768, 128}, {65, 384, 768, 65}, {128, 384, 768, 129}, {8, 384, 768, 128}, {128, 255, 768, 128}} {
			if kr.transposeA(c[0], c[1], c[2], c[3]) {
				t.Errorf("%s: transposeA(m %d, n %d, k %d, lda %d) = true", kr.name, c[0], c[1], c[2], c[3])
			}
		}
	}
	if !ran {
		t.Skip("no kernel on this CPU transposes A (the AVX2 kernel does)")
	}
}

// TestGemmPanelsBitwise: a kernel that runs a row tile's full panels in
// one call (kernel.panels) gives bitwise the results of one micro-kernel
// call a panel, and is correct against gonum: both A modes (rows in place,
// columns of a transposed A in place or packed), every tile height with
// beta 0 and not, B packed and in place, a narrower last panel or none, k
// from 1 to past a block, and with two threads (cut by rows and by
// columns). It runs a copy of the kernel whose panel kernels count their
// calls, so that it also fails when the driver never calls them (or calls
// them with gemmPanelsOff set): the two ways would then agree trivially.
func TestGemmPanelsBitwise(t *testing.T) {
	defer func(off bool) { gemmPanelsOff = off }(gemmPanelsOff)
	defer func(f int) { gemmPlanForce = f }(gemmPlanForce)
	defer func(f float64) { gemmParMinFlops = f }(gemmParMinFlops)
	defer SetThreads(Threads())
	gemmParMinFlops = 1 // split even small products
	ran := false
	for _, real := range gemmKernelList {
		if real.panels[0] == nil {
			continue
		}
		ran = true
		var calls atomic.Int64
		kr := new(gemmKernel)
		*kr = *real
		for mode := range kr.panels {
			kr.panels[mode] = slices.Clone(real.panels[mode])
			for rows, f := range kr.panels[mode] {
				if f != nil {
					kr.panels[mode][rows] = func(k int, a *float32, as int, b *float32, bs int, c *float32, cs int, alpha, beta float32, np, bp int) {
						calls.Add(1)
						f(k, a, as, b, bs, c, cs, alpha, beta, np, bp)
					}
				}
			}
		}
		for _, tc := range []gemmCase{
			{m: 6, n: 32, k: 1, alpha: 1, beta: 0},
			{m: 7, n: 48, k: 9, alpha: 0.5, beta: 1},                       // tiles of 4 and 3 rows
			{m: 11, n: 53, k: 40, alpha: -1, beta: 0.25, padA: 3, padC: 5}, // 6 + 5 rows, a 5-wide last panel
			{m: 31, n: 64, k: 300, alpha: 1, beta: 0, padB: 7},             // k past a block
			{m: 2, n: 40, k: 17, alpha: 2, beta: -1},                       // 2 rows, an 8-wide last panel
			{m: 1, n: 47, k: 5, alpha: 1, beta: 0.5},
			{transA: true, m: 12, n: 64, k: 33, alpha: 1, beta: 0, padA: 4},
			{transA: true, m: 9, n: 35, k: 8, alpha: -0.5, beta: 1},
			{transB: true, m: 13, n: 48, k: 20, alpha: 1, beta: 0, padB: 2},
			{transA: true, transB: true, m: 5, n: 50, k: 70, alpha: 1, beta: 0.5},
			{m: 200, n: 96, k: 64, alpha: 1, beta: 0}, // split across threads
			{m: 3, n: 32, k: 6, alpha: 1, beta: 0},    // tiles of 3, 2, 1 rows with beta 0
			{m: 2, n: 48, k: 3, alpha: 1, beta: 0, padC: 1},
			{m: 1, n: 33, k: 2, alpha: -2, beta: 0},
			{m: 20, n: 136, k: 10, alpha: 1, beta: 0.5}, // by columns on two threads: 48 + 48 + 40
		} {
			for _, plan := range []int{0, 4, 5, 6, 7} { // gemmPlan's, then A and B packed or not
				for _, threads := range []int{1, 2} {
					SetThreads(threads)
					gemmPlanForce = plan
					gemmPanelsOff = false
					checkGemm(t, rand.New(rand.NewPCG(31, uint64(tc.k))), kr, tc)
					a, lda, b, ldb, c, ldc := gemmOperands(rand.New(rand.NewPCG(32, uint64(tc.n))), tc)
					one := slices.Clone(c)
					calls.Store(0)
					gemmRun(kr, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
					// Every case has two full panels; blocks of columns
					// on two threads may have fewer.
					if threads == 1 && calls.Load() == 0 {
						t.Fatalf("%s %v plan %d: no panel kernel ran", kr.name, tc, plan)
					}
					gemmPanelsOff = true
					calls.Store(0)
					gemmRun(kr, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, one, ldc)
					if n := calls.Load(); n != 0 {
						t.Fatalf("%s %v plan %d, %d threads: %d panel kernel calls with gemmPanelsOff", kr.name, tc, plan, threads, n)
					}
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(one[i]) {
							t.Fatalf("%s %v plan %d, %d threads: C[%d] = %v in one call, %v a call a panel", kr.name, tc, plan, threads, i, c[i], one[i])
						}
					}
				}
			}
		}
	}
	if !ran {
		if slices.ContainsFunc(gemmKernelList, func(kr *gemmKernel) bool { return kr.name == "avx2" }) {
			t.Fatal("the AVX2 kernel runs here but has no panel kernels (gemmAVX2.panels)")
		}
		t.Skip("no kernel on this CPU runs panels in one call (the AVX2 kernel does)")
	}
}
