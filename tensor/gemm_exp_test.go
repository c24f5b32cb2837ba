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

// TestGemmExpMin: EXP=1 PLANS=4,5 SHAPES=regex go test -run GemmExpMin -v
// reports min-of-trials GFLOP/s (robust against a loaded machine).
func BenchmarkPackExp(b *testing.B) {
	src := make([]float32, 512*512)
	dst := make([]float32, 512*32)
	packs := map[string]func(dst []float32, ds int, src []float32, ld, rows, cols int){"go": gemmPackTrans}
	for _, kr := range gemmKernelList {
		if kr.packT != nil {
			packs[kr.name] = kr.packT
		}
	}
	for name, f := range packs {
		b.Run(name+"/transB32x256", func(b *testing.B) {
			for b.Loop() {
				f(dst, 32, src, 512, 32, 256)
			}
			b.ReportMetric(float64(32*256*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestGemmExpMin(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	plans := []int{0}
	if v := os.Getenv("PLANS"); v != "" {
		plans = nil
		for _, f := range strings.Split(v, ",") {
			p, _ := strconv.Atoi(f)
			plans = append(plans, p)
		}
	}
	kname := os.Getenv("KERNEL")
	if kname == "" {
		kname = "avx512"
	}
	var kr *gemmKernel
	for _, k := range append(append(append([]*gemmKernel{}, gemmKernelList...), gemmExternal...), gemmGonumKernel) {
		if k.name == kname {
			kr = k
		}
	}
	filter := os.Getenv("SHAPES")
	trials := 300
	if v := os.Getenv("TRIALS"); v != "" {
		trials, _ = strconv.Atoi(v)
	}
	defer func() { gemmPlanForce = 0 }()
	if v := os.Getenv("KC"); v != "" {
		gemmKC, _ = strconv.Atoi(v)
		defer func() { gemmKC = 256 }()
	}
	if v := os.Getenv("NC"); v != "" {
		gemmNC, _ = strconv.Atoi(v)
		defer func() { gemmNC = 512 }()
	}
	shapes := gemmBenchShapes
	if filter != "" {
		shapes = nil
		for _, f := range strings.Split(filter, ",") {
			found := false
			for _, s := range gemmBenchShapes {
				if s.name == f {
					shapes = append(shapes, s)
					found = true
				}
			}
			if !found { // TN_m_k_n
				var s gemmBenchShape
				var tr string
				fmt.Sscanf(strings.ReplaceAll(f, "_", " "), "%s %d %d %d", &tr, &s.m, &s.k, &s.n)
				s.name, s.transA, s.transB = f, tr[0] == 'T', tr[1] == 'T'
				shapes = append(shapes, s)
			}
		}
	}
	for _, s := range shapes {
		line := fmt.Sprintf("%-20s", s.name)
		rng := rand.New(rand.NewPCG(1, 1))
		tc := gemmCase{transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1, beta: 1}
		a, lda, bb, ldb, c, ldc := gemmOperands(rng, tc)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		reps := max(1, int(2e6/flops))
		for _, p := range plans {
			gemmPlanForce = p
			best := time.Duration(1 << 62)
			for range trials {
				t0 := time.Now()
				for range reps {
					gemmRun(kr, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, s.beta, c, ldc)
				}
				best = min(best, time.Since(t0))
			}
			line += fmt.Sprintf("  p%d %6.1f", p, flops*float64(reps)/best.Seconds()/1e9)
		}
		t.Log(line)
	}
}

// BenchmarkKernelPeak runs the full AVX-512 micro-kernel on L1-resident
// panels: the ceiling of the blocked driver.
func BenchmarkKernelPeak(b *testing.B) {
	kr := gemmKernelList[0]
	const k = 128
	a := make([]float32, k*kr.mr)
	bb := make([]float32, k*kr.nr)
	c := make([]float32, kr.mr*kr.nr)
	f := kr.micro[0][kr.mr][len(kr.micro[0][kr.mr])-1][0]
	for b.Loop() {
		for range 100 {
			f(k, &a[0], 4*kr.mr, &bb[0], 4*kr.nr, &c[0], 4*kr.nr, 1, 1, kr.nr)
		}
	}
	b.ReportMetric(100*2*float64(k*kr.mr*kr.nr)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
