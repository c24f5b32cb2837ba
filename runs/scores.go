package runs

import (
	"slices"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/tasks"
)

// TextScores are the scores of decoded outputs, as text, against reference
// text: sacreBLEU's BLEU, chrF2 and chrF++ (0–100), and exact match.
type TextScores struct {
	BLEU         metrics.BLEUScore
	ChrF, ChrFPP metrics.ChrFScore
	Exact, N     int // outputs equal to their reference, and outputs
}

// ExactMatch returns Exact/N (NaN when N is 0).
func (s TextScores) ExactMatch() float64 { return metrics.Ratio(s.Exact, s.N) }

// Artifacts returns the corpus scores with their signatures as stored with
// a run (artifact.KindScores), keyed like the summaries under prefix
// (prefix "test": test/bleu, test/chrf, test/chrf++).
func (s TextScores) Artifacts(prefix string) []artifact.Score {
	return []artifact.Score{
		{Key: prefix + "/bleu", Name: "BLEU", Score: s.BLEU.Score, Signature: s.BLEU.Signature, Verbose: s.BLEU.Verbose()},
		{Key: prefix + "/chrf", Name: s.ChrF.Name, Score: s.ChrF.Score, Signature: s.ChrF.Signature},
		{Key: prefix + "/chrf++", Name: s.ChrFPP.Name, Score: s.ChrFPP.Score, Signature: s.ChrFPP.Signature},
	}
}

// Scorer scores decoded outputs against references: BLEU with a run's
// eval.bleu settings, chrF2, chrF++ and exact match. It is safe for
// concurrent use.
type Scorer struct {
	bleu         *metrics.BLEU
	chrf, chrfPP *metrics.ChrF
	tok          tasks.Tokenizer
}

// BLEUTokenizer returns the sacreBLEU tokenizer that eval.bleu.tokenize
// names for targets split by tok: auto (and "", in runs stored before
// eval.bleu existed) is char for the char tokenizer and 13a otherwise.
func BLEUTokenizer(name string, tok tasks.Tokenizer) string {
	if name != "" && name != experiments.BLEUAuto {
		return name
	}
	if tok.Name() == (tasks.Char{}).Name() {
		return "char"
	}
	return metrics.DefaultBLEUTokenizer
}

// NewScorer returns the scorer of the given BLEU settings; tok is the
// target tokenizer, which resolves tokenize auto and decides exact match.
func NewScorer(cfg experiments.BLEU, tok tasks.Tokenizer) (*Scorer, error) {
	b, err := metrics.NewBLEU(metrics.BLEUOptions{Tokenize: BLEUTokenizer(cfg.Tokenize, tok), Lowercase: cfg.Lowercase})
	if err != nil {
		return nil, err
	}
	c, err := metrics.NewChrF(metrics.ChrF2())
	if err != nil {
		return nil, err
	}
	cpp, err := metrics.NewChrF(metrics.ChrFPlusPlus())
	if err != nil {
		return nil, err
	}
	return &Scorer{bleu: b, chrf: c, chrfPP: cpp, tok: tok}, nil
}

// Match reports whether an output equals its reference: the same tokens
// when the target tokenizer splits both (so a word tokenizer ignores how
// the reference is spaced, and an <unk> output never equals a word).
func (s *Scorer) Match(output, ref string) bool {
	return slices.Equal(s.tok.Split(output), s.tok.Split(ref))
}

// Score scores outputs[i] against refs[i]; it panics if the lengths differ.
func (s *Scorer) Score(outputs, refs []string) TextScores {
	r := [][]string{refs}
	ts := TextScores{BLEU: s.bleu.Corpus(outputs, r), ChrF: s.chrf.Corpus(outputs, r), ChrFPP: s.chrfPP.Corpus(outputs, r), N: len(outputs)}
	for i, o := range outputs {
		if s.Match(o, refs[i]) {
			ts.Exact++
		}
	}
	return ts
}
