package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/attnlab/attnlab/registry"
)

// Example is one source/target pair as token ids, without BOS or EOS. In a
// language-modelling dataset Src is empty and Tgt is the sequence.
type Example struct {
	Src []int
	Tgt []int
	// Ref is the target as text, what the decoded output is scored against
	// (BLEU, chrF, exact match): for a file-backed task the target exactly
	// as the file has it, words outside the vocabulary included; for a
	// generated task the target tokens joined by the target tokenizer.
	// Empty in a language-modelling dataset.
	Ref string
}

// Alignment names which source position is ideal for target step t, for the
// alignment-accuracy metric.
const (
	AlignCopy    = "copy"    // target step t copies source position t
	AlignReverse = "reverse" // target step t copies source position L-1-t
)

// Dataset is a task's data: vocabularies, tokenizers and three disjoint
// splits. A Dataset is not modified after its factory returns, so it may be
// shared by concurrent readers.
type Dataset struct {
	Name     string // the task's registry name
	LM       bool   // language modelling: Src is empty and Tgt is the sequence
	SrcVocab *Vocab // LM: the same as TgtVocab
	TgtVocab *Vocab
	SrcTok   Tokenizer // LM: the same as TgtTok
	TgtTok   Tokenizer

	Train, Valid, Test Examples

	// TestTokens holds a language-modelling dataset's test split as one
	// stream of ids, from which Windows cuts the test examples at any
	// context length (eval.context); nil for other datasets.
	TestTokens []int32

	// Alignment is AlignCopy, AlignReverse or "" (no ideal alignment).
	Alignment string

	// Bytes is about the memory a file task took to build the dataset
	// (see Options.Memory); 0 for a generated task.
	Bytes int64
}

// Longest returns the longest source and target of the dataset's
// examples over all its splits, in tokens without BOS or EOS: what
// Lengths.MaxLengths declares for a task whose parameters bound them, and
// what a file task's data shows (CheckData).
func (d *Dataset) Longest() (src, tgt int) {
	for _, split := range []Examples{d.Train, d.Valid, d.Test} {
		for i := range split.Len() {
			s, t := split.Lens(i)
			src, tgt = max(src, s), max(tgt, t)
		}
	}
	return src, tgt
}

// Split returns the examples of the split called name ("train", "valid" or
// "test"), or an error for any other name.
func (d *Dataset) Split(name string) (Examples, error) {
	switch name {
	case "train":
		return d.Train, nil
	case "valid":
		return d.Valid, nil
	case "test":
		return d.Test, nil
	}
	return Examples{}, fmt.Errorf("tasks: unknown split %q (known: train, valid, test)", name)
}

// Spec returns what a stored run needs to turn user input into ids and
// generated ids back into text: the vocabularies, tokenizers and LM flag.
func (d *Dataset) Spec() *Spec {
	return &Spec{Task: d.Name, LM: d.LM, SrcVocab: d.SrcVocab, TgtVocab: d.TgtVocab, SrcTok: d.SrcTok, TgtTok: d.TgtTok, Alignment: d.Alignment}
}

// Spec is the part of a Dataset saved with each run, so that generation
// after training tokenizes and decodes with the very ids the model was
// trained on. It round-trips through JSON; the tokenizers are saved by name.
type Spec struct {
	Task      string
	LM        bool
	SrcVocab  *Vocab // LM: the same as TgtVocab
	TgtVocab  *Vocab
	SrcTok    Tokenizer // LM: the same as TgtTok
	TgtTok    Tokenizer
	Alignment string
}

type specJSON struct {
	Task         string `json:"task"`
	LM           bool   `json:"lm"`
	SrcTokenizer string `json:"src_tokenizer,omitempty"`
	TgtTokenizer string `json:"tgt_tokenizer"`
	SrcVocab     *Vocab `json:"src_vocab,omitempty"`
	TgtVocab     *Vocab `json:"tgt_vocab"`
	Alignment    string `json:"alignment,omitempty"`
}

