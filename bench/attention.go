package bench

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"time"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// AttentionVariants are the W5 variants: softmax (scaled dot-product),
// chunked (the same, exact, over key blocks) and linear (φ = elu + 1).
var AttentionVariants = []string{"softmax", "chunked", "linear"}

// AttentionLengths are W5's sequence lengths.
var AttentionLengths = []int{256, 512, 1024, 2048, 4096}

// AttentionPoint is one W5 measurement: one multi-head self-attention layer
// (batch 1, 4 heads × 32, d 128: Linear 128→384 for q, k, v, attention,
// Linear 128→128), forward and backward with a fixed upstream gradient.
type AttentionPoint struct {
	Kind    string  `json:"kind"` // "w5"
	Variant string  `json:"variant"`
	N       int     `json:"n"`
	Threads int     `json:"threads"`
	Reps    int     `json:"reps"`
	Ms      float64 `json:"ms"`       // median wall ms per forward+backward
	MsMin   float64 `json:"ms_min"`   // fastest repeat
	CPUMs   float64 `json:"cpu_ms"`   // least CPU ms of the process over a repeat (steadier than wall time on a busy machine)
	PeakMiB float64 `json:"peak_mib"` // memory the first forward+backward allocates from fresh memory (nothing is freed during it)
	// Context holds the first outputs of the last repeat (variants agree).
	Context []float32 `json:"-"`
}

// Attention measures W5 for the variant at length n as torch_ref.py does:
// a first forward and backward measures the memory, then `repeats` timed
// ones (the median and the fastest are kept), each graph released after it
// (tensor.Release), as PyTorch frees its graph and reuses the memory.
func Attention(variant string, n, repeats, threads int) (*AttentionPoint, error) {
	const d, heads = 128, 4
	inner := map[string]string{"softmax": "scaled-dot", "chunked": "chunked", "linear": "linear"}[variant]
	if inner == "" {
		return nil, fmt.Errorf("bench: unknown W5 variant %q (known: softmax, chunked, linear)", variant)
	}
	if n < 1 {
		return nil, fmt.Errorf("bench: W5 length %d: must be at least 1", n)
	}
	// All four heads in one call: the attention reads head h from columns
	// h·32 … h·32+31 of q, k and v [1,n,128] (a strided split, no copies).
	att, err := attention.New(inner, nil, attention.Dims{Query: d / heads, Key: d / heads, Value: d / heads, Heads: heads})
	if err != nil {
		return nil, err
	}
	defer withThreads(threads)()
	rng := tensor.NewRNG(5)
	qkv := layers.NewLinear(d, 3*d, true)
	out := layers.NewLinear(d, d, true)
	qkv.Init(rng)
	out.Init(rng)
	x := rng.Normal(tensor.New(1, n, d), 0, 1).SetRequiresGrad(true)
	upstream := rng.Normal(tensor.New(1, n, d), 0, 1).Data
	run := func() *tensor.Tensor {
		p := tensor.Split(qkv.Forward(x), 2, d, d, d)
		ctx, _ := att.Attend(p[0], p[1], p[2], nil)
		y := out.Forward(ctx)
		tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{upstream})
		return y
	}
	pt := &AttentionPoint{Kind: "w5", Variant: variant, N: n, Threads: tensor.Threads(), Reps: max(repeats, 1)}
	ps := append(qkv.Params(), out.Params()...)
	var times []float64
	pt.CPUMs = math.Inf(1)
	// As torch_ref.py: a first, untimed forward+backward from fresh memory
	// (the free lists emptied) measures the memory; the timed repeats
	// follow, each graph released after it as PyTorch frees its graph, so
	// they reuse the memory as PyTorch's caching allocator does.
	tensor.TrimPools()
	for r := -1; r < pt.Reps; r++ {
		layers.ZeroGrad(ps)
		x.ZeroGrad()
		runtime.GC()
		old := debug.SetGCPercent(-1)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cpu0 := cpuSeconds()
		start := time.Now()
		y := run()
		wall := float64(time.Since(start).Nanoseconds()) / 1e6
		cpu := 1000 * (cpuSeconds() - cpu0)
		runtime.ReadMemStats(&m1)
		debug.SetGCPercent(old)
		pt.Context = append(pt.Context[:0], y.Data[:min(8, len(y.Data))]...)
		tensor.Release(y)
		if r < 0 {
			pt.PeakMiB = float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
			continue
		}
		times = append(times, wall)
		pt.CPUMs = min(pt.CPUMs, cpu)
	}
	slices.Sort(times)
	pt.Ms, pt.MsMin = times[len(times)/2], times[0]
	return pt, nil
}

// GrowthExponent fits y ∝ nᵉ by least squares on log y against log n.
func GrowthExponent(ns []int, ys []float64) float64 {
	var sx, sy, sxx, sxy float64
	for i, n := range ns {
		x, y := math.Log(float64(n)), math.Log(ys[i])
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	k := float64(len(ns))
	return (k*sxy - sx*sy) / (k*sxx - sx*sx)
}
