package metrics

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ChrFOptions are sacreBLEU's chrF settings. [ChrF2] and [ChrFPlusPlus]
// return its two standard ones.
type ChrFOptions struct {
	CharOrder int // character n-gram orders 1..CharOrder (6)
	WordOrder int // word n-gram orders 1..WordOrder: 0 for chrF, 2 for chrF++
	Beta      int // recall counts Beta times as much as precision (2)
	// Lowercase lowercases hypotheses and references (Python's str.lower).
	Lowercase bool
	// Whitespace keeps whitespace inside character n-grams.
	Whitespace bool
	// EpsSmoothing averages the per-order F-scores with ε = 1e-16 for
	// empty orders (chrF++.py, NLTK, Moses) instead of sacreBLEU's default:
	// averaging precision and recall over the orders with both hypothesis
	// and reference n-grams (the effective order), then one F-score.
	EpsSmoothing bool
}

// ChrF2 returns the options of chrF2 (Popović 2015), sacreBLEU's default
// chrF: character 6-grams, β = 2.
func ChrF2() ChrFOptions { return ChrFOptions{CharOrder: 6, Beta: 2} }

// ChrFPlusPlus returns the options of chrF++ (Popović 2017): chrF2 plus
// word unigrams and bigrams.
func ChrFPlusPlus() ChrFOptions { return ChrFOptions{CharOrder: 6, WordOrder: 2, Beta: 2} }

// ChrF scores detokenized hypotheses against raw reference text exactly as
// sacreBLEU 2.5.1's CHRF does. It is safe for concurrent use.
//
// Character n-grams (n = 1..CharOrder) are taken from each segment with
// its whitespace removed; word n-grams (n = 1..WordOrder) from its
// whitespace-separated words, a word's last character split off when it is
// ASCII punctuation, else its first (so "(hi)" gives "(hi" and ")").
// For each order the statistics are the hypothesis n-grams (counted only
// when the reference has n-grams of that order), the reference n-grams and
// the clipped matches; with several references a segment takes the
// statistics of the reference that gives it the best F-score. Corpus chrF
// sums the statistics over segments, computes each order's precision and
// recall, averages both over the orders where the hypothesis and the
// reference both have n-grams, and returns
//
//	chrF = 100 · (1 + β²) · P · R / (β² · P + R)   (0 when P + R = 0)
type ChrF struct {
	opt ChrFOptions
}

// NewChrF returns a chrF scorer, or an error if an order is negative, the
// character order and β are not positive, or there is no order at all.
func NewChrF(opt ChrFOptions) (*ChrF, error) {
	if opt.CharOrder < 1 || opt.WordOrder < 0 || opt.Beta < 1 {
		return nil, fmt.Errorf("metrics: chrF needs a character order and β of at least 1 and a word order of at least 0, got %d, %d and %d",
			opt.CharOrder, opt.Beta, opt.WordOrder)
	}
	return &ChrF{opt: opt}, nil
}

// ChrFScore is a chrF score.
type ChrFScore struct {
	Name      string  // chrF2, chrF2++ (sacreBLEU's: a + per word order)
	Score     float64 // 0–100
	Signature string
}

// String formats the score as sacreBLEU prints it:
//
//	chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1 = 62.85
func (s ChrFScore) String() string {
	return fmt.Sprintf("%s|%s = %.2f", s.Name, s.Signature, s.Score)
}

// Name returns the metric's name as sacreBLEU gives it: chrF2, chrF2++.
func (c *ChrF) Name() string {
	return fmt.Sprintf("chrF%d%s", c.opt.Beta, strings.Repeat("+", c.opt.WordOrder))
}

// Signature returns sacreBLEU's signature of the settings for nrefs
// references per segment: "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1".
func (c *ChrF) Signature(nrefs int) string {
	return fmt.Sprintf("nrefs:%d|case:%s|eff:%s|nc:%d|nw:%d|space:%s|version:%s",
		nrefs, caseName(c.opt.Lowercase), yesNo(!c.opt.EpsSmoothing), c.opt.CharOrder, c.opt.WordOrder, yesNo(c.opt.Whitespace), SacreBLEUVersion)
}

// Corpus returns corpus chrF; refs is laid out as for [BLEU.Corpus], and
// Corpus panics in the same cases.
func (c *ChrF) Corpus(hyps []string, refs [][]string) ChrFScore {
	checkRefs("chrF", len(hyps), refs)
	total := make([]int, 3*c.orders())
	segRefs := make([]string, len(refs))
	for i, h := range hyps {
		for k := range refs {
			segRefs[k] = refs[k][i]
		}
		for j, v := range c.segment(h, segRefs) {
			total[j] += v
		}
	}
	return ChrFScore{Name: c.Name(), Score: c.fScore(total), Signature: c.Signature(len(refs))}
}

