package runs

import (
	_ "embed"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"sort"
	"time"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// The reference workloads of BENCHMARKS.md, built through the registries
// and trained with the same step as every run: forward, masked
// cross-entropy, backward, Adam. Throughput counts non-pad target tokens of
// the timed steps over their wall time; batches are prepared beforehand.

//go:embed benchdata/english.txt
var englishText string

// Workload is one reference workload.
type Workload struct {
	Name string
	Doc  string
	// build returns the model, and a function making the i-th batch.
	build func() (models.Model, func(rng *tensor.RNG) *seq.Batch, error)
}

// Workloads lists W1–W4 (W5 is measured by BenchAttention).
var Workloads = []Workload{
	{"W1", "seq2seq: LSTM 128 encoder, LSTM cell decoder with additive attention (Bahdanau order), reverse 10–30", func() (models.Model, func(*tensor.RNG) *seq.Batch, error) {
		m, err := models.New("seq2seq-rnn", map[string]any{"embed": 64, "wiring": "bahdanau"}, models.Spec{SrcVocab: 35, TgtVocab: 35,
			Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 128}}, Attention: registry.Plugin{Name: "additive", Params: map[string]any{"dim": 128}}})
		return m, reverseBatch, err
	}},
	{"W2", "seq2seq: LSTM 128 encoder, LSTM decoder over the whole target, scaled dot-product attention (Luong order, logits from [s; c]), reverse 10–30", func() (models.Model, func(*tensor.RNG) *seq.Batch, error) {
		m, err := models.New("seq2seq-rnn", map[string]any{"embed": 64, "wiring": "luong", "attentional": false}, models.Spec{SrcVocab: 35, TgtVocab: 35,
			Encoder: registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 128}}, Attention: registry.Plugin{Name: "scaled-dot", Params: map[string]any{}}})
		return m, reverseBatch, err
	}},
	{"W3", "Transformer encoder-decoder d 128, 4 heads, 2+2 layers, FFN 512, post-LN, reverse 10–30", func() (models.Model, func(*tensor.RNG) *seq.Batch, error) {
		m, err := models.New("seq2seq-transformer", map[string]any{"d_model": 128, "ff": 512, "encoder_layers": 2, "decoder_layers": 2, "dropout": 0.0,
			"norm": "post", "positions": "sinusoidal", "activation": "relu", "scale_embeddings": true},
			models.Spec{SrcVocab: 35, TgtVocab: 35, MaxLen: 64, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 4}}})
		return m, reverseBatch, err
	}},
	{"W4", "decoder-only char LM (baby GPT): vocabulary 65, d 128, 4 heads, 4 layers, FFN 512 GELU, pre-LN, learned positions, tied embedding, context 64, batch 12", func() (models.Model, func(*tensor.RNG) *seq.Batch, error) {
		m, err := models.New("lm-transformer", map[string]any{"d_model": 128, "ff": 512, "decoder_layers": 4, "dropout": 0.0,
			"norm": "pre", "positions": "learned", "activation": "gelu", "tie_embeddings": true},
			models.Spec{TgtVocab: 65, MaxLen: 64, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 4}}})
		return m, textBatch, err
	}},
}

// reverseBatch makes a batch of the reverse data of W1–W3: 64 examples,
// lengths uniform in 10..30, symbols 3..34; decoder input bos x_L … x_1,
// target x_L … x_1 eos.
func reverseBatch(rng *tensor.RNG) *seq.Batch {
	const size = 64
	lens := make([]int, size)
	s := 0
	for i := range lens {
		lens[i] = 10 + rng.IntN(21)
		s = max(s, lens[i])
	}
	t := s + 1
	b := &seq.Batch{Size: size, S: s, T: t, Src: make([]int, size*s), SrcLen: lens, In: make([]int, size*t), Out: make([]int, size*t), TgtLen: make([]int, size)}
	for i, l := range lens {
		x := make([]int, l)
		for j := range x {
			x[j] = 3 + rng.IntN(32)
		}
		copy(b.Src[i*s:], x)
		b.In[i*t] = seq.BOSID
		for j := 0; j < l; j++ {
			b.In[i*t+1+j] = x[l-1-j]
			b.Out[i*t+j] = x[l-1-j]
		}
		b.Out[i*t+l] = seq.EOSID
		b.TgtLen[i] = l + 1
	}
	return b
}

// textBatch makes a W4 batch: 12 windows of 65 characters of English text
// (ids < 65), input the first 64, target the last 64.
func textBatch(rng *tensor.RNG) *seq.Batch {
	const size, ctx = 12, 64
	ids := textIDs()
	b := &seq.Batch{Size: size, T: ctx, In: make([]int, size*ctx), Out: make([]int, size*ctx), TgtLen: make([]int, size)}
	for i := 0; i < size; i++ {
		off := rng.IntN(len(ids) - ctx - 1)
		copy(b.In[i*ctx:], ids[off:off+ctx])
		copy(b.Out[i*ctx:], ids[off+1:off+ctx+1])
		b.TgtLen[i] = ctx
	}
	return b
}

func textIDs() []int {
	index := map[rune]int{}
	var out []int
	for _, r := range englishText {
		id, ok := index[r]
		if !ok {
			id = 3 + len(index) // 0..2 are pad, bos, eos
			index[r] = id
		}
		out = append(out, id)
	}
	return out
}

// BenchOptions control a workload measurement.
type BenchOptions struct {
	Steps   int // timed steps (default 20)
	Warmup  int // untimed steps first (default 3)
	Threads int // intra-op threads (default 1)
}

// BenchResult is one workload's measurement.
type BenchResult struct {
	Name           string
	Params         int
	Steps          int
	Tokens         int
	Seconds        float64
	TokensPerSec   float64
	AllocsPerStep  float64
	BytesPerStep   float64
	MeanLossBefore float64 // first timed step's loss, as a sanity check
	MeanLossAfter  float64
}

