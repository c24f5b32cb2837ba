package progress

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attnlab/attnlab/internal/printable"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

var (
	_ runs.GaveUpReporter         = (*logger)(nil)
	_ runs.FailedBeforeReporter   = (*logger)(nil)
	_ runs.DivergedBeforeReporter = (*logger)(nil)
)

// Log returns a reporter that writes one plain line per run start,
// evaluation, end and skip to w, for logs and terminals without bars.
func Log(w io.Writer) runs.Reporter { return newLog(w, time.Now) }

func newLog(w io.Writer, now func() time.Time) *logger {
	return &logger{w: w, now: now, eta: newETA(now)}
}

type logger struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	eta   *eta
	total int
	// diverged is how many runs of the plan were stored done with a ±Inf
	// loss or perplexity (runs.DivergedBeforeReporter), told before Start.
	diverged int
	// header is Start's line, not printed yet: FailedBefore, told right
	// after Start, adds its count to it and prints it; any other line
	// (or Wait) prints it first, for a caller that never tells
	// FailedBefore. done is Start's count of done runs, failed
	// FailedBefore's.
	header       bool
	done, failed int
	// failedNow is how many runs of this execution ended failed or were
	// given up on (runs.GaveUpReporter): with failed and diverged, what
	// each run's last line counts as failed, as the bars' overall line
	// does.
	failedNow int
	// skipped is the reason of the last line, when it was a skip, and
	// more how many skips for the same reason came after it, not printed
	// yet: an interrupted sweep would list every run left with the same
	// "not run: interrupted".
	skipped string
	more    int
}

func (l *logger) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.printfLocked(format, args...)
}

// printfLocked is printf with l.mu held: Start's line if it is not
// printed yet, the skips counted so far, then the line.
func (l *logger) printfLocked(format string, args ...any) {
	l.flushHeader()
	l.flushSkips()
	l.skipped = ""
	fmt.Fprintf(l.w, "%s "+format+"\n", append([]any{l.now().Format("15:04:05")}, args...)...)
}

// flushSkips prints the skips counted since the last line, with l.mu held.
func (l *logger) flushSkips() {
	if l.more == 0 {
		return
	}
	runs := "runs"
	if l.more == 1 {
		runs = "run"
	}
	fmt.Fprintf(l.w, "%s %d more %s not run: %s\n", l.now().Format("15:04:05"), l.more, runs, l.skipped)
	l.more = 0
}

// Start keeps the plan's line until FailedBefore (runs.Execute tells it
// right after Start, with 0 when no run failed before), or any other
// line, prints it: that line counts the runs that failed before too.
func (l *logger) Start(total, done, steps int) {
	l.eta.start(total, done, steps)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total, l.done = total, done
	// A queue worker has no plan to announce (runs.Unplanned).
	l.header = total >= 0
}

// flushHeader prints Start's line if it is not printed yet, with l.mu
// held: the runs planned, already done, failed before, and stored done
// with a ±Inf loss or perplexity — the counts the bars show.
func (l *logger) flushHeader() {
	if !l.header {
		return
	}
	l.header = false
	line := fmt.Sprintf("runs: %d planned, %d already done", l.total, l.done)
	if l.failed > 0 {
		line += fmt.Sprintf(", %d failed before", l.failed)
	}
	if l.diverged > 0 {
		line += fmt.Sprintf(", %d stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed", l.diverged)
	}
	fmt.Fprintf(l.w, "%s %s\n", l.now().Format("15:04:05"), line)
}

// FailedBefore counts, on Start's line, the runs of the plan that had
// failed before this execution (runs.FailedBeforeReporter), which it
// skips, and prints that line.
func (l *logger) FailedBefore(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed += n
	l.flushHeader()
}

// DivergedBefore counts apart, on Start's line, the runs of the plan
// stored done with a ±Inf loss or perplexity (runs.DivergedBeforeReporter),
// in the words of the command's note: they are not done.
func (l *logger) DivergedBefore(n int) {
	l.mu.Lock()
	l.diverged += n
	l.mu.Unlock()
}

