package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/store"
	"github.com/attnlab/attnlab/tensor"
)

// ExecOptions control Execute.
type ExecOptions struct {
	// Workers is the number of runs trained at once (default: the number of
	// CPUs divided by the largest train.threads of the plan). Each run is
	// single-threaded unless its train.threads asks for intra-op threads,
	// which apply to the whole process.
	Workers int
	// Version is attnlab's version, recorded with each run.
	Version string
	// Heartbeat is how often a running run proves it is alive (default 5 s);
	// StaleAfter is how old a heartbeat must be before another process may
	// take the run over (default 12 heartbeats). A run whose process died
	// on this host is taken over at once.
	Heartbeat, StaleAfter time.Duration
	// Reporter shows progress (nil: none).
	Reporter Reporter
	// Waiting, when not nil, is called once for each run that another live
	// process holds when this execution has nothing else to do; Execute
	// then waits for those runs (see Execute). why says who holds the run.
	Waiting func(run store.Run, label, why string)
	// NoMetrics turns off per-step metric recording (overhead measurements).
	NoMetrics bool
}

// Reporter shows the progress of an execution (package progress has the
// reporters the CLI uses). Its methods may be called from several
// goroutines at once.
type Reporter interface {
	// Start announces the plan: how many runs, how many are already done,
	// and how many training steps the others take (a run that resumes
	// announces the steps already trained in Begin).
	Start(total, done, steps int)
	// Begin announces that a run of total steps starts (or resumes at step
	// from).
	Begin(run store.Run, from, total int) RunReporter
	// Skip announces that a run of the plan that is neither done nor
	// failed will not be trained by this execution, and why (the execution
	// was interrupted, or the run could not be claimed or prepared). A run
	// another process holds is not skipped: Execute waits for it
	// (ExecOptions.Waiting).
	Skip(run store.Run, steps int, why string)
	// Wait flushes the display after the last run ended.
	Wait()
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
// (queued), then trains them with a pool of workers: runs already done or
// failed are skipped; interrupted runs, and runs left running by a process
// that died, resume from their last checkpoint; queued runs start fresh.
// A run that fails, or panics with a tensor.Error, is recorded as failed
// with its error and the others go on; a run that panics otherwise (a bug) is
// recorded as failed with the one-line message of a *Bug, which its Outcome
// carries with the stack. Cancelling ctx checkpoints the running runs,
// records them as interrupted and returns ctx's error after every worker
// stopped.
//
// A run of the plan that another live process holds (running, with a fresh
// heartbeat) is waited for once every other run is finished: Execute polls it
// about once a second until it is done or failed, or until its owner dies or
// goes stale, when this process takes it over and resumes it. Cancelling ctx
// stops the waiting; such a run's Outcome then has status running and a
// Note saying who holds it.
func Execute(ctx context.Context, st *store.Store, x *experiments.Experiment, opt ExecOptions) (*Report, error) {
	plan, err := x.Plan()
	if err != nil {
		return nil, err
	}
	// train.threads is intra-op parallelism for large matrix products; it is
	// process-wide, so the workers share the cores with it.
	threads := 1
	for _, r := range plan {
		threads = max(threads, r.Config.Train.Threads)
	}
	if opt.Workers <= 0 {
		opt.Workers = max(1, runtime.NumCPU()/threads)
	}
	if threads > 1 {
		old := tensor.Threads()
		tensor.SetThreads(threads)
		defer tensor.SetThreads(old)
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 5 * time.Second
	}
	if opt.StaleAfter <= 0 {
		opt.StaleAfter = 12 * opt.Heartbeat
	}
	expID, err := st.PutExperiment(ctx, x.Name, x.Description, x.YAML)
	if err != nil {
		return nil, err
	}
	specs := make([]store.RunSpec, len(plan))
	for i, r := range plan {
		point, err := json.Marshal(r.Point)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i, err)
		}
		ps := make([]store.Param, len(r.Params))
		for j, p := range r.Params {
			ps[j] = store.Param{Key: p.Key, Value: p.Value}
		}
		specs[i] = store.RunSpec{Hash: r.Hash, Seed: int64(r.Seed), Config: string(r.Canonical), Point: string(point), Params: ps}
	}
	recs, err := st.EnsureRuns(ctx, expID, specs)
	if err != nil {
		return nil, err
	}
	rep := &Report{ExperimentID: expID, Outcomes: make([]Outcome, len(plan))}
	done, steps := 0, 0
	for i, r := range recs {
		rep.Outcomes[i] = Outcome{Run: r, Label: plan[i].Label, Status: r.Status}
		switch r.Status {
		case store.StatusDone:
			done++
		case store.StatusFailed:
		default:
			steps += plan[i].Config.Train.Steps
		}
	}
	if opt.Reporter != nil {
		opt.Reporter.Start(len(plan), done, steps)
		defer opt.Reporter.Wait()
	}
	owner := store.CurrentOwner(opt.Version)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rep.Outcomes[i] = executeOne(ctx, st, owner, plan[i], recs[i], opt)
			}
		}()
	}
	for i, r := range recs {
		if r.Status == store.StatusDone || r.Status == store.StatusFailed {
			rep.Outcomes[i].Note = "skipped: " + string(r.Status)
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	waitForHeld(ctx, st, owner, plan, recs, rep, opt)
	return rep, ctx.Err()
}

// held reports whether an outcome is a run that another process holds.
func held(o Outcome) bool { return o.Status == store.StatusRunning && o.Err == nil && o.Note != "" }

// waitForHeld waits for the runs that other processes hold (see Execute),
// taking over those whose owner dies or goes stale.
func waitForHeld(ctx context.Context, st *store.Store, owner store.Owner, plan []experiments.Run, recs []store.Run, rep *Report, opt ExecOptions) {
	var waiting []int
	for i, o := range rep.Outcomes {
		if held(o) {
			waiting = append(waiting, i)
			if opt.Waiting != nil {
				opt.Waiting(o.Run, o.Label, o.Note)
			}
		}
	}
	poll := min(time.Second, opt.Heartbeat)
	t := time.NewTicker(poll)
	defer t.Stop()
	for len(waiting) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		still := waiting[:0]
		for _, i := range waiting {
			if ctx.Err() != nil {
				return // the runs not polled keep their outcome
			}
			prev := rep.Outcomes[i]
			o := executeOne(ctx, st, owner, plan[i], recs[i], opt)
			if ctx.Err() != nil && o.Err == nil && o.Note == "" && o.Status == prev.Status {
				o = prev // cancelled before executeOne looked at the run
			}
			if held(o) {
				still = append(still, i)
			}
			rep.Outcomes[i] = o
		}
		waiting = still
	}
}

