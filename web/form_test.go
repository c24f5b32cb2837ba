package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/internal/shell"
)

// TestFormCLI: the command line the experiment page shows reaches the
// shell as the words of the form, whatever a field holds: spaces, quotes,
// $ and ; are quoted, plain words are left as they are. It names the
// page's database (--db), and the runs the page was given (?run=), which
// compare has no flag for, join --where: it prints the page's table.
func TestFormCLI(t *testing.T) {
	f := form{
		Where:    `model.attention.name = 'dot' and seed > 1; $HOME`,
		By:       "attention.name, ",
		Metrics:  "valid/loss",
		Status:   "any",
		NoAdjust: true,
	}
	sel := form{Where: "seed = 1 or seed = 2", Runs: []int64{3, 12}}
	for _, tc := range []struct {
		f     form
		db    string
		want  string
		words []string
	}{
		{f, "", `attnlab compare scan-2 --where 'model.attention.name = '\''dot'\'' and seed > 1; $HOME' --by attention.name --metrics valid/loss --status any --no-adjust`,
			[]string{"compare", "scan-2", "--where", f.Where, "--by", "attention.name", "--metrics", "valid/loss", "--status", "any", "--no-adjust"}},
		{f, " --db 'my runs.db'", `attnlab compare --db 'my runs.db' scan-2 --where 'model.attention.name = '\''dot'\'' and seed > 1; $HOME' --by attention.name --metrics valid/loss --status any --no-adjust`,
			[]string{"compare", "--db", "my runs.db", "scan-2", "--where", f.Where, "--by", "attention.name", "--metrics", "valid/loss", "--status", "any", "--no-adjust"}},
		{sel, " --db runs.db", `attnlab compare --db runs.db scan-2 --where '(seed = 1 or seed = 2) and id in (3, 12)'`,
			[]string{"compare", "--db", "runs.db", "scan-2", "--where", "(seed = 1 or seed = 2) and id in (3, 12)"}},
		{form{Runs: []int64{7}}, "", `attnlab compare scan-2 --where 'id in (7)'`,
			[]string{"compare", "scan-2", "--where", "id in (7)"}},
	} {
		got := tc.f.cli("scan-2", tc.db)
		if got != tc.want {
			t.Errorf("cli() =\n%s\nwant\n%s", got, tc.want)
		}
		sh, err := exec.LookPath("sh")
		if err != nil {
			continue
		}
		out, err := exec.Command(sh, "-c", `printf '%s\n' `+strings.TrimPrefix(got, "attnlab ")).Output()
		if err != nil {
			t.Fatal(err)
		}
		if words := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); !slices.Equal(words, tc.words) {
			t.Errorf("sh reads %q\nwant %q", words, tc.words)
		}
	}
}

// TestPageCommandsNameDatabase: the command lines a page shows name the
// database so that they work from any directory and any shell — the page
// may be read far from the server: a relative --db is made absolute, and
// a database that came from $ATTNLAB_DB is still named. So are the
// worker lines of the home, experiment and run pages and a run page's
// plot attention line.
func TestPageCommandsNameDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("ATTNLAB_DB", "runs.db")
	st := openStore(t, "runs.db")
	s := newServer(t, st, Options{ReadOnly: true})
	db := " --db " + shell.Quote(filepath.Join(dir, "runs.db"))
	if r := get(t, s, "/"); !strings.Contains(r.body, "attnlab run EXPERIMENT.yaml"+template.HTMLEscapeString(db)) {
		t.Errorf("/ of an empty database: no attnlab run EXPERIMENT.yaml%s in\n%s", db, r.body)
	}
	fill(t, st)
	queued := submitQueued(t, st, "waits", 1)[0].ID
	shown := hugeRun(t, st, []artifact.AttentionMap{squareMap(0, maxHeatmapSide+1)})
	worker := "attnlab worker" + db + " --experiment waits"
	for path, want := range map[string]string{
		"/x/scan?run=1&run=2":                 "attnlab compare" + db + " scan --where " + shell.Quote("id in (1, 2)"),
		"/":                                   worker,
		"/x/waits":                            worker,
		"/r/" + strconv.FormatInt(queued, 10): worker,
		"/r/" + strconv.FormatInt(shown, 10):  "attnlab plot attention" + db + " " + strconv.FormatInt(shown, 10) + " --example 0",
	} {
		r := get(t, s, path)
		if !strings.Contains(r.body, template.HTMLEscapeString(want)) {
			t.Errorf("%s: no %s in\n%s", path, want, r.body)
		}
	}
}

