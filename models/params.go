package models

import (
	"fmt"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/registry"
)

// RNNEncoderParams are the parameters of the lstm and gru encoders.
type RNNEncoderParams struct {
	Hidden        int     `yaml:"hidden" doc:"hidden size per direction" range:"[1,65536]"`
	Layers        int     `yaml:"layers" doc:"number of stacked layers" range:"[1,64]"`
	Bidirectional bool    `yaml:"bidirectional" doc:"read the source in both directions (outputs are 2×hidden)"`
	Dropout       float64 `yaml:"dropout" doc:"dropout between stacked layers (needs layers 2 or more)" range:"[0,1)"`
}

// Validate checks the ranges.
func (p *RNNEncoderParams) Validate() error {
	switch {
	case p.Hidden < 1:
		return registry.Invalid("hidden", "must be at least 1, got %d", p.Hidden)
	case p.Layers < 1:
		return registry.Invalid("layers", "must be at least 1, got %d", p.Layers)
	case p.Dropout < 0 || p.Dropout >= 1:
		return registry.Invalid("dropout", "must be in [0, 1), got %v", p.Dropout)
	}
	return nil
}

// Lint refuses, in new experiments (registry.Linter), a dropout with
// layers 1: the dropout is applied between stacked layers only (as
// PyTorch's nn.LSTM and nn.GRU, which warn), so with one layer it did
// nothing and changed only the run's identity. Runs stored with it before
// still load.
func (p *RNNEncoderParams) Lint() error {
	if p.Dropout > 0 && p.Layers < 2 {
		return registry.Invalid("dropout", "only applies between stacked layers (layers 2 or more; model.dropout drops embeddings and outputs), got %v with layers %d", p.Dropout, p.Layers)
	}
	return nil
}

// Seq2SeqRNNParams are the parameters of seq2seq-rnn.
type Seq2SeqRNNParams struct {
	Embed        int     `yaml:"embed" doc:"embedding size of source and target tokens" range:"[1,65536]"`
	Hidden       int     `yaml:"hidden" doc:"decoder hidden size (0: the encoder's output size)" range:"[0,65536]"`
	Cell         string  `yaml:"cell" doc:"decoder cell: lstm or gru"`
	Wiring       string  `yaml:"wiring" doc:"bahdanau (attend from the previous state, context into the RNN input) or luong (attend after the RNN step, attentional state tanh(W[c;h]))"`
	InputFeeding bool    `yaml:"input_feeding" doc:"luong: feed the previous attentional state into the RNN input"`
	Attentional  bool    `yaml:"attentional" doc:"luong: predict from the attentional state tanh(W_c[c;h]) (false: from [h;c] directly)"`
	Bridge       bool    `yaml:"bridge" doc:"initialise the decoder from the encoder's final state (false: zeros)"`
	Dropout      float64 `yaml:"dropout" doc:"dropout on embeddings and decoder outputs" range:"[0,1)"`
	DeepOutput   bool    `yaml:"deep_output" doc:"bahdanau: predict from [s; c; emb(y_{t-1})], the previous token's embedding too (Bahdanau et al.'s deep output, without the maxout)"`
}

// Validate checks the ranges.
func (p *Seq2SeqRNNParams) Validate() error {
	switch {
	case p.Embed < 1:
		return registry.Invalid("embed", "must be at least 1, got %d", p.Embed)
	case p.Hidden < 0:
		return registry.Invalid("hidden", "must not be negative, got %d", p.Hidden)
	case p.Cell != "lstm" && p.Cell != "gru":
		return registry.Invalid("cell", "must be lstm or gru, got %q", p.Cell)
	case p.Wiring != "bahdanau" && p.Wiring != "luong":
		return registry.Invalid("wiring", "must be bahdanau or luong, got %q", p.Wiring)
	case p.InputFeeding && p.Wiring != "luong":
		return registry.Invalid("input_feeding", "only applies to wiring luong")
	case p.DeepOutput && p.Wiring != "bahdanau":
		return registry.Invalid("deep_output", "only applies to wiring bahdanau")
	case p.InputFeeding && !p.Attentional:
		return registry.Invalid("input_feeding", "feeds the attentional state, so it needs attentional: true")
	case p.Dropout < 0 || p.Dropout >= 1:
		return registry.Invalid("dropout", "must be in [0, 1), got %v", p.Dropout)
	}
	return nil
}

// Lint refuses, in new experiments (registry.Linter), attentional: false
// outside wiring luong: bahdanau wiring has no attentional state, so the
// setting was ignored and changed only the run's identity. Runs stored
// with it before still load.
func (p *Seq2SeqRNNParams) Lint() error {
	if !p.Attentional && p.Wiring != "luong" {
		return registry.Invalid("attentional", "only applies to wiring luong (bahdanau predicts from [s; c] already), got false")
	}
	return nil
}

