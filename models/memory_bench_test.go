package models

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// lmStepMiB returns the memory one forward and backward pass of a language
// model allocates on a batch of one sequence of n tokens, its
// self-attentions asked for their weights when weights is set (the dense
// kernel, as a diagnostic that wants them would run it): the step's
// buffers start from empty free lists and nothing is collected or released
// during the pass, so this bounds its peak from above.
func lmStepMiB(m *Transformer, n int, weights bool) float64 {
	b := &seq.Batch{Size: 1, T: n, In: make([]int, n), Out: make([]int, n), TgtLen: []int{n}}
	for i := range b.In {
		b.In[i], b.Out[i] = 3+i%60, 3+(i+1)%60
	}
	for _, blk := range m.LMBlocks {
		requestWeights(weights, blk.SelfAttn.(attention.Attention))
	}
	tensor.TrimPools()
	runtime.GC()
	runtime.GC()
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	loss := lossOf(m, b, ForwardOptions{Training: true})
	loss.Backward()
	runtime.ReadMemStats(&m1)
	return float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
}

// growth fits y ∝ nᵉ by least squares on log y against log n.
func growth(ns []int, ys []float64) float64 {
	var sx, sy, sxx, sxy float64
	for i, n := range ns {
		x, y := math.Log(float64(n)), math.Log(ys[i])
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	k := float64(len(ns))
	return (k*sxy - sx*sy) / (k*sxx - sx*sx)
}

// BenchmarkLMMemory measures the memory of one forward and backward pass
// of a 2-layer, 4-head Transformer language model (d_model 128, heads of
// 32, feed-forward 512, vocabulary 65, ALiBi positions, batch 1) at
// lengths 512 … 4096 with each per-head attention, and reports the MiB at
// every length and the exponent e of MiB ∝ nᵉ fitted over them. scaled-dot
// runs its dense kernel (its weights are requested, as a diagnostic would):
// the quadratic figure the others are compared with. Run it once:
//
//	go test ./models -run XX -bench LMMemory -benchtime 1x
func BenchmarkLMMemory(b *testing.B) {
	ns := []int{512, 1024, 2048, 4096}
	for _, tc := range []struct {
		name  string
		head  map[string]any
		dense bool
	}{
		{"scaled-dot", map[string]any{"name": "scaled-dot"}, true},
		{"chunked", map[string]any{"name": "chunked", "block": 64}, false},
		{"sliding-window", map[string]any{"name": "sliding-window", "window": 64}, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			spec := Spec{TgtVocab: 65, MaxLen: ns[len(ns)-1], Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 4, "head": tc.head}}}
			m, err := New("lm-transformer", map[string]any{"d_model": 128, "ff": 512, "decoder_layers": 2, "positions": "alibi"}, spec)
			if err != nil {
				b.Fatal(err)
			}
			m.Init(tensor.NewRNG(1))
			for b.Loop() {
				mib := make([]float64, len(ns))
				for i, n := range ns {
					mib[i] = lmStepMiB(m.(*Transformer), n, tc.dense)
					b.ReportMetric(mib[i], fmt.Sprintf("MiB@%d", n))
				}
				b.ReportMetric(growth(ns, mib), "exponent")
			}
		})
	}
}

// TestLMMemoryGrowth is BenchmarkLMMemory's claim at lengths a test can
// afford (256 … 1024, the same model): the memory of a training step with
// chunked and sliding-window per-head attention grows as n^(≤ 1.1), while
// the dense kernel with its weights kept grows faster than n^1.2 (the
// control: the fit can see a quadratic term at these lengths).
func TestLMMemoryGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("measures training steps at lengths up to 1024")
	}
	ns := []int{256, 512, 1024}
	for _, tc := range []struct {
		name     string
		head     map[string]any
		dense    bool
		min, max float64
	}{
		{"scaled-dot", map[string]any{"name": "scaled-dot"}, true, 1.2, 2.1},
		{"chunked", map[string]any{"name": "chunked", "block": 64}, false, 0.5, 1.1},
		{"sliding-window", map[string]any{"name": "sliding-window", "window": 64}, false, 0.5, 1.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{TgtVocab: 65, MaxLen: ns[len(ns)-1], Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 4, "head": tc.head}}}
			m, err := New("lm-transformer", map[string]any{"d_model": 128, "ff": 512, "decoder_layers": 2, "positions": "alibi"}, spec)
			if err != nil {
				t.Fatal(err)
			}
			m.Init(tensor.NewRNG(1))
			mib := make([]float64, len(ns))
			for i, n := range ns {
				mib[i] = lmStepMiB(m.(*Transformer), n, tc.dense)
			}
			e := growth(ns, mib)
			t.Logf("MiB at %v: %.1f; exponent %.3f", ns, mib, e)
			if e < tc.min || e > tc.max {
				t.Errorf("memory grows as n^%.3f, want an exponent in [%g, %g]", e, tc.min, tc.max)
			}
		})
	}
}
