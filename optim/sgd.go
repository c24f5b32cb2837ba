package optim

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// SGDParams are the parameters of sgd.
type SGDParams struct {
	LR          float64 `yaml:"lr" doc:"base learning rate (multiplied by the schedule)" range:"(0,]"`
	Momentum    float64 `yaml:"momentum" doc:"momentum factor (0: plain SGD)" range:"[0,1)"`
	Nesterov    bool    `yaml:"nesterov" doc:"use Nesterov momentum"`
	WeightDecay float64 `yaml:"weight_decay" doc:"L2 penalty added to the gradient" range:"[0,]"`
}

// Validate checks the ranges.
func (p *SGDParams) Validate() error {
	switch {
	case !(p.LR > 0):
		return registry.Invalid("lr", "must be positive, got %v", p.LR)
	case p.Momentum < 0 || p.Momentum >= 1:
		return registry.Invalid("momentum", "must be in [0, 1), got %v", p.Momentum)
	case p.Nesterov && p.Momentum == 0:
		return registry.Invalid("nesterov", "needs a positive momentum")
	case p.WeightDecay < 0:
		return registry.Invalid("weight_decay", "must not be negative, got %v", p.WeightDecay)
	}
	return nil
}

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name: "sgd", Doc: "stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD",
		Params: &SGDParams{LR: 0.1},
		New: func(p any, ps []*layers.Param) (Optimizer, error) {
			return NewSGD(ps, *p.(*SGDParams)), nil
		},
	})
}

// SGD is stochastic gradient descent: with momentum μ,
// b ← μb + g; p ← p − lr·b (Nesterov: p ← p − lr·(g + μb)).
type SGD struct {
	params []*layers.Param
	buf    [][]float32
	p      SGDParams
	t      int
}

// NewSGD returns an SGD optimizer over ps.
func NewSGD(ps []*layers.Param, p SGDParams) *SGD {
	s := &SGD{params: ps, p: p}
	for _, q := range ps {
		s.buf = append(s.buf, make([]float32, q.Len()))
	}
	return s
}

// Step applies one update; parameters without a gradient are skipped.
func (s *SGD) Step(lr float64) {
	s.t++
	mu, wd, flr := float32(s.p.Momentum), float32(s.p.WeightDecay), float32(lr)
	for i, q := range s.params {
		if q.Grad == nil {
			continue
		}
		b, d := s.buf[i], q.Data
		for j, g := range q.Grad {
			g += wd * d[j]
			if mu != 0 {
				if s.t == 1 {
					b[j] = g
				} else {
					b[j] = mu*b[j] + g
				}
				if s.p.Nesterov {
					g += mu * b[j]
				} else {
					g = b[j]
				}
			}
			d[j] -= flr * g
		}
	}
}

// Steps returns the number of updates so far.
func (s *SGD) Steps() int { return s.t }

// BaseLR returns the configured learning rate.
func (s *SGD) BaseLR() float64 { return s.p.LR }

// State returns the momentum buffers as "<param>.momentum".
func (s *SGD) State() map[string]*tensor.Tensor {
	st := make(map[string]*tensor.Tensor, len(s.params))
	for i, q := range s.params {
		st[q.Name+".momentum"] = tensor.FromData(s.buf[i], q.Shape()...)
	}
	return st
}

// LoadState restores the momentum buffers and the step count.
func (s *SGD) LoadState(state map[string]*tensor.Tensor, steps int) error {
	for i, q := range s.params {
		if err := loadInto(state, q.Name+".momentum", s.buf[i]); err != nil {
			return err
		}
	}
	s.t = steps
	return nil
}
