package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tasks"
	"github.com/attnlab/attnlab/tensor"
)

// Submission is what Submit recorded: the experiment's id and its plan
// with each run as stored (Runs[i] is Plan[i]).
type Submission struct {
	ExperimentID int64
	Plan         []experiments.Run
	Runs         []store.Run
}

// Submit records the experiment and every run of its plan in the store, in
// one transaction, without training anything: runs it does not have yet
// are queued; runs it has keep their state (done runs stay done). The
// experiment's directory is recorded (absolute), so that a worker anywhere
// resolves the task's relative paths as this machine does.
func Submit(ctx context.Context, st *store.Store, x *experiments.Experiment) (*Submission, error) {
	plan, err := x.Plan()
	if err != nil {
		return nil, err
	}
	specs := make([]store.RunSpec, len(plan))
	for i, r := range plan {
		point, err := json.Marshal(r.StoredPoint())
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i, err)
		}
		ps := make([]store.Param, len(r.Params))
		for j, p := range r.Params {
			ps[j] = store.Param{Key: p.Key, Value: p.Value}
		}
		specs[i] = store.RunSpec{Hash: r.Hash, Seed: int64(r.Seed), Config: string(r.Canonical), Point: string(point), Params: ps,
			MaxAttempts: r.Config.Train.MaxAttempts, KeepCheckpoints: r.Config.Train.KeepCheckpoints}
	}
	dir := x.BaseDir
	if dir != "" {
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
	}
	id, recs, err := st.Submit(ctx, store.ExperimentSpec{Name: x.Name, Description: x.Description, YAML: x.YAML, Dir: dir}, specs)
	if err != nil {
		return nil, err
	}
	return &Submission{ExperimentID: id, Plan: plan, Runs: recs}, nil
}

// WorkOptions control Work.
type WorkOptions struct {
	// Filter selects the runs this worker takes (zero: any run of the
	// store).
	Filter store.QueueFilter
	// Workers is the number of runs trained at once in this process
	// (default 1).
	Workers int
	// Threads is the intra-op threads (tensor.SetThreads) of the runs this
	// process trains; 0 gives each worker its share of the CPUs this
	// process may use (runtime.NumCPU, which follows Slurm's and taskset's
	// CPU mask). What a run computes does not depend on it.
	Threads int
	// MaxRuns stops the worker after it has taken this many runs (0: no
	// limit).
	MaxRuns int
	// IdleExit: when the worker finds nothing to take, it waits for new
	// runs (or for runs others hold to go stale) and stops once it has been
	// idle this long. Zero waits as long as any run of the filter is queued,
	// interrupted or running anywhere — a running one may still come back
	// if its worker dies — and stops as soon as none is.
	IdleExit time.Duration
	// Poll is how often an idle worker looks at the queue (default 1 s).
	Poll time.Duration
	// Version is attnlab's version, recorded with each run.
	Version string
	// Owner identifies this process in the runs it holds (zero:
	// store.CurrentOwner(Version)).
	Owner store.Owner
	// Heartbeat is how often a running run proves it is alive (default
	// 5 s); StaleAfter is how old a heartbeat must be, by the database's
	// clock, before another worker takes the run over (default 12
	// heartbeats). A run whose process died on this host is taken over at
	// once.
	Heartbeat, StaleAfter time.Duration
	// MetricsEvery is the longest a metric row waits in memory before it is
	// written (default 5 s), so that other processes see a run's progress
	// while it trains.
	MetricsEvery time.Duration
	// Reporter follows each run (Begin, and Skip for a run taken but not
	// trained after all); nil: none.
	Reporter Reporter
	// Labels gives the Outcome's Label by run id; runs not in it are
	// labelled by their sweep point.
	Labels map[int64]string
	// DataBytes gives, by run id, the memory the run's dataset took when
	// its experiment was loaded (experiments.Config.DataBytes, which a
	// stored configuration lacks), for the memory estimate; a run not in
	// it is estimated from its data files' sizes.
	DataBytes map[int64]int64
	// OnRun is called when a run this worker took has ended (from the
	// goroutine that trained it).
	OnRun func(Outcome)
	// OnWait is called when the worker starts waiting for runs that other
	// processes hold, with those runs, and again when that set changes.
	OnWait func(held []store.Run)
	// OnTakeover is called when the worker takes over a run whose worker
	// was judged dead or silent (that worker's attempt is lost), before it
	// resumes the run (from the goroutine that trains it).
	OnTakeover func(Takeover)
	// OnGaveUp is called for each run that a claim of this worker failed
	// because its lost attempts reached train.max_attempts (see
	// store.ClaimResult.GaveUp), with the run as recorded and its label.
	OnGaveUp func(run store.Run, label string)
	// NoMetrics turns off per-step metric recording (overhead measurements).
	NoMetrics bool
	// Memory bounds what building a run's dataset may take (see
	// Options.Memory), and what the runs trained at once are estimated to
	// need together (experiments.EstimateMemory): a run waits until the
	// runs in training leave room for it, and a run estimated above it
	// alone goes back to the queue for a worker with more memory
	// (TooBigError).
	Memory tasks.MemoryLimit

	room *semaphore.Weighted // Memory.Bytes shared by the runs in training, set by Work
	// tooBig is told a run is too big for Memory (with the error it is
	// handed back with) before the hand-back is written, so that no other
	// claim of this worker takes it between (set by Work).
	tooBig func(id int64, err error)
}

