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
	Bytes  int64 // peak training memory, bytes, the dataset's included
	Data   int64 // of which the dataset, bytes
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
// and its gradient, both kept until the step ends, and the intermediate
// tensors the formulas leave out. Measured with tensor.GraphBytes after
// one step (runs' TestMemoryEstimateBoundsAStep): 1.9 to 5.6 floats of 4
// bytes for each float counted, over RNN, Transformer and language-model
// shapes; 6 floats bound them all.
const bytesPerActivation = 24

// bytesPerForwardActivation is the same for an evaluation's forward pass,
// which keeps no gradients: a value and the intermediates the formulas
// leave out. Measured (peak RSS of whole runs whose test split is 250-400
// times longer than their training sequences): a GRU at 348 MB and a
// Transformer at 399 MB, estimated at 447 MiB and 857 MiB.
const bytesPerForwardActivation = 8

// evalBatch is the batch an evaluation runs at for a training batch size
// (runs evaluates in batches of at least 32).
func evalBatch(train int) int { return max(train, 32) }

// dataBytesPerFileByte approximates a dataset's memory from its files'
// size when it was not measured (see EstimateMemory).
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
	if c.DataVocab > 0 { // the vocabulary the data gave, not its bound
		env.Vocab = float64(c.DataVocab)
	}
	env.Src, env.Tgt = taskLengths(c.Task, c.DataLengths, true)
	params, acts := models.EstimateMemory(c.Model.Name, c.Model.Params, env)
	eval := env
	eval.Forward, eval.Batch = true, float64(evalBatch(c.Train.BatchSize))
	eval.Src, eval.Tgt = taskLengths(c.Task, c.DataLengths, false)
	_, evalActs := models.EstimateMemory(c.Model.Name, c.Model.Params, eval)
	data := c.DataBytes
	if data == 0 {
		// A configuration read back from the run database has lost what
		// its dataset took (DataBytes is not stored): its files' sizes
		// give it, at the bytes a file byte took to build in the costly
		// common shapes (tasks' TestBudgetCoversAllocations: 6-16).
		for _, fp := range c.Data {
			data += dataBytesPerFileByte * fp.Size
		}
		if len(c.Data) == 0 {
			data = generatedData(c.Task)
		}
	}
	bytes := params*bytesPerParam + max(acts*bytesPerActivation, evalActs*bytesPerForwardActivation) + float64(data)
	if c.Train.BatchSize >= 2 {
		// The copy of the model that trains on the second half of each
		// batch (runs.Stepper) shares the weights, not the gradients.
		bytes += params * 4
	}
	return MemoryEstimate{Params: clampInt64(params), Bytes: clampInt64(bytes), Data: data, Length: clampInt64(max(eval.Src, eval.Tgt))}
}

// String writes the estimate for people: "12 MiB (1.2 million parameters,
// sequences of up to 31 tokens)", with ", the dataset 3.1 MiB" when a
// dataset was counted.
func (m MemoryEstimate) String() string {
	s := FormatBytes(m.Bytes) + " (" + formatCount(m.Params) + " parameters"
	if m.Length > 0 {
		s += ", sequences of up to " + strconv.FormatInt(m.Length, 10) + " tokens"
	}
	if m.Data > 0 {
		s += ", the dataset " + FormatBytes(m.Data)
	}
	return s + ")"
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

// EstimateDecoding estimates what decoding batch inputs of src tokens
// (a language model: prompts) takes with c's model, whose output
// vocabulary has vocab tokens: the activations one training step of that
// shape keeps for the encoder and a single decoder step — decoding keeps
// none for a backward pass, so this bounds its peak from above — plus the
// weights and their packed copies. A model that cannot estimate itself
// gives 0.
func EstimateDecoding(c Config, vocab, batch, src int) int64 {
	env := models.MemoryEnv{Vocab: float64(vocab), Batch: float64(max(batch, 1)), Src: float64(src), Tgt: 1,
		Encoder: c.Model.Encoder, Attention: c.Model.Attention}
	if info, err := models.Registry.Info(c.Model.Name); err == nil && info.Has(models.LanguageModel) {
		env.Tgt = float64(max(src, 1))
	}
	params, acts := models.EstimateMemory(c.Model.Name, c.Model.Params, env)
	return clampInt64(params*8 + acts*4)
}
