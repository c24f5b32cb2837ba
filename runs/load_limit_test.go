package runs

import (
	"testing"

	"github.com/attnlab/attnlab/models"
)

// positions is a model whose decoding stops at n positions (a
// Transformer's max_len), for OutputLimit.
type positions struct {
	models.Model
	n int
}

func (p positions) MaxDecodeLen() int { return p.n }

// TestOutputLimit: a source no longer than the run's data keeps the run's
// limit; a longer one raises it by as many tokens, up to the model's
// positions and models.MaxDecodeLen; a run stored without its longest
// source keeps its limit.
func TestOutputLimit(t *testing.T) {
	rnn := &Trained{MaxOut: 16, LongestSrc: 6}
	tf := &Trained{MaxOut: 16, LongestSrc: 6, Model: positions{n: 17}}
	old := &Trained{MaxOut: 16}
	for _, tc := range []struct {
		t    *Trained
		n    int
		want int
	}{
		{rnn, 3, 16}, {rnn, 6, 16}, {rnn, 30, 40}, {rnn, 1 << 20, models.MaxDecodeLen},
		{tf, 6, 16}, {tf, 12, 17},
		{old, 30, 16},
	} {
		if got := tc.t.OutputLimit(tc.n); got != tc.want {
			t.Errorf("MaxOut %d, longest source %d, positions %d: OutputLimit(%d) = %d, want %d",
				tc.t.MaxOut, tc.t.LongestSrc, tc.t.PositionLimit(), tc.n, got, tc.want)
		}
	}
}
