// Package layers holds the modules attnlab's models are assembled from:
// named parameters, Linear, Embedding, LSTM and GRU (cells and multi-layer,
// optionally bidirectional sequence layers over padded batches), LayerNorm,
// Dropout, position-wise FeedForward, positional encodings, Transformer
// encoder and decoder blocks that take any attention, and checkpoint I/O in
// the safetensors layout.
//
// Conventions: y = x·W + b with W shaped [in, out]; batches are
// [batch, time, features]; LSTM gates in PyTorch's order (i, f, g, o), GRU
// gates (r, z, n); initialisation as PyTorch's defaults from a seeded RNG
// (construction allocates, Init draws values). Layers know nothing about
// attention variants by name.
//
// # Modules
//
// Every module lists its parameters with stable dotted names through
// Params (Module) and initialises them through Init (Initializer); a
// parent prefixes its children's names ("encoder.lstm.0.W_ih"). Modules
// with dropout implement Trainable and start in training mode; SetTraining
// switches a whole tree. Dropout draws from its own stream, split from the
// RNG given to Init. Forward never modifies a module (except that
// training-mode dropout advances its RNG), so forward passes in evaluation
// mode under tensor.NoGrad may share a module across goroutines.
//
// # Recurrent layers
//
// LSTM and GRU store each layer's weights fused (W_ih [In, G·H],
// W_hh [H, G·H], one bias; the GRU keeps b_hn apart) with the gate blocks
// side by side in PyTorch's order. A sequence layer projects the whole input
// with one matrix product and then runs each layer and direction as one
// fused autodiff op: one GEMM per step forward, back-propagation through
// time with a single GEMM for dW_hh. Where the kernels gain from it
// (tensor.PackSteps: AVX2, not AVX-512) the recurrent weight is held frozen
// (tensor.FreezeValues) over each pass's steps, so its products pack it
// once per pass rather than once per step. An LSTM row's gate activations and
// cell update are one call of tensor.LSTMCell, and its backward one call of
// tensor.LSTMCellGrad (AVX-512 or AVX2 kernels, the scalar code's
// arithmetic operation for operation). Padded batches follow PyTorch's
// pack_padded_sequence semantics: past its length a sequence's state stops
// updating, its outputs are 0 and pass no gradient, and the reverse
// direction starts at the sequence's own last real step. Both kernels also
// compute as packed sequences do: they order the rows by length, so that
// each step's products and saved state cover only the rows running (in W2,
// about two thirds of the padded batch). The cells
// (LSTMCell, GRUCell) take one step, for decoders. The kernels' saved state
// and temporaries come from tensor's free lists (Scratch, ScratchDirty,
// Recycle), cleared only where a kernel does not write every element.
//
// # Transformer blocks
//
// EncoderBlock and DecoderBlock take their attentions through Attender, the
// method set of attention.Attention, and keep-masks built by the caller.
// BlockConfig.PreLN selects pre- or post-LayerNorm residual sub-layers.
// Without active dropout a sub-layer's residual add is fused into its last
// linear map: the feed-forward network's second one (AddForward), and the
// attention's output projection when the attention is a ResidualAttender
// (multi-head) — the same values, one op and one pass over memory fewer.
// ForwardPacked runs a block on the real rows [N,D] of a padded batch only
// (Rows, from PaddedRows), so that a stack passes them from block to block:
// LayerNorms, residual adds and the feed-forward network work row by row,
// and a RowsAttender (multi-head) projects real rows; its per-head
// attention reads them where they are when it can (attention's
// Dense.attendRows: a dense dot-product attention under a key-padding
// mask, below the flash kernel's lengths), else they are scattered to the
// padded layout for it and its result gathered (the decoder's
// cross-attention can take the memory's real rows too). ForwardRows is the same on a padded batch, gathered on entry and
// scattered on exit with padded rows 0. Real rows are bitwise Forward's
// (TestForwardRows, attention's TestAttendAddRowsInBlocks). The decoder
// returns its cross-attention weights for heatmaps. For
// decoding, ForwardNext runs only the next tokens of each sequence, the
// self-attention (an Incremental attention) reading the earlier tokens'
// keys and values from a KVCache it extends, the decoder's cross-attention
// Prepared over the memory once for the whole decoding.
//
// # Checkpoints
//
// SaveSafetensors and LoadSafetensors write and read named parameters in
// the safetensors layout (F32 only); WriteTensors and ReadTensors do the
// same for any named tensors (optimizer state). Loading checks every name
// and shape and reports what differs; a corrupt file is an error, never a
// panic.
package layers
