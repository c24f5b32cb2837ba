package runs

import (
	"fmt"
	"math"

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
	model.Init(init)
	params := model.Params()
	o, err := optim.New(cfg.Train.Optimizer.Name, cfg.Train.Optimizer.Params, params)
	if err != nil {
		return nil, err
	}
	sched, err := optim.NewSchedule(cfg.Train.Schedule.Name, cfg.Train.Schedule.Params, total)
	if err != nil {
		return nil, err
	}
	return &Stepper{Model: model, Params: params, Optim: o, Sched: sched, Clip: cfg.Train.Clip,
		LabelSmoothing: float32(cfg.Train.LabelSmoothing), TeacherForcing: cfg.Train.TeacherForcing}, nil
}

// LR returns the learning rate of step (counted from 1): the optimizer's
// base rate times the schedule's factor.
func (s *Stepper) LR(step int) float64 { return s.Optim.BaseLR() * s.Sched.Factor(step) }

// Step trains on one batch as step number step (counted from 1) and
// returns the batch's mean loss. It fails, leaving the parameters
// untouched, when the loss or the gradient norm is not finite. The step's
// buffers go back to tensor's pools for the next step.
func (s *Stepper) Step(b *seq.Batch, step int) (float64, error) {
	out := s.Model.Forward(b, models.ForwardOptions{Training: true, TeacherForcing: s.TeacherForcing, RNG: s.RNG})
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
