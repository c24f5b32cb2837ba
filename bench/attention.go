package bench

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// AttentionVariants are the W5 variants: softmax (scaled dot-product),
// chunked (the same, exact, over key blocks) and linear (φ = elu + 1).
var AttentionVariants = []string{"softmax", "chunked", "linear"}

// MaxAttentionLength bounds W5's lengths: at 16384 the softmax variant
// keeps about 140 MiB and takes minutes per repeat; beyond, memory and
// time grow without a use.
const MaxAttentionLength = 16384

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
	FirstMs float64 `json:"first_ms"` // wall ms of that first, untimed forward+backward (sets Reps as torch_ref.py does)
	// Context holds the first outputs of the last repeat (variants agree).
	Context []float32 `json:"-"`
}

// Attention measures W5 for the variant at length n with torch_ref.py's
// protocol (run_w5): one first, untimed forward and backward from fresh
// memory (the free lists emptied) measures the memory; then `repeats`
// timed ones — with repeats 0, as torch_ref.py, max(3, min(50,
// ⌊1.5 s / the first one's time⌋)) — of which the median and the fastest
// are kept. A timed repeat is what run_w5's fwd_bwd does: the q, k, v
// projection, read in place by the attention as PyTorch's split gives
// views (attention.AttendPacked), the attention, the output projection,
// the backward pass from the fixed upstream gradient to every parameter
// and to the input, and the reset of the gradients; it also gives the
// graph's memory back (tensor.Release), as PyTorch frees its graph when
// fwd_bwd returns. The garbage collector runs as it would in a run.
func Attention(variant string, n, repeats, threads int) (*AttentionPoint, error) {
	const d, heads = 128, 4
	inner := map[string]string{"softmax": "scaled-dot", "chunked": "chunked", "linear": "linear"}[variant]
	if inner == "" {
		return nil, fmt.Errorf("bench: unknown W5 variant %q (known: softmax, chunked, linear)", variant)
	}
	if n < 1 {
		return nil, fmt.Errorf("bench: W5 length %d: must be at least 1", n)
	}
	if repeats < 0 {
		return nil, fmt.Errorf("bench: W5 repeats %d: must be 0 (as torch_ref.py) or more", repeats)
	}
	// All four heads in one call: the attention reads head h from columns
	// h·32 … h·32+31 of q, k and v (a strided split, no per-head copies).
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
	ps := append(qkv.Params(), out.Params()...)
	pt := &AttentionPoint{Kind: "w5", Variant: variant, N: n, Threads: tensor.Threads()}
	fwdBwd := func() {
		ctx, _ := attention.AttendPacked(att, qkv.Forward(x), d, d, d, nil)
		y := out.Forward(ctx)
		tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{upstream})
		pt.Context = append(pt.Context[:0], y.Data[:min(8, len(y.Data))]...)
		tensor.Release(y)
		layers.ZeroGrad(ps)
		x.ZeroGrad()
	}
	// The first forward+backward, from fresh memory, measures the memory
	// (nothing is released before its end) and sets the number of repeats.
	tensor.TrimPools()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	fwdBwd()
	first := time.Since(start)
	runtime.ReadMemStats(&m1)
	pt.PeakMiB = float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
	pt.FirstMs = float64(first.Nanoseconds()) / 1e6
	pt.Reps = repeats
	if repeats == 0 {
		pt.Reps = TorchRepeats(first.Seconds())
	}
	times := make([]float64, pt.Reps)
	pt.CPUMs = math.Inf(1)
	for r := range times {
		cpu0 := cpuSeconds()
		start := time.Now()
		fwdBwd()
		times[r] = float64(time.Since(start).Nanoseconds()) / 1e6
		pt.CPUMs = min(pt.CPUMs, 1000*(cpuSeconds()-cpu0))
	}
	slices.Sort(times)
	pt.Ms, pt.MsMin = times[len(times)/2], times[0]
	return pt, nil
}

// TorchRepeats is the number of timed repeats torch_ref.py's run_w5 makes
// after a first forward+backward that took first seconds:
// max(3, min(50, ⌊1.5 / max(first, 1e-4)⌋)).
func TorchRepeats(first float64) int {
	return max(3, min(50, int(1.5/max(first, 1e-4))))
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
