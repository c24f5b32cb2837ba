package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/internal/term"
	"github.com/attnlab/attnlab/progress"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

func newRunCmd() *cobra.Command {
	var (
		db          *string
		workers     int
		sets        []string
		quiet       bool
		retryFailed bool
		mem         memoryFlag
	)
	cmd := &cobra.Command{
		SuggestFor: []string{"train", "fit", "sweep", "launch"},
		Use:        "run EXPERIMENT.yaml",
		Short:      "Train and evaluate every run of an experiment, then compare them",
		Long: `Validate an experiment, record it and its runs (every sweep point × seed) in the
run database, train and evaluate each run with a pool of workers, and print the
comparison table of the experiment (mean ± std over seeds per sweep point; when
the sweep compares attention variants including none, p-values against none).

Running the same command again resumes: finished runs are skipped, interrupted
runs (Ctrl-C) and runs of a process that died continue from their last
checkpoint. Failed runs stay failed unless --retry-failed, which trains them
again from step 0. Every setting is part of a run's identity: after editing
one (an evaluation setting, the steps), a run starts from step 0 instead of
resuming the interrupted run of its sweep point and seed, and a note says so.

Each run's memory is estimated as plan does: a run above --max-memory is
refused, and no more runs are trained at once than fit in it together.

Progress goes to stderr: bars on a terminal (one that reports its size),
one line per evaluation otherwise, nothing with --quiet. The table goes to stdout.
A run that another attnlab process is training is waited for (a line says
which, and Ctrl-C stops waiting); if that process dies or stops sending
heartbeats, this one takes the run over and resumes it.

Exit status: 0 when every run is done (also when an interrupt came after the
last run finished), 1 when a run failed — also in an earlier attempt, or
stored done with a loss or perplexity of ±Inf by a build before 2026-12-06,
which counts as failed (a note names such runs and the attnlab rm line after
which a rerun trains them anew) — 2 for an invalid experiment or one whose largest run to train is
estimated above all that ulimit -v or -d leaves (a run that may not fit
gets a note instead, which --quiet does not hide), 3 for an
internal error (a bug: its report is written to a file that the error line
names), 130 when interrupted before every run was done.`,
		Example: "  attnlab run examples/quickstart.yaml\n  attnlab run exp.yaml --db lab.db --workers 4 --set train.steps=500",
		Args:    args(1, "EXPERIMENT.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers < 0 || workers > maxWorkers {
				return usagef("--workers %d: want 0 (one per CPU) to %d", workers, maxWorkers)
			}
			x, note, err := loadStoredExperiment(cmd.Context(), args[0], sets, &mem, *db, false)
			x, plan, est, err := planLoaded(cmd.Context(), x, err, args[0], &mem)
			if err != nil {
				return err
			}
			if note != "" && !quiet {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			if addressLimit != "" && (addressCheck(args[0], est) != nil || addressNote(est) != "") {
				// Only the runs this process may train count: an experiment
				// whose runs are all done prints its table.
				todo := trainEstimate(cmd.Context(), *db, x.Name, plan, est, retryFailed)
				if err := addressCheck(args[0], todo); err != nil {
					return err
				}
				// Not hidden by --quiet: the run may end in Go's fatal "out
				// of memory", and this line is the only word of why.
				if note := addressNote(todo); note != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), note)
				}
			}
			maxWorkers, err := mem.workers(est)
			if err != nil {
				return err
			}
			limit, what, _ := mem.limit() // checked by loadPlan
			if want := cmp.Or(workers, min(runtime.NumCPU(), len(plan))); maxWorkers > 0 && want > maxWorkers && !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "attnlab: note: at most %s at once, not %d: %s\n", plural(maxWorkers, "run"), want, mem.why(est))
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
			if !quiet {
				reportOutages(st, errw)
				if err := noteDiverged(ctx, errw, st, x, plan); err != nil {
					return err
				}
			}
			stopNotice := context.AfterFunc(ctx, func() {
				fmt.Fprintln(errw, "attnlab: interrupt: stopping the running runs, checkpointing those in training (interrupt again to quit at once)")
			})
			defer stopNotice()
			var (
				takenOver func(runs.Takeover)
				gaveUp    func(store.Run, string)
			)
			if !quiet {
				takenOver = func(to runs.Takeover) { writeTakeover(errw, to) }
				gaveUp = func(r store.Run, label string) { writeGaveUp(errw, r, label) }
			}
			rep, err := runs.Execute(ctx, st, x, runs.ExecOptions{
				Workers:    workers,
				MaxWorkers: maxWorkers,
				Memory:     tasks.MemoryLimit{Bytes: limit, Name: what},
				Version:    runVersion(),
				Reporter:   progressReporter(rawWriter(cmd.ErrOrStderr()), errw, quiet),
				Waiting: func(r store.Run, label, why string) {
					fmt.Fprintf(errw, "%s is running in another process (%s): waiting for it (Ctrl-C stops waiting)\n",
						runName(r, label), why)
				},
				TakenOver: takenOver,
				GaveUp:    gaveUp,
			})
			// No run is running now: an interrupt from here on (a reader of
			// the table gone) checkpoints nothing.
			stopNotice()
			if rep == nil { // nothing was run
				if ctx.Err() != nil {
					return errInterrupted
				}
				return err
			}
			if errors.Is(err, store.ErrDatabaseGone) {
				return goneError(st, err, rep)
			}
			if err != nil && ctx.Err() == nil {
				return err
			}
			// Failures first, then the table of what is done, then the
			// verdict: the exit code says what happened to every run.
			gone := func(id int64) bool {
				_, err := st.RunByID(context.WithoutCancel(ctx), id)
				return errors.Is(err, store.ErrNotFound)
			}
			verdict := runOutcomes(errw, rep, ctx.Err() != nil, gone)
			if errors.Is(verdict, errInterrupted) {
				return verdict
			}
			// The table is printed even if an interrupt came after the last
			// run ended: every run is done.
			diverged, err := writeRunTable(context.WithoutCancel(ctx), cmd.OutOrStdout(), errw, outputWidth(cmd), st, x, plan, rep, quiet, verdict != nil)
			if err != nil {
				return err
			}
			return withDiverged(verdict, diverged, len(rep.Outcomes))
		},
	}
	db = addDBFlag(cmd)
	f := cmd.Flags()
	f.IntVarP(&workers, "workers", "j", 0, "runs trained at once (0: one per CPU)")
	f.StringArrayVar(&sets, "set", nil, "override a key: --set train.steps=500 (YAML value; repeatable)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output; only the table and errors")
	f.BoolVar(&retryFailed, "retry-failed", false, "run the experiment's failed runs again, each from step 0")
	mem.register(cmd)
	return cmd
}

