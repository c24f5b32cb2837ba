package runs

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// ExecOptions control Execute.
type ExecOptions struct {
	// Workers is the number of runs trained at once. By default: with
	// train.threads 0 (every run of the plan; the default), one per CPU but
	// no more than there are runs to train, and the CPUs left over go to
	// each run as intra-op threads — a single run uses the whole machine, a
	// sweep runs one run per core; with explicit train.threads, the number
	// of CPUs divided by the largest. Threads apply to the whole process
	// (tensor.SetThreads) and never change what a run computes.
	Workers int
	// MaxWorkers, when positive, caps Workers (given or chosen): the runs
	// whose estimated memory fits at once in the process's limit.
	MaxWorkers int
	// Memory bounds what building a run's dataset may take (see
	// Options.Memory).
	Memory tasks.MemoryLimit
	// Version is attnlab's version, recorded with each run.
	Version string
	// Heartbeat is how often a running run proves it is alive (default 5 s);
	// StaleAfter is how old a heartbeat must be before another process may
	// take the run over (default 12 heartbeats). A run whose process died
	// on this host is taken over at once, unless its pid was given to a new
	// process meanwhile (it then looks alive: StaleAfter decides).
	Heartbeat, StaleAfter time.Duration
	// MetricsEvery is the longest a metric row waits in memory before it is
	// written (default 5 s): other processes see a run's progress live.
	MetricsEvery time.Duration
	// Reporter shows progress (nil: none).
	Reporter Reporter
	// Waiting, when not nil, is called once for each run that another live
	// process holds when this execution has nothing else to do; Execute
	// then waits for those runs (see Execute). why says who holds the run.
	Waiting func(run store.Run, label, why string)
	// TakenOver, when not nil, is called when this execution takes over a
	// run of the plan whose process was judged dead or silent (its attempt
	// lost), before resuming it (WorkOptions.OnTakeover).
	TakenOver func(Takeover)
	// GaveUp, when not nil, is called for each run of the plan that a
	// claim failed because its lost attempts reached train.max_attempts
	// (WorkOptions.OnGaveUp); its Outcome is failed, with the run's error.
	GaveUp func(run store.Run, label string)
	// NoMetrics turns off per-step metric recording (overhead measurements).
	NoMetrics bool
}

// NotRunGone is the Outcome.Note of a run of the plan that Execute did not
// run because the database file was deleted or replaced meanwhile.
const NotRunGone = "not run: database file deleted or replaced"

// NoteGaveUpElsewhere is the Outcome.Note of a run of the plan that
// another process's claim failed, untrained, because its lost attempts
// reached train.max_attempts (store.ClaimResult.GaveUp): its last owner,
// whose attempt that claim took as lost, never ended it.
const NoteGaveUpElsewhere = "failed by another process, which gave up on it"

// Unplanned is the total of Reporter.Start for a queue worker, whose runs
// are not known in advance: runs submitted after it started are taken too.
const Unplanned = -1

// Reporter shows the progress of an execution (package progress has the
// reporters the CLI uses). Its methods may be called from several
// goroutines at once.
type Reporter interface {
	// Start announces the plan: how many runs, how many are already done
	// (not counting those a DivergedBeforeReporter is told of: stored done
	// with a ±Inf loss or perplexity, they count as failed), and how many
	// training steps the others take (a run that resumes
	// announces the steps already trained in Begin). A total of Unplanned
	// says there is no plan (a queue worker takes runs as they come): the
	// log reporter (progress.Log) then counts the runs that end done, with
	// no total and no ETA.
	Start(total, done, steps int)
	// Begin announces that a run of total steps starts (or resumes at step
	// from).
	Begin(run store.Run, from, total int) RunReporter
	// Skip announces that a run of the plan that is neither done nor
	// failed will not be trained by this execution, and why (the execution
	// was interrupted, or the run could not be claimed; a claimed run that
	// fails before it trains, its stored config or checkpoint unreadable,
	// is not skipped but begins and ends failed). A run
	// another process holds is not skipped: Execute waits for it
	// (ExecOptions.Waiting). Nor are the runs left when the database file
	// is gone (store.ErrDatabaseGone): Execute returns that error, which
	// says why for them all, and their outcomes' Note is NotRunGone.
	Skip(run store.Run, steps int, why string)
	// Wait flushes the display after the last run ended.
	Wait()
}

