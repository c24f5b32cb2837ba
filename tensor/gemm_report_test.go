package tensor

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGemmReport prints GFLOP/s of every kernel on every benchmark shape,
// each the best of many short trials, which stays meaningful on a machine
// shared with other jobs (testing.B averages over whole runs). The
// columns of a shape take their trials in turn (one trial of each, then
// the next round), so that a virtual machine whose speed drifts by tens of
// per cent within minutes slows them alike: timed one column after the
// other, our TN products read 60–75 GFLOP/s against OpenBLAS's 80–90 on an
// AVX2 Zen 3, and 85–89 against 85–89 when interleaved. It is skipped
// unless GEMM_REPORT is set:
//
//	GEMM_REPORT=1 go test ./tensor -run GemmReport -v [-tags openblas]
//
// Optional knobs: GEMM_KERNELS=avx512,gonum (default all),
// GEMM_SHAPES=NN_64,TN_300_200_100 (benchmark names, or XY_m_k_n),
// GEMM_TRIALS (default 200), GEMM_PLANS=0,4,5,6,7 (gemmPlanForce values),
// GEMM_KC and GEMM_NC (blocking), GEMM_THREADS (SetThreads, default 1),
// GEMM_COLD=1 (write 64 MiB before each trial, so that the operands come
// from memory as in a training step rather than from cache; 0: off).
func TestGemmReport(t *testing.T) {
	if os.Getenv("GEMM_REPORT") == "" {
		t.Skip("set GEMM_REPORT=1 to run")
	}
	env := func(k string) []string {
		if v := os.Getenv(k); v != "" {
			return strings.Split(v, ",")
		}
		return nil
	}
	atoi := func(s string) int {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	defer func(kc, nc int) { gemmKC, gemmNC, gemmPlanForce = kc, nc, 0 }(gemmKC, gemmNC)
	if v := env("GEMM_KC"); v != nil {
		gemmKC = atoi(v[0])
	}
	if v := env("GEMM_NC"); v != nil {
		gemmNC = atoi(v[0])
	}
	trials := 200
	if v := env("GEMM_TRIALS"); v != nil {
		trials = atoi(v[0])
	}
	plans := []int{0}
	if v := env("GEMM_PLANS"); v != nil {
		plans = nil
		for _, p := range v {
			plans = append(plans, atoi(p))
		}
	}
	all := append(append(append([]*gemmKernel{}, gemmKernelList...), gemmExternal...), gemmGonumKernel)
	kernels := all
	if names := env("GEMM_KERNELS"); names != nil {
		kernels = nil
		for _, k := range all {
			for _, n := range names {
				if k.name == n {
					kernels = append(kernels, k)
				}
			}
		}
	}
	shapes := gemmBenchShapes
	if names := env("GEMM_SHAPES"); names != nil {
		shapes = nil
	next:
		for _, n := range names {
			for _, s := range gemmBenchShapes {
				if s.name == n {
					shapes = append(shapes, s)
					continue next
				}
			}
			var s gemmBenchShape
			var tr string
			if _, err := fmt.Sscanf(strings.ReplaceAll(n, "_", " "), "%s %d %d %d", &tr, &s.m, &s.k, &s.n); err != nil || len(tr) != 2 {
				t.Fatalf("shape %q: want a benchmark name or XY_m_k_n", n)
			}
			s.name, s.transA, s.transB = n, tr[0] == 'T', tr[1] == 'T'
			shapes = append(shapes, s)
		}
	}
	var flush []float32
	if v := env("GEMM_COLD"); v != nil && v[0] != "0" {
		flush = make([]float32, 16<<20)
	}
	defer SetThreads(Threads())
	SetThreads(1)
	if v := env("GEMM_THREADS"); v != nil {
		SetThreads(atoi(v[0]))
	}
	defer func(f float64) { gemmParMinFlops = f }(gemmParMinFlops)
	if v := env("GEMM_PARMIN"); v != nil {
		gemmParMinFlops = float64(atoi(v[0]))
	}
	head := fmt.Sprintf("%-18s", "shape")
	for _, kr := range kernels {
		for _, p := range plans {
			name := kr.name
			if len(plans) > 1 {
				name += fmt.Sprintf("/p%d", p)
			}
			head += fmt.Sprintf(" %10s", name)
		}
	}
	t.Log(head + "   (GFLOP/s, best of trials)")
	for _, s := range shapes {
		line := fmt.Sprintf("%-18s", s.name)
		tc := gemmCase{transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1, beta: 1}
		a, lda, b, ldb, c, ldc := gemmOperands(rand.New(rand.NewPCG(1, 1)), tc)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		reps := max(1, int(1e6/flops))
		if flush != nil {
			reps = 1
		}
		best := make([]time.Duration, len(kernels)*len(plans))
		for i := range best {
			best[i] = 1 << 62
		}
		for range trials {
			for i, kr := range kernels {
				for j, p := range plans {
					gemmPlanForce = p
					for x := range flush {
						flush[x]++
					}
					t0 := time.Now()
					for range reps {
						gemmRun(kr, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, s.beta, c, ldc)
					}
					best[i*len(plans)+j] = min(best[i*len(plans)+j], time.Since(t0))
				}
			}
		}
		for _, d := range best {
			line += fmt.Sprintf(" %10.1f", flops*float64(reps)/d.Seconds()/1e9)
		}
		t.Log(line)
	}
}

// BenchmarkGemmMicro runs each kernel's full register tile on L1-resident
// panels (k = 128): the ceiling of the blocked driver.
func BenchmarkGemmMicro(b *testing.B) {
	for _, kr := range gemmKernelList {
		b.Run(kr.name, func(b *testing.B) {
			const k = 128
			a := make([]float32, k*kr.mr)
			bb := make([]float32, k*kr.nr)
			c := make([]float32, kr.mr*kr.nr)
			row := kr.micro[0][kr.mr]
			f := row[len(row)-1][0]
			b.ReportAllocs()
			for b.Loop() {
				f(k, &a[0], 4*kr.mr, &bb[0], 4*kr.nr, &c[0], 4*kr.nr, 1, 1, kr.nr)
			}
			b.ReportMetric(2*float64(k*kr.mr*kr.nr)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkGemmPackTrans times the transposing pack of a 32×256 block of
// B into a panel (Gelem/s in the GFLOP/s column).
func BenchmarkGemmPackTrans(b *testing.B) {
	src := make([]float32, 512*512)
	dst := make([]float32, 256*32)
	packs := []struct {
		name string
		f    func(dst []float32, ds int, src []float32, ld, rows, cols int)
	}{{"go", gemmPackTrans}}
	for _, kr := range gemmKernelList {
		if kr.packT != nil {
			packs = append(packs, struct {
				name string
				f    func(dst []float32, ds int, src []float32, ld, rows, cols int)
			}{kr.name, kr.packT})
		}
	}
	for _, p := range packs {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.f(dst, 32, src, 512, 32, 256)
			}
			b.ReportMetric(32*256*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