// TransformerParams are the parameters of seq2seq-transformer and
// lm-transformer.
type TransformerParams struct {
	DModel        int     `yaml:"d_model" doc:"model width" range:"[1,65536]"`
	FF            int     `yaml:"ff" doc:"inner size of the position-wise feed-forward layers" range:"[1,65536]"`
	EncoderLayers int     `yaml:"encoder_layers" doc:"encoder blocks (seq2seq only)" range:"[0,64]"`
	DecoderLayers int     `yaml:"decoder_layers" doc:"decoder blocks" range:"[1,64]"`
	Dropout       float64 `yaml:"dropout" doc:"dropout on embeddings, attention outputs and feed-forward layers" range:"[0,1)"`
	Norm          string  `yaml:"norm" doc:"post (LayerNorm after each residual, as Vaswani et al.) or pre (before each sublayer)"`
	Positions     string  `yaml:"positions" doc:"sinusoidal or learned (added to the embeddings), rope, alibi or t5 (inside self-attention), or none (NoPE, causal models only)"`
	Activation    string  `yaml:"activation" doc:"feed-forward activation: relu or gelu"`
	TieEmbeddings bool    `yaml:"tie_embeddings" doc:"share the target embedding with the output projection (no output bias)"`
	ScaleEmbed    bool    `yaml:"scale_embeddings" doc:"multiply embeddings by √d_model before adding positions (Vaswani et al.)"`
	MaxLen        int     `yaml:"max_len" doc:"longest sequence for learned positions and the LM context (0: from the task)" range:"[0,65536]"`

	// lm is set in lm-transformer's defaults (decoding copies them): its
	// Validate refuses encoder_layers, which a language model has not.
	lm bool
}

// LengthChecker is implemented by the parameters of models that bound the
// length of their inputs. The experiment format's validation asks it about
// each evaluation context length (eval.context), so that a length the
// model cannot take is refused before anything trains.
type LengthChecker interface {
	// CheckLength returns an error if the model cannot be evaluated on
	// inputs of n tokens when trained on inputs of trained tokens (0:
	// unknown).
	CheckLength(n, trained int) error
}

var _ LengthChecker = (*TransformerParams)(nil)

// CheckLength refuses, for learned positions, a length beyond max_len (its
// table of positions) or beyond the training length (a larger table's
// further rows are never trained): learned positions cannot extrapolate.
// The other schemes take any length.
func (p *TransformerParams) CheckLength(n, trained int) error {
	if p.Positions != "learned" {
		return nil
	}
	switch {
	case p.MaxLen > 0 && n > p.MaxLen:
		return fmt.Errorf("learned positions cannot extrapolate beyond max_len %d, their table; use positions sinusoidal, rope, alibi, t5 or none", p.MaxLen)
	case trained > 0 && n > trained:
		return fmt.Errorf("learned positions cannot extrapolate beyond the %d positions they were trained on; use positions sinusoidal, rope, alibi, t5 or none", trained)
	}
	return nil
}

// positionSchemes are the values of TransformerParams.Positions.
var positionSchemes = []string{"sinusoidal", "learned", "rope", "alibi", "t5", "none"}

// Validate checks the ranges.
func (p *TransformerParams) Validate() error {
	switch {
	case p.DModel < 1:
		return registry.Invalid("d_model", "must be at least 1, got %d", p.DModel)
	case p.FF < 1:
		return registry.Invalid("ff", "must be at least 1, got %d", p.FF)
	case p.EncoderLayers < 0:
		return registry.Invalid("encoder_layers", "must not be negative, got %d", p.EncoderLayers)
	case p.lm && p.EncoderLayers != 0:
		return registry.Invalid("encoder_layers", "a language model has no encoder (encoder_layers is for seq2seq-transformer), got %d", p.EncoderLayers)
	case !p.lm && p.EncoderLayers == 0:
		return registry.Invalid("encoder_layers", "needs at least one encoder layer, got 0 (lm-transformer is the decoder-only model)")
	case p.DecoderLayers < 1:
		return registry.Invalid("decoder_layers", "must be at least 1, got %d", p.DecoderLayers)
	case p.Dropout < 0 || p.Dropout >= 1:
		return registry.Invalid("dropout", "must be in [0, 1), got %v", p.Dropout)
	case p.Norm != "post" && p.Norm != "pre":
		return registry.Invalid("norm", "must be post or pre, got %q", p.Norm)
	case !slices.Contains(positionSchemes, p.Positions):
		return registry.Invalid("positions", "must be one of %s, got %q", strings.Join(positionSchemes, ", "), p.Positions)
	case p.Positions == "none" && p.EncoderLayers > 0:
		return registry.Invalid("positions", "none (NoPE) needs a causal model: an encoder without positions sees a bag of tokens")
	case p.Activation != "relu" && p.Activation != "gelu":
		return registry.Invalid("activation", "must be relu or gelu, got %q", p.Activation)
	case p.MaxLen < 0:
		return registry.Invalid("max_len", "must not be negative, got %d", p.MaxLen)
	}
	return nil
}

// LengthLimited is implemented by the parameters of models whose longest
// sequence is set by a parameter: LengthLimit returns it, or 0 when the
// runner sizes the model from the task. A batch longer than the limit is
// an error; validation refuses it where the task's lengths are known.
type LengthLimited interface {
	LengthLimit() int
}

// LengthLimit returns max_len (0: sized from the task).
func (p *TransformerParams) LengthLimit() int { return p.MaxLen }

// LMRNNParams are the parameters of lm-rnn (its recurrent body is the
// model.encoder block).
type LMRNNParams struct {
	Embed         int     `yaml:"embed" doc:"embedding size" range:"[1,65536]"`
	TieEmbeddings bool    `yaml:"tie_embeddings" doc:"share the embedding with the output projection (adds a projection when sizes differ)"`
	Dropout       float64 `yaml:"dropout" doc:"dropout on embeddings and outputs" range:"[0,1)"`
}

// Validate checks the ranges.
func (p *LMRNNParams) Validate() error {
	switch {
	case p.Embed < 1:
		return registry.Invalid("embed", "must be at least 1, got %d", p.Embed)
	case p.Dropout < 0 || p.Dropout >= 1:
		return registry.Invalid("dropout", "must be in [0, 1), got %v", p.Dropout)
	}
	return nil
}
