package attention_test

import (
	"fmt"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// BenchmarkAttention measures one forward and backward pass of every
// variant (default parameters) at batch 8, size 64, Tq = Tk = 64 and 256,
// without a mask: BenchmarkAttention/additive/64.
func BenchmarkAttention(b *testing.B) {
	const batch, dim = 8, 64
	d := attention.Dims{Query: dim, Key: dim, Value: dim, Directions: 1}
	for _, name := range attention.Registry.Names() {
		for _, n := range []int{64, 256} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				a, err := attention.New(name, nil, d)
				if err != nil {
					b.Fatal(err)
				}
				attention.Init(a, tensor.NewRNG(1))
				rng := tensor.NewRNG(2)
				q := randn(rng, true, batch, n, dim)
				k := randn(rng, true, batch, n, dim)
				v := randn(rng, true, batch, n, dim)
				seed := rng.Uniform(tensor.New(batch, n, dim), -1, 1).Data
				b.ReportAllocs()
				for b.Loop() {
					ctx, _ := a.Attend(q, k, v, nil)
					if ctx.RequiresGrad() {
						tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{seed})
					}
				}
				b.ReportMetric(float64(batch*n)*float64(b.N)/b.Elapsed().Seconds(), "queries/s")
			})
		}
	}
}

// BenchmarkSelfAttentionHeads measures one forward and backward pass of the
// attention of a 4-head causal self-attention layer (heads of 32 read in
// place from [1,n,128]) with each per-head kernel: the crossover where the
// flash kernel pays.
func BenchmarkSelfAttentionHeads(b *testing.B) {
	const heads, hd = 4, 32
	d := attention.Dims{Query: hd, Key: hd, Value: hd, Heads: heads, Causal: true}
	for _, name := range []string{"scaled-dot", "chunked", "sliding-window", "linear"} {
		for _, n := range []int{64, 128, 256, 512, 1024} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				a, err := attention.New(name, nil, d)
				if err != nil {
					b.Fatal(err)
				}
				rng := tensor.NewRNG(2)
				q := randn(rng, true, 1, n, heads*hd)
				k := randn(rng, true, 1, n, heads*hd)
				v := randn(rng, true, 1, n, heads*hd)
				seed := rng.Uniform(tensor.New(1, n, heads*hd), -1, 1).Data
				b.ReportAllocs()
				for b.Loop() {
					ctx, _ := a.Attend(q, k, v, nil)
					tensor.BackwardFrom([]*tensor.Tensor{ctx}, [][]float32{seed})
				}
			})
		}
	}
}
