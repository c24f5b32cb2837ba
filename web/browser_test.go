package web

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attnlab/attnlab/internal/browsertest"
	"github.com/attnlab/attnlab/store"
)

// tab is the shared headless Chromium tab (browsertest.Tab) with the
// dashboard's screenshot check.
type tab struct {
	*browsertest.Tab
	t *testing.T
}

func newTab(t *testing.T) *tab { return &tab{browsertest.New(t), t} }

// shoot saves the whole page as NAME.png at 1280 px and NAME-390.png at a
// phone's width in the test's artifact directory (go test -artifacts
// keeps it), and checks at both widths that the parts of the figures
// (chart, hint, note, legend) do not overlap.
func (b *tab) shoot(name string) {
	b.t.Helper()
	for _, w := range []int64{1280, 390} {
		b.Do("viewport", chromedp.EmulateViewport(w, 800, chromedp.EmulateScale(1)), chromedp.Sleep(300*time.Millisecond))
		var overlaps []string
		b.Eval(`(() => { const out = [];
			for (const fig of document.querySelectorAll("figure.chart-box")) {
				const parts = [...fig.children].filter(e => !e.hidden && !e.classList.contains("tip") && e.getBoundingClientRect().height > 0);
				for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
					const a = parts[i].getBoundingClientRect(), c = parts[j].getBoundingClientRect();
					if (a.bottom > c.top + 0.5 && c.bottom > a.top + 0.5 && a.right > c.left + 0.5 && c.right > a.left + 0.5)
						out.push((parts[i].id || parts[i].className) + " / " + (parts[j].id || parts[j].className));
				}
			}
			if (document.documentElement.scrollWidth > window.innerWidth) out.push("the page scrolls sideways");
			return out; })()`, &overlaps)
		for _, o := range overlaps {
			b.t.Errorf("%s at %d px: %s overlap", name, w, o)
		}
		file := name + ".png"
		if w != 1280 {
			file = name + "-390.png"
		}
		b.Save(file)
	}
	b.Do("viewport", chromedp.EmulateViewport(1280, 800), chromedp.Sleep(300*time.Millisecond))
}

