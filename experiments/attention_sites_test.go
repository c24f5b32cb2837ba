package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttentionSuitsModel: with the real registries, an attention block
// that cannot serve a model's sites (its position scheme included) is a
// validation error on model.attention (or model.positions) with the file's
// line, and a combination that works validates.
func TestAttentionSuitsModel(t *testing.T) {
	for _, tc := range []struct {
		name, model string
		want        string // "" for a valid file
	}{
		{"alibi with linear heads", `{name: lm-transformer, positions: alibi, attention: {name: multi-head, heads: 2, head: {name: linear}}}`,
			`exp.yaml:3: model.attention: does not suit model "lm-transformer": attention "multi-head": head: attention "linear": positions alibi add a bias to attention scores, which linear never computes`},
		{"t5 with performer", `{name: lm-transformer, positions: t5, attention: {name: performer}}`,
			`positions t5 add a bias to attention scores, which performer never computes`},
		{"rope with an additive score", `{name: lm-transformer, positions: rope, attention: {name: multi-head, head: {name: additive}}}`,
			`positions rope need a dot-product score`},
		{"chunked with an additive score", `{name: lm-transformer, attention: {name: chunked, score: {name: additive}}}`,
			`chunked needs a dot-product score`},
		{"none's final context in a transformer", `{name: lm-transformer, attention: {name: none}}`,
			`context final needs the outputs of a recurrent encoder`},
		{"NoPE in an encoder", `{name: seq2seq-transformer, positions: none, attention: {name: multi-head}}`,
			`exp.yaml:3: model.positions: none (NoPE) needs a causal model`},
		{"chunked with an additive score in a recurrent model", `{name: seq2seq-rnn, attention: {name: chunked, score: {name: additive}}}`,
			`exp.yaml:3: model.attention: does not suit model "seq2seq-rnn": attention "chunked": chunked needs a dot-product score`},
		{"dot over a recurrent encoder of another size", `{name: seq2seq-rnn, hidden: 48, encoder: {name: gru, hidden: 32, bidirectional: true}, attention: {name: dot}}`,
			`dot needs equal query and key sizes, got 48 and 64`},
		{"dot over a bidirectional encoder, decoder sized to it", `{name: seq2seq-rnn, encoder: {name: gru, hidden: 32, bidirectional: true}, attention: {name: dot}}`, ""},
		{"alibi with chunked heads", `{name: lm-transformer, positions: alibi, attention: {name: multi-head, heads: 2, head: {name: chunked, block: 16}}}`, ""},
		{"t5 with sliding-window", `{name: lm-transformer, positions: t5, attention: {name: multi-head, heads: 2, head: {name: sliding-window, window: 8}}}`, ""},
		{"rope with performer", `{name: lm-transformer, positions: rope, attention: {name: multi-head, heads: 2, head: {name: performer, features: 16}}}`, ""},
		{"NoPE in a language model", `{name: lm-transformer, positions: none, attention: {name: multi-head}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			corpus := filepath.Join(dir, "corpus.txt")
			if err := os.WriteFile(corpus, []byte(strings.Repeat("the quick brown fox jumps over the lazy dog\n", 40)), 0o644); err != nil {
				t.Fatal(err)
			}
			task := "{name: text, path: corpus.txt}"
			if strings.Contains(tc.model, "seq2seq") {
				task = "{name: copy}"
			}
			path := filepath.Join(dir, "exp.yaml")
			text := "name: combo\ntask: " + task + "\nmodel: " + tc.model + "\ntrain: {steps: 1}\n"
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Load error = %v, want Errors", err)
			}
			found := false
			for _, e := range es {
				e := *e
				e.File = "exp.yaml"
				found = found || strings.Contains(e.Error(), tc.want)
			}
			if !found {
				t.Fatalf("Load errors %v do not contain %q", err, tc.want)
			}
		})
	}
}
