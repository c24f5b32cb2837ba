package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

func newRunCmd() *cobra.Command {
	var (
		db          *string
		workers     int
		sets        []string
		quiet       bool
		retryFailed bool
	)
	cmd := &cobra.Command{
		Use:   "run EXPERIMENT.yaml",
		Short: "Train and evaluate every run of an experiment, then compare them",
		Long: `Validate an experiment, record it and its runs (every sweep point × seed) in the
run database, train and evaluate each run with a pool of workers, and print the
comparison table of the experiment (mean ± std over seeds per sweep point; when
the sweep compares attention variants including none, p-values against none).

Running the same command again resumes: finished runs are skipped, interrupted
runs (Ctrl-C) and runs of a process that died continue from their last
checkpoint. Failed runs stay failed unless --retry-failed.

Progress goes to stderr: bars on a terminal, one line per evaluation
otherwise, nothing with --quiet. The table goes to stdout.
Exit status: 0 when every run is done, 1 when a run failed, 2 for an invalid
experiment, 130 when interrupted.`,
		Example: "  attnlab run examples/quickstart.yaml\n  attnlab run exp.yaml --db lab.db --workers 4 --set train.steps=500",
		Args:    args(1, "EXPERIMENT.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers < 0 {
				return usagef("--workers %d: want 0 (one per CPU) or more", workers)
			}
			x, err := experiments.Load(args[0], sets)
			if err != nil {
				return err
			}
			plan, err := x.Plan()
			if err != nil {
				return err
			}
			st, err := store.Open(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			errw := &lockedWriter{w: cmd.ErrOrStderr()}
			if retryFailed {
				n, err := requeueFailed(ctx, st, x.Name, plan)
				if err != nil {
					return err
				}
				if n > 0 && !quiet {
					fmt.Fprintf(errw, "requeued %s\n", plural(n, "failed run"))
				}
			}
			stopNotice := context.AfterFunc(ctx, func() {
				fmt.Fprintln(errw, "attnlab: interrupt: checkpointing the running runs (interrupt again to quit at once)")
			})
			defer stopNotice()
			rep, err := runs.Execute(ctx, st, x, runs.ExecOptions{
				Workers:  workers,
				Version:  version,
				Reporter: progressReporter(rawWriter(cmd.ErrOrStderr()), errw, quiet),
			})
			if ctx.Err() != nil {
				return errInterrupted
			}
			if err != nil {
				return err
			}
			if err := writeRunTable(ctx, cmd.OutOrStdout(), errw, outputWidth(cmd), st, x, plan, rep, quiet); err != nil {
				return err
			}
			return runOutcomes(errw, rep)
		},
	}
	db = addDBFlag(cmd)
	f := cmd.Flags()
	f.IntVarP(&workers, "workers", "j", 0, "runs trained at once (0: one per CPU)")
	f.StringArrayVar(&sets, "set", nil, "override a key: --set train.steps=500 (YAML value; repeatable)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output; only the table and errors")
	f.BoolVar(&retryFailed, "retry-failed", false, "run the experiment's failed runs again")
	return cmd
}

// lockedWriter serialises writes from the progress reporter's goroutines
// and the command's own notes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// progressReporter shows bars when stderr is a terminal, log lines when it
// is not, and nothing when quiet.
func progressReporter(stderr io.Writer, locked io.Writer, quiet bool) runs.Reporter {
	if quiet {
		return nil
	}
	if f, ok := stderr.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return runs.NewBarReporter(f)
	}
	return runs.NewLogReporter(locked)
}

