package attention

import (
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// Score compares queries with keys for H heads read in place from
// [B,T,H·d]. Scores are registry entries (Scores), one file each; every
// registered score is at once a single-head attention of the same name
// (softmax over all keys, see Dense), a per-head attention of multi-head,
// and a score of local and sliding-window attention.
//
// Queries and Keys map the queries [B,Tq,H·dq] and keys [B,Tk,H·dk] to the
// vectors the score compares (general: q W; additive: q W_q and k W_k + b;
// dot: the inputs themselves); a prepared attention computes Keys once for
// many calls. Parameters carry a leading head axis when H > 1.
type Score interface {
	Params() []*layers.Param
	Init(rng *tensor.RNG)
	Queries(q *tensor.Tensor) *tensor.Tensor
	Keys(k *tensor.Tensor) *tensor.Tensor
	// pairs returns the scores [B,H,Tq,W] of the kept pairs of a window of
	// mapped queries and keys (other entries: any value; −Inf excludes a
	// pair as if masked).
	pairs(q, k *tensor.Tensor, w *window) *tensor.Tensor
}

// DotScore is a score of the form scale · Queries(q)·Keys(k). Such scores
// get the fused kernels: scores and softmax from one GEMM per head, the
// chunked (flash) kernel, and rotary positions.
type DotScore interface {
	Score
	Scale() float32
}

func isDot(s Score) bool { _, ok := s.(DotScore); return ok }

// ScoreDims sizes a score: heads, and the query and key sizes per head.
type ScoreDims struct {
	Heads, Query, Key int
}

// shape prepends the head axis to a per-head parameter shape when there is
// more than one head.
func (d ScoreDims) shape(dims ...int) []int {
	if d.Heads <= 1 {
		return dims
	}
	return append([]int{d.Heads}, dims...)
}

// ScoreFactory builds a score from its decoded parameters (a pointer to the
// entry's parameter struct, or nil). It returns an error when the score
// cannot serve heads of these sizes.
type ScoreFactory func(params any, d ScoreDims) (Score, error)

// Scores holds every score, each registered through RegisterScore from the
// init function of its own file.
var Scores = registry.New[ScoreFactory]("score")

// RegisterScore registers a score in Scores and, under the same name, doc
// and parameters, the single-head attention that takes a softmax of it over
// all keys (Dense) in Registry. It panics as Register does.
func RegisterScore(e registry.Entry[ScoreFactory]) {
	Scores.Register(e)
	name := e.Name
	Registry.Register(registry.Entry[Factory]{
		Name: name, Doc: e.Doc, Params: e.Params,
		New: func(p any, d Dims) (Attention, error) { return newDense(name, p, d) },
	})
}

// newScore builds the score registered as name with decoded parameters p
// (nil: its defaults).
func newScore(name string, p any, d ScoreDims) (Score, error) {
	e, err := Scores.Lookup(name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = e.Defaults()
	}
	s, err := e.New(p, d)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", name, err)
	}
	return s, nil
}

// sameSizes is the size check of scores that take a dot product of the
// query and the key.
func sameSizes(name string, d ScoreDims) error {
	if d.Query != d.Key {
		return fmt.Errorf("%s needs equal query and key sizes, got %d and %d", name, d.Query, d.Key)
	}
	return nil
}

// identity is the Queries and Keys of a score that compares its inputs as
// they are, without parameters.
type identity struct{}

func (identity) Params() []*layers.Param                 { return nil }
func (identity) Init(*tensor.RNG)                        {}
func (identity) Queries(q *tensor.Tensor) *tensor.Tensor { return q }
func (identity) Keys(k *tensor.Tensor) *tensor.Tensor    { return k }

// rowWise marks a score that maps no queries or keys: its fused kernel can
// take any rows (dotAttentionRows).
func (identity) rowWise() {}

// dotForm is the pair score and scale of a DotScore.
type dotForm struct{ scale float32 }

func (f dotForm) Scale() float32 { return f.scale }

func (f dotForm) pairs(q, k *tensor.Tensor, w *window) *tensor.Tensor {
	return windowDot(q, k, f.scale, w)
}
