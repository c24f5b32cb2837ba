package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/faultproxy"
	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// checkPage checks what every HTML page must be: the security headers,
// no inline script or style, nothing loaded from another host.
func checkPage(t *testing.T, path string, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", path, ct)
	}
	checkHeaders(t, path, r)
	for _, tag := range regexp.MustCompile(`<script\b[^>]*>`).FindAllString(r.body, -1) {
		if !regexp.MustCompile(` src="/static/[^"]+"`).MatchString(tag) {
			t.Errorf("%s: inline or foreign script %s", path, tag)
		}
	}
	if strings.Contains(r.body, "<style") || regexp.MustCompile(`\sstyle=`).MatchString(r.body) {
		t.Errorf("%s: inline style (the CSP forbids it)", path)
	}
	if strings.Contains(r.body, "javascript:") {
		t.Errorf("%s: a javascript: URL", path)
	}
	for _, m := range regexp.MustCompile(`\s(src|href|action)="([^"]*)"`).FindAllStringSubmatch(r.body, -1) {
		if u := m[2]; !(strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") || strings.HasPrefix(u, "#") || strings.HasPrefix(u, "?")) {
			t.Errorf("%s: %s=%q does not stay on this server", path, m[1], u)
		}
	}
}

func checkHeaders(t *testing.T, path string, r response) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	if csp != CSP || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("%s: Content-Security-Policy %q", path, csp)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: headers %v", path, r.header)
	}
}

func TestPages(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		fx := fill(t, st)
		s := newServer(t, st, Options{ReadOnly: true})
		add1 := fx.scan["additive"][0]
		r1 := strconv.FormatInt(add1, 10)
		// The command line of the same table names the page's database.
		dbArg, _ := st.SharedCommandDB()
		cli := template.HTMLEscapeString("attnlab compare" + dbArg + " scan")
		for _, tc := range []struct {
			path   string
			status int
			wants  []string
		}{
			{"/", 200, []string{"scan", "which attention helps SCAN", "9 done", "1 running", "1 failed", "1 queued"}},
			{"/x/scan", 200, []string{`<td class="key">none</td>`, `<td class="key">additive</td>`, "0.880 ± 0.010", cli, `data-fragment="runs"`,
				`<span class="unfinished" title="not finished yet, left out of the means">(+1 unfinished)</span>`,
				`href="/r/` + r1 + `"`, "loss is NaN at step 120", `<progress max="400" value="90">`, `title="run ` + r1 + `, seed 1: `}},
			{"/x/scan?baseline=attention.name%3Dnone", 200, []string{"Against attention.name=none: difference of means, p (Holm)", `class="baseline"`,
				"--baseline attention.name=none"}},
			{"/x/scan?where=attention.name+%21%3D+none&sort=-exact_match", 200, []string{`<td class="key">dot</td>`, "rows sorted by test/exact_match, descending"}},
			{"/x/scan?status=failed", 200, []string{"loss is NaN"}},
			{"/x/scan?where=attention.name+%3D", 400, []string{"where: col"}},
			{"/x/scan?by=attention.name", 200, []string{`<th class="key">attention.name</th>`}},
			{"/x/scan?by=seed", 400, []string{`<p class="notice">--by seed would put runs with different model.attention.name (none, dot, additive) in one group`}},
			{"/x/scan?by=seed&pool=attention.name", 200, []string{`<th class="key">seed</th>`, `<th class="key">attention.name (pooled)</th>`}},
			{"/x/scan?by=nosuchkey", 400, []string{"nosuchkey"}},
			{"/x/scan?status=bogus", 400, []string{"status &#34;bogus&#34;: unknown status"}},
			{"/x/scan?run=abc", 400, []string{"run &#34;abc&#34;: not a run id"}},
			{"/x/scan?run=0", 400, []string{"run &#34;0&#34;: not a run id"}},
			{"/x/nope", 404, []string{"nope"}},
			{"/x/scan/curves", 200, []string{`<option value="train/loss" selected>`, `<option value="valid/loss">`, `data-src="/api/x/scan/curves"`, "/static/curves.js"}},
			{"/x/scan/curves?metric=valid%2Floss&view=runs&run=" + r1, 200, []string{`<option value="valid/loss" selected>`, "Only run"}},
			{"/x/scan/curves?where=(", 400, []string{"where: col"}},
			{"/x/scan/curves?metric=bleu", 400, []string{"unknown metric &#34;bleu&#34;", `<option value="train/loss">`}},
			{"/r/" + r1, 200, []string{"scan/additive/seed=1", "jump twice", "JUMP JUMP", `<svg class="heatmap"`, `data-source="twice"`,
				"params.safetensors", "attention:", "test/exact_match", "worker-1:4242", "<dt>finished</dt>", " (took "}},
			{"/r/" + strconv.FormatInt(fx.failed, 10), 200, []string{"<dt>ended</dt>"}}, // a failed run did not finish
			{"/r/" + r1 + "?example=1", 200, []string{`data-source="left"`, "Test example 1"}},
			{"/r/" + r1 + "?example=7", 400, []string{"no attention map of test example 7"}},
			{"/r/" + r1 + "?example=x", 400, []string{"not an example number"}},
			{"/r/" + strconv.FormatInt(fx.running, 10), 200, []string{"running", `<progress max="400" value="90">`}},
			{"/r/999999", 404, []string{"999999"}},
			{"/r/abc", 404, []string{"not a run id"}},
			{"/r/" + r1 + "/generate", 403, []string{"--read-only=false"}},
			{"/nope", 404, []string{"no page /nope"}},
		} {
			r := get(t, s, tc.path)
			if r.status != tc.status {
				t.Errorf("GET %s: status %d, want %d\n%s", tc.path, r.status, tc.status, shortBody(r.body))
			}
			checkPage(t, tc.path, r)
			mustContain(t, "GET "+tc.path, r.body, tc.wants...)
		}
		// The experiments page names the best row as compare marks it:
		// none while additive, the best so far, waits for its running
		// seed; additive once that seed is done.
		bestOfScan := func() string {
			t.Helper()
			m := regexp.MustCompile(`(?s)href="/x/scan">scan</a>.*?<td class="best">(.*?)</td>`).FindStringSubmatch(get(t, s, "/").body)
			if m == nil {
				t.Fatal("the experiments page has no best cell for scan")
			}
			return m[1]
		}
		if got := bestOfScan(); got != "—" {
			t.Errorf("best of scan with additive's seed 4 running: %q, want —", got)
		}
		if err := st.PutSummaries(context.Background(), fx.running, map[string]float64{"test/exact_match": 0.86}); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(context.Background(), fx.running, fixOwner, store.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
		want := `<span class="metric">test/exact_match</span> <span class="num">0.875 ± 0.013</span> <span class="row">attention.name=additive</span>`
		if got := bestOfScan(); got != want {
			t.Errorf("best of scan with every additive seed done: %q, want %q", got, want)
		}
	})
}