// GaveUpReporter is a Reporter told of each run of the plan that a claim
// of this execution failed, untrained, because its lost attempts reached
// train.max_attempts (ExecOptions.GaveUp, store.ClaimResult.GaveUp): the
// run has ended, failed, and its steps, of the plan's Start, will not be
// trained. Execute tells a Reporter that implements it; the reporters of
// package progress do, so that their overall ETA does not wait for those
// steps.
type GaveUpReporter interface {
	GaveUp(run store.Run, steps int)
}

// FailedBeforeReporter is a Reporter told, right after Start, how many
// runs of the plan had failed before this execution: Execute skips them
// (--retry-failed requeues them first), as it does done runs, which
// Start's done counts. Execute tells a Reporter that implements it, 0
// included, before anything else happens; the reporters of package
// progress do, so that the bars' overall line counts them failed and does
// not stop short of them with nothing said, and the log's first line,
// printed then, counts them too.
type FailedBeforeReporter interface {
	FailedBefore(n int)
}

// DivergedBeforeReporter is a Reporter told, right before Start, how many
// runs of the plan a build before 2026-12-06 stored done with a loss or
// perplexity of ±Inf (metrics.InfiniteLoss): they count as failed, as the
// command's table, note and exit status count them, so Start's done
// leaves them out. Execute skips them, as it does the other done runs, and
// tells a Reporter that implements it (only when there are some); the
// reporters of package progress do, so that neither says such runs are
// done: the log's first line counts them apart, the bars' overall line
// counts them failed.
type DivergedBeforeReporter interface {
	DivergedBefore(n int)
}

// RunReporter follows one run.
type RunReporter interface {
	Update(p Progress)
	End(status store.Status, err error)
}

// Outcome is what happened to one run of the plan during Execute.
type Outcome struct {
	Run    store.Run // as recorded at the end
	Label  string
	Status store.Status
	Err    error // why the run failed or was interrupted
	Note   string
	Cost   QueueCost // time this process spent in the run database for the run
}

// QueueCost is the time a run spent in the run database, apart from its
// training: what the queue and the store cost it. Claim, Prepare and Finish
// come before and after the training; heartbeats and metric writes run
// beside it (goroutines of their own); artifact writes (checkpoints, the
// final model, samples) stop it while they last.
type QueueCost struct {
	Claim          time.Duration // taking it from the queue
	Prepare        time.Duration // reading its checkpoint, truncating its metrics
	Heartbeats     time.Duration
	HeartbeatCount int
	Metrics        time.Duration // metric rows written
	MetricWrites   int           // transactions that wrote them
	Artifacts      time.Duration // checkpoints and final artifacts written
	ArtifactWrites int
	Finish         time.Duration // summaries, finish, dropping the checkpoint
}

// Total is the sum of the durations.
func (c QueueCost) Total() time.Duration {
	return c.Claim + c.Prepare + c.Heartbeats + c.Metrics + c.Artifacts + c.Finish
}

// Report summarises an execution.
type Report struct {
	ExperimentID int64
	Outcomes     []Outcome // in plan order
}

