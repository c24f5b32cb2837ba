package runs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// Recorder receives what a run produces. The executor implements it over the
// store; tests use a memory recorder. Methods are called from the run's
// goroutine only.
type Recorder interface {
	// Metric records one value of the metric history at a step.
	Metric(step int, key string, value float64) error
	// Checkpoint replaces the run's checkpoint (see Checkpoint) taken after
	// step. The executor also flushes buffered metrics here, so that a
	// resumed run's history and its checkpoint agree.
	Checkpoint(step int, data []byte) error
	// Artifact stores a named artifact of the run (vocabulary, samples,
	// attention maps, final parameters).
	Artifact(kind, name string, data []byte) error
	// Progress reports training progress (for progress bars and logs).
	Progress(p Progress)
}

// Progress is a snapshot of a training run.
type Progress struct {
	Step, Total  int
	Loss         float64 // last logged training loss
	TokensPerSec float64
	Eval         map[string]float64 // the last evaluation's metrics (nil between evaluations)
}

// Options control one run.
type Options struct {
	// Resume is a checkpoint written by an earlier attempt of the same run
	// (nil: start fresh).
	Resume []byte
	// NoMetrics turns off per-step metric recording (for overhead
	// measurements); evaluations and summaries are still recorded.
	NoMetrics bool
	// Memory bounds what building the run's dataset may take
	// (tasks.Options.Memory): past it the run fails with one line naming
	// the data file instead of the process running out of memory.
	Memory tasks.MemoryLimit
}

// Result is what a finished run reports.
type Result struct {
	Summaries map[string]float64
	Steps     int    // optimizer steps taken
	Stopped   string // "steps", "epochs" or "early stopping"
}

// FailedError is a run that stopped for a reason of its own (a NaN loss,
// an infinite perplexity: see "Runs that diverge" in the package doc), as
// opposed to an error of the system.
type FailedError struct {
	Step   int
	Reason string
}

func (e *FailedError) Error() string { return fmt.Sprintf("step %d: %s", e.Step, e.Reason) }

// run holds everything of one run while it trains.
type run struct {
	cfg     experiments.Config
	rec     Recorder
	opt     Options
	data    *tasks.Dataset
	model   models.Model
	params  []*layers.Param
	optim   optim.Optimizer
	sched   optim.Schedule
	batcher *tasks.Batcher
	tfRNG   *tensor.RNG
	stepper *Stepper // the training step (shares model, params, optim, sched, tfRNG)
	spec    models.Spec
	total   int
	maxOut  int // decoding length limit (eos included)
	// longestSrc is the longest source of the data (tokens), stored with
	// the model for decoding longer inputs (Trained.OutputLimit).
	longestSrc int
	scores     *Scorer // BLEU, chrF and exact match of decoded outputs (made by scorer)
	// ctx is Train's context: evaluations and decoding check it per batch
	// and per decoding step (nil: never cancelled).
	ctx context.Context

	st trainState
	// loopStart and loopBase time the training loop (st.LoopSecs is
	// loopBase plus the time since loopStart); evalStart is when the
	// running evaluation began (zero between evaluations). A checkpoint
	// taken in the loop saves the times up to its own moment.
	loopStart, evalStart time.Time
	loopBase             float64
	best                 [][]float32        // parameters at the best evaluation (early stopping)
	bestEval             map[string]float64 // validation metrics at the best evaluation
	lastEval             map[string]float64 // validation metrics at the last evaluation
}

