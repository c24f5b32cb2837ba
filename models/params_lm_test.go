package models

import (
	"errors"
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
		// and seq2seq-transformer needs one: refused at validation too,
		// not at the start of each run.
		{"seq2seq-transformer", map[string]any{"encoder_layers": 0}, "needs at least one encoder layer"},
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

// TestCheckLengthLearnedPositions: learned positions take an evaluation
// context up to the positions training reached, whatever the size of
// their table (max_len): a table larger than the training context holds
// rows training never updated, whose loss means nothing. Other schemes
// take any length.
func TestCheckLengthLearnedPositions(t *testing.T) {
	for _, tc := range []struct {
		positions       string
		maxLen, n, trnd int
		ok              bool
	}{
		{"learned", 0, 32, 32, true},
		{"learned", 0, 64, 32, false},
		{"learned", 64, 64, 32, false}, // rows 32..63 were never trained
		{"learned", 64, 32, 32, true},
		{"learned", 16, 32, 32, false}, // beyond the table
		{"learned", 64, 64, 0, true},   // training context unknown: the table decides
		{"learned", 64, 128, 0, false},
		{"sinusoidal", 64, 512, 32, true},
		{"alibi", 0, 512, 32, true},
	} {
		p := &TransformerParams{Positions: tc.positions, MaxLen: tc.maxLen}
		if err := p.CheckLength(tc.n, tc.trnd); (err == nil) != tc.ok {
			t.Errorf("positions %s, max_len %d, trained %d: CheckLength(%d) = %v, want ok %v", tc.positions, tc.maxLen, tc.trnd, tc.n, err, tc.ok)
		}
	}
}

// TestStoredAttentionalFalseLoads: attentional: false with wiring
// bahdanau is refused in new experiments (Lint), but a stored run's
// configuration that has it — accepted, and ignored, before — still
// decodes as the model's build decodes it (generate, eval and a worker
// resuming such a run failed).
func TestStoredAttentionalFalseLoads(t *testing.T) {
	_, err := registry.Build(Registry, "seq2seq-rnn", map[string]any{"attentional": false}, func(f Factory, p any) (any, error) { return p, nil })
	if err != nil {
		t.Fatalf("a stored seq2seq-rnn with attentional: false under bahdanau does not decode: %v", err)
	}
}

// TestEncoderDropoutWithOneLayerLinted: an lstm or gru encoder's dropout,
// applied between stacked layers only, is refused with layers 1 in new
// experiments (Lint, which plan runs), where it did nothing; a stored
// run's configuration that has it still builds (generate, eval, a worker
// resuming must not fail on runs an earlier version accepted).
func TestEncoderDropoutWithOneLayerLinted(t *testing.T) {
	for _, name := range []string{"lstm", "gru"} {
		info, err := Encoders.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			set  map[string]any
			want string // "": accepted
		}{
			{map[string]any{"dropout": 0.3}, `dropout: only applies between stacked layers (layers 2 or more; model.dropout drops embeddings and outputs), got 0.3 with layers 1 for encoder "` + name + `"`},
			{map[string]any{"dropout": 0.3, "layers": 2}, ""},
			{map[string]any{"dropout": 0.3, "layers": 2, "bidirectional": true}, ""},
			{map[string]any{"dropout": 0.0}, ""},
		} {
			p, err := info.Decode(tc.set, registry.DecodeOptions{})
			if err != nil {
				t.Fatalf("%s %v: Decode: %v", name, tc.set, err)
			}
			err = info.Lint(p)
			var pe *registry.ParamError
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s %v: Lint = %v, want accepted", name, tc.set, err)
			case tc.want != "" && (!errors.As(err, &pe) || pe.Key != "dropout" || err.Error() != tc.want):
				t.Errorf("%s %v: Lint = %v\nwant %s", name, tc.set, err, tc.want)
			}
			if _, err := registry.Build(Encoders, name, tc.set, func(f EncoderFactory, p any) (Encoder, error) { return f(p, 8) }); err != nil {
				t.Errorf("a stored %s encoder %v does not build: %v", name, tc.set, err)
			}
		}
	}
}

// TestOtherWiringSettingsRefused: a seq2seq-rnn setting of the other
// wiring is refused at validation, not silently ignored (it would only
// change the run's identity).
func TestOtherWiringSettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		set map[string]any
		err string
	}{
		{map[string]any{"attentional": false}, "attentional: only applies to wiring luong"},
		{map[string]any{"wiring": "luong", "attentional": false}, ""},
		{map[string]any{"input_feeding": true}, "input_feeding: only applies to wiring luong"},
	} {
		e, err := Registry.Lookup("seq2seq-rnn")
		if err != nil {
			t.Fatal(err)
		}
		info := e.Info("model")
		p, err := info.Decode(tc.set, registry.DecodeOptions{})
		if err == nil {
			err = info.Lint(p) // plan's check of a new experiment
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%v: %v", tc.set, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: error %v, want %q", tc.set, err, tc.err)
		}
	}
}
