// Package report turns the run database into comparisons people can trust:
// tables of mean ± std over seeds that never pool different settings,
// differences to a baseline with confidence intervals and multiplicity-
// adjusted p-values, exports for pandas or a spreadsheet, and plots
// (training curves, attention heat maps, exact match or loss by length). It only
// reads the store: every function here takes a *store.Store and never
// writes to it.
//
// # Comparisons
//
// Compare selects runs (Query: experiments, status, a --where filter) and
// groups them. Without Query.By a row holds the runs that agree on every
// param whose value differs among the selected runs, the seed aside — two
// runs of one experiment with different train.steps are two rows, never
// two seeds of one — and the rows are headed by a smallest set of those
// keys that determines the others (Comparison.Keys; the rest are
// Comparison.Derived, such as an attention's own parameters behind its
// name). A key that differs between rows is shown anyway unless the keys
// shown account for it (a parameter of a plugin whose name is shown, a
// task key, a setting the experiment alone determines when the experiment
// is a shown key, or a setting of the named sweep variant shown): a
// learning rate that differs because two files were submitted under one
// name, or because a zip or a random search set it together with the
// attention, is a column, not a confound behind the attention's name.
// Export's group column uses the same keys. Query.By
// may group more coarsely only over keys named in Query.Pool (and keys
// that the By and Pool keys determine, such as the parameters of a plugin
// whose pooled name switches it: Comparison.PooledAlong), which every
// format then shows (the tables give the Pool keys a column each and name
// the others in a note; JSON and CSV give each its values); otherwise it
// is an error naming the fewest of the keys that settle the others, with
// their values. A key that the By keys
// determine without accounting for it, in the sense above (a learning rate
// zipped with the attention that --by names), is shown beside them, as in
// the default grouping.
//
// By default only done runs are aggregated, and none is hidden: a failed
// run (a diverged or crashed seed) is listed with the row of its setting
// (Row.Failed; "3 (+1 failed)" in the n column) and its error in the
// notes, or, when no run of its setting finished, in
// Comparison.FailedElsewhere, labelled by every key its setting differs
// in (and when no key tells the rows apart, the rows show those keys, so
// that a lone surviving setting is named, not only its experiment). Runs
// not finished (queued, running,
// interrupted) are counted with the row of their setting (Row.Unfinished;
// "2 (+1 unfinished)") and in the notes; they too name the keys of a lone
// row, so that the one setting finished so far is named. A mean that leaves out runs of
// its row — failed, not finished, or without a value ("(2/3)") — is never
// marked best (Row.Partial), nor is another row's in its stead where the
// partial row scores higher: the seeds left out may be the ones that would
// change the order. The notes repeat the --where filter.
//
// Each summary metric is aggregated per row into a Cell: mean and sample
// standard deviation over seeds (a seed with several runs — pooled
// settings, or a seed run again — counts once, as their mean, as in the
// tests), the number of runs with a value, the number of NaN
// values (runs that finished with a NaN score, left out of mean and std
// but never hidden; a loss or perplexity that is ±Inf, metrics.IsLoss,
// of a failed or running run shown with --status counts as one,
// Cell.Infinite, and the notes say so) and the per-run values. A run
// stored done with such a value (by a build before 2026-12-06, which did
// not fail a diverged run) counts as failed: left out of every cell of
// its row, named in the notes, as today's builds store it. How a metric is treated
// follows its kind in metrics.Describe: quality metrics (test/ and valid/)
// get the best row of each task starred (rows whose task.* params and
// data.* fingerprints agree, and for BLEU whose sacreBLEU signatures agree:
// BLEU over characters and over 13a tokens are two metrics; never across
// them; means within a part in a million, float32's noise, are tied and
// starred together) and, against
// Query.Baseline, the difference of means with its 95 % confidence
// interval and a two-sided p-value: by the paired t-test over seeds
// (metrics.PairedCompare) where the row's runs with a value and the
// baseline's have the same seeds — runs with the same seed train and test
// on the same data; a pooled row whose seeds each hold runs of the same
// settings, all with a value, pairs the seeds' means (Cell.Averaged) — and
// otherwise, or with Query.Unpaired, by Welch's on one value per seed, the
// mean of its runs (metrics.WelchCompare; Cell.Paired says which); where the t-test has no spread to test against
// (paired differences that do not vary, or two constant sides, either
// within the rounding of the values, 4ε·max|x|), by an
// exact permutation test (metrics.SignFlipP, metrics.SeparatedP;
// Cell.Exact), without an interval; no interval or p-value with fewer
// than 2 values on a side or an infinite value. The tables mark a Welch
// p-value in a comparison that pairs elsewhere with † and an exact one
// with ‡, and the notes name both; the caption and column heads of the
// differences name an interval only where some cell has one, and Holm only
// where some p-value was adjusted. The p-values of a column are adjusted by Holm's
// method (metrics.Holm) unless Query.NoAdjust; cost metrics (perf/*) are
// shown as mean ± std and tested only with Query.TestCost; constants of the
// configuration (model/params) are never tested or starred. Rows come in
// plan order — the order in which each group first appears among the runs
// — unless Query.Sort names a metric. The default columns
// (DefaultMetrics) are exact match, BLEU, chrF, loss, alignment accuracy,
// throughput and parameter count, those the runs have. Under a BLEU or chrF column every
// format states the sacreBLEU signature stored with the runs' scores
// (artifact.Score; Comparison.Signatures), naming the rows when their
// settings differ, so that a score can be compared with one from
// elsewhere.
//
// Keys given in By, Pool, Baseline and Where take one form: a full param
// key, a unique dotted suffix of one (attention.name), a metric or its name
// after a '/' (bleu), or a pseudo key; an unknown key is an error listing
// the closest known ones (ResolveWhere does it for a bare filter). A
// filter's value must be of a kind its key holds (a metric a number, a
// param what the runs' params hold): bleu > abc or hidden = "64" would
// match nothing silently, and are errors.
//
//	c, err := report.Compare(ctx, st, report.Query{
//		Experiments: []string{"scan-attn"},
//		Baseline:    "attention.name=none",
//	})
//	if err != nil { ... }
//	err = c.WriteWidth(os.Stdout, "table", 80) // or "markdown", "latex", "csv", "json"
//
// renders, at 80 columns (the metric columns that do not fit continue in a
// block below, the keys repeated; the differences follow in a second
// table):
//
//	                                             test/        test/        test/
//	attention.name                   n     exact_match         bleu         chrf
//	───────────────  ─────────────────  ──────────────  ───────────  ───────────
//	none (baseline)  3 (+1 unfinished)  0.896 ± 0.007   42.2 ± 1.2   60.8 ± 0.9
//	dot                  3 (+1 failed)  0.913 ± 0.008   81.2 ± 1.2   88.6 ± 0.4
//	additive                         3  0.952 ± 0.009*  90.2 ± 1.1*  94.4 ± 0.7*
//
//	(test/loss, perf/tokens_per_s and model/params in a second block)
//
//	Against attention.name=none: difference of means [95 % CI, unadjusted], p (Holm)
//	                                 test/               test/               test/
//	attention.name             exact_match                bleu                chrf
//	──────────────  ──────────────────────  ──────────────────  ──────────────────
//	dot             +0.016 [-0.021, 0.054]  +38.9 [38.8, 39.1]  +27.8 [25.9, 29.7]
//	                               p=0.201             p<0.001             p<0.001
//
//	additive         +0.056 [0.049, 0.063]  +48.0 [45.4, 50.5]  +33.6 [32.7, 34.5]
//	                               p=0.001             p<0.001             p<0.001
//
//	(test/loss in a second block, then the notes, ending with
//	sacreBLEU signatures of the scores:
//	test/bleu: BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1
//	test/chrf: chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1)
//
// (testdata/compare_scan_baseline.80.golden has it whole, with its notes,
// and .120.golden the same at 120 columns). Every format carries the same
// rows, numbers and notes: CSV and JSON at full precision (CSV with an
// empty field where a value does not exist; JSON with each run's value and
// the notes), the table and Markdown rounded per column (its largest mean
// chooses the decimals; a mean they would leave fewer than two significant
// digits keeps two, 0.00046 beside 0.298; a starred mean takes digits
// until it reads apart from the next; a difference with its interval
// takes the column's decimals or, where narrower, the interval's first
// significant digit: +0.3 [-3.7, 4.4] under BLEU, never +0.35 [-3.71, 4.41]). A Comparison is a
// plain value; the dashboard (attnlab serve) renders the same one, its
// cells as Comparison.Text gives them: the table's text, cell by cell.
// Query.Status selects done runs by default; StatusAny selects every
// status (the curves of runs still training). A run not done has written
// no summaries: its value of a metric is the last it logged
// (store.LatestMetrics), at whatever step it reached, so such a selection
// marks no row best, and its notes say so. A --where on a metric tests the
// same value: a run not done matches valid/loss < 2 by the last valid/loss
// it logged.
//
// # Exports
//
// Export writes one row per run of an experiment — id, hash, seed, status,
// group (the run's setting, named as compare's rows are), every param,
// every summary — as CSV or JSON. ExportCurves writes the metric histories
// in a tidy long format (run, step, key, value and the keys that tell the
// settings apart) that pandas reads directly, reading each history in
// pages of 10 000 points as it writes it, so that its memory does not grow
// with the histories' length — every metric of a run in one paged query
// (store.EachRunMetricPoint), or, with --metric, each named metric apart
// (store.EachMetricPoint), which reads no row of the others; no read is open on
// the database while it writes, so an output that is not read (export
// --curves | less, paused) holds back neither SQLite's WAL checkpoint nor
// PostgreSQL's vacuum.
//
// An export is therefore not one snapshot of the database, and is not
// made one on purpose: a snapshot held for the whole export (one read
// transaction; REPEATABLE READ on PostgreSQL) would be held as long as the
// output is slow — a paused pipe pins it for as long as the pager waits,
// the WAL growing under the workers' writes. What a removal (attnlab rm)
// or a new attempt of a run (a worker's claim after attnlab run
// --retry-failed or an interruption, which truncates the run's history)
// could do to an export unseen — leave out a run's rows, or cut a run's
// curves between two pages — is detected instead: an export checks that
// a run it read is still the one it read (store.Vanished: same id, hash,
// creation time and attempt) and otherwise fails with an error wrapping
// ErrRemoved that names the run. Export reads everything, then checks,
// then writes; ExportCurves checks each run right after it read the run's
// last page, before it writes that page, so that a run removed once all
// its rows were read fails nothing. With -o the path is then left as it
// was (the file is written beside it and renamed only on success): no
// file, or the file that --force would have replaced; on stdout the exit
// status says that what was written is not to be used. What is not
// detected: a change of a run's rows that keeps its id, hash, creation
// time and attempt — attnlab sync replacing the run by a source's copy of
// the same attempt, a run removed and synced back under its old id
// (SQLite), a truncation by the attempt that was read — for which the
// store would need a per-run version of the rows. Points that a
// running run logs meanwhile may or may not be in the curves, as in any
// read of a run being trained.
//
// # Plots
//
// PlotCurves draws a metric's history (mean over each group's runs with a
// min–max band). The mean and band are never drawn over fewer runs than
// the legend counts without saying so: the line is solid over its band
// only at the steps where all the group's runs have a value; where some
// have none (early stopping, a shorter run pooled with Query.Pool, a
// diverged run) it goes on thin and dashed without band, the mean of the
// runs left, labelled "n=2" where their number changes. The legend says
// how many runs each group has and how many end early, diverged or are
// not finished ("4 runs (3 end early)", "2 runs (1 not finished)"), and names the pooled keys' values as the
// table does. PlotAttention draws a stored attention map (artifact.AttentionMap,
// under artifact.KindAttention/NameAttention) on a 0–1 colour scale, or one
// topped lower to show attention spread over a long source, and
// PlotLength the exact match per source-length bucket (seq2seq test
// decoding) or a language model's test loss per evaluation context length
// (test/loss@N, eval.context) on a log₂ axis, drawn as the curves are:
// solid over the band where all a group's runs have a value, dashed with
// "n=2" where fewer do, broken where none does (GroupLengthOf gives the
// dashboard the same lines), with references behind the lines when all
// the runs have one task (LengthReferences, shared with the dashboard):
// the lengths they were trained on (train/src_len_min, train/src_len_max;
// a language model's train/context) and the majority-answer floor of each
// bucket (test/majority_exact_match/len_LO_HI). Titles too wide for the plot wrap between
// their " · " parts. The file extension
// picks the format: PNG (at PlotDPI), SVG, PDF, EPS, JPEG or TIFF. Legends
// sit beside the plot area, so they never hide data.
//
// # Errors
//
// Errors are one line, prefixed "report:", and say what is known: an
// unknown experiment lists the experiments (and wraps store.ErrNotFound),
// an unknown metric lists the selected runs' keys, an empty selection
// (ErrNoRuns) gives the experiments' run counts by status (and the first
// five runs of Query.IDs it asked for), an unknown key lists the closest
// known keys, a --by that would pool settings names them. When every
// done run selected diverged (stored done with a ±Inf loss or perplexity
// by a build before 2026-12-06), the ErrNoRuns is a *DivergedError: it
// names the runs and gives the attnlab rm line after which a rerun trains
// them anew. When only some diverged, the comparison lists them as failed
// and holds them in Comparison.Diverged (PlotCurves and PlotLength, which
// leave them out too, return them), for the command to say the same
// (DivergedNote).
//
// The functions are safe for concurrent use; a Comparison is a plain value
// and may be read by many goroutines.
package report