// Count returns how many outcomes have status s.
func (r *Report) Count(s store.Status) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Execute records the experiment and every run of its plan in the store
// (Submit), then trains them with a pool of in-process workers (Work,
// restricted to the plan's runs): runs already done or failed are skipped;
// interrupted runs, and runs left running by a process that died, resume
// from their last checkpoint; queued runs start fresh. A run that fails, or
// panics with a tensor.Error, is recorded as failed with its error and the
// others go on; a run that panics otherwise (a bug) is recorded as failed
// with the one-line message of a *Bug, which its Outcome carries with the
// stack. Cancelling ctx checkpoints the running runs, records them as
// interrupted and returns ctx's error after every worker stopped.
//
// A run of the plan that another live process holds (running, with a fresh
// heartbeat) is waited for once there is nothing else to do: the workers
// poll the queue about once a second until it is done or failed, or until
// its owner dies, becomes a zombie or goes stale, when this process takes it
// over and resumes it. Waiting is called once for each such run. Cancelling
// ctx stops the waiting; such a run's Outcome then has status running and a
// Note saying who holds it. So is a run that another process took over
// from this execution (ErrTakenOver: its heartbeats came late, as after
// ^Z): once that process ended it, its Outcome is the store's, "done by
// host:pid" or "failed by host:pid", not the takeover. If that process
// dies instead and this execution's claim gives up on the run (its lost
// attempts reached max_attempts), the Outcome is that claim's: failed,
// without a Note, as a run given up on that no one took from us; if a
// third process's claim gave up on it, the Outcome is failed with the Note
// NoteGaveUpElsewhere, never "failed by" the dead owner, which ended
// nothing (so is a run that other processes held all along).
func Execute(ctx context.Context, st *store.Store, x *experiments.Experiment, opt ExecOptions) (*Report, error) {
	sub, err := Submit(ctx, st, x)
	if err != nil {
		return nil, err
	}
	plan := sub.Plan
	threads := execThreads(plan, sub.Runs, &opt, runtime.NumCPU())
	if threads > 1 {
		old := tensor.Threads()
		tensor.SetThreads(threads)
		defer tensor.SetThreads(old)
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 5 * time.Second
	}
	rep := &Report{ExperimentID: sub.ExperimentID, Outcomes: make([]Outcome, len(plan))}
	index := make(map[int64]int, len(plan))
	labels := make(map[int64]string, len(plan))
	dataBytes := make(map[int64]int64, len(plan))
	ids := make([]int64, len(plan))
	done, failed, steps := 0, 0, 0
	var doneIDs []int64
	for i, r := range sub.Runs {
		rep.Outcomes[i] = Outcome{Run: r, Label: plan[i].Label, Status: r.Status}
		index[r.ID], labels[r.ID], ids[i] = i, plan[i].Label, r.ID
		dataBytes[r.ID] = plan[i].Config.DataBytes
		switch r.Status {
		case store.StatusDone:
			done++
			doneIDs = append(doneIDs, r.ID)
			rep.Outcomes[i].Note = "skipped: done"
		case store.StatusFailed:
			failed++
			rep.Outcomes[i].Note = "skipped: failed"
		default:
			steps += plan[i].Config.Train.Steps
		}
	}
	if opt.Reporter != nil {
		diverged, err := divergedBefore(ctx, st, doneIDs)
		if err != nil {
			return nil, err
		}
		if dr, ok := opt.Reporter.(DivergedBeforeReporter); ok && diverged > 0 {
			dr.DivergedBefore(diverged)
		}
		opt.Reporter.Start(len(plan), done-diverged, steps)
		defer opt.Reporter.Wait()
		if fr, ok := opt.Reporter.(FailedBeforeReporter); ok {
			fr.FailedBefore(failed)
		}
	}
	bg := context.WithoutCancel(ctx)
	var mu sync.Mutex
	announced := map[int64]bool{}
	var onWait func([]store.Run)
	if opt.Waiting != nil {
		onWait = func(held []store.Run) {
			mu.Lock()
			defer mu.Unlock()
			now, err := st.Now(bg)
			if err != nil {
				now = time.Now()
			}
			for _, r := range held {
				if !announced[r.ID] {
					announced[r.ID] = true
					opt.Waiting(r, labels[r.ID], heldBy(r, now))
				}
			}
		}
	}
	onGaveUp := opt.GaveUp
	if gr, ok := opt.Reporter.(GaveUpReporter); ok {
		onGaveUp = func(r store.Run, label string) {
			if i, ok := index[r.ID]; ok {
				gr.GaveUp(r, plan[i].Config.Train.Steps)
			}
			if opt.GaveUp != nil {
				opt.GaveUp(r, label)
			}
		}
	}
	wr, werr := Work(ctx, st, WorkOptions{
		Filter:       store.QueueFilter{RunIDs: ids},
		Workers:      max(1, min(opt.Workers, len(ids))), // a worker with no run to claim only polls the database
		Threads:      threads,
		Poll:         min(time.Second, opt.Heartbeat),
		Version:      opt.Version,
		Heartbeat:    opt.Heartbeat,
		StaleAfter:   opt.StaleAfter,
		MetricsEvery: opt.MetricsEvery,
		Reporter:     opt.Reporter,
		Labels:       labels,
		DataBytes:    dataBytes,
		OnWait:       onWait,
		OnTakeover:   opt.TakenOver,
		OnGaveUp:     onGaveUp,
		NoMetrics:    opt.NoMetrics,
		Memory:       opt.Memory,
	})
	ours := map[int64]bool{}
	for _, o := range wr.Outcomes {
		i := index[o.Run.ID]
		if ours[o.Run.ID] && o.Status != store.StatusDone && rep.Outcomes[i].Status == store.StatusDone {
			continue // an earlier attempt of ours finished it
		}
		ours[o.Run.ID] = true
		rep.Outcomes[i] = o
	}
	for _, r := range wr.GaveUp {
		// Failed by our claim, as it went by: not another process's end —
		// also when that process had taken the run over from us
		// (ErrTakenOver) and died: it ended nothing.
		if i, ok := index[r.ID]; ok && (!ours[r.ID] || errors.Is(rep.Outcomes[i].Err, ErrTakenOver)) {
			ours[r.ID] = true
			rep.Outcomes[i] = Outcome{Run: r, Label: labels[r.ID], Status: r.Status}
		}
	}
	if errors.Is(werr, store.ErrDatabaseGone) {
		// The file is gone: what the store would read now is the unlinked
		// file's stale state, and no run is trained any more. The runs not
		// ours are not run; the error says why, once (the reporter is not
		// told of each: see Reporter.Skip).
		for i, o := range rep.Outcomes {
			if !ours[o.Run.ID] && o.Note == "" {
				rep.Outcomes[i].Note = NotRunGone
			}
		}
		return rep, werr
	}
	// Runs that other processes trained meanwhile, or still hold: their
	// state now.
	now, err := st.Now(bg)
	if err != nil {
		now = time.Now()
	}
	for i, o := range rep.Outcomes {
		// A run another worker took over from ours (ErrTakenOver) was
		// waited for like the others: it may have ended since.
		if lost := errors.Is(o.Err, ErrTakenOver); lost {
			if r, err := st.RunByID(bg, o.Run.ID); err == nil && (r.Status == store.StatusDone || r.Status == store.StatusFailed) {
				rep.Outcomes[i] = Outcome{Run: r, Label: o.Label, Status: r.Status, Note: endedBy(r), Cost: o.Cost}
			}
			continue
		}
		if ours[o.Run.ID] || o.Note != "" {
			continue
		}
		r, err := st.RunByID(bg, o.Run.ID)
		if err != nil {
			continue
		}
		rep.Outcomes[i].Run, rep.Outcomes[i].Status = r, r.Status
		switch r.Status {
		case store.StatusDone, store.StatusFailed:
			rep.Outcomes[i].Note = endedBy(r)
		case store.StatusRunning:
			rep.Outcomes[i].Note = heldBy(r, now)
		default: // queued or interrupted: left undone by an interrupt
			skip(opt.Reporter, r, plan[i], "interrupted")
		}
	}
	if werr != nil && ctx.Err() == nil {
		return rep, werr
	}
	return rep, ctx.Err()
}

