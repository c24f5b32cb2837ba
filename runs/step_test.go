package runs

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// halvesConfig returns a small model's configuration (SGD, so that
// parameters move by the gradient's differences and no more) and spec:
// kind is a model name, att its attention (nil: the kind's usual one).
func halvesConfig(kind string, att *registry.Plugin) (experiments.Config, models.Spec) {
	cfg := experiments.Defaults()
	lm := strings.HasPrefix(kind, "lm-")
	switch kind {
	case "seq2seq-transformer", "lm-transformer":
		if att == nil {
			att = &registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 2}}
		}
		ps := map[string]any{"d_model": 16, "ff": 32, "decoder_layers": 2, "dropout": 0.0, "max_len": 16}
		if lm {
			ps["norm"], ps["positions"], ps["activation"], ps["tie_embeddings"] = "pre", "learned", "gelu", true
		} else {
			ps["encoder_layers"], ps["positions"] = 1, "sinusoidal"
		}
		cfg.Model = experiments.Model{Name: kind, Params: ps, Attention: att}
	case "seq2seq-rnn":
		if att == nil {
			att = &registry.Plugin{Name: "additive", Params: map[string]any{}}
		}
		cfg.Model = experiments.Model{Name: kind, Params: map[string]any{"embed": 8, "dropout": 0.0},
			Encoder: &registry.Plugin{Name: "lstm", Params: map[string]any{"hidden": 12, "layers": 2, "bidirectional": true}}, Attention: att}
	case "lm-rnn":
		cfg.Model = experiments.Model{Name: kind, Params: map[string]any{"embed": 8, "dropout": 0.0, "tie_embeddings": true},
			Encoder: &registry.Plugin{Name: "gru", Params: map[string]any{"hidden": 12, "layers": 2}}}
	default:
		panic(kind)
	}
	cfg.Train.Optimizer = registry.Plugin{Name: "sgd", Params: map[string]any{"lr": 0.1}}
	cfg.Train.Schedule = registry.Plugin{Name: "constant", Params: map[string]any{}}
	cfg.Train.Clip = 1
	cfg.Train.LabelSmoothing = 0.1
	spec := models.Spec{TgtVocab: 12, MaxLen: 16}
	if att != nil {
		spec.Attention = *att
	}
	if cfg.Model.Encoder != nil {
		spec.Encoder = *cfg.Model.Encoder
	}
	if !lm {
		spec.SrcVocab = 12
	}
	return cfg, spec
}

// randomBatch makes a right-padded batch of size examples of lengths 2–10.
func randomBatch(rng *tensor.RNG, size int, lm bool) *seq.Batch {
	const t = 10
	b := &seq.Batch{Size: size, T: t, In: make([]int, size*t), Out: make([]int, size*t), TgtLen: make([]int, size)}
	if !lm {
		b.S, b.Src, b.SrcLen = t, make([]int, size*t), make([]int, size)
	}
	for i := range size {
		n := 2 + rng.IntN(t-1)
		b.TgtLen[i] = n
		b.Tokens += n
		for j := range n {
			b.In[i*t+j], b.Out[i*t+j] = 3+rng.IntN(9), 3+rng.IntN(9)
		}
		if !lm {
			b.SrcLen[i] = 2 + rng.IntN(t-1)
			for j := range b.SrcLen[i] {
				b.Src[i*t+j] = 3 + rng.IntN(9)
			}
		}
	}
	return b
}

