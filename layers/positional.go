package layers

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/tensor"
)

// Positional adds position information to a batch of vectors x [B,T,D]:
// ForwardAt(x, start) treats x's time step t as position start+t (for
// step-by-step decoding), Forward(x) is ForwardAt(x, 0).
type Positional interface {
	Module
	Forward(x *tensor.Tensor) *tensor.Tensor
	ForwardAt(x *tensor.Tensor, start int) *tensor.Tensor
}

// Sinusoidal is the fixed positional encoding of Vaswani et al. (2017),
// "Attention Is All You Need":
//
//	PE[pos, 2i]   = sin(pos / 10000^(2i/D))
//	PE[pos, 2i+1] = cos(pos / 10000^(2i/D))
//
// computed in float64 and rounded once. It has no parameters and is defined
// for every position: rows up to MaxLen are precomputed, later ones are
// computed when asked for (so a model can be evaluated on inputs longer than
// it was trained on). Forward adds PE to x; scaling embeddings by √D first,
// as the paper does, is the model's choice. It is safe for concurrent use.
type Sinusoidal struct {
	Dim, MaxLen int
	table       []float32 // [MaxLen, Dim]
}

var (
	_ Positional  = (*Sinusoidal)(nil)
	_ Initializer = (*Sinusoidal)(nil)
)

// NewSinusoidal returns the encoding for dim features with maxLen rows
// precomputed. It panics on a non-positive dim or a negative maxLen.
func NewSinusoidal(dim, maxLen int) *Sinusoidal {
	if dim <= 0 || maxLen < 0 {
		panic(fmt.Sprintf("layers.NewSinusoidal: dim %d, maxLen %d", dim, maxLen))
	}
	s := &Sinusoidal{Dim: dim, MaxLen: maxLen, table: make([]float32, maxLen*dim)}
	sinusoidRows(s.table, 0, maxLen, dim)
	return s
}

func sinusoidRows(dst []float32, start, n, d int) {
	for p := 0; p < n; p++ {
		pos := float64(start + p)
		row := dst[p*d : (p+1)*d]
		for j := 0; j < d; j += 2 {
			a := pos / math.Pow(10000, float64(j)/float64(d))
			row[j] = float32(math.Sin(a))
			if j+1 < d {
				row[j+1] = float32(math.Cos(a))
			}
		}
	}
}

// Table returns PE for positions [start, start+n) as a new [n, Dim] tensor
// that requires no gradient. It panics on a negative start or n.
func (s *Sinusoidal) Table(start, n int) *tensor.Tensor {
	if start < 0 || n < 0 {
		panic(fmt.Sprintf("layers.Sinusoidal: positions [%d, %d)", start, start+n))
	}
	out := tensor.New(n, s.Dim)
	pre := max(0, min(n, s.MaxLen-start))
	if pre > 0 {
		copy(out.Data, s.table[start*s.Dim:(start+pre)*s.Dim])
	}
	if pre < n {
		sinusoidRows(out.Data[pre*s.Dim:], start+pre, n-pre, s.Dim)
	}
	return out
}

// Init does nothing: the encoding is fixed.
func (s *Sinusoidal) Init(*tensor.RNG) {}

// Params returns nil: the encoding is fixed.
func (s *Sinusoidal) Params() []*Param { return nil }

// Forward returns x + PE[0:T] for x [B,T,Dim] (or [T,Dim]).
func (s *Sinusoidal) Forward(x *tensor.Tensor) *tensor.Tensor { return s.ForwardAt(x, 0) }

// ForwardAt returns x + PE[start:start+T] for x [B,T,Dim] (or [T,Dim]). It
// panics if x's last axis is not Dim or it has fewer than 2 dimensions.
func (s *Sinusoidal) ForwardAt(x *tensor.Tensor, start int) *tensor.Tensor {
	t := posCheck("Sinusoidal", x, s.Dim)
	return tensor.Add(x, s.Table(start, t))
}

func posCheck(name string, x *tensor.Tensor, dim int) int {
	if x.Dims() < 2 || x.Dim(-1) != dim {
		panic(fmt.Sprintf("layers.%s: input %v, want [..., T, %d]", name, x.Shape(), dim))
	}
	return x.Dim(-2)
}

// LearnedPositions is a learned absolute positional embedding (BERT, GPT):
// a table W [MaxLen, Dim] whose row p is added at position p. Initialisation
// is N(0, 1), as PyTorch's nn.Embedding that models usually use for it.
type LearnedPositions struct {
	MaxLen, Dim int
	W           *Param // "W" [MaxLen, Dim]
}

var (
	_ Positional  = (*LearnedPositions)(nil)
	_ Initializer = (*LearnedPositions)(nil)
)

// NewLearnedPositions allocates the table (zero until Init). It panics on a
// non-positive size.
func NewLearnedPositions(maxLen, dim int) *LearnedPositions {
	if maxLen <= 0 || dim <= 0 {
		panic(fmt.Sprintf("layers.NewLearnedPositions: maxLen %d, dim %d", maxLen, dim))
	}
	return &LearnedPositions{MaxLen: maxLen, Dim: dim, W: NewParam("W", maxLen, dim)}
}

// Init draws W from N(0, 1).
func (l *LearnedPositions) Init(rng *tensor.RNG) { rng.Normal(l.W.Tensor, 0, 1) }

// Params returns W.
func (l *LearnedPositions) Params() []*Param { return []*Param{l.W} }

// Forward returns x + W[0:T] for x [B,T,Dim] (or [T,Dim]).
func (l *LearnedPositions) Forward(x *tensor.Tensor) *tensor.Tensor { return l.ForwardAt(x, 0) }

// ForwardAt returns x + W[start:start+T]. It panics if a position falls
// outside [0, MaxLen) or x's last axis is not Dim.
func (l *LearnedPositions) ForwardAt(x *tensor.Tensor, start int) *tensor.Tensor {
	t := posCheck("LearnedPositions", x, l.Dim)
	if start < 0 || start+t > l.MaxLen {
		panic(fmt.Sprintf("layers.LearnedPositions: positions [%d, %d) outside the table of %d", start, start+t, l.MaxLen))
	}
	return tensor.Add(x, tensor.Narrow(l.W.Tensor, 0, start, t))
}
