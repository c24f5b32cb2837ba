package progress

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/attnlab/attnlab/internal/golden"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// render lays a line out as the bars draw it: left, the bar in the
// columns left (at most MaxBar), right.
func render(width int, left, right string) string {
	bar := min(MaxBar, width-cols(left)-cols(right)-2)
	return strings.TrimRight(left+" ["+strings.Repeat("=", max(bar-2, 0))+"] "+right, " ")
}

// TestLines renders a display of four runs and the overall line at 120, 80
// and 40 columns (the golden file shows them) and checks that no line is
// wider than the terminal, that every bar keeps MinBar columns and that
// the bars line up.
func TestLines(t *testing.T) {
	t.Parallel()
	lines := []runLine{
		{name: "quickstart/additive/seed=1", step: 700, total: 1500, loss: 0.04123, tps: 11300, eta: 9 * time.Second},
		{name: "quickstart/multi-head/seed=3", step: 0, total: 1500, eta: -1},
		{name: "quickstart/small,dot,16,32,0.001/seed=2", step: 1200, total: 1500, loss: 1.5, tps: 2.5e6, eta: 2*time.Hour + 3*time.Minute},
		{name: "quickstart/none/seed=12", step: 1499, total: 1500, loss: 12.3456, tps: 999, eta: 59 * time.Second},
	}
	overall := []overallLine{{done: 3, total: 18, elapsed: 48 * time.Second, eta: 234 * time.Second}, {done: 0, total: 18, elapsed: 2 * time.Second, eta: -1},
		{done: 3, total: 18, failed: 2, elapsed: 48 * time.Second, eta: 234 * time.Second}, {done: 3, total: 18, failed: 2, elapsed: 48 * time.Second, eta: -1, stopped: true}}
	longest, counters := 0, countersCols(18)
	for _, l := range lines {
		longest, counters = max(longest, cols(l.name)), max(counters, countersCols(l.total))
	}
	var b strings.Builder
	for _, width := range []int{120, 80, 60, 40} {
		c := layout(width, longest, counters)
		fmt.Fprintf(&b, "%d columns:\n", width)
		barAt := -1
		check := func(left, right string) {
			line := render(width, left, right)
			if cols(left)+cols(right)+2+MinBar > width || cols(line) > width {
				t.Errorf("width %d: %q does not fit with a bar of %d", width, line, MinBar)
			}
			if barAt >= 0 && cols(left) != barAt {
				t.Errorf("width %d: bar at column %d, want %d: %q", width, cols(left), barAt, line)
			}
			barAt = cols(left)
			b.WriteString(line + "\n")
		}
		for _, l := range lines {
			check(l.fit(c))
		}
		for _, o := range overall {
			check(o.fit(c))
		}
	}
	golden.Check(t, "lines.golden", b.String())
}

// TestLossText: a run's loss fits its column (lossCols) however large it
// grows, and keeps its magnitude; a diverging run's loss took 40 columns.
func TestLossText(t *testing.T) {
	for v, want := range map[float64]string{2.34561: "loss 2.3456", 12.3456: "loss 12.3456", 99.99: "loss 99.9900", 123.456: "loss 123.46",
		9999.5: "loss 9999.50", 1.1628e30: "loss 1.2e+30", 99.99999: "loss 100.00", 9999.999: "loss 1.0e+04", math.Inf(1): "loss +Inf", math.NaN(): "loss NaN"} {
		if got := lossText(v); got != want || cols(got) > lossCols {
			t.Errorf("lossText(%v) = %q, want %q, in %d columns at most", v, got, want, lossCols)
		}
	}
}

