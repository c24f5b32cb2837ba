package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/internal/floatlit"
	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

func newPlotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plot (curves|attention|length)",
		Short: "Plot metric curves, attention heatmaps or accuracy/loss by length (PNG)",
		Long: `Plot stored results to an image file (PNG; the extension of -o chooses the
format where the plotting library supports it):

  curves     a metric's history over training steps, one line per group of runs
             (mean over seeds)
  attention  the attention heatmap of one decoded test example of a run
  length     exact match by source length (seq2seq tasks), or a language model's
             test loss by evaluation context length (eval.context), one line per
             group of runs`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(newPlotCurvesCmd(), newPlotAttentionCmd(), newPlotLengthCmd())
	return cmd
}

func newPlotCurvesCmd() *cobra.Command {
	var (
		db     *string
		qf     queryFlags
		metric string
		out    outputFlags
	)
	cmd := &cobra.Command{
		Use:   "curves EXPERIMENT...",
		Short: "Plot a metric's history over training steps, one line per group of runs",
		Long: `Plot a metric's history over training steps, one line per group of runs
(--by, or the settings that differ, as compare groups them): the mean over the
group's runs at each step, over a shaded band from their minimum to their
maximum. The line is solid, with its band, only at the steps where every run
of the group has a value. Where some have none (early stopping, a shorter run
pooled with --pool, a diverged run) it goes on thin and dashed, without band:
the mean of the runs left, marked "n=2" where their number changes. The legend
gives each group's runs, how many end early, diverged or are not finished
(with --status running, queued or interrupted), and the values of the pooled
keys: "attention.name=dot · 4 runs (3 end early)".`,
		Example: "  attnlab plot curves quickstart --metric valid/exact_match -o em.png",
		Args:    args(1, "EXPERIMENT", "EXPERIMENT..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			return plotQuery(cmd, *db, qf, out, args, func(ctx context.Context, st *store.Store, q report.Query, dst safeout.Target) ([]store.Run, error) {
				return report.PlotCurves(ctx, st, q, metric, dst)
			})
		},
	}
	db = addDBFlag(cmd)
	qf.add(cmd)
	cmd.Flags().StringVarP(&metric, "metric", "m", "valid/loss", "the metric to plot (train/loss, valid/exact_match, ...; a name after a slash will do: loss is valid/loss, the held-out split, when train/loss is logged too)")
	out.add(cmd, "curves.png", "image file to write")
	return cmd
}