// trainState is the part of a run saved in checkpoints besides tensors.
type trainState struct {
	Step       int                `json:"step"`
	Batcher    tasks.BatcherState `json:"batcher"`
	TFRNG      []byte             `json:"tf_rng"`
	Dropout    [][]byte           `json:"dropout_rngs"`
	LossSum    float64            `json:"loss_sum"` // since the last train/loss record, token-weighted
	LossTokens int                `json:"loss_tokens"`
	LastLoss   float64            `json:"last_loss"`
	Best       float64            `json:"best"` // best value of the early-stopping metric
	BestStep   int                `json:"best_step"`
	BadEvals   int                `json:"bad_evals"`  // evaluations since the best
	TrainSecs  float64            `json:"train_secs"` // in training steps
	LoopSecs   float64            `json:"loop_secs"`  // in the training loop: steps, logging, evaluations, checkpoints
	EvalSecs   float64            `json:"eval_secs"`  // in the loop's evaluations, with the checkpoints they save
	Tokens     int64              `json:"tokens"`
	SrcTokens  int64              `json:"src_tokens,omitempty"` // non-pad source tokens of the training steps
	PeakBytes  int64              `json:"peak_bytes,omitempty"` // the largest step's tensor memory (Stepper.PeakBytes)
	HasBest    bool               `json:"has_best"`
	Stopped    string             `json:"stopped"`
	// Sharing sums, over the SharingSteps steps trained since it was
	// recorded (a checkpoint of an older version has none), how many runs
	// of this process were training at each (this one included): the runs
	// its time shared the CPUs with (perf/concurrent_runs, their mean).
	Sharing      float64 `json:"sharing,omitempty"`
	SharingSteps int     `json:"sharing_steps,omitempty"`
	// Kernels lists the kinds of tensor kernels (tensor.Kernels) that
	// trained the run, each from the step it took over at: one unless the
	// run was resumed on a CPU of another kind. A checkpoint of an older
	// version has none, and the steps before it are not counted.
	Kernels []kernelSpan `json:"kernels,omitempty"`
	// EncoderDropout holds the streams of the dropout modules inside
	// recurrent encoders (between their layers), which dropouts does not
	// reach; a checkpoint of an older version has none.
	EncoderDropout [][]byte `json:"encoder_dropout_rngs,omitempty"`
}

// kernelSpan says that the kernels Name trained a run from step From on.
type kernelSpan struct {
	Name string
	From int
}

// withKernels returns spans with name added from step on, unless the last
// span is already name's.
func withKernels(spans []kernelSpan, name string, step int) []kernelSpan {
	if n := len(spans); n > 0 && spans[n-1].Name == name {
		return spans
	}
	return append(spans, kernelSpan{Name: name, From: step})
}

// kernelSteps counts the steps up to step that each kind of kernels
// trained, leaving out kinds that trained none.
func kernelSteps(spans []kernelSpan, step int) map[string]int {
	out := map[string]int{}
	for i, s := range spans {
		end := step
		if i+1 < len(spans) {
			end = spans[i+1].From
		}
		if end > s.From {
			out[s.Name] += end - s.From
		}
	}
	return out
}

// training counts the runs of this process that are training now.
var training atomic.Int32

// Train runs one configuration end to end: builds the data and the model,
// trains with masked cross-entropy, evaluates every eval_every steps
// (recording metrics and a checkpoint), evaluates on the test split at the
// end and returns the summaries. Cancelling ctx stops training at the next
// step boundary after saving a checkpoint, and returns ctx's error; during
// an evaluation (validation or test) it stops within one batch or decoding
// step and returns ctx's error without a checkpoint, so a resumed run starts
// again from its last checkpoint and ends exactly as if never stopped. A
// run whose test evaluation completed returns its result even if ctx was
// cancelled meanwhile.
func Train(ctx context.Context, cfg experiments.Config, rec Recorder, opt Options) (*Result, error) {
	training.Add(1)
	defer training.Add(-1)
	r, err := build(cfg, rec, opt)
	if err != nil {
		return nil, err
	}
	r.ctx = ctx
	if err := ctx.Err(); err != nil {
		return nil, err // building the data may take a while
	}
	if opt.Resume != nil {
		if err := r.restore(opt.Resume); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
	}
	r.st.Kernels = withKernels(r.st.Kernels, tensor.Kernels(), r.st.Step)
	if err := r.loop(ctx); err != nil {
		return nil, err
	}
	return r.finish()
}