func (o *WorkOptions) defaults() {
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 5 * time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = 12 * o.Heartbeat
	}
	if o.MetricsEvery <= 0 {
		o.MetricsEvery = 5 * time.Second
	}
	if o.Owner.Host == "" {
		o.Owner = store.CurrentOwner(o.Version)
	}
}

// workThreads is the intra-op threads of a Work with the given workers:
// threads when set, else each worker's share of cpus.
func workThreads(threads, workers, cpus int) int {
	if threads > 0 {
		return threads
	}
	return max(1, cpus/max(1, workers))
}

// WorkReport is what Work did: one Outcome per run it took, in the order
// they ended.
type WorkReport struct {
	Outcomes []Outcome
	// GaveUp holds the runs that this worker's claims failed, without
	// training them, because their lost attempts reached
	// train.max_attempts (store.ClaimResult.GaveUp), as recorded.
	GaveUp []store.Run
}

// Takeover is a run that a worker took over from a worker judged dead (its
// pid gone on this host) or silent (its heartbeat stale): that worker's
// attempt was lost, and counts towards the run's train.max_attempts.
type Takeover struct {
	Run   store.Run   // as claimed (Lost counts the lost attempts)
	Label string      // as Outcome.Label
	From  store.Owner // the worker whose attempt was lost (host and pid)
	Why   string      // how it was lost: "its worker h:12 is gone"
	Step  int         // the checkpoint's step the run resumes at (0: from the start)
}

// label is the run's label: opt.Labels', or its sweep point's.
func (opt *WorkOptions) label(r store.Run) string {
	if l, ok := opt.Labels[r.ID]; ok {
		return l
	}
	return pointLabel(r.Point)
}

