package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/internal/shell"
	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/store"
)

// squareMap is an n × n attention map whose tokens are HTML.
func squareMap(index, n int) artifact.AttentionMap {
	m := artifact.AttentionMap{Index: index, Source: make([]string, n), Output: make([]string, n), Weights: make([][]float32, n)}
	for i := range n {
		m.Source[i] = "<b>s" + strconv.Itoa(i)
		m.Output[i] = "<i>o" + strconv.Itoa(i)
		m.Weights[i] = make([]float32, n)
		m.Weights[i][i] = 1
	}
	return m
}

// hugeRun stores a done run of experiment "huge" with the attention maps
// given and returns its id.
func hugeRun(t *testing.T, st *store.Store, maps []artifact.AttentionMap) int64 {
	t.Helper()
	ctx := context.Background()
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "huge", YAML: "name: huge\n"}, []store.RunSpec{{Hash: "40e000000001", Seed: 1, Config: "{}"}})
	if err != nil {
		t.Fatal(err)
	}
	id := list[0].ID
	claim(t, st, id)
	putJSON(t, st, id, artifact.KindAttention, artifact.NameAttention, maps)
	if err := st.Finish(ctx, id, fixOwner, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestHugeAttentionMap: a stored attention map of 400 × 400 tokens (a long
// source, or a row written by anyone who can write the shared database)
// used to make a run page of 160,000 SVG squares, 27 MB of HTML built in
// seconds (1000 × 1000: 169 MB and 3 GB allocated per view). The page
// draws at most maxHeatmapSide tokens a side and says what it left out.
func TestHugeAttentionMap(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	id := hugeRun(t, st, []artifact.AttentionMap{squareMap(0, 400)})
	dbArg, _ := st.SharedCommandDB()
	s := newServer(t, st, Options{ReadOnly: true})
	path := "/r/" + strconv.FormatInt(id, 10)
	r := get(t, s, path)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
	}
	checkPage(t, path, r)
	if n, most := strings.Count(r.body, "<rect "), maxHeatmapSide*maxHeatmapSide; n > most {
		t.Errorf("the page draws %d squares, want at most %d", n, most)
	}
	if len(r.body) > 4<<20 {
		t.Errorf("the page is %d bytes", len(r.body))
	}
	mustContain(t, path, r.body, `data-source="&lt;b&gt;s0"`, "the first "+strconv.Itoa(maxHeatmapSide)+" of 400 output tokens",
		"the first "+strconv.Itoa(maxHeatmapSide)+" of 400 source tokens",
		// With the page's database: pasted, it draws this run, not run id
		// of the default database.
		html.EscapeString("attnlab plot attention"+dbArg+" "+strconv.FormatInt(id, 10)+" --example 0 draws the whole map"))
	if strings.Contains(r.body, `data-source="&lt;b&gt;s`+strconv.Itoa(maxHeatmapSide)+`"`) {
		t.Errorf("the page draws source token %d", maxHeatmapSide)
	}
}

// TestManyAttentionMaps: a run may store up to 10,000 attention maps
// (eval.attention_maps); its page draws one and links to the first
// maxExampleLinks, so it decodes the weights of the one it draws only.
// Decoding them all made the page of a run with 10,000 maps of 60 tokens
// take 8 s and allocate 1 GB per view.
func TestManyAttentionMaps(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	var maps []artifact.AttentionMap
	for i := range 1500 {
		maps = append(maps, squareMap(i, 40))
	}
	id := hugeRun(t, st, maps)
	stored, err := st.Artifact(context.Background(), id, artifact.KindAttention, artifact.NameAttention)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, st, Options{ReadOnly: true})
	path := "/r/" + strconv.FormatInt(id, 10) + "?example=1234"
	r, allocated := getAllocating(t, s, path)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
	}
	mustContain(t, path, r.body, "Test example 1234", `data-output="&lt;i&gt;o39"`, `href="/r/`+strconv.FormatInt(id, 10)+`?example=39#attention"`)
	if got, most := allocated, 4*uint64(len(stored)); got > most { // the store copies the artifact once or twice
		t.Errorf("the page of a run with %d attention maps (%d bytes stored) allocated %d bytes, want at most %d", len(maps), len(stored), got, most)
	}
}

