// Package attention holds the Attention interface and its interchangeable
// variants, one file each, each registered in Registry from its own init
// function with its formula and source paper in its doc comment.
//
// Variants share one contract (see Attention): queries attend over keys and
// values under an optional keep-mask, and return the context and the
// weights. Every variant is checked against PyTorch fixtures where one
// exists, gradient-checked, and tested for padding invariance, fully masked
// rows and causality.
package attention
