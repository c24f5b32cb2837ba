package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
		{"uses a parameter", Entry[factory]{Name: "u", Params: &headParams{}, Uses: []string{"heads"}, New: func(any) string { return "" }}},
		{"uses name", Entry[factory]{Name: "v", Uses: []string{"name"}, New: func(any) string { return "" }}},
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
		// YAML reads 400 digits as text, quoted or not.
		{map[string]any{"heads": strings.Repeat("9", 400)}, `heads: want int, got string "` + strings.Repeat("9", 36) + `... (a number too large for an integer) for attention "multi-head"`},
		{map[string]any{"dropout": "0.1"}, `dropout: want float, got string "0.1" (drop the quotes) for attention "multi-head"`},
		{map[string]any{"dropout": "-1e400"}, `dropout: want float, got string "-1e400" (a number too large for a float64) for attention "multi-head"`},
		// YAML reads a hex float as text, quoted or not: no quotes to drop.
		{map[string]any{"dropout": "0x1p-2"}, `dropout: want float, got string "0x1p-2" (YAML reads a hex float as text: write 0.25) for attention "multi-head"`},
		{map[string]any{"dropout": "-0X1.8P-1"}, `dropout: want float, got string "-0X1.8P-1" (YAML reads a hex float as text: write -0.75) for attention "multi-head"`},
		{map[string]any{"dropout": "0x1p-2000"}, `dropout: want float, got string "0x1p-2000" (YAML reads a hex float as text; this one is too small for a float64 too: it would read as 0) for attention "multi-head"`},
		{map[string]any{"dropout": "1e-400"}, `dropout: want float, got string "1e-400" (drop the quotes) for attention "multi-head"`},
		{map[string]any{"dropout": "1_0.5"}, `dropout: want float, got string "1_0.5" (drop the quotes) for attention "multi-head"`},
		{map[string]any{"dropout": "inf"}, `dropout: want float, got string "inf" (YAML writes .inf, -.inf or .nan) for attention "multi-head"`},
		{map[string]any{"dropout": "0x1"}, `dropout: want float, got string "0x1" for attention "multi-head"`},
		{map[string]any{"causal": 1}, `causal: want bool, got int 1 for attention "multi-head"`},
		{map[string]any{"sizes": []any{1, "x"}}, `sizes[1]: want int, got string "x" for attention "multi-head"`},
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

