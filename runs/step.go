package runs

import (
	"fmt"
	"math"
	"slices"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// Stepper is the training step of a run: forward, masked cross-entropy,
// a check that the loss is finite, backward, gradient clipping, a check
// that the gradient norm is finite, and the optimizer's update at the
// learning rate the schedule gives for the step. Train takes every step
// through it, and the benchmark harness (package bench) measures it, so
// that what is measured is what runs do.
//
// A Stepper is not safe for concurrent use.
type Stepper struct {
	Model          models.Model
	Params         []*layers.Param
	Optim          optim.Optimizer
	Sched          optim.Schedule
	Clip           float64 // largest global gradient norm; 0: no clipping
	LabelSmoothing float32
	TeacherForcing float64     // probability of feeding the gold token (RNN decoders)
	RNG            *tensor.RNG // teacher-forcing draws; set by the caller
	// LastBytes is the tensor memory the last successful step held at its
	// peak, after the backward pass (tensor.GraphBytes: activations, saved
	// state and gradients, parameters and their gradients; not the
	// optimizer's state).
	LastBytes int64

	twin   *twin // the second half's model (see Step); nil: batches are not split
	noTwin bool  // tests: never split
}

// twin is a second copy of the model whose parameters use the first's
// memory, with gradients of their own: it runs the second half of a batch
// while the model runs the first.
type twin struct {
	model  models.Model
	params []*layers.Param // in the order of Stepper.Params
	drops  [2][]*layers.Dropout
}

// NewStepper builds cfg's model for spec, initialises its parameters from
// init, and makes cfg's optimizer and a schedule over total steps. RNG is
// left nil for the caller to set (Train splits it from the run's master
// generator after the batcher's seed).
func NewStepper(cfg experiments.Config, spec models.Spec, init *tensor.RNG, total int) (*Stepper, error) {
	model, err := models.New(cfg.Model.Name, cfg.Model.Params, spec)
	if err != nil {
		return nil, err
	}
	twinInit := init.Clone()
	model.Init(init)
	params := model.Params()
	var tw *twin
	if cfg.Train.BatchSize >= 2 {
		// The twin is initialised exactly as the model: buffers that are
		// not parameters (a Performer's features) and their later draws
		// are the model's.
		m, err := models.New(cfg.Model.Name, cfg.Model.Params, spec)
		if err != nil {
			return nil, err
		}
		m.Init(twinInit)
		tw = &twin{model: m, params: m.Params(), drops: [2][]*layers.Dropout{findDropouts(model, true), findDropouts(m, true)}}
		if err := tw.check(params); err != nil {
			return nil, err
		}
	}
	o, err := optim.New(cfg.Train.Optimizer.Name, cfg.Train.Optimizer.Params, params)
	if err != nil {
		return nil, err
	}
	sched, err := optim.NewSchedule(cfg.Train.Schedule.Name, cfg.Train.Schedule.Params, total)
	if err != nil {
		return nil, err
	}
	return &Stepper{Model: model, Params: params, Optim: o, Sched: sched, Clip: cfg.Train.Clip,
		LabelSmoothing: float32(cfg.Train.LabelSmoothing), TeacherForcing: cfg.Train.TeacherForcing, twin: tw}, nil
}

// check reports whether the twin's parameters and dropout modules pair
// with the model's.
func (t *twin) check(params []*layers.Param) error {
	if len(t.params) != len(params) || len(t.drops[0]) != len(t.drops[1]) {
		return fmt.Errorf("runs: the model's copy has %d parameters and %d dropouts, the model %d and %d",
			len(t.params), len(t.drops[1]), len(params), len(t.drops[0]))
	}
	for i, p := range params {
		if q := t.params[i]; q.Name != p.Name || !slices.Equal(q.Shape(), p.Shape()) || q.Tensor == p.Tensor {
			return fmt.Errorf("runs: the model's copy has parameter %s %v where the model has %s %v", q.Name, q.Shape(), p.Name, p.Shape())
		}
	}
	return nil
}

// bind puts the twin in training mode, makes its parameters use the
// model's current memory (a checkpoint may have replaced it) and, with
// dropouts, its dropout modules draw from streams split from the model's
// (so that a checkpoint of the model's streams restores the twin's too).
func (t *twin) bind(params []*layers.Param, dropouts bool) {
	layers.SetTraining(true, t.model)
	for i, p := range params {
		q := t.params[i]
		if len(q.Data) == 0 || &q.Data[0] != &p.Data[0] {
			q.ShareData(p.Tensor)
		}
		q.SetRequiresGrad(p.RequiresGrad())
	}
	if !dropouts {
		return
	}
	for i, d := range t.drops[0] {
		e := t.drops[1][i]
		e.P, e.Training = d.P, d.Training
		if d.Training && d.P > 0 {
			e.RNG = d.RNG.Split()
		}
	}
}

// LR returns the learning rate of step (counted from 1): the optimizer's
// base rate times the schedule's factor.
func (s *Stepper) LR(step int) float64 { return s.Optim.BaseLR() * s.Sched.Factor(step) }

// Step trains on one batch as step number step (counted from 1) and
// returns the batch's mean loss. It fails, leaving the parameters
// untouched, when the loss or the gradient norm is not finite. The step's
// buffers go back to tensor's pools for the next step.
//
// Step puts the model in training mode. A batch of two or more examples
// (when train.batch_size is 2 or more) is split in two halves of about as
// many tokens, each run forward and backward by its own copy of the model
// (the same parameters, gradients apart, summed before clipping): with two
// threads (tensor.Independent) the halves run side by side, one thread
// each, which keeps both cores busy through the passes too small or too
// memory-bound to split (a recurrent model's time steps, LayerNorm,
// softmax), where splitting each op across the cores gains little;
// otherwise one after the other. The split depends on the batch alone, so
// results do not depend on the number of threads, bit for bit.
func (s *Stepper) Step(b *seq.Batch, step int) (float64, error) {
	layers.SetTraining(true, s.Model)
	opt := models.ForwardOptions{Training: true, TeacherForcing: s.TeacherForcing, RNG: s.RNG}
	if s.twin != nil && !s.noTwin {
		targets := 0
		for _, t := range b.Out {
			if t != seq.PadID {
				targets++
			}
		}
		if b.Size >= 2 && targets > 0 {
			return s.stepHalves(b, step, targets)
		}
		// A batch that cannot be split (one example, no targets, both
		// rare): the twin runs it forward too, its output dropped, so that
		// state a forward pass advances besides the parameters (a
		// Performer's feature redraws) stays the model's.
		s.twin.bind(s.Params, false)
		tensor.Release(s.twin.model.Forward(b, models.ForwardOptions{Training: true}).Logits)
	}
	out := s.Model.Forward(b, opt)
	loss := tensor.CrossEntropy(out.Logits, b.Out, seq.PadID, s.LabelSmoothing)
	defer tensor.Release(loss) // the step's buffers serve the next step
	v := float64(loss.Item())
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, fmt.Errorf("training loss is %v", v)
	}
	layers.ZeroGrad(s.Params)
	loss.Backward()
	s.LastBytes = tensor.GraphBytes(loss)
	norm := optim.ClipGradNorm(s.Params, s.Clip)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return v, fmt.Errorf("gradient norm is %v", norm)
	}
	s.Optim.Step(s.LR(step))
	return v, nil
}