// TestLayout checks the order in which a narrowing terminal gives things up.
func TestLayout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		width          int
		name           int
		loss, tps, eta bool
	}{
		{200, 40, true, true, true},
		{40 + 1 + 9 + MinBar + 2 + 38, 40, true, true, true},
		{40 + 1 + 9 + MinBar + 2 + 38 - 1, 40, true, false, true},
		{16 + 1 + 9 + MinBar + 2 + 24, 16, true, false, true},
		{16 + 1 + 9 + MinBar + 2 + 24 - 1, 15 + 14, false, false, true}, // the loss and its gap free 14 columns
		{8 + 1 + 9 + MinBar + 2 + 10, 8, false, false, true},
		{8 + 1 + 9 + MinBar + 2 + 10 - 1, 8 + 10 - 1, false, false, false},
		{10, 1, false, false, false},
	} {
		c := layout(tc.width, 40, 9)
		if c.name != tc.name || c.loss != tc.loss || c.tps != tc.tps || c.eta != tc.eta {
			t.Errorf("layout(%d) = %+v, want name %d, loss %v, tps %v, eta %v", tc.width, c, tc.name, tc.loss, tc.tps, tc.eta)
		}
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{0: "0s", 1499 * time.Millisecond: "1s", 59 * time.Second: "59s",
		65 * time.Second: "1m05s", 3599 * time.Second: "59m59s", 3600 * time.Second: "1h00m", 26*time.Hour + 7*time.Minute: "26h07m"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// clock is a fake time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time            { return c.t }
func (c *clock) advance(d time.Duration)   { c.t = c.t.Add(d) }
func newClock() *clock                     { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func (c *clock) since(t time.Time) float64 { return c.t.Sub(t).Seconds() }

// TestETA follows an execution of 4 runs of 100 steps, one done before,
// one resumed at step 40, one stopping early and one held elsewhere: the
// ETA is the steps left over the rate of the steps trained so far.
func TestETA(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newETA(c.now)
	e.start(4, 1, 300)
	if _, _, left := e.overall(); left != -1 {
		t.Fatalf("ETA before any step = %v, want unknown", left)
	}
	a := e.begin(1, 40, 100) // resumes: 240 steps left
	b := e.begin(2, 0, 100)
	c.advance(10 * time.Second)
	a.update(60) // 20 trained
	b.update(20) // 20 trained: 220 left (40 + 80 + the 100 of the fourth run), 40 in 10 s
	if done, elapsed, left := e.overall(); done != 1 || elapsed != 10*time.Second || left != 55*time.Second {
		t.Fatalf("overall = %d, %v, %v; want 1 done, 10s elapsed, ETA 55s (220 steps at 4/s)", done, elapsed, left)
	}
	b.end(store.StatusDone) // stopped early at 20: 80 steps leave
	e.skip(100)             // the fourth run is held by another process
	if _, _, left := e.overall(); left != 10*time.Second {
		t.Fatalf("ETA after an early stop and a skip = %v, want 10s (40 steps at 4/s)", left)
	}
	c.advance(10 * time.Second)
	a.update(100)
	a.update(90) // a step backwards changes nothing
	a.end(store.StatusDone)
	if done, _, left := e.overall(); done != 3 || left != 0 {
		t.Fatalf("overall at the end = %d, %v; want 3 done, ETA 0s", done, left)
	}
}

// TestETANothingLeft: with no step left to train (a rerun whose runs were
// all done, failed or diverged before, or once every run ended) the ETA is
// 0, not unknown: it was unknown as long as no step was trained here, and
// the bars' last line of such a rerun said "ETA ?".
func TestETANothingLeft(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newETA(c.now)
	e.start(3, 1, 0)
	c.advance(time.Second)
	if done, _, left := e.overall(); done != 1 || left != 0 {
		t.Fatalf("overall with no step to train = %d, %v; want 1 done, ETA 0s", done, left)
	}
	e.start(1, 0, 100)
	r := e.begin(1, 0, 100)
	c.advance(time.Second)
	r.end(store.StatusFailed) // failed before its first step
	if _, _, left := e.overall(); left != 0 {
		t.Fatalf("ETA once the only run failed untrained = %v, want 0s", left)
	}
}

// TestETAGaveUp: a run that a claim gave up on (runs.GaveUpReporter)
// takes its steps out of the remaining ones, once: not again when it was
// begun since start (its end took them out then), as when this execution
// trained it, lost it to a takeover and then gave up on it.
func TestETAGaveUp(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newETA(c.now)
	e.start(3, 0, 300)
	a := e.begin(1, 0, 100)
	b := e.begin(3, 0, 100)
	c.advance(10 * time.Second)
	a.update(50)
	b.update(50)                   // 100 trained in 10 s: 200 left
	b.end(store.StatusInterrupted) // taken over: 150 left
	e.gaveUp(2, 100)               // never begun here: 50 left
	e.gaveUp(3, 100)               // begun, its steps already out
	if done, _, left := e.overall(); done != 0 || left != 5*time.Second {
		t.Fatalf("overall = %d done, ETA %v; want 0 done, ETA 5s (50 steps at 10/s)", done, left)
	}
	a.update(100)
	a.end(store.StatusDone)
	if done, _, left := e.overall(); done != 1 || left != 0 {
		t.Fatalf("overall at the end = %d done, ETA %v; want 1 done, ETA 0s", done, left)
	}
}

// TestETABegunAgain: a run begun since start, taken over (its end took
// its steps out of the remaining ones) and then begun again by this
// execution, resuming where the other worker left it, needs the steps
// from there to its total once more; begin used to take its resumed step
// out a second time, so the ETA fell short (4s, not 24s, below).
func TestETABegunAgain(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := newETA(c.now)
	e.start(2, 0, 200)
	a := e.begin(1, 0, 100)
	c.advance(10 * time.Second)
	a.update(50)                   // 50 trained in 10 s: 150 left
	a.end(store.StatusInterrupted) // taken over at 50: the other run's 100 left
	a = e.begin(1, 80, 100)        // ours again at 80: 20 more, 120 left
	if _, _, left := e.overall(); left != 24*time.Second {
		t.Fatalf("ETA after the run was begun again = %v, want 24s (120 steps at 5/s)", left)
	}
	a.update(100)
	a.end(store.StatusDone)
	b := e.begin(2, 0, 100)
	b.update(100)
	b.end(store.StatusDone)
	if done, _, left := e.overall(); done != 2 || left != 0 {
		t.Fatalf("overall at the end = %d done, ETA %v; want 2 done, ETA 0s", done, left)
	}
}

// TestReportersGaveUp: both reporters take a run given up on out of
// their overall ETA (runs.GaveUpReporter), not only the eta underneath.
func TestReportersGaveUp(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := newLog(&buf, time.Now)
	b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(make(chan any)))
	for name, r := range map[string]struct {
		runs.Reporter
		e *eta
	}{"log": {l, l.eta}, "bars": {b, b.eta}} {
		r.Start(2, 0, 200)
		r.Reporter.(runs.GaveUpReporter).GaveUp(store.Run{ID: 2}, 100)
		r.e.mu.Lock()
		left := r.e.remaining
		r.e.mu.Unlock()
		if left != 100 {
			t.Errorf("%s: %d steps remaining after run 2 was given up on, want 100", name, left)
		}
	}
	b.Wait()
}

// TestLog checks the log reporter's lines with a fake clock.
func TestLog(t *testing.T) {
	t.Parallel()
	c := newClock()
	var buf bytes.Buffer
	l := newLog(&buf, func() time.Time { return c.now() })
	run := func(id int64, point string, seed int64) store.Run {
		return store.Run{ID: id, Experiment: "quick", Point: point, Seed: seed}
	}
	l.Start(3, 0, 300)
	a := l.Begin(run(1, `{"model.attention.name":"dot"}`, 1), 0, 100)
	b := l.Begin(run(2, `{"model.attention.name":"dot\u001b[31m"}`, 2), 50, 100)
	l.Skip(run(3, `{}`, 3), 100, "running on there:12 (heartbeat 5s ago)\nsecond line")
	c.advance(5 * time.Second)
	a.Update(runs.Progress{Step: 50, Total: 100, Loss: 1.25, TokensPerSec: 12345})
	a.Update(runs.Progress{Step: 50, Total: 100, Loss: 1.25, Eval: map[string]float64{"valid/loss": 1.5, "valid/exact_match": 0.25}})
	c.advance(5 * time.Second)
	a.Update(runs.Progress{Step: 100, Total: 100, Loss: 1})
	a.End(store.StatusDone, nil)
	b.Update(runs.Progress{Step: 60, Total: 100})
	b.End(store.StatusFailed, errors.New("step 60: training loss is NaN\nmore"))
	golden.Check(t, "log.golden", buf.String())
}

// TestLogInterrupted: an interrupted run's end has no ETA (the others stop
// too), and the runs left, skipped for one reason, are counted on one line
// after the first is named; a skip for another reason is named again.
func TestLogInterrupted(t *testing.T) {
	t.Parallel()
	c := newClock()
	var buf bytes.Buffer
	l := newLog(&buf, func() time.Time { return c.now() })
	l.Start(6, 0, 600)
	a := l.Begin(store.Run{ID: 1, Experiment: "quick", Seed: 1}, 0, 100)
	c.advance(5 * time.Second)
	a.Update(runs.Progress{Step: 50, Total: 100, Loss: 1.25})
	a.End(store.StatusInterrupted, errors.New("interrupted: handed back to the queue, to resume from its last checkpoint"))
	l.Skip(store.Run{ID: 2, Experiment: "quick", Seed: 2}, 100, "interrupted")
	l.Skip(store.Run{ID: 3, Experiment: "quick", Seed: 3}, 100, "interrupted")
	l.Skip(store.Run{ID: 4, Experiment: "quick", Seed: 4}, 100, "interrupted")
	l.Skip(store.Run{ID: 5, Experiment: "quick", Seed: 5}, 100, "running on there:12 (heartbeat 5s ago)")
	l.Skip(store.Run{ID: 6, Experiment: "quick", Seed: 6}, 100, "interrupted")
	l.Skip(store.Run{ID: 7, Experiment: "quick", Seed: 7}, 100, "interrupted")
	l.Wait()
	golden.Check(t, "log_interrupted.golden", buf.String())
}

// TestLogDivergedBefore: the runs of the plan stored done with a ±Inf
// loss or perplexity by an old build (runs.DivergedBeforeReporter, told
// before Start) are counted apart on Start's line, in the words of run's
// note, and not as done: the line said "3 planned, 3 already done" where
// the table, the note and the exit status counted two of them failed. The
// run that ends after them is 2/4 runs done with 2 failed, not 4/4.
func TestLogDivergedBefore(t *testing.T) {
	t.Parallel()
	c := newClock()
	var buf bytes.Buffer
	l := newLog(&buf, func() time.Time { return c.now() })
	l.DivergedBefore(2)
	l.Start(4, 1, 100)
	r := l.Begin(store.Run{ID: 4, Experiment: "old", Seed: 4}, 0, 100)
	c.advance(time.Second)
	r.Update(runs.Progress{Step: 100, Total: 100})
	r.End(store.StatusDone, nil)
	l.Wait()
	want := "03:04:05 runs: 4 planned, 1 already done, 2 stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed\n" +
		"03:04:05 old/seed=4: start\n" +
		"03:04:06 old/seed=4: done (2/4 runs done, 2 failed, ETA 0s)\n"
	if got := buf.String(); got != want {
		t.Errorf("log\n%s\nwant\n%s", got, want)
	}
}

// TestLogFailedBefore: the log's first line counts what the bars' overall
// line shows: the runs planned, already done, failed before (skipped:
// runs.FailedBeforeReporter, told right after Start) and stored done with
// a ±Inf loss. It said "runs: 6 planned, 1 already done" of a plan with
// 2 runs failed before, which the bars counted "2 failed". The line is
// printed as FailedBefore is told (0 included), before any run starts,
// and by the first other line or Wait for a caller that never tells it.
func TestLogFailedBefore(t *testing.T) {
	t.Parallel()
	const header = "03:04:05 runs: 6 planned, 1 already done"
	const diverged = ", 2 stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed"
	for _, tc := range []struct {
		name     string
		diverged int
		failed   int // -1: FailedBefore not told
		want     string
		counted  string // what the run's last line counts failed
	}{
		{"failed before", 0, 2, header + ", 2 failed before\n", ", 2 failed"},
		{"failed before and diverged", 2, 2, header + ", 2 failed before" + diverged + "\n", ", 4 failed"},
		{"none failed", 0, 0, header + "\n", ""},
		{"diverged alone", 2, 0, header + diverged + "\n", ", 2 failed"},
		{"not told", 0, -1, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			var buf bytes.Buffer
			l := newLog(&buf, func() time.Time { return c.now() })
			if tc.diverged > 0 {
				l.DivergedBefore(tc.diverged)
			}
			l.Start(6, 1, 100)
			if tc.failed >= 0 {
				l.FailedBefore(tc.failed)
			}
			if got := buf.String(); got != tc.want {
				t.Fatalf("after Start and FailedBefore the log is\n%q\nwant\n%q", got, tc.want)
			}
			c.advance(time.Second)
			r := l.Begin(store.Run{ID: 6, Experiment: "x", Seed: 6}, 0, 100)
			r.End(store.StatusDone, nil)
			l.Wait()
			first := tc.want
			if tc.failed < 0 {
				first = "03:04:06 runs: 6 planned, 1 already done\n" // printed before Begin's line
			}
			want := first + "03:04:06 x/seed=6: start\n03:04:06 x/seed=6: done (2/6 runs done" + tc.counted + ", ETA 0s)\n"
			if got := buf.String(); got != want {
				t.Errorf("log\n%s\nwant\n%s", got, want)
			}
		})
	}
	// A plan whose runs were all done before: Wait prints the line.
	var buf bytes.Buffer
	l := newLog(&buf, func() time.Time { return newClock().now() })
	l.Start(2, 2, 0)
	l.Wait()
	if want := "03:04:05 runs: 2 planned, 2 already done\n"; buf.String() != want {
		t.Errorf("log %q, want %q", buf.String(), want)
	}
}

// TestBarsDivergedBefore: the bars count failed the runs stored done with
// a ±Inf loss or perplexity (runs.DivergedBeforeReporter), which Start's
// done leaves out, as they count those that failed before: the overall
// line said 3/3 with no failure where the command said two had failed.
func TestBarsDivergedBefore(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(make(chan any)), mpb.ForceAutoRefresh())
	b.DivergedBefore(2)
	b.Start(3, 1, 0)
	b.Wait()
	if last := lastOverall(buf.String()); !strings.Contains(last, " 1/3 ") || !strings.Contains(last, " 2 failed  ") || !strings.Contains(last, "ETA 0s") {
		t.Errorf("the last overall line %q, want it to say 1/3, 2 failed, ETA 0s (nothing was left to train; it said ETA ?):\n%s", last, buf.String())
	}
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]`)

// TestBarsFit draws real bars at 80 columns and checks that no line is
// wider and that the overall line shows an ETA.
func TestBarsFit(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	refresh := make(chan any)
	b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(refresh), mpb.ForceAutoRefresh())
	b.Start(3, 0, 3000)
	r1 := b.Begin(store.Run{ID: 1, Experiment: "attention-vs-length", Point: `{"variant":"small","model.attention.name":"multi-head","train.optimizer.lr":0.0003}`, Seed: 12}, 0, 1000)
	r2 := b.Begin(store.Run{ID: 2, Experiment: "q", Seed: 1}, 0, 1000)
	time.Sleep(20 * time.Millisecond)
	r1.Update(runs.Progress{Step: 100, Total: 1000, Loss: 2.3456, TokensPerSec: 123456})
	r2.Update(runs.Progress{Step: 300, Total: 1000, Loss: 0.5})
	refresh <- time.Now()
	refresh <- time.Now()
	r1.End(store.StatusDone, nil)
	r2.End(store.StatusDone, nil)
	b.Begin(store.Run{ID: 3, Experiment: "q", Seed: 3}, 0, 1000).End(store.StatusDone, nil)
	b.Wait() // all done: the last line keeps its ETA (a stopped one has none: TestBarsStoppedNoETA)
	out := ansi.ReplaceAllString(buf.String(), "")
	var sawETA, sawRun bool
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if cols(line) > 80 {
			t.Errorf("line of %d columns:\n%s", cols(line), line)
		}
		sawETA = sawETA || (strings.HasPrefix(line, "runs ") && strings.Contains(line, "ETA "))
		sawRun = sawRun || strings.Contains(line, "/seed=12 ")
	}
	if !sawETA || !sawRun {
		t.Errorf("want a run's line and an overall line with an ETA:\n%s", out)
	}
}

// TestBarsStoppedNoETA: the overall line drawn last when the execution
// stopped short (interrupted, or its database file gone) shows the time
// elapsed and no ETA: the runs skipped took their steps out of the
// remaining ones, and it said "ETA 0s".
func TestBarsStoppedNoETA(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	refresh := make(chan any)
	b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(refresh), mpb.ForceAutoRefresh())
	b.Start(3, 0, 3000)
	r := b.Begin(store.Run{ID: 1, Experiment: "q", Seed: 1}, 0, 1000)
	time.Sleep(20 * time.Millisecond)
	r.Update(runs.Progress{Step: 300, Total: 1000, Loss: 0.5})
	refresh <- time.Now()
	r.End(store.StatusInterrupted, nil)
	b.Skip(store.Run{ID: 2}, 1000, "interrupted")
	b.Skip(store.Run{ID: 3}, 1000, "interrupted")
	b.Wait()
	var last string
	for _, line := range strings.Split(ansi.ReplaceAllString(buf.String(), ""), "\n") {
		for _, l := range strings.Split(line, "\r") {
			if strings.HasPrefix(l, "runs ") {
				last = l
			}
		}
	}
	if last == "" || strings.Contains(last, "ETA") {
		t.Errorf("the last overall line %q, want one without an ETA:\n%s", last, buf.String())
	}
}

// lastOverall returns the last overall line that bars drew in out.
func lastOverall(out string) string {
	var last string
	for _, line := range strings.Split(ansi.ReplaceAllString(out, ""), "\n") {
		for _, l := range strings.Split(line, "\r") {
			if strings.HasPrefix(l, "runs ") {
				last = l
			}
		}
	}
	return last
}

// TestBarsFailed: when every run ended but one failed (in training, or
// given up on by a claim), the overall line drawn last is a finished
// execution's — the time elapsed and the ETA — and counts the failures;
// it was left as an interrupted one's, with the time elapsed alone. An
// execution that also stopped short keeps the failures counted and has
// no ETA.
func TestBarsFailed(t *testing.T) {
	t.Parallel()
	for _, interrupted := range []bool{false, true} {
		var buf bytes.Buffer
		refresh := make(chan any)
		b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(refresh), mpb.ForceAutoRefresh())
		b.Start(4, 0, 4000)
		r := b.Begin(store.Run{ID: 1, Experiment: "q", Seed: 1}, 0, 1000)
		time.Sleep(20 * time.Millisecond)
		r.Update(runs.Progress{Step: 300, Total: 1000, Loss: 0.5})
		refresh <- time.Now()
		r.End(store.StatusFailed, errors.New("step 300: training loss is NaN"))
		b.GaveUp(store.Run{ID: 2}, 1000)
		b.Begin(store.Run{ID: 3, Experiment: "q", Seed: 3}, 0, 1000).End(store.StatusDone, nil)
		if interrupted {
			b.Begin(store.Run{ID: 4, Experiment: "q", Seed: 4}, 0, 1000).End(store.StatusInterrupted, nil)
		} else {
			b.Begin(store.Run{ID: 4, Experiment: "q", Seed: 4}, 0, 1000).End(store.StatusDone, nil)
		}
		b.Wait()
		last := lastOverall(buf.String())
		if !strings.Contains(last, " 2 failed  ") || strings.Contains(last, "ETA") == interrupted {
			t.Errorf("interrupted %v: the last overall line %q, want it to say 2 failed, with an ETA unless interrupted:\n%s", interrupted, last, buf.String())
		}
	}
}

// TestBarsWaitedNoETA: when a run of the plan was held by another process
// (waited for, and done or failed there: this execution never begins it),
// the overall line drawn last has no ETA: its steps were left in the
// remaining ones, and it said "ETA 1m30s" after the execution ended.
func TestBarsWaitedNoETA(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	refresh := make(chan any)
	b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(refresh), mpb.ForceAutoRefresh())
	b.Start(2, 0, 5000)
	r := b.Begin(store.Run{ID: 1, Experiment: "q", Seed: 1}, 0, 1000)
	time.Sleep(20 * time.Millisecond)
	r.Update(runs.Progress{Step: 300, Total: 1000, Loss: 0.5})
	refresh <- time.Now()
	r.End(store.StatusDone, nil)
	// Run 2, 4000 steps, was trained by another process.
	b.Wait()
	if last := lastOverall(buf.String()); !strings.HasPrefix(last, "runs ") || strings.Contains(last, "ETA") {
		t.Errorf("the last overall line %q, want one without an ETA:\n%s", last, buf.String())
	}
}

// TestOutcomeDatabaseGone: a run stopped by a deleted database file says
// so in store.ErrDatabaseGone's words, not with the write that noticed it
// (another run's, as often as not).
func TestOutcomeDatabaseGone(t *testing.T) {
	err := fmt.Errorf("write metrics of run 5: %w", fmt.Errorf("store x.db: the database file was deleted: %w", store.ErrDatabaseGone))
	if got, want := Outcome(store.StatusInterrupted, err), "interrupted: database file deleted or replaced"; got != want {
		t.Errorf("Outcome = %q, want %q", got, want)
	}
}

// TestLogUnplanned: a queue worker's log (Start with runs.Unplanned)
// announces no plan and counts the runs it finished, with neither a total
// nor an ETA — runs submitted after it started made it "1/0 runs done".
func TestLogUnplanned(t *testing.T) {
	t.Parallel()
	c := newClock()
	var buf bytes.Buffer
	l := newLog(&buf, func() time.Time { return c.now() })
	l.Start(runs.Unplanned, 0, 0)
	for id := range int64(2) {
		r := l.Begin(store.Run{ID: id + 1, Experiment: "late", Seed: id + 1}, 0, 10)
		c.advance(time.Second)
		r.Update(runs.Progress{Step: 10, Total: 10})
		r.End(store.StatusDone, nil)
	}
	got := buf.String()
	if strings.Contains(got, "runs:") || strings.Contains(got, "/-1") || strings.Contains(got, "ETA") ||
		!strings.Contains(got, ": done (1 done by this worker)\n") || !strings.Contains(got, ": done (2 done by this worker)\n") {
		t.Fatalf("an unplanned log:\n%s", got)
	}
}

// TestLogCountsFailures: each run's last line counts the runs that
// failed as the bars' overall line does — ended failed, given up on
// (runs.GaveUpReporter), failed before and stored done with a ±Inf loss —
// so that a finished plan does not read "2/5 runs done" as if three were
// still running. The lines counted done runs only.
func TestLogCountsFailures(t *testing.T) {
	t.Parallel()
	c := newClock()
	var buf bytes.Buffer
	l := newLog(&buf, func() time.Time { return c.now() })
	l.DivergedBefore(1)
	l.Start(5, 0, 300)
	l.FailedBefore(1)
	a := l.Begin(store.Run{ID: 1, Experiment: "x", Seed: 1}, 0, 100)
	c.advance(time.Second)
	a.Update(runs.Progress{Step: 100, Total: 100})
	a.End(store.StatusDone, nil)
	b := l.Begin(store.Run{ID: 2, Experiment: "x", Seed: 2}, 0, 100)
	c.advance(time.Second)
	b.Update(runs.Progress{Step: 10, Total: 100})
	b.End(store.StatusFailed, errors.New("loss is NaN at step 10"))
	l.GaveUp(store.Run{ID: 3, Experiment: "x", Seed: 3}, 100)
	l.Wait()
	want := "03:04:05 runs: 5 planned, 0 already done, 1 failed before, 1 stored done with a loss or perplexity of ±Inf by a build before 2026-12-06, so counted as failed\n" +
		"03:04:05 x/seed=1: start\n" +
		"03:04:06 x/seed=1: done (1/5 runs done, 2 failed, ETA 2s)\n" +
		"03:04:06 x/seed=2: start\n" +
		"03:04:07 x/seed=2: failed: loss is NaN at step 10 (1/5 runs done, 3 failed, ETA 2s)\n"
	if got := buf.String(); got != want {
		t.Errorf("log\n%s\nwant\n%s", got, want)
	}
	// The given-up run is counted by the next run's line, and a worker's
	// line counts its failures too.
	buf.Reset()
	w := newLog(&buf, func() time.Time { return c.now() })
	w.Start(runs.Unplanned, 0, 0)
	w.GaveUp(store.Run{ID: 4, Experiment: "x", Seed: 4}, 10)
	r := w.Begin(store.Run{ID: 5, Experiment: "x", Seed: 5}, 0, 10)
	r.End(store.StatusFailed, errors.New("out of memory"))
	if got, want := buf.String(), "x/seed=5: failed: out of memory (0 done by this worker, 2 failed)\n"; !strings.HasSuffix(got, want) {
		t.Errorf("worker log\n%s\nwant it to end with\n%s", got, want)
	}
}

// TestBarsFailedBefore: on a rerun, the runs that had failed before
// (skipped: runs.FailedBeforeReporter) are counted on the overall line
// drawn last; it stayed at 1/2 with nothing said of them.
func TestBarsFailedBefore(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	b := newBars(mpb.WithOutput(&buf), mpb.WithWidth(80), mpb.WithManualRefresh(make(chan any)), mpb.ForceAutoRefresh())
	b.Start(2, 1, 0)
	b.FailedBefore(1)
	b.Wait()
	if last := lastOverall(buf.String()); !strings.Contains(last, " 1/2 ") || !strings.Contains(last, " 1 failed  ") {
		t.Errorf("the last overall line %q, want it to say 1/2, 1 failed:\n%s", last, buf.String())
	}
}