func TestAPIs(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		fx := fill(t, st)
		s := newServer(t, st, Options{ReadOnly: true})
		ctx := context.Background()
		add1 := strconv.FormatInt(fx.scan["additive"][0], 10)
		getJSON := func(path string, status int, v any) string {
			t.Helper()
			r := get(t, s, path)
			if r.status != status {
				t.Fatalf("GET %s: status %d, want %d: %s", path, r.status, status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("GET %s: Content-Type %q", path, ct)
			}
			checkHeaders(t, path, r)
			if v != nil {
				if err := json.Unmarshal([]byte(r.body), v); err != nil {
					t.Fatalf("GET %s: %v\n%s", path, err, r.body)
				}
			}
			return r.body
		}

		// The comparison is compare --format json's, byte for byte.
		for _, q := range []string{"", "?baseline=attention.name%3Dnone", "?where=seed+%3C+3&sort=loss&metrics=exact_match,loss"} {
			body := getJSON("/api/x/scan/compare"+q, 200, nil)
			v, _ := url.ParseQuery(strings.TrimPrefix(q, "?"))
			query := report.Query{Experiments: []string{"scan"}, Baseline: v.Get("baseline"), Sort: v.Get("sort"), Metrics: splitList(v.Get("metrics"))}
			if w := v.Get("where"); w != "" {
				cond, err := store.ParseWhere(w)
				if err != nil {
					t.Fatal(err)
				}
				query.Where = cond
			}
			c, err := report.Compare(ctx, st, query)
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			if err := c.Write(&want, "json"); err != nil {
				t.Fatal(err)
			}
			var got, exp any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(want.String()), &exp); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("compare%s:\n%s\nwant compare --format json:\n%s", q, body, want.String())
			}
		}
		getJSON("/api/x/scan/compare?where=attention.name+%3D+gru", 400, nil)
		getJSON("/api/x/nope/compare", 404, nil)

		var cd curvesData
		getJSON("/api/x/scan/curves", 200, &cd)
		if cd.Metric != "train/loss" || cd.View != viewMean || cd.Band != bandMinMax || len(cd.Series) != 3 || cd.Direction != "lower" {
			t.Errorf("curves: metric %s view %s band %s, %d series, direction %s", cd.Metric, cd.View, cd.Band, len(cd.Series), cd.Direction)
		}
		if !slices.Equal(cd.Metrics, []string{"train/loss", "valid/loss"}) || len(cd.X) != 40 || cd.Width != 0 {
			t.Errorf("curves: metrics %v, %d x, width %d", cd.Metrics, len(cd.X), cd.Width)
		}
		// The additive group holds the running run too (status any); its
		// history ends before the others' because it is still training,
		// which the legend says, as attnlab plot curves does.
		for _, sr := range cd.Series {
			if strings.HasPrefix(sr.Label, "attention.name=additive") && (len(sr.Runs) != 4 || !strings.Contains(sr.Label, "(4 runs, 1 not finished)")) {
				t.Errorf("curves: additive series %q with runs %v", sr.Label, sr.Runs)
			}
			if len(sr.Y) != len(cd.X) || len(sr.Lo) != len(cd.X) || len(sr.Hi) != len(cd.X) || len(sr.N) != len(cd.X) {
				t.Errorf("curves: series %q has %d/%d/%d/%d values for %d x", sr.Label, len(sr.Y), len(sr.Lo), len(sr.Hi), len(sr.N), len(cd.X))
			}
		}
		getJSON("/api/x/scan/curves?view=runs&metric=loss", 200, &cd)
		if cd.Metric != "valid/loss" || cd.View != viewRuns || len(cd.Series) != 11 || len(cd.Missing) != 1 {
			t.Errorf("curves view=runs metric=loss: %s %s, %d series, missing %v", cd.Metric, cd.View, len(cd.Series), cd.Missing)
		}
		getJSON("/api/x/scan/curves?metric=bleu", 400, nil)
		getJSON("/api/x/scan/curves?view=sideways", 400, nil)
		// No run selected: the curves page's 400 and its message, not
		// null, which the page's script cannot draw (it polls the API:
		// the runs may be removed after the page loaded).
		// The length plot of the same page answers the same, word for
		// word: not {"buckets": []}, as if the runs had no length buckets.
		for _, q := range []string{"?where=seed+%3E+99", "?run=99999"} {
			var e, le struct{ Error string }
			getJSON("/api/x/scan/curves"+q, 400, &e)
			if !strings.HasPrefix(e.Error, "no runs") {
				t.Errorf("/api/x/scan/curves%s: error %q, want no runs ...", q, e.Error)
			}
			getJSON("/api/x/scan/length"+q, 400, &le)
			if le.Error != e.Error {
				t.Errorf("/api/x/scan/length%s: error %q, want the curves answer's %q", q, le.Error, e.Error)
			}
		}

		var ld lengthData
		getJSON("/api/x/scan/length", 200, &ld)
		if !slices.Equal(ld.Buckets, []string{"1–10", "11–20"}) || len(ld.Series) != 3 {
			t.Fatalf("length: buckets %q, %d series", ld.Buckets, len(ld.Series))
		}
		if sr := ld.Series[2]; sr.Label != "attention.name=additive (3 runs)" || !near(sr.Y[0], 0.93) || !near(sr.Lo[0], 0.92) || !near(sr.Hi[0], 0.94) {
			t.Errorf("length additive: %+v, want mean 0.93 in [0.92, 0.94]", sr)
		}
		// Only the running run: nothing done to plot yet, not an error
		// (the curves page of a first run asks for it while it trains).
		ld = lengthData{}
		getJSON("/api/x/scan/length?where=status%3Drunning", 200, &ld)
		if ld.Buckets == nil || len(ld.Buckets) != 0 || len(ld.Series) != 0 {
			t.Errorf("length of a running run: %+v, want no buckets", ld)
		}

		var maps []map[string]any
		getJSON("/api/r/"+add1+"/attention", 200, &maps)
		if len(maps) != 2 {
			t.Errorf("attention: %d maps, want 2", len(maps))
		}
		getJSON("/api/r/"+strconv.FormatInt(fx.queued, 10)+"/attention", 404, nil)

		var xs []map[string]any
		getJSON("/api/experiments", 200, &xs)
		if len(xs) != 2 || xs[0]["name"] != "scan" {
			t.Errorf("experiments: %v", xs)
		}

		var lv liveState
		getJSON("/api/live?x=scan", 200, &lv)
		if !lv.Active || len(lv.Runs) != 1 || lv.Runs[0].Step != 90 || lv.Runs[0].Total != 400 || lv.Counts["done"] != 9 {
			t.Errorf("live: %+v", lv)
		}
		getJSON("/api/live?run=x", 400, nil)
		getJSON("/api/live?run=999999", 404, nil)
		// One thing watched: not the first of two, silently.
		for q, want := range map[string]string{
			"run=1&run=2":      "run given 2 times: give it once",
			"x=scan&x=xss":     "x given 2 times: give it once",
			"others=1&others=": "others given 2 times: give it once",
			"run=1&x=scan":     "run and x given: give one",
		} {
			var e struct{ Error string }
			getJSON("/api/live?"+q, 400, &e)
			if !strings.HasPrefix(e.Error, want) {
				t.Errorf("/api/live?%s: error %q, want %q", q, e.Error, want)
			}
		}
		getJSON("/api/live", 200, &lv)
	})
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestExperimentPageIsCompare checks that the experiment page shows
// compare's numbers: each cell's text is the table's, its data-mean the
// JSON's mean at full precision.
func TestExperimentPageIsCompare(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	for _, q := range []string{"", "?baseline=attention.name%3Ddot&sort=loss", "?baseline=attention.name%3Ddot&sort=loss&unpaired=1"} {
		r := get(t, s, "/x/scan"+q)
		query := report.Query{Experiments: []string{"scan"}}
		if q != "" {
			query.Baseline, query.Sort = "attention.name=dot", "loss"
		}
		if strings.Contains(q, "unpaired") {
			query.Unpaired = true
			mustContain(t, "page"+q, r.body, "--unpaired</code>")
		}
		c, err := report.Compare(context.Background(), st, query)
		if err != nil {
			t.Fatal(err)
		}
		text := c.Text()
		cells := regexp.MustCompile(`<td class="num[^"]*" data-mean="([^"]*)"[^>]*><span class="v">([^<]*)</span>`).FindAllStringSubmatch(r.body, -1)
		if len(cells) != len(c.Rows)*len(c.Metrics) {
			t.Fatalf("%d cells on the page, want %d", len(cells), len(c.Rows)*len(c.Metrics))
		}
		for i, row := range c.Rows {
			for j, cell := range row.Cells {
				got := cells[i*len(c.Metrics)+j]
				if got[1] != report.FullFloat(cell.Mean) || got[2] != text.Values[i][j] {
					t.Errorf("row %d %s: page %q %q, want %q %q", i, c.Metrics[j], got[1], got[2], report.FullFloat(cell.Mean), text.Values[i][j])
				}
			}
		}
		for _, i := range text.TestedRows {
			for _, j := range text.TestedMetrics {
				mustContain(t, "page"+q, r.body, `<span class="diff">`+escapeHTML(text.Diffs[i][j])+`</span><br><span class="p">`+escapeHTML(text.P[i][j])+`</span>`)
			}
		}
		for _, n := range text.Notes {
			mustContain(t, "page"+q, r.body, escapeHTML(n))
		}
	}
}