// requeueFailed puts the failed runs of the plan back in the queue and
// returns how many there were.
func requeueFailed(ctx context.Context, st *store.Store, name string, plan []experiments.Run) (int, error) {
	failed, err := st.Runs(ctx, store.RunFilter{Experiments: []string{name}, Status: store.StatusFailed})
	if errors.Is(err, store.ErrNotFound) { // a new experiment
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	inPlan := map[string]bool{}
	for _, r := range plan {
		inPlan[r.Hash] = true
	}
	n := 0
	for _, r := range failed {
		if !inPlan[r.Hash] {
			continue
		}
		if err := st.Requeue(ctx, r.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// writeRunTable prints the comparison of the plan's done runs (also those
// that another process trained).
func writeRunTable(ctx context.Context, out, errw io.Writer, width int, st *store.Store, x *experiments.Experiment,
	plan []experiments.Run, rep *runs.Report, quiet bool) error {
	all, err := st.Runs(ctx, store.RunFilter{Experiments: []string{x.Name}, Status: store.StatusDone})
	if err != nil {
		return err
	}
	inPlan := make(map[int64]bool, len(rep.Outcomes))
	for _, o := range rep.Outcomes {
		inPlan[o.Run.ID] = true
	}
	done := 0
	for _, r := range all {
		if inPlan[r.ID] {
			done++
		}
	}
	if done == 0 {
		fmt.Fprintln(errw, "no run is done: nothing to compare")
		return nil
	}
	q := report.Query{Experiments: []string{x.Name}}
	// Runs of earlier versions of the experiment file share its name; the
	// table shows this plan's runs only.
	if others := len(all) - done; others > 0 {
		for _, o := range rep.Outcomes {
			q.IDs = append(q.IDs, o.Run.ID)
		}
		if !quiet {
			fmt.Fprintf(errw, "(%s of earlier versions of %s not shown: attnlab compare %s shows them)\n",
				plural(others, "done run"), x.Name, x.Name)
		}
	}
	q.Baseline = autoBaseline(plan)
	cmp, err := report.Compare(ctx, st, q)
	if err != nil && q.Baseline != "" {
		// The baseline's runs may all have failed: compare without it.
		q.Baseline = ""
		cmp, err = report.Compare(ctx, st, q)
	}
	if err != nil {
		return err
	}
	if err := cmp.WriteWidth(out, "table", width); err != nil {
		return err
	}
	writeRunNames(out, rep)
	return nil
}

// writeRunNames lists the names of the plan's done runs (store.Run.Name),
// one line per sweep point, so that they can be given wherever a RUN is
// asked for.
func writeRunNames(w io.Writer, rep *runs.Report) {
	const maxPoints = 10
	var points []string
	names := map[string][]string{}
	for _, o := range rep.Outcomes {
		if o.Run.Status != store.StatusDone {
			continue
		}
		n := o.Run.Name()
		p := n[:strings.LastIndex(n, "/")]
		if names[p] == nil {
			points = append(points, p)
		}
		names[p] = append(names[p], n)
	}
	if len(points) == 0 {
		return
	}
	fmt.Fprintln(w, "runs by name (attnlab show, generate and plot attention take them):")
	for i, p := range points {
		if i == maxPoints {
			fmt.Fprintf(w, "  … and %d more sweep points\n", len(points)-maxPoints)
			break
		}
		fmt.Fprintf(w, "  %s\n", strings.Join(names[p], "  "))
	}
}

// autoBaseline returns "model.attention.name=none" when the plan compares
// attention variants and exactly one sweep point has none; "" otherwise.
func autoBaseline(plan []experiments.Run) string {
	const key = "model.attention.name"
	varies := false
	for _, k := range experiments.VaryingKeys(plan) {
		if k == key {
			varies = true
		}
	}
	if !varies {
		return ""
	}
	points := map[string]bool{}
	for _, r := range plan {
		for _, p := range r.Params {
			if p.Key == key && p.Value == "none" {
				points[r.Label] = true
			}
		}
	}
	if len(points) != 1 {
		return ""
	}
	return key + "=none"
}

// runOutcomes writes a note per run that failed or did not run, and
// returns an error when a run failed.
func runOutcomes(w io.Writer, rep *runs.Report) error {
	failed := 0
	for _, o := range rep.Outcomes {
		name := fmt.Sprintf("run %d (%s)", o.Run.ID, joinNonEmpty(" ", fmt.Sprintf("seed %d", o.Run.Seed), o.Label))
		switch {
		case o.Status == store.StatusFailed:
			failed++
			msg := o.Run.Error
			if o.Err != nil {
				msg = o.Err.Error()
			}
			when := ""
			if o.Note != "" {
				when = " (in an earlier attempt)"
			}
			fmt.Fprintf(w, "%s failed%s: %s\n", name, when, firstLine(msg))
		case o.Err != nil:
			fmt.Fprintf(w, "%s: %s: %s\n", name, o.Status, firstLine(o.Err.Error()))
		case o.Status != store.StatusDone && o.Note != "":
			fmt.Fprintf(w, "%s not run: %s\n", name, o.Note)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %s failed (attnlab show RUN says why; --retry-failed runs them again)", failed, plural(len(rep.Outcomes), "run"))
	}
	return nil
}
