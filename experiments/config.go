package experiments

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// Config is the resolved configuration of one run: every default filled,
// every plugin's parameters decoded by its registry entry. It marshals to
// JSON with the keys of the YAML format (plugin blocks flat: name and the
// plugin's own keys side by side) and unmarshals from that JSON.
type Config struct {
	Name        string          `json:"name"`
	Description string          `json:"-"` // prose: kept out of the canonical JSON and so of the run's identity
	Task        registry.Plugin `json:"task"`
	Model       Model           `json:"model"`
	Train       Train           `json:"train"`
	Eval        Eval            `json:"eval"`
	Seed        int             `json:"seed"`
	// Data holds the fingerprint of every file the task reads, by the task
	// parameter that names the file ("path"), taken when the experiment is
	// loaded: part of the run's identity, so that a changed file makes a
	// new run. Empty for tasks that read no files.
	Data map[string]tasks.Fingerprint `json:"data,omitempty"`
	// DataLengths holds the longest source and target of the task's data
	// files in tokens (tasks.CheckData), found when the experiment is
	// loaded; zero for tasks that read no files (their parameters declare
	// their lengths: tasks.Lengths) or whose data could not be checked.
	// The validation of the model's length limit and the memory estimate
	// use it; it is not part of the run's identity.
	DataLengths [2]int `json:"-"`
	// DataBytes is the memory the task's dataset takes (tasks.DataCheck),
	// found with DataLengths; the memory estimate adds it. Zero for tasks
	// that read no files.
	DataBytes int64 `json:"-"`
	// DataVocab is the size of the larger vocabulary of the task's data
	// (tasks.DataCheck), which the memory estimate uses for the
	// embeddings and the output layer; zero for tasks that read no files.
	DataVocab int `json:"-"`
	// DataSizes are the splits and vocabularies of the task's dataset as
	// the experiment's first seed draws them (tasks.DataCheck), which plan
	// shows; zero for tasks that read no files.
	DataSizes tasks.DataSizes `json:"-"`
	// BaseDir is the directory of the experiment file, against which a task
	// resolves relative paths (tasks.Options.BaseDir).
	BaseDir string `json:"-"`
}

// Model is the model block: the assembly, its own parameters, and the
// encoder and attention plugins it reads (nil when the assembly does not use
// them: the model entry's registry.Info.Uses).
type Model struct {
	Name      string
	Params    map[string]any
	Encoder   *registry.Plugin
	Attention *registry.Plugin
}

// Train holds the training settings (the train block). Each field's tags
// are the one source of its key (json), its documentation (doc, shown by
// `attnlab list train` and the README's reference), and its allowed values
// (range, enum: checked by Load).
type Train struct {
	Optimizer registry.Plugin `json:"optimizer" doc:"the optimizer and its parameters"`         // optim.Registry
	Schedule  registry.Plugin `json:"schedule" doc:"the learning-rate schedule over the steps"` // optim.Schedules
	BatchSize int             `json:"batch_size" doc:"examples per optimizer step" range:"[1,65536]"`
	// Steps is the number of optimizer steps; 0 means train for Epochs.
	// Exactly one of Steps and Epochs is positive.
	Steps  int `json:"steps" doc:"optimizer steps; 0: train for epochs (exactly one of steps and epochs is positive)" range:"[0,1000000000]"`
	Epochs int `json:"epochs" doc:"passes over the training split; 0: train for steps" range:"[0,1000000]"`
	// Clip is the maximum global gradient norm; 0 turns clipping off.
	Clip float64 `json:"clip" doc:"maximum global gradient norm (clipping); 0: off" range:"[0,]"`
	// EvalEvery is the number of steps between evaluations on the
	// validation split (and checkpoints); 0 evaluates only at the end.
	EvalEvery int `json:"eval_every" doc:"steps between evaluations on the validation split (and checkpoints); 0: at the end only" range:"[0,1000000000]"`
	// LogEvery is the number of steps between train/loss records.
	LogEvery int `json:"log_every" doc:"steps between records of train/loss, train/lr and perf/tokens_per_s" range:"[1,1000000000]"`
	// TeacherForcing is the probability of feeding the gold previous token
	// to an RNN decoder, in [0, 1].
	TeacherForcing float64       `json:"teacher_forcing" doc:"probability of feeding the gold previous token to the decoder; below 1 needs a model with a recurrent decoder" range:"[0,1]"`
	LabelSmoothing float64       `json:"label_smoothing" doc:"label smoothing of the cross-entropy loss" range:"[0,1)"`
	EarlyStopping  EarlyStopping `json:"early_stopping" doc:"stop training when a metric stops improving"`
	// Threads is the number of intra-op threads of one run; 0 (the
	// default) takes as many as the executor leaves free (see
	// runs.ExecOptions). A queue worker (runs.Work) does not read it: its
	// WorkOptions.Threads decide. Results do not depend on it, bit for bit, so it
	// is not part of the run's identity: the canonical JSON records 1, the
	// value every run had before it stopped mattering (identity:"fixed=1").
	Threads int `json:"threads" doc:"intra-op threads of one run under attnlab run; 0: as many as the executor leaves free (a single run uses every core, a sweep runs one run per core); attnlab worker ignores it (its --threads, or its CPUs shared among its --workers); results do not depend on it, so it is not part of the run's identity: a run's stored config and params record 1 whatever the setting, and its perf/threads the threads it had" range:"[0,1024]" identity:"fixed=1"`
	// KeepCheckpoints keeps a run's checkpoint when it is done (there is
	// one: each replaces the one before); by default it is dropped then
	// (its final weights stay).
	// MaxAttempts is how many attempts of a run may be lost to dead
	// workers (killed, out of memory, a node gone) before it is failed.
	// Both are queue settings: they do not change what a run computes, so
	// they are left out of its canonical JSON and identity (identity:"-")
	// and travel in the store's runs table instead.
	KeepCheckpoints bool `json:"keep_checkpoints" doc:"keep the run's checkpoint once it is done: one, the training state of its last step (each checkpoint replaces the one before), beside its final weights, which are always kept (with early stopping, the best evaluation's); not part of the run's identity" identity:"-"`
	MaxAttempts     int  `json:"max_attempts" doc:"attempts of a run that may be lost to dead workers before it is failed; not part of the run's identity" range:"[1,1000]" identity:"-"`
}