// TestStepHalves: a step on a batch split in halves, each run by its own
// copy of the model, gives the loss, gradients and parameters of the step
// on the whole batch, up to float32 rounding; batches of one example, or
// without targets, take the whole-batch step. A Performer that draws new
// features at every call must draw the same in both copies.
func TestStepHalves(t *testing.T) {
	performer := &registry.Plugin{Name: "performer", Params: map[string]any{"features": 8, "redraw": 1}}
	for _, tc := range []struct {
		kind string
		att  *registry.Plugin
	}{
		{"seq2seq-transformer", nil}, {"lm-transformer", nil}, {"seq2seq-transformer", performer}, {"lm-transformer", performer},
		{"seq2seq-rnn", nil}, {"lm-rnn", nil},
	} {
		name := tc.kind
		if tc.att != nil {
			name += "/" + tc.att.Name
		}
		t.Run(name, func(t *testing.T) {
			cfg, spec := halvesConfig(tc.kind, tc.att)
			lm := strings.HasPrefix(tc.kind, "lm-")
			split, err := NewStepper(cfg, spec, tensor.NewRNG(7), 10)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := NewStepper(cfg, spec, tensor.NewRNG(7), 10)
			if err != nil {
				t.Fatal(err)
			}
			whole.noTwin = true
			if split.twin == nil {
				t.Fatal("no copy of the Transformer to split batches with")
			}
			rng := tensor.NewRNG(3)
			for step, size := range []int{5, 8, 1, 7} {
				b := randomBatch(rng, size, lm)
				layers.ZeroGrad(split.twin.params)
				l1, err := split.Step(b, step+1)
				if err != nil {
					t.Fatal(err)
				}
				l2, err := whole.Step(b, step+1)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(l1-l2) > 1e-5*math.Abs(l2) {
					t.Fatalf("step %d (%d examples): loss %v split, %v whole", step+1, size, l1, l2)
				}
				twinGrad, global := 0.0, 0.0
				for _, q := range whole.Params {
					for _, g := range q.Grad {
						global += float64(g) * float64(g)
					}
				}
				global = math.Sqrt(global)
				for i, p := range split.Params {
					q := whole.Params[i]
					var diff, norm float64
					for j, g := range p.Grad {
						d := float64(g - q.Grad[j])
						diff += d * d
						norm += float64(q.Grad[j]) * float64(q.Grad[j])
					}
					// Relative to the parameter's gradient, or to the whole
					// gradient's for one that is 0 but for rounding (a
					// key bias's: softmax ignores it).
					if !(math.Sqrt(diff) <= 1e-5*math.Sqrt(norm)+1e-6*global) {
						t.Fatalf("step %d (%d examples): %s's gradient differs by %.3g (norm %.3g)", step+1, size, p.Name, math.Sqrt(diff), math.Sqrt(norm))
					}
					for _, g := range split.twin.params[i].Grad {
						twinGrad += math.Abs(float64(g))
					}
				}
				if (twinGrad > 0) != (size > 1) {
					t.Fatalf("step %d (%d examples): the copy's gradients sum to %v in magnitude", step+1, size, twinGrad)
				}
			}
			for i, p := range split.Params {
				for j, v := range p.Data {
					if w := whole.Params[i].Data[j]; math.Abs(float64(v-w)) > 1e-6 {
						t.Fatalf("%s[%d] = %v split, %v whole", p.Name, j, v, w)
					}
				}
			}
		})
	}
}

// TestStepHalvesNoTargets: a batch whose targets are all padding takes the
// whole-batch step (loss 0).
func TestStepHalvesNoTargets(t *testing.T) {
	cfg, spec := halvesConfig("lm-transformer", nil)
	s, err := NewStepper(cfg, spec, tensor.NewRNG(7), 10)
	if err != nil {
		t.Fatal(err)
	}
	b := randomBatch(tensor.NewRNG(1), 4, true)
	clear(b.Out)
	l, err := s.Step(b, 1)
	if err != nil || l != 0 {
		t.Fatalf("Step = %v, %v; want 0, nil", l, err)
	}
	for _, q := range s.twin.params {
		if q.Grad != nil {
			t.Fatalf("the copy ran (%s has a gradient)", q.Name)
		}
	}
}

func TestSplitPoint(t *testing.T) {
	for _, tc := range []struct {
		tgt, src []int
		want     int
	}{
		{[]int{4, 4}, nil, 1},
		{[]int{5, 5, 5, 5, 5, 5}, nil, 3},
		{[]int{10, 1, 1, 1, 9}, nil, 2},
		{[]int{1, 1, 1, 1, 10}, nil, 4},
		{[]int{2, 2, 2}, []int{6, 1, 1}, 1},
		{[]int{3, 3, 3, 3, 3}, nil, 2},
	} {
		b := &seq.Batch{Size: len(tc.tgt), TgtLen: tc.tgt, SrcLen: tc.src}
		if got := splitPoint(b); got != tc.want {
			t.Errorf("splitPoint(targets %v, sources %v) = %d, want %d", tc.tgt, tc.src, got, tc.want)
		}
	}
}

