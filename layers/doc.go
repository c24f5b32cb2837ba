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
package layers
