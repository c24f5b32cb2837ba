package experiments

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/models"
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

// testRegistries returns the site table with fresh attention and task
// registries (the others are the real ones).
func testRegistries(tb testing.TB) registry.Sites {
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
	// The real attention's nested sites (per-head attention, scores) read
	// the real registries: the fake attention registry has none.
	sites := slices.DeleteFunc(slices.Clone(Sites), func(st registry.Site) bool {
		return strings.HasPrefix(st.Path, "model.attention.")
	})
	for i, st := range sites {
		switch st.Path {
		case "task":
			sites[i].Catalog = tk
		case "model.attention":
			sites[i].Catalog = att
		}
	}
	return sites
}

// TestSites checks the real table: every nested block an entry reads has a
// site, and a model reads only the blocks Config has fields for.
func TestSites(t *testing.T) {
	if err := Sites.Check(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"task", "model", "model.encoder", "model.attention", "train.optimizer", "train.schedule"} {
		if _, ok := Sites.At(path); !ok {
			t.Errorf("no site at %s", path)
		}
	}
	st, _ := Sites.At("model")
	for _, m := range st.Catalog.Infos() {
		for _, u := range m.Uses {
			if !slices.Contains(modelBlocks, u) {
				t.Errorf("model %q reads model.%s, which Config has no field for", m.Name, u)
			}
		}
	}
}

// headParams is a stand-in for an attention that reads a nested per-head
// attention block, as a registry.Plugin parameter.
type headParams struct {
	Heads int             `yaml:"heads" doc:"number of heads"`
	Head  registry.Plugin `yaml:"head" doc:"attention of each head"`
}

func (p *headParams) Validate() error {
	if p.Heads < 1 {
		return registry.Invalid("heads", "must be at least 1, got %d", p.Heads)
	}
	return nil
}

// nestedSites is the test table plus a per-head attention site: an
// attention "heads" whose head block names another attention.
func nestedSites(tb testing.TB) registry.Sites {
	tb.Helper()
	sites := testRegistries(tb)
	att, _ := sites.At("model.attention")
	reg := att.Catalog.(*registry.Registry[attention.Factory])
	reg.Register(registry.Entry[attention.Factory]{Name: "heads", Doc: "H heads of any attention",
		Params: &headParams{Heads: 2, Head: registry.Plugin{Name: "additive"}}, New: fakeAttention})
	sites = append(sites, registry.Site{Path: "model.attention.head", Catalog: att.Catalog, List: "heads"})
	if err := sites.Check(); err != nil {
		tb.Fatal(err)
	}
	return sites
}