// TestLogLines: what the server logs (the request's path, error messages
// with stored text) is one line per error (Options.Log), with control
// characters escaped as package printable does: a path such as
// /x/%0aattnlab%20serve:… (which any web page can make a browser request,
// with an image) must not forge log lines, nor send escape sequences to
// the terminal of a program that embeds the dashboard without attnlab's
// escaping stderr.
func TestLogLines(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	var logged strings.Builder
	s := newServer(t, st, Options{Log: log.New(&logged, "attnlab serve: ", 0)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client went away: a 503, logged
	req := httptest.NewRequest(http.MethodGet, "http://localhost/x/a%1b%5d0;pwned%07%1b%5b2J%0dattnlab%20serve:%20forged%0a%00%c2%9b1m", nil).WithContext(ctx)
	if r := do(t, s, req); r.status < 500 {
		t.Fatalf("GET with a cancelled request: %d, want a logged 5xx", r.status)
	}
	out := logged.String()
	if out == "" {
		t.Fatal("nothing logged")
	}
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("the log is not one line:\n%q", out)
	}
	for _, r := range strings.TrimSuffix(out, "\n") {
		if unicode.IsControl(r) {
			t.Errorf("the log has control character %U:\n%q", r, out)
		}
	}
	mustContain(t, "log", out, `\x1b]0;pwned\x07\x1b[2J\rattnlab serve: forged\n\x00\u009b1m`)
}

// TestMethods: a method a route does not take is 405 Method Not Allowed
// with the Allow header, not 404 "no page" (the catch-all took every
// method), and runs no handler.
func TestMethods(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fx := fill(t, st)
	s := newServer(t, st, Options{})
	run := "/r/" + strconv.FormatInt(fx.scan["additive"][0], 10)
	for _, tc := range []struct{ path, allow string }{
		{"/", "GET, HEAD"}, {"/x/scan", "GET, HEAD"}, {"/x/scan/curves", "GET, HEAD"}, {run, "GET, HEAD"},
		{run + "/artifacts/model/params.safetensors", "GET, HEAD"}, {run + "/generate", "GET, HEAD, POST"},
		{"/api/live", "GET, HEAD"}, {"/api/x/scan/compare", "GET, HEAD"}, {"/static/app.js", "GET, HEAD"},
	} {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			if m == http.MethodPost && strings.HasSuffix(tc.path, "/generate") {
				continue
			}
			r := do(t, s, httptest.NewRequest(m, "http://localhost"+tc.path, strings.NewReader("input=x")))
			if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: %d, Allow %q; want 405, Allow %q", m, tc.path, r.status, r.header.Get("Allow"), tc.allow)
			}
			checkHeaders(t, m+" "+tc.path, r)
		}
	}
	if r := get(t, s, "/nope"); r.status != http.StatusNotFound {
		t.Errorf("GET /nope: %d, want 404", r.status)
	}
}

// TestLongAnswerOutlivesReadTimeout: serve sets a read timeout (a client
// stalled in a request's body is dropped), and net/http cancels a
// request's context when that deadline passes during the handler (its
// read watching for the client going away times out). An answer that
// takes longer — here a download waiting its turn, elsewhere a big
// comparison or a generation — must still be given: the server lifts the
// deadline once a request is read whole.
func TestLongAnswerOutlivesReadTimeout(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fx := fill(t, st)
	s := newServer(t, st, Options{})
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	for range maxDownloads { // every slot taken: a download waits downloadWait, then 503
		s.downloads <- struct{}{}
	}
	defer func(d time.Duration) { downloadWait = d }(downloadWait)
	downloadWait = time.Second
	resp, err := http.Get(srv.URL + "/r/" + strconv.FormatInt(fx.scan["additive"][0], 10) + "/artifacts/model/params.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "busy") {
		t.Errorf("a download that waited 1 s with a read timeout of 200 ms: %d %q, want 503 busy", resp.StatusCode, shortBody(string(body)))
	}
}