// RunWorkload trains the named workload for the given number of steps and
// measures its throughput.
func RunWorkload(name string, opt BenchOptions) (*BenchResult, error) {
	var w *Workload
	for i := range Workloads {
		if Workloads[i].Name == name {
			w = &Workloads[i]
		}
	}
	if w == nil {
		return nil, fmt.Errorf("bench: unknown workload %q (known: W1, W2, W3, W4, W5)", name)
	}
	if opt.Steps <= 0 {
		opt.Steps = 20
	}
	if opt.Warmup < 0 {
		opt.Warmup = 0
	} else if opt.Warmup == 0 {
		opt.Warmup = 3
	}
	m, batchFn, err := w.build()
	if err != nil {
		return nil, err
	}
	if opt.Threads > 1 {
		old := tensor.Threads()
		tensor.SetThreads(opt.Threads)
		defer tensor.SetThreads(old)
	}
	rng := tensor.NewRNG(1)
	m.Init(rng.Split())
	ps := m.Params()
	adam := optim.NewAdam(ps, optim.AdamParams{LR: 1e-3, Betas: []float64{0.9, 0.999}, Eps: 1e-8}, false)
	batches := make([]*seq.Batch, opt.Warmup+opt.Steps)
	for i := range batches {
		batches[i] = batchFn(rng)
	}
	step := func(b *seq.Batch) float64 {
		out := m.Forward(b, models.ForwardOptions{Training: true})
		loss := tensor.CrossEntropy(out.Logits, b.Out, seq.PadID, 0)
		layers.ZeroGrad(ps)
		loss.Backward()
		adam.Step(1e-3)
		l := float64(loss.Item())
		tensor.Release(loss)
		return l
	}
	for _, b := range batches[:opt.Warmup] {
		step(b)
	}
	res := &BenchResult{Name: name, Params: layers.CountParams(ps), Steps: opt.Steps}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for i, b := range batches[opt.Warmup:] {
		l := step(b)
		if i == 0 {
			res.MeanLossBefore = l
		}
		res.MeanLossAfter = l
		for _, n := range b.TgtLen {
			res.Tokens += n
		}
	}
	res.Seconds = time.Since(start).Seconds()
	runtime.ReadMemStats(&ms1)
	res.TokensPerSec = float64(res.Tokens) / res.Seconds
	res.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / float64(opt.Steps)
	res.BytesPerStep = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(opt.Steps)
	return res, nil
}

// AttentionPoint is one W5 measurement: one multi-head self-attention layer
// (batch 1, 4 heads × 32, d 128: Linear 128→384 for q, k, v, attention,
// Linear 128→128), forward and backward with a fixed upstream gradient.
type AttentionPoint struct {
	Variant string  // softmax, chunked or linear
	N       int     // sequence length
	Ms      float64 // per forward+backward (best of the repeats)
	PeakMiB float64 // memory allocated by one forward+backward (nothing is freed during it)
	Context []float32
}

// BenchAttention measures W5 for the variant (softmax: scaled dot-product,
// chunked: the same in key blocks, linear: φ = elu + 1) at length n.
func BenchAttention(variant string, n, repeats int) (*AttentionPoint, error) {
	const d, heads = 128, 4
	inner := map[string]string{"softmax": "scaled-dot", "chunked": "chunked", "linear": "linear"}[variant]
	if inner == "" {
		return nil, fmt.Errorf("bench: unknown W5 variant %q (known: softmax, chunked, linear)", variant)
	}
	att, err := attention.New(inner, nil, attention.Dims{Query: d / heads, Key: d / heads, Value: d / heads})
	if err != nil {
		return nil, err
	}
	rng := tensor.NewRNG(5)
	qkv := layers.NewLinear(d, 3*d, true)
	out := layers.NewLinear(d, d, true)
	qkv.Init(rng)
	out.Init(rng)
	x := rng.Normal(tensor.New(1, n, d), 0, 1).SetRequiresGrad(true)
	upstream := rng.Normal(tensor.New(1, n, d), 0, 1).Data
	// heads folds [1,n,d] into [heads,n,d/heads].
	heads4 := func(t *tensor.Tensor) *tensor.Tensor {
		return tensor.Permute(tensor.Reshape(t, n, heads, d/heads), 1, 0, 2)
	}
	run := func() *tensor.Tensor {
		p := tensor.Split(qkv.Forward(x), 2, d, d, d)
		ctx, _ := att.Attend(heads4(p[0]), heads4(p[1]), heads4(p[2]), nil)
		merged := tensor.Reshape(tensor.Permute(ctx, 1, 0, 2), 1, n, d)
		y := out.Forward(merged)
		tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{upstream})
		return y
	}
	pt := &AttentionPoint{Variant: variant, N: n, Ms: math.Inf(1)}
	ps := append(qkv.Params(), out.Params()...)
	for r := 0; r < max(repeats, 1); r++ {
		layers.ZeroGrad(ps)
		x.ZeroGrad()
		runtime.GC()
		old := debug.SetGCPercent(-1)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		y := run()
		ms := float64(time.Since(start).Microseconds()) / 1000
		runtime.ReadMemStats(&m1)
		debug.SetGCPercent(old)
		pt.Ms = math.Min(pt.Ms, ms)
		pt.PeakMiB = float64(m1.TotalAlloc-m0.TotalAlloc) / (1 << 20)
		pt.Context = y.Data[:8]
	}
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

// WorkloadNames returns W1–W5.
func WorkloadNames() []string {
	names := []string{"W5"}
	for _, w := range Workloads {
		names = append(names, w.Name)
	}
	sort.Strings(names)
	return names
}
