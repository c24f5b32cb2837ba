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
	d := attention.Dims{Query: dim, Key: dim, Value: dim}
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
