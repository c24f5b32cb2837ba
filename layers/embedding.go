package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// Embedding maps token ids to learned vectors: row id of the table W
// [Vocab, Dim]. The padding id (PadID, 0 by default as in every attnlab
// vocabulary; −1 for none) maps to a zero vector and passes no gradient to
// W, so its row stays zero through training. Initialisation is PyTorch's
// nn.Embedding: N(0, 1), with the padding row zeroed.
type Embedding struct {
	Vocab, Dim int
	PadID      int
	W          *Param // "W" [Vocab, Dim]
}

var (
	_ Module      = (*Embedding)(nil)
	_ Initializer = (*Embedding)(nil)
)

// NewEmbedding allocates an embedding table (zero until Init) with padding
// id 0. It panics on a non-positive size.
func NewEmbedding(vocab, dim int) *Embedding {
	if vocab <= 0 || dim <= 0 {
		panic(fmt.Sprintf("layers.NewEmbedding: vocab %d, dim %d", vocab, dim))
	}
	return &Embedding{Vocab: vocab, Dim: dim, PadID: 0, W: NewParam("W", vocab, dim)}
}

// Init draws W from N(0, 1) and zeroes the padding row.
func (e *Embedding) Init(rng *tensor.RNG) {
	rng.Normal(e.W.Tensor, 0, 1)
	if e.PadID >= 0 && e.PadID < e.Vocab {
		row := e.W.Data[e.PadID*e.Dim : (e.PadID+1)*e.Dim]
		for i := range row {
			row[i] = 0
		}
	}
}

// Params returns W.
func (e *Embedding) Params() []*Param { return []*Param{e.W} }

// Forward looks up ids and returns their vectors shaped [shape..., Dim]
// (e.g. Forward(ids, B, T) for a flat row-major [B,T] batch of ids), or
// [len(ids), Dim] without shape. It panics if the shape does not hold
// len(ids) elements or on an id outside [0, Vocab) other than PadID.
func (e *Embedding) Forward(ids []int, shape ...int) *tensor.Tensor {
	out := tensor.Gather(e.W.Tensor, ids, e.PadID)
	if len(shape) == 0 {
		return out
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(ids) {
		panic(fmt.Sprintf("layers.Embedding: %d ids for shape %v", len(ids), shape))
	}
	return tensor.Reshape(out, append(append([]int(nil), shape...), e.Dim)...)
}
