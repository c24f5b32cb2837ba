package attention

import (
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// LocationParams are the parameters of the location score.
type LocationParams struct {
	MaxLen int `yaml:"max_len" doc:"number of source positions the query is mapped to; keys at positions ≥ max_len are never attended" range:"[1,65536]"`
}

// Validate requires a positive max_len.
func (p *LocationParams) Validate() error {
	if p.MaxLen < 1 {
		return registry.Invalid("max_len", "must be at least 1, got %d", p.MaxLen)
	}
	return nil
}

// locationScore is Luong's location-based score (Luong, Pham & Manning
// 2015, "Effective Approaches to Attention-based Neural Machine
// Translation"): computed from the query alone, by a learned map to a fixed
// number L of source positions:
//
//	score(q_i, k_j) = (q_i W)[j],   W [Dq,L] (per head: [H,dq,L]),  L = max_len
//
// As a single-head attention (`location`): weights[i,:] = softmax over the
// first min(Tk, L) positions (masked), context_i = Σ_j weights[i,j] v_j.
// Keys at positions ≥ max_len cannot be scored; they are treated as padding
// (weight exactly 0), so a longer source is attended only over its first
// max_len positions, and a query whose kept keys all lie beyond max_len gets
// zero weights and a zero context. Choose max_len ≥ the longest source.
// Parameter W, initialised as nn.Linear(Dq, L, bias=False).
type locationScore struct {
	heads, dq, maxLen int
	w                 *layers.Param
}

func init() {
	RegisterScore(registry.Entry[ScoreFactory]{
		Name:   "location",
		Doc:    "Luong location score q W over the first max_len source positions (ignores the keys' content)",
		Params: &LocationParams{MaxLen: 256},
		New: func(p any, d ScoreDims) (Score, error) {
			l := p.(*LocationParams).MaxLen
			return &locationScore{heads: max(1, d.Heads), dq: d.Query, maxLen: l, w: layers.NewParam("W", d.shape(d.Query, l)...)}, nil
		},
	})
}

func (s *locationScore) Params() []*layers.Param { return []*layers.Param{s.w} }

func (s *locationScore) Init(rng *tensor.RNG) { layers.InitUniform(rng, s.w, layers.FanInBound(s.dq)) }

func (s *locationScore) Queries(q *tensor.Tensor) *tensor.Tensor { return headLinear(q, s.w.Tensor) }

func (s *locationScore) Keys(k *tensor.Tensor) *tensor.Tensor { return k }

// pairs reads score j of each query from its mapped query [B,Tq,H·L]; keys
// at positions ≥ max_len score −Inf (never attended).
func (s *locationScore) pairs(q, _ *tensor.Tensor, w *window) *tensor.Tensor {
	l, ld := s.maxLen, q.Dim(2)
	out := tensor.Scratch(w.b * w.h * w.tq * w.w) // recycled with the result (Custom's data)
	for r := range out {
		out[r] = negInf
	}
	w.each(func(b, h, i, _, j, o int) {
		if j < l {
			out[o] = q.Data[(b*w.tq+i)*ld+h*l+j]
		}
	})
	return tensor.Custom("LocationScores", out, []int{w.b, w.h, w.tq, w.w}, []*tensor.Tensor{q}, func(res *tensor.Tensor, g [][]float32) {
		w.each(func(b, h, i, _, j, o int) {
			if j < l {
				g[0][(b*w.tq+i)*ld+h*l+j] += res.Grad[o]
			}
		})
	})
}
