package models

import (
	"strings"

	"github.com/attnlab/attnlab/registry"
	"testing"
)

// TestLMTransformerRefusesEncoderLayers: lm-transformer shares
// seq2seq-transformer's parameters but has no encoder: encoder_layers is
// refused at validation (plan), not accepted into the run's identity and
// then refused when the model is built.
func TestLMTransformerRefusesEncoderLayers(t *testing.T) {
	for _, tc := range []struct {
		model string
		set   map[string]any
		err   string
	}{
		{"lm-transformer", map[string]any{"encoder_layers": 3}, "a language model has no encoder"},
		{"lm-transformer", map[string]any{}, ""},
		{"seq2seq-transformer", map[string]any{"encoder_layers": 3}, ""},
	} {
		e, err := Registry.Lookup(tc.model)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Info("model").Decode(tc.set, registry.DecodeOptions{})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s %v: %v", tc.model, tc.set, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s %v: error %v, want %q", tc.model, tc.set, err, tc.err)
		}
	}
}