// TestTokenControls: a token's bidi controls (U+202E RIGHT-TO-LEFT
// OVERRIDE and the like) are shown escaped, as the CLI shows them
// (package printable): raw, one reversed the labels and text after it,
// so that a token could pass for another.
func TestTokenControls(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	id := hugeRun(t, st, []artifact.AttentionMap{{Source: []string{"\u202eevil", "a\u2066b", "c\x1bd"}, Output: []string{"\u202dx"}, Weights: [][]float32{{0.2, 0.3, 0.5}}}})
	s := newServer(t, st, Options{ReadOnly: true})
	path := "/r/" + strconv.FormatInt(id, 10)
	r := get(t, s, path)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
	}
	mustContain(t, path, r.body, `>\u202eevil</text>`, `>a\u2066b</text>`, `>c\x1bd</text>`, `>\u202dx</text>`)
	for _, c := range []string{"\u202e", "\u2066", "\u202d", "\x1b"} {
		if strings.Contains(r.body, c) {
			t.Errorf("the page has %+q raw", c)
		}
	}
}

// TestLargeArtifactsNotShown: a run page reads its samples and attention
// maps whole from the store (which copies them once or twice more), for
// every view, as many views at once as come. Above maxPageArtifact it
// reads neither, says why and how to see them, and the artifacts stay
// downloadable (one at a time, maxDownloads).
func TestLargeArtifactsNotShown(t *testing.T) {
	defer func(n int64) { maxPageArtifact = n }(maxPageArtifact)
	maxPageArtifact = 1 << 20
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	var maps []artifact.AttentionMap
	for i := range 800 {
		maps = append(maps, squareMap(i, 30))
	}
	id := hugeRun(t, st, maps)
	var samples []artifact.Sample
	for i := range 5000 {
		s := strings.Repeat("tok"+strconv.Itoa(i)+" ", 20)
		samples = append(samples, artifact.Sample{Index: i, Source: s, Reference: s, Output: s})
	}
	putJSON(t, st, id, artifact.KindSamples, artifact.NameSamples, samples)
	s := newServer(t, st, Options{ReadOnly: true})
	path := "/r/" + strconv.FormatInt(id, 10)
	dbArg, _ := st.SharedCommandDB()
	if !strings.HasPrefix(dbArg, " --db ") {
		t.Fatalf("SharedCommandDB = %q", dbArg)
	}
	r, allocated := getAllocating(t, s, path)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
	}
	checkPage(t, path, r)
	mustContain(t, path, r.body, "The decoded test examples (", "The attention maps (", "too large to show here",
		// With the page's database: pasted, they show this run, not run
		// id of the default database.
		"attnlab show"+dbArg+" "+strconv.FormatInt(id, 10), "attnlab plot attention"+dbArg+" "+strconv.FormatInt(id, 10),
		`href="`+path+`/artifacts/samples/test.json"`, `href="`+path+`/artifacts/attention/test.json"`)
	if strings.Contains(r.body, "<svg") || strings.Contains(r.body, `id="samples"`) {
		t.Errorf("the page shows the samples or a heatmap")
	}
	if got := allocated; got > uint64(maxPageArtifact) {
		t.Errorf("the page allocated %d bytes", got)
	}
	// The API answer would decode and encode them all: it sends the
	// download instead, which maxDownloads bounds.
	api := "/api" + path + "/attention"
	if r := get(t, s, api); r.status != http.StatusSeeOther || r.header.Get("Location") != path+"/artifacts/attention/test.json" {
		t.Errorf("GET %s: %d, Location %q, %d bytes; want 303 to the artifact", api, r.status, r.header.Get("Location"), len(r.body))
	}
}

