package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/term"
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
status, or the runs with their id, name (EXPERIMENT/POINT/seed=N, which every
command taking a RUN accepts), status, attempts, hash, when it started and ended
(done, failed or interrupted) and error. A running run whose worker is gone (its process exited on this
host, or it sent no heartbeat for a minute) says so where the error goes: a
worker resumes it from its checkpoint, and rm may remove it. Runs are listed
when asked for, or when --experiment, --status or --where is given.

--where takes the keys compare takes (attention.name, bleu, seed, status, ...);
an unknown key is an error listing the closest known keys. The listing fits the
terminal (--width, $COLUMNS): errors are cut with "…" first, then the hash,
the start time and the attempts go, long names are cut, and the end time
goes last. When runs share a name (two versions of an experiment), the hash
is what tells them apart and stays; EXPERIMENT/HASH (as quickstart/5eed1eef)
names such a run for every command taking a RUN.`,
		Example: "  attnlab ls\n  attnlab ls runs --experiment quickstart --status failed\n  attnlab ls runs --where 'exact_match > 0.9 and attention.name != none'",
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
				if filter.Where, err = report.ResolveWhere(ctx, st, exps, filter.Where); err != nil {
					return err
				}
				return lsRuns(ctx, cmd.OutOrStdout(), outputWidth(cmd), st, filter)
			}
			return lsExperiments(ctx, cmd.OutOrStdout(), outputWidth(cmd), st, exps)
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().StringArrayVarP(&exps, "experiment", "e", nil, "only this experiment (repeatable)")
	cmd.Flags().StringVar(&status, "status", "", "only runs with this status: "+statusNames()+", or any")
	cmd.Flags().StringVar(&where, "where", "", "only runs matching a filter: 'model.attention.name = dot and test/bleu > 50' (metric keys: attnlab help metrics)")
	return cmd
}

func statusNames() string {
	names := make([]string, len(store.Statuses))
	for i, s := range store.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// runFilter builds a store filter from the flags, checking the status (any:
// every status, no filter) and parsing the --where expression.
func runFilter(exps []string, status, where string) (store.RunFilter, error) {
	if status == string(report.StatusAny) {
		status = ""
	}
	f := store.RunFilter{Experiments: exps, Status: store.Status(status)}
	if status != "" && !f.Status.Valid() {
		return f, usagef("--status %q: unknown status (known: %s, or any)", status, statusNames())
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

func lsExperiments(ctx context.Context, w io.Writer, width int, st *store.Store, only []string) error {
	all, err := st.Experiments(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		arg, note := st.CommandDB()
		fmt.Fprintf(w, "no experiments in %s yet: attnlab run EXP.yaml%s adds one%s\n", st.Path(), arg, noteSuffix(note))
		return nil
	}
	keep := map[string]bool{}
	for _, n := range only {
		keep[n] = true
	}
	var shown []store.Experiment
	for _, x := range all {
		if len(keep) == 0 || keep[x.Name] {
			shown = append(shown, x)
		}
	}
	_, err = experimentsTable(shown).Render(w, width)
	return err
}

// experimentsTable lays out ls's experiments: the name, the run count and
// the count per status, the last update and the description. When the
// table is too wide, a status no experiment has a run in goes first, then
// the description is cut, then the update time goes.
func experimentsTable(exps []store.Experiment) *term.Table {
	t := &term.Table{Columns: []term.Column{{Head: "experiment", Key: true}, {Head: "runs", Right: true}}}
	for _, s := range store.Statuses {
		col := term.Column{Head: string(s), Right: true}
		if !slices.ContainsFunc(exps, func(x store.Experiment) bool { return x.Counts[s] > 0 }) {
			col.Drop = 3
		}
		t.Columns = append(t.Columns, col)
	}
	t.Columns = append(t.Columns, term.Column{Head: "updated", Drop: 1}, term.Column{Head: "description", Cut: 2, Min: 12})
	for _, x := range exps {
		total := 0
		for _, n := range x.Counts {
			total += n
		}
		row := []string{x.Name, strconv.Itoa(total)}
		for _, s := range store.Statuses {
			row = append(row, countOrDash(x.Counts[s]))
		}
		t.Rows = append(t.Rows, append(row, formatTime(x.Updated), firstLine(x.Description)))
	}
	return t
}

func countOrDash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func lsRuns(ctx context.Context, w io.Writer, width int, st *store.Store, f store.RunFilter) error {
	runs, err := st.Runs(ctx, f)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs match")
		return nil
	}
	abandoned, err := st.Abandoned(ctx, runs)
	if err != nil {
		return err
	}
	_, err = runsTable(runs, abandoned).Render(w, width)
	return err
}

// runsTable lays out ls's runs: id, name, status, attempts, hash, start and
// finish, error. When the table is too wide the error is cut first, then
// the hash, the start time and the attempts go, then the name is cut, and
// the finish goes last. When runs share a name (two versions of an
// experiment), the hash is what tells them apart: it is never dropped. A
// running run whose worker is gone (abandoned, by run id: store.Abandoned)
// says so in the error column.
func runsTable(runs []store.Run, abandoned map[int64]string) *term.Table {
	hashDrop := 4
	names := make(map[string]bool, len(runs))
	for _, r := range runs {
		if names[r.Name()] {
			hashDrop = 0
			break
		}
		names[r.Name()] = true
	}
	t := &term.Table{Columns: []term.Column{
		{Head: "id", Right: true, Key: true},
		{Head: "name", Cut: 1, Min: 24, Middle: true}, // names end in their seed
		{Head: "status"},
		{Head: "attempt", Right: true, Drop: 2},
		{Head: "hash", Drop: hashDrop},
		{Head: "started", Drop: 3},
		{Head: "ended", Drop: 1}, // done, failed or interrupted: the status says which
		{Head: "error", Cut: 5, Min: 16},
	}}
	for _, r := range runs {
		msg := firstLine(r.Error)
		if why, ok := abandoned[r.ID]; ok {
			msg = why + " (a worker resumes it)"
		}
		t.Rows = append(t.Rows, []string{strconv.FormatInt(r.ID, 10), r.Name(), string(r.Status), strconv.Itoa(r.Attempt),
			shortHash(r.Hash), formatTime(r.Started), ended(r), orDash(msg)})
	}
	return t
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
		parts = append(parts, "variant="+experiments.FormatValue(v))
	}
	for _, k := range keys {
		name := k
		if s, ok := short[k]; ok {
			name = s
		}
		parts = append(parts, name+"="+experiments.FormatValue(m[k]))
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

// formatTime shows a time in the local zone to the second, "-" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// ended shows when a run ended (done, failed or interrupted) and how long
// its last attempt took.
func ended(r store.Run) string {
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
