package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

// queryFlags are the run-selection flags shared by compare and plot.
type queryFlags struct {
	by     []string
	pool   []string
	where  string
	status string
}

func (q *queryFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	addListFlag(f, &q.by, "by", "key", "group runs by these keys (default: every key that varies), e.g. attention.name,optimizer.lr")
	addListFlag(f, &q.pool, "pool", "key", "keys whose different values --by may average over in one row, e.g. train.steps")
	f.StringVar(&q.where, "where", "", "only runs matching a filter: 'model.attention.name in (dot, additive) and seed != 3' (metric keys: attnlab help metrics)")
	f.StringVar(&q.status, "status", "", "runs with this status (default done): "+statusNames()+", or any")
}

// query builds a report query for the experiments from the flags.
func (q *queryFlags) query(exps []string) (report.Query, error) {
	f, err := runFilter(nil, q.status, q.where)
	if err != nil {
		return report.Query{}, err
	}
	if q.status == string(report.StatusAny) {
		f.Status = report.StatusAny
	}
	if len(q.pool) > 0 && len(q.by) == 0 {
		return report.Query{}, usagef("--pool needs --by: without it no row pools different settings")
	}
	return report.Query{Experiments: exps, By: q.by, Pool: q.pool, Where: f.Where, Status: f.Status}, nil
}

func newCompareCmd() *cobra.Command {
	var (
		db       *string
		qf       queryFlags
		metrics  []string
		sortBy   string
		baseline string
		format   string
		testCost bool
		noAdjust bool
		unpaired bool
	)
	cmd := &cobra.Command{
		Use:   "compare [EXPERIMENT...]",
		Short: "Compare runs: one row per sweep point, mean ± std over seeds per metric",
		Long: `Compare the done runs of the experiments (all experiments without arguments).
Runs are grouped by every setting that differs among them (the seed aside), so
that a row never mixes runs of different settings; each metric is shown as
mean ± std over the seeds of a row (a seed with several runs, pooled or run
again, counts once, as their mean), the best of each quality metric starred
(within one task). --by groups more coarsely only when the settings it would
mix are named in --pool (a plugin's parameters follow its pooled name: with
--pool attention.name, attention.dim is pooled too); otherwise it is an error
naming them.

With --baseline, every other row of the baseline's task is compared with the
baseline row on each quality metric: the difference of means with its 95 %
confidence interval and a two-sided p-value, Holm–Bonferroni-adjusted over
the rows of each column (--no-adjust: raw). Runs with the same seed train and
test on the same data, so where a row's runs have the baseline's seeds the
test is the paired t-test over seeds (n − 1 df; in a row pooling settings,
each seed's runs are averaged first, when every seed holds the same settings);
elsewhere (other seeds, a failed or missing run), and with --unpaired, it is
Welch's t-test (Welch–Satterthwaite df) on one value per seed, the mean of
its runs. Where a t-test has no spread to test against (the same difference on
every seed, or two constant sides) the p-value is an exact permutation
test's, without an interval. The notes say which rows got which, and the
table marks Welch's p-values among paired ones (†) and exact ones (‡). Cost metrics (perf/*) are shown but not tested unless
--test-cost; constants of the configuration (model/params) are never tested.

Keys take one form everywhere: a config param (model.attention.name) or a
unique dotted suffix of one (attention.name); --where also takes a metric
(test/bleu, or bleu) and the run's own columns (id, seed, status,
experiment, variant); --by and --baseline also take seed, experiment and
variant. An unknown key is an error listing the closest known ones.

Only done runs are aggregated (--status chooses another status); a failed run
is never hidden: its row shows "(+k failed)" and its error is in the notes;
runs not finished show as "(+k unfinished)". A mean that leaves out runs of
its row (failed, unfinished, or "(k/n)": runs without a value) is never
marked best, nor another row's in its stead. When no run matches (no done
run yet, or none that --where or --status selects), there is nothing to
compare: an error, exit 1, where ls runs prints "no runs match" and exits 0.
--where filters runs with bound parameters, never SQL; values are numbers,
true/false or text. Tables fit the terminal (--width, $COLUMNS); --format latex
writes booktabs tabulars for a paper, the notes as comments beside them (one
tabular per table, whatever its width: \resizebox or --metrics fits it to a page).`,
		Example: `  attnlab compare quickstart
  attnlab compare quickstart --metrics exact_match,bleu --sort exact_match --baseline attention.name=none
  attnlab compare --where 'task.name = reverse and attention.name != none' --format markdown
  attnlab compare tiny --by attention.name --pool train.steps`,
		Args: args(0, "EXPERIMENT..."),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(report.Formats, format) {
				return usagef("--format %q: unknown format (known: %s)", format, strings.Join(report.Formats, ", "))
			}
			q, err := qf.query(args)
			if err != nil {
				return err
			}
			q.Metrics, q.Sort, q.Baseline = metrics, sortBy, baseline
			q.TestCost, q.NoAdjust, q.Unpaired = testCost, noAdjust, unpaired
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := checkExperiments(cmd.Context(), st, q.Experiments...); err != nil {
				return err
			}
			c, err := report.Compare(cmd.Context(), st, q)
			if err != nil {
				return err
			}
			if err := c.WriteWidth(cmd.OutOrStdout(), format, outputWidth(cmd)); err != nil {
				return err
			}
			noteDivergedRuns(cmd.ErrOrStderr(), st, c.Diverged)
			return nil
		},
	}
	db = addDBFlag(cmd)
	qf.add(cmd)
	f := cmd.Flags()
	addListFlag(f, &metrics, "metrics", "metric", "summary metrics to show, in order (a name after a slash will do: exact_match is test/exact_match; test/ is preferred, then valid/, then train/)")
	f.StringVar(&sortBy, "sort", "", "order rows by this metric, best first ('-m' descending, '+m' ascending)")
	f.StringVar(&baseline, "baseline", "", "row to compare the others with: key=value[,key=value]")
	f.BoolVar(&testCost, "test-cost", false, "test cost metrics (perf/*) against the baseline too")
	f.BoolVar(&noAdjust, "no-adjust", false, "do not adjust p-values for multiple comparisons (Holm)")
	f.BoolVar(&unpaired, "unpaired", false, "compare with the baseline by Welch's test also where the seeds pair (default: the paired t-test there)")
	f.StringVarP(&format, "format", "f", "table", "output format: "+strings.Join(report.Formats, ", "))
	return cmd
}

// noteDivergedRuns writes on w (stderr) one line when some of the runs
// compared or plotted were stored done with a ±Inf loss or perplexity by
// an old build (diverged: report.Comparison.Diverged, or what the plots
// return), counted as failed: which, and the attnlab rm line, --db and
// all (never its password: store.CommandDB), after which a rerun trains
// them anew — as when every done run diverged (report.DivergedError),
// where there is no table.
func noteDivergedRuns(w io.Writer, st *store.Store, diverged []store.Run) {
	if len(diverged) == 0 {
		return
	}
	arg, note := st.CommandDB()
	fmt.Fprintln(w, "attnlab: note: "+printable.Line(report.DivergedNote(diverged, arg))+noteSuffix(note))
}