// divergedBefore returns how many of the done runs ids were stored done
// with a ±Inf loss or perplexity (metrics.InfiniteLoss) by a build before
// 2026-12-06: runs that count as failed (see DivergedBeforeReporter). It
// reads only their ±Inf summaries whose keys may be losses or
// perplexities (metrics.LossKeyParts), not every summary of every done run;
// InfiniteLoss then tests those keys exactly, as it would the full
// summaries.
func divergedBefore(ctx context.Context, st *store.Store, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	sums, err := st.InfiniteSummaries(ctx, ids, metrics.LossKeyParts...)
	if err != nil {
		return 0, fmt.Errorf("runs: find the done runs stored with a ±Inf loss or perplexity: %w", err)
	}
	n := 0
	for _, m := range sums {
		if metrics.InfiniteLoss(m) != "" {
			n++
		}
	}
	return n, nil
}

// endedBy is the Outcome.Note of a run that another process ended (r, done
// or failed): "done by host:pid" or "failed by host:pid" — or
// NoteGaveUpElsewhere when a claim gave up on it (store.Run.GaveUp), whose
// host:pid are still those of the owner that claim took it from.
func endedBy(r store.Run) string {
	if r.GaveUp() {
		return NoteGaveUpElsewhere
	}
	return fmt.Sprintf("%s by %s:%d", r.Status, r.Host, r.PID)
}