// Work takes runs from the store's queue one at a time per worker (see
// store.ClaimNext: queued runs, runs handed back, runs of workers that
// died), trains each with checkpoints — resuming from the last one when the
// run was started before — and goes on until the queue holds nothing more
// for it (see WorkOptions.IdleExit) or MaxRuns were taken.
//
// Cancelling ctx (SIGTERM, Ctrl-C) makes every running run checkpoint and go
// back to the queue (status interrupted: any worker resumes it), and Work
// returns ctx's error once they have. A run that another worker took over
// (this one was judged stale) is left alone. A store error that means the
// results cannot be kept (store.ErrDatabaseGone) stops every run and is
// returned; other errors of one run fail that run and the worker goes on.
func Work(ctx context.Context, st *store.Store, opt WorkOptions) (*WorkReport, error) {
	opt.defaults()
	if opt.Memory.Bytes > 0 {
		opt.room = semaphore.NewWeighted(opt.Memory.Bytes)
	}
	if t := workThreads(opt.Threads, opt.Workers, runtime.NumCPU()); t != tensor.Threads() {
		old := tensor.Threads()
		tensor.SetThreads(t)
		defer tensor.SetThreads(old)
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var (
		mu       sync.Mutex
		rep      = &WorkReport{}
		taken    int
		fatal    error
		lastHeld string
		// too holds the runs this worker handed back as too big for its
		// memory (TooBigError), with that error; filter is opt.Filter
		// without them.
		too    = map[int64]error{}
		filter = opt.Filter
		// mine holds the runs this process's workers are training: a
		// claim never takes one of them over. Their heartbeats can be
		// late by more than StaleAfter (the process stopped with ^Z, the
		// machine asleep), and another worker of the same process — same
		// host and pid, so the owner checks let both write — would
		// train it too.
		mine = map[int64]bool{}
		// claimMu makes a claim and its entry in mine one step (see below).
		claimMu sync.Mutex
	)
	current := func() store.QueueFilter {
		mu.Lock()
		defer mu.Unlock()
		return filter
	}
	claimFilter := func() store.QueueFilter {
		mu.Lock()
		defer mu.Unlock()
		f := filter
		if len(mine) > 0 {
			f.Except = slices.Clone(f.Except)
			for id := range mine {
				f.Except = append(f.Except, id)
			}
		}
		return f
	}
	opt.tooBig = func(id int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := too[id]; !ok {
			too[id] = err
			filter.Except = append(slices.Clone(filter.Except), id) // the next claims' and polls' filter skips it
		}
	}
	tooBigErr := func(id int64) error {
		mu.Lock()
		defer mu.Unlock()
		return too[id]
	}
	// reserve books one of MaxRuns before a claim; release returns it when
	// the claim found nothing.
	reserve := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if opt.MaxRuns > 0 && taken >= opt.MaxRuns {
			return false
		}
		taken++
		return true
	}
	release := func() {
		mu.Lock()
		taken--
		mu.Unlock()
	}
	fail := func(err error) {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
		stop(err)
	}
	bg := context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Go(func() {
			idleSince := time.Now()
			for ctx.Err() == nil {
				if !reserve() {
					return
				}
				// Claims outlive cancellation only as far as the store
				// call itself: a claim made as ctx ends is handed back below.
				// One claim at a time in this process, from its filter to
				// mine: a sibling's claim computed its filter before this
				// one's run was in mine, waited on the store behind it
				// (SQLite's lock) past StaleAfter, then took the run over
				// as stale (TestNoTakeoverOfOwnRun failed so under -race).
				claimMu.Lock()
				t0 := time.Now()
				res, err := st.ClaimNext(bg, opt.Owner, claimFilter(), opt.StaleAfter)
				claimTime := time.Since(t0)
				if err == nil && res.Claimed && tooBigErr(res.Run.ID) == nil {
					mu.Lock()
					mine[res.Run.ID] = true
					mu.Unlock()
				}
				claimMu.Unlock()
				if err != nil {
					release()
					fail(err)
					return
				}
				for _, r := range res.GaveUp {
					mu.Lock()
					rep.GaveUp = append(rep.GaveUp, r)
					mu.Unlock()
					if opt.OnGaveUp != nil {
						opt.OnGaveUp(r, opt.label(r))
					}
				}
				if res.Claimed {
					if err := tooBigErr(res.Run.ID); err != nil {
						// Claimed with a filter read before another
						// goroutine of this worker handed it back: back
						// again, neither an outcome nor one of MaxRuns.
						finishRunWith(bg, st, opt.Owner, Outcome{Run: res.Run}, store.StatusInterrupted, err, store.Ending{Untrained: true})
						release()
						continue
					}
					out := trainClaimed(ctx, st, res, opt)
					out.Cost.Claim = claimTime
					mu.Lock()
					delete(mine, res.Run.ID)
					rep.Outcomes = append(rep.Outcomes, out)
					mu.Unlock()
					if errors.As(out.Err, new(*TooBigError)) {
						release() // not one of MaxRuns: it did not train here
					}
					if opt.OnRun != nil {
						opt.OnRun(out)
					}
					if errors.Is(out.Err, store.ErrDatabaseGone) {
						fail(out.Err)
						return
					}
					if le := (*LeftError)(nil); errors.As(out.Err, &le) {
						// The database stayed unreachable: claiming
						// more would only wait for it again.
						fail(le.Err)
						return
					}
					idleSince = time.Now()
					continue
				}
				release()
				// The polls take ctx: they ride out a database outage
				// (store.read), and Ctrl-C must end that wait.
				counts, err := st.Queue(ctx, current())
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					fail(err)
					return
				}
				idle := time.Since(idleSince)
				switch {
				case counts.Waiting() == 0 && (opt.IdleExit <= 0 || idle >= opt.IdleExit):
					return
				case opt.IdleExit > 0 && idle >= opt.IdleExit:
					return
				}
				if opt.OnWait != nil && counts[store.StatusRunning] > 0 {
					held, err := st.Held(ctx, current(), opt.Owner)
					if err == nil && len(held) > 0 {
						key := heldKey(held)
						mu.Lock()
						changed := key != lastHeld
						lastHeld = key
						mu.Unlock()
						if changed {
							opt.OnWait(held)
						}
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(opt.Poll):
				}
			}
		})
	}
	wg.Wait()
	if fatal != nil {
		return rep, fatal
	}
	return rep, context.Cause(ctx)
}