// EarlyStopping stops training when Metric has not improved for Patience
// evaluations. Patience 0 turns it off. Mode is "min" or "max" in a resolved
// Config: the YAML's "auto" resolves to max for metrics that
// metrics.Describe says improve upwards and to min otherwise.
type EarlyStopping struct {
	Metric   string `json:"metric" doc:"the valid/ metric watched, in full: valid/loss, valid/ppl or valid/token_acc, or (sequence-to-sequence runs with eval.valid_exact_match) valid/exact_match, valid/bleu, valid/chrf or valid/chrf++"`
	Patience int    `json:"patience" doc:"evaluations without improvement before training stops; 0: off (needs train.eval_every)" range:"[0,1000000]"`
	Mode     string `json:"mode" doc:"the direction of improvement; auto: max for the metrics where higher is better (accuracies, exact match, BLEU, chrF), min otherwise" enum:"min,max,auto"`
}

// Eval holds the evaluation settings (the eval block).
type Eval struct {
	Decode Decode `json:"decode" doc:"how outputs are decoded for evaluation and samples"`
	// MaxExamples caps the test examples decoded; 0 means the whole split.
	MaxExamples     int  `json:"max_examples" doc:"test examples of a sequence-to-sequence run decoded and scored (the first n; every test/ metric is over them); 0: the whole test split" range:"[0,1000000000]"`
	Samples         int  `json:"samples" doc:"decoded test examples stored with the run" range:"[0,100000]"`
	AttentionMaps   int  `json:"attention_maps" doc:"attention maps of test examples stored with the run, at most 16M weights in all (the default is lowered to fit)" range:"[0,10000]"`
	ValidExactMatch bool `json:"valid_exact_match" doc:"decode the validation split at each evaluation (valid/exact_match)"`
	// LengthBuckets are the upper bounds (inclusive, strictly increasing)
	// of the source-length buckets of per-length metrics.
	LengthBuckets []int `json:"length_buckets" doc:"upper bounds (inclusive, increasing) of the source-length buckets of per-length test metrics" range:"[1,1000000]"`
	// Context lists the context lengths at which a language model's test
	// loss is also measured (test/loss@N), beyond or below the task's
	// training context; empty means none. An empty list is left out of
	// the run's identity (identity:"omitempty"), so that adding the key
	// did not change the runs stored before it.
	Context []int `json:"context" doc:"context lengths (increasing) at which a language model's test loss is also measured, as test/loss@N (none beyond what the test split holds; learned positions refuse any beyond what they were trained on)" range:"[1,65536]" identity:"omitempty"`
	// BLEU holds the settings of test/bleu and valid/bleu.
	BLEU BLEU `json:"bleu" doc:"the settings of test/bleu and valid/bleu (sacreBLEU's, on detokenized outputs against the raw references)"`
}