// heldBy says who holds a running run: "running on host:pid (heartbeat 3s
// ago)", the heartbeat's age by the database's clock now.
func heldBy(r store.Run, now time.Time) string {
	return fmt.Sprintf("running on %s:%d (heartbeat %s ago)", r.Host, r.PID, now.Sub(r.Heartbeat).Round(time.Second))
}

// skip tells rep (if any) that the run will not be trained.
func skip(rep Reporter, r store.Run, plan experiments.Run, why string) {
	if rep != nil {
		rep.Skip(r, plan.Config.Train.Steps, why)
	}
}

// trainSafely runs Train. A panic with a tensor.Error is a misuse of a
// tensor op that a configuration can cause (a sequence longer than a
// Transformer's max_len): it becomes the run's one-line error, and the other
// runs go on. Any other panic is a bug in attnlab: trainSafely returns it as
// a *Bug with the stack where it happened, which the run records by its
// one-line message only; the caller reports the stack (the CLI writes it to
// a crash log and exits 3).
func trainSafely(ctx context.Context, cfg experiments.Config, rec Recorder, opt Options) (res *Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			if te, ok := p.(tensor.Error); ok {
				err = te
				return
			}
			res, err = nil, &Bug{Value: p, Stack: debug.Stack()}
		}
	}()
	return Train(ctx, cfg, rec, opt)
}

// Bug is the error of a run that panicked with anything but a tensor.Error:
// a bug in attnlab, not a problem of the run's configuration. Value is the
// original panic value and Stack the panicking goroutine's stack, taken
// where it panicked.
type Bug struct {
	Value any
	Stack []byte
}

// Error returns one line, "internal error: VALUE", without the stack (it
// is what the run database records).
func (b *Bug) Error() string {
	msg := fmt.Sprint(b.Value)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return "internal error: " + msg
}

// Unwrap returns the original panic value if it is an error, else nil.
func (b *Bug) Unwrap() error {
	err, _ := b.Value.(error)
	return err
}

// finishRun ends the run with status and err (its message) and returns
// the outcome with the run as recorded.
func finishRun(ctx context.Context, st *store.Store, owner store.Owner, out Outcome, status store.Status, err error) Outcome {
	return finishRunWith(ctx, st, owner, out, status, err, store.Ending{})
}

// finishRunWith is finishRun that also writes end's summaries and drops
// end's artifact kinds, in the one transaction of store.FinishRun. When
// that fails for another reason than a lost run or database, the run is
// recorded as failed with the error (its summaries could not be kept). A
// run another worker took over meanwhile ends as lost (ErrTakenOver), with the
// state the new owner gave it; a run whose end could not be recorded
// because the database stayed unreachable is left running (*LeftError).
func finishRunWith(ctx context.Context, st *store.Store, owner store.Owner, out Outcome, status store.Status, err error, end store.Ending) Outcome {
	end.Status, end.Error = status, ""
	if err != nil {
		end.Error = err.Error()
	}
	r, ferr := st.FinishRun(ctx, out.Run.ID, owner, end)
	if st.Unreachable(ferr) {
		// The end is not recorded: the run stays running in the store,
		// for another worker to take over once its heartbeat is stale.
		out.Status, out.Err = store.StatusRunning, &LeftError{Err: ferr}
		return out
	}
	if ferr != nil && (len(end.Summaries) > 0 || len(end.DropKinds) > 0) &&
		!errors.Is(ferr, store.ErrNotOwner) && !errors.Is(ferr, store.ErrDatabaseGone) && !errors.Is(ferr, store.ErrNotFound) {
		status, err = store.StatusFailed, ferr
		r, ferr = st.FinishRun(ctx, out.Run.ID, owner, store.Ending{Status: status, Error: err.Error()})
	}
	if errors.Is(ferr, store.ErrNotFound) {
		// Removed (attnlab rm) while this worker held it, before its end
		// was recorded (between the claim and the training, or after the
		// last heartbeat): nothing records it, and it did not fail.
		if _, gerr := st.RunByID(ctx, out.Run.ID); errors.Is(gerr, store.ErrNotFound) {
			out.Err, out.Note = fmt.Errorf("%w: %w", ErrRemoved, gerr), ""
			return out
		}
	}
	out.Status, out.Err = status, err
	if ferr == nil {
		out.Run = r
		return out
	}
	if errors.Is(ferr, store.ErrNotOwner) {
		// Taken over before this end was recorded: the run is the new
		// owner's, whatever this worker was about to say.
		out.Err, out.Note = ErrTakenOver, "taken over by another worker before this one recorded its end ("+string(status)+")"
		if r, gerr := st.RunByID(ctx, out.Run.ID); gerr == nil {
			out.Run, out.Status = r, r.Status
		}
		return out
	}
	out.Err = errors.Join(err, ferr)
	r, gerr := st.RunByID(ctx, out.Run.ID)
	if gerr != nil {
		out.Err = errors.Join(out.Err, gerr)
		return out
	}
	out.Run = r
	return out
}