func TestXSS(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		fx := fill(t, st)
		s := newServer(t, st, Options{ReadOnly: false})
		hostile := []string{xssDescription, xssParam, xssError, xssToken, "alert(1)</script>", "<img", "<svg onload"}
		for _, path := range []string{"/", "/x/xss", "/x/xss?status=failed", "/x/xss?baseline=" + url.QueryEscape(xssParam),
			"/x/xss?where=" + url.QueryEscape(`attention.name = "`+xssDescription+`"`), "/x/xss/curves",
			"/x/xss/curves?metric=" + url.QueryEscape(xssDescription), "/x/" + url.PathEscape(xssDescription),
			"/r/" + strconv.FormatInt(fx.xss, 10), "/r/" + strconv.FormatInt(fx.xssFailed, 10),
			"/api/x/xss/curves", "/api/x/xss/compare", "/api/x/xss/length", "/api/r/" + strconv.FormatInt(fx.xss, 10) + "/attention",
			"/api/experiments", "/api/x/xss/curves?metric=" + url.QueryEscape(xssDescription)} {
			r := get(t, s, path)
			if r.status >= 500 {
				t.Errorf("GET %s: status %d", path, r.status)
			}
			for _, h := range hostile {
				if strings.Contains(r.body, h) {
					t.Errorf("GET %s: %q unescaped in the body:\n%s", path, h, shortBody(r.body))
				}
			}
			if strings.HasPrefix(path, "/api/") {
				checkHeaders(t, path, r)
			} else {
				checkPage(t, path, r)
			}
		}
		// The hostile text is there, as text.
		mustContain(t, "experiments page", get(t, s, "/").body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		mustContain(t, "xss page", get(t, s, "/x/xss").body, "&lt;img src=x onerror=alert(2)&gt;")
		mustContain(t, "failed xss page", get(t, s, "/x/xss?status=failed").body, "&lt;/td&gt;&lt;script&gt;alert(3)&lt;/script&gt;")
		mustContain(t, "xss run", get(t, s, "/r/"+strconv.FormatInt(fx.xss, 10)).body, "&lt;svg onload=alert(4)&gt;", `data-source="&lt;svg onload=a…"`)
	})
}