func heldKey(runs []store.Run) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "%d@%s:%d ", r.ID, r.Host, r.PID)
	}
	return b.String()
}

// ErrTakenOver is the Outcome.Err of a run that another worker took over
// while this one held it (this one was judged stale: it missed its
// heartbeats); Outcome.Status is the run's status as the new owner keeps
// it (usually running), not how this worker ended it. It also cancels the
// run's training when a heartbeat finds it lost.
var ErrTakenOver = errors.New("another worker took the run over")

// ErrRemoved is the Outcome.Err of a run that was removed from the
// database (attnlab rm, which removes a run whose worker is silent for a
// minute) while this worker held it: nothing of it is recorded, and it
// did not fail. A heartbeat or a write that finds the run gone stops its
// training. Outcome.Status is the status the run had when it was claimed.
var ErrRemoved = errors.New("the run was removed from the database while this worker held it")

// LeftError is the Outcome.Err of a run whose worker gave up on it because
// the database stayed unreachable (store.Store.Unreachable: longer than the
// store's outage budget) and could not even hand it back: the run is still
// running in the database (Outcome.Status running), nothing of its end is
// recorded, and another worker takes it over — resuming from its last
// checkpoint — once its heartbeat is stale (at once on the same host,
// whose pid is gone). Err is the store's error.
type LeftError struct{ Err error }

func (e *LeftError) Error() string {
	return "left for another worker to take over: " + e.Err.Error()
}

func (e *LeftError) Unwrap() error { return e.Err }

// TooBigError is the Outcome.Err of a run whose estimated training memory
// is above the worker's whole budget (WorkOptions.Memory): the worker hands
// it back to the queue untrained (status interrupted, the error recorded
// with it, the claim not counted in its attempts) for a worker with more
// memory, and claims it no more. So does a run whose dataset turns out
// bigger than the budget while it is built (tasks.OverMemoryError), though
// its estimate fitted.
type TooBigError struct{ why string }

func (e *TooBigError) Error() string { return TooBigPrefix + e.why }

// TooBigPrefix begins the error recorded with a run handed back as too big
// for its worker (TooBigError), until another worker takes it.
const TooBigPrefix = "handed back to the queue, for a worker with more memory: "

// HandedBackOutage is the error message of a run handed back to the queue
// because the database was unreachable for longer than the store rides out,
// and was back when the worker handed it back.
const HandedBackOutage = "interrupted: the database was unreachable; handed back to the queue, to resume from its last checkpoint"

// handBackTimeout bounds the one try of handing back a run after the
// database stayed unreachable: the outage budget is spent by then, so a
// refused connection fails at once, but a partition would hold the try for
// the store's attemptTimeout.
var handBackTimeout = 10 * time.Second

// HandedBack is the error message of a run that its worker handed back to
// the queue because it was asked to stop: checkpointed at that step when it
// was training, and otherwise (stopped during an evaluation, or before it
// started) to resume from the checkpoint it had.
const HandedBack = "interrupted: handed back to the queue, to resume from its last checkpoint"

