package runs

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/attnlab/attnlab/store"
)

// NewBarReporter shows one progress bar per active run (name, step/total,
// loss, tokens/s, ETA) and an overall bar, on w (a terminal).
func NewBarReporter(w io.Writer) Reporter {
	return &barReporter{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond))}
}

type barReporter struct {
	p       *mpb.Progress
	overall *mpb.Bar
}

func (b *barReporter) Start(total, done int) {
	b.overall = b.p.AddBar(int64(total),
		mpb.PrependDecorators(decor.Name("runs", decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace)),
		mpb.BarPriority(math.MaxInt))
	b.overall.SetCurrent(int64(done))
}

func (b *barReporter) Begin(run store.Run, label string, from, total int) RunReporter {
	r := &barRun{overall: b.overall}
	name := runName(run, label)
	r.bar = b.p.AddBar(int64(max(total, 1)),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return r.status() }, decor.WCSyncSpace),
			decor.OnComplete(decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WCSyncSpace), "done"),
		),
		mpb.BarRemoveOnComplete())
	r.bar.SetCurrent(int64(from))
	r.last = time.Now()
	return r
}

func (b *barReporter) Wait() {
	if b.overall != nil && !b.overall.Completed() {
		b.overall.Abort(false)
	}
	b.p.Wait()
}

type barRun struct {
	mu      sync.Mutex
	bar     *mpb.Bar
	overall *mpb.Bar
	loss    float64
	tps     float64
	last    time.Time
}

func (r *barRun) status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("loss %.4f  %s tok/s", r.loss, compact(r.tps))
}

func (r *barRun) Update(p Progress) {
	r.mu.Lock()
	if p.Loss != 0 {
		r.loss = p.Loss
	}
	if p.TokensPerSec != 0 {
		r.tps = p.TokensPerSec
	}
	r.mu.Unlock()
	if p.Total > 0 {
		r.bar.SetTotal(int64(p.Total), false)
	}
	now := time.Now()
	r.bar.EwmaSetCurrent(int64(p.Step), now.Sub(r.last))
	r.last = now
}

func (r *barRun) End(status store.Status, _ error) {
	if status == store.StatusDone {
		r.bar.SetTotal(-1, true)
	} else {
		r.bar.Abort(true)
	}
	if r.overall != nil && status == store.StatusDone {
		r.overall.Increment()
	}
}

// NewLogReporter writes one plain line per evaluation and per finished run
// to w, for logs and terminals without bars.
func NewLogReporter(w io.Writer) Reporter { return &logReporter{w: w} }

type logReporter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *logReporter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

func (l *logReporter) Start(total, done int) {
	l.printf("%s runs: %d planned, %d already done\n", stamp(), total, done)
}

func (l *logReporter) Begin(run store.Run, label string, from, total int) RunReporter {
	verb := "start"
	if from > 0 {
		verb = fmt.Sprintf("resume at step %d", from)
	}
	name := runName(run, label)
	l.printf("%s %s: %s\n", stamp(), name, verb)
	return &logRun{l: l, name: name}
}

func (l *logReporter) Wait() {}

type logRun struct {
	l    *logReporter
	name string
	tps  float64
}

func (r *logRun) Update(p Progress) {
	if p.TokensPerSec != 0 {
		r.tps = p.TokensPerSec
	}
	if p.Eval == nil {
		return
	}
	keys := make([]string, 0, len(p.Eval))
	for k := range p.Eval {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.4g", k, p.Eval[k])
	}
	train := ""
	if p.Loss != 0 {
		train = fmt.Sprintf(" train/loss %.4g", p.Loss)
	}
	rate := ""
	if r.tps != 0 {
		rate = fmt.Sprintf(" (%s tok/s)", compact(r.tps))
	}
	r.l.printf("%s %s: step %d/%d%s%s%s\n", stamp(), r.name, p.Step, p.Total, train, b.String(), rate)
}

func (r *logRun) End(status store.Status, err error) {
	if err != nil {
		r.l.printf("%s %s: %s: %s\n", stamp(), r.name, status, firstLines(err.Error(), 1))
		return
	}
	r.l.printf("%s %s: %s\n", stamp(), r.name, status)
}

func stamp() string { return time.Now().Format("15:04:05") }

func runName(run store.Run, label string) string {
	name := fmt.Sprintf("run %d seed %d", run.ID, run.Seed)
	if label != "" {
		name += " " + label
	}
	return name
}

// compact formats a rate with a k/M suffix.
func compact(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
