package bench

import (
	_ "embed"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

//go:embed benchdata/english.txt
var englishText string

// Workload is one training workload of BENCHMARKS.md (W1–W4).
type Workload struct {
	Name string
	Doc  string
	// Torch is the name of the row of torch_ref.py measuring the same model.
	Torch string
	// Steps is how many steps Train times by default: as many as
	// torch_ref.py times for its row, so that both sides average the noise
	// of this machine over the same number of steps.
	Steps int
	// Config is the run configuration: model, optimizer (Adam, lr 1e-3, no
	// clipping, constant schedule), as a run of this shape would have it.
	Config func() experiments.Config
	// Spec sizes the model (vocabularies, positions).
	Spec models.Spec
	// Batch makes one batch from rng.
	Batch func(rng *tensor.RNG) *seq.Batch
}

// trainConfig returns the training settings every workload shares:
// torch_ref.py's Adam(lr 1e-3, betas (0.9, 0.999), eps 1e-8), no clipping,
// no label smoothing, full teacher forcing, constant schedule.
func trainConfig(model experiments.Model) experiments.Config {
	cfg := experiments.Defaults()
	cfg.Model = model
	cfg.Train.Optimizer = registry.Plugin{Name: "adam", Params: map[string]any{"lr": 1e-3, "betas": []any{0.9, 0.999}, "eps": 1e-8, "weight_decay": 0.0}}
	cfg.Train.Schedule = registry.Plugin{Name: "constant", Params: map[string]any{}}
	cfg.Train.Clip = 0
	cfg.Train.LabelSmoothing = 0
	cfg.Train.TeacherForcing = 1
	return cfg
}

func plugin(name string, params map[string]any) *registry.Plugin {
	return &registry.Plugin{Name: name, Params: params}
}

// spec returns the model spec of a config's plugins with the given sizes.
func spec(cfg experiments.Config, src, tgt, maxLen int) models.Spec {
	s := models.Spec{SrcVocab: src, TgtVocab: tgt, MaxLen: maxLen}
	if p := cfg.Model.Encoder; p != nil {
		s.Encoder = *p
	}
	if p := cfg.Model.Attention; p != nil {
		s.Attention = *p
	}
	return s
}

// Workloads lists W1–W4 (W5 is measured by Attention, W6 by Decode).
var Workloads = []Workload{
	{
		Name:  "W1",
		Doc:   "seq2seq: LSTM 128 encoder, LSTM cell decoder with additive attention (Bahdanau order), reverse 10–30",
		Torch: "W1-loop",
		Steps: 40,
		Config: func() experiments.Config {
			return trainConfig(experiments.Model{Name: "seq2seq-rnn", Params: map[string]any{"embed": 64, "wiring": "bahdanau"},
				Encoder: plugin("lstm", map[string]any{"hidden": 128}), Attention: plugin("additive", map[string]any{"dim": 128})})
		},
		Batch: reverseBatch,
	},
	{
		Name:  "W2",
		Doc:   "seq2seq: LSTM 128 encoder, LSTM decoder over the whole target, scaled dot-product attention (Luong order, logits from [s; c]), reverse 10–30",
		Torch: "W2",
		Steps: 100,
		Config: func() experiments.Config {
			return trainConfig(experiments.Model{Name: "seq2seq-rnn", Params: map[string]any{"embed": 64, "wiring": "luong", "attentional": false},
				Encoder: plugin("lstm", map[string]any{"hidden": 128}), Attention: plugin("scaled-dot", map[string]any{})})
		},
		Batch: reverseBatch,
	},
	{
		Name:  "W3",
		Doc:   "Transformer encoder-decoder d 128, 4 heads, 2+2 layers, FFN 512 ReLU, post-LN, reverse 10–30",
		Torch: "W3",
		Steps: 50,
		Config: func() experiments.Config {
			return trainConfig(experiments.Model{Name: "seq2seq-transformer", Params: map[string]any{"d_model": 128, "ff": 512,
				"encoder_layers": 2, "decoder_layers": 2, "dropout": 0.0, "norm": "post", "positions": "sinusoidal",
				"activation": "relu", "scale_embeddings": true, "max_len": 64},
				Attention: plugin("multi-head", map[string]any{"heads": 4})})
		},
		Batch: reverseBatch,
	},
	{
		Name:  "W4",
		Doc:   "decoder-only char LM (baby GPT): vocabulary 65, d 128, 4 heads, 4 layers, FFN 512 GELU, pre-LN, learned positions, tied embedding, context 64, batch 12",
		Torch: "W4",
		Steps: 150,
		Config: func() experiments.Config {
			return trainConfig(experiments.Model{Name: "lm-transformer", Params: map[string]any{"d_model": 128, "ff": 512,
				"decoder_layers": 4, "dropout": 0.0, "norm": "pre", "positions": "learned", "activation": "gelu",
				"tie_embeddings": true, "max_len": 64},
				Attention: plugin("multi-head", map[string]any{"heads": 4})})
		},
		Batch: textBatch,
	},
}

// workloadSizes are the vocabularies and longest sequences of W1–W4.
var workloadSizes = map[string][3]int{"W1": {35, 35, 64}, "W2": {35, 35, 64}, "W3": {35, 35, 64}, "W4": {0, 65, 64}}

// Lookup returns the training workload called name (W1–W4, any case).
func Lookup(name string) (*Workload, error) {
	for i := range Workloads {
		if strings.EqualFold(Workloads[i].Name, name) {
			w := Workloads[i]
			sz := workloadSizes[w.Name]
			w.Spec = spec(w.Config(), sz[0], sz[1], sz[2])
			return &w, nil
		}
	}
	return nil, fmt.Errorf("bench: unknown workload %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names returns the names of every workload, W1–W6.
func Names() []string {
	var names []string
	for _, w := range Workloads {
		names = append(names, w.Name)
	}
	return append(names, "W5", "W6")
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

// textIDs numbers the characters of the embedded text from 3 in order of
// first appearance (0..2 are pad, bos and eos).
func textIDs() []int {
	index := map[rune]int{}
	var out []int
	for _, r := range englishText {
		id, ok := index[r]
		if !ok {
			id = 3 + len(index)
			index[r] = id
		}
		out = append(out, id)
	}
	return out
}

// Options control a training measurement.
type Options struct {
	Steps   int // timed steps (0: the workload's Steps, as torch_ref.py)
	Warmup  int // untimed steps first (0: 3; negative: none)
	Threads int // intra-op threads (0 or 1: one)
}

// Result is one training workload's measurement.
type Result struct {
	Kind          string  `json:"kind"` // "train"
	Workload      string  `json:"workload"`
	Threads       int     `json:"threads"`
	Params        int     `json:"params"`
	Steps         int     `json:"steps"`
	Warmup        int     `json:"warmup"`
	Tokens        int     `json:"tokens"`
	Seconds       float64 `json:"seconds"`     // wall time of the timed steps
	CPUSeconds    float64 `json:"cpu_seconds"` // CPU time of the process over them (all threads)
	TokensPerSec  float64 `json:"tok_per_s"`
	MsPerStep     float64 `json:"ms_per_step"`
	AllocsPerStep float64 `json:"allocs_per_step"`
	BytesPerStep  float64 `json:"bytes_per_step"`
	LossFirst     float64 `json:"loss_first"` // first warm-up (or timed) step's loss
	LossLast      float64 `json:"loss_last"`  // last timed step's loss
}

// Train trains the named workload (W1–W4) with runs.Stepper — the step
// every run takes: forward, masked cross-entropy, finiteness checks,
// backward, clipping, the schedule's learning rate and the optimizer's
// update — and measures its throughput: non-pad target tokens of the timed
// steps over their wall time, after warm-up steps. Batches are made
// beforehand. It sets tensor's thread count for the measurement and
// restores it after.
func Train(name string, opt Options) (*Result, error) {
	w, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if opt.Steps <= 0 {
		opt.Steps = w.Steps
	}
	switch {
	case opt.Warmup < 0:
		opt.Warmup = 0
	case opt.Warmup == 0:
		opt.Warmup = 3
	}
	defer withThreads(opt.Threads)()
	s, batches, err := prepare(w, opt.Warmup+opt.Steps)
	if err != nil {
		return nil, err
	}
	res := &Result{Kind: "train", Workload: w.Name, Threads: tensor.Threads(), Params: layers.CountParams(s.Params),
		Steps: opt.Steps, Warmup: opt.Warmup}
	for i, b := range batches[:opt.Warmup] {
		l, err := s.Step(b, i+1)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: warm-up step %d: %w", w.Name, i+1, err)
		}
		if i == 0 {
			res.LossFirst = l
		}
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuSeconds()
	start := time.Now()
	for i, b := range batches[opt.Warmup:] {
		step := opt.Warmup + i + 1
		l, err := s.Step(b, step)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: step %d: %w", w.Name, step, err)
		}
		if step == 1 {
			res.LossFirst = l
		}
		res.LossLast = l
		for _, n := range b.TgtLen {
			res.Tokens += n
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.CPUSeconds = cpuSeconds() - cpu0
	runtime.ReadMemStats(&ms1)
	res.TokensPerSec = float64(res.Tokens) / res.Seconds
	res.MsPerStep = 1000 * res.Seconds / float64(opt.Steps)
	res.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / float64(opt.Steps)
	res.BytesPerStep = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(opt.Steps)
	return res, nil
}

// prepare builds w's model, optimizer and schedule as runs.Stepper and
// makes n batches.
func prepare(w *Workload, n int) (*runs.Stepper, []*seq.Batch, error) {
	rng := tensor.NewRNG(1)
	s, err := runs.NewStepper(w.Config(), w.Spec, rng.Split(), n)
	if err != nil {
		return nil, nil, fmt.Errorf("bench: %s: %w", w.Name, err)
	}
	s.RNG = rng.Split()
	batches := make([]*seq.Batch, n)
	for i := range batches {
		batches[i] = w.Batch(rng)
	}
	layers.SetTraining(true, s.Model)
	return s, batches, nil
}

// withThreads sets tensor's thread count to n (0: leave it) and returns a
// function restoring the previous setting.
func withThreads(n int) func() {
	if n < 1 {
		return func() {}
	}
	old := tensor.Threads()
	tensor.SetThreads(n)
	return func() { tensor.SetThreads(old) }
}