func newPlotAttentionCmd() *cobra.Command {
	var (
		db      *string
		example int
		vmax    string
		out     outputFlags
	)
	cmd := &cobra.Command{
		Use:        "attention RUN",
		SuggestFor: []string{"heatmap"},
		Short:      "Plot the attention heatmap of a decoded test example of a run",
		Long: `Plot the attention of a run's decoder over the source tokens for one of the
test examples stored with the run (eval.attention_maps of them; --example
counts from 0). RUN is a run's name (EXPERIMENT/POINT/seed=N), id, hash prefix,
or EXPERIMENT/HASH for runs that two versions of an experiment give one name.
Multi-head attention's map is the mean over its heads; a Transformer's is its
last decoder layer's cross-attention. Beyond 600 tokens on a side, each cell
is the largest weight of a block of tokens, and the title says how many.

The colour scale runs from weight 0 to 1, so that maps of different runs
compare. Attention spread over a long source is pale on it: --vmax max tops
the scale at the map's largest weight, --vmax 0.1 at 0.1 (heavier weights take
its colour); the title then says the scale.`,
		Example: "  attnlab plot attention 3 --example 1 -o attn.png\n  attnlab plot attention listops-long/softmax/seed=1 --vmax max",
		Args:    args(1, "RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if example < 0 {
				return usagef("--example %d: must not be negative", example)
			}
			top, err := parseVMax(vmax)
			if err != nil {
				return err
			}
			dst := out.target(cmd, *db)
			if err := checkPlotTarget(dst); err != nil {
				return err
			}
			st, r, err := openRun(cmd.Context(), *db, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			if err := report.PlotAttention(cmd.Context(), st, r.ID, example, top, dst); err != nil {
				return err
			}
			return wrote(cmd, dst)
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().IntVarP(&example, "example", "n", 0, "which stored example (from 0)")
	cmd.Flags().StringVar(&vmax, "vmax", "1", `top of the colour scale: a weight in (0, 1], or "max" for the map's largest weight`)
	out.add(cmd, "attention.png", "image file to write")
	return cmd
}

// parseVMax reads plot attention's --vmax: a weight in (0, 1], or "max"
// (returned as 0, report.PlotAttention's "the map's largest weight"). A
// number too small for a float64 (1e-400) is said to be so, as the other
// float flags say it (floatlit), not taken for the 0 it would read as.
func parseVMax(s string) (float64, error) {
	const want = `want a weight in (0, 1], such as 0.1, or "max" for the map's largest weight`
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "max") {
		return 0, nil
	}
	v, err := floatlit.Parse(t)
	if errors.Is(err, floatlit.ErrUnderflow) {
		return 0, usagef("--vmax %q: %v; %s", s, err, want)
	}
	if err != nil || !(v > 0 && v <= 1) {
		return 0, usagef("--vmax %q: %s", s, want)
	}
	return v, nil
}

func newPlotLengthCmd() *cobra.Command {
	var (
		db  *string
		qf  queryFlags
		out outputFlags
	)
	cmd := &cobra.Command{
		Use:   "length EXPERIMENT...",
		Short: "Plot exact match by source length, or test loss by context length, one line per group of runs",
		Long: `Plot a metric against the length of the evaluation inputs, one line per group
of runs (--by, or the settings that differ, as compare groups them):

  seq2seq runs  test exact match per source-length bucket (eval.length_buckets:
                the summaries test/exact_match/len_LO_HI), on a fixed 0–1 scale;
                each bucket says how many test examples it holds ("40 ex.", a
                range when the runs' test sets differ)
  LM runs       test loss at each evaluation context length (eval.context: the
                summaries test/loss@N), against N on a log₂ axis

Each line is the mean over the group's runs, in a min–max band when the group
has several; where only some of its runs have a value the line is thin and
dashed, without band, labelled n=2 (the runs it averages); a length where none
has one leaves a gap.

Behind the lines, when every run has the same task: the buckets holding the
source lengths the runs were trained on are shaded (an LM's training context is
a dashed vertical line), and a dotted grey line is the majority-answer floor of
each bucket (always answering the training split's most frequent target:
test/majority_exact_match/len_LO_HI), averaged over the runs. Runs stored
before 2026-12-04 have neither; the legend says when one is not drawn.

Runs of both kinds together, of neither, or evaluated with different
eval.length_buckets are an error.`,
		Example: "  attnlab plot length quickstart --by attention.name -o length.png\n  attnlab plot length length-generalisation-lm --by positions --where 'head.name = scaled-dot' -o context.png",
		Args:    args(1, "EXPERIMENT", "EXPERIMENT..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			return plotQuery(cmd, *db, qf, out, args, report.PlotLength)
		},
	}
	db = addDBFlag(cmd)
	qf.add(cmd)
	out.add(cmd, "length.png", "image file to write")
	return cmd
}

// plotQuery runs a plot of the runs that the query flags select in the
// experiments args: it checks the output file before opening the store,
// plots, and says where the plot went — and, as compare does, which
// selected runs it left out as diverged, with the attnlab rm line that
// lets a rerun train them anew (noteDivergedRuns).
func plotQuery(cmd *cobra.Command, db string, qf queryFlags, out outputFlags, args []string,
	plot func(context.Context, *store.Store, report.Query, safeout.Target) ([]store.Run, error)) error {
	q, err := qf.query(args)
	if err != nil {
		return err
	}
	dst := out.target(cmd, db)
	if err := checkPlotTarget(dst); err != nil {
		return err
	}
	st, err := openStore(db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkExperiments(cmd.Context(), st, q.Experiments...); err != nil {
		return err
	}
	diverged, err := plot(cmd.Context(), st, q, dst)
	if err != nil {
		return err
	}
	if err := wrote(cmd, dst); err != nil {
		return err
	}
	noteDivergedRuns(cmd.ErrOrStderr(), st, diverged)
	return nil
}

// checkPlotTarget checks a plot's -o before any work: safeout's checks
// (what must never be replaced) first, then a file whose extension names
// no plot format is a usage error, as is a PNG image for stdout when
// stdout is a terminal (it would show as a screenful of escapes). An existing file without --force is
// refused only when the plot is written, after the runs, metric and keys
// were checked: a plot is quick to draw, and a mistyped metric is then
// said first, not after --force.
func checkPlotTarget(dst safeout.Target) error {
	if dst.IsStdout() && isTerminal(dst.Stdout) {
		return usagef("-o %s: stdout is a terminal, and a plot is a PNG image; redirect stdout (-o - > plot.png) or name a file", dst.Path)
	}
	if err := dst.Check(); err != nil && !errors.Is(err, safeout.ErrExists) || dst.IsStdout() {
		return err
	}
	if err := report.CheckPlotPath(dst.Path); err != nil {
		return usagef("-o %q: %w", dst.Path, err)
	}
	return nil
}

// wrote reports the file a plot went to (nothing when it went to stdout).
func wrote(cmd *cobra.Command, dst safeout.Target) error {
	if dst.IsStdout() {
		return nil
	}
	_, err := fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", dst.Path)
	return err
}