func TestDecodeReportsEveryKey(t *testing.T) {
	e, _ := newTestRegistry().Lookup("multi-head")
	_, err := e.Decode("attention", map[string]any{"heds": 2, "heads": "x", "dropout": "y", "zzz": 1})
	var pes ParamErrors
	if !errors.As(err, &pes) {
		t.Fatalf("Decode error = %v, want ParamErrors", err)
	}
	var got []string
	for _, pe := range pes {
		got = append(got, pe.Error())
	}
	want := []string{
		`dropout: want float, got string "y" for attention "multi-head"`,
		`heads: want int, got string "x" for attention "multi-head"`,
		`heds: unknown key (known: heads, dim, dropout, score, causal, sizes, names) for attention "multi-head"`,
		`zzz: unknown key (known: heads, dim, dropout, score, causal, sizes, names) for attention "multi-head"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !pes[2].Unknown || pes[0].Unknown {
		t.Errorf("Unknown flags = %v, %v; want only unknown keys flagged", pes[0].Unknown, pes[2].Unknown)
	}
	var pe *ParamError
	if !errors.As(err, &pe) || pe != pes[0] {
		t.Errorf("errors.As(*ParamError) = %v, want the first problem", pe)
	}
	// A parameterless entry reports every key too.
	dot, _ := newTestRegistry().Lookup("dot")
	if _, err := dot.Decode("attention", map[string]any{"a": 1, "b": 2}); !errors.As(err, &pes) || len(pes) != 2 {
		t.Errorf("Decode(dot, {a, b}) = %v, want 2 problems", err)
	}
}

func TestInfoDecodeWithoutValidate(t *testing.T) {
	info, err := newTestRegistry().Info("multi-head")
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != "attention" || info.Name != "multi-head" || info.Doc != "heads" || len(info.Params) != 7 {
		t.Fatalf("Info = %+v", info)
	}
	p, err := info.Decode(map[string]any{"heads": 0}, DecodeOptions{NoValidate: true})
	if err != nil {
		t.Fatalf("Decode without Validate: %v", err)
	}
	if p.(*headParams).Heads != 0 {
		t.Fatalf("Heads = %d, want 0", p.(*headParams).Heads)
	}
	if err := info.Validate(p); err == nil || err.Error() != `heads: must be at least 1, got 0 for attention "multi-head"` {
		t.Fatalf("Validate = %v", err)
	}
	if _, err := info.Decode(map[string]any{"heads": 0}, DecodeOptions{}); err == nil {
		t.Fatal("Decode with Validate accepted heads 0")
	}
	if _, err := newTestRegistry().Info("dott"); err == nil {
		t.Fatal("Info(dott) gave no error")
	}
}

type nestedParams struct {
	Heads int    `yaml:"heads" doc:"heads"`
	Head  Plugin `yaml:"head" doc:"attention of each head"`
}

func TestPluginParameter(t *testing.T) {
	r := New[factory]("attention")
	r.Register(Entry[factory]{Name: "mh", Params: &nestedParams{Heads: 2, Head: Plugin{Name: "dot", Params: map[string]any{}}},
		New: func(any) string { return "" }, Caps: []Capability{"lazy"}})
	info, _ := r.Info("mh")
	if !reflect.DeepEqual(info.Uses, []string{"head"}) || !info.Has("lazy") || info.Has("other") {
		t.Fatalf("Uses = %v, Caps = %v", info.Uses, info.Caps)
	}
	if p := info.Params[1]; p.Type != "plugin" || p.Default != "dot" {
		t.Fatalf("Params[1] = %+v", p)
	}
	in := map[string]any{"heads": 4, "head": map[string]any{"name": "additive", "dim": 8}}
	p, err := info.Decode(in, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &nestedParams{Heads: 4, Head: Plugin{Name: "additive", Params: map[string]any{"dim": 8}}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("Decode = %+v, want %+v", p, want)
	}
	if got := Values(p); !reflect.DeepEqual(got, in) {
		t.Fatalf("Values = %v, want %v", got, in)
	}
	// The decoded copy does not share the defaults' map.
	p.(*nestedParams).Head.Params["x"] = 1
	d := info.Defaults().(*nestedParams)
	d.Head.Params["y"] = 1
	if d2 := info.Defaults().(*nestedParams); len(d2.Head.Params) != 0 {
		t.Fatalf("defaults mutated: %v", d2.Head.Params)
	}
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"dot", `head: want a map with a name key, got string "dot" for attention "mh"`},
		{map[string]any{"dim": 3}, `head: want a map with a name key, got a map without one for attention "mh"`},
		{map[string]any{"name": 3}, `head: name: want string, got int 3 for attention "mh"`},
	} {
		if _, err := info.Decode(map[string]any{"head": tc.v}, DecodeOptions{}); err == nil || err.Error() != tc.want {
			t.Errorf("Decode(head: %v) = %v, want %s", tc.v, err, tc.want)
		}
	}
}

func TestPluginJSON(t *testing.T) {
	p := Plugin{Name: "additive", Params: map[string]any{"dim": 8.0, "sizes": []any{1.0, 2.0}}}
	b, err := p.MarshalJSON()
	if err != nil || string(b) != `{"dim":8,"name":"additive","sizes":[1,2]}` {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
	var q Plugin
	if err := q.UnmarshalJSON(b); err != nil || !reflect.DeepEqual(q, p) {
		t.Fatalf("UnmarshalJSON = %+v, %v; want %+v", q, err, p)
	}
	if err := q.UnmarshalJSON([]byte(`{"dim": 3}`)); err == nil {
		t.Fatal("UnmarshalJSON of a block without a name succeeded")
	}
	c := p.Clone()
	c.Params["sizes"].([]any)[0] = 9.0
	if p.Params["sizes"].([]any)[0] != 1.0 {
		t.Fatal("Clone shares a slice")
	}
}

func TestSites(t *testing.T) {
	r := newTestRegistry()
	other := New[factory]("model")
	other.Register(Entry[factory]{Name: "rnn", New: func(any) string { return "" }, Uses: []string{"attention"}})
	good := Sites{{Path: "model", Catalog: other, List: "models"}, {Path: "model.attention", Catalog: r, List: "attention"}}
	if err := good.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if got := good.Children("model"); !reflect.DeepEqual(got, []string{"attention"}) {
		t.Errorf("Children(model) = %v", got)
	}
	for _, name := range []string{"attention", "ATTENTION", "model.attention"} {
		if st, ok := good.Find(name); !ok || st.Path != "model.attention" {
			t.Errorf("Find(%s) = %v, %v", name, st.Path, ok)
		}
	}
	if st, ok := good.Find("model"); !ok || st.Path != "model" {
		t.Errorf("Find(model) = %v, %v", st.Path, ok)
	}
	for _, bad := range []Sites{
		{{Path: "model", Catalog: other}},
		{{Path: "model.attention", Catalog: r}, {Path: "model.attention", Catalog: r}},
		{{Path: "task"}},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("Check(%v) = nil, want an error", bad)
		}
	}
}

type rangedParams struct {
	Size  int     `yaml:"size" doc:"size" range:"[1,64]"`
	Prob  float64 `yaml:"prob" doc:"probability" range:"[0,1)"`
	Temp  float64 `yaml:"temp" doc:"temperature" range:"(0,]"`
	Sizes []int   `yaml:"sizes" doc:"sizes" range:"[1,]"`
}

func TestRanges(t *testing.T) {
	r := New[factory]("attention")
	r.Register(Entry[factory]{Name: "r", Params: &rangedParams{Size: 8, Temp: 1, Sizes: []int{1}}, New: func(any) string { return "" }})
	info, _ := r.Info("r")
	var got []string
	for _, p := range info.Params {
		got = append(got, p.Range)
	}
	if want := []string{"[1, 64]", "[0, 1)", "> 0", "≥ 1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ranges = %q, want %q", got, want)
	}
	_, err := info.Decode(map[string]any{"size": 1000000000, "prob": 1, "temp": 0, "sizes": []any{3, 0}}, DecodeOptions{NoValidate: true})
	want := `prob: must be in [0, 1), got 1 for attention "r"; size: must be in [1, 64], got 1000000000 for attention "r"; ` +
		`sizes[1]: must be at least 1, got 0 for attention "r"; temp: must be positive, got 0 for attention "r"`
	if err == nil || err.Error() != want {
		t.Errorf("Decode = %v\nwant %s", err, want)
	}
	// A whole number too large for an int (YAML reads 1e20 as a float and
	// 2^63 as unsigned) is out of the range, not of the wrong type.
	_, err = info.Decode(map[string]any{"size": 1e20, "sizes": []any{1, uint64(1 << 63)}}, DecodeOptions{NoValidate: true})
	want = `size: must be in [1, 64], got 1e+20 for attention "r"; sizes[1]: must be at least 1, got 9223372036854775808 for attention "r"`
	if err == nil || err.Error() != want {
		t.Errorf("Decode = %v\nwant %s", err, want)
	}
	if _, err := info.Decode(map[string]any{"size": 64, "prob": 0.99, "temp": 1e-9}, DecodeOptions{}); err != nil {
		t.Errorf("Decode of values in range: %v", err)
	}
	for _, tc := range []struct {
		name   string
		params any
	}{
		{"default out of range", &rangedParams{Size: 0, Temp: 1}},
		{"list default out of range", &rangedParams{Size: 8, Temp: 1, Sizes: []int{1, 0}}},
		{"bad tag", &struct {
			A int `yaml:"a" range:"1,2"`
		}{}},
		{"range on a string", &struct {
			A string `yaml:"a" range:"[1,2]"`
		}{}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%s) did not panic", tc.name)
				}
			}()
			r.Register(Entry[factory]{Name: tc.name, Params: tc.params, New: func(any) string { return "" }})
		}()
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		tag      string
		in, out  []float64
		str, bad string
	}{
		{tag: "[1,]", in: []float64{1, 1e9}, out: []float64{0, -1}, str: "≥ 1"},
		{tag: "(0, 1]", in: []float64{1e-9, 1}, out: []float64{0, 1.0000001}, str: "(0, 1]"},
		{tag: "[,10)", in: []float64{-5, 9.9}, out: []float64{10}, str: "< 10"},
		{tag: "[2,1]", bad: "above"},
		{tag: "[x,1]", bad: "lower bound"},
		{tag: "1,2", bad: "want"},
	} {
		r, err := ParseRange(tc.tag)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ParseRange(%q) error = %v, want %q", tc.tag, err, tc.bad)
			}
			continue
		}
		if err != nil || r.String() != tc.str {
			t.Errorf("ParseRange(%q) = %v (%v), want %s", tc.tag, r, err, tc.str)
		}
		for _, v := range tc.in {
			if !r.Contains(v) {
				t.Errorf("%s does not contain %v", tc.tag, v)
			}
		}
		for _, v := range append(tc.out, math.NaN()) {
			if r.Contains(v) {
				t.Errorf("%s contains %v", tc.tag, v)
			}
		}
	}
}

// TestPluginLegacyJSON: the shape runs stored before the flat form hold,
// {"Name": ..., "Params": {...}}, nested blocks included, reads as the same
// Plugin; something that is neither shape is still an error.
func TestPluginLegacyJSON(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Plugin
	}{
		{`{"Name":"lstm","Params":{"hidden":8,"layers":1}}`, Plugin{Name: "lstm", Params: map[string]any{"hidden": 8.0, "layers": 1.0}}},
		{`{"Name":"dot","Params":null}`, Plugin{Name: "dot", Params: map[string]any{}}},
		{`{"Name":"dot"}`, Plugin{Name: "dot", Params: map[string]any{}}},
		{`{"Name":"multi-head","Params":{"heads":2,"head":{"Name":"additive","Params":{"dim":4}}}}`,
			Plugin{Name: "multi-head", Params: map[string]any{"heads": 2.0, "head": map[string]any{"name": "additive", "dim": 4.0}}}},
	} {
		var got Plugin
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Unmarshal(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"Name":"x","Params":3}`, `{"Name":"x","Params":{},"extra":1}`, `{"Params":{}}`} {
		var got Plugin
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("Unmarshal(%s) = %+v, want an error", bad, got)
		}
	}
}

