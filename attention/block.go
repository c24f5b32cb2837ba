package attention

import (
	"fmt"
	"slices"

	"github.com/attnlab/attnlab/registry"
)

// Nested plugin blocks: multi-head's per-head attention (`head`) and the
// score of local, chunked and sliding-window (`score`) are parameters of
// type registry.Plugin, written as blocks with a name and the plugin's
// parameters (`head: {name: chunked, block: 32}`). The experiment format's
// site table validates them at their own paths against Heads and Scores;
// the factories here decode them strictly again when they build.

// notHeads are the variants that cannot be a per-head attention.
var notHeads = map[string]string{
	"multi-head": "multi-head cannot be its own per-head attention",
	"none":       "none has no per-head form (use attention none instead of multi-head)",
}

// Heads is the catalog of the variants that can be multi-head's per-head
// attention: every variant but multi-head and none. It is the catalog of
// the site model.attention.head.
var Heads registry.Catalog = &heads{}

type heads struct{}

func (*heads) Kind() string { return Registry.Kind() }

func (*heads) Names() []string {
	return slices.DeleteFunc(Registry.Names(), func(n string) bool { _, ok := notHeads[n]; return ok })
}

func (h *heads) Info(name string) (registry.Info, error) {
	if _, ok := notHeads[name]; ok {
		return registry.Info{}, &registry.UnknownError{Kind: "per-head attention", Name: name, Known: h.Names()}
	}
	return Registry.Info(name)
}

func (h *heads) Infos() []registry.Info {
	return slices.DeleteFunc(Registry.Infos(), func(i registry.Info) bool { _, ok := notHeads[i.Name]; return ok })
}

// buildHead returns the per-head attention a block names, for site d.
func buildHead(b registry.Plugin, d Dims) (Attention, error) {
	if why, ok := notHeads[b.Name]; ok {
		return nil, fmt.Errorf("head: %s", why)
	}
	a, err := New(b.Name, b.Params, d)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	return a, nil
}

// buildScore returns the score a block names, for heads of the given
// sizes, decoding its parameters strictly.
func buildScore(b registry.Plugin, d ScoreDims) (Score, error) {
	e, err := Scores.Lookup(b.Name)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	p, err := e.Decode(Scores.Kind(), b.Params)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	s, err := e.New(p, d)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", b.Name, err)
	}
	return s, nil
}
