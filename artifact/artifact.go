// Package artifact is the schema of the artifacts a run stores besides its
// metrics: their kinds and names (the store's key (run, kind, name)) and the
// JSON types of those that readers decode. Package runs writes them; report,
// the CLI and runs' own loader read them. It imports nothing of attnlab, so
// both sides can depend on it.
//
// # The artifacts of a run
//
//	kind        name                    written               holds
//	model       params.safetensors      at the end (done)     the final parameters (early stopping: the best),
//	                                                          safetensors, metadata "step": the step they were
//	                                                          taken at (early stopping: best/step)
//	model       vocab.json              at the end            the vocabularies and tokenizers (tasks.Spec, JSON),
//	                                                          so decoding uses the training ids
//	model       model_spec.json         at the end            what rebuilding the model needs besides the config:
//	                                                          {"spec": models.Spec, "max_out": decoding limit}
//	checkpoint  checkpoint.safetensors  every checkpoint      parameters, optimizer state and training state
//	                                                          (see runs' checkpoint format); replaced each time
//	samples     test.json               after test decoding   []Sample: decoded test examples (LM: generations)
//	attention   test.json               after test decoding   []AttentionMap (models with attention only)
//	scores      test.json               after test decoding   []Score: test BLEU, chrF2, chrF++ with their
//	                                                          sacreBLEU signatures (seq2seq only)
//
// # Older stores
//
// Before store schema version 3, NameVocab was stored as "spec.json" and
// NameModelSpec as "model.json". Store's migration 3 ("artifact names")
// renames them in place when an older store is opened, so readers look up
// the current names only.
package artifact

import "strconv"

// Artifact kinds.
const (
	KindModel      = "model"      // what a finished run's model needs to decode
	KindCheckpoint = "checkpoint" // the resumable training state
	KindSamples    = "samples"    // decoded test examples
	KindAttention  = "attention"  // attention maps of decoded test examples
	KindScores     = "scores"     // corpus scores with their sacreBLEU signatures
)

// Artifact names, each under the kind given in the package documentation.
const (
	NameParams     = "params.safetensors"     // KindModel
	NameVocab      = "vocab.json"             // KindModel
	NameModelSpec  = "model_spec.json"        // KindModel
	NameCheckpoint = "checkpoint.safetensors" // KindCheckpoint
	NameSamples    = "test.json"              // KindSamples
	NameAttention  = "test.json"              // KindAttention
	NameScores     = "test.json"              // KindScores
)

// Sample is one decoded test example, stored as JSON with the run. For a
// language model, Source is the prompt, Output its continuation, and
// Reference and Correct are empty.
type Sample struct {
	Index     int    `json:"index"` // position in the test split
	Source    string `json:"source"`
	Reference string `json:"reference"`
	Output    string `json:"output"`
	Correct   bool   `json:"correct"` // Output equals Reference exactly
}

// MaxAttentionWeights bounds the attention weights kept for display or
// storage: the maps a run stores (eval.attention_maps, checked when the
// experiment is loaded) and the heatmap of one generate --show-attention
// input, output steps × source tokens. 16M weights are 64 MiB as float32
// and about 170 MiB as JSON; more is memory that grows with the square of
// the input for a picture no one reads whole.
const MaxAttentionWeights = 16 << 20

// AttentionMap is the attention of one decoded test example: Weights has one
// row per output step (the eos step included) and one column per source
// token, each row summing to 1 (all zeros for a model with attention none).
type AttentionMap struct {
	Index   int         `json:"index"` // position in the test split
	Source  []string    `json:"source"`
	Output  []string    `json:"output"` // output tokens, then "<eos>" when the output ended
	Weights [][]float32 `json:"weights"`
}

// Score is one corpus score of the decoded test split with the signature of
// its settings, as sacreBLEU's JSON output has it (name, score, signature,
// verbose_score). The value is also the run's summary Key.
type Score struct {
	Key       string  `json:"key"`                     // the summary: test/bleu, test/chrf, test/chrf++
	Name      string  `json:"name"`                    // BLEU, chrF2, chrF2++
	Score     float64 `json:"score"`                   // 0–100
	Signature string  `json:"signature"`               // nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1
	Verbose   string  `json:"verbose_score,omitempty"` // BLEU: precisions, BP, ratio and lengths
}

// Line returns the score as sacreBLEU prints it: "BLEU|nrefs:1|…|version:2.5.1 = 47.69 76.0/59.1/36.8/31.2 (BP = …)".
func (s Score) Line() string {
	line := s.Name + "|" + s.Signature + " = " + strconv.FormatFloat(s.Score, 'f', 2, 64)
	if s.Verbose != "" {
		line += " " + s.Verbose
	}
	return line
}