// executeOne claims and trains one run.
func executeOne(ctx context.Context, st *store.Store, owner store.Owner, plan experiments.Run, rec store.Run, opt ExecOptions) (out Outcome) {
	out = Outcome{Run: rec, Label: plan.Label, Status: rec.Status}
	if ctx.Err() != nil {
		skip(opt.Reporter, rec, plan, "interrupted")
		return out
	}
	// Claim with a context that outlives cancellation, so bookkeeping
	// after Ctrl-C still reaches the store.
	bg := context.WithoutCancel(ctx)
	claim, err := st.Claim(bg, rec.ID, owner, opt.StaleAfter)
	if err != nil {
		out.Err = err
		skip(opt.Reporter, rec, plan, err.Error())
		return out
	}
	out.Run = claim.Run
	if !claim.Claimed {
		out.Status, out.Note = claim.Run.Status, claim.Reason
		return out
	}
	var resume []byte
	from := 0
	if claim.Prev != store.StatusQueued {
		if data, err := st.Artifact(bg, rec.ID, artifact.KindCheckpoint, artifact.NameCheckpoint); err == nil {
			resume = data
			from = checkpointStep(data)
		} else if !errors.Is(err, store.ErrNotFound) {
			skip(opt.Reporter, claim.Run, plan, err.Error())
			return finishRun(bg, st, owner, out, store.StatusFailed, err)
		}
	}
	// Metrics after the checkpoint belong to steps that will run again; a
	// fresh start drops any history of an earlier attempt.
	keep := from
	if resume == nil {
		keep = -1
	}
	if err := st.TruncateMetrics(bg, rec.ID, keep); err != nil {
		skip(opt.Reporter, claim.Run, plan, err.Error())
		return finishRun(bg, st, owner, out, store.StatusFailed, err)
	}
	var rr RunReporter
	if opt.Reporter != nil {
		rr = opt.Reporter.Begin(claim.Run, from, plan.Config.Train.Steps)
	}
	sr := newStoreRecorder(bg, st, rec.ID, rr)
	hbCtx, stopHB := context.WithCancel(bg)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(opt.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = st.Heartbeat(hbCtx, rec.ID, owner) // a missed beat is retried at the next tick
			}
		}
	}()
	res, err := trainSafely(ctx, plan.Config, sr, Options{Resume: resume, NoMetrics: opt.NoMetrics})
	stopHB()
	<-hbDone
	if ferr := sr.close(); ferr != nil && err == nil {
		err = ferr
	}
	status := store.StatusDone
	switch {
	case err == nil:
		if perr := st.PutSummaries(bg, rec.ID, res.Summaries); perr != nil {
			status, err = store.StatusFailed, perr
		}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		status = store.StatusInterrupted
	default:
		status = store.StatusFailed
	}
	out = finishRun(bg, st, owner, out, status, err)
	if rr != nil {
		rr.End(status, err)
	}
	return out
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

