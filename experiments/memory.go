package experiments

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// MemoryEstimate is a rough estimate of what one run needs to train,
// computed from its configuration alone (nothing is allocated), so that a
// configuration far too large for the machine is refused at plan time
// instead of ending in the allocator. It counts the weight matrices of the
// model's layers and embeddings (the vocabulary when the task's parameters
// give it: the alphabet of a generated task, max_vocab of a file task),
// and the activations of one training step at the batch size and the
// longest sequences the task's parameters declare (tasks.Lengths). It is
// an order of magnitude, not a measurement: biases, small layers and the
// allocator's overhead are left out.
type MemoryEstimate struct {
	Params int64 // parameters
	Bytes  int64 // peak training memory, bytes
}

// bytesPerParam: float32 weights, their gradients and Adam's two moments.
const bytesPerParam = 16

// EstimateMemory returns the estimate for a resolved configuration.
func EstimateMemory(c Config) MemoryEstimate {
	e := estimator{vocab: taskVocab(c.Task), batch: float64(max(c.Train.BatchSize, 1))}
	e.src, e.tgt = taskLengths(c.Task)
	e.model(c.Model)
	bytes := e.params*bytesPerParam + e.acts*4
	return MemoryEstimate{Params: clampInt64(e.params), Bytes: clampInt64(bytes)}
}

// String writes the estimate for people: "12 MiB (1.2 million parameters)".
func (m MemoryEstimate) String() string {
	return FormatBytes(m.Bytes) + " (" + formatCount(m.Params) + " parameters)"
}

type estimator struct {
	vocab    float64 // 0 when unknown
	batch    float64
	src, tgt float64 // longest sequences, 0 when unknown
	params   float64
	acts     float64 // float32 values kept for the backward pass
}

// model counts the model's layers. The formulas follow the structure of
// the models package's entries by name; a model it does not know counts
// nothing (and is never refused).
func (e *estimator) model(m Model) {
	p := m.Params
	lm := false
	if info, err := models.Registry.Info(m.Name); err == nil {
		lm = info.Has(models.LanguageModel)
	}
	switch m.Name {
	case "seq2seq-rnn":
		embed := num(p, "embed")
		e.params += 2 * e.vocab * embed // source and target embeddings
		encOut := e.rnn(m.Encoder, embed, e.src)
		hidden := num(p, "hidden")
		if hidden == 0 {
			hidden = encOut
		}
		// Decoder cell over [embedding; context], attention, output layer.
		e.params += 4*hidden*(embed+encOut+hidden) + 2*hidden*(encOut+hidden) + e.vocab*hidden
		e.acts += e.batch * e.tgt * (10*hidden + 2*e.vocab + 2*e.src)
		e.attention(m.Attention, hidden, encOut, e.tgt, e.src)
	case "seq2seq-transformer", "lm-transformer":
		d, ff := num(p, "d_model"), num(p, "ff")
		enc, dec := num(p, "encoder_layers"), num(p, "decoder_layers")
		if lm {
			enc = 0
		}
		if maxLen := num(p, "max_len"); maxLen > 0 {
			e.params += maxLen * d // learned positions, at most
		}
		e.params += 2 * e.vocab * d
		layer := func(t float64, attentions float64) {
			e.params += 2 * d * ff // the attentions count their own projections
			e.acts += e.batch * t * (attentions*6*d + 2*ff)
			for range int(attentions) {
				e.attention(m.Attention, d, d, t, t)
			}
		}
		for range int(min(enc, 64)) {
			layer(e.src, 1)
		}
		t, n := e.tgt, 2.0
		if lm {
			t, n = max(e.src, e.tgt), 1
		}
		for range int(min(dec, 64)) {
			layer(t, n)
		}
		e.acts += e.batch * t * 2 * e.vocab
	case "lm-rnn":
		embed := num(p, "embed")
		t := max(e.src, e.tgt)
		e.params += 2 * e.vocab * embed
		out := e.rnn(m.Encoder, embed, t)
		e.params += e.vocab * out
		e.acts += e.batch * t * 2 * e.vocab
	}
}

