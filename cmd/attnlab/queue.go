package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/progress"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
)

func newSubmitCmd() *cobra.Command {
	var (
		db          *string
		sets        []string
		retryFailed bool
	)
	cmd := &cobra.Command{
		Use:   "submit EXPERIMENT.yaml",
		Short: "Record an experiment's runs in the queue, for workers to train",
		Long: `Validate an experiment and record it and its runs (every sweep point × seed) in
the run database as queued, without training anything. Workers anywhere that
reach the same database take them: attnlab worker, attnlab slurm, or a
Kubernetes Job (see deploy/). Runs the database already has keep their state:
submitting again after editing the file queues only the new runs, and failed
runs stay failed unless --retry-failed, which queues them again (each trains
from step 0, as attnlab run --retry-failed).

With a PostgreSQL --db (postgres://user@host/db) many machines share one queue.`,
		Example: "  attnlab submit exp.yaml --db postgres://lab@db.example/attnlab\n  attnlab worker --db postgres://lab@db.example/attnlab --experiment NAME",
		Args:    args(1, "EXPERIMENT.yaml"),
		RunE: func(cmd *cobra.Command, args []string) error {
			x, note, err := loadStoredExperiment(cmd.Context(), args[0], sets, &memoryFlag{}, *db, false) // the dataset within this machine's memory
			if err != nil {
				return err
			}
			if note != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), note)
			}
			st, err := store.Open(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			before := map[string]store.Status{}
			if old, err := st.Runs(cmd.Context(), store.RunFilter{Experiments: []string{x.Name}}); err == nil {
				for _, r := range old {
					before[r.Hash] = r.Status
				}
			}
			sub, err := runs.Submit(cmd.Context(), st, x)
			if err != nil {
				return err
			}
			requeued := 0
			if retryFailed {
				if requeued, err = retrySubmitted(cmd.Context(), st, x.Name, sub); err != nil {
					return err
				}
			}
			added := 0
			counts := map[store.Status]int{}
			for _, r := range sub.Runs {
				if _, ok := before[r.Hash]; !ok {
					added++
				}
				counts[r.Status]++
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "submitted %s to %s: %d new", plural(len(sub.Runs), "run")+" of "+x.Name, st.Path(), added)
			if requeued > 0 {
				fmt.Fprintf(w, ", %d failed requeued", requeued)
			}
			for _, s := range store.Statuses {
				if n := counts[s]; n > 0 && s != store.StatusQueued {
					fmt.Fprintf(w, ", %d %s", n, s)
				}
			}
			fmt.Fprintf(w, ", %d queued\n", counts[store.StatusQueued])
			if n := counts[store.StatusFailed]; n > 0 {
				fmt.Fprintln(w, failedStay(n))
			}
			writeTooBig(w, sub.Runs)
			arg, note := store.CommandDB(*db)
			// Its workers may run on other machines, in other directories,
			// without this shell's $ATTNLAB_DB: the command names the
			// database whole, as the dashboard's pages do.
			train, trainNote := store.SharedWorkerCommand(*db, x.Name)
			// Running runs count: one whose worker died is taken over.
			switch waiting := counts[store.StatusQueued] + counts[store.StatusInterrupted]; {
			case waiting+counts[store.StatusRunning] == 0:
				fmt.Fprintln(w, "nothing to train: no run of it is queued, interrupted or running")
			case waiting == 0 && !anyAbandoned(cmd.Context(), st, sub.Runs):
				fmt.Fprintf(w, "nothing to start: %s\n", allTraining(counts[store.StatusRunning]))
			default:
				fmt.Fprintf(w, "train them:    %s\n", train)
				if trainNote != "" && trainNote != note {
					fmt.Fprintf(w, "               (%s)\n", trainNote)
				}
			}
			fmt.Fprintf(w, "watch them:    attnlab ls runs%s --experiment %s\n", arg, shell.Quote(x.Name))
			if note != "" {
				fmt.Fprintf(w, "               (%s)\n", note)
			}
			return nil
		},
	}
	db = addDBFlag(cmd)
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override a key: --set train.steps=500 (YAML value; repeatable)")
	cmd.Flags().BoolVar(&retryFailed, "retry-failed", false, "queue the experiment's failed runs again, each to train from step 0")
	return cmd
}

// workerOptions are the flags of attnlab worker that attnlab slurm passes on.
type workerOptions struct {
	experiments []string
	maxRuns     int
	idleExit    time.Duration
	workers     int
	threads     int
	mem         memoryFlag
}