// TestLargeArtifactsNoteNamesDB: the run page's "too large to show" lines
// suggest attnlab show and plot attention with the page's database as
// SharedCommandDB names it: a SQLite file given relative (runs.db) by its
// absolute path, since the page may be read in another directory or on
// another machine; a PostgreSQL URL without its password, never with it.
func TestLargeArtifactsNoteNamesDB(t *testing.T) {
	defer func(n int64) { maxPageArtifact = n }(maxPageArtifact)
	maxPageArtifact = 1 << 10
	const secret = "pw-zq7-never-shown"
	testenv.ForEachDatabase(t, func(t *testing.T, target string) {
		var want string // the --db option the lines must carry
		if strings.HasPrefix(target, "postgres") {
			u, err := url.Parse(target)
			if err != nil {
				t.Fatal(err)
			}
			bare := *u
			bare.User = url.User(u.User.Username())
			want = " --db " + shell.Quote(bare.String())
			u.User = url.UserPassword(u.User.Username(), secret) // the test server trusts any password
			target = u.String()
		} else {
			dir := filepath.Dir(target)
			t.Chdir(dir)
			target = "runs.db"
			want = " --db " + shell.Quote(filepath.Join(dir, "runs.db"))
		}
		st := openStore(t, target)
		id := hugeRun(t, st, []artifact.AttentionMap{squareMap(0, 30)})
		var samples []artifact.Sample
		for i := range 50 {
			s := strings.Repeat("tok ", 20)
			samples = append(samples, artifact.Sample{Index: i, Source: s, Reference: s, Output: s})
		}
		putJSON(t, st, id, artifact.KindSamples, artifact.NameSamples, samples)
		s := newServer(t, st, Options{ReadOnly: true})
		path := "/r/" + strconv.FormatInt(id, 10)
		r := get(t, s, path)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
		}
		ids := strconv.FormatInt(id, 10)
		mustContain(t, path, r.body, "too large to show here",
			template.HTMLEscapeString("attnlab show"+want+" "+ids), template.HTMLEscapeString("attnlab plot attention"+want+" "+ids))
		if strings.Contains(r.body, secret) {
			t.Errorf("GET %s shows the database's password", path)
		}
		if strings.Contains(r.body, "--db runs.db") {
			t.Errorf("GET %s names the database relative to serve's directory: --db runs.db", path)
		}
	})
}

// getAllocating is get that also returns the bytes the process allocated
// meanwhile.
func getAllocating(t *testing.T, h http.Handler, path string) (response, uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := get(t, h, path)
	runtime.ReadMemStats(&after)
	return r, after.TotalAlloc - before.TotalAlloc
}

