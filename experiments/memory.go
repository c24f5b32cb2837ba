package experiments

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// MemoryEstimate is a rough estimate of what one run needs to train,
// computed from its configuration alone (nothing is allocated), so that a
// configuration far too large for the machine is refused at plan time
// instead of ending in the allocator. It counts the weight matrices of the
// model's layers and embeddings (the vocabulary when the task's parameters
// give it: the alphabet of a generated task; for a file task the size its
// data gave when it was checked (Config.DataVocab), else max_vocab); the
// larger of the activations of one training step (values and gradients)
// at the batch size and the longest training sequences the task's
// parameters declare (tasks.Lengths, tasks.TrainLengths), and of an
// evaluation's forward pass (values only) at its batch size and the
// longest sequences of any split; plus the memory its dataset takes to
// build: for a task that reads files, what it took when the experiment was
// loaded (Config.DataBytes), for a generated task what its split sizes and
// lengths give (tasks.Sized). It is an order of magnitude, not a
// measurement, meant to err high: biases, small layers and the
// allocator's overhead are left out.
type MemoryEstimate struct {
	Params int64 // parameters
	Bytes  int64 // peak memory of training and evaluating, bytes, the dataset's included
	Data   int64 // of which the dataset, bytes
	// Train is what training alone needs, bytes: the weights, their
	// gradients and optimizer state and one step's activations (Bytes
	// holds the larger of this and an evaluation's need, and the dataset).
	Train int64
	// Length is the longest sequence of a batch the estimate assumed (the
	// source or the decoder input, of any split), 0 when the task's
	// lengths are unknown and its activations were left out.
	Length int64
}

// bytesPerParam: float32 weights, their gradients and Adam's two moments
// (16 bytes), and what a run holds of them besides while it trains: a
// checkpoint serialises weights and moments (12), and evaluation decodes
// with packed copies of the weights (4). Measured on an 8.4-million-
// parameter Transformer: the live heap peaked at 253 MB against 32 bytes
// a parameter's 268 MB (16 bytes gave 134).
const bytesPerParam = 32

// bytesPerActivation is what one activation float the models' formulas
// count (models.MemoryEstimator) stands for in a training step: its value
// and its gradient, both kept until the step ends, the intermediate
// tensors the formulas leave out, and the spare capacity of the tensor
// pool's size classes (up to a fifth). Measured with tensor.GraphBytes
// after one step (runs' TestMemoryEstimateBoundsAStep): with 7 floats of 4
// bytes for each float counted, the estimate of training is 1.2 to 3.6
// times what a step holds over sixteen RNN, Transformer and language-model
// shapes.
const bytesPerActivation = 28

// bytesPerForwardActivation is the same for an evaluation's forward pass,
// which keeps no gradients: a value and the intermediates the formulas
// leave out. Measured (peak RSS of whole runs whose test split is 250-400
// times longer than their training sequences): a GRU at 348 MB and a
// Transformer at 399 MB, estimated (with their test decoding and stored
// attention maps) at 584 MiB and 995 MiB.
const bytesPerForwardActivation = 8

// EvalBatch is the batch an evaluation runs at (runs) for a training batch
// size: at least 32.
func EvalBatch(train int) int { return max(train, 32) }

// EvalTokens bounds the tokens of one evaluation batch at a long context
// (eval.context): batches of contexts beyond EvalTokens/EvalBatch hold
// fewer windows. The loss does not depend on the batching.
const EvalTokens = 1 << 14

// ContextBatch is the batch of windows an evaluation at context n runs
// at (eval.context).
func ContextBatch(train, n int) int { return max(1, min(EvalBatch(train), EvalTokens/max(n, 1))) }

// dataBytesPerFileByte approximates a dataset's memory from its files'
// size when it was not measured, for a task whose parameters do not bound
// it (tasks.FileBytes; see EstimateMemory).
const dataBytesPerFileByte = 16