func (o *workerOptions) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&o.experiments, "experiment", nil, "take only runs of this experiment (repeatable; default: any)")
	f.IntVar(&o.maxRuns, "max-runs", 0, "stop after taking this many runs (0: no limit)")
	f.DurationVar(&o.idleExit, "idle-exit", 0, "stop after finding nothing to take for this long (0: stop when no run is left queued, interrupted or running)")
	f.IntVarP(&o.workers, "workers", "j", 1, "runs trained at once in this process")
	f.IntVar(&o.threads, "threads", 0, "intra-op threads of each run (0: this process's CPUs divided among --workers; results do not depend on it)")
	f.StringVar(&o.mem.value, "max-memory", "", "train at once only runs whose estimated memory fits in this size together, such as 8GiB (a run estimated above it alone, or whose dataset turns out to take more, goes back to the queue for a worker with more); also the process's soft memory limit (default: 80% of physical memory, or of the cgroup memory limit when lower: Slurm's --mem, a container's limit)")
}

func (o *workerOptions) check() error {
	switch {
	case o.maxRuns < 0:
		return usagef("--max-runs %d: want 0 (no limit) or more", o.maxRuns)
	case o.idleExit < 0:
		return usagef("--idle-exit %s: want 0 or more", o.idleExit)
	case o.workers < 1 || o.workers > maxWorkers:
		return usagef("--workers %d: want 1 to %d", o.workers, maxWorkers)
	case o.threads < 0 || o.threads > 1024:
		return usagef("--threads %d: want 0 (the CPUs divided among --workers) to 1024", o.threads)
	}
	_, _, err := o.mem.limit()
	return err
}