// TestStoredControls: stored text with control characters and bidi
// overrides (a description, a run's error, a config value, a sample) is
// shown escaped on every page, as the CLI shows it: raw, a U+202E
// reversed the rest of its line (a description could read as another),
// and an ESC reached the page.
func TestStoredControls(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	ctx := context.Background()
	const evil = "\u202eexe.txt \u2066x\x1b[31m"
	quoted, _ := json.Marshal(evil)
	cfg := fmt.Sprintf(`{"seed":1,"task":{"path":%s}}`, quoted)
	point := fmt.Sprintf(`{"task.path":%s}`, quoted)
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "bidi", Description: "about " + evil, YAML: "name: bidi\n"},
		[]store.RunSpec{{Hash: "b1d100000001", Seed: 1, Config: cfg, Point: point}, {Hash: "b1d100000002", Seed: 2, Config: cfg, Point: point}})
	if err != nil {
		t.Fatal(err)
	}
	done, failed := list[0].ID, list[1].ID
	claimWithLoss(t, st, done, failed)
	if err := st.PutSummaries(ctx, done, map[string]float64{"test/exact_match": 0.5}); err != nil {
		t.Fatal(err)
	}
	putJSON(t, st, done, artifact.KindSamples, artifact.NameSamples, []artifact.Sample{{Source: evil, Reference: evil, Output: evil}})
	if err := st.Finish(ctx, done, fixOwner, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, failed, fixOwner, store.StatusFailed, "bad file "+evil); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, st, Options{ReadOnly: true})
	raw := []string{"\u202e", "\u2066", "\x1b"}
	for _, path := range []string{"/", "/x/bidi", "/x/bidi?status=failed", "/x/bidi?by=task.path", "/x/bidi/curves?by=task.path",
		"/r/" + strconv.FormatInt(done, 10), "/r/" + strconv.FormatInt(failed, 10), "/r/" + strconv.FormatInt(failed, 10) + "?fragment=state"} {
		r := get(t, s, path)
		if r.status != 200 {
			t.Errorf("GET %s: %d %s", path, r.status, shortBody(r.body))
			continue
		}
		for _, c := range raw {
			if strings.Contains(r.body, c) {
				t.Errorf("%s has %+q raw", path, c)
			}
		}
		if !strings.Contains(r.body, `\u202eexe.txt \u2066x\x1b[31m`) && !strings.Contains(path, "/curves") { // a chart's labels come from the API
			t.Errorf("%s does not show the stored text escaped: %s", path, shortBody(r.body))
		}
	}
	r := get(t, s, "/api/x/bidi/curves?by=task.path")
	var curves struct {
		Series []struct{ Label string } `json:"series"`
	}
	if err := json.Unmarshal([]byte(r.body), &curves); err != nil || len(curves.Series) == 0 {
		t.Fatalf("curves API: %d %v %s", r.status, err, shortBody(r.body))
	}
	for _, sr := range curves.Series {
		if strings.ContainsAny(sr.Label, strings.Join(raw, "")) || !strings.Contains(sr.Label, `\u202e`) {
			t.Errorf("curves label %+q: want its controls escaped", sr.Label)
		}
	}
}

// TestRunWhoseWorkerIsGone: a running run whose worker process is gone
// (here: this host, a pid that has exited) says so on its page, and the
// live API no longer calls it active; the dashboard showed it running for
// ever, its progress frozen, where ls runs said its worker was gone.
func TestRunWhoseWorkerIsGone(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fx := fill(t, st)
	p := exec.Command("true")
	if err := p.Run(); err != nil {
		t.Skip("cannot start a process to take a dead pid from: ", err)
	}
	dead := store.CurrentOwner("test")
	dead.PID = p.Process.Pid
	if res, err := st.Claim(context.Background(), fx.queued, dead, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %v %s", err, res.Reason)
	}
	s := newServer(t, st, Options{})
	id := strconv.FormatInt(fx.queued, 10)
	mustContain(t, "run page", get(t, s, "/r/"+id).body, "(a worker resumes it from its last checkpoint)")
	mustContain(t, "experiment page", get(t, s, "/x/scan").body, "(a worker resumes it)")
	if body := get(t, s, "/api/live?run="+id).body; !strings.Contains(body, `"active":false`) {
		t.Errorf("live state of a run whose worker is gone: %s", body)
	}
	// The fixture's other running run has a live worker: active.
	if body := get(t, s, "/api/live?run="+strconv.FormatInt(fx.running, 10)).body; !strings.Contains(body, `"active":true`) {
		t.Errorf("live state of a running run: %s", body)
	}
}

