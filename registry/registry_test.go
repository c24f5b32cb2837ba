package registry

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

type factory func(p any) string

type headParams struct {
	Heads   int      `yaml:"heads" doc:"number of heads"`
	Dim     int      `yaml:"dim" doc:"model dimension (0: the input's)"`
	Dropout float64  `yaml:"dropout" doc:"dropout on the weights"`
	Score   string   `yaml:"score" doc:"score function"`
	Causal  bool     `yaml:"causal" doc:"causal mask"`
	Sizes   []int    `yaml:"sizes" doc:"a list"`
	Names   []string `yaml:"names" doc:"names"`
}

func (p *headParams) Validate() error {
	if p.Heads < 1 {
		return Invalid("heads", "must be at least 1, got %d", p.Heads)
	}
	return nil
}

func newTestRegistry() *Registry[factory] {
	r := New[factory]("attention")
	r.Register(Entry[factory]{Name: "multi-head", Doc: "heads", Params: &headParams{Heads: 4, Score: "scaled-dot", Sizes: []int{1, 2}}, New: func(any) string { return "mh" }})
	r.Register(Entry[factory]{Name: "dot", Doc: "dot", New: func(any) string { return "dot" }})
	return r
}

func TestNamesSortedAndLookup(t *testing.T) {
	r := newTestRegistry()
	if got, want := r.Names(), []string{"dot", "multi-head"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	e, err := r.Lookup("dot")
	if err != nil || e.New(nil) != "dot" {
		t.Fatalf("Lookup(dot) = %v, %v", e.Name, err)
	}
	_, err = r.Lookup("dott")
	var ue *UnknownError
	if !errors.As(err, &ue) {
		t.Fatalf("Lookup(dott) error = %v, want *UnknownError", err)
	}
	if got, want := err.Error(), `attention: unknown name "dott" (known: dot, multi-head)`; got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

func TestRegisterPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    Entry[factory]
	}{
		{"empty name", Entry[factory]{New: func(any) string { return "" }}},
		{"nil factory", Entry[factory]{Name: "x"}},
		{"duplicate", Entry[factory]{Name: "dot", New: func(any) string { return "" }}},
		{"params not pointer", Entry[factory]{Name: "y", Params: headParams{}, New: func(any) string { return "" }}},
		{"untagged field", Entry[factory]{Name: "z", Params: &struct{ A int }{}, New: func(any) string { return "" }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRegistry()
			defer func() {
				if recover() == nil {
					t.Fatalf("Register(%s) did not panic", tc.name)
				}
			}()
			r.Register(tc.e)
		})
	}
}

func TestDecodeStrict(t *testing.T) {
	r := newTestRegistry()
	e, _ := r.Lookup("multi-head")
	p, err := e.Decode("attention", map[string]any{"heads": 8, "dropout": 1, "names": []any{"a", "b"}, "dim": float64(64)})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	got := p.(*headParams)
	want := &headParams{Heads: 8, Dim: 64, Dropout: 1, Score: "scaled-dot", Sizes: []int{1, 2}, Names: []string{"a", "b"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode = %+v, want %+v", got, want)
	}
	// Defaults are not shared with decoded copies.
	got.Sizes[0] = 99
	if d := e.Defaults().(*headParams); d.Sizes[0] != 1 {
		t.Fatalf("defaults were mutated through a decoded copy: %v", d.Sizes)
	}

	for _, tc := range []struct {
		m    map[string]any
		want string
	}{
		{map[string]any{"heds": 2}, `heds: unknown key (known: heads, dim, dropout, score, causal, sizes, names) for attention "multi-head"`},
		{map[string]any{"heads": "three"}, `heads: want int, got string "three" for attention "multi-head"`},
		{map[string]any{"heads": 2.5}, `heads: want int, got float 2.5 for attention "multi-head"`},
		{map[string]any{"dropout": "0.1"}, `dropout: want float, got string "0.1" for attention "multi-head"`},
		{map[string]any{"causal": 1}, `causal: want bool, got int 1 for attention "multi-head"`},
		{map[string]any{"sizes": []any{1, "x"}}, `sizes: item 1: want int, got string "x" for attention "multi-head"`},
		{map[string]any{"heads": 0}, `heads: must be at least 1, got 0 for attention "multi-head"`},
		{map[string]any{"score": nil}, `score: want string, got null for attention "multi-head"`},
	} {
		_, err := e.Decode("attention", tc.m)
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Fatalf("Decode(%v) error = %v, want *ParamError", tc.m, err)
		}
		if err.Error() != tc.want {
			t.Errorf("Decode(%v) = %q, want %q", tc.m, err.Error(), tc.want)
		}
	}

	dot, _ := r.Lookup("dot")
	if p, err := dot.Decode("attention", nil); err != nil || p != nil {
		t.Fatalf("Decode of a parameterless plugin = %v, %v", p, err)
	}
	if _, err := dot.Decode("attention", map[string]any{"x": 1}); err == nil || !strings.Contains(err.Error(), "takes no parameters") {
		t.Fatalf("Decode(dot, {x:1}) error = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	r := newTestRegistry()
	e, _ := r.Lookup("multi-head")
	got := e.Describe()
	if len(got) != 7 {
		t.Fatalf("Describe gave %d params, want 7", len(got))
	}
	if got[0] != (ParamInfo{Name: "heads", Type: "int", Default: "4", Doc: "number of heads"}) {
		t.Errorf("Describe()[0] = %+v", got[0])
	}
	if got[3].Default != "scaled-dot" || got[5].Type != "list of int" || got[5].Default != "[1, 2]" {
		t.Errorf("Describe() = %+v", got)
	}
}