// MarshalJSON writes the spec; for LM the source side is omitted, since it
// equals the target side.
func (s *Spec) MarshalJSON() ([]byte, error) {
	if s.TgtVocab == nil || s.TgtTok == nil {
		return nil, fmt.Errorf("tasks: spec of %q has no target vocabulary or tokenizer", s.Task)
	}
	j := specJSON{Task: s.Task, LM: s.LM, TgtTokenizer: s.TgtTok.Name(), TgtVocab: s.TgtVocab, Alignment: s.Alignment}
	if !s.LM {
		if s.SrcVocab == nil || s.SrcTok == nil {
			return nil, fmt.Errorf("tasks: spec of %q has no source vocabulary or tokenizer", s.Task)
		}
		j.SrcTokenizer, j.SrcVocab = s.SrcTok.Name(), s.SrcVocab
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Spec) UnmarshalJSON(b []byte) error {
	var j specJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("tasks: spec: %w", err)
	}
	if j.TgtVocab == nil {
		return fmt.Errorf("tasks: spec: no tgt_vocab")
	}
	tgtTok, err := TokenizerByName(j.TgtTokenizer)
	if err != nil {
		return fmt.Errorf("tasks: spec: tgt_tokenizer: %w", err)
	}
	out := Spec{Task: j.Task, LM: j.LM, TgtVocab: j.TgtVocab, TgtTok: tgtTok, SrcVocab: j.TgtVocab, SrcTok: tgtTok, Alignment: j.Alignment}
	if !j.LM {
		if j.SrcVocab == nil {
			return fmt.Errorf("tasks: spec: no src_vocab")
		}
		if out.SrcTok, err = TokenizerByName(j.SrcTokenizer); err != nil {
			return fmt.Errorf("tasks: spec: src_tokenizer: %w", err)
		}
		out.SrcVocab = j.SrcVocab
	}
	*s = out
	return nil
}

// EncodeInput returns the ids of a user's input text, without BOS or EOS:
// the source side for seq2seq, the target side (a prompt) for LM.
func (s *Spec) EncodeInput(text string) []int {
	return s.SrcVocab.Encode(s.SrcTok.Split(text))
}

// DecodeOutput returns the text of generated target ids: the ids up to the
// first EOS, without PAD and BOS (see [Strip]), joined by the target
// tokenizer.
func (s *Spec) DecodeOutput(ids []int) string {
	return s.TgtTok.Join(s.TgtVocab.Decode(Strip(ids)))
}

// Options are the settings a factory receives besides its parameters.
type Options struct {
	// Seed determines every random choice of a generated task and of the
	// split of a file task: the same parameters and seed give the same data.
	Seed uint64
	// BaseDir is the directory that relative file paths resolve against
	// (the experiment file's directory); "" means the working directory.
	BaseDir string
	// Data holds the fingerprints a run's configuration recorded for the
	// files the task reads, by parameter key (see FileParams): a file whose
	// contents no longer match is an error. nil checks nothing.
	Data map[string]Fingerprint
	// Memory bounds what a file task may take to build its dataset; the
	// zero value sets no bound.
	Memory MemoryLimit
	// Context, when not nil, stops the long steps of a file task early:
	// a text corpus is counted and indexed a piece of about TokenPiece
	// bytes at a time, and once the context is done the build (or
	// CheckData's measuring) returns an error that wraps the context's.
	Context context.Context

	expect map[string]Fingerprint // Data by path as written, set by Build
	budget *budget                // counts a file task's memory, set by Build
	// measure is set by CheckData for a measurer: it leaves the bytes
	// FingerprintFile read in the memo, for the run's Build.
	measure bool
}

// Path resolves p against BaseDir unless p is absolute.
func (o Options) Path(p string) string {
	if filepath.IsAbs(p) || o.BaseDir == "" {
		return p
	}
	return filepath.Join(o.BaseDir, p)
}

// Lengths is implemented by the parameters of tasks whose longest
// sequences follow from the parameters alone, so that a model too short for
// them is refused when the experiment is validated: MaxLengths returns the
// longest source and target of any split, in tokens, without BOS or EOS (a
// language-modelling task: 0 and its longest sequence). See BatchLengths.
type Lengths interface {
	MaxLengths() (src, tgt int)
}

// TrainLengths is implemented by the parameters of a Lengths task whose
// test split may be longer than its training and validation splits (test
// lengths of their own): TrainMaxLengths returns the longest source and
// target of those two splits, which a training step meets (the test split
// is only evaluated, without a backward pass).
type TrainLengths interface {
	TrainMaxLengths() (src, tgt int)
}

// Sized is implemented by the parameters of a generated task: DataSize
// returns how many examples its splits hold and at most how many tokens,
// sources' and targets' together, so that a run's memory estimate counts
// the dataset the task will draw (GeneratedBytes; a file task measures
// its own, Dataset.Bytes).
type Sized interface {
	DataSize() (examples, tokens int64)
}

// ValidSized is implemented by the parameters of a generated task whose
// validation split's size follows from the parameters alone: ValidExamples
// returns it, so that settings that need validation examples (early
// stopping) are refused when the split is empty. A file task's sizes are
// measured from its data (DataSizes).
type ValidSized interface {
	ValidExamples() int
}

// SplitSized is implemented by the parameters of a generated task whose
// split sizes follow from the parameters alone: SplitExamples returns the
// examples of train, valid and test, so that a run's memory estimate
// bounds its batches by them (a batch holds at most its split, [Batcher]),
// as it does a file task's measured sizes (DataSizes).
type SplitSized interface {
	SplitExamples() (train, valid, test int)
}

