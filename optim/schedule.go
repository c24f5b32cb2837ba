package optim

import (
	"math"

	"github.com/attnlab/attnlab/registry"
)

// Schedule gives the factor by which the base learning rate is multiplied
// at a step (counted from 1).
type Schedule interface {
	Factor(step int) float64
}

// ScheduleFactory builds a schedule for a run of totalSteps steps.
type ScheduleFactory func(params any, totalSteps int) (Schedule, error)

// Schedules holds the learning-rate schedules.
var Schedules = registry.New[ScheduleFactory]("schedule")

// NewSchedule builds the schedule registered as name.
func NewSchedule(name string, params map[string]any, totalSteps int) (Schedule, error) {
	e, err := Schedules.Lookup(name)
	if err != nil {
		return nil, err
	}
	p, err := e.Decode(Schedules.Kind(), params)
	if err != nil {
		return nil, err
	}
	return e.New(p, totalSteps)
}

type constant struct{}

func (constant) Factor(int) float64 { return 1 }

// WarmupParams are the parameters of noam.
type WarmupParams struct {
	Warmup int `yaml:"warmup" doc:"steps of linear warmup" range:"[1,1000000000]"`
}

// Validate checks the ranges.
func (p *WarmupParams) Validate() error {
	if p.Warmup < 1 {
		return registry.Invalid("warmup", "must be at least 1, got %d", p.Warmup)
	}
	return nil
}

// noam is linear warmup then inverse square root decay (Vaswani et al.
// 2017), normalised to peak at 1 at the end of warmup:
// min(step/warmup, √(warmup/step)).
type noam struct{ warmup float64 }

func (s noam) Factor(step int) float64 {
	t := float64(max(step, 1))
	return math.Min(t/s.warmup, math.Sqrt(s.warmup/t))
}

// CosineParams are the parameters of cosine.
type CosineParams struct {
	Warmup    int     `yaml:"warmup" doc:"steps of linear warmup (0: none)" range:"[0,1000000000]"`
	MinFactor float64 `yaml:"min_factor" doc:"factor of the base learning rate reached at the last step" range:"[0,1]"`
}

// Validate checks the ranges.
func (p *CosineParams) Validate() error {
	switch {
	case p.Warmup < 0:
		return registry.Invalid("warmup", "must not be negative, got %d", p.Warmup)
	case p.MinFactor < 0 || p.MinFactor > 1:
		return registry.Invalid("min_factor", "must be in [0, 1], got %v", p.MinFactor)
	}
	return nil
}

// cosine is linear warmup then a half cosine from 1 down to min (the
// min_factor parameter) at the last step.
type cosine struct {
	warmup, total int
	min           float64
}

func (s cosine) Factor(step int) float64 {
	if step <= s.warmup {
		return float64(max(step, 1)) / float64(s.warmup)
	}
	span := max(s.total-s.warmup, 1)
	p := math.Min(float64(step-s.warmup)/float64(span), 1)
	return s.min + (1-s.min)*0.5*(1+math.Cos(math.Pi*p))
}

func init() {
	Schedules.Register(registry.Entry[ScheduleFactory]{
		Name: "constant", Doc: "the base learning rate at every step",
		New: func(any, int) (Schedule, error) { return constant{}, nil },
	})
	Schedules.Register(registry.Entry[ScheduleFactory]{
		Name: "noam", Doc: "linear warmup then inverse square root decay (Vaswani et al. 2017), peak 1 at the end of warmup",
		Params: &WarmupParams{Warmup: 4000},
		New: func(p any, _ int) (Schedule, error) {
			return noam{warmup: float64(p.(*WarmupParams).Warmup)}, nil
		},
	})
	Schedules.Register(registry.Entry[ScheduleFactory]{
		Name: "cosine", Doc: "linear warmup then cosine decay to min_factor at the last step",
		Params: &CosineParams{Warmup: 0, MinFactor: 0},
		New: func(p any, total int) (Schedule, error) {
			c := p.(*CosineParams)
			return cosine{warmup: c.Warmup, total: total, min: c.MinFactor}, nil
		},
	})
}