func newWorkerCmd() *cobra.Command {
	var (
		db    *string
		wo    workerOptions
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Train queued runs from the run database until none is left",
		Long: `Take queued runs from the run database one at a time (the lowest id first),
train and evaluate each with checkpoints, and go on until no run is left
queued, interrupted or running (a running run comes back to the queue if its
worker dies), or --max-runs were taken, or nothing was found for --idle-exit.

Any number of workers on any number of machines may share one database
(PostgreSQL: --db postgres://…; a SQLite file only on one machine). A run whose
worker died is taken over: at once on the same machine, after its heartbeat
is a minute old (by the database's clock) elsewhere; it resumes from its last
checkpoint. After train.max_attempts such losses a run is failed. While it
has nothing to take but runs that others hold, a line says which (and how old
their heartbeats are).

SIGTERM or Ctrl-C (Slurm's time limit, preemption): the worker checkpoints
its runs, hands them back to the queue and exits 0 within seconds; another
worker resumes them. Exit status: 0 when the worker stopped as asked, 1 when
the database failed, 2 for a bad flag or an --experiment the database does
not hold without --idle-exit, which waits for it to be submitted (a failed
run is recorded, not an exit status).`,
		Example: "  attnlab worker --db postgres://lab@db.example/attnlab --experiment attention-on-scan\n  attnlab worker --db lab.db --max-runs 10 --idle-exit 60s",
		Args:    args(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := wo.check(); err != nil {
				return err
			}
			st, err := openStore(*db)
			if err != nil {
				return err
			}
			defer st.Close()
			if st.ReadOnly() {
				return fmt.Errorf("%s is read-only here: a worker must write its results", st.Path())
			}
			ctx := cmd.Context()
			errw := &lockedWriter{w: cmd.ErrOrStderr()}
			if len(wo.experiments) > 0 {
				if err := checkExperiments(ctx, st, wo.experiments...); err != nil {
					var missing *usageError // an experiment the database lacks
					if wo.idleExit == 0 || !errors.As(err, &missing) {
						return err
					}
					// A worker started before its experiment is submitted
					// (or synced) waits for it as for any run.
					if !quiet {
						fmt.Fprintf(errw, "attnlab: note: %s; waiting up to --idle-exit %s for its runs\n", printable.WithoutPackage(err.Error()), wo.idleExit)
					}
				}
			}
			var rep runs.Reporter
			owner := store.CurrentOwner(runVersion())
			if !quiet {
				// Else a worker said nothing through an outage until its
				// writes gave up, minutes later.
				reportOutages(st, errw)
				fmt.Fprintf(errw, "%s worker %s on %s\n", time.Now().Format("15:04:05"), owner, st.Path())
				// One line per run start, evaluation and end; "n done by
				// this worker" counts its own runs: those waiting now are
				// not all it takes (runs submitted later, runs handed
				// back) nor all its own (other workers take some).
				counts, err := st.Queue(ctx, store.QueueFilter{Experiments: wo.experiments})
				if err != nil {
					return err
				}
				fmt.Fprintf(errw, "%s queue: %d queued or interrupted, %d running\n", time.Now().Format("15:04:05"),
					counts[store.StatusQueued]+counts[store.StatusInterrupted], counts[store.StatusRunning])
				rep = progress.Log(errw)
				rep.Start(runs.Unplanned, 0, 0)
			}
			stopNotice := context.AfterFunc(ctx, func() {
				fmt.Fprintln(errw, "attnlab worker: stopping: checkpointing and handing back the running runs")
			})
			defer stopNotice()
			limit, what, err := wo.mem.limit()
			if err != nil {
				return err
			}
			wo.mem.softLimit()
			var (
				onWait     func([]store.Run)
				onTakeover func(runs.Takeover)
				onGaveUp   func(store.Run, string)
			)
			if !quiet {
				// Else a worker waiting for runs that others train (or
				// for a dead worker's heartbeat to go stale) said nothing
				// for a minute or more, as if it hung.
				onWait = func(held []store.Run) { writeWaiting(errw, st, held) }
				// Else a takeover read as an ordinary resume, and a run
				// given up on failed without a word.
				onTakeover = func(to runs.Takeover) { writeTakeover(errw, to) }
				onGaveUp = func(r store.Run, label string) { writeGaveUp(errw, r, label) }
				if gr, ok := rep.(runs.GaveUpReporter); ok {
					// The log counts it failed on the next run's line, as
					// run's does (runs.Execute tells its reporter); a
					// worker has no plan, so no steps to take out of an
					// ETA.
					onGaveUp = func(r store.Run, label string) {
						gr.GaveUp(r, 0)
						writeGaveUp(errw, r, label)
					}
				}
			}
			wr, err := runs.Work(ctx, st, runs.WorkOptions{
				Memory:     tasks.MemoryLimit{Bytes: limit, Name: what},
				Filter:     store.QueueFilter{Experiments: wo.experiments},
				Workers:    wo.workers,
				Threads:    wo.threads,
				MaxRuns:    wo.maxRuns,
				IdleExit:   wo.idleExit,
				Version:    runVersion(),
				Owner:      owner,
				Reporter:   rep,
				OnWait:     onWait,
				OnTakeover: onTakeover,
				OnGaveUp:   onGaveUp,
			})
			if !quiet {
				writeWorkSummary(errw, wr)
			}
			if err != nil && ctx.Err() == nil {
				return workError(st, err)
			}
			return nil // stopped as asked (signals included): the runs are handed back
		},
	}
	db = addDBFlag(cmd)
	wo.add(cmd)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// allTraining says that n running runs, all of an experiment's unfinished
// ones, train on live workers.
func allTraining(n int) string {
	if n == 1 {
		return "its running run is training on a live worker"
	}
	return fmt.Sprintf("its %d running runs are training on live workers", n)
}

// anyAbandoned says whether a running run of rs seems to have lost its
// worker (store.Abandoned), so that a worker would take it over; when that
// cannot be read, it says yes.
func anyAbandoned(ctx context.Context, st *store.Store, rs []store.Run) bool {
	gone, err := st.Abandoned(ctx, rs)
	return err != nil || len(gone) > 0
}

// writeTooBig says how many of runs workers handed back as too big for
// their --max-memory (runs.TooBigError): only a worker with more takes
// them.
func writeTooBig(w io.Writer, rs []store.Run) {
	n := 0
	for _, r := range rs {
		if r.Status == store.StatusInterrupted && strings.HasPrefix(r.Error, runs.TooBigPrefix) {
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(w, "%s handed back by workers without the memory for %s: only a worker with a larger --max-memory takes %s (attnlab show RUN says what it needs)\n",
			plural(n, "run"), map[bool]string{true: "it", false: "them"}[n == 1], map[bool]string{true: "it", false: "them"}[n == 1])
	}
}

// workError is the error that ends a worker. When its database file was
// deleted or replaced, it is the store's word for that, without the write
// that noticed it ("write metrics of run 3: ..."), as run says it
// (goneError).
func workError(st *store.Store, err error) error {
	if g := st.Gone(); g != nil && errors.Is(err, store.ErrDatabaseGone) {
		return g
	}
	return err
}

// writeWorkSummary writes one line: what the worker did.
func writeWorkSummary(w io.Writer, wr *runs.WorkReport) {
	if wr == nil {
		return
	}
	counts := map[store.Status]int{}
	left, lost, gone, big, removed := 0, 0, 0, 0, 0
	for _, o := range wr.Outcomes {
		// None of these runs' status is how this worker ended it: a left
		// run is still running in the database, a lost one is the new
		// owner's, and one whose database file went away is recorded
		// nowhere (the error that ends the worker says so).
		var le *runs.LeftError
		var tb *runs.TooBigError
		switch {
		case errors.As(o.Err, &le):
			left++
		case errors.Is(o.Err, runs.ErrTakenOver):
			lost++
		case errors.Is(o.Err, runs.ErrRemoved):
			removed++
		case errors.Is(o.Err, store.ErrDatabaseGone):
			gone++
		case errors.As(o.Err, &tb):
			big++
		default:
			counts[o.Status]++
		}
	}
	var parts []string
	for _, s := range store.Statuses {
		if n := counts[s]; n > 0 {
			what := string(s)
			if s == store.StatusInterrupted {
				what = "handed back"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	if lost > 0 {
		parts = append(parts, fmt.Sprintf("%d taken over by another worker", lost))
	}
	if removed > 0 {
		parts = append(parts, fmt.Sprintf("%d removed from the database while training (attnlab rm), not failed", removed))
	}
	if left > 0 {
		parts = append(parts, fmt.Sprintf("%d left for another worker to take over (the database was unreachable)", left))
	}
	if gone > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted, not failed (the database file was deleted or replaced)", gone))
	}
	if big > 0 {
		parts = append(parts, fmt.Sprintf("%d handed back for a worker with more memory (above --max-memory)", big))
	}
	if n := len(wr.GaveUp); n > 0 {
		parts = append(parts, fmt.Sprintf("%d failed untrained after too many lost attempts (max_attempts)", n))
	}
	if len(parts) == 0 {
		parts = []string{"no run taken"}
	}
	fmt.Fprintf(w, "%s worker done: %s\n", time.Now().Format("15:04:05"), strings.Join(parts, ", "))
	for _, o := range wr.Outcomes {
		if o.Status == store.StatusFailed && o.Err != nil {
			fmt.Fprintf(w, "run %d failed: %s\n", o.Run.ID, firstLine(o.Err.Error()))
		}
	}
}

// writeTakeover writes the line of a run taken over from a worker judged
// dead or silent: that worker's attempt is lost, and counts towards the
// run's max_attempts. The reporter's "resume at step N" line follows.
func writeTakeover(w io.Writer, to runs.Takeover) {
	why := printable.Line(to.Why)
	if why == "" {
		why = fmt.Sprintf("its worker %s:%d is gone", to.From.Host, to.From.PID)
	}
	count := ""
	if to.Run.MaxAttempts > 0 {
		count = fmt.Sprintf(" (%d of max_attempts %d)", to.Run.Lost, to.Run.MaxAttempts)
	}
	fmt.Fprintf(w, "%s %s: taking it over: %s; that attempt is lost%s\n",
		time.Now().Format("15:04:05"), runName(to.Run, to.Label), why, count)
}

// writeGaveUp writes the line of a run that a claim failed, untrained,
// because its lost attempts reached its max_attempts.
func writeGaveUp(w io.Writer, r store.Run, label string) {
	fmt.Fprintf(w, "%s %s failed: %s; --retry-failed (attnlab run or submit) queues it again\n",
		time.Now().Format("15:04:05"), runName(r, label), printable.Line(firstLine(r.Error)))
}

// reportOutages has st say on w when its database becomes unreachable and
// when it answers again: else a command said nothing through an outage
// until its writes gave up, minutes later.
func reportOutages(st *store.Store, w io.Writer) {
	st.OnOutage(func(o store.Outage) { writeOutage(w, st.Path(), o) })
}

// writeOutage writes the line of a worker whose database (shown as db)
// became unreachable, or answers again after an outage (o.End set), or
// whose outage ended untried (o.Lapsed: its writes gave up, and the next
// one found the server unreachable again, a new outage told next).
func writeOutage(w io.Writer, db string, o store.Outage) {
	if o.End.IsZero() {
		fmt.Fprintf(w, "%s database %s unreachable since %s; retrying for up to %s\n",
			time.Now().Format("15:04:05"), db, o.Since.Format("15:04:05"), shortDuration(o.Budget))
		return
	}
	if o.Lapsed {
		fmt.Fprintf(w, "%s database %s was unreachable from %s to at least %s (not tried since)\n",
			time.Now().Format("15:04:05"), db, o.Since.Format("15:04:05"), o.End.Format("15:04:05"))
		return
	}
	fmt.Fprintf(w, "%s database %s reachable again after %s\n",
		o.End.Format("15:04:05"), db, o.End.Sub(o.Since).Round(time.Second))
}

// shortDuration is d without a trailing zero seconds: "2m", not "2m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

// writeWaiting writes the line of a worker that has nothing to take but
// runs other processes hold: which (at most three named), where, and how
// old their heartbeats are by the database's clock.
func writeWaiting(w io.Writer, st *store.Store, held []store.Run) {
	now, err := st.Now(context.Background())
	if err != nil {
		now = time.Now()
	}
	var names []string
	for i, r := range held {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(held)-3))
			break
		}
		names = append(names, fmt.Sprintf("%s on %s:%d (heartbeat %s ago)", r.Name(), r.Host, r.PID, now.Sub(r.Heartbeat).Round(time.Second)))
	}
	fmt.Fprintf(w, "%s waiting: %s held by other processes: %s; a run whose worker dies is taken over\n",
		time.Now().Format("15:04:05"), plural(len(held), "run"), strings.Join(names, ", "))
}
