package progress

import (
	"sync"
	"time"

	"github.com/attnlab/attnlab/store"
)

// eta estimates when an execution ends from the training steps it still
// needs and the rate at which steps were trained since it started (see the
// package documentation). It is safe for concurrent use.
type eta struct {
	now func() time.Time

	mu        sync.Mutex
	started   time.Time
	done      int   // runs done
	remaining int64 // steps still to train
	trained   int64 // steps trained since start
	// begun holds the runs begun since start: their steps leave remaining
	// as they train and end, not again when a claim gives up on them, and
	// come back when the run is begun again.
	begun map[int64]bool
}

func newETA(now func() time.Time) *eta { return &eta{now: now} }

func (e *eta) start(total, done, steps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started, e.done, e.remaining, e.trained = e.now(), done, int64(steps), 0
	e.begun = map[int64]bool{}
}

// overall returns the runs done, the time since start and the estimated
// time left: 0 when no step is left to train (every run of the plan was
// done, failed or skipped before, or ended since), else −1 while unknown
// (no step trained yet).
func (e *eta) overall() (done int, elapsed, left time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	elapsed = e.now().Sub(e.started)
	left = -1
	switch {
	case e.remaining <= 0:
		left = 0
	case e.trained > 0 && elapsed > 0:
		left = time.Duration(float64(elapsed) * float64(e.remaining) / float64(e.trained))
	}
	return e.done, elapsed, left
}

// untrained reports whether steps of the plan are left that no run of
// this execution trained or ended: those of a run another process held,
// which this one waited for (done or failed there, or left when the
// waiting was interrupted).
func (e *eta) untrained() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.remaining > 0
}

// skip takes a run that will not be trained out of the remaining steps.
func (e *eta) skip(steps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.remaining -= int64(steps)
}

// gaveUp takes a run that a claim failed untrained (runs.GaveUpReporter)
// out of the remaining steps, unless it was begun since start: its steps
// left them then.
func (e *eta) gaveUp(id int64, steps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.begun[id] {
		e.remaining -= int64(steps)
	}
}

// begin follows run id, which resumes at step from of total. A run begun
// before since start has ended since (taken over by another worker, then
// given back to this execution): its end took all its steps out of the
// remaining ones, so those from step from on are needed again.
func (e *eta) begin(id int64, from, total int) *runETA {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.begun == nil {
		e.begun = map[int64]bool{}
	}
	if e.begun[id] {
		e.remaining += int64(max(total-from, 0))
	} else {
		e.remaining -= int64(from)
	}
	e.begun[id] = true
	return &runETA{e: e, last: from, total: total}
}

// runETA is one run's share of an eta.
type runETA struct {
	e           *eta
	last, total int // guarded by e.mu
}

// update records that the run reached step.
func (r *runETA) update(step int) {
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	if d := step - r.last; d > 0 {
		r.e.trained += int64(d)
		r.e.remaining -= int64(d)
		r.last = step
	}
}

// end records how the run ended: its steps not trained leave the
// remaining ones, whatever the status.
func (r *runETA) end(status store.Status) {
	r.e.mu.Lock()
	defer r.e.mu.Unlock()
	r.e.remaining -= int64(max(r.total-r.last, 0))
	r.last = r.total
	if status == store.StatusDone {
		r.e.done++
	}
}
