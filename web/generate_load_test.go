package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// TestGeneratorLoadsOnce: simultaneous requests for one run's model share
// one load (ten tabs took 1.4 GB loading ten copies), and models of
// different runs are loaded one at a time.
func TestGeneratorLoadsOnce(t *testing.T) {
	var loads, inFlight, most atomic.Int32
	g := newGenerator(nil)
	g.loadRun = func(ctx context.Context, _ *store.Store, id int64) (*runs.Trained, error) {
		loads.Add(1)
		n := inFlight.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		return &runs.Trained{Run: store.Run{ID: id, Attempt: 1}}, nil
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := store.Run{ID: int64(1 + i%2), Attempt: 1} // two runs, ten requests each
			if _, err := g.load(context.Background(), run); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if loads.Load() != 2 || most.Load() != 1 {
		t.Errorf("%d loads, %d at once; want 2 (one per run), 1", loads.Load(), most.Load())
	}
}

// TestDownloadsWaitTheirTurn: at most maxDownloads artifacts are read into
// memory at once; a download waits for a slot (and gives up when its
// client goes away) instead of holding one more copy.
func TestDownloadsWaitTheirTurn(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "d.db"))
	fx := fill(t, st)
	id := fx.scan["dot"][0]
	putJSON(t, st, id, "samples", "x.json", map[string]int{"a": 1})
	s := newServer(t, st, Options{})
	target := fmt.Sprintf("http://localhost/r/%d/artifacts/samples/x.json", id)
	if r := get(t, s, target[len("http://localhost"):]); r.status != 200 || !strings.Contains(r.body, `"a":1`) {
		t.Fatalf("download: %d %q", r.status, shortBody(r.body))
	}
	for range maxDownloads { // every slot taken
		s.downloads <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := do(t, s, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
	if r.body != "" || ctx.Err() == nil {
		t.Errorf("a download ran with every slot taken: %d %q", r.status, shortBody(r.body))
	}
	head := do(t, s, httptest.NewRequest(http.MethodHead, target, nil))
	if head.status != 200 || head.header.Get("Content-Length") != "7" {
		t.Errorf("HEAD with every slot taken: %d, Content-Length %q (it needs no slot)", head.status, head.header.Get("Content-Length"))
	}
	defer func(d time.Duration) { downloadWait = d }(downloadWait)
	downloadWait = 50 * time.Millisecond
	if r := get(t, s, target[len("http://localhost"):]); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "busy") {
		t.Errorf("a download that waited too long: %d %q", r.status, shortBody(r.body))
	}
	<-s.downloads // one slot free again
	if r := get(t, s, target[len("http://localhost"):]); r.status != 200 {
		t.Errorf("download after a slot freed: %d", r.status)
	}
}

// TestQueryTooLarge: a query Go's parser reads only in part (more than
// 10,000 parameters, a bad escape) is a 400, not an answer that ignores
// the filters it dropped.
func TestQueryTooLarge(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "q.db"))
	fill(t, st)
	s := newServer(t, st, Options{})
	many := "/api/x/scan/compare?" + strings.Repeat("x=1&", 10001) + "where=seed%3D5"
	for _, target := range []string{many, "/api/x/scan/compare?where=%zz"} {
		if r := get(t, s, target); r.status != http.StatusBadRequest || !strings.Contains(r.body, "bad query string") {
			t.Errorf("%.60s…: %d %q", target, r.status, shortBody(r.body))
		}
	}
}