// storeRecorder records a run into the store. Metric rows are handed in
// batches to a writer goroutine, so a training step never waits for the
// database: a batch goes when it has recorderBatch rows or its oldest row is
// as old as the recorder's interval, so other processes see the run's
// progress live. Checkpoint and close wait until every row logged before
// them is written, so a checkpoint never runs ahead of the history it
// belongs to. The first write error is returned by the next Metric call,
// which stops the training. Artifacts (the checkpoint, the final weights)
// are written only while the run is running under the recorder's owner
// (store.PutOwnedArtifact): a worker that lost its run gets
// store.ErrNotOwner at its next checkpoint, not only at its next
// heartbeat. So are metric rows (store.NewOwnedMetricWriter, checked in
// the flush's one statement): a worker that lost its run adds no row to
// the new owner's history, nor replaces one, and its next Metric call
// returns the refused flush's ErrNotOwner, which stops the training.
type storeRecorder struct {
	ctx   context.Context
	st    *store.Store
	run   int64
	owner store.Owner // artifacts are written only while the run is its
	w     *store.MetricWriter
	rep   RunReporter
	every time.Duration
	// pending holds the rows logged since the last batch handed over:
	// Metric appends to it, and hands it to the writer when it is full or
	// its oldest row (since) is every old; a ticker hands it over every
	// every too, so that no row waits longer when nothing more is logged
	// (sparse logging, a long evaluation).
	mu       sync.Mutex
	pending  []metricRow
	since    time.Time     // when the oldest pending row was logged
	tickStop chan struct{} // closed to stop the ticker
	tickDone chan struct{} // closed when it has stopped
	batches  chan []metricRow
	done     chan error               // the writer's result, after batches is closed
	werr     atomic.Pointer[errorBox] // the writer's first error, as soon as it happens
	err      error                    // the first write error seen
	// onWrite, when set before the writer starts (tests), is called by the
	// writer goroutine before each row it buffers and each flush.
	onWrite func()

	// What the writes cost: metrics written by the writer goroutine (read
	// after close), artifacts by the training goroutine.
	metricTime     time.Duration
	metricWrites   int
	artifactTime   time.Duration
	artifactWrites int
}

type errorBox struct{ err error }

type metricRow struct {
	step  int
	key   string
	value float64
	wall  time.Time // when it was logged
}

// recorderBatch is how many rows the training goroutine gathers before
// handing them to the writer.
const recorderBatch = 512

func newStoreRecorder(ctx context.Context, st *store.Store, run int64, owner store.Owner, rep RunReporter, every time.Duration) *storeRecorder {
	s := makeStoreRecorder(ctx, st, run, owner, rep, every)
	s.start()
	return s
}

// makeStoreRecorder returns a storeRecorder whose writer is not started.
func makeStoreRecorder(ctx context.Context, st *store.Store, run int64, owner store.Owner, rep RunReporter, every time.Duration) *storeRecorder {
	if every <= 0 {
		every = 5 * time.Second
	}
	// The writer flushes after each batch itself; the MetricWriter's own
	// batch is larger than any, so it never writes on its own.
	return &storeRecorder{ctx: ctx, st: st, run: run, owner: owner, w: st.NewOwnedMetricWriter(run, owner, 2*recorderBatch), rep: rep, every: every}
}

