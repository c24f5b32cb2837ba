package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// minNormal is Python's sys.float_info.min, the precision NLTK substitutes
// for an n-gram precision with no match.
const minNormal = 0x1p-1022

// CorpusBLEU returns corpus-level BLEU-4 in [0, 1], exactly as NLTK 3.8's
// nltk.translate.bleu_score.corpus_bleu with uniform weights (1/4 each), no
// smoothing and the default closest reference length:
//
//   - modified n-gram precisions p_n (n = 1..4) are pooled over the corpus:
//     clipped matches (each hypothesis n-gram counted at most as often as in
//     the reference that has it most) over hypothesis n-grams, where every
//     hypothesis adds at least 1 to each denominator, even when it is
//     shorter than n;
//   - if no unigram matches at all, BLEU is 0;
//   - a p_n with no match is replaced by the smallest normal float64
//     (2.2e-308), as NLTK's method0 does, so BLEU is tiny but not 0;
//   - the brevity penalty compares the total hypothesis length c with the
//     sum r of the closest reference lengths (ties to the shorter
//     reference): 1 if c > r, 0 if c = 0, else exp(1 − r/c).
//
// BLEU = BP · exp(Σ ¼ log p_n). hyps[i] is scored against the references
// refs[i]; tokens are compared as strings (tokenize first, e.g. with
// strings.Fields). A hypothesis with no reference counts as length 0 with
// no matches. CorpusBLEU panics if len(hyps) != len(refs); an empty corpus
// scores 0.
func CorpusBLEU(hyps [][]string, refs [][][]string) float64 {
	if len(hyps) != len(refs) {
		panic(fmt.Sprintf("metrics: CorpusBLEU with %d hypotheses and %d reference sets", len(hyps), len(refs)))
	}
	const maxN = 4
	var num, den [maxN + 1]int
	hypLen, refLen := 0, 0
	for i, hyp := range hyps {
		for n := 1; n <= maxN; n++ {
			counts := ngrams(hyp, n)
			maxRef := make(map[string]int, len(counts))
			for _, ref := range refs[i] {
				rc := ngrams(ref, n)
				for g := range counts {
					maxRef[g] = max(maxRef[g], rc[g])
				}
			}
			total := 0
			for g, c := range counts {
				num[n] += min(c, maxRef[g])
				total += c
			}
			den[n] += max(1, total)
		}
		hypLen += len(hyp)
		refLen += closestRefLen(refs[i], len(hyp))
	}
	if num[1] == 0 {
		return 0
	}
	s := 0.0
	for n := 1; n <= maxN; n++ {
		p := minNormal
		if num[n] > 0 {
			p = float64(num[n]) / float64(den[n])
		}
		s += math.Log(p) / maxN
	}
	return brevityPenalty(refLen, hypLen) * math.Exp(s)
}

// ngrams counts the n-grams of toks; a key is the n tokens, each prefixed
// by its length, so no two n-grams share a key.
func ngrams(toks []string, n int) map[string]int {
	if len(toks) < n {
		return nil
	}
	out := make(map[string]int, len(toks)-n+1)
	var b strings.Builder
	for i := 0; i+n <= len(toks); i++ {
		b.Reset()
		for _, t := range toks[i : i+n] {
			b.WriteString(strconv.Itoa(len(t)))
			b.WriteByte(':')
			b.WriteString(t)
		}
		out[b.String()]++
	}
	return out
}

// closestRefLen returns the reference length closest to hypLen, the
// shorter one on a tie (NLTK's closest_ref_length); 0 with no reference.
func closestRefLen(refs [][]string, hypLen int) int {
	best := -1
	for _, r := range refs {
		l := len(r)
		if best < 0 {
			best = l
			continue
		}
		d, bd := absLegacy(l-hypLen), absLegacy(best-hypLen)
		if d < bd || (d == bd && l < best) {
			best = l
		}
	}
	return max(best, 0)
}

func brevityPenalty(refLen, hypLen int) float64 {
	switch {
	case hypLen > refLen:
		return 1
	case hypLen == 0:
		return 0
	}
	return math.Exp(1 - float64(refLen)/float64(hypLen))
}

func absLegacy(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
