// Package models holds attnlab's sequence models — the recurrent
// encoder-decoder (seq2seq-rnn: Bahdanau or Luong wiring, any registered
// attention), the Transformer (seq2seq-transformer, lm-transformer) and the
// recurrent language model — registered by name in Registry with their
// parameters, and the decoders that generate from them.
//
// # Settings that would do nothing
//
// A parameter that a model's other settings make meaningless is refused
// rather than accepted and ignored (it would change only the run's
// identity): in Validate, seq2seq-rnn's input_feeding outside wiring luong
// and deep_output outside bahdanau; in Lint (registry.Linter), which only
// new experiments get so that runs stored before the refusal still load
// and rebuild, seq2seq-rnn's attentional: false outside luong and an lstm
// or gru encoder's dropout with layers 1 — that dropout is applied between
// stacked layers only, as PyTorch's nn.LSTM (which warns); model.dropout
// is the one on embeddings and outputs:
//
//	exp.yaml:6: model.encoder.dropout: only applies between stacked layers (layers 2 or more; model.dropout drops embeddings and outputs), got 0.3 with layers 1 for encoder "lstm"
//
// # Training and decoding
//
// Model.Forward computes the logits of a teacher-forced batch (the graph
// the training step differentiates). Model.Start encodes a batch for
// step-by-step decoding and returns a State: Step feeds one token per
// hypothesis and returns the next token's log-probabilities, Select keeps
// (and repeats, reorders) hypotheses. Decode runs greedy decoding,
// sampling or beam search over a State.
//
// A Transformer's block stacks carry only the real positions of a padded
// batch (layers.PaddedRows, ForwardPacked): gathered after the embedding,
// scattered back as logits (0 at padded positions), the memory's real rows
// passed to the cross-attentions. On the reverse task of W3 a third of the
// rows are padding; skipping them made its training step 15 % faster (the
// feed-forward networks), then 11 % (the projections, and gathering and
// scattering the rows with tensor.TakeRows instead of Gather and Reshape),
// then 8 % (rows kept packed from block to block: no gathers and scatters
// around each sub-layer, LayerNorms and residual adds on real rows, the
// memory's keys and values projected on real rows; one thread, 5
// interleaved runs, 138 → 127 ms a step), then 10 % one thread and 15 %
// two (the scaled-dot attention reading the real rows where they are, not
// scattered into padded batches: attention's dotAttentionRows; medians of
// 4 alternating runs, 17.4k → 19.4k and 24.5k → 28.9k tokens/s). The loss
// and the logits of real
// positions are bitwise those of running every row; the weights' gradients
// agree to float32 rounding (TestPaddedRowsMatchAllRows).
//
// # Batched decoding
//
// Decode decodes every example of a batch at once: greedy and sampling step
// all live examples as the rows of one State and retire finished ones by
// Select; beam search steps all examples × live hypotheses as rows of one
// State, keeps per example its Beam best live and finished hypotheses, and
// retires an example once no live hypothesis can beat its worst kept
// finished one. Batched outputs are the one-at-a-time outputs
// (TestBatchedDecodingMatchesOneAtATime: padded sources of different
// lengths, sentences finishing at different steps).
//
// A hypothesis keeps, for each output step, a metrics.Focus of its
// attention row (entropy and peak position, what the attention metrics
// need), and the row itself only for the batch's first
// DecodeOptions.KeepAttention examples: rows of every example would take
// examples × output × source floats, gigabytes for long inputs
// (TestDecodeKeepsAttentionOnlyWhenAsked).
//
// Decoding is evaluation only and builds no graph. Its costs, by W6
// (../bench, bench/reference/BENCHMARKS.md), and what keeps them down:
//
//   - The output layer (rows × [s; c; emb] × vocabulary) is most of a step.
//     Decode freezes the parameters (tensor.Freeze): every product packs
//     its weight once for the whole decoding, and a packed block is pulled
//     into cache before the kernels read it. The recurrent decoder's output
//     layer and log-softmax run in buffers reused from step to step
//     (stepOutput; Step's result is valid until the next Step), with the
//     same values as Linear then LogSoftmax.
//   - A deep output (logits from [s; c; emb(y_{t−1})]) in beam search takes
//     the embedding's share of the product from a table of
//     emb(t)·W_emb per token fed (tokTable), made once per token while
//     the weights stay frozen and kept by the model from one decoding to
//     the next: W6's beam 5 ran 7–13 % faster. It is used only when the
//     embedding is the product's last depth block, as in W6 (768 + 256),
//     so that the sums are the full product's bit for bit
//     (TestTokenTableBitwise); other widths, and OpenBLAS (no known block
//     order), take the whole product (TestTokenTableOnlyWhenBitwise).
//     Greedy decoding, with a fifth as many rows a step, ran slower with
//     it and does without.
//   - The rows of a beam step that extend the same parent attend from the
//     same state, so their contexts are equal: the context's share of the
//     output product is computed once per distinct context
//     (stepOutput.sharedShare; rows grouped by their bits) and added to
//     the rest of each row's product in the product's own depth-block
//     order (tensor.DepthBlock), so the sums are the whole product's bit
//     for bit; features off the depth blocks, and OpenBLAS (no known
//     block order), take the whole product (TestSharedShareBitwise). In
//     W6's beam 5 about half of a step's rows repeat a context (the
//     context is 512 of the product's 768 depth after tokTable): 320
//     sentences took 6.9, 6.7, 6.9 CPU seconds instead of 8.5, 8.1, 8.4
//     (alternating runs; 33–35 → 35–39 sentences/s on a busy machine).
//     Whatever the last part, its rows are shared once at least an
//     eighth repeat: greedy decoding shares the embeddings of the tokens
//     its rows feed alike (on W6, 63 of 64 rows at the first step, bos,
//     then fewer, none after the tenth step), in CPU time as before. The
//     parts' weight blocks are packed on their own while frozen, dropped
//     with the Freeze: beam 5 packs W6's W[0:256], W[256:512] and
//     W[512:768] (3 × 6.1 MB) besides W[0:768]; greedy packs W[0:768]
//     and W[768:1024] (24.6 MB) besides the whole W.
//   - Rows of the same source share the encoder's outputs, mask and
//     prepared attention keys: when a beam search's first step gives each
//     source Beam rows, the prepared attention selects rows
//     (attention.RowSelector) instead of preparing again — a dense
//     attention lays the rows' queries out as queries of their sources and
//     gathers nothing.
//   - The Transformer decoders keep key/value caches (layers.Incremental):
//     each step runs only the new token through each layer
//     (TestKVCacheRunsEachTokenOnce, and bench's TestW6LMCacheIsUsed for
//     W6's lm-cache). Transformer.UseKVCache(false) re-runs the prefix
//     instead; the log-probabilities agree within 1e-5
//     (TestKVCacheMatchesRerun).
package models
