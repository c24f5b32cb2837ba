package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/internal/testenv"
	"github.com/attnlab/attnlab/runs"
	"github.com/attnlab/attnlab/store"
)

// forEachEngine runs f on a fresh SQLite store and on a fresh PostgreSQL
// database (skipped outside CI when no server is configured; a failure in
// CI: see internal/testenv).
func forEachEngine(t *testing.T, f func(t *testing.T, st *store.Store)) {
	t.Helper()
	testenv.ForEachDatabase(t, func(t *testing.T, target string) { f(t, openStore(t, target)) })
}

func openStore(t testing.TB, target string) *store.Store {
	t.Helper()
	st, err := store.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The hostile strings of the XSS cases: every one must come out as text.
const (
	xssDescription = `<script>alert(1)</script>`
	xssParam       = `<img src=x onerror=alert(2)>`
	xssError       = `</td><script>alert(3)</script>`
	xssToken       = `<svg onload=alert(4)>`
)

// fixture is what fill puts in a store.
type fixture struct {
	scan      map[string][]int64 // attention name → run ids (seeds 1, 2, 3)
	failed    int64
	running   int64
	queued    int64
	xss       int64 // the done run of experiment "xss"
	xssFailed int64
}

var fixOwner = store.Owner{Host: "worker-1", PID: 4242, Version: "test"}

// fill writes the fixture through the store's API, as workers write runs:
// experiment "scan" (attention none, dot, additive × seeds 1–3, done, with
// summaries, length buckets and metric histories; the additive seed-1 run
// with samples, attention maps and weights; one failed, one running with
// a few metric rows, one queued), and experiment "xss", whose description,
// params, error, samples and tokens are HTML and script.
func fill(t testing.TB, st *store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	fx := fixture{scan: map[string][]int64{}}
	type spec struct {
		att    string
		seed   int64
		status store.Status
	}
	var specs []spec
	for seed := int64(1); seed <= 3; seed++ {
		for _, a := range []string{"none", "dot", "additive"} {
			specs = append(specs, spec{a, seed, store.StatusDone})
		}
	}
	specs = append(specs, spec{"dot", 4, store.StatusFailed}, spec{"additive", 4, store.StatusRunning}, spec{"none", 4, store.StatusQueued})
	var rs []store.RunSpec
	for i, s := range specs {
		cfg := fmt.Sprintf(`{"seed":%d,"task":{"name":"scan"},"model":{"name":"seq2seq-rnn","attention":{"name":%q}},"train":{"steps":400,"optimizer":{"lr":0.001}}}`, s.seed, s.att)
		rs = append(rs, store.RunSpec{Hash: fmt.Sprintf("5ca%09d", i), Seed: s.seed, Config: cfg, Point: fmt.Sprintf(`{"model.attention.name":%q}`, s.att)})
	}
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "scan", Description: "which attention helps SCAN", YAML: "name: scan\n"}, rs)
	if err != nil {
		t.Fatal(err)
	}
	em := map[string]float64{"none": 0.5, "dot": 0.7, "additive": 0.9}
	for i, s := range specs {
		id := list[i].ID
		switch s.status {
		case store.StatusDone:
			fx.scan[s.att] = append(fx.scan[s.att], id)
		case store.StatusFailed:
			fx.failed = id
		case store.StatusRunning:
			fx.running = id
		case store.StatusQueued:
			fx.queued = id
			continue
		}
		claim(t, st, id)
		w := st.NewMetricWriter(id, 0)
		steps := 40
		if s.status == store.StatusRunning {
			steps = 10
		}
		for k := range steps {
			v := 3*math.Exp(-float64(k)/10) + em[s.att]*0.1 + 0.01*float64(s.seed)
			logMetric(t, w, k*10, "train/loss", v)
			if k%10 == 9 {
				logMetric(t, w, k*10, "valid/loss", v+0.1)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if s.status == store.StatusRunning {
			continue
		}
		d := 0.01 * float64(s.seed)
		sums := map[string]float64{
			"test/exact_match": em[s.att] - d, "test/loss": 1 - em[s.att] + d, "perf/tokens_per_s": 1000 + 10*float64(s.seed),
			"model/params":               5000,
			"test/exact_match/len_1_10":  em[s.att] + 0.05 - d,
			"test/exact_match/len_11_20": em[s.att] - 0.2 - d,
		}
		if err := st.PutSummaries(ctx, id, sums); err != nil {
			t.Fatal(err)
		}
		if s.att == "additive" && s.seed == 1 {
			putJSON(t, st, id, artifact.KindSamples, artifact.NameSamples, []artifact.Sample{
				{Index: 0, Source: "jump twice", Reference: "JUMP JUMP", Output: "JUMP JUMP", Correct: true},
				{Index: 1, Source: "walk left", Reference: "LTURN WALK", Output: "WALK", Correct: false},
			})
			putJSON(t, st, id, artifact.KindAttention, artifact.NameAttention, []artifact.AttentionMap{
				{Index: 0, Source: []string{"jump", "twice"}, Output: []string{"JUMP", "JUMP", "<eos>"}, Weights: [][]float32{{0.9, 0.1}, {0.2, 0.8}, {0.5, 0.5}}},
				{Index: 1, Source: []string{"walk", "left"}, Output: []string{"WALK", "<eos>"}, Weights: [][]float32{{0.25, 0.75}, {0.6, 0.4}}},
			})
			if err := st.PutArtifact(ctx, id, artifact.KindModel, artifact.NameParams, []byte("safetensors bytes")); err != nil {
				t.Fatal(err)
			}
		}
		msg := ""
		if s.status == store.StatusFailed {
			msg = "loss is NaN at step 120"
		}
		if err := st.Finish(ctx, id, fixOwner, s.status, msg); err != nil {
			t.Fatal(err)
		}
	}

	// The hostile experiment.
	cfg := fmt.Sprintf(`{"seed":1,"model":{"attention":{"name":%q}}}`, xssParam)
	_, xl, err := st.Submit(ctx, store.ExperimentSpec{Name: "xss", Description: xssDescription, YAML: "name: xss\n"}, []store.RunSpec{
		{Hash: "0bad00000001", Seed: 1, Config: cfg, Point: fmt.Sprintf(`{"model.attention.name":%q}`, xssParam)},
		{Hash: "0bad00000002", Seed: 2, Config: cfg, Point: fmt.Sprintf(`{"model.attention.name":%q}`, xssParam)},
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.xss, fx.xssFailed = xl[0].ID, xl[1].ID
	claimWithLoss(t, st, fx.xss, fx.xssFailed)
	if err := st.PutSummaries(ctx, fx.xss, map[string]float64{"test/exact_match": 0.25, "test/exact_match/len_1_10": 0.25}); err != nil {
		t.Fatal(err)
	}
	putJSON(t, st, fx.xss, artifact.KindSamples, artifact.NameSamples, []artifact.Sample{{Source: xssToken, Reference: xssError, Output: xssDescription}})
	putJSON(t, st, fx.xss, artifact.KindAttention, artifact.NameAttention, []artifact.AttentionMap{{Source: []string{xssToken}, Output: []string{xssParam}, Weights: [][]float32{{1}}}})
	if err := st.Finish(ctx, fx.xss, fixOwner, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, fx.xssFailed, fixOwner, store.StatusFailed, xssError); err != nil {
		t.Fatal(err)
	}
	return fx
}

// claimWithLoss claims each run and logs its train/loss at steps 0 and 10.
func claimWithLoss(t testing.TB, st *store.Store, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		claim(t, st, id)
		w := st.NewMetricWriter(id, 0)
		logMetric(t, w, 0, "train/loss", 1)
		logMetric(t, w, 10, "train/loss", 0.5)
		if err := w.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func claim(t testing.TB, st *store.Store, id int64) {
	t.Helper()
	res, err := st.Claim(context.Background(), id, fixOwner, 0)
	if err != nil || !res.Claimed {
		t.Fatalf("claim run %d: %v %s", id, err, res.Reason)
	}
}

func logMetric(t testing.TB, w *store.MetricWriter, step int, key string, v float64) {
	t.Helper()
	if err := w.Log(step, key, v); err != nil {
		t.Fatal(err)
	}
}

func putJSON(t testing.TB, st *store.Store, id int64, kind, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutArtifact(context.Background(), id, kind, name, b); err != nil {
		t.Fatal(err)
	}
}

// newServer returns a dashboard over st.
func newServer(t testing.TB, st *store.Store, opt Options) *Server {
	t.Helper()
	if opt.Version == "" {
		opt.Version = "test"
	}
	s, err := New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// response is what one request got.
type response struct {
	status int
	header http.Header
	body   string
}

// get sends a GET request to the handler, as a browser on localhost would.
func get(t testing.TB, h http.Handler, target string) response {
	t.Helper()
	return do(t, h, httptest.NewRequest(http.MethodGet, "http://localhost"+target, nil))
}

func do(t testing.TB, h http.Handler, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, err := io.ReadAll(rec.Result().Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: rec.Code, header: rec.Result().Header, body: string(b)}
}

// trainTiny trains testdata/tiny.yaml (two 30-step runs) into st, as
// attnlab run does.
func trainTiny(t testing.TB, st *store.Store) []int64 {
	t.Helper()
	x, err := experiments.Load("testdata/tiny.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runs.Execute(context.Background(), st, x, runs.ExecOptions{Workers: 1, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, o := range rep.Outcomes {
		if o.Run.Status != store.StatusDone {
			t.Fatalf("tiny run %s: %s %s", o.Run.Name(), o.Run.Status, o.Run.Error)
		}
		ids = append(ids, o.Run.ID)
	}
	return ids
}

// mustContain fails unless s contains every want.
func mustContain(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, shortBody(s))
		}
	}
}

func shortBody(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// replaceable makes two SQLite databases in a temporary directory, the
// served one at path holding experiment inPath and a spare holding
// inSpare (to move over path), opens path for a server with
// Options.Reopen, and has the server try reopening at every request for
// the test's length.
func replaceable(t *testing.T, inPath, inSpare string) (path, spare string, st *store.Store) {
	t.Helper()
	dir := t.TempDir()
	path, spare = filepath.Join(dir, "runs.db"), filepath.Join(dir, "spare.db")
	for p, name := range map[string]string{path: inPath, spare: inSpare} {
		s := openStore(t, p)
		if _, err := s.PutExperiment(context.Background(), name, "", "name: "+name+"\n"); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	st, err := store.OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reopened := reopenEvery
	reopenEvery = 0
	t.Cleanup(func() { reopenEvery = reopened })
	return path, spare, st
}

// live returns the answer of /api/live?q, failing the test unless it is
// one.
func live(t testing.TB, h http.Handler, q string) liveState {
	t.Helper()
	var lv liveState
	r := get(t, h, "/api/live?"+q)
	if err := json.Unmarshal([]byte(r.body), &lv); err != nil || r.status != 200 {
		t.Fatalf("live %s: %d %v %s", q, r.status, err, r.body)
	}
	return lv
}
