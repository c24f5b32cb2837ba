package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/report"
)

// queryFlags are the run-selection flags shared by compare and plot.
type queryFlags struct {
	by     []string
	where  string
	status string
}

func (q *queryFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&q.by, "by", nil, "group runs by these keys (default: the keys that vary), e.g. attention.name,train.optimizer.lr")
	f.StringVar(&q.where, "where", "", "only runs matching a filter: 'model.attention.name in (dot, additive) and seed != 3'")
	f.StringVar(&q.status, "status", "", "runs with this status (default done): "+statusNames())
}

// query builds a report query for the experiments from the flags.
func (q *queryFlags) query(exps []string) (report.Query, error) {
	f, err := runFilter(nil, q.status, q.where)
	if err != nil {
		return report.Query{}, err
	}
	return report.Query{Experiments: exps, By: q.by, Where: f.Where, Status: f.Status}, nil
}

func newCompareCmd() *cobra.Command {
	var (
		db       *string
		qf       queryFlags
		metrics  []string
		sortBy   string
		baseline string
		format   string
	)
	cmd := &cobra.Command{
		Use:   "compare [EXPERIMENT...]",
		Short: "Compare runs: one row per sweep point, mean ± std over seeds per metric",
		Long: `Compare the done runs of the experiments (all experiments without arguments):
runs are grouped by the parameters that vary (or --by), and each metric is shown
as mean ± std over the runs of a group, the best of each column starred. With
--baseline, every other row is tested against the baseline row (Welch's t-test)
and gets p-values.

--where filters runs with bound parameters, never SQL: keys are config params
(model.attention.name), summary metrics (test/bleu) or the run's own columns
(id, seed, status, experiment); values are numbers, true/false or text.`,
		Example: `  attnlab compare quickstart
  attnlab compare quickstart --metrics exact_match,bleu --sort exact_match --baseline attention.name=none
  attnlab compare --where 'task.name = reverse and model.attention.name != none' --format markdown`,
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
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			c, err := report.Compare(cmd.Context(), st, q)
			if err != nil {
				return err
			}
			return c.Write(cmd.OutOrStdout(), format)
		},
	}
	db = addDBFlag(cmd)
	qf.add(cmd)
	f := cmd.Flags()
	f.StringSliceVar(&metrics, "metrics", nil, "summary metrics to show, in order (a unique suffix will do: exact_match)")
	f.StringVar(&sortBy, "sort", "", "order rows by this metric, best first ('-m' descending, '+m' ascending)")
	f.StringVar(&baseline, "baseline", "", "row to test the others against: key=value[,key=value]")
	f.StringVarP(&format, "format", "f", "table", "output format: "+strings.Join(report.Formats, ", "))
	return cmd
}