// BLEU holds the BLEU settings (eval.bleu): BLEU is sacreBLEU's, computed
// on detokenized outputs against the raw reference text (see package
// metrics).
type BLEU struct {
	// Tokenize is sacreBLEU's tokenizer (13a, intl, char or none:
	// metrics.BLEUTokenizers), or BLEUAuto; checked against BLEUTokenizers.
	Tokenize  string `json:"tokenize" doc:"sacreBLEU's tokenizer: auto (13a for word targets, char for character targets), 13a, intl, char or none"`
	Lowercase bool   `json:"lowercase" doc:"lowercase outputs and references first (case-insensitive BLEU)"`
}

// BLEUAuto is the default eval.bleu.tokenize: sacreBLEU's default, 13a,
// when the task's targets are words (word tokenizer), and char when they
// are characters — where 13a would see each whole output as one word, and
// BLEU would be 0 for lack of 4-grams.
const BLEUAuto = "auto"

// BLEUTokenizers are the values eval.bleu.tokenize accepts.
var BLEUTokenizers = append([]string{BLEUAuto}, metrics.BLEUTokenizers...)

// Decode holds the decoding settings used for evaluation and samples.
type Decode struct {
	Strategy      string  `json:"strategy" doc:"how each output token is chosen: the most likely, by beam search, or sampled" enum:"greedy,beam,sample"`
	Beam          int     `json:"beam" doc:"beam width of strategy beam" range:"[1,256]"`
	LengthPenalty float64 `json:"length_penalty" doc:"GNMT length penalty α of beam search; 0: none" range:"[0,]"`
	Temperature   float64 `json:"temperature" doc:"sampling temperature" range:"(0,]"`
	TopK          int     `json:"top_k" doc:"sample among the k most likely tokens; 0: all" range:"[0,1000000]"`
	TopP          float64 `json:"top_p" doc:"nucleus sampling: the smallest set of tokens with this much probability; 1: all" range:"(0,1]"`
	MaxLen        int     `json:"max_len" doc:"longest output in tokens; 0: chosen from the task's longest target" range:"[0,10000]"`
}

// DecodeSlack is how many tokens beyond the task's longest target an
// evaluation may decode when eval.decode.max_len is 0.
const DecodeSlack = 10

// OutputLimit returns the longest output an evaluation decodes: max_len,
// or, when it is 0, the task's longest target plus DecodeSlack.
func (d Decode) OutputLimit(longestTarget int) int {
	if d.MaxLen > 0 {
		return d.MaxLen
	}
	return longestTarget + DecodeSlack
}

// CheckOutputLimit returns a one-line error when max_len 0 would choose a
// limit above models.MaxDecodeLen for a task whose longest target has
// longestTarget tokens.
func (d Decode) CheckOutputLimit(longestTarget int) error {
	if n := d.OutputLimit(longestTarget); d.MaxLen == 0 && n > models.MaxDecodeLen {
		return fmt.Errorf("0 decodes up to the longest target + %d = %d tokens, above the limit of %d: set eval.decode.max_len (at most %d)",
			DecodeSlack, n, models.MaxDecodeLen, models.MaxDecodeLen)
	}
	return nil
}

// Defaults returns the configuration every experiment starts from. It is
// the one place where defaults live (doc.go lists them): a plugin block
// names its default plugin here and takes that plugin's parameter defaults
// from its registry entry. The task has no default: every experiment names
// one. The run seeds default to DefaultSeeds.
func Defaults() Config {
	return Config{
		Model: Model{Name: "seq2seq-rnn", Encoder: &registry.Plugin{Name: "lstm"}, Attention: &registry.Plugin{Name: "additive"}},
		Train: Train{
			Optimizer:      registry.Plugin{Name: "adam"},
			Schedule:       registry.Plugin{Name: "constant"},
			BatchSize:      64,
			Steps:          2000,
			Epochs:         0,
			Clip:           1.0,
			EvalEvery:      250,
			LogEvery:       25,
			TeacherForcing: 1.0,
			LabelSmoothing: 0,
			EarlyStopping:  EarlyStopping{Metric: "valid/loss", Patience: 0, Mode: "auto"},
			Threads:        0,
			MaxAttempts:    3,
		},
		Eval: Eval{
			Decode:          Decode{Strategy: "greedy", Beam: 5, LengthPenalty: 0.6, Temperature: 1.0, TopK: 0, TopP: 1.0, MaxLen: 0},
			MaxExamples:     0,
			Samples:         8,
			AttentionMaps:   4,
			ValidExactMatch: true,
			LengthBuckets:   []int{10, 20, 40, 80, 160},
			BLEU:            BLEU{Tokenize: BLEUAuto, Lowercase: false},
		},
	}
}