// Sentence returns the chrF of one hypothesis against its references.
func (c *ChrF) Sentence(hyp string, refs []string) ChrFScore {
	if len(refs) == 0 {
		panic("metrics: ChrF.Sentence with no reference")
	}
	return ChrFScore{Name: c.Name(), Score: c.fScore(c.segment(hyp, refs)), Signature: c.Signature(len(refs))}
}

func (c *ChrF) orders() int { return c.opt.CharOrder + c.opt.WordOrder }

// ngrams returns a segment's n-gram counts: one map per character order,
// then one per word order.
func (c *ChrF) ngrams(seg string) []map[string]int {
	if c.opt.Lowercase {
		seg = pyLower(seg)
	}
	out := make([]map[string]int, 0, c.orders())
	chars := seg
	if !c.opt.Whitespace {
		chars = strings.Join(pySplit(seg), "")
	}
	runes := []rune(chars)
	for n := 1; n <= c.opt.CharOrder; n++ {
		m := make(map[string]int)
		for i := 0; i+n <= len(runes); i++ {
			m[string(runes[i:i+n])]++
		}
		out = append(out, m)
	}
	if c.opt.WordOrder > 0 {
		words := splitPunctuation(seg)
		for n := 1; n <= c.opt.WordOrder; n++ {
			out = append(out, wordNgrams(words, n, n))
		}
	}
	return out
}

// splitPunctuation is sacreBLEU's CHRF._remove_punctuation: the
// whitespace-separated words, each of two or more characters losing a
// trailing ASCII punctuation character, or else a leading one, as a word
// of its own.
func splitPunctuation(seg string) []string {
	var out []string
	for _, w := range pySplit(seg) {
		if utf8.RuneCountInString(w) == 1 {
			out = append(out, w)
			continue
		}
		last, size := utf8.DecodeLastRuneInString(w)
		first, fsize := utf8.DecodeRuneInString(w)
		switch {
		case isASCIIPunct(last):
			out = append(out, w[:len(w)-size], w[len(w)-size:])
		case isASCIIPunct(first):
			out = append(out, w[:fsize], w[fsize:])
		default:
			out = append(out, w)
		}
	}
	return out
}

// isASCIIPunct reports whether r is in Python's string.punctuation.
func isASCIIPunct(r rune) bool {
	return r < utf8.RuneSelf && strings.ContainsRune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", r)
}

// segment returns the statistics (hypothesis, reference, match) per order
// of one hypothesis against the reference that gives it the best F-score
// (the first of equals).
func (c *ChrF) segment(hyp string, refs []string) []int {
	h := c.ngrams(hyp)
	var best []int
	bestF := -1.0
	for _, r := range refs {
		rg := c.ngrams(r)
		st := make([]int, 0, 3*len(h))
		for o := range h {
			hypCount, refCount, match := 0, 0, 0
			for g, n := range h[o] {
				hypCount += n
				match += min(n, rg[o][g])
			}
			for _, n := range rg[o] {
				refCount += n
			}
			if len(rg[o]) == 0 {
				hypCount = 0 // no reference n-gram of this order: the hypothesis's are not counted
			}
			st = append(st, hypCount, refCount, match)
		}
		if f := c.fScore(st); f > bestF {
			best, bestF = st, f
		}
	}
	return best
}

// fScore is sacreBLEU's CHRF._compute_f_score over flattened (hypothesis,
// reference, match) triples, one per order.
func (c *ChrF) fScore(st []int) float64 {
	const eps = 1e-16
	factor := float64(c.opt.Beta * c.opt.Beta)
	score, avgP, avgR := 0.0, 0.0, 0.0
	effective := 0
	for o := 0; o < c.orders(); o++ {
		nHyp, nRef, nMatch := st[3*o], st[3*o+1], st[3*o+2]
		p, r := eps, eps
		if nHyp > 0 {
			p = float64(nMatch) / float64(nHyp)
		}
		if nRef > 0 {
			r = float64(nMatch) / float64(nRef)
		}
		if d := factor*p + r; d > 0 {
			score += (1 + factor) * p * r / d
		} else {
			score += eps
		}
		if nHyp > 0 && nRef > 0 {
			avgP += p
			avgR += r
			effective++
		}
	}
	if c.opt.EpsSmoothing {
		return 100 * score / float64(c.orders())
	}
	if effective == 0 {
		return 0
	}
	avgP /= float64(effective)
	avgR /= float64(effective)
	if avgP+avgR == 0 {
		return 0
	}
	f := (1 + factor) * avgP * avgR // in sacreBLEU's order of operations
	f /= factor*avgP + avgR
	return 100 * f
}
