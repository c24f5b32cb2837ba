package tensor

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// gemmBenchShape is one benchmarked product; name reads m·k·n with the
// transposes as a prefix (NN, NT, TN, TT).
type gemmBenchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
	beta           float32
}

var gemmBenchShapes = []gemmBenchShape{
	// Square, no transpose.
	{name: "NN_64", m: 64, n: 64, k: 64},
	{name: "NN_128", m: 128, n: 128, k: 128},
	{name: "NN_256", m: 256, n: 256, k: 256},
	{name: "NN_512", m: 512, n: 512, k: 512},
	{name: "NN_1024", m: 1024, n: 1024, k: 1024},
	// Transposes at 256 (backward passes accumulate: beta = 1).
	{name: "NT_256", transB: true, m: 256, n: 256, k: 256},
	{name: "TN_256", transA: true, m: 256, n: 256, k: 256, beta: 1},
	{name: "TT_256", transA: true, transB: true, m: 256, n: 256, k: 256},
	// attnlab's workloads (BENCHMARKS.md W1–W4): [m×k]·[k×n].
	{name: "W_64x192x512", m: 64, k: 192, n: 512},
	{name: "W_64x192x512_dX", transB: true, m: 64, k: 512, n: 192, beta: 1},
	{name: "W_64x192x512_dW", transA: true, m: 192, k: 64, n: 512, beta: 1},
	{name: "W_64x128x128", m: 64, k: 128, n: 128},
	{name: "W_64x128x128_dW", transA: true, m: 128, k: 64, n: 128, beta: 1},
	{name: "W_2048x128x512", m: 2048, k: 128, n: 512},
	{name: "W_64x256x35", m: 64, k: 256, n: 35},
	{name: "W_16x16x16", m: 16, k: 16, n: 16},
	{name: "W_16x32x16_QKt", transB: true, m: 16, k: 32, n: 16},
	{name: "W_64x32x64_QKt", transB: true, m: 64, k: 32, n: 64},
	{name: "W_64x64x32_PV", m: 64, k: 64, n: 32},
	{name: "W_30x128x30", m: 30, k: 128, n: 30},
	{name: "W_30x128x30_QKt", transB: true, m: 30, k: 128, n: 30},
	// W4 (baby GPT, 768 tokens a step): qkv, fc, fc2, tied head, with
	// their backward products.
	{name: "W4_768x128x384", m: 768, k: 128, n: 384},
	{name: "W4_768x128x384_dX", transB: true, m: 768, k: 384, n: 128, beta: 1},
	{name: "W4_768x128x384_dW", transA: true, m: 128, k: 768, n: 384, beta: 1},
	{name: "W4_768x128x512", m: 768, k: 128, n: 512},
	{name: "W4_768x512x128", m: 768, k: 512, n: 128},
	{name: "W4_768x512x128_dX", transB: true, m: 768, k: 128, n: 512, beta: 1},
	{name: "W4_768x512x128_dW", transA: true, m: 512, k: 768, n: 128, beta: 1},
	{name: "W4_768x128x65_head", transB: true, m: 768, k: 128, n: 65},
	{name: "W4_768x128x128", m: 768, k: 128, n: 128},
	{name: "W4_768x128x128_dX", transB: true, m: 768, k: 128, n: 128},
	{name: "W4_768x128x128_dW", transA: true, m: 128, k: 768, n: 128, beta: 1},
	{name: "W4_768x128x512_dW", transA: true, m: 128, k: 768, n: 512, beta: 1},
	// W3 (Transformer 2+2 layers, about 1,984 tokens a step).
	{name: "W3_1984x128x128", m: 1984, k: 128, n: 128},
	{name: "W3_1984x128x128_dX", transB: true, m: 1984, k: 128, n: 128, beta: 1},
	{name: "W3_1984x128x128_dW", transA: true, m: 128, k: 1984, n: 128, beta: 1},
	{name: "W3_1984x512x128", m: 1984, k: 512, n: 128},
	{name: "W3_1984x128x512_dW", transA: true, m: 128, k: 1984, n: 512, beta: 1},
}

func benchGemmShape(b *testing.B, kr *gemmKernel, s gemmBenchShape) {
	rng := rand.New(rand.NewPCG(1, 1))
	tc := gemmCase{transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1, beta: 1}
	a, lda, bb, ldb, c, ldc := gemmOperands(rng, tc)
	// One call first puts pack buffers in the pool: the loop measures the
	// steady state.
	gemmRun(kr, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, s.beta, c, ldc)
	b.ReportAllocs()
	cpu := cpuLoop(b, func() {
		gemmRun(kr, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, s.beta, c, ldc)
	})
	flop := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// CPU time of the thread: what the kernel achieves while it runs, on a
	// machine shared with other jobs.
	b.ReportMetric(flop/cpu/1e9, "GFLOP/s-cpu")
}

// BenchmarkGemm times each kernel on one goroutine (SetThreads(1)) on
// square sizes, transposes and attnlab's shapes. "gonum" is the former
// Gemm, gonum's Sgemm, which splits products of 128 and more across
// goroutines by itself.
func BenchmarkGemm(b *testing.B) {
	defer SetThreads(Threads())
	SetThreads(1)
	kernels := append([]*gemmKernel{}, gemmKernelList...)
	kernels = append(kernels, gemmExternal...)
	kernels = append(kernels, gemmGonumKernel)
	if gemmDefault != gemmGonumKernel && !contains(kernels, gemmDefault) {
		kernels = append(kernels, gemmDefault)
	}
	for _, kr := range kernels {
		for _, s := range gemmBenchShapes {
			if kr == gemmPureGo && s.m*s.n*s.k > 256*256*256 {
				continue
			}
			b.Run(kr.name+"/"+s.name, func(b *testing.B) { benchGemmShape(b, kr, s) })
		}
	}
}

func contains(ks []*gemmKernel, k *gemmKernel) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// BenchmarkGemmThreads times the default kernel with 1 and 2 goroutines on
// NN_512 and W3's and W4's products (compare t1 and t2 with benchstat; only
// on a quiet machine: the second goroutine needs a free core).
func BenchmarkGemmThreads(b *testing.B) {
	defer SetThreads(Threads())
	var shapes []gemmBenchShape
	for _, s := range gemmBenchShapes {
		if s.name == "NN_512" || strings.HasPrefix(s.name, "W4_") || strings.HasPrefix(s.name, "W3_") {
			shapes = append(shapes, s)
		}
	}
	for _, t := range []int{1, 2} {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("t%d/%s", t, s.name), func(b *testing.B) {
				SetThreads(t)
				benchGemmShape(b, gemmDefault, s)
			})
		}
	}
}