// DefaultSeeds are the seeds of an experiment that lists none.
var DefaultSeeds = []int{1}

// defaultTree returns the defaults as the bottom configuration layer: the
// typed defaults in YAML shape, without the task and the per-run seed.
func defaultTree() map[string]any {
	t := Defaults().treeOf(false)
	delete(t, "name")
	delete(t, "task")
	delete(t, "seed")
	seeds := make([]any, len(DefaultSeeds))
	for i, s := range DefaultSeeds {
		seeds[i] = s
	}
	t["seeds"] = seeds
	return t
}

// tree returns c as nested maps with the YAML keys and Go-typed leaves:
// the canonical JSON, the run's identity (see structTree).
func (c Config) tree() map[string]any { return c.treeOf(true) }

// treeOf is tree; with canonical false, settings that are recorded with a
// fixed value in the identity (identity:"fixed=V") hold their own value.
func (c Config) treeOf(canonical bool) map[string]any {
	t := map[string]any{
		"name":  c.Name,
		"task":  c.Task.Tree(),
		"model": c.Model.tree(),
		"train": structTree(c.Train, canonical),
		"eval":  structTree(c.Eval, canonical),
		"seed":  c.Seed,
	}
	if len(c.Data) > 0 {
		data := make(map[string]any, len(c.Data))
		for k, f := range c.Data {
			data[k] = map[string]any{"sha256": f.SHA256, "size": int(f.Size), "lines": f.Lines}
		}
		t["data"] = data
	}
	return t
}

func (m Model) tree() map[string]any {
	t := registry.Plugin{Name: m.Name, Params: m.Params}.Tree()
	if m.Encoder != nil {
		t["encoder"] = m.Encoder.Tree()
	}
	if m.Attention != nil {
		t["attention"] = m.Attention.Tree()
	}
	return t
}

// MarshalJSON writes c's canonical JSON: the keys of the YAML format,
// sorted, without Description and BaseDir. (json.Unmarshal reads it back.)
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.tree()) }

// MarshalJSON writes the model flat, as in YAML, with its encoder and
// attention blocks nested.
func (m Model) MarshalJSON() ([]byte, error) { return json.Marshal(m.tree()) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *Model) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var out Model
	for _, sub := range []struct {
		key string
		dst **registry.Plugin
	}{{"encoder", &out.Encoder}, {"attention", &out.Attention}} {
		if r, ok := raw[sub.key]; ok {
			*sub.dst = new(registry.Plugin)
			if err := json.Unmarshal(r, *sub.dst); err != nil {
				return fmt.Errorf("experiments: model.%s: %w", sub.key, err)
			}
			delete(raw, sub.key)
		}
	}
	rest, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	var p registry.Plugin
	if err := json.Unmarshal(rest, &p); err != nil {
		return fmt.Errorf("experiments: model: %w", err)
	}
	out.Name, out.Params = p.Name, p.Params
	*m = out
	return nil
}

// Clone returns a deep copy of c.
func (c Config) Clone() Config {
	out := c
	out.Task = c.Task.Clone()
	out.Model.Params = cloneMap(c.Model.Params)
	if c.Model.Encoder != nil {
		e := c.Model.Encoder.Clone()
		out.Model.Encoder = &e
	}
	if c.Model.Attention != nil {
		a := c.Model.Attention.Clone()
		out.Model.Attention = &a
	}
	out.Train.Optimizer = c.Train.Optimizer.Clone()
	out.Train.Schedule = c.Train.Schedule.Clone()
	out.Eval.LengthBuckets = slices.Clone(c.Eval.LengthBuckets)
	out.Data = maps.Clone(c.Data)
	out.Eval.Context = slices.Clone(c.Eval.Context)
	return out
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range maps.All(m) {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue deep-copies the maps and slices of a config value.
func cloneValue(v any) any { return registry.CloneValue(v) }
