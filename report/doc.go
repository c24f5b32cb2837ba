// Package report turns the run database into comparisons people can trust:
// tables of mean ± std over seeds with the best row marked and Welch
// p-values against a baseline, exports for pandas or a spreadsheet, and
// plots (training curves, attention heat maps, exact match by length). It
// only reads the store: every function here takes a *store.Store and never
// writes to it.
//
// # Comparisons
//
// Compare selects runs (Query: experiments, status, a --where filter),
// groups them by the param keys that vary between them (or the keys given
// in Query.By), and aggregates each summary metric per group into a Cell:
// mean, sample standard deviation, the number of runs with a value, the
// number of NaN values (diverged runs, left out of mean and std but never
// hidden), the per-run values, whether the row is the best of its column
// (by Direction), and the two-sided Welch t-test p-value against the
// baseline row (metrics.WelchTTest). Rows come in plan order — the order in
// which each group first appears among the runs — unless Query.Sort names a
// metric.
//
//	c, err := report.Compare(ctx, st, report.Query{
//		Experiments: []string{"scan-attn"},
//		Baseline:    "attention.name=none",
//	})
//	if err != nil { ... }
//	err = c.Write(os.Stdout, "table") // or "markdown", "csv", "json"
//
// renders (the baseline row first; p under each value):
//
//	┌────────────┬────────────┬───┬────────────────┬────────────────┬──────────────────────┬─...
//	│ attention. │ attention. │ n │     test/      │     test/      │        test/         │ ...
//	│    dim     │    name    │   │  exact_match   │      bleu      │         loss         │ ...
//	├────────────┼────────────┼───┼────────────────┼────────────────┼──────────────────────┼─...
//	│ —          │ none       │ 3 │ 0.896 ± 0.007  │ 0.420 ± 0.010  │       1.100 ± 0.100  │ ...
//	│            │ (baseline) │   │                │                │                      │ ...
//	├────────────┼────────────┼───┼────────────────┼────────────────┼──────────────────────┼─...
//	│ —          │ dot        │ 3 │ 0.913 ± 0.008  │ 0.810 ± 0.010  │       0.550 ± 0.050  │ ...
//	│            │            │   │       p=0.058  │       p<0.001  │             p=0.004  │ ...
//	├────────────┼────────────┼───┼────────────────┼────────────────┼──────────────────────┼─...
//	│ 128        │ additive   │ 3 │ 0.952 ± 0.009* │ 0.900 ± 0.010* │ 0.310 ± 0.014* (2/3) │ ...
//	│            │            │   │       p=0.001  │       p<0.001  │             p=0.004  │ ...
//	└────────────┴────────────┴───┴────────────────┴────────────────┴──────────────────────┴─...
//
// (testdata/compare_scan_baseline.golden has it whole, with its notes).
// Every format carries the same numbers: CSV and JSON at full precision
// (JSON with each run's value), the table and Markdown rounded per column.
//
// # Exports
//
// Export writes one row per run of an experiment — id, hash, seed, status,
// every param, every summary — as CSV or JSON.
//
// # Plots
//
// PlotCurves draws a metric's history (mean over each group's runs with a
// min–max band), PlotAttention a stored attention map (artifact.AttentionMap,
// under artifact.KindAttention/NameAttention) on a fixed 0–1 colour scale, and
// PlotLength the exact match per source-length bucket. The file extension
// picks the format: PNG (at PlotDPI), SVG, PDF, EPS, JPEG or TIFF. Legends
// sit beside the plot area, so they never hide data.
//
// # Errors
//
// Errors are one line, prefixed "report:", and say what is known: an
// unknown experiment lists the experiments (and wraps store.ErrNotFound),
// an unknown metric lists the selected runs' keys, an empty selection
// (ErrNoRuns) gives the experiments' run counts by status, a --by typo
// gets a suggestion.
//
// The functions are safe for concurrent use; a Comparison is a plain value
// and may be read by many goroutines.
package report