// TestAPIRefusalsAreJSON: what every request is checked for before its
// handler (its query string, another site's fetch, a path no handler
// takes) is answered under /api/ as the API answers, {"error": ...} in
// JSON, not as an HTML page a script cannot read.
func TestAPIRefusalsAreJSON(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "q.db"))
	fill(t, st)
	s := newServer(t, st, Options{})
	crossSite := httptest.NewRequest(http.MethodGet, "http://localhost/api/experiments", nil)
	crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
	crossSite.Header.Set("Sec-Fetch-Mode", "cors")
	crossSite.Header.Set("Sec-Fetch-Dest", "empty")
	for _, tc := range []struct {
		req    *http.Request
		status int
		want   string
	}{
		{httptest.NewRequest(http.MethodGet, "http://localhost/api/x/scan/compare?where=%zz", nil), http.StatusBadRequest, "bad query string"},
		{httptest.NewRequest(http.MethodGet, "http://localhost/api/nothing", nil), http.StatusNotFound, "no page /api/nothing"},
		{crossSite, http.StatusForbidden, "cross-site request refused"},
		{httptest.NewRequest(http.MethodDelete, "http://localhost/api/experiments", nil), http.StatusMethodNotAllowed, "DELETE /api/experiments: the API answers GET only"},
		{httptest.NewRequest(http.MethodPost, "http://localhost/api/x/scan/compare", nil), http.StatusMethodNotAllowed, "the API answers GET only"},
	} {
		r := do(t, s, tc.req)
		var got struct{ Error string }
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != tc.status ||
			!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || !strings.Contains(got.Error, tc.want) {
			t.Errorf("%s %s: %d %s %q; want %d, JSON with an error saying %q", tc.req.Method, tc.req.URL, r.status, r.header.Get("Content-Type"), shortBody(r.body), tc.status, tc.want)
		}
		if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q, want \"GET, HEAD\"", tc.req.Method, tc.req.URL, r.header.Get("Allow"))
		}
	}
	// Pages stay pages.
	if r := get(t, s, "/x/scan?where=%zz"); r.status != http.StatusBadRequest || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /x/scan?where=%%zz: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

// TestPageWriteDeadline: a response must be written within pageWriteTime
// of its request; a client that stops reading loses the connection
// instead of holding its handler for ever.
func TestPageWriteDeadline(t *testing.T) {
	defer func(d time.Duration) { pageWriteTime = d }(pageWriteTime)
	pageWriteTime = 100 * time.Millisecond
	s := newServer(t, openStore(t, filepath.Join(t.TempDir(), "w.db")), Options{})
	errc := make(chan error, 1)
	srv := httptest.NewServer(s.secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond) // a page that took too long, or a client that read too slowly
		_, err := w.Write([]byte("late"))
		if err == nil {
			err = http.NewResponseController(w).Flush()
		}
		errc <- err
	})))
	defer srv.Close()
	if resp, err := http.Get(srv.URL + "/"); err == nil {
		resp.Body.Close()
	}
	if err := <-errc; err == nil {
		t.Fatal("a response was written after its deadline")
	}
}

// TestAPIMethodJSONWithReopen: serve on a SQLite file (Options.Reopen, as
// attnlab serve runs it) answers another method than GET under /api/ as
// the API answers too, not with the mux's plain text 405.
func TestAPIMethodJSONWithReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	st := openStore(t, path)
	fill(t, st)
	s := newServer(t, st, Options{Reopen: func() (*store.Store, error) { return store.OpenExisting(path) }})
	defer s.Close()
	for _, m := range []string{http.MethodDelete, http.MethodPost, http.MethodOptions} {
		r := do(t, s, httptest.NewRequest(m, "http://localhost/api/experiments", nil))
		var got struct{ Error string }
		if err := json.Unmarshal([]byte(r.body), &got); err != nil || r.status != http.StatusMethodNotAllowed ||
			!strings.Contains(got.Error, "the API answers GET only") || r.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /api/experiments: %d %s Allow %q %q; want 405, JSON, Allow \"GET, HEAD\"", m, r.status, r.header.Get("Content-Type"), r.header.Get("Allow"), shortBody(r.body))
		}
	}
	if r := get(t, s, "/api/experiments"); r.status != http.StatusOK {
		t.Errorf("GET /api/experiments: %d", r.status)
	}
}