var (
	_ SplitSized = (*SymbolParams)(nil)
	_ SplitSized = (*AdditionParams)(nil)
	_ SplitSized = (*DatesParams)(nil)
	_ SplitSized = (*ListOpsParams)(nil)
	_ SplitSized = (*ScanParams)(nil)
	_ ValidSized = (*SymbolParams)(nil)
	_ ValidSized = (*AdditionParams)(nil)
	_ ValidSized = (*DatesParams)(nil)
	_ ValidSized = (*ListOpsParams)(nil)
	_ ValidSized = (*ScanParams)(nil)
)

// Building a generated dataset allocates about this much per token and per
// example (the drawn token strings, the map that keeps valid and test
// sources apart, the encoded ids, the reference text; TestGeneratedBytes
// measures it for every generated task).
const (
	generatedBytesPerToken   = 36
	generatedBytesPerExample = 200
)

// GeneratedBytes estimates the memory a generated task's dataset takes to
// build, from its DataSize.
func GeneratedBytes(p Sized) int64 {
	examples, tokens := p.DataSize()
	return generatedBytesPerToken*tokens + generatedBytesPerExample*examples
}

// splitsSize is DataSize for tasks whose train and valid examples have at
// most tv tokens and test examples at most test.
func splitsSize(train, valid, test, tv, testTokens int) (examples, tokens int64) {
	return int64(train) + int64(valid) + int64(test), (int64(train)+int64(valid))*int64(tv) + int64(test)*int64(testTokens)
}

// Factory builds a dataset from the task's decoded parameters (the pointer
// returned by [registry.Entry.Decode], or nil for the defaults).
type Factory func(params any, opt Options) (*Dataset, error)

// Registry holds every task, each registered from the init function of its
// own file.
var Registry = registry.New[Factory]("task")

// LanguageModel is the capability (registry.Entry.Caps) of a
// language-modelling task: its datasets have LM set. Such a task trains a
// model with the models.LanguageModel capability; a task without it trains
// any other model.
const LanguageModel registry.Capability = "language-model"

// Build looks up the task called name, decodes params strictly into its
// parameter struct, and runs its factory. A dataset whose LM flag disagrees
// with the entry's LanguageModel capability is an error (a task registered
// wrongly). The dataset CheckData built with the same parameters, seed,
// base directory and file fingerprints (opt.Data) is taken instead of
// building it again (see memo.go).
func Build(name string, params map[string]any, opt Options) (*Dataset, error) {
	if key := datasetKey(name, params, opt); key != "" {
		// A kept dataset larger than this build's limit is built again,
		// to fail as the limit says.
		if d, ok := memoData.take(key); ok && (opt.Memory.Bytes <= 0 || d.Bytes <= opt.Memory.Bytes) {
			return d, nil
		}
	}
	return buildIn(Registry, name, params, opt)
}

// fileOptions returns opt for a task whose parameters are p: for a file
// task, with its files' expected fingerprints by path and a new budget.
func fileOptions(p any, opt Options) Options {
	fp, ok := p.(FileParams)
	if !ok {
		return opt
	}
	if len(opt.Data) > 0 {
		opt.expect = map[string]Fingerprint{}
		for key, path := range fp.Files() {
			if f, ok := opt.Data[key]; ok {
				opt.expect[path] = f
			}
		}
	}
	opt.budget = &budget{limit: opt.Memory}
	return opt
}

func buildIn(r *registry.Registry[Factory], name string, params map[string]any, opt Options) (*Dataset, error) {
	e, err := r.Lookup(name)
	if err != nil {
		return nil, err
	}
	p, err := e.Decode(r.Kind(), params)
	if err != nil {
		return nil, err
	}
	opt = fileOptions(p, opt)
	d, err := e.New(p, opt)
	if err != nil {
		return nil, err
	}
	if opt.budget != nil {
		d.Bytes = opt.budget.used
	}
	if lm := slices.Contains(e.Caps, LanguageModel); d.LM != lm {
		return nil, fmt.Errorf("tasks: task %q built a dataset with LM %v, but its entry says %v: register it with Caps LanguageModel exactly when it builds language-modelling data", name, d.LM, lm)
	}
	return d, nil
}

// paramsOf returns params as *P: the registered defaults when params is nil.
// Any other type is a programmer error and panics.
func paramsOf[P any](params any, defaults *P) *P {
	if params == nil {
		c := *defaults
		return &c
	}
	p, ok := params.(*P)
	if !ok {
		panic(fmt.Sprintf("tasks: factory got parameters of type %T, want %T", params, defaults))
	}
	return p
}

// newRand returns the PCG generator of one task, from the seed and a stream
// name, so two tasks with the same seed draw independent data.
func newRand(seed uint64, stream string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Entry is a registry entry of a task.
type Entry = registry.Entry[Factory]
