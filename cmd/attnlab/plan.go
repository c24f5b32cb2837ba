package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/term"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/tasks"
)

func newPlanCmd() *cobra.Command {
	var sets []string
	var mem memoryFlag
	cmd := &cobra.Command{
		Use:   "plan EXPERIMENT.yaml",
		Short: "Validate an experiment and list the runs its sweep makes, without training",
		Long: `Validate an experiment file (and the bases it extends, and the --set overrides)
and list the runs it would make: one per sweep point and seed, with the
parameters that vary between runs as columns and each run's hash (its
identity in the run database). Nothing is trained and no database is touched:
the experiment is checked as a new one, so a setting refused since its runs
were stored is refused here, where run, submit and slurm resume them.

The data files of file tasks are read and checked (every bad line is
listed), their splits' and vocabularies' sizes shown (a pairs file's split as
the first seed draws it: each seed draws its own), and each run's training memory is estimated from its configuration
(weights, gradients, optimizer state and one step's activations; a rough
order of magnitude) and from its dataset (what building it took, measured):
a run estimated above --max-memory is refused, and a data file whose dataset
would need more is refused while it is being built.`,
		Example: "  attnlab plan examples/quickstart.yaml\n  attnlab plan exp.yaml --set seeds=[1,2,3] --set sweep.grid.model.embed=[32,64]",
		Args:    args(1, "EXPERIMENT.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			x, plan, est, err := loadPlan(cmd.Context(), args[0], sets, &mem)
			if err != nil {
				return err
			}
			writePlan(cmd, x, plan, est)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a key: --set model.embed=64 (YAML value; repeatable)")
	mem.register(cmd)
	return cmd
}

// writePlan prints the plan: a summary line, then one row per run.
func writePlan(cmd *cobra.Command, x *experiments.Experiment, plan []experiments.Run, est experiments.MemoryEstimate) {
	w, cols := cmd.OutOrStdout(), outputWidth(cmd)
	points := len(plan) / max(len(x.Seeds), 1)
	writeHangingIn(w, cols, "", fmt.Sprintf("experiment %s: %s = %s × %s", x.Name, plural(len(plan), "run"), plural(points, "point"), plural(len(x.Seeds), "seed")))
	// The largest run's estimate of what its model, optimizer, activations
	// and data hold: an order of magnitude, below the process's peak (the
	// runtime and the collector's headroom come on top).
	writeHangingIn(w, cols, "", fmt.Sprintf("estimated training memory of the largest run: about %s", est))
	writeDataSizes(w, cols, plan)
	if x.Description != "" {
		writeHangingIn(w, cols, "  ", x.Description)
	}
	keys := sweepKeys(plan)
	variants := false
	for _, r := range plan {
		if _, ok := r.Point["variant"]; ok {
			variants = true
		}
	}
	// The table fits the terminal: keys are headed by their short names as in
	// compare; the hash goes first when it is too wide, then the columns
	// continue in a block below, # and seed repeated.
	t := &term.Table{Columns: []term.Column{{Head: "#", Right: true, Key: true}, {Head: "seed", Right: true, Key: true}}}
	if variants {
		t.Columns = append(t.Columns, term.Column{Head: "variant"})
	}
	for _, k := range report.ShortKeys(keys) {
		t.Columns = append(t.Columns, term.Column{Head: k})
	}
	t.Columns = append(t.Columns, term.Column{Head: "hash", Drop: 1})
	for _, r := range plan {
		row := []string{strconv.Itoa(r.Index + 1), strconv.Itoa(r.Seed)}
		if variants {
			v, _ := r.Point["variant"].(string)
			row = append(row, orDash(v))
		}
		for _, k := range keys {
			row = append(row, pointValue(r, k))
		}
		t.Rows = append(t.Rows, append(row, shortHash(r.Hash)))
	}
	fmt.Fprintln(w)
	t.Render(w, outputWidth(cmd))
	if len(keys) == 0 && !variants {
		fmt.Fprintln(w, "\n(no sweep: every run has the same configuration but its seed)")
	}
}

// writeDataSizes writes a line per distinct dataset of a file task in the
// plan (a sweep over task keys may make several), wrapped to cols: its
// splits' sizes as the first seed draws them, and its vocabularies.
func writeDataSizes(w io.Writer, cols int, plan []experiments.Run) {
	var seen []tasks.DataSizes
	for _, r := range plan {
		if d := r.Config.DataSizes; d.Train > 0 && !slices.Contains(seen, d) {
			seen = append(seen, d)
		}
	}
	for _, d := range seen {
		label := "data"
		if len(seen) > 1 {
			i := slices.IndexFunc(plan, func(r experiments.Run) bool { return r.Config.DataSizes == d })
			label = "data of run " + strconv.Itoa(i+1)
		}
		what, split := "examples", ""
		if !d.LM && plan[0].Config.Task.Name == "pairs" && slices.ContainsFunc(plan, func(r experiments.Run) bool { return r.Seed != plan[0].Seed }) {
			split = fmt.Sprintf(" (as seed %d splits it)", plan[0].Seed)
		}
		vocab := fmt.Sprintf("vocabularies of %s source and %s target tokens", count(d.SrcVocab), count(d.TgtVocab))
		if d.LM {
			what, vocab = "windows", "a vocabulary of "+count(d.TgtVocab)+" tokens"
		}
		writeHangingIn(w, cols, "", fmt.Sprintf("%s: %s train, %s valid and %s test %s%s; %s, reserved ids included",
			label, count(d.Train), count(d.Valid), count(d.Test), what, split, vocab))
	}
}

// count writes n with thousands separated by commas: 12,345.
func count(n int) string { return term.Thousands(strconv.Itoa(n)) }

// pointValue is the value of key k in run r as compare shows it: the
// sweep point's, else the resolved configuration's (the file's or the
// default: false where another point sets true), "-" when r's
// configuration has no such key (its plugin has no such parameter).
func pointValue(r experiments.Run, k string) string {
	if v, ok := r.Point[k]; ok {
		return experiments.FormatValue(v)
	}
	if i, ok := slices.BinarySearchFunc(r.Params, k, func(p experiments.Param, k string) int { return strings.Compare(p.Key, k) }); ok {
		return experiments.FormatValue(r.Params[i].Value)
	}
	return "-"
}

// sweepKeys returns the keys the sweep sets (its points' keys but the
// variant name) whose values (pointValue) differ across the plan, sorted:
// the columns of the plan. Parameters that differ only because a point switched plugins
// (multi-head's own defaults) are not columns.
func sweepKeys(plan []experiments.Run) []string {
	seen := map[string]map[string]bool{}
	for _, r := range plan {
		for k := range r.Point {
			if k != "variant" && seen[k] == nil {
				seen[k] = map[string]bool{}
			}
		}
	}
	for _, r := range plan {
		for k := range seen {
			seen[k][pointValue(r, k)] = true
		}
	}
	var keys []string
	for k, vals := range seen {
		if len(vals) > 1 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// shortHash is the first 8 characters of a run hash: enough to name a run
// (attnlab show accepts any prefix of at least 4).
func shortHash(h string) string { return h[:min(len(h), 8)] }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural returns "1 run", "2 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// failedStay says that n failed runs of an experiment stay failed, and how
// to see why and to train them again (submit, run, slurm).
func failedStay(n int) string {
	if n == 1 {
		return "1 failed run stays failed: attnlab show RUN says why; --retry-failed queues it again"
	}
	return plural(n, "failed run") + " stay failed: attnlab show RUN says why; --retry-failed queues them again"
}

// joinNonEmpty joins the non-empty strings of parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// loadPlan loads the experiment file path with the --set overrides, plans
// its runs and refuses the plan when one of its runs is estimated to need
// more memory than mem allows (see [memoryFlag.check]). It returns the
// largest estimate.
func loadPlan(ctx context.Context, path string, sets []string, mem *memoryFlag) (*experiments.Experiment, []experiments.Run, experiments.MemoryEstimate, error) {
	x, err := loadExperiment(ctx, path, sets, mem)
	return planLoaded(ctx, x, err, path, mem)
}

// planLoaded is loadPlan from the experiment that loading path gave (x, or
// err). Once ctx is done (Ctrl-C), it stops and returns its error.
func planLoaded(ctx context.Context, x *experiments.Experiment, err error, path string, mem *memoryFlag) (*experiments.Experiment, []experiments.Run, experiments.MemoryEstimate, error) {
	if err != nil {
		return nil, nil, experiments.MemoryEstimate{}, err
	}
	plan, err := x.Plan()
	if err != nil {
		return nil, nil, experiments.MemoryEstimate{}, err
	}
	est, err := mem.check(ctx, path, plan)
	if err != nil {
		return nil, nil, experiments.MemoryEstimate{}, err
	}
	return x, plan, est, nil
}
