package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// SacreBLEUVersion is the sacreBLEU release whose BLEU and chrF this
// package reproduces (tested against its scores to 1e-9); signatures name
// it as their version.
const SacreBLEUVersion = "2.5.1"

// bleuMaxOrder is BLEU's largest n-gram order (sacreBLEU's
// MAX_NGRAM_ORDER).
const bleuMaxOrder = 4

// BLEU smoothing methods (Chen and Cherry 2014, "A Systematic Comparison
// of Smoothing Techniques for Sentence-Level BLEU"), as sacreBLEU names
// them.
const (
	SmoothExp   = "exp"   // method 3, NIST's (mteval-v13a): sacreBLEU's default
	SmoothNone  = "none"  // no smoothing: an order without a match zeroes the score
	SmoothFloor = "floor" // method 1: a zero count becomes SmoothValue (default 0.1)
	SmoothAddK  = "add-k" // method 2: SmoothValue (default 1) added to orders 2–4
)

// BLEUOptions are sacreBLEU's BLEU settings. The zero value is sacreBLEU's
// default: 13a tokenization, case-sensitive, exp smoothing.
type BLEUOptions struct {
	// Tokenize names the tokenizer (see [TokenizeBLEU]); "" means 13a.
	Tokenize string
	// Lowercase lowercases hypotheses and references (Python's str.lower)
	// before tokenizing.
	Lowercase bool
	// Smooth is one of SmoothExp (also for ""), SmoothNone, SmoothFloor
	// and SmoothAddK.
	Smooth string
	// SmoothValue is the value of floor and add-k smoothing; 0 means
	// sacreBLEU's default (0.1 and 1).
	SmoothValue float64
}

// BLEU scores detokenized hypotheses against raw reference text exactly as
// sacreBLEU 2.5.1's BLEU does. Make one with [NewBLEU]; it is safe for
// concurrent use.
//
// Each segment is right-stripped of whitespace, lowercased if asked, and
// tokenized (see [TokenizeBLEU]). For each hypothesis, the clipped n-gram
// matches (n = 1..4; each n-gram counted at most its largest count in any
// one reference) and the n-gram totals are counted, with its length and
// the closest reference length (the shorter on a tie). Corpus BLEU sums
// these statistics over all segments, then
//
//	BLEU = BP · exp(Σₙ log pₙ / N),  BP = 1 if c ≥ r, exp(1 − r/c) if 0 < c < r, 0 if c = 0
//
// with precisions pₙ = 100·matchesₙ/totalₙ on a 0–100 scale, c and r the
// hypothesis and reference lengths, N = 4. Without any match at all, BLEU
// is 0. An order with hypothesis n-grams but no match is smoothed; with exp
// smoothing the k-th such order counts as 100/(2ᵏ·totalₙ). An order with no
// hypothesis n-gram (all hypotheses shorter than n) has p = 0, which makes
// corpus BLEU 0 — unless the effective order is used (sentence BLEU): then
// N is the highest order with hypothesis n-grams.
type BLEU struct {
	opt      BLEUOptions
	tokenize func(string) string
}

// NewBLEU returns a BLEU scorer with the given options, or an error naming
// an unknown tokenizer or smoothing method.
func NewBLEU(opt BLEUOptions) (*BLEU, error) {
	if opt.Tokenize == "" {
		opt.Tokenize = DefaultBLEUTokenizer
	}
	if opt.Smooth == "" {
		opt.Smooth = SmoothExp
	}
	tok, err := bleuTokenizer(opt.Tokenize)
	if err != nil {
		return nil, err
	}
	switch opt.Smooth {
	case SmoothExp, SmoothNone:
		opt.SmoothValue = 0
	case SmoothFloor:
		if opt.SmoothValue == 0 {
			opt.SmoothValue = 0.1
		}
	case SmoothAddK:
		if opt.SmoothValue == 0 {
			opt.SmoothValue = 1
		}
	default:
		return nil, fmt.Errorf("metrics: unknown BLEU smoothing %q (known: exp, none, floor, add-k)", opt.Smooth)
	}
	if math.IsNaN(opt.SmoothValue) || opt.SmoothValue < 0 || math.IsInf(opt.SmoothValue, 0) {
		return nil, fmt.Errorf("metrics: BLEU smoothing value must be a positive number, got %v", opt.SmoothValue)
	}
	return &BLEU{opt: opt, tokenize: tok}, nil
}