// trainClaimed trains a run this process has just claimed and records how
// it ended.
func trainClaimed(ctx context.Context, st *store.Store, claim store.ClaimResult, opt WorkOptions) (out Outcome) {
	rec := claim.Run
	owner := opt.Owner
	label := opt.label(rec)
	out = Outcome{Run: rec, Label: label, Status: rec.Status}
	defer track(rec.ID, st, owner)()
	// Bookkeeping after Ctrl-C must still reach the store.
	bg := context.WithoutCancel(ctx)
	var cfg experiments.Config
	cfgErr := json.Unmarshal([]byte(rec.Config), &cfg)
	cfg.BaseDir = rec.Dir
	// notRun ends a run that will not train after all. Recorded failed
	// (its stored config unreadable, its checkpoint not read), it is
	// reported as a run that began and failed, counted failed as the
	// bars count a run that fails training; Skip would say the execution
	// stopped short, with no failure counted. A run whose end could not
	// be recorded so (removed, taken over, the database unreachable) is
	// skipped, as before; so is one whose database file went away (its
	// outcome interrupted, as a training run's is then: nothing records
	// it failed). A run that could not start because the PostgreSQL
	// server was unreachable (a read or write of the store's failed so)
	// did not fail either: it is handed back, its claim uncounted, as
	// soon as the server answers, or left running (handBackUnreachable).
	notRun := func(status store.Status, err error) Outcome {
		if errors.Is(err, store.ErrDatabaseGone) {
			out.Status, out.Err = store.StatusInterrupted, err
			if opt.Reporter != nil {
				opt.Reporter.Skip(rec, cfg.Train.Steps, err.Error())
			}
			return out // nothing more can be stored
		}
		if st.Unreachable(err) {
			o := handBackUnreachable(bg, st, owner, out, err, true)
			if opt.Reporter != nil {
				opt.Reporter.Skip(rec, cfg.Train.Steps, o.Err.Error())
			}
			return o
		}
		o := finishRun(bg, st, owner, out, status, err)
		if opt.Reporter != nil {
			if o.Status == store.StatusFailed && o.Run.Status == store.StatusFailed { // recorded so
				opt.Reporter.Begin(rec, 0, cfg.Train.Steps).End(o.Status, o.Err)
			} else {
				opt.Reporter.Skip(rec, cfg.Train.Steps, err.Error())
			}
		}
		return o
	}
	// giveBack hands back a run that did not train under this claim (too
	// big for this worker, or the worker stopping first), its claim
	// uncounted (store.Ending.Untrained).
	giveBack := func(err error) Outcome {
		if opt.Reporter != nil {
			opt.Reporter.Skip(rec, cfg.Train.Steps, err.Error())
		}
		return finishRunWith(bg, st, owner, out, store.StatusInterrupted, err, store.Ending{Untrained: true})
	}
	// lost ends a run that another worker took over before it trained:
	// nothing more is recorded, the run is the new owner's.
	lost := func(note string) Outcome {
		out.Err, out.Note = ErrTakenOver, note
		if r, gerr := st.RunByID(bg, rec.ID); gerr == nil {
			out.Run, out.Status = r, r.Status
		}
		return out
	}
	if ctx.Err() != nil {
		// Claimed as the worker was stopping: hand it straight back.
		return giveBack(errors.New(HandedBack))
	}
	if cfgErr != nil {
		return notRun(store.StatusFailed, fmt.Errorf("run %d: stored config: %w", rec.ID, cfgErr))
	}
	if opt.room != nil {
		cfg.DataBytes = opt.DataBytes[rec.ID]
		est := experiments.EstimateMemory(cfg)
		if est.Bytes > opt.Memory.Bytes {
			// Another worker may have the memory: the run goes back to
			// the queue, and this worker takes it no more (Work).
			err := &TooBigError{fmt.Sprintf("estimated training memory %v exceeds this worker's %s", est, opt.Memory.Name)}
			if opt.tooBig != nil {
				opt.tooBig(rec.ID, err)
			}
			return giveBack(err)
		}
		switch err := waitForRoom(ctx, st, opt, rec.ID, owner, est.Bytes); {
		case errors.Is(err, store.ErrNotOwner):
			return lost("taken over by another worker while it waited for memory")
		case err != nil: // stopped while waiting, or the database is gone
			return giveBack(errors.New(HandedBack))
		}
		defer opt.room.Release(est.Bytes)
	}
	prepStart := time.Now()
	var resume []byte
	from := 0
	if claim.Prev != store.StatusQueued {
		if data, err := st.Artifact(bg, rec.ID, artifact.KindCheckpoint, artifact.NameCheckpoint); err == nil {
			resume = data
			from = checkpointStep(data)
		} else if !errors.Is(err, store.ErrNotFound) {
			return notRun(store.StatusFailed, err)
		}
	}
	// Metrics after the checkpoint belong to steps that will run again; a
	// fresh start drops any history of an earlier attempt, and first its
	// checkpoint (a requeued run's): left behind, it would be resumed from
	// if this attempt died before its own first checkpoint, over a history
	// emptied here. Both deletions are guarded by the owner: a worker that
	// stalled since its claim (a GC pause, SIGSTOP, a slow network) may have
	// lost the run, and must not delete what the new owner wrote.
	const lostBeforeStart = "taken over by another worker before it started training"
	keep := from
	if resume == nil {
		keep = -1
		switch _, err := st.DeleteOwnedArtifacts(bg, rec.ID, owner, artifact.KindCheckpoint); {
		case errors.Is(err, store.ErrNotOwner):
			return lost(lostBeforeStart)
		case err != nil:
			return notRun(store.StatusFailed, err)
		}
	}
	switch err := st.TruncateOwnedMetrics(bg, rec.ID, owner, keep); {
	case errors.Is(err, store.ErrNotOwner):
		return lost(lostBeforeStart)
	case err != nil:
		return notRun(store.StatusFailed, err)
	}
	out.Cost.Prepare = time.Since(prepStart)
	if claim.Lost != "" && opt.OnTakeover != nil {
		opt.OnTakeover(Takeover{Run: rec, Label: label, From: claim.LostFrom, Why: claim.Lost, Step: from})
	}
	var rr RunReporter
	if opt.Reporter != nil {
		rr = opt.Reporter.Begin(rec, from, cfg.Train.Steps)
	}
	runCtx, cancelRun := context.WithCancelCause(ctx)
	defer cancelRun(nil)
	sr := newStoreRecorder(bg, st, rec.ID, owner, rr, opt.MetricsEvery)
	hbCtx, stopHB := context.WithCancel(bg)
	hbDone := make(chan struct{})
	var hbTime time.Duration // written by the heartbeat goroutine, read after hbDone
	var hbCount int
	go func() {
		defer close(hbDone)
		t := time.NewTicker(opt.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				// A missed beat is retried at the next tick; a lost run or
				// a lost database stops the training.
				t0 := time.Now()
				err := st.Heartbeat(hbCtx, rec.ID, owner)
				hbTime += time.Since(t0)
				hbCount++
				if errors.Is(err, store.ErrNotOwner) {
					cancelRun(ErrTakenOver)
					return
				}
				if errors.Is(err, store.ErrNotFound) {
					cancelRun(ErrRemoved)
					return
				}
				if errors.Is(err, store.ErrDatabaseGone) {
					cancelRun(err)
					return
				}
			}
		}
	}()
	res, err := trainSafely(runCtx, cfg, sr, Options{Resume: resume, NoMetrics: opt.NoMetrics, Memory: opt.Memory})
	stopHB()
	<-hbDone
	if ferr := sr.close(); ferr != nil && err == nil {
		err = ferr
	}
	out.Cost.Heartbeats, out.Cost.HeartbeatCount = hbTime, hbCount
	out.Cost.Metrics, out.Cost.MetricWrites = sr.metricTime, sr.metricWrites
	out.Cost.Artifacts, out.Cost.ArtifactWrites = sr.artifactTime, sr.artifactWrites
	finishStart := time.Now()
	cause := context.Cause(runCtx)
	if errors.Is(cause, ErrTakenOver) || errors.Is(err, store.ErrNotOwner) {
		// Noticed by a heartbeat, or by an artifact write (a checkpoint),
		// which is guarded by the owner too.
		out.Err = ErrTakenOver
		out.Note = "taken over by another worker (this one missed its heartbeats)"
		if r, gerr := st.RunByID(bg, rec.ID); gerr == nil {
			out.Run, out.Status = r, r.Status
		}
		if rr != nil {
			rr.End(store.StatusInterrupted, ErrTakenOver)
		}
		return out
	}
	if errors.Is(cause, ErrRemoved) || errors.Is(err, store.ErrNotFound) {
		// Noticed by a heartbeat or by a guarded write (a metric flush, a
		// checkpoint): the run is no longer in the database. Nothing can
		// be recorded, and it did not fail.
		if _, gerr := st.RunByID(bg, rec.ID); errors.Is(gerr, store.ErrNotFound) {
			out.Err = ErrRemoved
			if rr != nil {
				rr.End(store.StatusInterrupted, ErrRemoved)
			}
			return out
		}
	}
	if errors.Is(cause, store.ErrDatabaseGone) {
		err = cause
	}
	status := store.StatusDone
	var end store.Ending
	switch {
	case errors.Is(err, store.ErrDatabaseGone):
		// Stopped, not failed: no database records it failed (the file
		// that holds it is gone, or another took its place).
		out.Status, out.Err = store.StatusInterrupted, err
		if rr != nil {
			rr.End(out.Status, err)
		}
		return out // nothing more can be stored
	case st.Unreachable(err):
		// A write gave up: the server stayed unreachable for longer than
		// the store rides out. The run did not fail; hand it back if the
		// server answers now, else leave it running for another worker to
		// take over.
		out = handBackUnreachable(bg, st, owner, out, err, false)
		out.Cost.Finish = time.Since(finishStart)
		if rr != nil {
			rr.End(out.Status, out.Err)
		}
		return out
	case err == nil:
		end.Summaries = res.Summaries
		if !rec.KeepCheckpoints {
			// The final weights stay; the intermediate checkpoint is no
			// longer needed (train.keep_checkpoints keeps it).
			end.DropKinds = []string{artifact.KindCheckpoint}
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		status, err = store.StatusInterrupted, errors.New(HandedBack)
	case opt.Memory.Bytes > 0 && errors.As(err, new(*tasks.OverMemoryError)):
		// Its dataset is bigger than the estimate said, and than this
		// worker's whole memory: another worker may have the memory. It
		// was built before any step, so the claim trained nothing.
		tb := &TooBigError{err.Error()}
		if opt.tooBig != nil {
			opt.tooBig(rec.ID, tb)
		}
		status, err, end.Untrained = store.StatusInterrupted, tb, true
	default:
		status = store.StatusFailed
	}
	out = finishRunWith(bg, st, owner, out, status, err, end)
	out.Cost.Finish = time.Since(finishStart)
	if rr != nil {
		rr.End(out.Status, out.Err)
	}
	return out
}