func (l *logger) Begin(run store.Run, from, total int) runs.RunReporter {
	verb := "start"
	if from > 0 {
		verb = fmt.Sprintf("resume at step %d", from)
	}
	name := printable.Line(run.Name())
	l.printf("%s: %s", name, verb)
	return &logRun{l: l, name: name, eta: l.eta.begin(run.ID, from, total)}
}

// Skip prints the first of consecutive skips for one reason with the run's
// name, and counts the others into one line ("13 more runs not run:
// interrupted"), printed before the next line or by Wait.
func (l *logger) Skip(run store.Run, steps int, why string) {
	l.eta.skip(steps)
	why = printable.Line(firstLine(why))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.skipped != "" && l.skipped == why {
		l.more++
		return
	}
	l.printfLocked("%s: not run: %s", printable.Line(run.Name()), why)
	l.skipped = why
}

// GaveUp takes the run's steps out of the overall ETA (see
// runs.GaveUpReporter) and counts the run failed on the next run's line;
// it prints nothing: the command says why on a line of its own.
func (l *logger) GaveUp(run store.Run, steps int) {
	l.eta.gaveUp(run.ID, steps)
	l.mu.Lock()
	l.failedNow++
	l.mu.Unlock()
}

func (l *logger) Wait() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushHeader()
	l.flushSkips()
}

type logRun struct {
	l    *logger
	name string
	eta  *runETA

	mu  sync.Mutex
	tps float64
}

func (r *logRun) Update(p runs.Progress) {
	r.eta.update(p.Step)
	r.mu.Lock()
	if p.TokensPerSec != 0 {
		r.tps = p.TokensPerSec
	}
	tps := r.tps
	r.mu.Unlock()
	if p.Eval == nil {
		return
	}
	var b strings.Builder
	if p.Loss != 0 {
		fmt.Fprintf(&b, " train/loss %.4g", p.Loss)
	}
	keys := make([]string, 0, len(p.Eval))
	for k := range p.Eval {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s %.4g", k, p.Eval[k])
	}
	if tps != 0 {
		fmt.Fprintf(&b, " (%s tok/s)", compact(tps))
	}
	r.l.printf("%s: step %d/%d%s", r.name, p.Step, p.Total, b.String())
}

func (r *logRun) End(status store.Status, err error) {
	r.eta.end(status)
	done, _, left := r.l.eta.overall()
	r.l.mu.Lock()
	if status == store.StatusFailed {
		r.l.failedNow++
	}
	total, failed := r.l.total, r.l.failed+r.l.diverged+r.l.failedNow
	r.l.mu.Unlock()
	var runsLine string
	switch {
	case total < 0:
		// A queue worker's runs are not known in advance: its own count,
		// with neither a total nor an ETA.
		runsLine = fmt.Sprintf("%d done by this worker", done)
	default:
		runsLine = fmt.Sprintf("%d/%d runs done", done, total)
	}
	if failed > 0 {
		// Counted as the bars' overall line counts them: without it
		// "4/5 runs done" of a finished plan reads as one still running.
		runsLine += fmt.Sprintf(", %d failed", failed)
	}
	if total >= 0 && left >= 0 && status != store.StatusInterrupted { // an interrupted run stops the rest too
		runsLine += ", ETA " + duration(left)
	}
	r.l.printf("%s: %s (%s)", r.name, printable.Line(Outcome(status, err)), runsLine)
}

// Outcome is how a run ended, for one line: its status, and the first
// line of its error when it has one ("failed: loss is NaN at step 12"),
// the status said once when the error starts with it ("interrupted:
// handed back to the queue, to resume from its last checkpoint").
//
// A run stopped because the database file was deleted or replaced says so
// in those words (store.ErrDatabaseGone's), not with the write that noticed
// it — often another run's: the command's error names the file, once.
func Outcome(status store.Status, err error) string {
	if err == nil {
		return string(status)
	}
	if errors.Is(err, store.ErrDatabaseGone) {
		err = store.ErrDatabaseGone
	}
	msg := firstLine(err.Error())
	if strings.HasPrefix(msg, string(status)+":") {
		return msg
	}
	return string(status) + ": " + msg
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