func TestBuild(t *testing.T) {
	r := newTestRegistry()
	call := func(f factory, p any) (string, error) {
		if hp, ok := p.(*headParams); ok {
			return fmt.Sprintf("%s/%d", f(p), hp.Heads), nil
		}
		return f(p), nil
	}
	tests := []struct {
		name    string
		params  map[string]any
		want    string
		wantErr string
	}{
		{"dot", nil, "dot", ""},
		{"multi-head", map[string]any{"heads": 2}, "mh/2", ""},
		{"dott", nil, "", `unknown name "dott"`},
		{"multi-head", map[string]any{"heads": 0}, "", "heads"},
		{"dot", map[string]any{"x": 1}, "", "takes no parameters"},
	}
	for _, tc := range tests {
		got, err := Build(r, tc.name, tc.params, call)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Build(%s, %v) error = %v, want one containing %q", tc.name, tc.params, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Build(%s, %v) = %q, %v, want %q", tc.name, tc.params, got, err, tc.want)
		}
	}
}

// TestDescribeQuotesListStrings: a default list of strings is shown as YAML
// would read it back: an element with a comma or a brace (the dates task's
// formats, "{mon} {d}, {yyyy}") is quoted, so that the list's elements can
// be told apart and the default pasted into an experiment file.
func TestDescribeQuotesListStrings(t *testing.T) {
	for _, tc := range []struct {
		v    []string
		want string
	}{
		{[]string{"a", "b"}, "[a, b]"},
		{[]string{"{mon} {d}, {yyyy}", "{d}/{m}/{yy}"}, `["{mon} {d}, {yyyy}", "{d}/{m}/{yy}"]`},
		{[]string{"x: y", "[z]", "#c", ""}, `["x: y", "[z]", "#c", ""]`},
	} {
		if got := formatValue(reflect.ValueOf(tc.v)); got != tc.want {
			t.Errorf("formatValue(%q) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