// TestSQLInjection sends filters, names and ids written to break out of
// SQL: they reach the database only as bound parameters, so they match
// nothing or are refused, and the database is intact afterwards.
func TestSQLInjection(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		fill(t, st)
		s := newServer(t, st, Options{ReadOnly: true})
		ctx := context.Background()
		before, err := st.Runs(ctx, store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			path   string
			status int
			want   string
		}{
			{"/x/scan?where=" + url.QueryEscape(`attention.name = "x' OR '1'='1"`), 400, "no done runs match"},
			{"/x/scan?where=" + url.QueryEscape(`attention.name = "none'; DROP TABLE runs; --"`), 400, "no done runs match"},
			{"/x/scan?where=" + url.QueryEscape(`1=1; DROP TABLE runs`), 400, "where: col"},
			{"/x/scan?where=" + url.QueryEscape(`attention.name = none) OR (1=1`), 400, "where: col"},
			{"/x/scan?where=" + url.QueryEscape(`seed = 1 or seed = 2`), 200, "seed"},
			{"/x/scan?sort=" + url.QueryEscape(`loss; DELETE FROM runs`), 400, "unknown sort metric"},
			{"/x/scan?by=" + url.QueryEscape(`attention.name) --`), 400, "attention.name) --"},
			{"/x/" + url.PathEscape(`scan' OR '1'='1`), 404, "scan&#39; OR &#39;1&#39;=&#39;1"},
			{"/x/scan/curves?metric=" + url.QueryEscape(`train/loss' OR '1'='1`), 400, "unknown metric"},
			{"/api/x/scan/curves?metric=" + url.QueryEscape(`train/loss' --`), 400, "unknown metric"},
			{"/api/x/scan/curves?run=" + url.QueryEscape(`1 OR 1=1`), 400, "not a run id"},
			{"/r/" + url.PathEscape(`1 OR 1=1`), 404, "not a run id"},
			{"/api/live?x=" + url.QueryEscape(`scan' OR '1'='1`), 404, "scan"},
		} {
			r := get(t, s, tc.path)
			if r.status != tc.status {
				t.Errorf("GET %s: status %d, want %d\n%s", tc.path, r.status, tc.status, shortBody(r.body))
			}
			mustContain(t, "GET "+tc.path, r.body, tc.want)
		}
		after, err := st.Runs(ctx, store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Errorf("%d runs after the requests, %d before", len(after), len(before))
		}
	})
}

// TestLive checks that the live version changes when a running run logs
// metrics or finishes, and that a page's fragments render alone.
func TestLive(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		fx := fill(t, st)
		s := newServer(t, st, Options{ReadOnly: true})
		ctx := context.Background()
		version := func(q string) liveState {
			t.Helper()
			return live(t, s, q)
		}
		run := "run=" + strconv.FormatInt(fx.running, 10)
		x0, r0, all0 := version("x=scan"), version(run), version("")
		page := get(t, s, "/x/scan")
		mustContain(t, "experiment page", page.body, `data-live-v="`+x0.V+`"`)
		if again := version("x=scan"); again.V != x0.V {
			t.Errorf("live version changed with nothing done: %s then %s", x0.V, again.V)
		}
		w := st.NewMetricWriter(fx.running, 0)
		logMetric(t, w, 100, "train/loss", 0.4)
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		x1, r1 := version("x=scan"), version(run)
		if x1.V == x0.V || r1.V == r0.V || r1.Runs[0].Step != 100 {
			t.Errorf("a new metric row left the live version as it was: %s → %s, %s → %s (%+v)", x0.V, x1.V, r0.V, r1.V, r1.Runs)
		}
		frag := get(t, s, "/x/scan?fragment=runs")
		mustContain(t, "runs fragment", frag.body, `<progress max="400" value="100">`)
		if strings.Contains(frag.body, "<html") || strings.Contains(frag.body, "<form") {
			t.Errorf("the fragment is a whole page:\n%s", shortBody(frag.body))
		}
		var cd curvesData
		if err := json.Unmarshal([]byte(get(t, s, "/api/x/scan/curves?view=runs&run="+strconv.FormatInt(fx.running, 10)).body), &cd); err != nil {
			t.Fatal(err)
		}
		if len(cd.X) == 0 || cd.X[len(cd.X)-1] != 100 {
			t.Errorf("curves of the running run end at %v, want its new step 100", cd.X)
		}
		if err := st.PutSummaries(ctx, fx.running, map[string]float64{"test/exact_match": 0.95}); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(ctx, fx.running, fixOwner, store.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
		x2, all2 := version("x=scan"), version("")
		if x2.V == x1.V || all2.V == all0.V {
			t.Errorf("a finished run left the live version as it was")
		}
		frag = get(t, s, "/x/scan?fragment=comparison")
		mustContain(t, "comparison fragment", frag.body, `<td class="n">4</td>`)
		if r := get(t, s, "/x/scan?fragment=nope"); r.status != 404 {
			t.Errorf("unknown fragment: status %d", r.status)
		}
	})
}