// EstimateMemory returns the estimate for a resolved configuration. The
// formulas live with the models: a model's decoded parameters implement
// models.MemoryEstimator, and ask its attention and encoder of their own
// entries (attention.EstimateMemory, models.EstimateEncoderMemory). A
// model whose parameters do not implement it is estimated at 0 (and is
// never refused).
func EstimateMemory(c Config) MemoryEstimate {
	env := models.MemoryEnv{
		Vocab: taskVocab(c.Task), Batch: float64(max(c.Train.BatchSize, 1)),
		Encoder: c.Model.Encoder, Attention: c.Model.Attention,
	}
	train, valid, test := splitSizes(c)
	if train > 0 {
		// A batch holds at most the split (tasks.Batcher): a batch_size of
		// 65,536 over 50 examples is a batch of 50.
		env.Batch = min(env.Batch, float64(train))
	}
	if c.DataVocab > 0 { // the vocabulary the data gave, not its bound
		env.Vocab = float64(c.DataVocab)
	}
	env.Src, env.Tgt = taskLengths(c.Task, c.DataLengths, true)
	params, acts := models.EstimateMemory(c.Model.Name, c.Model.Params, env)
	evalBytes := evalMemory(c, env, max(valid, test))
	data := c.DataBytes
	if data == 0 {
		// A configuration read back from the run database has lost what
		// its dataset took (DataBytes is not stored): its files' sizes
		// give it, at the most bytes a file byte takes in the task's
		// common shapes (tasks.FileBytes: 16 for pairs, 4 or 6 for text),
		// or dataBytesPerFileByte for a task that does not say.
		perByte := fileBytes(c.Task)
		for _, fp := range c.Data {
			data += perByte * fp.Size
		}
		if len(c.Data) == 0 {
			data = generatedData(c.Task)
		}
	}
	weights := params * bytesPerParam
	if c.Train.BatchSize >= 2 {
		// The copy of the model that trains on the second half of each
		// batch (runs.Stepper) shares the weights, not the gradients.
		weights += params * 4
	}
	// The Batcher's order of the training examples is held for the whole
	// run besides the dataset: more than a text stream itself at a
	// context of 1 or 2 (8 bytes a window, 4 a token).
	batcher := float64(tasks.BatcherBytes(train, max(c.Train.BatchSize, 1)))
	bytes := weights + max(acts*bytesPerActivation, evalBytes) + float64(data) + batcher
	src, tgt := taskLengths(c.Task, c.DataLengths, false)
	return MemoryEstimate{Params: clampInt64(params), Bytes: clampInt64(bytes), Data: data, Length: clampInt64(max(src, tgt)),
		Train: clampInt64(weights + acts*bytesPerActivation)}
}

// evalMemory estimates, in bytes, what a run's evaluations hold besides
// its weights and dataset (env: the training step's environment): the
// largest of a teacher-forced forward pass over the longest sequences of
// any split, the test split's decoding (an encoder pass and a decoder
// step for every hypothesis: beam search's beams), and a language model's
// losses at eval.context; plus the attention rows the stored maps keep
// while the split is decoded and their JSON (16 bytes a weight, bounded by
// artifact.MaxAttentionWeights).
//
// evalSplit is the most examples of the valid and test splits, or 0 when
// unknown: an evaluation batch holds at most its split.
func evalMemory(c Config, env models.MemoryEnv, evalSplit int) float64 {
	acts := func(e models.MemoryEnv) float64 {
		_, a := models.EstimateMemory(c.Model.Name, c.Model.Params, e)
		return a
	}
	eval := env
	eval.Forward, eval.Batch = true, float64(EvalBatch(c.Train.BatchSize))
	if evalSplit > 0 {
		eval.Batch = min(eval.Batch, float64(evalSplit)) // as training's batch
	}
	eval.Src, eval.Tgt = taskLengths(c.Task, c.DataLengths, false)
	most := acts(eval)
	lm := languageModel(c)
	beam := 1.0
	if c.Eval.Decode.Strategy == "beam" {
		beam = float64(max(c.Eval.Decode.Beam, 1))
	}
	if !lm {
		dec := eval
		dec.Tgt, dec.Batch = 1, eval.Batch*beam
		most = max(most, acts(dec))
	}
	for _, n := range c.Eval.Context {
		ctx := eval
		ctx.Src, ctx.Tgt, ctx.Batch = 0, float64(n+1), float64(ContextBatch(c.Train.BatchSize, n))
		most = max(most, acts(ctx))
	}
	var maps float64
	if !lm && eval.Src > 0 {
		maps = float64(c.Eval.AttentionMaps) * float64(c.Eval.mapWeights(int(eval.Src), int(eval.Tgt)))
		maps = min(maps, artifact.MaxAttentionWeights)
	}
	return most*bytesPerForwardActivation + 16*maps
}