// Options returns the scorer's options with the defaults filled in.
func (b *BLEU) Options() BLEUOptions { return b.opt }

// BLEUScore is a BLEU score with the statistics it came from.
type BLEUScore struct {
	Score      float64               // 0–100
	Counts     [bleuMaxOrder]int     // clipped n-gram matches, n = 1..4
	Totals     [bleuMaxOrder]int     // hypothesis n-grams, n = 1..4
	Precisions [bleuMaxOrder]float64 // 0–100, after smoothing
	BP         float64               // brevity penalty
	SysLen     int                   // hypothesis tokens
	RefLen     int                   // closest reference tokens
	Signature  string                // sacreBLEU's signature of the settings
}

// String formats the score as sacreBLEU prints it:
//
//	BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1 = 47.69 76.0/59.1/36.8/31.2 (BP = 1.000 ratio = 1.000 hyp_len = 25 ref_len = 25)
func (s BLEUScore) String() string {
	return fmt.Sprintf("BLEU|%s = %.2f %s", s.Signature, s.Score, s.Verbose())
}

// Verbose returns the statistics part of sacreBLEU's line (its JSON's
// verbose_score): "76.0/59.1/36.8/31.2 (BP = 1.000 ratio = 1.000 hyp_len = 25 ref_len = 25)".
func (s BLEUScore) Verbose() string {
	prec := make([]string, len(s.Precisions))
	for i, p := range s.Precisions {
		prec[i] = strconv.FormatFloat(p, 'f', 1, 64)
	}
	ratio := 0.0
	if s.RefLen > 0 {
		ratio = float64(s.SysLen) / float64(s.RefLen)
	}
	return fmt.Sprintf("%s (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)", strings.Join(prec, "/"), s.BP, ratio, s.SysLen, s.RefLen)
}

// bleuStats are one segment's (or a corpus's summed) sufficient statistics.
type bleuStats struct {
	sysLen, refLen  int
	correct, totals [bleuMaxOrder]int
}

func (s *bleuStats) add(o bleuStats) {
	s.sysLen += o.sysLen
	s.refLen += o.refLen
	for n := range s.correct {
		s.correct[n] += o.correct[n]
		s.totals[n] += o.totals[n]
	}
}

// Corpus returns corpus BLEU: refs holds the reference sets, refs[k][i]
// the k-th reference of hyps[i] (sacreBLEU's layout: one list per set,
// each aligned with the hypotheses). The signature's nrefs is len(refs).
// Corpus panics if a reference set's length differs from len(hyps) or if
// there is no reference set.
func (b *BLEU) Corpus(hyps []string, refs [][]string) BLEUScore {
	checkRefs("BLEU", len(hyps), refs)
	var total bleuStats
	segRefs := make([]string, len(refs))
	for i, h := range hyps {
		for k := range refs {
			segRefs[k] = refs[k][i]
		}
		total.add(b.segment(h, segRefs))
	}
	s := b.score(total, false)
	s.Signature = b.Signature(len(refs), false)
	return s
}

// Sentence returns the sentence BLEU of hyp against its references, as
// sacreBLEU's sentence_score with effective_order=True (what its
// sentence_bleu does): the geometric mean runs over the orders the
// hypothesis has n-grams of, so a short hypothesis is not zeroed.
func (b *BLEU) Sentence(hyp string, refs []string) BLEUScore {
	if len(refs) == 0 {
		panic("metrics: BLEU.Sentence with no reference")
	}
	s := b.score(b.segment(hyp, refs), true)
	s.Signature = b.Signature(len(refs), true)
	return s
}

// Signature returns sacreBLEU's signature of the scorer's settings for
// nrefs references per segment, with effective order (sentence BLEU) or
// not: "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1". It
// names the sacreBLEU version whose algorithm is reproduced.
func (b *BLEU) Signature(nrefs int, effectiveOrder bool) string {
	smooth := b.opt.Smooth
	if smooth == SmoothFloor || smooth == SmoothAddK {
		smooth += "[" + strconv.FormatFloat(b.opt.SmoothValue, 'f', 2, 64) + "]"
	}
	return fmt.Sprintf("nrefs:%d|case:%s|eff:%s|tok:%s|smooth:%s|version:%s",
		nrefs, caseName(b.opt.Lowercase), yesNo(effectiveOrder), b.opt.Tokenize, smooth, SacreBLEUVersion)
}

// Tokens returns the tokens BLEU counts in a segment: right-stripped,
// lowercased if the options say so, and tokenized.
func (b *BLEU) Tokens(seg string) []string { return pySplit(b.preprocess(seg)) }

