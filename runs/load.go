package runs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// modelInfo is stored with a finished run (artifact.NameModelSpec):
// what rebuilding its model needs besides the config.
type modelInfo struct {
	Spec   models.Spec `json:"spec"`
	MaxOut int         `json:"max_out"` // decoding length limit used in evaluation (eos included)
	// LongestSrc is the longest source of the task's data (tokens); 0 in
	// runs stored before it was recorded.
	LongestSrc int `json:"longest_src,omitempty"`
}

// Trained is a finished run's model, ready to decode.
type Trained struct {
	Run    store.Run
	Config experiments.Config
	Model  models.Model // in evaluation mode, gradients off
	Spec   *tasks.Spec  // vocabularies and tokenizers
	MaxOut int          // the evaluation's decoding length limit (eos included)
	// LongestSrc is the longest source of the run's data, in tokens (0:
	// not recorded, a run stored before 2026-12).
	LongestSrc int
}

// ErrNoModel is wrapped by Load's error for a run without a trained model:
// one not finished, or one whose model the database lost.
var ErrNoModel = errors.New("no trained model")

// noModel is Load's error for run r, whose model artifact name is missing:
// why, by the run's status.
func noModel(r store.Run, name string) error {
	what := fmt.Sprintf("run %d (%s)", r.ID, r.Name())
	switch r.Status {
	case store.StatusQueued:
		return fmt.Errorf("%s is queued: it has %w yet (only a finished run has one)", what, ErrNoModel)
	case store.StatusRunning:
		return fmt.Errorf("%s is still training: it has %w yet (only a finished run has one)", what, ErrNoModel)
	case store.StatusInterrupted:
		return fmt.Errorf("%s was interrupted: it has %w (only a finished run has one; running its experiment again resumes it)", what, ErrNoModel)
	case store.StatusFailed:
		return fmt.Errorf("%s failed, so it has %w (attnlab show %d says why)", what, ErrNoModel, r.ID)
	}
	return fmt.Errorf("%s has %w: its artifact %s is missing from the database", what, ErrNoModel, name)
}

// Load rebuilds the model of the finished run with the given id from its
// stored config, build spec, vocabularies and final parameters.
func Load(ctx context.Context, st *store.Store, id int64) (*Trained, error) {
	r, err := st.RunByID(ctx, id)
	if err != nil {
		return nil, err
	}
	var cfg experiments.Config
	if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
		return nil, fmt.Errorf("run %d: stored config: %w", r.ID, err)
	}
	get := func(name string) ([]byte, error) {
		b, err := st.Artifact(ctx, r.ID, artifact.KindModel, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, noModel(r, name)
		}
		return b, err
	}
	infoJSON, err := get(artifact.NameModelSpec)
	if err != nil {
		return nil, err
	}
	specJSON, err := get(artifact.NameVocab)
	if err != nil {
		return nil, err
	}
	paramBytes, err := get(artifact.NameParams)
	if err != nil {
		return nil, err
	}
	var info modelInfo
	if err := json.Unmarshal(infoJSON, &info); err != nil {
		return nil, fmt.Errorf("run %d: %s: %w", r.ID, artifact.NameModelSpec, err)
	}
	var spec tasks.Spec
	if err := json.Unmarshal(specJSON, &spec); err != nil {
		return nil, fmt.Errorf("run %d: %s: %w", r.ID, artifact.NameVocab, err)
	}
	if spec.LM && info.Spec.Context == 0 {
		// Stored before the spec recorded it: the task's own context.
		info.Spec.Context = trainedContext(cfg)
	}
	m, err := models.New(cfg.Model.Name, cfg.Model.Params, info.Spec)
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", r.ID, err)
	}
	m.Init(tensor.NewRNG(0))
	ps := m.Params()
	if _, err := layers.LoadSafetensors(bytes.NewReader(paramBytes), ps); err != nil {
		return nil, fmt.Errorf("run %d: %w", r.ID, err)
	}
	layers.SetTraining(false, m)
	tensor.NoGrad(layers.Tensors(ps)...)
	return &Trained{Run: r, Config: cfg, Model: m, Spec: &spec, MaxOut: info.MaxOut, LongestSrc: info.LongestSrc}, nil
}

// trainedContext returns the training context of a language-modelling
// task's config (tasks.Windowed), or 0 when its parameters do not say.
func trainedContext(cfg experiments.Config) int {
	e, err := tasks.Registry.Lookup(cfg.Task.Name)
	if err != nil {
		return 0
	}
	p, err := e.Decode(tasks.Registry.Kind(), cfg.Task.Params)
	if err != nil {
		return 0
	}
	if w, ok := p.(tasks.Windowed); ok {
		return w.Window()
	}
	return 0
}

// OutputLimit is the decoding length limit (eos included) for a source of
// n tokens: the run's own (MaxOut) for a source no longer than its data's,
// raised by as many tokens as the source is longer, so that an input longer
// than any the run saw is not cut at the training lengths (its copy or
// reversal needs that many more); at most models.MaxDecodeLen and the
// model's PositionLimit. A run stored without its data's longest source
// keeps MaxOut.
func (t *Trained) OutputLimit(n int) int {
	limit := t.MaxOut
	if t.LongestSrc > 0 && n > t.LongestSrc {
		limit = min(t.MaxOut+n-t.LongestSrc, models.MaxDecodeLen)
	}
	if p := t.PositionLimit(); p > 0 {
		limit = min(limit, p)
	}
	return limit
}

// PositionLimit is the longest output the model can decode, its positions
// (a Transformer's model.max_len, fixed when it was trained; models.Decode
// stops there whatever it is asked), or 0 when it has no such limit.
func (t *Trained) PositionLimit() int {
	if m, ok := t.Model.(interface{ MaxDecodeLen() int }); ok {
		return m.MaxDecodeLen()
	}
	return 0
}

// DecodeOptions returns the decoding settings the run's evaluation used
// for its test split: eval.decode, the run's length limit, and sampling
// seeded as the run seeded it.
func (t *Trained) DecodeOptions() models.DecodeOptions { return evalDecodeOptions(t.Config, t.MaxOut) }

// LanguageModel reports whether run r trained on a language-modelling
// task (its task's entry has tasks.LanguageModel): its samples and
// generations are prompts and their continuations, with no reference to
// score against. The run's stored config names the task; false when it
// cannot be read or names a task this build does not know.
func LanguageModel(r store.Run) bool {
	var c struct {
		Task struct {
			Name string `json:"name"`
		} `json:"task"`
	}
	if json.Unmarshal([]byte(r.Config), &c) != nil {
		return false
	}
	e, err := tasks.Registry.Lookup(c.Task.Name)
	return err == nil && e.Info("task").Has(tasks.LanguageModel)
}