// TestStepHalvesEveryVariant: with every attention variant a Transformer
// or a recurrent translator takes, and every position scheme, the split
// step on two threads (the halves side by side: CI runs this package under
// the race detector) matches the whole-batch step.
func TestStepHalvesEveryVariant(t *testing.T) {
	defer tensor.SetThreads(tensor.Threads())
	tensor.SetThreads(2)
	type variant struct {
		att       *registry.Plugin
		positions string
	}
	var vs []variant
	for _, name := range attention.Registry.Names() {
		vs = append(vs, variant{&registry.Plugin{Name: name, Params: map[string]any{}}, "sinusoidal"})
	}
	for _, pos := range []string{"learned", "rope", "alibi", "t5"} {
		vs = append(vs, variant{nil, pos})
	}
	tested, tries := 0, 0
	for _, v := range vs {
		for _, kind := range []string{"seq2seq-transformer", "lm-transformer", "seq2seq-rnn"} {
			if kind == "seq2seq-rnn" && v.att == nil {
				continue // positions are a Transformer's
			}
			tries++
			lm := kind == "lm-transformer"
			cfg, spec := halvesConfig(kind, v.att)
			if kind != "seq2seq-rnn" {
				cfg.Model.Params["positions"] = v.positions
			}
			name := fmt.Sprintf("%s/%s/%s", kind, spec.Attention.Name, v.positions)
			split, err := NewStepper(cfg, spec, tensor.NewRNG(5), 10)
			if err != nil {
				t.Logf("%s: not this model's attention: %v", name, err)
				continue
			}
			whole, err := NewStepper(cfg, spec, tensor.NewRNG(5), 10)
			if err != nil {
				t.Fatal(err)
			}
			whole.noTwin = true
			rng := tensor.NewRNG(4)
			for step := 1; step <= 2; step++ {
				b := randomBatch(rng, 6, lm)
				l1, err1 := split.Step(b, step)
				l2, err2 := whole.Step(b, step)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s step %d: %v, %v", name, step, err1, err2)
				}
				if math.Abs(l1-l2) > 1e-5*math.Abs(l2) {
					t.Errorf("%s step %d: loss %v split, %v whole", name, step, l1, l2)
				}
			}
			tested++
		}
	}
	t.Logf("%d models tested of %d tried", tested, tries)
	if tested < tries-4 {
		t.Fatalf("only %d models built of %d", tested, tries)
	}
}

// TestTwinDropoutStreams: every dropout module of the twin, the one between
// a recurrent encoder's layers included (checkpoints do not hold it), draws
// from a stream split from the model's at each step, not from a copy of
// the model's own (the halves would get the same masks).
func TestTwinDropoutStreams(t *testing.T) {
	cfg, spec := halvesConfig("seq2seq-rnn", nil)
	cfg.Model.Params["dropout"] = 0.1
	cfg.Model.Encoder.Params["dropout"] = 0.1
	s, err := NewStepper(cfg, spec, tensor.NewRNG(7), 10)
	if err != nil {
		t.Fatal(err)
	}
	s.RNG = tensor.NewRNG(8)
	if n, all := len(dropouts(s.Model)), len(s.twin.drops[0]); all != n+1 {
		t.Fatalf("the twin pairs %d dropout modules; the model has %d besides its encoder's", all, n)
	}
	if _, err := s.Step(randomBatch(tensor.NewRNG(1), 4, false), 1); err != nil {
		t.Fatal(err)
	}
	drawing := 0
	for i, d := range s.twin.drops[0] {
		if d.P == 0 {
			continue // never draws
		}
		drawing++
		if a, b := d.RNG.Clone().Uint64(), s.twin.drops[1][i].RNG.Clone().Uint64(); a == b {
			t.Fatalf("dropout %d: the twin's stream is the model's", i)
		}
	}
	if drawing != 2 {
		t.Fatalf("%d dropout modules draw, want 2 (the model's and its encoder's)", drawing)
	}
}

// TestRestoreOlderCheckpointWithoutEncoderDropout: a checkpoint written
// before trainState.EncoderDropout (its streams absent) still restores,
// leaving those streams where Init put them; one that has them restores
// them.
func TestRestoreOlderCheckpointWithoutEncoderDropout(t *testing.T) {
	cfg := loadConfig(t, "testdata/sweep_rnn_dropout.yaml", "seeds=[1]")
	r, err := build(cfg, newMemRecorder(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	es := encoderDropouts(r.model)
	if len(es) != 1 {
		t.Fatalf("%d encoder dropout modules, want 1", len(es))
	}
	es[0].RNG.Uint64() // moved on from Init
	moved := es[0].RNG.Clone().Uint64()
	data, err := r.encodeCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := layers.ReadTensors(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := decodeState(meta)
	if err != nil {
		t.Fatal(err)
	}
	saved.Train.EncoderDropout = nil // as checkpoints before it
	if meta[metaState], err = encodeState(saved); err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(ts))
	var tensors []*tensor.Tensor
	for _, n := range names {
		tensors = append(tensors, ts[n])
	}
	var old bytes.Buffer
	if err := layers.WriteTensors(&old, names, tensors, meta); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want func(uint64) bool
	}{
		{"older", old.Bytes(), func(v uint64) bool { return v != moved }},
		{"current", data, func(v uint64) bool { return v == moved }},
	} {
		r2, err := build(cfg, newMemRecorder(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r2.restore(tc.data); err != nil {
			t.Fatalf("%s checkpoint: %v", tc.name, err)
		}
		if v := encoderDropouts(r2.model)[0].RNG.Clone().Uint64(); !tc.want(v) {
			t.Errorf("%s checkpoint: the encoder's dropout stream draws %d (the saved stream: %d)", tc.name, v, moved)
		}
	}
}