// TestBrowserStops opens, in headless Chromium, the curves and the
// comparison of an experiment whose runs end early and one of which
// diverged and failed: the curves' legend counts them, the chart tells
// where the mean is over fewer runs, and the table shows the failed run
// without starring its row. Screenshots go to the test's artifact
// directory.
func TestBrowserStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	st := openStore(t, path)
	fillStops(t, st)
	srv := httptest.NewServer(newServer(t, st, Options{}))
	defer srv.Close()
	b := newTab(t)
	t.Logf("screenshots in %s", t.ArtifactDir())

	b.Do("curves", chromedp.Navigate(srv.URL+"/x/stops/curves?metric=valid/loss"),
		chromedp.WaitVisible(chromedp.CSS("#chart .uplot canvas")), chromedp.WaitVisible(chromedp.CSS("#legend li")))
	var legend []string
	b.Eval(`[...document.querySelectorAll("#legend li")].map(li => li.textContent)`, &legend)
	if all := strings.Join(legend, " | "); len(legend) != 2 || !strings.Contains(all, "(4 runs, 3 end early)") || !strings.Contains(all, "(4 runs, 1 diverged)") {
		t.Errorf("curves legend %q, want the dot group's 3 runs that end early and the additive group's diverged run", legend)
	}
	var note string
	b.Eval(`document.getElementById("chart-note").textContent`, &note)
	if !strings.Contains(note, "dashed") || strings.Contains(note, "one line per run") {
		t.Errorf("the chart's note %q does not say what the dashed lines are, or names the wrong view", note)
	}
	// Hover near the last step: the dot group's mean there is one run's.
	var box struct{ L, T, W, H float64 }
	b.Eval(`(() => { const r = document.querySelector("#chart .u-over").getBoundingClientRect(); return {L: r.left, T: r.top, W: r.width, H: r.height}; })()`, &box)
	b.Do("hover", chromedp.MouseEvent(chromedp.MouseMoved, box.L+box.W-2, box.T+box.H/2), chromedp.Sleep(100*time.Millisecond))
	var tip string
	b.Eval(`document.getElementById("tip").hidden ? "" : document.getElementById("tip").textContent`, &tip)
	if !strings.Contains(tip, "step 900") || !strings.Contains(tip, "n=1 of 4") || !strings.Contains(tip, "n=3 of 4") {
		t.Errorf("hovering step 900 shows %q, want each group's mean with its number of runs", tip)
	}
	b.Do("mouse away", chromedp.MouseEvent(chromedp.MouseMoved, 1, 1))
	// The length plot: dot's 21–40 bucket is over 3 of its 4 runs, which
	// the hover says (its break at 161+, where none has a value, is in the
	// screenshot; TestLengthAgreesWithPlot checks the data).
	b.Do("length", chromedp.WaitVisible(chromedp.CSS("#length .uplot canvas")), chromedp.WaitVisible(chromedp.CSS("#length-legend li")))
	b.Do("scroll to length", chromedp.ScrollIntoView("#length"), chromedp.Sleep(100*time.Millisecond))
	b.Eval(`(() => { const r = document.querySelector("#length .u-over").getBoundingClientRect(); return {L: r.left, T: r.top, W: r.width, H: r.height}; })()`, &box)
	// Bucket 21–40 is x = 2 on [-0.4, 3.4]; the dot group's mean there is
	// about 0.31 on [0, 1].
	b.Do("hover length", chromedp.MouseEvent(chromedp.MouseMoved, box.L+box.W*2.4/3.8, box.T+box.H*(1-0.31)), chromedp.Sleep(100*time.Millisecond))
	var lengthTip string
	b.Eval(`document.getElementById("length-tip").hidden ? "" : document.getElementById("length-tip").textContent`, &lengthTip)
	if !strings.Contains(lengthTip, "21–40") || !strings.Contains(lengthTip, "n=3 of 4") {
		t.Errorf("hovering bucket 21–40 shows %q, want the dot group's mean of n=3 of 4 runs", lengthTip)
	}
	var lengthNote string
	b.Eval(`document.getElementById("length-note").textContent`, &lengthNote)
	if !strings.Contains(lengthNote, "dashed") {
		t.Errorf("the length plot's note %q does not say what its dashed line is", lengthNote)
	}
	// The references: the training lengths shaded, the floor in the
	// legend.
	if !strings.Contains(lengthNote, "shaded: the buckets with training examples; trained on sources of 3–28 tokens") || !strings.Contains(lengthNote, "majority-answer floor") {
		t.Errorf("the length plot's note %q does not say what is shaded and what the dotted line is", lengthNote)
	}
	// The shading drawn: buckets 1–10 and 21–40 (x = 0 and 2) hold
	// training examples, 11–20 (x = 1) none, so it stays white. Sampled
	// above every line (y = 0.97) and between grid lines (x + 0.25): the
	// canvas is clear where nothing is drawn.
	var shades []int
	b.Eval(`(() => {
		const c = document.querySelector("#length .uplot canvas"), o = document.querySelector("#length .u-over");
		const cr = c.getBoundingClientRect(), or = o.getBoundingClientRect(), s = c.width / cr.width;
		return [0.25, 1.25, 2.25].map(x => {
			const px = (or.left - cr.left + or.width * (x + 0.4) / 3.8) * s, py = (or.top - cr.top + or.height * 0.03) * s;
			const d = c.getContext("2d").getImageData(Math.round(px), Math.round(py), 1, 1).data;
			return d[3];
		});
	})()`, &shades)
	if len(shades) != 3 || shades[0] == 0 || shades[1] != 0 || shades[2] == 0 {
		t.Errorf("length plot's opacity at buckets 1–10, 11–20, 21–40: %v, want shaded, clear, shaded", shades)
	}
	var lengthLegend string
	b.Eval(`document.getElementById("length-legend").textContent`, &lengthLegend)
	if !strings.Contains(lengthLegend, "majority-answer floor") {
		t.Errorf("the length legend %q has no floor", lengthLegend)
	}
	b.Do("mouse away", chromedp.MouseEvent(chromedp.MouseMoved, 1, 1))
	b.shoot("stops-curves")
	b.NoErrors("curves page")

	b.Do("comparison", chromedp.Navigate(srv.URL+"/x/stops"), chromedp.WaitVisible(chromedp.CSS("#means")))
	var rows []struct {
		Key, N string
		Stars  int
	}
	b.Eval(`[...document.querySelectorAll("#means tbody tr")].map(tr => ({Key: tr.querySelector("td.key").innerText.trim(),
		N: tr.querySelector("td.n").innerText.trim(), Stars: tr.querySelectorAll(".star").length}))`, &rows)
	for _, r := range rows {
		switch r.Key {
		case "additive":
			if r.N != "3 (+1 failed)" || r.Stars != 0 {
				t.Errorf("additive row: n %q, %d stars; want 3 (+1 failed) and no star", r.N, r.Stars)
			}
		case "dot":
			if r.N != "4" {
				t.Errorf("dot row: n %q, want 4", r.N)
			}
		default:
			t.Errorf("unexpected row %+v", r)
		}
	}
	var notes string
	b.Eval(`document.querySelector("ul.notes").innerText`, &notes)
	if !strings.Contains(notes, "valid/loss is NaN at step 400") {
		t.Errorf("the notes do not name the failed run's error:\n%s", notes)
	}
	b.shoot("stops-experiment")
	b.NoErrors("experiment page")
}