func TestAssets(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	s := newServer(t, st, Options{})
	for name, f := range s.assets.files {
		r := get(t, s, s.assets.url(name))
		if r.status != 200 || r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.body != string(f.body) {
			t.Errorf("%s: status %d, Cache-Control %q, %d bytes", name, r.status, r.header.Get("Cache-Control"), len(r.body))
		}
		req, _ := http.NewRequest(http.MethodGet, "http://localhost/static/"+name, nil)
		req.Header.Set("If-None-Match", `"`+f.hash+`"`)
		if r := do(t, s, req); r.status != http.StatusNotModified {
			t.Errorf("%s with its ETag: status %d", name, r.status)
		}
	}
	if r := get(t, s, "/static/nope.js"); r.status != 404 {
		t.Errorf("unknown asset: %d", r.status)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://localhost/static/vendor/uplot/uPlot.iife.min.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if r := do(t, s, req); r.header.Get("Content-Encoding") != "gzip" || len(r.body) > 30000 {
		t.Errorf("uPlot gzipped: Content-Encoding %q, %d bytes", r.header.Get("Content-Encoding"), len(r.body))
	}
}

// TestSafeByDefault checks the defences that do not depend on data: a
// Host that is not localhost (on loopback) or not an IP address or a
// --host name (off it), cross-origin posts, generate when read-only.
func TestSafeByDefault(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	fx := fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true, LoopbackOnly: true})
	for host, ok := range map[string]bool{"localhost:8080": true, "127.0.0.1:8080": true, "[::1]:80": true, "127.0.0.1": true,
		"evil.example:8080": false, "attnlab.example": false, "192.168.1.5:8080": false, "localhost.evil.example": false} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		req.Host = host
		r := do(t, s, req)
		if got := r.status == 200; got != ok {
			t.Errorf("Host %s: status %d", host, r.status)
		}
		checkHeaders(t, "Host "+host, r)
	}
	// Off loopback, the Host may be an IP address or a name serve was
	// given, never another name: DNS rebinding gives the attacker's.
	wide := newServer(t, st, Options{ReadOnly: true, Hosts: []string{"lab.example", "gpu1."}})
	for host, ok := range map[string]bool{"localhost:8080": true, "192.168.1.5:8080": true, "[fe80::1]:80": true, "10.0.0.7": true,
		"lab.example:8080": true, "LAB.example.": true, "gpu1": true, "evil.example:8080": false, "lab.example.evil.example": false, "192.168.1.5.nip.io": false} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/", nil)
		req.Host = host
		r := do(t, wide, req)
		if got := r.status == 200; got != ok {
			t.Errorf("off loopback, Host %s: status %d", host, r.status)
		}
		if !ok && !strings.Contains(r.body, "--host") {
			t.Errorf("off loopback, Host %s refused without naming --host: %s", host, shortBody(r.body))
		}
	}
	path := "/r/" + strconv.FormatInt(fx.scan["dot"][0], 10) + "/generate"
	req, _ := http.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader("input=abc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := do(t, s, req); r.status != http.StatusForbidden || !strings.Contains(r.body, "read-only") {
		t.Errorf("POST generate read-only: %d %s", r.status, shortBody(r.body))
	}
	open := newServer(t, st, Options{})
	req, _ = http.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader("input=abc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if r := do(t, open, req); r.status != http.StatusForbidden || !strings.Contains(r.body, "cross-origin") {
		t.Errorf("cross-origin POST: %d %s", r.status, shortBody(r.body))
	}
	// Another site's page cannot make a visitor's browser load a model or
	// an artifact (an image, a script, a frame); a link still opens the page.
	var loads atomic.Int32
	open.gen.loadRun = func(ctx context.Context, st *store.Store, id int64) (*runs.Trained, error) {
		loads.Add(1)
		return nil, errors.New("no model in this test")
	}
	for _, c := range []struct {
		site, mode, dest string
		refused          bool
	}{
		{"cross-site", "no-cors", "image", true},
		{"cross-site", "no-cors", "script", true},
		{"cross-site", "cors", "empty", true},
		{"cross-site", "navigate", "iframe", true},
		{"cross-site", "navigate", "document", false},
		{"same-site", "no-cors", "image", false},
		{"same-origin", "cors", "empty", false},
		{"", "", "", false}, // curl
	} {
		for _, target := range []string{path, "/r/" + strconv.FormatInt(fx.scan["dot"][0], 10), "/api/experiments"} {
			req, _ := http.NewRequest(http.MethodGet, "http://localhost"+target, nil)
			for k, v := range map[string]string{"Sec-Fetch-Site": c.site, "Sec-Fetch-Mode": c.mode, "Sec-Fetch-Dest": c.dest} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			before := loads.Load()
			r := do(t, open, req)
			if refused := r.status == http.StatusForbidden && strings.Contains(r.body, "cross-site request refused"); refused != c.refused {
				t.Errorf("GET %s, %s %s %s: %d %s; want refused %v", target, c.site, c.mode, c.dest, r.status, shortBody(r.body), c.refused)
			}
			if target == path && (loads.Load() > before) == c.refused {
				t.Errorf("GET %s, %s %s %s: %d model loads", target, c.site, c.mode, c.dest, loads.Load()-before)
			}
		}
	}
	// A run that is not done has no model to generate with.
	r := get(t, open, "/r/"+strconv.FormatInt(fx.running, 10)+"/generate")
	if r.status != http.StatusConflict {
		t.Errorf("generate with a running run: %d", r.status)
	}
}

