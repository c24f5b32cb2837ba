// Package metrics computes evaluation metrics for attnlab runs, as pure
// functions over token sequences, attention weights and per-run results; it
// knows nothing of tensors, models or tasks.
//
//   - Sequence quality: [CorpusBLEU] (BLEU-4 exactly as NLTK 3.8's
//     corpus_bleu), [ExactMatch], [TokenAccuracy], [MaskedTokenAccuracy]
//     and [Perplexity].
//   - Length generalisation: [LengthBucket] names buckets such as len_21_40
//     (default edges 1–10, 11–20, 21–40, 41–80, 81–160, 161+), and
//     [BucketedExactMatch] produces metrics such as
//     test/exact_match/len_21_40.
//   - Attention diagnostics: [Entropy] and [MeanEntropy] of attention rows
//     (nats; masked keys and fully masked rows ignored), [Rows] to take the
//     real rows out of a padded [B, Tq, Tk] buffer, and alignment accuracy
//     with [IdealPositions] and [AlignmentHits].
//   - Comparing runs across seeds: [MeanStd] (sample std) and
//     [WelchTTest] (two-sided, Welch–Satterthwaite df, via gonum's
//     distuv.StudentsT). Both ignore NaN values, the mark of a missing
//     result.
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
// A new metric is one entry in the table of descriptor.go.
//
// Counting functions return (numerator, denominator) pairs so that callers
// can sum over batches before dividing; [Ratio] divides. Every function is
// safe for concurrent use; the BucketedExactMatch accumulator is not.
//
// The package imports no attnlab package.
package metrics