func (s *storeRecorder) start() {
	s.batches = make(chan []metricRow, 4)
	s.done = make(chan error, 1)
	s.tickStop, s.tickDone = make(chan struct{}), make(chan struct{})
	go func(stop <-chan struct{}, done chan<- struct{}) {
		defer close(done)
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				s.mu.Lock()
				s.handOverLocked()
				s.mu.Unlock()
			}
		}
	}(s.tickStop, s.tickDone)
	go func(batches <-chan []metricRow, done chan<- error) {
		var err error
		write := func(f func() error) {
			if err != nil {
				return
			}
			if s.onWrite != nil {
				s.onWrite()
			}
			t0 := time.Now()
			err = f()
			s.metricTime += time.Since(t0)
		}
		for b := range batches {
			for _, r := range b {
				write(func() error { return s.w.LogAt(r.step, r.key, r.value, r.wall) })
			}
			// Each batch is written when it arrives: live progress.
			if s.w.Pending() > 0 {
				s.metricWrites++
			}
			write(func() error { return s.w.Flush(s.ctx) })
			if err != nil {
				s.werr.CompareAndSwap(nil, &errorBox{err})
			}
		}
		if s.w.Pending() > 0 {
			s.metricWrites++
		}
		write(func() error { return s.w.Flush(s.ctx) })
		done <- err
	}(s.batches, s.done)
}

// sync writes every row logged so far and restarts the writer.
func (s *storeRecorder) sync() error {
	s.close()
	s.start()
	return s.err
}

// close writes every row logged so far and stops the writer.
func (s *storeRecorder) close() error {
	close(s.tickStop)
	<-s.tickDone
	s.mu.Lock()
	s.handOverLocked()
	s.mu.Unlock()
	close(s.batches)
	if err := <-s.done; err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}

// handOverLocked hands the pending rows, if any, to the writer; s.mu is
// held. The channel's bound holds the caller back while the writer is
// behind.
func (s *storeRecorder) handOverLocked() {
	if len(s.pending) > 0 {
		s.batches <- s.pending
		s.pending = make([]metricRow, 0, recorderBatch)
	}
}

func (s *storeRecorder) Metric(step int, key string, v float64) error {
	now := time.Now()
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.since = now
	}
	s.pending = append(s.pending, metricRow{step, key, v, now})
	if len(s.pending) >= recorderBatch || now.Sub(s.since) >= s.every {
		s.handOverLocked()
	}
	s.mu.Unlock()
	if s.err == nil {
		if b := s.werr.Load(); b != nil {
			s.err = b.err
		}
	}
	return s.err
}

func (s *storeRecorder) Checkpoint(step int, data []byte) error {
	if err := s.sync(); err != nil {
		return err
	}
	return s.Artifact(artifact.KindCheckpoint, artifact.NameCheckpoint, data)
}

func (s *storeRecorder) Artifact(kind, name string, data []byte) error {
	t0 := time.Now()
	// Guarded by the owner: a worker whose run was taken over as stale
	// gets store.ErrNotOwner here instead of replacing the new owner's
	// checkpoint until its next heartbeat notices.
	err := s.st.PutOwnedArtifact(s.ctx, s.run, s.owner, kind, name, data)
	s.artifactTime += time.Since(t0)
	s.artifactWrites++
	return err
}

func (s *storeRecorder) Progress(p Progress) {
	if s.rep != nil {
		s.rep.Update(p)
	}
}

// execThreads returns the intra-op threads of an execution of plan (see
// ExecOptions.Workers) and sets opt.Workers when it is not set: the largest
// explicit train.threads, or, when every run asks for 0, the cpus divided
// among the runs trained at once.
func execThreads(plan []experiments.Run, recs []store.Run, opt *ExecOptions, cpus int) int {
	explicit := 0
	for _, r := range plan {
		explicit = max(explicit, r.Config.Train.Threads)
	}
	capped := func() {
		if opt.MaxWorkers > 0 {
			opt.Workers = min(opt.Workers, opt.MaxWorkers)
		}
	}
	if explicit > 0 {
		if opt.Workers <= 0 {
			opt.Workers = max(1, cpus/explicit)
		}
		capped()
		return explicit
	}
	if opt.Workers <= 0 {
		todo := 0
		for _, r := range recs {
			if r.Status != store.StatusDone && r.Status != store.StatusFailed {
				todo++
			}
		}
		opt.Workers = max(1, min(cpus, todo))
	}
	capped()
	return max(1, cpus/opt.Workers)
}