// TestQueuedRunsWaitForAWorker: an experiment whose runs are only queued
// (submitted, no worker) said "live" for ever and /api/live kept it
// active; it says its runs wait for a worker, and the live API is not
// active. Once one of its runs trains, it is live again and says nothing
// of waiting.
//
// The command line each page suggests works as pasted: its --db is the
// database's, shell-quoted (a path with a space here).
func TestQueuedRunsWaitForAWorker(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my runs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "runs.db")
	st := openStore(t, db)
	worker := "attnlab worker --db &#39;" + db + "&#39; --experiment waits"
	ctx := context.Background()
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "waits", YAML: "name: waits\n"}, []store.RunSpec{
		{Hash: "a00000000001", Seed: 1, Config: "{}", Point: "{}"},
		{Hash: "a00000000002", Seed: 2, Config: "{}", Point: "{}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, st, Options{})
	for _, u := range []string{"/api/live?x=waits", "/api/live?run=" + strconv.FormatInt(list[0].ID, 10), "/api/live"} {
		if body := get(t, s, u).body; !strings.Contains(body, `"active":false`) {
			t.Errorf("%s with only queued runs: %s", u, body)
		}
	}
	none := "no worker is training any run of this database"
	mustContain(t, "experiments page", get(t, s, "/").body, "waiting for a worker", none, worker)
	mustContain(t, "experiment page", get(t, s, "/x/waits").body, "2 runs wait for a worker", none, "Start one: <code>"+worker+"</code>")
	queuedPage := get(t, s, "/r/"+strconv.FormatInt(list[1].ID, 10)).body
	mustContain(t, "queued run's page", queuedPage, "waiting for a worker", none, "start one: <code>"+worker+"</code>")
	// Never claimed, it has no host nor versions (attnlab show prints
	// none), not "attnlab ·".
	if strings.Contains(queuedPage, "<dt>versions</dt>") || strings.Contains(queuedPage, "<dt>host</dt>") {
		t.Errorf("a run never claimed shows a host or versions:\n%s", shortBody(queuedPage))
	}

	if res, err := st.Claim(ctx, list[0].ID, store.CurrentOwner("test"), 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %v %s", err, res.Reason)
	}
	if body := get(t, s, "/api/live?x=waits").body; !strings.Contains(body, `"active":true`) {
		t.Errorf("live state with a run training: %s", body)
	}
	for _, u := range []string{"/", "/x/waits", "/r/" + strconv.FormatInt(list[1].ID, 10)} {
		if body := get(t, s, u).body; strings.Contains(body, "wait") && strings.Contains(body, "for a worker") {
			t.Errorf("%s says runs wait for a worker while one trains:\n%s", u, shortBody(body))
		}
	}
}

// TestLengthBucketsInOrder: the length buckets' keys (len_LO_HI) are
// listed by their bounds, as attnlab show lists them (metrics.CompareKeys),
// not as text, which put len_100_inf before len_10_19 before len_2_9: on
// a run page's summaries and in the curves' metric list, of finished runs
// and of running ones.
func TestLengthBucketsInOrder(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	ctx := context.Background()
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "buckets", YAML: "name: buckets\n"}, []store.RunSpec{
		{Hash: "b00000000001", Seed: 1, Config: "{}", Point: "{}"},
		{Hash: "b00000000002", Seed: 2, Config: "{}", Point: "{}"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"len_2_9", "len_10_19", "len_100_inf"}
	for i, r := range list {
		claim(t, st, r.ID)
		w := st.NewMetricWriter(r.ID, 0)
		sums := map[string]float64{}
		for _, b := range []string{"len_100_inf", "len_10_19", "len_2_9"} {
			logMetric(t, w, 0, "valid/exact_match/"+b, 0.5)
			sums["test/exact_match/"+b] = 0.5
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := st.PutSummaries(ctx, r.ID, sums); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := st.Finish(ctx, r.ID, fixOwner, store.StatusDone, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	s := newServer(t, st, Options{})
	inOrder := func(what, text, prefix string) {
		t.Helper()
		last := -1
		for _, b := range want {
			i := strings.Index(text, prefix+b)
			if i < 0 || i < last {
				t.Errorf("%s: %s%s missing or out of order (want %q):\n%s", what, prefix, b, want, shortBody(text))
				return
			}
			last = i
		}
	}
	for _, r := range list {
		inOrder(fmt.Sprintf("run %d page", r.ID), get(t, s, "/r/"+strconv.FormatInt(r.ID, 10)).body, "test/exact_match/")
	}
	for _, status := range []string{"done", "running"} {
		body := get(t, s, "/api/x/buckets/curves?metric=valid/exact_match/len_2_9&status="+status).body
		i := strings.Index(body, `"metrics"`)
		if i < 0 {
			t.Fatalf("curves of %s runs: %s", status, body)
		}
		inOrder("curves metrics of "+status+" runs", body[i:], "valid/exact_match/")
	}
}
