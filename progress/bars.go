package progress

import (
	"io"
	"math"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

var (
	_ runs.GaveUpReporter         = (*bars)(nil)
	_ runs.FailedBeforeReporter   = (*bars)(nil)
	_ runs.DivergedBeforeReporter = (*bars)(nil)
)

// Bars returns a reporter that draws a bar per running run and an overall
// bar on w, a terminal whose width it reads at every refresh.
func Bars(w io.Writer) runs.Reporter {
	return newBars(mpb.WithOutput(w), mpb.WithRefreshRate(200*time.Millisecond))
}

func newBars(opts ...mpb.ContainerOption) *bars {
	return &bars{p: mpb.New(opts...), eta: newETA(time.Now), longest: len("runs")}
}

type bars struct {
	p   *mpb.Progress
	eta *eta

	mu       sync.Mutex
	stopped  bool // Wait came after an execution that stopped short: no ETA any more
	short    bool // a run was interrupted or skipped: the execution stops short
	failed   int  // runs that ended failed, were given up on, had failed before, or diverged before
	overall  *mpb.Bar
	total    int // runs in the plan
	longest  int // the longest name begun so far
	counters int // the widest counters
}

// columns returns the layout for a terminal of width columns.
func (b *bars) columns(width int) columns {
	b.mu.Lock()
	defer b.mu.Unlock()
	return layout(width, b.longest, b.counters)
}

func (b *bars) Start(total, done, steps int) {
	b.eta.start(total, done, steps)
	b.mu.Lock()
	b.total = total
	b.counters = max(b.counters, countersCols(total))
	b.mu.Unlock()
	line := func(c columns) (string, string) {
		done, elapsed, eta := b.eta.overall()
		b.mu.Lock()
		stopped, failed := b.stopped, b.failed
		b.mu.Unlock()
		return overallLine{done: done, total: total, failed: failed, elapsed: elapsed, eta: eta, stopped: stopped}.fit(c)
	}
	left, right := b.pair(line)
	b.overall = b.p.AddBar(int64(max(total, 1)),
		mpb.PrependDecorators(left), mpb.AppendDecorators(right),
		mpb.BarWidth(MaxBar), mpb.BarPriority(math.MaxInt))
	b.overall.SetCurrent(int64(done))
}

// pair returns the left and right decorators of a line: the left one lays
// the line out with the terminal's whole width (what mpb gives the first
// decorator), the right one reuses that layout.
func (b *bars) pair(line func(columns) (string, string)) (left, right decor.Decorator) {
	var mu sync.Mutex
	var c columns
	left = decor.Any(func(s decor.Statistics) string {
		mu.Lock()
		c = b.columns(s.AvailableWidth)
		cc := c
		mu.Unlock()
		l, _ := line(cc)
		return l
	})
	right = decor.Any(func(decor.Statistics) string {
		mu.Lock()
		cc := c
		mu.Unlock()
		_, r := line(cc)
		return r
	})
	return left, right
}

func (b *bars) Begin(run store.Run, from, total int) runs.RunReporter {
	name := printable.Line(run.Name())
	b.mu.Lock()
	b.longest = max(b.longest, cols(name))
	b.counters = max(b.counters, countersCols(total))
	b.mu.Unlock()
	r := &barRun{name: name, from: from, began: time.Now(), step: from, total: total, eta: b.eta.begin(run.ID, from, total), overall: b.overall, b: b}
	left, right := b.pair(func(c columns) (string, string) { return r.line().fit(c) })
	r.bar = b.p.AddBar(int64(max(total, 1)),
		mpb.PrependDecorators(left), mpb.AppendDecorators(right),
		mpb.BarWidth(MaxBar), mpb.BarRemoveOnComplete())
	r.bar.SetCurrent(int64(from))
	return r
}

// Skip takes the run's steps out of the overall ETA; a run skipped means
// the execution stops short (see Wait).
func (b *bars) Skip(_ store.Run, steps int, _ string) {
	b.eta.skip(steps)
	b.mu.Lock()
	b.short = true
	b.mu.Unlock()
}

// GaveUp takes the run's steps out of the overall ETA (see
// runs.GaveUpReporter) and counts the run failed; the command says why on
// a line of its own.
func (b *bars) GaveUp(run store.Run, steps int) {
	b.eta.gaveUp(run.ID, steps)
	b.mu.Lock()
	b.failed++
	b.mu.Unlock()
}

// FailedBefore counts the runs of the plan that had failed before this
// execution (runs.FailedBeforeReporter): skipped, they leave the overall
// bar short of its total, and the line says why ("1 failed").
func (b *bars) FailedBefore(n int) {
	b.mu.Lock()
	b.failed += n
	b.mu.Unlock()
}

// DivergedBefore counts failed the runs of the plan stored done with a
// ±Inf loss or perplexity by an old build (runs.DivergedBeforeReporter),
// which Start's done leaves out: like the runs that failed before, they
// leave the overall bar short of its total, and the line says why.
func (b *bars) DivergedBefore(n int) {
	b.mu.Lock()
	b.failed += n
	b.mu.Unlock()
}

// ended counts a run's end: failed, or interrupted (the execution stops
// short: an interrupt, or its database file gone, stops every run).
func (b *bars) ended(status store.Status) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch status {
	case store.StatusFailed:
		b.failed++
	case store.StatusDone:
	default:
		b.short = true
	}
}

// Wait draws the overall line a last time and stops. An execution that
// stopped short (a run interrupted or skipped: an interrupt, or its
// database file gone; or steps left untrained by it: a run another
// process held, waited for) has no ETA: that line shows the time elapsed
// alone. One whose runs all ended, some failed, keeps its line as a
// finished one's, with the failures counted ("1 failed").
func (b *bars) Wait() {
	if b.overall != nil && !b.overall.Completed() {
		untrained := b.eta.untrained()
		b.mu.Lock()
		b.stopped = b.short || untrained
		b.mu.Unlock()
		b.overall.Abort(false)
	}
	b.p.Wait()
}

type barRun struct {
	bar     *mpb.Bar
	overall *mpb.Bar
	b       *bars
	name    string
	from    int
	began   time.Time
	eta     *runETA

	mu          sync.Mutex
	step, total int
	loss, tps   float64
}

// line returns what the run's line shows now; its ETA is
// (total − step)·t/(step − from), t the time since the run began.
func (r *barRun) line() runLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := runLine{name: r.name, step: r.step, total: r.total, loss: r.loss, tps: r.tps, eta: -1}
	if r.step > r.from {
		l.eta = time.Duration(float64(time.Since(r.began)) * float64(r.total-r.step) / float64(r.step-r.from))
	}
	return l
}

func (r *barRun) Update(p runs.Progress) {
	r.mu.Lock()
	if p.Loss != 0 {
		r.loss = p.Loss
	}
	if p.TokensPerSec != 0 {
		r.tps = p.TokensPerSec
	}
	if p.Total > 0 {
		r.total = p.Total
	}
	r.step = p.Step
	total := r.total
	r.mu.Unlock()
	r.eta.update(p.Step)
	r.bar.SetTotal(int64(max(total, 1)), false)
	r.bar.SetCurrent(int64(p.Step))
}

func (r *barRun) End(status store.Status, _ error) {
	r.eta.end(status)
	r.b.ended(status)
	if status == store.StatusDone {
		r.bar.SetTotal(-1, true)
		if r.overall != nil {
			r.overall.Increment()
		}
	} else {
		r.bar.Abort(true)
	}
}