// stepHalves is Step on a batch split in two, the second half run by the
// twin; targets counts the batch's targets that are not padding.
func (s *Stepper) stepHalves(b *seq.Batch, step, targets int) (float64, error) {
	m := splitPoint(b)
	halves := [2]seq.Batch{b.Slice(0, m), b.Slice(m, b.Size)}
	s.twin.bind(s.Params, true)
	ms := [2]models.Model{s.Model, s.twin.model}
	ps := [2][]*layers.Param{s.Params, s.twin.params}
	var losses [2]*tensor.Tensor
	// Each half goes backward as soon as its loss is known to be finite
	// (the parameters are untouched until the optimizer's step). The twin,
	// running beside the model, draws its teacher-forcing coins from a
	// stream split from the model's (s.RNG, which checkpoints hold).
	rngs := [2]*tensor.RNG{s.RNG, nil}
	if s.TeacherForcing > 0 && s.TeacherForcing < 1 && s.RNG != nil {
		rngs[1] = s.RNG.Split()
	}
	tensor.Independent(2, func(i int) {
		out := ms[i].Forward(&halves[i], models.ForwardOptions{Training: true, TeacherForcing: s.TeacherForcing, RNG: rngs[i]})
		l := tensor.CrossEntropyShare(out.Logits, halves[i].Out, seq.PadID, s.LabelSmoothing, targets)
		losses[i] = l
		if v := l.Item(); !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			layers.ZeroGrad(ps[i])
			l.Backward()
		}
	})
	defer tensor.Release(losses[:]...)
	v := float64(losses[0].Item()) + float64(losses[1].Item())
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, fmt.Errorf("training loss is %v", v)
	}
	s.LastBytes = tensor.GraphBytes(losses[:]...)
	// The twin's gradients added to the model's, parameter by parameter.
	tensor.ParallelFor(len(s.Params), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p, q := s.Params[i], s.twin.params[i]
			switch {
			case q.Grad == nil:
			case p.Grad == nil:
				p.Grad = append([]float32(nil), q.Grad...)
			default:
				tensor.AccSlice(p.Grad, q.Grad)
			}
		}
	})
	norm := optim.ClipGradNorm(s.Params, s.Clip)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return v, fmt.Errorf("gradient norm is %v", norm)
	}
	s.Optim.Step(s.LR(step))
	return v, nil
}

// splitPoint returns where to split b (0 < m < b.Size) so that the halves
// hold about as many tokens, sources' and targets' together.
func splitPoint(b *seq.Batch) int {
	tokens := func(i int) int {
		n := b.TgtLen[i]
		if b.SrcLen != nil {
			n += b.SrcLen[i]
		}
		return n
	}
	total := 0
	for i := range b.Size {
		total += tokens(i)
	}
	best, m, sum := -1, 1, 0
	for i := 0; i < b.Size-1; i++ {
		sum += tokens(i)
		if d := abs(2*sum - total); best < 0 || d < best {
			best, m = d, i+1
		}
	}
	return m
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