// rnn counts an lstm or gru encoder block over inputs of size in and
// sequences of t steps, and returns its output size.
func (e *estimator) rnn(block *registry.Plugin, in, t float64) float64 {
	if block == nil {
		return 0
	}
	h, layers := num(block.Params, "hidden"), min(num(block.Params, "layers"), 64)
	gates := 4.0
	if block.Name == "gru" {
		gates = 3
	}
	dirs := 1.0
	if b, _ := block.Params["bidirectional"].(bool); b {
		dirs = 2
	}
	for range int(layers) {
		e.params += dirs * gates * h * (in + h)
		e.acts += e.batch * t * dirs * (gates + 2) * h
		in = dirs * h
	}
	return dirs * h
}

// attention counts an attention block between queries of size q and keys
// of size k: its projections (dim, heads) and its [B, Tq, Tk] scores.
func (e *estimator) attention(block *registry.Plugin, q, k, tq, tk float64) {
	if block == nil || block.Name == "none" {
		return
	}
	dim := num(block.Params, "dim")
	heads := max(num(block.Params, "heads"), 1)
	switch block.Name {
	case "multi-head":
		if dim == 0 {
			dim = k
		}
		e.params += 2*dim*q + 2*dim*k
		if head, err := registry.PluginOf(block.Params["head"]); err == nil {
			e.attention(&head, dim/heads, dim/heads, tq, tk)
			e.acts += (heads - 1) * e.batch * tq * tk * 2
		}
	default:
		e.params += dim * (q + k)
		if w := num(block.Params, "window"); w > 0 {
			tk = min(tk, 2*w+1)
		}
		if b := num(block.Params, "block"); b > 0 {
			tk = min(tk, b)
		}
		if dim > 0 {
			e.acts += e.batch * tq * tk * dim
		}
	}
	e.acts += e.batch * tq * tk * 2
}

// taskVocab returns the vocabulary size a task's parameters give, or 0.
func taskVocab(p registry.Plugin) float64 {
	if v := num(p.Params, "symbols"); v > 0 {
		return v + 4 // the reserved ids
	}
	return num(p.Params, "max_vocab")
}

// taskLengths returns the longest source and decoder input of the task's
// batches when its parameters declare them (tasks.Lengths), else 0, 0.
func taskLengths(p registry.Plugin) (src, tgt float64) {
	info, err := tasks.Registry.Info(p.Name)
	if err != nil {
		return 0, 0
	}
	v, err := info.Decode(p.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return 0, 0
	}
	l, ok := v.(tasks.Lengths)
	if !ok {
		return 0, 0
	}
	s, t := l.MaxLengths()
	bs, bt := tasks.BatchLengths(s, t, info.Has(tasks.LanguageModel))
	return float64(bs), float64(bt)
}

// num returns the number under key of a plugin's parameters (an int or a
// float64, as YAML and JSON decode them), or 0.
func num(m map[string]any, key string) float64 {
	switch x := m[key].(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func clampInt64(x float64) int64 {
	if x >= math.MaxInt64 || math.IsNaN(x) {
		return math.MaxInt64
	}
	return int64(x)
}

// FormatBytes writes a byte count for people with three significant
// digits: "512 B", "12.5 MiB", "1.23 TiB".
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	x, i := float64(n), 0
	for x >= 1024 && i < len(units)-1 {
		x /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return strconv.FormatFloat(x, 'f', max(0, 2-int(math.Floor(math.Log10(x)))), 64) + " " + units[i]
}

// ParseBytes reads a byte count as FormatBytes writes it or as people
// type it: "512", "64MiB", "8 GiB", "1.5G" (K, M, G, T are powers of
// 1024, with or without "iB" or "B").
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	numPart, unit := t, ""
	if i >= 0 {
		numPart, unit = t[:i], strings.TrimSpace(t[i:])
	}
	x, err := strconv.ParseFloat(numPart, 64)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("%q is not a size such as 8GiB or 512MiB", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
	u := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "i"))
	m, ok := mult[u]
	if !ok {
		return 0, fmt.Errorf("%q is not a size such as 8GiB or 512MiB (units: B, KiB, MiB, GiB, TiB)", s)
	}
	return clampInt64(x * m), nil
}

// formatCount writes a count for people: "950", "12.3 thousand", "1.2
// million", "7.8 billion".
func formatCount(n int64) string {
	x := float64(n)
	for _, u := range []struct {
		v    float64
		name string
	}{{1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}, {1e3, "thousand"}} {
		if x >= u.v {
			return strconv.FormatFloat(x/u.v, 'f', 1, 64) + " " + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