// noteDiverged writes a note for each interrupted run that this plan
// does not resume because a setting of its sweep point changed since (an
// evaluation setting, the steps): its run starts from step 0 instead,
// which nothing else would tell before the table's footnote.
func noteDiverged(ctx context.Context, w io.Writer, st *store.Store, x *experiments.Experiment, plan []experiments.Run) error {
	ds, err := runs.Diverged(ctx, st, x, plan)
	if err != nil {
		return err
	}
	const shown = 4
	for _, d := range ds {
		keys := d.Keys
		more := ""
		if len(keys) > shown {
			more = fmt.Sprintf(" and %d more", len(keys)-shown)
			keys = keys[:shown]
		}
		fmt.Fprintf(w, "attnlab: note: %s starts from step 0, not from interrupted run %d, whose settings differ: %s%s (restore them to resume run %d)\n",
			printable.Line(d.Old.Name()), d.Old.ID, printable.Line(strings.Join(keys, ", ")), more, d.Old.ID)
	}
	return nil
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

// progressReporter shows bars when stderr is a terminal that reports its
// size, log lines otherwise, and nothing when quiet.
func progressReporter(stderr io.Writer, locked io.Writer, quiet bool) runs.Reporter {
	if quiet {
		return nil
	}
	// A terminal of 0 × 0 (a pseudo-terminal no one sized, as script(1)
	// in the background makes) would show bars of no rows: log lines there.
	if f := fileOf(stderr); isTerminal(stderr) && term.Sized(f) {
		return progress.Bars(f)
	}
	return progress.Log(locked)
}

// retrySubmitted requeues the failed runs of a submission (submit and
// slurm --retry-failed) and reads its runs again, so that their statuses
// are the store's after it (another process may have requeued or claimed
// some meanwhile); it returns how many it requeued. sub.Runs is then in
// the store's order (by id), not the plan's.
func retrySubmitted(ctx context.Context, st *store.Store, name string, sub *runs.Submission) (int, error) {
	n, err := requeueFailed(ctx, st, name, sub.Plan)
	if err != nil {
		return n, err
	}
	ids := make([]int64, len(sub.Runs))
	for i, r := range sub.Runs {
		ids[i] = r.ID
	}
	fresh, err := st.Runs(ctx, store.RunFilter{IDs: ids})
	if err != nil {
		return n, err
	}
	sub.Runs = fresh
	return n, nil
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
	var ids []int64
	for _, r := range failed {
		if inPlan[r.Hash] {
			ids = append(ids, r.ID)
		}
	}
	return st.RequeueFailed(ctx, ids...) // those not claimed, requeued or removed since
}

// trainEstimate returns the largest estimate among the runs of plan that
// run may train: those not stored done in db, nor failed unless
// retryFailed (zero when there are none); all, the plan's largest, when db
// cannot be read (a new database: nothing is stored).
func trainEstimate(ctx context.Context, db, name string, plan []experiments.Run, all experiments.MemoryEstimate, retryFailed bool) experiments.MemoryEstimate {
	st, err := store.OpenReadOnly(db) // a refusal creates no database
	if err != nil {
		return all
	}
	defer st.Close()
	stored, err := st.Runs(ctx, store.RunFilter{Experiments: []string{name}})
	if err != nil {
		return all
	}
	finished := make(map[string]bool, len(stored))
	for _, r := range stored {
		finished[r.Hash] = r.Status == store.StatusDone || r.Status == store.StatusFailed && !retryFailed
	}
	var largest experiments.MemoryEstimate
	for _, r := range plan {
		if finished[r.Hash] {
			continue
		}
		if e := experiments.EstimateMemory(r.Config); e.Bytes > largest.Bytes {
			largest = e
		}
	}
	return largest
}

// withDiverged is run's verdict (runOutcomes') when diverged of its total
// runs, stored done by an old build with a ±Inf loss or perplexity, count
// as failed: they fail the run as a failed run does, exit status 1 (a note
// already gave the attnlab rm line). A bug's verdict stays as it is.
func withDiverged(verdict error, diverged, total int) error {
	if diverged == 0 || errors.As(verdict, new(*internalError)) {
		return verdict
	}
	what := fmt.Sprintf("stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed (attnlab rm, as the note says, lets a rerun train %s anew)",
		map[bool]string{true: "it", false: "them"}[diverged == 1])
	if verdict == nil {
		return fmt.Errorf("%d of %s %s", diverged, plural(total, "run"), what)
	}
	return fmt.Errorf("%w; %d more %s", verdict, diverged, what)
}

// writeRunTable prints the comparison of the plan's done runs (also those
// that another process trained), and returns how many of them diverged
// (stored done with a ±Inf loss or perplexity by an old build: counted as
// failed, and a note says so).
// failed says that a line already explained why runs are not done.
func writeRunTable(ctx context.Context, out, errw io.Writer, width int, st *store.Store, x *experiments.Experiment,
	plan []experiments.Run, rep *runs.Report, quiet, failed bool) (int, error) {
	all, err := st.Runs(ctx, store.RunFilter{Experiments: []string{x.Name}, Status: store.StatusDone})
	if err != nil {
		return 0, err
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
		if !failed {
			fmt.Fprintln(errw, "no run is done: nothing to compare")
		}
		return 0, nil
	}
	q := report.Query{Experiments: []string{x.Name}}
	// Runs of earlier versions of the experiment file share its name; the
	// table shows this plan's runs only.
	if others := len(all) - done; others > 0 {
		for _, o := range rep.Outcomes {
			q.IDs = append(q.IDs, o.Run.ID)
		}
		if !quiet {
			// --db and all: pasted, it compares the runs of this database.
			arg, note := st.CommandDB()
			fmt.Fprintf(errw, "(%s of earlier versions of %s not shown: attnlab compare%s %s shows them%s)\n",
				plural(others, "done run"), x.Name, arg, shell.Quote(x.Name), noteSuffix(note))
		}
	}
	q.Baseline = autoBaseline(plan)
	cmp, err := report.Compare(ctx, st, q)
	if err != nil && q.Baseline != "" {
		// The baseline's runs may all have failed: compare without it, and
		// say so (the table's notes list the failed runs).
		baseline := q.Baseline
		q.Baseline = ""
		if cmp, err = report.Compare(ctx, st, q); err == nil {
			for _, f := range cmp.FailedElsewhere {
				if strings.Contains(" "+f.Label+" ", " attention.name=none ") {
					fmt.Fprintf(errw, "(no tests against %s: none of its runs finished)\n", baseline)
					break
				}
			}
		}
	}
	// Its done runs all diverged (stored by a build before runs failed
	// such a run): compare counts them as failed. One line says which
	// and how to train them again, --db and all.
	if div := (*report.DivergedError)(nil); errors.As(err, &div) {
		arg, note := st.CommandDB()
		fmt.Fprintln(errw, "nothing to compare: "+printable.Line(div.Say(arg))+noteSuffix(note))
		return len(div.Runs), nil
	}
	if err != nil {
		return 0, err
	}
	if err := cmp.WriteWidth(out, "table", width); err != nil {
		return 0, err
	}
	writeRunNames(out, width, rep, cmp.Diverged, func(ref string) (store.Run, error) { return st.ResolveRun(ctx, ref) })
	noteDivergedRuns(errw, st, cmp.Diverged)
	return len(cmp.Diverged), nil
}

// writeRunNames lists the names of the plan's done runs (store.Run.Name)
// but those of diverged (stored done with a ±Inf loss or perplexity by an
// old build: compare counts them as failed, and a note names them with
// the attnlab rm line), so that they can be given wherever a RUN is asked for, within cols
// columns: the runs of one sweep point on one line when every point's
// line fits; otherwise, when every point has the same seeds, one line per
// point with the first seed's name and a heading that says how to name the
// others; otherwise one name per line. A name is never split. A name that
// resolve does not take to its run (runs of an earlier version of the
// experiment have it too) is given as EXPERIMENT/HASH instead, on a line
// of its own.
func writeRunNames(w io.Writer, cols int, rep *runs.Report, diverged []store.Run, resolve func(string) (store.Run, error)) {
	const maxPoints = 10
	type point struct {
		names []string
		seeds []int64
	}
	var points []*point
	byPrefix := map[string]*point{}
	for _, o := range rep.Outcomes {
		if o.Run.Status != store.StatusDone || slices.ContainsFunc(diverged, func(r store.Run) bool { return r.ID == o.Run.ID }) {
			continue
		}
		n := o.Run.Name()
		if r, err := resolve(n); err != nil || r.ID != o.Run.ID {
			n = uniqueRef(o.Run, resolve)
		}
		prefix := n // EXPERIMENT/HASH or an id: a point of its own
		if strings.HasSuffix(n, fmt.Sprintf("/seed=%d", o.Run.Seed)) {
			prefix = n[:strings.LastIndex(n, "/")]
		}
		p := byPrefix[prefix]
		if p == nil {
			p = &point{}
			byPrefix[prefix] = p
			points = append(points, p)
		}
		p.names = append(p.names, n)
		p.seeds = append(p.seeds, o.Run.Seed)
	}
	if len(points) == 0 {
		return
	}
	more := len(points) - maxPoints
	points = points[:min(len(points), maxPoints)]
	fits, sameSeeds := true, true
	for _, p := range points {
		fits = fits && width("  "+strings.Join(p.names, "  ")) <= cols
		sameSeeds = sameSeeds && slices.Equal(p.seeds, points[0].seeds)
	}
	head := "runs by name (attnlab show, generate and plot attention take them)"
	var lines []string
	switch {
	case fits:
		for _, p := range points {
			lines = append(lines, strings.Join(p.names, "  "))
		}
	case sameSeeds && len(points[0].seeds) > 1:
		seeds := points[0].seeds
		others := make([]string, len(seeds)-1)
		for i, s := range seeds[1:] {
			others[i] = fmt.Sprintf("seed=%d", s)
		}
		or := others[len(others)-1]
		if len(others) > 1 {
			or = strings.Join(others[:len(others)-1], ", ") + " or " + or
		}
		head = fmt.Sprintf("runs by name (attnlab show, generate and plot attention take them; for the other seeds write %s in place of seed=%d)",
			or, seeds[0])
		for _, p := range points {
			lines = append(lines, p.names[0])
		}
	default:
		for _, p := range points {
			lines = append(lines, p.names...)
		}
	}
	fmt.Fprintln(w)
	for _, l := range wrap(head+":", cols) {
		fmt.Fprintln(w, l)
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	if more > 0 {
		fmt.Fprintf(w, "  … and %d more sweep points\n", more)
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

// uniqueRef is the shortest EXPERIMENT/HASH (8 characters at least) that
// resolve takes to r; its id when none does.
func uniqueRef(r store.Run, resolve func(string) (store.Run, error)) string {
	for n := 8; n <= len(r.Hash); n += 4 {
		ref := r.Experiment + "/" + r.Hash[:n]
		if got, err := resolve(ref); err == nil && got.ID == r.ID {
			return ref
		}
	}
	return strconv.FormatInt(r.ID, 10)
}

// runName names a run for a note by the name that show and generate take,
// and its id: "quickstart/dot/seed=1 (run 3)"; by id, seed and sweep point
// when the run carries no experiment name.
func runName(r store.Run, label string) string {
	if r.Experiment != "" {
		return fmt.Sprintf("%s (run %d)", printable.Line(r.Name()), r.ID)
	}
	return fmt.Sprintf("run %d (%s)", r.ID, joinNonEmpty(" ", fmt.Sprintf("seed %d", r.Seed), label))
}

// runOutcomes writes a line per run that failed or is not done, and returns
// what the exit code must say: an *internalError when a run hit a bug (its
// stack goes to a crash report, never to the terminal or the database),
// errInterrupted when runs are not done because of an interrupt, an error
// when runs failed or are not done for another reason, nil when every run
// is done. gone (may be nil) tells a run that is no longer in the database
// (removed by attnlab rm while this process waited for it).
func runOutcomes(w io.Writer, rep *runs.Report, interrupted bool, gone func(id int64) bool) error {
	var failed, bugs, notDone int
	var bugNote string
	for _, o := range rep.Outcomes {
		name := runName(o.Run, o.Label)
		var bug *runs.Bug
		switch {
		case errors.As(o.Err, &bug):
			bugs++
			note := crashNote(bug.Value, bug.Stack)
			if bugNote == "" {
				bugNote = note
			}
			fmt.Fprintf(w, "%s failed: %s (%s)\n", name, bug.Error(), note)
		case errors.Is(o.Err, runs.ErrRemoved):
			notDone++
			fmt.Fprintf(w, "%s not done: removed from the database meanwhile (attnlab rm)\n", name)
		case o.Status == store.StatusFailed:
			failed++
			msg := o.Run.Error
			if o.Err != nil {
				msg = o.Err.Error()
			}
			when := ""
			switch {
			case strings.HasPrefix(o.Note, "skipped"):
				when = " (in an earlier attempt)"
			case o.Note != "":
				when = " (in another process)"
			}
			fmt.Fprintf(w, "%s failed%s: %s\n", name, when, firstLine(msg))
		case o.Status == store.StatusDone:
		case interrupted && (o.Status == store.StatusInterrupted || o.Note == ""):
			notDone++ // the interrupt line says it
		case o.Err != nil:
			notDone++
			fmt.Fprintf(w, "%s: %s\n", name, progress.Outcome(o.Status, o.Err))
		default:
			notDone++
			why := o.Note
			switch {
			case gone != nil && gone(o.Run.ID):
				why = "removed from the database meanwhile (attnlab rm)"
			case why == "":
				why = "status " + string(o.Status)
			}
			fmt.Fprintf(w, "%s not done: %s\n", name, why)
		}
	}
	all := plural(len(rep.Outcomes), "run")
	switch {
	case bugs > 0:
		return &internalError{fmt.Errorf("internal error in %d of %s (a bug in attnlab: %s)", bugs, all, bugNote)}
	case notDone > 0 && interrupted:
		return errInterrupted
	case failed > 0:
		return fmt.Errorf("%d of %s failed (attnlab show RUN says why; --retry-failed runs %s again)", failed, all, map[bool]string{true: "it", false: "them"}[failed == 1])
	case notDone > 0:
		return fmt.Errorf("%d of %s not done", notDone, all)
	}
	return nil
}

// goneError is run's one line when the database file was deleted or
// replaced while it trained (err wraps store.ErrDatabaseGone): the store's
// sentence naming the file, and what became of the plan's runs, counted —
// the progress output named none of those it did not run.
func goneError(st *store.Store, err error, rep *runs.Report) error {
	if g := st.Gone(); g != nil {
		err = g // without the write that noticed it, often another run's
	}
	var done, stopped, notRun int
	for _, o := range rep.Outcomes {
		switch {
		case o.Status == store.StatusDone:
			done++
		case o.Note == runs.NotRunGone:
			notRun++
		default:
			stopped++
		}
	}
	parts := []string{fmt.Sprintf("%d of %s done", done, plural(len(rep.Outcomes), "run"))}
	if stopped > 0 {
		parts = append(parts, fmt.Sprintf("%d stopped", stopped))
	}
	if notRun > 0 {
		parts = append(parts, fmt.Sprintf("%d not run", notRun))
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(parts, ", "))
}

// maxWorkers bounds --workers: each worker holds a run's model and a
// database connection, and thousands of them contend for the database
// until runs fail with "database is locked".
const maxWorkers = 1024
