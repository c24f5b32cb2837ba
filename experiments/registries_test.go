package experiments

import (
	"errors"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/models"
	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tasks"
)

// The attention variants are being written in their own package; the
// tests use stand-ins with the documented parameters, in a fresh registry,
// so that the golden files do not move when variants are added.

type additiveParams struct {
	Dim int `yaml:"dim" doc:"hidden size of the scorer"`
}

func (p *additiveParams) Validate() error {
	if p.Dim < 1 {
		return registry.Invalid("dim", "must be at least 1, got %d", p.Dim)
	}
	return nil
}

type multiHeadParams struct {
	Heads   int     `yaml:"heads" doc:"number of heads"`
	Dim     int     `yaml:"dim" doc:"model dimension (0: the query size)"`
	Dropout float64 `yaml:"dropout" doc:"dropout on the weights"`
	Score   string  `yaml:"score" doc:"scorer of each head"`
}

func (p *multiHeadParams) Validate() error {
	switch {
	case p.Heads < 1:
		return registry.Invalid("heads", "must be at least 1, got %d", p.Heads)
	case p.Dim < 0:
		return registry.Invalid("dim", "must not be negative, got %d", p.Dim)
	case p.Dim > 0 && p.Dim%p.Heads != 0:
		return registry.Invalid("dim", "must be a multiple of heads (%d), got %d", p.Heads, p.Dim)
	case p.Dropout < 0 || p.Dropout >= 1:
		return registry.Invalid("dropout", "must be in [0, 1), got %v", p.Dropout)
	case p.Score != "dot" && p.Score != "scaled-dot" && p.Score != "general" && p.Score != "additive":
		return registry.Invalid("score", "unknown scorer %q", p.Score)
	}
	return nil
}

func fakeAttention(any, attention.Dims) (attention.Attention, error) {
	return nil, errors.New("test stand-in")
}

// testTasks are the real tasks the corpus uses, copied into a fresh
// registry so that the known-names lists in golden errors stay put.
var testTasks = []string{"addition", "copy", "reverse", "text"}

func testRegistries(tb testing.TB) *registries {
	tb.Helper()
	att := registry.New[attention.Factory]("attention")
	for _, e := range []registry.Entry[attention.Factory]{
		{Name: "none", Doc: "no attention", New: fakeAttention},
		{Name: "dot", Doc: "q·k", New: fakeAttention},
		{Name: "scaled-dot", Doc: "q·k/√d", New: fakeAttention},
		{Name: "additive", Doc: "vᵀ tanh(W q + U k)", Params: &additiveParams{Dim: 128}, New: fakeAttention},
		{Name: "multi-head", Doc: "H heads", Params: &multiHeadParams{Heads: 4, Score: "scaled-dot"}, New: fakeAttention},
	} {
		att.Register(e)
	}
	tk := registry.New[tasks.Factory]("task")
	for _, n := range testTasks {
		e, err := tasks.Registry.Lookup(n)
		if err != nil {
			tb.Fatalf("the corpus needs task %q: %v", n, err)
		}
		tk.Register(e)
	}
	return &registries{
		tasks:      catalogOf(tk),
		models:     catalogOf(models.Registry),
		encoders:   catalogOf(models.Encoders),
		attention:  catalogOf(att),
		optimizers: catalogOf(optim.Registry),
		schedules:  catalogOf(optim.Schedules),
		kind:       kindIn(models.Registry),
		lmTasks:    []string{"text"},
	}
}
