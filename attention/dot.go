package attention

import (
	"github.com/attnlab/attnlab/registry"
)

// dotScore is Luong's dot score (Luong, Pham & Manning 2015, "Effective
// Approaches to Attention-based Neural Machine Translation"):
//
//	score(q_i, k_j) = q_i · k_j
//
// As a single-head attention (`dot`): weights[i,:] = softmax_j(score,
// masked), context_i = Σ_j weights[i,j] v_j. No parameters; needs equal
// query and key sizes (construction error otherwise).
type dotScore struct {
	identity
	dotForm
}

func init() {
	RegisterScore(registry.Entry[ScoreFactory]{
		Name: "dot",
		Doc:  "Luong dot score q·k (needs query size = key size)",
		New: func(_ any, d ScoreDims) (Score, error) {
			if err := sameSizes("dot", d); err != nil {
				return nil, err
			}
			return dotScore{dotForm: dotForm{scale: 1}}, nil
		},
	})
}