// TestNestedSite shows that a nested plugin site is one line of the table:
// its block is resolved with defaults, validated with lines, swept, and
// pruned when a layer switches plugins.
func TestNestedSite(t *testing.T) {
	sites := nestedSites(t)
	load := func(t *testing.T, files map[string]string, sets ...string) (*Experiment, error) {
		dir := t.TempDir()
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return load(sites, filepath.Join(dir, "exp.yaml"), sets, LoadOptions{})
	}
	head := func(t *testing.T, x *Experiment) []any {
		runs, err := x.Plan()
		if err != nil {
			t.Fatal(err)
		}
		var out []any
		for _, r := range runs {
			out = append(out, r.Config.Model.Attention.Params["head"])
		}
		return out
	}
	const base = "name: n\ntask: {name: copy}\n"

	t.Run("defaults", func(t *testing.T) {
		x, err := load(t, map[string]string{"exp.yaml": base + "model: {attention: {name: heads}}\n"})
		if err != nil {
			t.Fatal(err)
		}
		want := []any{map[string]any{"name": "additive", "dim": 128}}
		if got := head(t, x); !reflect.DeepEqual(got, want) {
			t.Fatalf("head = %v, want %v", got, want)
		}
	})
	t.Run("written and swept", func(t *testing.T) {
		x, err := load(t, map[string]string{"exp.yaml": base + "model: {attention: {name: heads, head: {name: additive, dim: 8}}}\n" +
			"sweep: {grid: {model.attention.head.name: [additive, dot]}}\n"})
		if err != nil {
			t.Fatal(err)
		}
		want := []any{map[string]any{"name": "additive", "dim": 8}, map[string]any{"name": "dot"}}
		if got := head(t, x); !reflect.DeepEqual(got, want) {
			t.Fatalf("heads = %v, want %v", got, want)
		}
	})
	t.Run("switching plugins prunes", func(t *testing.T) {
		x, err := load(t, map[string]string{
			"base.yaml": base + "model: {attention: {name: heads, heads: 4, head: {name: additive, dim: 8}}}\n",
			"exp.yaml":  "extends: base.yaml\nname: m\nmodel: {attention: {head: {name: dot}}}\n"})
		if err != nil {
			t.Fatal(err)
		}
		want := []any{map[string]any{"name": "dot"}}
		if got := head(t, x); !reflect.DeepEqual(got, want) {
			t.Fatalf("head = %v, want %v", got, want)
		}
		runs, _ := x.Plan()
		if got := runs[0].Config.Model.Attention.Params["heads"]; got != 4 {
			t.Fatalf("heads = %v, want the base's 4", got)
		}
	})
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"errors in the nested block", "model:\n  attention:\n    name: heads\n    heads: 0\n    head: {name: additive, dimm: 3, dim: x}\n",
			[]string{
				`exp.yaml:6: model.attention.heads: must be at least 1, got 0 for attention "heads"`,
				`exp.yaml:7: model.attention.head.dim: want int, got string "x" for attention "additive"`,
				`exp.yaml:7: model.attention.head.dimm: unknown key for attention "additive" (known: name, dim): did you mean dim?`,
			}},
		{"unknown nested name", "model: {attention: {name: heads, head: {name: dott}}}\n",
			[]string{`exp.yaml:3: model.attention.head.name: unknown attention "dott" (known: additive, dot, heads, multi-head, none, scaled-dot): did you mean dot?`}},
		{"not used", "model: {attention: {name: dot, head: {name: dot}}}\n",
			[]string{`exp.yaml:3: model.attention.head: not used by attention "dot"`}},
		{"nested block without a site", "model: {attention: {name: heads, head: {name: heads}}}\n",
			[]string{`exp.yaml:3: model.attention.head.name: attention "heads" cannot be used at model.attention.head: it reads a nested block head, which is not a plugin site there`}},
		{"not a map", "model: {attention: {name: heads, head: dot}}\n",
			[]string{`exp.yaml:3: model.attention.head: want a map with a name key and the attention's parameters, got string "dot": write head: {name: dot}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, map[string]string{"exp.yaml": base + tc.text})
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Load error = %v, want Errors", err)
			}
			var got []string
			for _, e := range es {
				got = append(got, strings.TrimPrefix(e.Error(), filepath.Dir(e.File)+"/"))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestEveryNumberIsBounded: every integer parameter of every entry of
// every site, and every integer setting of train and eval, has a range tag
// with a finite upper bound (issue 16: a size of 10⁹ must be refused at
// validation, not found by the allocator).
func TestEveryNumberIsBounded(t *testing.T) {
	for _, st := range Sites {
		for _, e := range st.Catalog.Infos() {
			for _, p := range e.Params {
				if p.Type != "int" && p.Type != "list of int" {
					continue
				}
				if p.Range == "" || strings.HasPrefix(p.Range, "≥") || strings.HasPrefix(p.Range, ">") {
					t.Errorf("%s %s: int parameter %s has no upper bound (range %q)", st.Path, e.Name, p.Name, p.Range)
				}
			}
		}
	}
	for _, s := range Reference() {
		for _, k := range s.Keys {
			if (k.Type == "int" || k.Type == "list of int") && !strings.HasPrefix(k.Key, "sweep.") && k.Key != "seeds" &&
				(k.Range == "" || strings.HasPrefix(k.Range, "≥") || strings.HasPrefix(k.Range, ">")) {
				t.Errorf("%s has no upper bound (range %q)", k.Key, k.Range)
			}
		}
	}
}

// TestDecodeBoundsAreTheModels: eval.decode.beam and eval.decode.max_len
// are bounded by what models' decoding accepts (models.MaxBeam,
// models.MaxDecodeLen), so a configuration that validates never fails at
// decoding time for its size.
func TestDecodeBoundsAreTheModels(t *testing.T) {
	want := map[string]string{
		"eval.decode.beam":    fmt.Sprintf("[1, %d]", models.MaxBeam),
		"eval.decode.max_len": fmt.Sprintf("[0, %d]", models.MaxDecodeLen),
	}
	for _, s := range Reference() {
		for _, k := range s.Keys {
			if w, ok := want[k.Key]; ok {
				if k.Range != w {
					t.Errorf("%s range %q, want %q", k.Key, k.Range, w)
				}
				delete(want, k.Key)
			}
		}
	}
	for k := range want {
		t.Errorf("%s is not in the reference", k)
	}
}
