package progress

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// MinBar and MaxBar bound the width of a bar in columns.
const (
	MinBar = 16
	MaxBar = 40
)

// The widths the right column reserves for each part of a run's line.
const (
	lossCols = len("loss 12.3456")
	tpsCols  = len("999.9k tok/s")
	etaCols  = len("ETA 59m59s")
	gapCols  = 2 // between parts
)

// columns is the layout every line of a display shares, so that the bars
// line up: name and counters on the left, the bar, then the right column.
type columns struct {
	name, counters int  // widths of the name and the step/total counters
	right          int  // width of the right column
	loss, tps, eta bool // which parts the runs' right column shows
}

// layout chooses the columns for a terminal of width columns, names of up
// to longest columns and counters of up to counters columns. It keeps the
// bar at least MinBar wide and gives up, in this order, the throughput,
// the names' width down to 16 columns (names keep their end), the loss, the
// names' width down to 8, and the ETA.
func layout(width, longest, counters int) columns {
	room := func(right int) int { return width - MinBar - 2 - 1 - counters - right }
	for _, c := range []struct {
		minName        int
		loss, tps, eta bool
	}{
		{longest, true, true, true},
		{min(longest, 16), true, false, true},
		{min(longest, 8), false, false, true},
		{1, false, false, false},
	} {
		right := 0
		for _, p := range []struct {
			on   bool
			cols int
		}{{c.loss, lossCols}, {c.tps, tpsCols}, {c.eta, etaCols}} {
			if p.on {
				right += p.cols + gapCols
			}
		}
		right = max(right-gapCols, 0)
		if n := room(right); n >= c.minName || c.minName == 1 {
			return columns{name: max(1, min(longest, n)), counters: counters, right: right, loss: c.loss, tps: c.tps, eta: c.eta}
		}
	}
	panic("unreachable")
}

// runLine is what a run's bar line shows.
type runLine struct {
	name        string
	step, total int
	loss        float64       // 0: no loss logged yet
	tps         float64       // tokens per second; 0: not known yet
	eta         time.Duration // < 0: not known yet
}

// fit returns the text left and right of a run's bar in columns c.
func (l runLine) fit(c columns) (left, right string) {
	var parts []string
	if c.loss {
		parts = append(parts, pad(ifKnown(l.loss != 0, lossText(l.loss)), lossCols))
	}
	if c.tps {
		parts = append(parts, pad(ifKnown(l.tps != 0, compact(l.tps)+" tok/s"), tpsCols))
	}
	if c.eta {
		parts = append(parts, ifKnown(l.eta >= 0, "ETA "+duration(l.eta)))
	}
	return c.left(l.name, fmt.Sprintf("%d/%d", l.step, l.total)), c.fitRight(strings.Join(parts, "  "))
}

// lossText shows a training loss in lossCols columns: "loss 2.3456",
// "loss 123.46", or beyond 10⁴ (a run diverging) "loss 1.2e+30" — "%.4f"
// of such a loss took 40 columns, pushed the run's ETA off its line and
// was cut mid-number.
// The decimals are chosen by the text's width, not by the value: 99.99999
// rounds to "100.0000", and 9999.999 to "10000.00".
func lossText(v float64) string {
	if math.IsInf(v, 0) {
		return fmt.Sprintf("loss %+v", v)
	}
	for _, f := range []string{"loss %.4f", "loss %.2f"} {
		if s := fmt.Sprintf(f, v); len(s) <= lossCols {
			return s
		}
	}
	return fmt.Sprintf("loss %.1e", v)
}

// overallLine is what the overall bar's line shows.
type overallLine struct {
	done, total int
	failed      int // runs of the plan that failed in this execution
	elapsed     time.Duration
	eta         time.Duration // < 0: not known yet
	stopped     bool          // the execution stopped short: no ETA
}

// fit returns the text left and right of the overall bar in columns c:
// how many runs failed, if any ("2 failed"), the time elapsed and the
// ETA — the time elapsed given up first, then the failures — or the
// time elapsed without an ETA once the execution stopped short.
func (o overallLine) fit(c columns) (left, right string) {
	eta := "ETA ?"
	if o.eta >= 0 {
		eta = "ETA " + duration(o.eta)
	}
	if o.stopped {
		eta = ""
	}
	failed := ""
	if o.failed > 0 {
		failed = fmt.Sprintf("%d failed", o.failed)
	}
	join := func(parts ...string) string {
		var keep []string
		for _, p := range parts {
			if p != "" {
				keep = append(keep, p)
			}
		}
		return strings.Join(keep, "  ")
	}
	for _, r := range []string{join(failed, duration(o.elapsed), eta), join(failed, eta)} {
		if right = r; cols(r) <= c.right {
			break
		}
	}
	if cols(right) > c.right && eta != "" {
		right = eta
	}
	return c.left("runs", fmt.Sprintf("%d/%d", o.done, o.total)), c.fitRight(right)
}

// left returns the name cut or padded to its column and the counters
// aligned right in theirs.
func (c columns) left(name, counters string) string {
	return pad(tail(name, c.name), c.name) + " " + strings.Repeat(" ", max(c.counters-cols(counters), 0)) + counters
}

// fitRight pads s to the right column, or cuts it to it.
func (c columns) fitRight(s string) string {
	if cols(s) > c.right {
		return string([]rune(s)[:c.right])
	}
	return pad(s, c.right)
}

func ifKnown(known bool, s string) string {
	if known {
		return s
	}
	return ""
}

// cols is the number of columns s takes, one per rune (names with wide
// characters may take more; the terminal then wraps less than a column).
func cols(s string) int { return utf8.RuneCountInString(s) }

// tail returns s cut to n columns, keeping its end after "…".
func tail(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[len(r)-n:])
	}
	return "…" + string(r[len(r)-n+1:])
}

// pad returns s padded with spaces to n columns.
func pad(s string, n int) string {
	if c := cols(s); c < n {
		return s + strings.Repeat(" ", n-c)
	}
	return s
}

// countersCols is the width of "step/total" counters up to total.
func countersCols(total int) int { return 2*len(fmt.Sprint(total)) + 1 }

// duration formats d briefly: 45s, 3m05s, 2h03m.
func duration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}

// compact formats a rate with a k or M suffix.
func compact(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}