// build prepares the data, the model and the optimizer.
func build(cfg experiments.Config, rec Recorder, opt Options) (*run, error) {
	seed := uint64(cfg.Seed)
	data, err := tasks.Build(cfg.Task.Name, cfg.Task.Params, tasks.Options{Seed: seed, BaseDir: cfg.BaseDir, Data: cfg.Data, Memory: opt.Memory})
	if err != nil {
		return nil, err
	}
	model, err := models.Registry.Info(cfg.Model.Name)
	if err != nil {
		return nil, err
	}
	if lm := model.Has(models.LanguageModel); lm != data.LM {
		if data.LM {
			return nil, fmt.Errorf("model %q is a sequence-to-sequence model but task %q is language modelling (use a language model)", cfg.Model.Name, cfg.Task.Name)
		}
		return nil, fmt.Errorf("model %q is a language model but task %q is sequence-to-sequence", cfg.Model.Name, cfg.Task.Name)
	}
	if err := checkLengthLimit(model, cfg.Model.Params, data); err != nil {
		return nil, err
	}
	if !model.Has(models.RNNDecoder) && cfg.Train.TeacherForcing < 1 {
		return nil, fmt.Errorf("train.teacher_forcing %v: feeding back predictions needs a model with a recurrent decoder", cfg.Train.TeacherForcing)
	}
	longestSrc, longestTgt := data.Longest()
	if !data.LM {
		if err := cfg.Eval.Decode.CheckOutputLimit(longestTgt); err != nil {
			return nil, fmt.Errorf("eval.decode.max_len %w", err)
		}
	}
	maxOut := cfg.Eval.Decode.OutputLimit(longestTgt)
	// Positions must cover the longest sequence and the longest decoding.
	spec := models.Spec{TgtVocab: data.TgtVocab.Len(), MaxLen: max(longestSrc+2, longestTgt+2, maxOut+1)}
	if !data.LM {
		spec.SrcVocab = data.SrcVocab.Len()
	} else {
		// The inputs are windows without their last token: decoding
		// slides a window of that many tokens, the positions trained.
		spec.Context = max(longestTgt-1, 1)
	}
	if cfg.Model.Encoder != nil {
		spec.Encoder = *cfg.Model.Encoder
	}
	if cfg.Model.Attention != nil {
		spec.Attention = *cfg.Model.Attention
	}
	// The master generator's draws, in order: the parameters' initial
	// values, the batcher's seed, the teacher-forcing stream.
	master := tensor.NewRNG(seed)
	initRNG := master.Split()
	batcher, err := tasks.NewBatcher(data.Train, data.LM, tasks.BatcherConfig{Size: cfg.Train.BatchSize, Seed: master.Uint64()})
	if err != nil {
		return nil, err
	}
	total := cfg.Train.Steps
	stopped := "steps"
	if total == 0 {
		total = cfg.Train.Epochs * batcher.Len()
		stopped = "epochs"
	}
	stepper, err := NewStepper(cfg, spec, initRNG, total)
	if err != nil {
		return nil, err
	}
	stepper.RNG = master.Split()
	r := &run{cfg: cfg, rec: rec, opt: opt, data: data, model: stepper.Model, params: stepper.Params, optim: stepper.Optim,
		sched: stepper.Sched, batcher: batcher, tfRNG: stepper.RNG, spec: spec, total: total, stepper: stepper}
	r.st.Stopped = stopped
	r.maxOut, r.longestSrc = maxOut, longestSrc
	return r, nil
}

// checkLengthLimit returns a one-line error when the model's own length
// limit (models.LengthLimited, such as a Transformer's max_len) is shorter
// than the batches of data. Loading an experiment catches this from the
// task's parameters or the data it checked (experiments'
// Config.DataLengths); this catches a run whose data were not checked in
// its process (a configuration read back from a store, by a worker).
func checkLengthLimit(model registry.Info, params map[string]any, data *tasks.Dataset) error {
	p, err := model.Decode(params, registry.DecodeOptions{NoValidate: true})
	if err != nil {
		return err
	}
	ll, ok := p.(models.LengthLimited)
	if !ok || ll.LengthLimit() == 0 {
		return nil
	}
	src, tgt := data.Longest()
	s, t := tasks.BatchLengths(src, tgt, data.LM)
	if need := max(s, t); need > ll.LengthLimit() {
		return fmt.Errorf("model.max_len %d is shorter than the task's sequences (up to %d positions): set it to at least %d, or to 0 to size the model from the task",
			ll.LengthLimit(), need, need)
	}
	return nil
}