func finishRun(ctx context.Context, st *store.Store, owner store.Owner, out Outcome, status store.Status, err error) Outcome {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	out.Status, out.Err = status, err
	if ferr := st.Finish(ctx, out.Run.ID, owner, status, msg); ferr != nil {
		out.Err = errors.Join(err, ferr)
	}
	r, gerr := st.RunByID(ctx, out.Run.ID)
	if gerr != nil {
		out.Err = errors.Join(out.Err, gerr)
		return out
	}
	out.Run = r
	return out
}

// storeRecorder records a run into the store. Metric rows are handed in
// batches to a writer goroutine, so a training step never waits for SQLite;
// Checkpoint and close wait until every row logged before them is written,
// so a checkpoint never runs ahead of the history it belongs to.
type storeRecorder struct {
	ctx     context.Context
	st      *store.Store
	run     int64
	w       *store.MetricWriter
	rep     RunReporter
	pending []metricRow
	batches chan []metricRow
	done    chan error // the writer's result, after batches is closed
	err     error      // the first write error seen
}

type metricRow struct {
	step  int
	key   string
	value float64
}

// recorderBatch is how many rows the training goroutine gathers before
// handing them to the writer.
const recorderBatch = 512

func newStoreRecorder(ctx context.Context, st *store.Store, run int64, rep RunReporter) *storeRecorder {
	s := &storeRecorder{ctx: ctx, st: st, run: run, w: st.NewMetricWriter(run, store.DefaultBatch), rep: rep}
	s.start()
	return s
}

func (s *storeRecorder) start() {
	s.batches = make(chan []metricRow, 4)
	s.done = make(chan error, 1)
	go func(batches <-chan []metricRow, done chan<- error) {
		var err error
		for b := range batches {
			for _, r := range b {
				if err == nil {
					err = s.w.Log(r.step, r.key, r.value)
				}
			}
		}
		if err == nil {
			err = s.w.Flush(s.ctx)
		}
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
	if len(s.pending) > 0 {
		s.batches <- s.pending
		s.pending = nil
	}
	close(s.batches)
	if err := <-s.done; err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}

func (s *storeRecorder) Metric(step int, key string, v float64) error {
	s.pending = append(s.pending, metricRow{step, key, v})
	if len(s.pending) >= recorderBatch {
		s.batches <- s.pending
		s.pending = make([]metricRow, 0, recorderBatch)
	}
	return s.err
}

func (s *storeRecorder) Checkpoint(step int, data []byte) error {
	if err := s.sync(); err != nil {
		return err
	}
	return s.st.PutArtifact(s.ctx, s.run, artifact.KindCheckpoint, artifact.NameCheckpoint, data)
}

func (s *storeRecorder) Artifact(kind, name string, data []byte) error {
	return s.st.PutArtifact(s.ctx, s.run, kind, name, data)
}

func (s *storeRecorder) Progress(p Progress) {
	if s.rep != nil {
		s.rep.Update(p)
	}
}
