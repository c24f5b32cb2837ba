// Package attention holds the Attention interface and its interchangeable
// variants, one file each, each registered in Registry from its own init
// function with its formula and source paper in its doc comment.
//
// Variants share one contract (see Attention): queries attend over keys and
// values under an optional keep-mask, and return the context and the
// weights. Every variant is checked against PyTorch fixtures where one
// exists, gradient-checked, and tested for padding invariance, fully masked
// rows and causality.
//
// # Scores and variants
//
// A score compares a query with a key. Scores are registry entries of their
// own (Scores), one file each, registered with RegisterScore, which also
// registers the single-head attention taking a softmax of the score over
// all keys (Dense) under the same name. So a new score is one file, and it
// is at once a variant, a per-head attention of multi-head and a score of
// local (and, if it is a dot product, of chunked).
//
//	dot         q·k                                   Luong et al. 2015
//	general     qᵀ W k                                Luong et al. 2015
//	additive    vᵀ tanh(q W_q + k W_k + b)            Bahdanau et al. 2015
//	scaled-dot  q·k/√d                                Vaswani et al. 2017
//	location    (q W)[j] over source positions        Luong et al. 2015
//
// The other variants:
//
//	none        a context that ignores the query: the encoder's final state (default), mean or zero
//	                                                  Cho et al. 2014 / Bahdanau et al. 2015 (RNNencdec); Sutskever et al. 2014
//	multi-head  projections, H heads of any per-head attention, output projection   Vaswani et al. 2017
//	local       a window of 2D+1 keys around a monotonic or predicted centre, any score  Luong et al. 2015
//	linear      φ(q)ᵀ Σ φ(k) vᵀ / φ(q)ᵀ Σ φ(k), φ = elu+1, O(n)              Katharopoulos et al. 2020
//	chunked     exact softmax of a dot-product score over key blocks with a running max (flash style)
//	                                                  Milakov & Gimelshein 2018; Dao et al. 2022
//	sliding-window  softmax over a band of w keys (the w most recent at a causal site), any score, O(n·w)
//	                                                  Beltagy et al. 2020; Child et al. 2019
//	performer   FAVOR+: positive orthogonal random features approximating softmax, O(n)
//	                                                  Choromanski et al. 2021
//
// # Heads
//
// multi-head takes any variant but multi-head and none as its per-head
// attention (`head: {name: chunked}`, `head: {name: local, window: 8}`; default
// scaled-dot), built once for all heads (Dims.Heads). A per-head attention
// reads the heads in place from the projections [B,T,H·d] through GEMM
// strides — no per-head copies — and every parameter it has gets a leading
// head axis. Nested blocks (multi-head's head; the score of local, chunked
// and sliding-window) are registry.Plugin parameters, written
// `head: {name: chunked, block: 32}`; the experiment format validates them
// at their own sites (model.attention.head against Heads, …score against
// Scores) and the factories decode them strictly again when they build.
//
// # Masks
//
// A mask is a keep-mask broadcastable to [B,Tq,Tk], read in place (never
// expanded). At a causal site (Dims.Causal) the attention applies the
// causal rule j ≤ i itself, so a decoder needs no [T,T] mask tensor.
// Masked pairs get weight exactly 0 and no gradient; a query with nothing
// to attend gets zero weights and a zero context (multi-head included: its
// output bias is not added to such rows). A NaN score is not a masked one:
// a NaN among a query's kept scores — one NaN key, or a NaN query, whose
// every score is NaN — makes its weights, context and gradients NaN on
// every path (dense, window, flash tile loop, fused flash kernel, linear),
// forward and backward. Masked means not read: a key or value that no
// query reads — dropped by a key mask (one constant along the queries, as
// a padding mask), or past the keys the causal rule and the band leave
// every query — and the query of a row with nothing to attend are not
// read, so a NaN there changes nothing, on every path (TestNaNScores).
// The products still run over them (weight 0), with a copy zeroing those
// rows only when one of them is not finite: only those rows are scanned,
// so finite inputs cost no copy and no pass (a prepared form, which a
// decoder attends with at every step, checks its keys and values once
// when prepared and then scans nothing while they are finite). Still read, with weight 0,
// so that a NaN there makes results NaN (0·NaN is NaN), because telling
// them apart would cost a pass over every row of the mask or of the
// operand: a key or value that a mask varying by query ([B,Tq,Tk])
// drops for every query (the contexts and query gradients of its batch
// row); a key or value one query reads and another does not (causal:
// key j, read by the queries from j on, can also reach the dq and the
// context of the queries before j); a key other queries read, in the dq
// of a row with nothing to attend; and the query of such a row, or a
// key or value no query reads, in the gradients of the parameters that
// map it (additive's W_q and W_k, general's W, multi-head's projections:
// dW = Xᵀ·dY reads every row of X). Every variant honours
// key-padding and causal masks. Linear and performer attention honour only masks of the
// form row × key (× causal), which covers padding and causal masks and
// their products; they panic on any other mask rather than return a wrong
// answer.
// Construction errors (returned by New) are sizes or sites a variant cannot
// serve: dot and scaled-dot scores, chunked and linear need equal query and
// key sizes, multi-head needs dim divisible by heads, chunked needs a
// dot-product score, and none's context final needs the outputs of a
// recurrent encoder (Dims.Directions, set by seq2seq-rnn).
//
// # Positions inside attention
//
// A site may carry a position scheme (Dims.Positions, see Positions):
// rope rotates the mapped queries and keys (Su et al. 2021), alibi adds
// −m_h·|j − p_i| with Press et al.'s slopes for any head count, t5 adds a
// learned per-head bias of T5's relative-position buckets (Raffel et al.
// 2020), shared by the sites of a stack. Biases are added inside every
// softmax kernel — dense, chunked (tile by tile, with their gradient),
// local and sliding-window — so ALiBi and T5 work with the flash kernel.
// Combinations that cannot work are refused when the attention is built,
// with a message naming both, and by the experiment format's validation
// (models.AttentionChecker):
//
//	rope         with a score that is not a dot product (additive, location), or an odd head size
//	alibi, t5    with linear and performer (no scores to add a bias to) and with none
//	rope         with none
//	t5           in sites of one stack with different head counts
//
// Linear and performer attention take rope on their queries and keys
// before the feature map. Models give no scheme to cross-attention (as
// T5), and seq2seq-transformer refuses positions none (an encoder without
// positions sees a bag of tokens).
//
// # Weights and long inputs
//
// chunked, linear, performer, local and sliding-window never build a
// [Tq,Tk] matrix on their training path, so their Attend returns nil
// weights unless asked (WeightsOnRequest, or the `weights: true`
// parameter); requested weights are computed without gradient, for
// heatmaps. A dense attention with a dot-product score (scaled-dot, dot,
// general) also returns nil weights unless asked: it then computes scores,
// softmax and weighted sum as one op that keeps the weights to itself, and
// for long inputs takes the chunked kernel by itself — from 256 keys, 128
// at a causal site, where it was measured to pay — with the same result up
// to float32 rounding (a Transformer trained 200 steps either way gives the
// same losses within 1e-4). Requested, its weights come with their
// gradient; the other dense scores (additive, location) always return them.
//
// # Decoding
//
// Every variant but multi-head embeds the same call set-up and so decodes
// step by step over a key/value cache (layers.Incremental): AttendNext
// appends the new tokens' keys and values to each sequence's cache and
// attends from their positions, under the site's rules, so a Transformer
// decoder runs only the new token at each step; multi-head caches the
// projected keys and values. Cached and re-run decoding give the same
// tokens and log-probabilities (models' tests, every position scheme), and
// with the cache each token passes through each decoder layer once.
// Attention over fixed keys — a recurrent decoder's, a Transformer
// decoder's cross-attention — is prepared once (Preparer: additive's
// k·W_k + b, multi-head's key and value projections) for all the steps.
//
// # Memory estimates
//
// [EstimateMemory] estimates an attention block's weights and the
// activations it keeps for the backward pass from its configuration alone
// (experiments.EstimateMemory, plan's --max-memory). Parameters that
// implement [MemoryEstimator] answer for themselves (none: nothing;
// multi-head: its projections and each head's attention, asked the same
// way; linear and performer: their features, never a [Tq,Tk] matrix
// unless `weights` asks for it); every other variant gets the generic
// estimate from the parameters the scoring attentions share (dim,
// window, block), with no weights kept for a dot-product score over
// flashKeys keys or more (the flash kernel trains there) unless the
// queries come one call at a time (MemoryShape.Steps: a recurrent
// decoder's prepared attention, which keeps each step's weights, and
// where linear and performer map every key at every step), so a new variant
// needs no change here unless its memory differs from that.
//
// # Kernels
//
// The hot paths are fused ops built with tensor.Custom (forward and
// backward side by side): dot-product attention (scores, masked softmax
// and weighted sum, all heads by strides), or its scores + softmax when
// the weights are wanted, the weighted sum of values, per-head linear
// maps, rotary positions, pair scores over a window (all keys, or a band:
// additive recomputes its tanh in the backward pass instead of storing
// [B,H,Tq,W,A]), the linear-attention recurrences (elu+1 or FAVOR+
// features; for elu+1 the feature map and its derivative are computed
// inside the op, branch-free (AVX-512 kernels where the CPU has them,
// AVX2+FMA ones, per lane the same arithmetic, where it has only those),
// in the passes that lay the heads out, so the features have no graph
// node or gradient buffer of their own), and the
// chunked (online-softmax) attention with position biases (its softmax
// backward rows in an AVX-512 kernel). A dense softmax row (max, exp and
// sum, scale) is one AVX-512 kernel call, bitwise the arithmetic of the
// tensor kernels it replaces. The dense softmax backward
// dS = P ⊙ (dP − Σ dP⊙P) runs one AVX-512 kernel per row (the row's dot
// product summed in float32 lanes; the Go loop sums in float64) over only
// the keys the causal rule and band leave; a key-padding mask (each row
// keeps a prefix of its keys) is applied by range, not read key by key.
// Its dq, dk and dv are written whole by the heads' products, into fresh
// buffers without clearing them first (tensor.CustomDst). At a causal or
// banded site the products go by blocks of 24 queries (rowBlocks), each
// against only the keys its last query may see, and dk and dv by the same
// blocks of keys against only the queries that see them: the skipped
// terms are products with zero weights, so the results equal those of
// the whole products (TestCausalRowBlocks), at 2/3 of the work for 64
// queries and 0.6 for 127 (from 128 keys a causal site takes the flash
// op, above).
//
// For heads of 32 under no mask or a key mask (key padding), with no
// position bias and not at a causal or banded site, the flash op — chunked,
// and dense attention on long inputs — runs a fused kernel instead of its
// tile loop over tensor.Gemm (flash32.go; flash_amd64.s, generated by
// flash_asmgen.go), with AVX-512 where the CPU has it and AVX2+FMA where it
// has only those: tiles of 8 keys × 32 queries (AVX2: 4 keys × 16 queries)
// held transposed, queries in the vector lanes, so the online softmax's
// maximum and sum are vertical; scores, exponentials, the running maximum
// and sum and the context's update stay in registers and L1, on operands
// packed per (batch row, head) into O(n) buffers; the backward pass
// recomputes each tile's weights from the log-sum-exp and does its five
// products in one kernel call (FlashAttention-2). Chunked's block size
// does not apply to it. W5's softmax at n = 4096 (4 heads of 32) went from
// ~280 to ~200 ms of CPU on the Zen 5 host of the time; a Zen 4 host, whose
// AVX-512 units are half as wide, takes 340–360 ms; on an AVX2 Zen 3 the
// AVX2 kernels took it from 520–540 to ~430 ms and chunked's from 600–650
// (its tile loop with blocks of 64) to the same ~430 (see
// BenchmarkFlash32Kernels for the kernels' GFLOP/s). Elsewhere (other head
// sizes, position biases, causal and banded sites, CPUs with neither) the
// tile loop runs: dense attention tiles by 64 at a causal site and by 256
// otherwise (larger products pay: with the tile loop, W5 softmax at n =
// 4096 on the Zen 3 took 15 % less CPU than with 64), chunked by its
// block, 64 by default.
//
// Self-attention whose queries, keys and values come from one stacked
// projection [B,T,q+k+v] can attend with AttendPacked: linear attention,
// and dense and chunked attention where they take the fused flash kernel,
// read the three in place through strides and add their gradients
// straight into the projection's (the others get them split, one copy
// each way). The fused kernel's backward pass, and linear attention's,
// write their gradients (tensor.CustomDst) instead of adding them to
// cleared buffers (linear attention's causal pass, which adds along the
// way, clears a fresh buffer first).
package attention