// loop trains until the step budget, early stopping or cancellation.
func (r *run) loop(ctx context.Context) error {
	cfg := r.cfg.Train
	base := r.optim.BaseLR()
	layers.SetTraining(true, r.model)
	r.loopStart, r.loopBase = time.Now(), r.st.LoopSecs
	defer func() {
		r.st.LoopSecs = r.loopSecs()
		r.loopStart = time.Time{}
	}()
	for r.st.Step < r.total && r.st.Stopped != "early stopping" {
		if err := ctx.Err(); err != nil {
			if cerr := r.checkpoint(); cerr != nil {
				return errors.Join(err, cerr)
			}
			return err
		}
		step := r.st.Step + 1
		b, ok := r.batcher.Next()
		if !ok {
			b, _ = r.batcher.Next()
		}
		start := time.Now()
		loss, err := r.stepper.Step(&b, step)
		r.st.TrainSecs += time.Since(start).Seconds()
		if err != nil {
			return &FailedError{Step: step, Reason: err.Error()}
		}
		r.st.Step = step
		r.st.Sharing, r.st.SharingSteps = r.st.Sharing+float64(training.Load()), r.st.SharingSteps+1
		r.st.Tokens += int64(b.Tokens)
		for _, n := range b.SrcLen {
			r.st.SrcTokens += int64(n)
		}
		r.st.PeakBytes = max(r.st.PeakBytes, r.stepper.LastBytes)
		r.st.LossSum += loss * float64(b.Tokens)
		r.st.LossTokens += b.Tokens
		if step%cfg.LogEvery == 0 || step == r.total {
			if err := r.logTrain(step, base*r.sched.Factor(step)); err != nil {
				return err
			}
		}
		if (cfg.EvalEvery > 0 && step%cfg.EvalEvery == 0) || step == r.total {
			r.evalStart = time.Now()
			err := r.evaluate(step)
			r.st.EvalSecs += time.Since(r.evalStart).Seconds()
			r.evalStart = time.Time{}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// loopSecs returns the seconds of the training loop so far, over every
// attempt of the run.
func (r *run) loopSecs() float64 {
	if r.loopStart.IsZero() {
		return r.st.LoopSecs
	}
	return r.loopBase + time.Since(r.loopStart).Seconds()
}

// timesNow returns the training state with the loop's and the running
// evaluation's times up to now, for a checkpoint.
func (r *run) timesNow() trainState {
	st := r.st
	st.LoopSecs = r.loopSecs()
	if !r.evalStart.IsZero() {
		st.EvalSecs += time.Since(r.evalStart).Seconds()
	}
	return st
}

func (r *run) logTrain(step int, lr float64) error {
	if r.st.LossTokens > 0 {
		r.st.LastLoss = r.st.LossSum / float64(r.st.LossTokens)
	}
	tps := 0.0
	if r.st.TrainSecs > 0 {
		tps = float64(r.st.Tokens) / r.st.TrainSecs
	}
	if !r.opt.NoMetrics {
		for _, m := range []struct {
			k string
			v float64
		}{{"train/loss", r.st.LastLoss}, {"train/lr", lr}, {"perf/tokens_per_s", tps}} {
			if err := r.rec.Metric(step, m.k, m.v); err != nil {
				return err
			}
		}
	}
	r.st.LossSum, r.st.LossTokens = 0, 0
	r.rec.Progress(Progress{Step: step, Total: r.total, Loss: r.st.LastLoss, TokensPerSec: tps})
	return nil
}
