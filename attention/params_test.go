package attention_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/registry"
)

func TestStrictParams(t *testing.T) {
	d := attention.Dims{Query: 8, Key: 8, Value: 8}
	for _, tc := range []struct {
		variant string
		params  map[string]any
		want    []string // substrings of the error
		param   bool     // a *registry.ParamError
	}{
		{"additive", map[string]any{"dimm": 3}, []string{"dimm", `"additive"`, "unknown key", "known: dim"}, true},
		{"multi-head", map[string]any{"heds": 2}, []string{"heds", `"multi-head"`, "known: heads, dim, head, bias"}, true},
		{"multi-head", map[string]any{"head": 2}, []string{"head", `"multi-head"`, "want a map with a name key"}, true},
		{"multi-head", map[string]any{"head": map[string]any{"block": 2}}, []string{"head", "without one"}, true},
		// Nested blocks are decoded strictly when the attention is built.
		{"multi-head", map[string]any{"head": map[string]any{"name": "bogus"}}, []string{`attention "multi-head": head:`, `unknown name "bogus"`}, false},
		{"multi-head", map[string]any{"head": map[string]any{"name": "multi-head"}}, []string{"head:", "cannot be its own per-head attention"}, false},
		{"multi-head", map[string]any{"head": map[string]any{"name": "none"}}, []string{"head:", "none has no per-head form"}, false},
		{"multi-head", map[string]any{"head": map[string]any{"name": "chunked", "block": 0}}, []string{"head:", "block", "must be in [1, 65536], got 0", `"chunked"`}, true},
		{"multi-head", map[string]any{"head": map[string]any{"name": "chunked", "blok": 2}}, []string{"head:", "blok", "unknown key", "known: block, score, weights"}, true},
		{"chunked", map[string]any{"block_size": 2}, []string{"block_size", `"chunked"`}, true},
		{"dot", map[string]any{"scale": 2}, []string{"scale", `"dot"`, "takes no parameters"}, true},
		{"additive", map[string]any{"dim": -1}, []string{"dim", "must be in [0, 65536], got -1", `"additive"`}, true},
		{"additive", map[string]any{"dim": "big"}, []string{"dim", "want int"}, true},
		{"location", map[string]any{"max_len": 0}, []string{"max_len", "must be in [1, 65536], got 0"}, true},
		{"multi-head", map[string]any{"heads": 0}, []string{"heads", "must be in [1, 1024], got 0"}, true},
		{"local", map[string]any{"score": map[string]any{"name": "additive", "dim": -2}}, []string{"score:", "dim", "must be in [0, 65536], got -2", `score "additive"`}, true},
		{"local", map[string]any{"mode": "lazy"}, []string{"mode", "monotonic or predictive"}, true},
		{"local", map[string]any{"window": 0}, []string{"window", "must be in [1, 65536], got 0"}, true},
		{"local", map[string]any{"score": map[string]any{"name": "bogus"}}, []string{"score:", `unknown name "bogus"`, "known: additive, "}, false},
		{"none", map[string]any{"context": "last"}, []string{"context", "final, mean or zero"}, true},
		{"chunked", map[string]any{"block": 0}, []string{"block", "must be in [1, 65536], got 0"}, true},
		{"linear", map[string]any{"weights": 1}, []string{"weights", "want bool"}, true},
		// Construction errors: the variant cannot serve the site.
		{"multi-head", map[string]any{"heads": 3}, []string{`attention "multi-head"`, "dim 8 is not a multiple of heads 3"}, false},
	} {
		t.Run(tc.variant+"/"+fmtAny(tc.params), func(t *testing.T) {
			_, err := attention.New(tc.variant, tc.params, d)
			if err == nil {
				t.Fatalf("New(%s, %v) succeeded, want an error", tc.variant, tc.params)
			}
			var pe *registry.ParamError
			if errors.As(err, &pe) != tc.param {
				t.Errorf("error %v: *registry.ParamError = %v, want %v", err, !tc.param, tc.param)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestLocalDimLinted: local attention's dim with mode monotonic is
// refused in new experiments (Lint, which plan runs), but a stored run's
// configuration that has it still builds (it did nothing there, and runs
// stored before the refusal must load: generate, eval, a worker resuming).
func TestLocalDimLinted(t *testing.T) {
	params := map[string]any{"mode": "monotonic", "dim": 5}
	info, err := attention.Registry.Info("local")
	if err != nil {
		t.Fatal(err)
	}
	p, err := info.Decode(params, registry.DecodeOptions{})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	err = info.Lint(p)
	var pe *registry.ParamError
	if !errors.As(err, &pe) || pe.Key != "dim" || !strings.Contains(err.Error(), "only applies to mode predictive") || !strings.Contains(err.Error(), "got 5 with mode monotonic") {
		t.Errorf("Lint = %v, want dim refused", err)
	}
	if _, err := attention.New("local", params, attention.Dims{Query: 8, Key: 8, Value: 8}); err != nil {
		t.Errorf("a stored local attention with dim and mode monotonic does not build: %v", err)
	}
}

func TestUnknownVariantListsKnownOnes(t *testing.T) {
	_, err := attention.New("adittive", nil, attention.Dims{Query: 4, Key: 4, Value: 4})
	var ue *registry.UnknownError
	if !errors.As(err, &ue) {
		t.Fatalf("New(adittive) error = %v, want *registry.UnknownError", err)
	}
	want := `attention: unknown name "adittive" (known: ` + strings.Join(attention.Registry.Names(), ", ") + `)`
	if err.Error() != want {
		t.Fatalf("error = %q\nwant    %q", err, want)
	}
}

// TestConstructionErrors: a variant that cannot serve a site says so at
// construction, never with a wrong answer later.
func TestConstructionErrors(t *testing.T) {
	for _, tc := range []struct {
		variant string
		params  map[string]any
		d       attention.Dims
		want    string
	}{
		{"dot", nil, attention.Dims{Query: 4, Key: 6, Value: 4}, "equal query and key sizes, got 4 and 6"},
		{"scaled-dot", nil, attention.Dims{Query: 4, Key: 6, Value: 4}, "equal query and key sizes"},
		{"chunked", nil, attention.Dims{Query: 4, Key: 6, Value: 4}, "equal query and key sizes"},
		{"linear", nil, attention.Dims{Query: 4, Key: 6, Value: 4, Causal: true}, "equal query and key sizes"},
		{"local", map[string]any{"score": map[string]any{"name": "dot"}}, attention.Dims{Query: 4, Key: 6, Value: 4}, "equal query and key sizes"},
		{"multi-head", map[string]any{"heads": 4}, attention.Dims{Query: 4, Key: 6, Value: 6}, "dim 6 is not a multiple of heads 4"},
		{"multi-head", map[string]any{"heads": 2, "head": map[string]any{"name": "chunked", "score": map[string]any{"name": "additive"}}}, attention.Dims{Query: 4, Key: 4, Value: 4}, "chunked needs a dot-product score"},
		{"chunked", map[string]any{"score": map[string]any{"name": "location"}}, attention.Dims{Query: 4, Key: 4, Value: 4}, "chunked needs a dot-product score"},
		{"none", nil, attention.Dims{Query: 4, Key: 4, Value: 4}, "context final needs the outputs of a recurrent encoder"},
		{"none", nil, attention.Dims{Query: 4, Key: 4, Value: 5, Directions: 2}, "value size 5 does not split into 2 directions"},
		{"general", nil, attention.Dims{Query: 0, Key: 6, Value: 4}, "sizes must be positive"},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			_, err := attention.New(tc.variant, tc.params, tc.d)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `attention "`+tc.variant+`"`) {
				t.Fatalf("New(%s, %v) error = %v, want one naming the variant and containing %q", tc.variant, tc.d, err, tc.want)
			}
		})
	}
	// Sizes that differ are fine where the score allows them, at causal sites too.
	for _, name := range []string{"general", "additive", "location", "multi-head", "local", "none"} {
		if _, err := attention.New(name, nil, attention.Dims{Query: 4, Key: 6, Value: 8, Causal: true, Directions: 2}); err != nil {
			t.Errorf("New(%s) with query 4, key 6, value 8: %v", name, err)
		}
	}
}

// TestParamsDocumentThemselves: every parameter has a doc line, so
// `attnlab list attention` shows the YAML vocabulary.
func TestParamsDocumentThemselves(t *testing.T) {
	for _, e := range attention.Registry.Entries() {
		if e.Doc == "" {
			t.Errorf("%s has no doc", e.Name)
		}
		for _, p := range e.Describe() {
			if p.Doc == "" {
				t.Errorf("%s: parameter %s has no doc", e.Name, p.Name)
			}
		}
		// Defaults must pass their own validation and build at a plain site.
		if _, err := attention.New(e.Name, nil, attention.Dims{Query: 8, Key: 8, Value: 8, Directions: 2}); err != nil {
			t.Errorf("%s with default parameters: %v", e.Name, err)
		}
	}
}
