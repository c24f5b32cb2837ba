package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/attnlab/attnlab/internal/browsertest"
	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

// startServe runs attnlab serve on a free loopback port in this process,
// as a user would from a terminal, and returns its base URL (no trailing
// slash). Cleanup stops it as Ctrl-C does and checks that it stopped
// cleanly.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var errb syncBuffer
	done := make(chan result, 1)
	go func() {
		var b bytes.Buffer
		r := attnlabWith(ctx, "", &errb, &b, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
		r.stderr = errb.String()
		done <- r
	}()
	re := regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+/`)
	deadline := time.Now().Add(30 * time.Second)
	var url string
	for url == "" {
		url = re.FindString(errb.String())
		select {
		case r := <-done:
			cancel()
			t.Fatalf("serve exited before it listened: %v", r)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not say where it listens:\n%s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case r := <-done:
			if r.code != exitOK || !strings.HasSuffix(r.stderr, "attnlab serve: stopped\n") {
				t.Errorf("serve after Ctrl-C: %v", r)
			}
			noTrace(t, r)
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop within 15 s of Ctrl-C")
		}
	})
	return strings.TrimSuffix(url, "/")
}

// browser is the shared headless Chromium tab (browsertest.Tab) with
// serve's screenshot check.
type browser struct {
	*browsertest.Tab
	t *testing.T
}

func newBrowser(t *testing.T) *browser { return &browser{browsertest.New(t), t} }

// shoot saves a PNG of the whole page as NAME.png at 1280 px and as
// NAME-390.png at a phone's width, and checks at the phone's width that
// the page itself does not scroll sideways (wide tables scroll inside
// their own box).
func (b *browser) shoot(name string) {
	b.t.Helper()
	b.Save(name + ".png")
	b.Do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)), chromedp.Sleep(300*time.Millisecond))
	var widths struct{ Page, View int }
	b.Eval(`({Page: document.documentElement.scrollWidth, View: window.innerWidth})`, &widths)
	if widths.Page > widths.View {
		b.t.Errorf("%s at 390 px: the page is %d px wide, the window %d: something does not wrap or scroll in its box", name, widths.Page, widths.View)
	}
	b.Save(name + "-390.png")
	b.Do("desktop width", chromedp.EmulateViewport(1280, 800), chromedp.Sleep(300*time.Millisecond))
}

// shown is a number as a page or the CLI prints it: digits with thousands
// separators, an optional sign.
var shown = regexp.MustCompile(`[-+−]?[0-9][0-9,]*(\.[0-9]+)?`)

// agrees reports whether text, a number printed with some decimals, is
// want rounded to those decimals.
func agrees(text string, want float64) bool {
	text = strings.ReplaceAll(strings.ReplaceAll(text, ",", ""), "−", "-")
	x, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return false
	}
	dec := 0
	if i := strings.IndexByte(text, '.'); i >= 0 {
		dec = len(text) - i - 1
	}
	return math.Abs(x-want) <= 0.5*math.Pow(10, -float64(dec))+1e-9*math.Abs(want)
}

// compareJSON is the part of attnlab compare --format json the browser test
// checks the page against.
type compareJSON struct {
	Metrics []string `json:"metrics"`
	Rows    []struct {
		Label string `json:"label"`
		Runs  []int64
		Cells map[string]struct {
			Mean   *float64 `json:"mean"`
			Std    *float64 `json:"std"`
			N      int      `json:"n"`
			Tested bool     `json:"tested"`
			Test   string   `json:"test"`
			Diff   *float64 `json:"diff"`
			Low    *float64 `json:"ci_low"`
			High   *float64 `json:"ci_high"`
			PAdj   *float64 `json:"p_adj"`
		} `json:"cells"`
	} `json:"rows"`
}

func compareAsJSON(t *testing.T, db string, args ...string) compareJSON {
	t.Helper()
	r := attnlab(t, append([]string{"compare", "tiny", "--db", db, "--format", "json"}, args...)...)
	noTrace(t, r)
	wantOK(t, r)
	var c compareJSON
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("compare --format json: %v\n%s", err, r.stdout)
	}
	return c
}

// pageTable is a comparison table as the browser shows it.
type pageTable struct {
	Heads []string   // the metric columns' titles
	Rows  [][]string // each row's cells: the metric columns only
	N     []string   // each row's n
}

const readTable = `(sel => { const t = document.querySelector(sel); if (!t) return null;
  return {
    Heads: [...t.querySelectorAll("thead th.metric")].map(th => th.textContent.trim()),
    Rows: [...t.querySelectorAll("tbody tr")].map(tr => [...tr.querySelectorAll("td.num")].map(td => td.innerText.trim())),
    N: [...t.querySelectorAll("tbody tr td.n")].map(td => td.innerText.trim()),
  }; })`

// checkMeans checks that the visible table of means shows compare's numbers.
func checkMeans(t *testing.T, page pageTable, c compareJSON) {
	t.Helper()
	if len(page.Rows) != len(c.Rows) || len(page.Heads) != len(c.Metrics) {
		t.Fatalf("page shows %d rows × %v, compare has %d rows × %v", len(page.Rows), page.Heads, len(c.Rows), c.Metrics)
	}
	for j, m := range c.Metrics {
		if page.Heads[j] != m {
			t.Errorf("column %d is %q on the page, %q in compare", j, page.Heads[j], m)
		}
	}
	checked := 0
	for i, row := range c.Rows {
		if page.N[i] != strconv.Itoa(len(row.Runs)) {
			t.Errorf("row %s: n %s on the page, %d runs in compare", row.Label, page.N[i], len(row.Runs))
		}
		for j, m := range c.Metrics {
			cell, text := row.Cells[m], page.Rows[i][j]
			nums := shown.FindAllString(text, -1)
			if cell.Mean == nil {
				if len(nums) != 0 {
					t.Errorf("row %s %s: page %q, compare has no value", row.Label, m, text)
				}
				continue
			}
			if len(nums) == 0 || !agrees(nums[0], *cell.Mean) {
				t.Errorf("row %s %s: page %q, compare's mean %v", row.Label, m, text, *cell.Mean)
			}
			if cell.Std != nil && strings.Contains(text, "±") && (len(nums) < 2 || !agrees(nums[1], *cell.Std)) {
				t.Errorf("row %s %s: page %q, compare's std %v", row.Label, m, text, *cell.Std)
			}
			checked++
		}
	}
	if checked < len(c.Rows)*3 {
		t.Errorf("only %d numbers checked", checked)
	}
}

// TestServeInBrowser trains the tiny experiment, starts attnlab serve, and
// clicks through every page in headless Chromium as a user would: the
// experiments, the experiment's comparison (its numbers must be compare
// --format json's), a baseline chosen in the page, the curves, a run with
// its attention heatmap. No page may log an error; each is saved as a
// screenshot at 1280 and 390 px in the test's artifact directory
// (go test -artifacts keeps them).
func TestServeInBrowser(t *testing.T) {
	b := newBrowser(t)
	db := sharedDB(t)
	base := startServe(t, "--db", db)
	t.Logf("screenshots in %s", b.Dir)

	// Experiments.
	b.Do("experiments page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#experiments")))
	var names []string
	b.Eval(`[...document.querySelectorAll("#experiments td.name a")].map(a => a.textContent)`, &names)
	if strings.Join(names, ",") != "tiny,tinylm" && strings.Join(names, ",") != "tinylm,tiny" {
		t.Errorf("experiments page lists %q, want tiny and tinylm", names)
	}
	b.shoot("experiments")
	b.NoErrors("experiments page")

	// An experiment: click through to it.
	b.Do("click tiny", chromedp.Click(chromedp.CSS(`#experiments a[href="/x/tiny"]`)), chromedp.WaitVisible(chromedp.CSS("#means")))
	var page pageTable
	b.Eval(readTable+`("#means")`, &page)
	checkMeans(t, page, compareAsJSON(t, db))
	b.shoot("experiment")
	b.NoErrors("experiment page")

	// The comparison with a baseline typed into the page's form.
	b.Do("baseline", chromedp.SetValue(chromedp.CSS(`input[name="baseline"]`), "attention.name=none"),
		chromedp.Click(chromedp.CSS(`form.query button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#diffs")))
	c := compareAsJSON(t, db, "--baseline", "attention.name=none")
	b.Eval(readTable+`("#means")`, &page)
	checkMeans(t, page, c)
	var diffs pageTable
	b.Eval(readTable+`("#diffs")`, &diffs)
	tested := 0
	for i, row := range c.Rows {
		for _, m := range c.Metrics {
			cell := row.Cells[m]
			if !cell.Tested || cell.Diff == nil {
				continue
			}
			j := slicesIndex(diffs.Heads, m)
			if j < 0 || len(diffs.Rows) == 0 {
				t.Fatalf("diff table lacks %s: %+v", m, diffs)
			}
			// The diff table has one row per compared row (the baseline's is left out).
			text := diffs.Rows[i-1][j]
			nums := shown.FindAllString(text, -1)
			if cell.Low == nil {
				// No interval: an exact test where a t-test has no spread
				// (paired differences that do not vary, say), its p marked
				// ‡; no p where a side has too few values.
				ok := len(nums) == 1 && strings.Contains(text, "p=—") && cell.PAdj == nil
				if cell.Test == "sign-flip" || cell.Test == "permutation" {
					ok = len(nums) == 2 && strings.HasSuffix(text, "‡") && cell.PAdj != nil && (strings.Contains(text, "p<") || agrees(nums[1], *cell.PAdj))
				}
				if !ok || !agrees(nums[0], *cell.Diff) {
					t.Errorf("row %s %s: page %q, compare Δ %v without an interval, test %q", row.Label, m, text, *cell.Diff, cell.Test)
				}
				tested++
				continue
			}
			if len(nums) < 4 || !agrees(nums[0], *cell.Diff) || !agrees(nums[1], *cell.Low) || !agrees(nums[2], *cell.High) ||
				(!strings.Contains(text, "p<") && !agrees(nums[3], *cell.PAdj)) {
				t.Errorf("row %s %s: page %q, compare Δ %v [%v, %v] p %v", row.Label, m, text, *cell.Diff, *cell.Low, *cell.High, *cell.PAdj)
			}
			tested++
		}
	}
	if tested == 0 {
		t.Errorf("no difference checked: %+v", diffs)
	}
	b.shoot("compare-baseline")
	b.NoErrors("comparison with a baseline")

	// Curves, from the experiment page's link.
	b.Do("curves", chromedp.Click(chromedp.CSS(`p.links a[href^="/x/tiny/curves"]`)),
		chromedp.WaitVisible(chromedp.CSS("#chart .uplot canvas")), chromedp.WaitVisible(chromedp.CSS("#legend li")),
		chromedp.WaitVisible(chromedp.CSS("#length .uplot canvas")))
	var legend []string
	b.Eval(`[...document.querySelectorAll("#legend li")].map(li => li.textContent)`, &legend)
	if len(legend) != 2 || !strings.Contains(strings.Join(legend, " "), "none") || !strings.Contains(strings.Join(legend, " "), "additive") {
		t.Errorf("curves legend %q, want the two groups", legend)
	}
	b.Hover("#chart .u-over")
	var tip string
	b.Eval(`document.getElementById("tip").hidden ? "" : document.getElementById("tip").textContent`, &tip)
	if !strings.HasPrefix(tip, "step ") || !strings.Contains(tip, ": ") {
		t.Errorf("hovering the chart shows %q, want the step and the values", tip)
	}
	// Zoom: drag across the middle third of the chart; double-click zooms out.
	var box struct{ L, T, W, H, Max float64 }
	b.Eval(`(() => { const r = document.querySelector("#chart .u-over").getBoundingClientRect();
		return {L: r.left, T: r.top, W: r.width, H: r.height, Max: Number(document.getElementById("chart").dataset.xMax)}; })()`, &box)
	y := box.T + box.H/2
	b.Do("zoom", chromedp.MouseEvent(chromedp.MouseMoved, box.L+box.W/3, y),
		chromedp.MouseEvent(chromedp.MousePressed, box.L+box.W/3, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseMoved, box.L+box.W/2, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, box.L+2*box.W/3, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, box.L+2*box.W/3, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Sleep(200*time.Millisecond))
	var zoomed float64
	b.Eval(`Number(document.getElementById("chart").dataset.xMax)`, &zoomed)
	if !(zoomed < box.Max) {
		t.Errorf("dragging across the chart did not zoom: x axis up to %v, before %v", zoomed, box.Max)
	}
	b.Do("zoom out", chromedp.MouseClickXY(box.L+box.W/2, y, chromedp.ClickCount(2)), chromedp.Sleep(200*time.Millisecond))
	b.Eval(`Number(document.getElementById("chart").dataset.xMax)`, &zoomed)
	if zoomed != box.Max {
		t.Errorf("double-click did not zoom out: x axis up to %v, want %v", zoomed, box.Max)
	}
	b.Do("log scale", chromedp.Click(chromedp.CSS("#log")), chromedp.Sleep(300*time.Millisecond))
	var logURL string
	b.Eval(`location.search`, &logURL)
	if !strings.Contains(logURL, "log=1") {
		t.Errorf("log scale toggle: URL query %q lacks log=1", logURL)
	}
	b.shoot("curves")
	b.NoErrors("curves page")

	// A run with its heatmap: back to the comparison, a run of the additive row.
	b.Do("run", chromedp.Navigate(base+"/x/tiny"), chromedp.WaitVisible(chromedp.CSS("#means")),
		chromedp.Click(chromedp.CSS(`#means tr[data-row="1"] td.runs a`)),
		chromedp.WaitVisible(chromedp.CSS("svg.heatmap rect")))
	var rect struct{ Source, Output, Weight string }
	b.Eval(`(() => { const r = document.querySelectorAll("svg.heatmap rect")[1]; r.id = "probe"; return {Source: r.dataset.source, Output: r.dataset.output, Weight: r.dataset.weight}; })()`, &rect)
	b.Hover("#probe")
	b.Eval(`(() => { const t = document.querySelector("figure.heatmap-box .tip"); return t.hidden ? "" : t.textContent; })()`, &tip)
	if want := "output: " + rect.Output + "\nsource: " + rect.Source + "\nweight: " + rect.Weight; tip != want || rect.Weight == "" {
		t.Errorf("hovering a heatmap cell shows %q, want %q", tip, want)
	}
	var links []string
	b.Eval(`[...document.querySelectorAll("a[href*='/artifacts/']")].map(a => a.getAttribute("href"))`, &links)
	weights := ""
	for _, l := range links {
		if strings.HasSuffix(l, ".safetensors") {
			weights = l
		}
	}
	if weights == "" {
		t.Errorf("run page links no safetensors weights: %q", links)
	} else if resp, err := http.Get(base + weights); err != nil || resp.StatusCode != 200 {
		t.Errorf("download %s: %v %v", weights, resp, err)
	} else {
		resp.Body.Close()
	}
	b.shoot("run")
	b.NoErrors("run page")

	// The same server has no generate page: it is read-only by default.
	var hasGenerate bool
	b.Eval(`!!document.querySelector("a[href$='/generate']")`, &hasGenerate)
	if hasGenerate {
		t.Errorf("a read-only server's run page links to generate")
	}
	// Generate, on a server told --read-only=false: type an input, get the
	// model's output and its attention.
	rw := startServe(t, "--db", db, "--read-only=false")
	b.Do("run page, generate enabled", chromedp.Navigate(rw+"/x/tiny"), chromedp.WaitVisible(chromedp.CSS("#means")),
		chromedp.Click(chromedp.CSS(`#means tr[data-row="1"] td.runs a`)), chromedp.WaitVisible(chromedp.CSS("svg.heatmap")),
		chromedp.Click(chromedp.CSS(`p.links a[href$="/generate"]`)), chromedp.WaitVisible(chromedp.CSS("textarea#input")),
		chromedp.SetValue(chromedp.CSS("textarea#input"), "abcd"),
		chromedp.Click(chromedp.CSS(`form.generate button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#output")), chromedp.WaitVisible(chromedp.CSS("svg.heatmap rect")))
	var gen struct {
		Output string
		Cols   []string
	}
	b.Eval(`({Output: document.getElementById("output").textContent,
		Cols: [...document.querySelectorAll("svg.heatmap text.src")].map(t => t.textContent)})`, &gen)
	if gen.Output == "" || strings.Join(gen.Cols, "") != "abcd<eos>" && strings.Join(gen.Cols, "") != "abcd" {
		t.Errorf("generate shows output %q over source tokens %q, want an output and the tokens of abcd", gen.Output, gen.Cols)
	}
	b.shoot("generate")
	b.NoErrors("generate page")
}

// TestServeInBrowserPostgres serves the same experiments from a
// PostgreSQL database (copied there with attnlab sync) and checks in the
// browser that the experiment page shows compare's numbers on that engine
// too, and that the page never shows the URL's password.
func TestServeInBrowserPostgres(t *testing.T) {
	b := newBrowser(t)
	const secret = "Pw-0f-Th3-Lab"
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret) // the test server trusts any password
	pg := u.String()
	wantOK(t, attnlab(t, "sync", "--from", sharedDB(t), "--to", pg))
	base := startServe(t, "--db", pg)
	b.Do("experiment page", chromedp.Navigate(base+"/x/tiny"), chromedp.WaitVisible(chromedp.CSS("#means")))
	var page pageTable
	b.Eval(readTable+`("#means")`, &page)
	checkMeans(t, page, compareAsJSON(t, pg))
	var text string
	b.Eval(`document.documentElement.outerHTML`, &text)
	if strings.Contains(text, secret) {
		t.Errorf("the page shows the database password")
	}
	if !strings.Contains(text, "postgres store") {
		t.Errorf("the footer does not say the store is PostgreSQL")
	}
	b.Do("curves", chromedp.Navigate(base+"/x/tiny/curves"), chromedp.WaitVisible(chromedp.CSS("#chart .uplot canvas")),
		chromedp.WaitVisible(chromedp.CSS("#legend li")))
	b.shoot("postgres-curves")
	b.NoErrors("pages on PostgreSQL")
}

// TestServeXSSInBrowser submits an experiment whose description and sweep
// values are HTML with scripts and opens its pages in the browser: the text
// must show as text, and no script may run (no dialog, no CSP violation).
func TestServeXSSInBrowser(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "xss.db"), filepath.Join(dir, "xss.yaml")
	const desc = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	yaml, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^name: .*$`).ReplaceAllString(string(yaml), "name: xss")
	text = regexp.MustCompile(`(?m)^description: .*$`).ReplaceAllString(text, "description: '"+desc+"'")
	writeFile(t, cfg, text)
	wantOK(t, attnlab(t, "submit", cfg, "--db", db))
	base := startServe(t, "--db", db)
	b.Do("experiments page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#experiments")))
	var shown []string
	b.Eval(`[...document.querySelectorAll("#experiments td.desc")].map(td => td.textContent)`, &shown)
	if len(shown) != 1 || shown[0] != desc {
		t.Errorf("the description shows as %q, want the text %q", shown, desc)
	}
	b.Do("experiment page", chromedp.Navigate(base+"/x/xss?status=queued"), chromedp.WaitVisible(chromedp.CSS("p.desc")),
		chromedp.Sleep(500*time.Millisecond))
	var n int
	b.Eval(`document.querySelectorAll("main script, main img").length`, &n)
	if n != 0 {
		t.Errorf("the experiment page has %d script or img elements from the description", n)
	}
	b.NoErrors("pages of a hostile experiment")
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestServeLive starts a run that trains for a while, opens its curves
// page, and watches new points arrive without a reload.
func TestServeLive(t *testing.T) {
	b := newBrowser(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.db")
	cfg := filepath.Join(dir, "slow.yaml")
	writeFile(t, cfg, `name: slow
description: a run long enough to watch
task: {name: reverse, symbols: 6, min_len: 3, max_len: 6, train_size: 200, valid_size: 20, test_size: 20}
model:
  name: seq2seq-rnn
  embed: 16
  encoder: {name: lstm, hidden: 32}
  attention: {name: additive}
train:
  optimizer: {name: adam, lr: 1.0e-2}
  batch_size: 16
  steps: 100000
  eval_every: 100000
  log_every: 5
seeds: [1]
`)
	ctx, cancel := context.WithCancel(context.Background())
	var errb syncBuffer
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		done <- attnlabWith(ctx, "", &errb, &out, "run", cfg, "--db", db)
	}()
	defer func() {
		cancel()
		<-done
	}()
	// Wait until the run has written a first batch of points.
	base := ""
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if st, err := store.OpenExisting(db); err == nil {
			st.Close()
			if base == "" {
				base = startServe(t, "--db", db)
			}
			resp, err := http.Get(base + "/api/x/slow/curves?metric=train/loss&status=running")
			if err == nil {
				var d struct{ X []float64 }
				json.NewDecoder(resp.Body).Decode(&d)
				resp.Body.Close()
				if len(d.X) > 0 {
					break
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run wrote no metric points in 2 minutes:\n%s", errb.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Do("curves", chromedp.Navigate(base+"/x/slow/curves?metric=train/loss"), chromedp.WaitVisible(chromedp.CSS("#chart .uplot canvas")))
	var marker string
	b.Eval(`(() => { window.notReloaded = "yes"; return window.notReloaded; })()`, &marker)
	steps := func() (n int, last float64) {
		var s struct {
			N           int
			Last, Shown float64
		}
		b.Eval(`(d => ({N: Number(d.points || 0), Last: Number(d.lastStep || 0), Shown: Number(d.xMax || 0)}))(document.getElementById("chart").dataset)`, &s)
		if s.Shown < s.Last {
			t.Errorf("the chart has points up to step %v but shows the x axis only up to %v", s.Last, s.Shown)
		}
		return s.N, s.Last
	}
	n0, first := steps()
	if n0 == 0 {
		t.Fatalf("the curves page drew no points")
	}
	b.Save("live-before.png")
	deadline = time.Now().Add(60 * time.Second)
	for {
		n, last := steps()
		if last > first {
			t.Logf("without a reload the chart went from %d points (last step %v) to %d (last step %v)", n0, first, n, last)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new point in 60 s: still %d points, last step %v", n, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.Eval(`window.notReloaded || "reloaded"`, &marker)
	if marker != "yes" {
		t.Errorf("the page was reloaded")
	}
	var status string
	b.Eval(`document.getElementById("live").hidden ? "hidden" : "shown"`, &status)
	if status != "shown" {
		t.Errorf("the live marker is %s while the run trains", status)
	}
	b.Save("live-after.png")
	b.NoErrors("live curves page")
}

// TestReadmeServeScreenshot checks that the README's screenshot of serve
// is in the repository (a clean clone has it) and is a small PNG.
func TestReadmeServeScreenshot(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`!\[[^\]]*\]\((docs/[^)]+\.png)\)`).FindSubmatch(readme)
	if m == nil || !bytes.Contains(readme, []byte("attnlab serve")) {
		t.Fatalf("README.md has no screenshot of attnlab serve")
	}
	png, err := os.ReadFile(filepath.Join("../..", string(m[1])))
	if err != nil {
		t.Fatalf("the README's screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) > 200<<10 {
		t.Errorf("%s: want a PNG under 200 KiB, have %d bytes starting %q", m[1], len(png), png[:min(8, len(png))])
	}
	if out, err := exec.Command("git", "-C", "../..", "check-ignore", "-q", string(m[1])).CombinedOutput(); err == nil {
		t.Errorf("%s is ignored by git: a clean clone would not have it %s", m[1], out)
	}
}