// TestFormKeepsRuns: submitting a page's query form keeps the runs the
// page was given (?run=), which no field shows: the browser sends the
// form's inputs only, so each run is a hidden input, and the page says
// which runs it shows.
func TestFormKeepsRuns(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	input := regexp.MustCompile(`<input type="hidden" name="run" value="(\d+)">`)
	for _, path := range []string{"/x/scan", "/x/scan/curves"} {
		body := get(t, s, path+"?run=2&run=5&where=seed+%3E+0").body
		start, end := strings.Index(body, `<form class="query"`), strings.Index(body, "</form>")
		if start < 0 || end < start {
			t.Fatalf("%s: no query form in\n%s", path, body)
		}
		var runs []string
		for _, m := range input.FindAllStringSubmatch(body[start:end], -1) {
			runs = append(runs, m[1])
		}
		if !slices.Equal(runs, []string{"2", "5"}) {
			t.Errorf("%s?run=2&run=5: the form submits runs %q, want [2 5]", path, runs)
		}
		if !strings.Contains(body, `<p class="notice">Only runs <a href="/r/2">2</a>, <a href="/r/5">5</a>.</p>`) {
			t.Errorf("%s?run=2&run=5: the page does not say it shows only runs 2 and 5", path)
		}
	}
}

// TestPickedRunsFound: a page asked for runs (?run=) links only those of
// its experiment, and says plainly which ids are runs of another
// experiment and which no run of the database has: ?run=99999 once linked
// a run page that answers 404.
func TestPickedRunsFound(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fx := fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	mine, other := fx.scan["dot"][0], fx.xss
	for _, path := range []string{"/x/scan", "/x/scan/curves"} {
		q := fmt.Sprintf("?run=%d&run=99999&run=%d&run=99998", mine, other)
		r := get(t, s, path+q)
		if r.status != http.StatusOK {
			t.Errorf("%s%s: status %d, want 200\n%s", path, q, r.status, shortBody(r.body))
		}
		mustContain(t, path+q, r.body,
			fmt.Sprintf(`<p class="notice">Only run <a href="/r/%d">%d</a>.</p>`, mine, mine),
			fmt.Sprintf(`<p class="notice">Not of this experiment: run <a href="/r/%d">%d</a> (of <a href="/x/xss">xss</a>).</p>`, other, other),
			`<p class="notice">Not in the database: runs 99999, 99998.</p>`)
		r = get(t, s, path+"?run=99999")
		if r.status != http.StatusBadRequest {
			t.Errorf("%s?run=99999: status %d, want 400\n%s", path, r.status, shortBody(r.body))
		}
		mustContain(t, path+"?run=99999", r.body, `<p class="notice">Not in the database: run 99999.</p>`)
		for _, body := range []string{r.body, get(t, s, path+q).body} {
			if strings.Contains(body, `href="/r/99999"`) || strings.Contains(body, "Only run <a href=\"/r/99999") {
				t.Errorf("%s: links run 99999, which does not exist", path)
			}
		}
	}
}