// TestGenerate decodes with a trained model through the page.
func TestGenerate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *store.Store) {
		ids := trainTiny(t, st)
		s := newServer(t, st, Options{})
		ctx := context.Background()
		for _, id := range ids {
			run, err := st.RunByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			path := "/r/" + strconv.FormatInt(id, 10) + "/generate"
			r := get(t, s, path)
			if r.status != 200 {
				t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
			}
			checkPage(t, path, r)
			mustContain(t, path, r.body, "The model knows", `<form class="generate" method="post"`)
			page := get(t, s, "/r/"+strconv.FormatInt(id, 10))
			mustContain(t, "run page", page.body, `href="`+path+`"`)
			post := func(form url.Values) response {
				req, _ := http.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", "http://localhost")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				return do(t, s, req)
			}
			src := sampleSource(t, st, id)
			// A multipart body (curl -F) is not read as the empty input.
			req, _ := http.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"input\"\r\n\r\nabc\r\n--x--\r\n"))
			req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			req.Header.Set("Origin", "http://localhost")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if r := do(t, s, req); r.status != http.StatusUnsupportedMediaType || !strings.Contains(r.body, "application/x-www-form-urlencoded") {
				t.Errorf("multipart POST: %d %s", r.status, shortBody(r.body))
			}
			r = post(url.Values{"input": {src}})
			if r.status != 200 {
				t.Fatalf("POST %s %q: %d %s", path, src, r.status, shortBody(r.body))
			}
			checkPage(t, path, r)
			out := regexp.MustCompile(`(?s)<pre class="output" id="output">(.*?)</pre>`).FindStringSubmatch(r.body)
			if out == nil {
				t.Fatalf("no output for %q:\n%s", src, shortBody(r.body))
			}
			want := sampleOutput(t, st, id, src)
			if out[1] != want {
				t.Errorf("run %d generates %q from %q; its stored test output is %q", id, out[1], src, want)
			}
			if strings.Contains(run.Config, `"additive"`) {
				mustContain(t, "additive generation", r.body, `<svg class="heatmap"`)
			} else {
				mustContain(t, "none generation", r.body, "attention weights are all 0")
			}
			r = post(url.Values{"input": {src}, "beam": {"4"}})
			if r.status != 200 {
				t.Errorf("beam 4: %d %s", r.status, shortBody(r.body))
			}
			for _, bad := range []url.Values{{"input": {"@@§"}}, {"input": {""}}, {"input": {src}, "beam": {"3"}}, {"input": {strings.Repeat("a", maxInput+1)}}} {
				if r := post(bad); r.status != 400 {
					t.Errorf("POST %v: status %d, want 400\n%s", bad, r.status, shortBody(r.body))
				}
			}
			// A field sent twice is refused, not decoded with its first
			// value and the second dropped without a word.
			for _, tc := range []struct {
				form url.Values
				want string
			}{
				{url.Values{"input": {src, "other"}}, "the form has 2 values of input: send one"},
				{url.Values{"input": {src}, "beam": {"4", "sample"}}, "the form has 2 values of beam: send one"},
				{url.Values{"input": {src}, "beam": {"sample"}, "seed": {"1", "2", "3"}}, "the form has 3 values of seed: send one"},
			} {
				r := post(tc.form)
				if r.status != http.StatusBadRequest {
					t.Errorf("POST %v: status %d, want 400\n%s", tc.form, r.status, shortBody(r.body))
				}
				mustContain(t, "POST "+tc.form.Encode(), r.body, tc.want)
			}
			req, _ = http.NewRequest(http.MethodPost, "http://localhost"+path+"?input="+url.QueryEscape(src), strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "http://localhost")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			if r := do(t, s, req); r.status != http.StatusBadRequest || !strings.Contains(r.body, "input is in the URL: send the form&#39;s fields in the request body") {
				t.Errorf("POST %s?input=: %d %s, want 400: input is in the URL", path, r.status, shortBody(r.body))
			}
		}
	})
}

// sampleSource and sampleOutput read a run's stored decoded test examples.
func sampleSource(t *testing.T, st *store.Store, id int64) string {
	t.Helper()
	return samples(t, st, id)[0].Source
}

func sampleOutput(t *testing.T, st *store.Store, id int64, src string) string {
	t.Helper()
	for _, s := range samples(t, st, id) {
		if s.Source == src {
			return s.Output
		}
	}
	t.Fatalf("no sample %q", src)
	return ""
}

