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
// # Variants
//
//	none        no attention: zero context and weights (baseline)
//	dot         q·k                                   Luong et al. 2015
//	general     qᵀ W k                                Luong et al. 2015
//	additive    vᵀ tanh(q W_q + k W_k + b)            Bahdanau et al. 2015
//	scaled-dot  q·k/√d                                Vaswani et al. 2017
//	location    softmax(q W) over source positions    Luong et al. 2015
//	multi-head  projections, H heads of any score above, output projection   Vaswani et al. 2017
//	local       a window of 2D+1 keys around a monotonic or predicted centre  Luong et al. 2015
//	linear      φ(q)ᵀ Σ φ(k) vᵀ / φ(q)ᵀ Σ φ(k), φ = elu+1, O(n)              Katharopoulos et al. 2020
//	chunked     exact scaled-dot over key blocks with a running max (flash style)
//
// # Masks
//
// A mask is a keep-mask broadcastable to [B,Tq,Tk], read in place (never
// expanded). Masked pairs get weight exactly 0 and no gradient; a query
// with nothing to attend gets zero weights and a zero context (multi-head
// included: its output bias is not added to such rows). Every variant
// honours key-padding and causal masks, so none refuses a causal site.
// Linear attention honours only masks of the form row × key (× causal),
// which covers padding and causal masks and their products; it panics on
// any other mask rather than return a wrong answer. Construction errors
// (returned by New) are sizes a variant cannot serve: dot, scaled-dot,
// chunked and linear need equal query and key sizes, multi-head needs dim
// divisible by heads.
//
// # Long inputs
//
// chunked, linear and local never build a [Tq,Tk] matrix on their training
// path, so their Attend returns nil weights unless asked (WeightsOnRequest,
// or the `weights: true` parameter); requested weights are computed without
// gradient, for heatmaps.
//
// # Kernels
//
// The hot paths are fused ops built with tensor.Custom (forward and
// backward side by side): score + masked softmax per head, the weighted sum
// of values, per-head linear maps, additive scores (recomputing tanh in the
// backward pass instead of storing [B,Tq,Tk,A]), band scores for local, the
// linear-attention recurrences and the chunked (online-softmax) attention.
// Heads are read in place from [B,T,H·d] through GEMM strides.
package attention