// TestBrowserLogTicks: on a log scale the y axis's tick labels are all of
// one format: a loss falling from 1 to 10⁻⁵ is labelled 1e-5 … 1e0, not
// 1.000e-4 beside 0.001 and 0.01; on a linear scale of ordinary values
// they are plain numbers.
func TestBrowserLogTicks(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	ctx := context.Background()
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "decades", YAML: "name: decades\n"}, []store.RunSpec{{Hash: "d00000000001", Seed: 1, Config: "{}", Point: "{}"}})
	if err != nil {
		t.Fatal(err)
	}
	claim(t, st, list[0].ID)
	w := st.NewMetricWriter(list[0].ID, 0)
	for i := 0; i <= 50; i++ {
		logMetric(t, w, i*10, "train/loss", math.Pow(10, -float64(i)/10))
		logMetric(t, w, i*10, "train/acc", float64(i)/50)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, list[0].ID, fixOwner, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(t, st, Options{}))
	defer srv.Close()
	b := newTab(t)
	ticks := func(query string) []string {
		t.Helper()
		b.Do(query, chromedp.Navigate(srv.URL+"/x/decades/curves?"+query), chromedp.WaitVisible(chromedp.CSS("#chart .uplot canvas")))
		var s string
		b.Eval(`document.getElementById("chart").dataset.yTicks || ""`, &s)
		if s == "" {
			t.Fatalf("%s: no y tick labels", query)
		}
		return strings.Fields(s)
	}
	exp := regexp.MustCompile(`^[1-9](\.[0-9]+)?e-?[0-9]+$`)
	logTicks := ticks("metric=train/loss&log=1")
	for _, l := range logTicks {
		if !exp.MatchString(l) {
			t.Errorf("log scale ticks %q: %q is not like 1e-4 or 2.5e-3", logTicks, l)
		}
	}
	b.shoot("log-ticks")
	plain := regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	linTicks := ticks("metric=train/acc")
	for _, l := range linTicks {
		if !plain.MatchString(l) {
			t.Errorf("linear scale ticks %q: %q is not a plain number", linTicks, l)
		}
	}
	b.NoErrors("curves page")
}

// TestBrowserDatabaseBack: with Options.Reopen (serve), a page open while
// its database file is deleted says so, and loads itself again once a
// database is back at the path, without the visitor reloading it.
func TestBrowserDatabaseBack(t *testing.T) {
	path, spare, st := replaceable(t, "back", "back")
	s := newServer(t, st, Options{Poll: 200 * time.Millisecond, Reopen: func() (*store.Store, error) { return store.OpenExisting(path) }})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	b := newTab(t)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	b.Do("gone", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("p.error")))
	var msg string
	b.Eval(`document.querySelector("p.error").textContent`, &msg)
	if !strings.Contains(msg, "runs.db was deleted") {
		t.Errorf("the page says %q, want that runs.db was deleted", msg)
	}
	if err := os.Rename(spare, path); err != nil {
		t.Fatal(err)
	}
	// (The browser logs the 503s while the file is gone: no NoErrors.)
	b.Do("back", chromedp.WaitVisible(chromedp.CSS(`#experiments a[href="/x/back"]`)))
}