// handBackUnreachable ends a run whose training stopped, or never
// started, because the database was unreachable (err): it is handed back
// to the queue (status interrupted; untrained: its claim uncounted,
// store.Ending.Untrained) if one try, bounded by handBackTimeout, reaches
// the server; else the Outcome is the run left running, with a *LeftError.
func handBackUnreachable(ctx context.Context, st *store.Store, owner store.Owner, out Outcome, err error, untrained bool) Outcome {
	hctx, cancel := context.WithTimeout(ctx, handBackTimeout)
	r, ferr := st.FinishRun(hctx, out.Run.ID, owner, store.Ending{Status: store.StatusInterrupted, Error: HandedBackOutage, Untrained: untrained})
	cancel()
	switch {
	case ferr == nil:
		out.Run, out.Status, out.Err = r, store.StatusInterrupted, errors.New(HandedBackOutage)
	case errors.Is(ferr, store.ErrNotOwner):
		out.Err, out.Note = ErrTakenOver, "taken over by another worker while the database was unreachable"
		if r, gerr := st.RunByID(ctx, out.Run.ID); gerr == nil {
			out.Run, out.Status = r, r.Status
		}
	default:
		out.Status, out.Err = store.StatusRunning, &LeftError{Err: err}
	}
	return out
}

// waitForRoom takes n bytes of the worker's memory room for run id,
// heartbeating the run meanwhile, so that a run waiting for the runs in
// training to end stays this worker's and is not taken for dead. It
// returns ctx's error if the worker stops first, or the heartbeat's
// (store.ErrNotOwner: another worker took the run over); the room is then
// not held.
func waitForRoom(ctx context.Context, st *store.Store, opt WorkOptions, id int64, owner store.Owner, n int64) error {
	if opt.room.TryAcquire(n) {
		return nil
	}
	waitCtx, stop := context.WithCancel(ctx)
	defer stop()
	got := make(chan error, 1)
	go func() { got <- opt.room.Acquire(waitCtx, n) }()
	t := time.NewTicker(opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case err := <-got:
			return err
		case <-t.C:
			err := st.Heartbeat(ctx, id, owner)
			if errors.Is(err, store.ErrNotOwner) || errors.Is(err, store.ErrDatabaseGone) {
				stop()
				if <-got == nil { // acquired as it was stopped
					opt.room.Release(n)
				}
				return err
			}
		}
	}
}

// pointLabel names a run by its sweep point, "k=v k=v" in key order.
func pointLabel(point string) string {
	var m map[string]any
	if json.Unmarshal([]byte(point), &m) != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, m[k])
	}
	return strings.Join(parts, " ")
}
