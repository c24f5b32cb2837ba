package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

func newLsCmd() *cobra.Command {
	var (
		exps   []string
		status string
		where  string
		db     *string
	)
	cmd := &cobra.Command{
		Use:   "ls [experiments|runs]",
		Short: "List the experiments (with run counts per status) or the runs of the database",
		Long: `List what the run database holds: the experiments with their runs counted by
status, or the runs with their id, experiment, hash, seed, status, sweep point,
attempts, start and finish times and error. Runs are listed when asked for, or
when --experiment, --status or --where is given.`,
		Example: "  attnlab ls\n  attnlab ls runs --experiment quickstart --status failed\n  attnlab ls runs --where 'test/exact_match > 0.9'",
		Args:    args(0, "experiments|runs"),
		RunE: func(cmd *cobra.Command, args []string) error {
			what := "experiments"
			if len(exps) > 0 || status != "" || where != "" {
				what = "runs"
			}
			if len(args) > 0 {
				what = args[0]
			}
			var filter store.RunFilter
			switch what {
			case "experiments", "experiment", "exp":
				if cmd.Flags().Changed("status") || cmd.Flags().Changed("where") {
					return usagef("--status and --where select runs: use attnlab ls runs")
				}
			case "runs", "run":
				what = "runs"
				f, err := runFilter(exps, status, where)
				if err != nil {
					return err
				}
				filter = f
			default:
				return usagef("unknown listing %q (known: experiments, runs)", args[0])
			}
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			if err := checkExperiments(ctx, st, exps...); err != nil {
				return err
			}
			if what == "runs" {
				return lsRuns(ctx, cmd.OutOrStdout(), st, filter)
			}
			return lsExperiments(ctx, cmd.OutOrStdout(), st, exps)
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().StringArrayVarP(&exps, "experiment", "e", nil, "only this experiment (repeatable)")
	cmd.Flags().StringVar(&status, "status", "", "only runs with this status: "+statusNames())
	cmd.Flags().StringVar(&where, "where", "", "only runs matching a filter: 'model.attention.name = dot and test/bleu > 50'")
	return cmd
}

func statusNames() string {
	names := make([]string, len(store.Statuses))
	for i, s := range store.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// runFilter builds a store filter from the flags, checking the status and
// parsing the --where expression.
func runFilter(exps []string, status, where string) (store.RunFilter, error) {
	f := store.RunFilter{Experiments: exps, Status: store.Status(status)}
	if status != "" && !f.Status.Valid() {
		return f, usagef("--status %q: unknown status (known: %s)", status, statusNames())
	}
	if where != "" {
		c, err := store.ParseWhere(where)
		if err != nil {
			return f, usagef("--where: %v", err)
		}
		f.Where = c
	}
	return f, nil
}

func lsExperiments(ctx context.Context, w io.Writer, st *store.Store, only []string) error {
	all, err := st.Experiments(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintf(w, "no experiments in %s yet: attnlab run EXP.yaml --db %s adds one\n", st.Path(), st.Path())
		return nil
	}
	keep := map[string]bool{}
	for _, n := range only {
		keep[n] = true
	}
	tw := newTable(w)
	fmt.Fprint(tw, "experiment\truns")
	for _, s := range store.Statuses {
		fmt.Fprintf(tw, "\t%s", s)
	}
	fmt.Fprint(tw, "\tupdated\tdescription\n")
	for _, x := range all {
		if len(keep) > 0 && !keep[x.Name] {
			continue
		}
		total := 0
		for _, n := range x.Counts {
			total += n
		}
		fmt.Fprintf(tw, "%s\t%d", x.Name, total)
		for _, s := range store.Statuses {
			fmt.Fprintf(tw, "\t%s", countOrDash(x.Counts[s]))
		}
		fmt.Fprintf(tw, "\t%s\t%s\n", formatTime(x.Updated), truncate(x.Description, 40))
	}
	return tw.Flush()
}

func countOrDash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func lsRuns(ctx context.Context, w io.Writer, st *store.Store, f store.RunFilter) error {
	runs, err := st.Runs(ctx, f)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs match")
		return nil
	}
	short := shortPointKeys(runs)
	tw := newTable(w)
	fmt.Fprint(tw, "id\texperiment\thash\tseed\tstatus\tpoint\tattempt\tstarted\tfinished\terror\n")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Experiment, shortHash(r.Hash), r.Seed,
			r.Status, orDash(pointLabel(r.Point, short)), r.Attempt, formatTime(r.Started), finished(r), orDash(truncate(firstLine(r.Error), 40)))
	}
	return tw.Flush()
}

// pointLabel shows a stored sweep point (JSON) as "key=value" pairs, the
// variant first, then the keys in order, each key as short names it (the
// key itself when short has no entry).
func pointLabel(point string, short map[string]string) string {
	m := parsePoint(point)
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "variant" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	if v, ok := m["variant"]; ok {
		parts = append(parts, "variant="+formatValue(v))
	}
	for _, k := range keys {
		name := k
		if s, ok := short[k]; ok {
			name = s
		}
		parts = append(parts, name+"="+formatValue(m[k]))
	}
	return strings.Join(parts, " ")
}

// parsePoint decodes a stored sweep point; a point that is not a JSON
// object is empty.
func parsePoint(point string) map[string]any {
	var m map[string]any
	if json.Unmarshal([]byte(point), &m) != nil {
		return nil
	}
	return m
}

// shortPointKeys maps every key of the runs' points to the shortest dotted
// suffix that is unique among them, as comparison tables head them.
func shortPointKeys(runs []store.Run) map[string]string {
	seen := map[string]bool{}
	var keys []string
	for _, r := range runs {
		for k := range parsePoint(r.Point) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	short := make(map[string]string, len(keys))
	for i, s := range report.ShortKeys(keys) {
		short[keys[i]] = s
	}
	return short
}

// formatTime shows a time in the local zone to the second, "-" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// finished shows when a run ended and how long its last attempt took.
func finished(r store.Run) string {
	if r.Finished.IsZero() {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", r.Finished.Local().Format("15:04:05"), duration(r.Finished.Sub(r.Started)))
}

// duration rounds d for display: 850ms, 12.3s, 4m05s, 2h03m.
func duration(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