// TestBrowserNarrowTables: at 400 px, a phone's width, nothing of a run's
// summaries or of a comparison is out of reach: every table fits its box
// or its box scrolls sideways, and no box clips what it holds. Beyond
// reachable, readable: the summaries fit the screen whole (a metric's name
// wraps after a "/"), and a comparison that must scroll keeps each row's
// group in view while its metrics scroll past. Screenshots
// narrow-run-400.png and narrow-experiment-400.png go to the test's
// artifact directory (the second scrolled to the table's last column).
func TestBrowserNarrowTables(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	ids := trainTiny(t, st) // the summaries a real run writes: best/…, perf/…, test/…/len_1_10
	srv := httptest.NewServer(newServer(t, st, Options{}))
	defer srv.Close()
	b := newTab(t)
	// clipped lists what cannot be reached: an element that overflows a
	// box that does not scroll (overflow hidden or clip), or one past the
	// page's right edge with no scrolling box around it.
	const clipped = `(() => { const out = [], W = document.documentElement.clientWidth;
		const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className == "string" ? "." + e.className.trim().replace(/\s+/g, ".") : "");
		for (const e of document.querySelectorAll("main *")) {
			if (e.tagName == "INPUT" || e.tagName == "SELECT") continue; // a field scrolls its own text
			const o = getComputedStyle(e).overflowX;
			if ((o == "hidden" || o == "clip") && e.scrollWidth > e.clientWidth + 1) out.push(name(e) + " clips " + e.scrollWidth + " px to " + e.clientWidth);
			const r = e.getBoundingClientRect();
			if (r.width == 0 || r.right <= W + 1) continue;
			let p = e.parentElement, scrolls = false;
			for (; p && !scrolls; p = p.parentElement) scrolls = ["auto", "scroll"].includes(getComputedStyle(p).overflowX);
			if (!scrolls) out.push(name(e) + " ends at " + Math.round(r.right) + " px, past the page's " + W);
		}
		return out; })()`
	narrow := func(what, url string) {
		t.Helper()
		b.Do(what, chromedp.EmulateViewport(400, 800, chromedp.EmulateScale(1)), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("table")), chromedp.Sleep(200*time.Millisecond))
		var out []string
		b.Eval(clipped, &out)
		for _, o := range out {
			t.Errorf("%s at 400 px: %s", what, o)
		}
	}

	narrow("run page", fmt.Sprintf("%s/r/%d", srv.URL, ids[0]))
	var fit struct{ Table, Box int }
	b.Eval(`(() => { const t = document.getElementById("summaries"); return {Table: t.scrollWidth, Box: t.parentElement.clientWidth}; })()`, &fit)
	if fit.Table > fit.Box {
		t.Errorf("at 400 px the summaries are %d px wide in a box of %d: their values and directions are scrolled out of sight", fit.Table, fit.Box)
	}
	b.Save("narrow-run-400.png")
	b.NoErrors("run page")

	narrow("experiment page", srv.URL+"/x/tiny")
	narrow("experiment page", srv.URL+"/x/scan?baseline=model.attention.name%3Dnone")
	// Scroll the comparison to its last column: each row's group must
	// still show, else a number cannot be told from which row it is.
	var rows []struct {
		Key      string
		Left     float64
		BoxLeft  float64
		Scrolled bool
	}
	b.Eval(`(() => { const box = document.getElementById("means").parentElement;
		box.scrollLeft = box.scrollWidth;
		const bl = box.getBoundingClientRect().left;
		return [...document.querySelectorAll("#means tbody tr")].map(tr => { const k = tr.querySelector("td.key");
			return {Key: k.textContent, Left: k.getBoundingClientRect().left, BoxLeft: bl, Scrolled: box.scrollLeft > 0}; }); })()`, &rows)
	if len(rows) != 3 {
		t.Fatalf("the comparison has %d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if !r.Scrolled {
			t.Errorf("at 400 px the comparison does not scroll: it fits, and this test no longer tests the sticky groups")
		}
		if r.Left < r.BoxLeft-0.5 {
			t.Errorf("at 400 px, scrolled to its last column, the comparison's row %q starts at %.0f px, left of its box at %.0f: out of sight", r.Key, r.Left, r.BoxLeft)
		}
	}
	b.Save("narrow-experiment-400.png")
	b.NoErrors("experiment page")

	// Grouped by two keys, both stay in view as it scrolls (only the
	// first did), the second beside the first.
	narrow("experiment page by two keys", srv.URL+"/x/scan?by=model.attention.name%2Cseed")
	var keys []struct {
		Text                 []string
		Left, Right, BoxLeft []float64
		BoxRight             float64
		Scrolled             bool
	}
	b.Eval(`(() => { const box = document.getElementById("means").parentElement;
		box.scrollLeft = box.scrollWidth;
		const b = box.getBoundingClientRect();
		return [...document.querySelectorAll("#means tr")].map(tr => { const k = [...tr.querySelectorAll(".key")];
			return {Text: k.map(c => c.textContent), Left: k.map(c => c.getBoundingClientRect().left), Right: k.map(c => c.getBoundingClientRect().right),
				BoxLeft: k.map(() => b.left), BoxRight: b.right, Scrolled: box.scrollLeft > 0}; }); })()`, &keys)
	if len(keys) < 2 {
		t.Fatalf("the comparison by two keys has %d rows", len(keys))
	}
	for _, r := range keys {
		if len(r.Left) != 2 {
			t.Fatalf("a row of the comparison by two keys has %d key cells: %q", len(r.Left), r.Text)
		}
		if !r.Scrolled {
			t.Errorf("at 400 px the comparison by two keys does not scroll: this test no longer tests its sticky keys")
		}
		if r.Left[0] < r.BoxLeft[0]-0.5 || math.Abs(r.Left[1]-r.Right[0]) > 1.5 || r.Right[1] > r.BoxRight {
			t.Errorf("at 400 px, scrolled to its last column, the row %q has its keys at %.0f–%.0f and %.0f–%.0f px in a box from %.0f to %.0f: not both in view, side by side",
				r.Text, r.Left[0], r.Right[0], r.Left[1], r.Right[1], r.BoxLeft[0], r.BoxRight)
		}
	}
	b.Save("narrow-experiment-two-keys-400.png")
	b.NoErrors("experiment page by two keys")
}