func (b *BLEU) preprocess(seg string) string {
	if b.opt.Lowercase {
		seg = pyLower(seg)
	}
	return b.tokenize(pyRstrip(seg))
}

// segment returns the statistics of one hypothesis against its references.
func (b *BLEU) segment(hyp string, refs []string) bleuStats {
	refMax := make(map[string]int)
	refLens := make([]int, len(refs))
	for k, r := range refs {
		toks := b.Tokens(r)
		refLens[k] = len(toks)
		for g, c := range wordNgrams(toks, 1, bleuMaxOrder) {
			refMax[g] = max(refMax[g], c)
		}
	}
	toks := b.Tokens(hyp)
	st := bleuStats{sysLen: len(toks), refLen: closestLen(len(toks), refLens)}
	for n := 1; n <= bleuMaxOrder; n++ {
		for g, c := range wordNgrams(toks, n, n) {
			st.totals[n-1] += c
			st.correct[n-1] += min(c, refMax[g])
		}
	}
	return st
}

// closestLen returns the reference length closest to hypLen, the shorter
// on a tie (sacreBLEU's _get_closest_ref_len).
func closestLen(hypLen int, refLens []int) int {
	best, bestDiff := -1, -1
	for _, l := range refLens {
		d := abs(hypLen - l)
		if bestDiff == -1 || d < bestDiff || d == bestDiff && l < best {
			best, bestDiff = l, d
		}
	}
	return best
}

// score is sacreBLEU's BLEU.compute_bleu.
func (b *BLEU) score(st bleuStats, effectiveOrder bool) BLEUScore {
	s := BLEUScore{Counts: st.correct, Totals: st.totals, SysLen: st.sysLen, RefLen: st.refLen, BP: 1}
	if st.sysLen < st.refLen {
		s.BP = 0
		if st.sysLen > 0 {
			s.BP = math.Exp(1 - float64(st.refLen)/float64(st.sysLen))
		}
	}
	anyMatch := false
	for _, c := range st.correct {
		anyMatch = anyMatch || c > 0
	}
	if !anyMatch {
		return s
	}
	smoothMteval := 1.0
	effOrder := bleuMaxOrder
	for n := 1; n <= bleuMaxOrder; n++ {
		correct, total := float64(st.correct[n-1]), float64(st.totals[n-1])
		if b.opt.Smooth == SmoothAddK && n > 1 {
			correct += b.opt.SmoothValue
			total += b.opt.SmoothValue
		}
		if total == 0 {
			break
		}
		if effectiveOrder {
			effOrder = n
		}
		switch {
		case correct > 0:
			s.Precisions[n-1] = 100 * correct / total
		case b.opt.Smooth == SmoothExp:
			smoothMteval *= 2
			s.Precisions[n-1] = 100 / (smoothMteval * total)
		case b.opt.Smooth == SmoothFloor:
			s.Precisions[n-1] = 100 * b.opt.SmoothValue / total
		}
	}
	sum := 0.0
	for _, p := range s.Precisions[:effOrder] {
		sum += floorLog(p)
	}
	s.Score = s.BP * math.Exp(sum/float64(effOrder))
	return s
}

// floorLog is sacreBLEU's my_log: log, with log 0 = −9999999999.
func floorLog(x float64) float64 {
	if x == 0 {
		return -9999999999
	}
	return math.Log(x)
}

// wordNgrams counts the n-grams of toks of orders lo..hi; an n-gram's key
// is its tokens joined by a space (tokens hold no whitespace, so keys are
// unique).
func wordNgrams(toks []string, lo, hi int) map[string]int {
	out := make(map[string]int)
	for n := lo; n <= hi; n++ {
		for i := 0; i+n <= len(toks); i++ {
			out[strings.Join(toks[i:i+n], " ")]++
		}
	}
	return out
}

// checkRefs panics unless there is at least one reference set and every
// set has one reference per hypothesis.
func checkRefs(metric string, nHyps int, refs [][]string) {
	if len(refs) == 0 {
		panic(fmt.Sprintf("metrics: %s with no reference set", metric))
	}
	for k, r := range refs {
		if len(r) != nHyps {
			panic(fmt.Sprintf("metrics: %s with %d hypotheses and %d references in set %d", metric, nHyps, len(r), k))
		}
	}
}

func caseName(lowercase bool) string {
	if lowercase {
		return "lc"
	}
	return "mixed"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