// TestBadFormSaidOnce: an experiment page whose form is wrong answers 400
// with the form, holding the values to fix, and the error once; the
// command line of the table and the links that would carry the same
// filter (a where of up to 4,000 bytes) are left out, not repeated.
func TestBadFormSaidOnce(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	long := strings.Repeat("x", 3000)
	for _, tc := range []struct {
		where string
		n     int // times the where's marker may appear: the input, the message if it quotes it
	}{
		{"zzmarker" + long + " = 1", 2},                            // unknown key: the message names it
		{"model.attention.name = 'zzmarker" + long + "' and (", 1}, // syntax error at the end: the message names the token
		// No done run matches: the curves link keeps the filter (running
		// runs may match it).
		{"seed > 99 and model.attention.name = 'zzmarker" + long + "'", 3},
	} {
		r := get(t, s, "/x/scan?run=1&where="+url.QueryEscape(tc.where))
		if r.status != 400 {
			t.Errorf("where %.40q: status %d, want 400", tc.where, r.status)
		}
		if n := strings.Count(r.body, "zzmarker"); n != tc.n {
			t.Errorf("where %.40q: the page holds it %d times, want %d (the form and the error)", tc.where, n, tc.n)
		}
		if strings.Contains(r.body, `class="cli"`) {
			t.Errorf("where %.40q: the page shows a command line for a table it has not", tc.where)
		}
		if !strings.Contains(r.body, `<p class="notice">`) || !strings.Contains(r.body, `<input name="where" value="`) {
			t.Errorf("where %.40q: no error or no where field in\n%s", tc.where, r.body)
		}
		if !strings.Contains(r.body, `<input type="hidden" name="run" value="1">`) {
			t.Errorf("where %.40q: the form lost the run selection", tc.where)
		}
	}
}

// TestWrongFormKeepsRuns: a form readForm refuses (a where too long, a
// status or view no control sends) still holds the runs of ?run=, given
// after the wrong value, so that fixing the field the error names and
// submitting again does not lose the selection.
func TestWrongFormKeepsRuns(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	input := regexp.MustCompile(`<input type="hidden" name="run" value="(\d+)">`)
	for _, tc := range []struct{ query, msg string }{
		{"where=" + strings.Repeat("x", maxField+1) + "&run=2&run=5", "where: longer than"},
		{"status=bogus&run=2&run=x&run=5", "status &#34;bogus&#34;"},
		{"run=2&run=x&run=5", "run &#34;x&#34;: not a run id"},
	} {
		for _, path := range []string{"/x/scan", "/x/scan/curves"} {
			r := get(t, s, path+"?"+tc.query)
			if r.status != 400 || !strings.Contains(r.body, tc.msg) {
				t.Errorf("%s?%.40s: status %d, want 400 and %s", path, tc.query, r.status, tc.msg)
			}
			var runs []string
			for _, m := range input.FindAllStringSubmatch(r.body, -1) {
				runs = append(runs, m[1])
			}
			if !slices.Equal(runs, []string{"2", "5"}) {
				t.Errorf("%s?%.40s: the form submits runs %q, want [2 5]", path, tc.query, runs)
			}
		}
	}
}

// TestFormFieldOnce: a query field given twice (?where=a&where=b) is 400
// naming it, on the pages and the API, not the table of the first value
// with the second dropped without a word; run= alone may repeat. The
// fields are every one a form links with (form.values), so that a new
// field cannot be forgotten.
func TestFormFieldOnce(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	all := form{Where: "seed > 0", By: "attention.name", Pool: "seed", Baseline: "attention.name=none", Metrics: "bleu",
		Sort: "bleu", Status: "done", NoAdjust: true, TestCost: true, Unpaired: true, Runs: []int64{1},
		Metric: "train/loss", View: viewMean, Band: bandStd, Log: true}
	for k, vals := range all.values() {
		if k == "run" {
			continue
		}
		q := url.Values{k: {vals[0], vals[0]}}.Encode()
		want := k + " given 2 times: give it once"
		for _, path := range []string{"/x/scan", "/x/scan/curves", "/api/x/scan/compare", "/api/x/scan/curves", "/api/x/scan/length"} {
			r := get(t, s, path+"?"+q)
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, want) {
				t.Errorf("GET %s?%s: %d, want 400 saying %q\n%s", path, q, r.status, want, shortBody(r.body))
			}
		}
	}
	if r := get(t, s, "/x/scan?run=1&run=2"); r.status != http.StatusOK {
		t.Errorf("GET /x/scan?run=1&run=2: %d, want 200", r.status)
	}
}

