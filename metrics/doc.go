// Package metrics computes evaluation metrics for attnlab runs, as pure
// functions over token sequences, attention weights and per-run results; it
// knows nothing of tensors, models or tasks.
//
//   - Sequence quality: [ExactMatch], [TokenAccuracy],
//     [MaskedTokenAccuracy] and [Perplexity].
//   - Translation metrics exactly as sacreBLEU 2.5.1 computes them
//     ([SacreBLEUVersion]), on detokenized hypothesis strings against raw
//     reference text, scores on a 0–100 scale: corpus and sentence [BLEU]
//     (tokenizers 13a — sacreBLEU's default —, intl, char and none, see
//     [TokenizeBLEU]; optional lowercasing; exp smoothing by default, none,
//     floor and add-k too; the effective order for sentence BLEU) and
//     [ChrF] (chrF2 and chrF++: character and word n-gram F-β), each with
//     sacreBLEU's signature string, such as
//     nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1 (the
//     version is that of the sacreBLEU whose algorithm is reproduced).
//     Python's text semantics are reproduced where they matter: str.split's
//     whitespace (Unicode's plus U+001C–U+001F), str.rstrip, str.lower (İ →
//     i̇, final ς), code points rather than bytes. The 13a rules are
//     sacreBLEU's regular expressions, run by Go's regexp with Python's
//     re.sub semantics (left to right, no overlap); intl's use Go's Unicode
//     categories \p{P}, \p{S}, \P{N} (Unicode 15, as the regex module that
//     made the fixtures). testdata/sacrebleu.json (the shared fixture: every
//     tokenizer, lowercase, sentence BLEU, chrF2, chrF++) and
//     testdata/sacrebleu_edge.json (make_sacrebleu_edge.py: tokenizer
//     outputs, casing, smoothing, several and empty references, chrF
//     variants, random corpora) hold sacreBLEU's own scores; the port
//     matches every one within 1.5e-14. Runs store test/bleu, valid/bleu,
//     test/chrf and test/chrf++ from these (package runs).
//   - Length generalisation: [LengthBucket] names buckets such as len_21_40
//     (default edges 1–10, 11–20, 21–40, 41–80, 81–160, 161+), and
//     [BucketedExactMatch] produces metrics such as
//     test/exact_match/len_21_40.
//   - Attention diagnostics: [Entropy] and [MeanEntropy] of attention rows
//     (nats; masked keys and fully masked rows ignored), [Rows] to take the
//     real rows out of a padded [B, Tq, Tk] buffer, and alignment accuracy
//     with [IdealPositions] and [AlignmentHits]. MeanEntropy and
//     AlignmentHits take a [Focus] per row (its entropy and peak position),
//     which a decoder keeps for every output step instead of the row itself
//     ([FocusOf], [Foci]).
//   - Comparing runs across seeds: [MeanStd] (sample std),
//     [WelchTTest] (two-sided, Welch–Satterthwaite df, via gonum's
//     distuv.StudentsT), [WelchCompare] (the difference of means with its
//     confidence interval, beside the test), [PairedCompare] (the same
//     by the paired t-test, for runs that share their seeds and so their
//     data; scipy's ttest_rel), the exact permutation tests' p-values
//     where a t-test has no spread to test against, [SignFlipP] (paired
//     differences of one sign) and [SeparatedP] (two constant samples;
//     both as scipy's permutation_test, testdata/permutation.json), and
//     [Holm] (Holm–Bonferroni adjustment of a family of p-values). They
//     ignore NaN values, the mark of a missing result. The t-tests take a
//     spread within the rounding of the values (4ε·max|x|: 0.7 + 0.2 is
//     0.8999999999999999) for none, where scipy 1.10 finds a t of 6·10¹⁵.
//
// # Metric keys
//
// A run records metrics under keys SPLIT/NAME (train/loss, valid/exact_match,
// perf/tokens_per_s, model/params), SPLIT/NAME/len_LO_HI per length bucket,
// and best/KEY for the best value of KEY over its evaluations. [Describe]
// is the one place that says, for each key, its [Direction] (higher or
// lower is better, or neither), its [Kind] (quality: tested across seeds;
// cost: time and throughput, mean ± std only; constant: the same for every
// seed, never tested) and its [Scale]. Comparison tables, early stopping's
// mode auto and the CLI's help all read it; [All] lists every key pattern.
// A new metric is one entry in the table of descriptor.go; a new metric of
// decoded text against references is one file that registers a
// [TextMetric] — its descriptor comes with it, and every
// sequence-to-sequence run records it as test/NAME.
//
// Counting functions return (numerator, denominator) pairs so that callers
// can sum over batches before dividing; [Ratio] divides. Every function is
// safe for concurrent use; the BucketedExactMatch accumulator is not.
//
// The package imports no attnlab package.
package metrics