// String writes the estimate for people: "12 MiB (roughly 1.2 million
// parameters, sequences of up to 31 tokens)", with ", the dataset 3.1
// MiB" when a dataset was counted. The parameters are estimated from the
// configuration, within a factor of two of the model's (runs'
// TestMemoryEstimateCountsTheModel); show's model/params is exact.
func (m MemoryEstimate) String() string {
	var parts []string
	if m.Params > 0 { // 0: a model that cannot estimate itself
		parts = append(parts, "roughly "+formatCount(m.Params)+" parameters")
	}
	if m.Length > 0 {
		parts = append(parts, "sequences of up to "+strconv.FormatInt(m.Length, 10)+" tokens")
	}
	if m.Data > 0 {
		parts = append(parts, "the dataset "+FormatBytes(m.Data))
	}
	if len(parts) == 0 {
		return FormatBytes(m.Bytes)
	}
	return FormatBytes(m.Bytes) + " (" + strings.Join(parts, ", ") + ")"
}

// splitSizes returns the examples of the task's train, valid and test
// splits: a file task's, measured (Config.DataSizes), or a generated
// task's, from its parameters (tasks.SplitSized); 0, 0, 0 when neither
// is known (a file task's configuration read back from the run database).
func splitSizes(c Config) (train, valid, test int) {
	if d := c.DataSizes; d.Train > 0 {
		return d.Train, d.Valid, d.Test
	}
	info, err := tasks.Registry.Info(c.Task.Name)
	if err != nil {
		return 0, 0, 0
	}
	params, err := info.Decode(c.Task.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return 0, 0, 0
	}
	if s, ok := params.(tasks.SplitSized); ok {
		return s.SplitExamples()
	}
	return 0, 0, 0
}

// generatedData returns the memory a generated task's dataset takes to
// build (tasks.Sized: its split sizes and longest examples), or 0 for a
// task that does not say.
func generatedData(p registry.Plugin) int64 {
	info, err := tasks.Registry.Info(p.Name)
	if err != nil {
		return 0
	}
	params, err := info.Decode(p.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return 0
	}
	if s, ok := params.(tasks.Sized); ok {
		return tasks.GeneratedBytes(s)
	}
	return 0
}

// fileBytes returns the most bytes a byte of the task's files takes
// (tasks.FileBytes), or dataBytesPerFileByte.
func fileBytes(p registry.Plugin) int64 {
	info, err := tasks.Registry.Info(p.Name)
	if err != nil {
		return dataBytesPerFileByte
	}
	params, err := info.Decode(p.Params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return dataBytesPerFileByte
	}
	if fb, ok := params.(tasks.FileBytes); ok {
		_, most := fb.FileBytes()
		return most
	}
	return dataBytesPerFileByte
}

// taskVocab returns the vocabulary size a task's parameters give, or 0.
func taskVocab(p registry.Plugin) float64 {
	if v := registry.Number(p.Params, "symbols"); v > 0 {
		return v + 4 // the reserved ids
	}
	return registry.Number(p.Params, "max_vocab")
}