// TestCurvesErrorNoCharts: a curves page whose query fails (no run
// selected, a wrong where) says why and draws no chart: its charts' data
// URLs were "", which their script fetched, getting this HTML page, and
// showed under each chart a JSON syntax error instead.
func TestCurvesErrorNoCharts(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	for _, q := range []string{"?run=99999", "?where=seed+%3E+99", "?where=%00", "?view=sideways"} {
		r := get(t, s, "/x/scan/curves"+q)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `<p class="error" role="alert">`) {
			t.Errorf("GET /x/scan/curves%s: %d, want 400 with the error\n%s", q, r.status, shortBody(r.body))
		}
		if strings.Contains(r.body, `data-src=""`) || strings.Contains(r.body, `id="chart"`) {
			t.Errorf("GET /x/scan/curves%s draws a chart without data", q)
		}
	}
	if r := get(t, s, "/x/scan/curves"); !strings.Contains(r.body, `id="chart" data-src="/api/x/scan/curves`) || !strings.Contains(r.body, `id="length" data-src="/api/x/scan/length`) {
		t.Errorf("GET /x/scan/curves: no charts\n%s", shortBody(r.body))
	}
}

// TestCurvesUnknownMetricNoMainChart: a ?metric= that names no metric is a
// 400 page with the error, and leaves out the main chart: its data URL
// answers 400 too, so the error showed a second time under it. The length
// chart does not depend on the metric and is still drawn.
func TestCurvesUnknownMetricNoMainChart(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	r := get(t, s, "/x/scan/curves?metric=nope")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, `<p class="error" role="alert">`) {
		t.Fatalf("GET /x/scan/curves?metric=nope: %d, want 400 with the error\n%s", r.status, shortBody(r.body))
	}
	if strings.Contains(r.body, `id="chart"`) {
		t.Errorf("GET /x/scan/curves?metric=nope draws the main chart, whose data URL answers 400\n%s", shortBody(r.body))
	}
	if !strings.Contains(r.body, `id="length" data-src="/api/x/scan/length`) {
		t.Errorf("GET /x/scan/curves?metric=nope: no length chart\n%s", shortBody(r.body))
	}
}

// TestPageFieldOnce: the fields a page reads besides its form (an
// experiment page's runs=, every page's fragment=, a run page's example=)
// are 400 given twice, as the form's are: the first value was used and the
// second dropped without a word.
func TestPageFieldOnce(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fx := fill(t, st)
	s := newServer(t, st, Options{ReadOnly: true})
	run := "/r/" + strconv.FormatInt(fx.scan["additive"][0], 10)
	for _, tc := range []struct{ once, twice, want string }{
		{"/x/scan?runs=all", "/x/scan?runs=all&runs=x", "runs given 2 times: give it once"},
		{"/x/scan?fragment=runs", "/x/scan?fragment=runs&fragment=comparison", "fragment given 2 times: give it once"},
		{"/?fragment=experiments", "/?fragment=experiments&fragment=experiments", "fragment given 2 times: give it once"},
		{run + "?example=1", run + "?example=1&example=0", "example given 2 times: give it once"},
	} {
		if r := get(t, s, tc.once); r.status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200\n%s", tc.once, r.status, shortBody(r.body))
		}
		if r := get(t, s, tc.twice); r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("GET %s: %d, want 400 saying %q\n%s", tc.twice, r.status, tc.want, shortBody(r.body))
		}
	}
}

// TestAssetVersionOnce: an asset's ?v= (its content hash, which makes it
// cached for good) given twice is 400 naming it, as the pages' fields
// are: the first value alone was compared and the second dropped without
// a word, so /static/app.js?v=HASH&v=junk was cached as immutable.
func TestAssetVersionOnce(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	s := newServer(t, st, Options{ReadOnly: true})
	u := s.assets.url("app.js")
	hash := u[strings.Index(u, "?v=")+len("?v="):]
	for _, tc := range []struct{ url, want string }{
		{u + "&v=" + hash, "v given 2 times: give it once"},
		{u + "&v=other", "v given 2 times: give it once"},
		{"/static/app.js?v=a&v=b&v=c", "v given 3 times: give it once"},
	} {
		if r := get(t, s, u); r.status != http.StatusOK {
			t.Errorf("GET %s: %d, want 200\n%s", u, r.status, shortBody(r.body))
		}
		r := get(t, s, tc.url)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("GET %s: %d, want 400 saying %q\n%s", tc.url, r.status, tc.want, shortBody(r.body))
		}
		if cc := r.header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q on a refusal", tc.url, cc)
		}
	}
}
