package attention

import (
	"math"

	"github.com/attnlab/attnlab/registry"
)

// scaledDotScore is the scaled dot-product score (Vaswani et al. 2017,
// "Attention Is All You Need"):
//
//	score(q_i, k_j) = q_i · k_j / √d   (d the key size per head)
//
// As a single-head attention (`scaled-dot`): weights[i,:] =
// softmax_j(score, masked), context_i = Σ_j weights[i,j] v_j, scores and
// softmax one fused op. It is multi-head's default per-head attention. No
// parameters; needs equal query and key sizes.
type scaledDotScore struct {
	identity
	dotForm
}

func init() {
	RegisterScore(registry.Entry[ScoreFactory]{
		Name: "scaled-dot",
		Doc:  "Vaswani scaled dot score q·k/√d (needs query size = key size)",
		New: func(_ any, d ScoreDims) (Score, error) {
			if err := sameSizes("scaled-dot", d); err != nil {
				return nil, err
			}
			return scaledDotScore{dotForm: dotForm{scale: float32(1 / math.Sqrt(float64(d.Key)))}}, nil
		},
	})
}