func samples(t *testing.T, st *store.Store, id int64) []struct{ Source, Output string } {
	t.Helper()
	b, err := st.Artifact(context.Background(), id, "samples", "test.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []struct{ Source, Output string }
	if err := json.Unmarshal(b, &out); err != nil || len(out) == 0 {
		t.Fatalf("samples of run %d: %v", id, err)
	}
	return out
}

var _ = fmt.Sprint

// escapeHTML escapes text as html/template does in element content.
func escapeHTML(s string) string {
	var b strings.Builder
	if err := template.Must(template.New("").Parse("{{.}}")).Execute(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

// TestComparisonFailedRuns: the experiment page shows what attnlab compare
// prints about a failed run — "3 (+1 failed)" in n, the run linked beside
// its row's, every note — and stars what the comparison stars: not the
// row with a failed run, however its survivors score, nor another row in
// its stead; the experiments page names no best row either.
func TestComparisonFailedRuns(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	fx := fillStops(t, st)
	s := newServer(t, st, Options{})
	r := get(t, s, "/x/stops")
	if r.status != 200 {
		t.Fatalf("/x/stops: %d\n%s", r.status, shortBody(r.body))
	}
	c, err := report.Compare(context.Background(), st, report.Query{Experiments: []string{"stops"}})
	if err != nil {
		t.Fatal(err)
	}
	rows := regexp.MustCompile(`(?s)<tr[^>]*data-row="(\d+)">(.*?)</tr>`).FindAllStringSubmatch(r.body[:strings.Index(r.body, `id="runs"`)], -1)
	if len(rows) != len(c.Rows) || len(c.Rows) != 2 {
		t.Fatalf("%d rows on the page, %d in the comparison, want 2", len(rows), len(c.Rows))
	}
	for i, m := range rows {
		row := c.Rows[i]
		n := regexp.MustCompile(`<td class="n">(.*?)</td>`).FindStringSubmatch(m[2])
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(n[1], "")
		stars := strings.Count(m[2], `class="star"`)
		switch c.Rows[i].Group[0] {
		case "additive":
			if text != "3 (+1 failed)" || len(row.Failed) != 1 || row.Failed[0].ID != fx.diverged {
				t.Errorf("additive row: n %q (comparison: failed %+v), want 3 (+1 failed)", text, row.Failed)
			}
			if !strings.Contains(m[2], fmt.Sprintf(`href="/r/%d"`, fx.diverged)) {
				t.Errorf("additive row does not link its failed run %d:\n%s", fx.diverged, m[2])
			}
		case "dot":
			if text != "4" {
				t.Errorf("dot row: n %q, want 4", text)
			}
		}
		want := 0
		for _, cell := range row.Cells {
			if cell.Best {
				want++
			}
		}
		if stars != want {
			t.Errorf("row %s: %d stars on the page, %d best cells in the comparison", c.Label(i), stars, want)
		}
		if stars != 0 {
			t.Errorf("row %s starred: the better row has a failed run, so no row may be", c.Label(i))
		}
	}
	notes := c.Text().Notes
	got := regexp.MustCompile(`(?s)<ul class="notes">(.*?)</ul>`).FindStringSubmatch(r.body)
	if got == nil {
		t.Fatalf("no notes on the page")
	}
	items := regexp.MustCompile(`(?s)<li>(.*?)</li>`).FindAllStringSubmatch(got[1], -1)
	if len(items) != len(notes) {
		t.Errorf("%d notes on the page, attnlab compare prints %d: %q", len(items), len(notes), notes)
	}
	failedNote := false
	for k, note := range notes {
		if k < len(items) && items[k][1] != template.HTMLEscapeString(note) {
			t.Errorf("note %d on the page %q, attnlab compare's %q", k, items[k][1], note)
		}
		failedNote = failedNote || strings.Contains(note, "valid/loss is NaN at step 400")
	}
	if !failedNote {
		t.Errorf("no note names the failed run's error: %q", notes)
	}
	home := get(t, s, "/")
	row := regexp.MustCompile(`(?s)<tr[^>]*>\s*<td class="name"><a href="/x/stops">.*?</tr>`).FindString(home.body)
	if row == "" {
		t.Fatalf("experiments page lacks stops:\n%s", shortBody(home.body))
	}
	if !strings.Contains(row, `<td class="best">—</td>`) {
		t.Errorf("experiments page names a best row of stops, which the comparison does not mark:\n%s", row)
	}
}

// TestDatabaseServerGone: while the PostgreSQL server cannot be reached (a
// restart: every connection dropped, new ones refused), pages and the API
// answer 503 and say so, also for a request with a query (not 400, as if
// the request were wrong); once the server is back, the next request is
// answered.
func TestDatabaseServerGone(t *testing.T) {
	target, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, target.Host)
	st := openStore(t, p.Through(t, target.String()))
	fill(t, st)
	s := newServer(t, st, Options{})
	paths := []string{"/", "/x/scan", "/x/scan?where=seed+%3C+3", "/api/experiments", "/api/x/scan/compare?where=seed+%3C+3"}
	for _, path := range paths {
		if r := get(t, s, path); r.status != 200 {
			t.Fatalf("GET %s before the outage: %d\n%s", path, r.status, shortBody(r.body))
		}
	}
	p.Cut()
	for _, path := range paths {
		r := get(t, s, path)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "database server cannot be reached") {
			t.Errorf("GET %s with the server gone: %d\n%s", path, r.status, shortBody(r.body))
		}
	}
	p.Forward()
	for _, path := range paths {
		if r := get(t, s, path); r.status != 200 {
			t.Errorf("GET %s once the server is back: %d\n%s", path, r.status, shortBody(r.body))
		}
	}
}

// TestBestTies: rows tied for best are all named on the experiments page,
// as compare stars them all.
func TestBestTies(t *testing.T) {
	st := openStore(t, t.TempDir()+"/runs.db")
	ctx := context.Background()
	var rs []store.RunSpec
	names := []string{"none", "dot", "additive"}
	for seed := int64(1); seed <= 2; seed++ {
		for _, a := range names {
			cfg := fmt.Sprintf(`{"seed":%d,"model":{"attention":{"name":%q}}}`, seed, a)
			rs = append(rs, store.RunSpec{Hash: fmt.Sprintf("71e%s%d", a, seed), Seed: seed, Config: cfg, Point: fmt.Sprintf(`{"model.attention.name":%q}`, a)})
		}
	}
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "tie", YAML: "name: tie\n"}, rs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range list {
		claim(t, st, r.ID)
		em := 0.4 + 0.1*float64(i/len(names)) // dot and additive tie, none below
		if names[i%len(names)] == "none" {
			em -= 0.3
		}
		if err := st.PutSummaries(ctx, r.ID, map[string]float64{"test/exact_match": em}); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(ctx, r.ID, fixOwner, store.StatusDone, ""); err != nil {
			t.Fatal(err)
		}
	}
	s := newServer(t, st, Options{ReadOnly: true})
	mustContain(t, "GET /", get(t, s, "/").body,
		`<span class="num">0.450 ± 0.071</span> <span class="row">attention.name=dot = attention.name=additive</span>`)
}