// taskLengths returns the longest source and decoder input of the task's
// batches (train: of its training splits, tasks.TrainLengths, when the
// task tells them apart) when its parameters declare them (tasks.Lengths)
// or its data files were checked (data: Config.DataLengths), else 0, 0.
func taskLengths(p registry.Plugin, data [2]int, train bool) (src, tgt float64) {
	info, err := tasks.Registry.Info(p.Name)
	if err != nil {
		return 0, 0
	}
	s, t, ok := longestSequences(info, p.Params, data)
	if !ok {
		return 0, 0
	}
	if train {
		if d, err := info.Decode(p.Params, registry.DecodeOptions{NoValidate: true}); err == nil {
			if l, ok := d.(tasks.TrainLengths); ok {
				s, t = l.TrainMaxLengths()
			}
		}
	}
	bs, bt := tasks.BatchLengths(s, t, info.Has(tasks.LanguageModel))
	return float64(bs), float64(bt)
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
	digits := func(x float64) int { return max(0, 2-int(math.Floor(math.Log10(x)))) }
	for {
		// Rounded to three significant digits first: 9.995 KiB is 10.0
		// KiB, not "10.00", and 1023.9 KiB is 1.00 MiB, not "1024 KiB".
		p := math.Pow(10, float64(digits(x)))
		r := math.Round(x*p) / p
		if r >= 1024 && i < len(units)-1 {
			x /= 1024
			i++
			continue
		}
		return strconv.FormatFloat(r, 'f', digits(r), 64) + " " + units[i]
	}
}

// ParseBytes reads a byte count as FormatBytes writes it or as people
// type it: "512", "64MiB", "8 GiB", "1.5G", "8gb" (K, M, G, T are powers
// of 1024, with or without "iB" or "B", in any case).
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
	mult := map[string]float64{"": 1, "b": 1}
	for i, p := range []string{"k", "m", "g", "t"} {
		for _, suffix := range []string{"", "b", "ib"} { // K, KB, KiB
			mult[p+suffix] = float64(int64(1) << (10 * (i + 1)))
		}
	}
	m, ok := mult[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("%q is not a size such as 8GiB or 512MiB (units: B, KiB, MiB, GiB, TiB)", s)
	}
	return clampInt64(x * m), nil
}

// formatCount writes an estimated count for people, to two significant
// digits (the estimate is not exact): "950", "6.6 thousand", "370
// thousand", "1.2 million", "7.8 billion", and past a thousand trillion
// in powers of ten ("4.2e+15").
func formatCount(n int64) string {
	x := float64(n)
	if x > 0 { // two significant digits first: 999,600 is 1.0 million
		p := math.Pow10(int(math.Floor(math.Log10(x))) - 1)
		x = math.Round(x/p) * p
	}
	if x >= 1e15 {
		return strconv.FormatFloat(x, 'e', 1, 64)
	}
	name := ""
	for _, u := range []struct {
		v    float64
		name string
	}{{1e12, "trillion"}, {1e9, "billion"}, {1e6, "million"}, {1e3, "thousand"}} {
		if x >= u.v {
			x, name = x/u.v, " "+u.name
			break
		}
	}
	if name == "" {
		return strconv.FormatFloat(x, 'f', 0, 64) // a few parameters: whole
	}
	d := 1 - int(math.Floor(math.Log10(x))) // decimals that keep two digits
	x = math.Round(x*math.Pow10(d)) / math.Pow10(d)
	return strconv.FormatFloat(x, 'f', max(d, 0), 64) + name
}

// EstimateDecoding estimates what decoding batch inputs of src tokens
// (a language model: prompts) takes with c's model, whose output
// vocabulary has vocab tokens: a forward pass without gradients (as an
// evaluation's, bytesPerForwardActivation) through the encoder and a
// single decoder step of every input (a beam search: call it again for
// its batch × beam hypotheses, each of which may hold its own copy of the
// encoder's keys and values), plus the weights and their packed copies. A
// model that cannot estimate itself gives 0.
func EstimateDecoding(c Config, vocab, batch, src int) int64 {
	env := models.MemoryEnv{Vocab: float64(vocab), Batch: float64(max(batch, 1)), Src: float64(src), Tgt: 1,
		Encoder: c.Model.Encoder, Attention: c.Model.Attention}
	if languageModel(c) {
		env.Tgt = float64(max(src, 1))
	}
	env.Forward = true
	params, acts := models.EstimateMemory(c.Model.Name, c.Model.Params, env)
	return clampInt64(params*8 + acts*bytesPerForwardActivation)
}

// languageModel reports whether c's model is a language model.
func languageModel(c Config) bool {
	info, err := models.Registry.Info(c.Model.Name)
	return err == nil && info.Has(models.LanguageModel)
}
