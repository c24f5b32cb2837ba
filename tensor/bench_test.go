package tensor_test

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/attnlab/attnlab/tensor"
)

func benchMatMul(b *testing.B, n int) {
	rng := tensor.NewRNG(1)
	x := rng.Uniform(tensor.New(n, n), -1, 1)
	y := rng.Uniform(tensor.New(n, n), -1, 1)
	b.ReportAllocs()
	for b.Loop() {
		tensor.MatMul(x, y)
	}
	b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// benchGonum calls gonum's blas32 Gemm directly on the same sizes, the
// baseline MatMul must keep up with (no hidden copies).
func benchGonum(b *testing.B, n int) {
	rng := tensor.NewRNG(1)
	x := rng.Uniform(tensor.New(n, n), -1, 1)
	y := rng.Uniform(tensor.New(n, n), -1, 1)
	b.ReportAllocs()
	for b.Loop() {
		c := make([]float32, n*n)
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas32.General{Rows: n, Cols: n, Stride: n, Data: x.Data},
			blas32.General{Rows: n, Cols: n, Stride: n, Data: y.Data}, 0,
			blas32.General{Rows: n, Cols: n, Stride: n, Data: c})
	}
	b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMatMul64(b *testing.B)      { benchMatMul(b, 64) }
func BenchmarkMatMul128(b *testing.B)     { benchMatMul(b, 128) }
func BenchmarkMatMul256(b *testing.B)     { benchMatMul(b, 256) }
func BenchmarkGonumSgemm64(b *testing.B)  { benchGonum(b, 64) }
func BenchmarkGonumSgemm128(b *testing.B) { benchGonum(b, 128) }
func BenchmarkGonumSgemm256(b *testing.B) { benchGonum(b, 256) }

func BenchmarkBatchedMatMul32x64(b *testing.B) {
	rng := tensor.NewRNG(1)
	x := rng.Uniform(tensor.New(32, 64, 64), -1, 1)
	y := rng.Uniform(tensor.New(32, 64, 64), -1, 1)
	b.ReportAllocs()
	for b.Loop() {
		tensor.MatMul(x, y)
	}
	b.ReportMetric(2*32*64*64*64*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMaskedSoftmax(b *testing.B) {
	rng := tensor.NewRNG(1)
	x := rng.Uniform(tensor.New(32, 8, 64, 64), -3, 3)
	mask := tensor.New(32, 1, 1, 64)
	for i := range mask.Data {
		if i%64 < 48 {
			mask.Data[i] = 1
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		tensor.MaskedSoftmax(x, mask)
	}
}

func BenchmarkCrossEntropy(b *testing.B) {
	rng := tensor.NewRNG(1)
	logits := rng.Uniform(tensor.New(64*32, 1000), -3, 3).SetRequiresGrad(true)
	targets := make([]int, 64*32)
	for i := range targets {
		targets[i] = rng.IntN(1000)
	}
	b.ReportAllocs()
	for b.Loop() {
		tensor.CrossEntropy(logits, targets, 0, 0.1).Backward()
	}
}

// BenchmarkMLPStep is one training step of a two-layer MLP (64→256→10,
// batch 128): forward, loss, backward and an SGD update.
func BenchmarkMLPStep(b *testing.B) {
	rng := tensor.NewRNG(1)
	w1 := rng.Uniform(tensor.New(64, 256), -0.1, 0.1).SetRequiresGrad(true)
	b1 := tensor.New(256).SetRequiresGrad(true)
	w2 := rng.Uniform(tensor.New(256, 10), -0.1, 0.1).SetRequiresGrad(true)
	b2 := tensor.New(10).SetRequiresGrad(true)
	x := rng.Uniform(tensor.New(128, 64), -1, 1)
	y := make([]int, 128)
	for i := range y {
		y[i] = 1 + rng.IntN(9)
	}
	params := []*tensor.Tensor{w1, b1, w2, b2}
	b.ReportAllocs()
	for b.Loop() {
		h := tensor.ReLU(tensor.Add(tensor.MatMul(x, w1), b1))
		loss := tensor.CrossEntropy(tensor.Add(tensor.MatMul(h, w2), b2), y, 0, 0)
		loss.Backward()
		for _, p := range params {
			for i, g := range p.Grad {
				p.Data[i] -= 0.01 * g
			}
			p.ZeroGrad()
		}
	}
}