// TestTipValue: a tooltip names a NaN score, an infinite loss left out
// (report.Cell.Infinite) and a missing value apart
// where the cell's counts tell which, and says "NaN or no value" where
// they cannot.
func TestTipValue(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		cell report.Cell
		want string
	}{
		{report.Cell{Values: []float64{0.5, nan, 0.7}, N: 2, NaN: 1}, "NaN"},
		{report.Cell{Values: []float64{0.5, nan, 0.7}, N: 2}, "no value"},
		{report.Cell{Values: []float64{nan, nan, 0.7}, N: 1, NaN: 1}, "NaN or no value"},
		// a ±Inf loss (--status any), left out as a NaN (report.Cell.Infinite)
		{report.Cell{Values: []float64{0.5, nan, 0.7}, N: 2, NaN: 1, Infinite: 1}, "±Inf (diverged, left out)"},
		{report.Cell{Values: []float64{nan, nan, 0.7}, N: 1, NaN: 2, Infinite: 1}, "NaN or ±Inf (diverged, left out)"},
		{report.Cell{Values: []float64{nan, nan, 0.7}, N: 1, NaN: 1, Infinite: 1}, "±Inf (diverged, left out) or no value"},
		{report.Cell{Values: []float64{nan, nan, nan, 0.7}, N: 1, NaN: 2, Infinite: 1}, "NaN, ±Inf (diverged, left out) or no value"},
	} {
		if got := tipValue(tc.cell, nan); got != tc.want {
			t.Errorf("tipValue(%+v, NaN) = %q, want %q", tc.cell, got, tc.want)
		}
		if got := tipValue(tc.cell, 0.7); got != "0.7000" {
			t.Errorf("tipValue(%+v, 0.7) = %q, want 0.7000", tc.cell, got)
		}
	}
}

// TestLanguageModelRun: a language model's run page shows its samples as
// attnlab show does, prompts and continuations (no reference, no ✓), and
// its generate form samples as attnlab generate --sample does, with the
// run's sampling settings and a seed, checked as the CLI checks its flags.
func TestLanguageModelRun(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	x, err := experiments.Load("testdata/tiny_lm.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runs.Execute(context.Background(), st, x, runs.ExecOptions{Workers: 1, Version: "test"})
	if err != nil || len(rep.Outcomes) != 1 || rep.Outcomes[0].Run.Status != store.StatusDone {
		t.Fatalf("tiny LM: %v %+v", err, rep)
	}
	id := strconv.FormatInt(rep.Outcomes[0].Run.ID, 10)
	s := newServer(t, st, Options{})
	page := get(t, s, "/r/"+id).body
	mustContain(t, "LM run page", page, "<th>prompt</th><th>continuation</th>")
	if strings.Contains(page, "<th>reference</th>") || strings.Contains(page, "<th>source</th>") {
		t.Errorf("LM run page has seq2seq headings:\n%s", shortBody(page[strings.Index(page, "samples"):]))
	}
	path := "/r/" + id + "/generate"
	form := get(t, s, path).body
	mustContain(t, "LM generate form", form, `<option value="sample"`, `name="temperature" value="1"`, `name="top_k" value="0"`, `name="top_p" value="1"`, `name="seed" value="1"`)
	post := func(v url.Values) response {
		req, _ := http.NewRequest(http.MethodPost, "http://localhost"+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://localhost")
		return do(t, s, req)
	}
	sample := url.Values{"input": {"The "}, "beam": {"sample"}, "temperature": {"1.5"}, "top_k": {"0"}, "top_p": {"1"}, "seed": {"7"}}
	output := func(r response) string {
		t.Helper()
		i := strings.Index(r.body, `id="output">`)
		if r.status != http.StatusOK || i < 0 {
			t.Fatalf("POST %s = %d:\n%s", path, r.status, shortBody(r.body))
		}
		return r.body[i : i+strings.Index(r.body[i:], "</pre>")]
	}
	a, b := output(post(sample)), output(post(sample))
	sample.Set("seed", "8")
	c := output(post(sample))
	greedy := output(post(url.Values{"input": {"The "}, "beam": {"0"}}))
	if a != b || a == c || a == greedy {
		t.Errorf("samples: seed 7 gave %q then %q, seed 8 %q, greedy %q: want seed 7 twice alike and unlike the others", a, b, c, greedy)
	}
	mustContain(t, "the form after sampling", post(sample).body, `<option value="sample" selected>`, `name="temperature" value="1.5"`, `name="seed" value="8"`)
	for _, tc := range []struct{ key, value, want string }{
		{"temperature", "0", "temperature 0: must be a finite number above 0"},
		{"top_k", "-1", "top-k -1: must not be negative (0: all tokens)"},
		{"top_p", "1.5", "top-p 1.5: must be in (0, 1]"},
		{"top_p", "x", `top-p &#34;x&#34;: not a number`},
		{"temperature", "1e-400", `temperature &#34;1e-400&#34;: too small for a float64: it would read as 0`},
		{"seed", "-1", `seed &#34;-1&#34;: want a whole number`},
	} {
		v := url.Values{"input": {"The "}, "beam": {"sample"}, "temperature": {"1"}, "top_k": {"0"}, "top_p": {"1"}, "seed": {"1"}}
		v.Set(tc.key, tc.value)
		r := post(v)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s=%s: %d, want 400 saying %q:\n%s", tc.key, tc.value, r.status, tc.want, shortBody(r.body))
		}
	}
}
