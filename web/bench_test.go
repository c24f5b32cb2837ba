package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/attnlab/attnlab/store"
)

// bigShape is the size of the benchmarks' experiment.
type bigShape struct {
	attentions, lrs, seeds int // runs = attentions × lrs × seeds
	trainRows, evalRows    int // per run: train/loss rows; valid/loss and valid/exact_match rows each
}

// shape500 is issue 12's experiment: 500 runs of 10,000 metric rows each
// (8,000 of train/loss, 1,000 each of valid/loss and valid/exact_match).
var shape500 = bigShape{attentions: 5, lrs: 20, seeds: 5, trainRows: 8000, evalRows: 1000}

// bigStore returns a SQLite store holding experiment "big" of the shape.
// Building it takes a minute, so it is kept in the temp directory under a
// name that says its shape and schema, and reused by later runs.
func bigStore(b *testing.B, sh bigShape) *store.Store {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("attnlab-web-bench-s%d-%dx%dx%d-%d-%d.db",
		store.SchemaVersion, sh.attentions, sh.lrs, sh.seeds, sh.trainRows, sh.evalRows))
	if _, err := os.Stat(path); err == nil {
		st, err := store.OpenExisting(path)
		if err == nil {
			if x, err := st.ExperimentByName(context.Background(), "big"); err == nil && x.Counts[store.StatusDone] == sh.attentions*sh.lrs*sh.seeds {
				return st
			}
			st.Close()
		}
		os.Remove(path)
	}
	tmp := path + ".building"
	os.Remove(tmp)
	st, err := store.Open(tmp)
	if err != nil {
		b.Fatal(err)
	}
	buildBig(b, st, sh)
	st.Close()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	st, err = store.OpenExisting(path)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// buildBig fills st with experiment "big", every run done with summaries
// and metric histories, written through the store's API as workers write.
func buildBig(tb testing.TB, st *store.Store, sh bigShape) {
	tb.Helper()
	ctx := context.Background()
	atts := []string{"none", "dot", "general", "additive", "scaled-dot", "multi-head", "local", "linear"}[:sh.attentions]
	var specs []store.RunSpec
	for s := range sh.seeds {
		for l := range sh.lrs {
			for _, a := range atts {
				lr := 1e-4 * float64(l+1)
				cfg, _ := json.Marshal(map[string]any{"seed": s + 1, "task": map[string]any{"name": "reverse"},
					"model": map[string]any{"attention": map[string]any{"name": a}},
					"train": map[string]any{"optimizer": map[string]any{"lr": lr}, "steps": sh.trainRows * 10}})
				p, _ := json.Marshal(map[string]any{"model.attention.name": a, "train.optimizer.lr": lr})
				specs = append(specs, store.RunSpec{Hash: fmt.Sprintf("%s-%d-%d", a, l, s), Seed: int64(s + 1), Config: string(cfg), Point: string(p)})
			}
		}
	}
	_, runs, err := st.Submit(ctx, store.ExperimentSpec{Name: "big", Description: "500 runs", YAML: "name: big\n"}, specs)
	if err != nil {
		tb.Fatal(err)
	}
	owner := store.Owner{Host: "bench", PID: os.Getpid()}
	for i, r := range runs {
		if _, err := st.Claim(ctx, r.ID, owner, 0); err != nil {
			tb.Fatal(err)
		}
		w := st.NewMetricWriter(r.ID, 8192)
		ph := float64(i)
		for k := range sh.trainRows {
			logMetric(tb, w, k*10, "train/loss", 3*math.Exp(-float64(k)/2000)+0.1*math.Sin(float64(k)/7+ph)+0.3)
		}
		for k := range sh.evalRows {
			logMetric(tb, w, k*80, "valid/loss", 3*math.Exp(-float64(k)/250)+0.4)
			logMetric(tb, w, k*80, "valid/exact_match", 1-math.Exp(-float64(k)/250))
		}
		if err := w.Flush(ctx); err != nil {
			tb.Fatal(err)
		}
		sums := map[string]float64{"test/exact_match": 0.5 + 0.4*math.Sin(ph), "test/loss": 1 + 0.5*math.Cos(ph),
			"test/bleu": 40 + 10*math.Sin(ph/3), "perf/tokens_per_s": 10000 + 100*ph, "model/params": 52000,
			"test/exact_match/len_1_10": 0.9, "test/exact_match/len_11_20": 0.6, "test/exact_match/len_21_40": 0.3}
		if err := st.PutSummaries(ctx, r.ID, sums); err != nil {
			tb.Fatal(err)
		}
		if err := st.Finish(ctx, r.ID, owner, store.StatusDone, ""); err != nil {
			tb.Fatal(err)
		}
	}
}

// fetch gets a URL from the handler as a browser does (gzip accepted) and
// returns the bytes on the wire.
func fetch(b *testing.B, h http.Handler, target string) response {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://localhost"+target, nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	r := do(b, h, req)
	if r.status != 200 {
		b.Fatalf("GET %s: %d %s", target, r.status, shortBody(r.body))
	}
	return r
}

// BenchmarkExperimentPage500 opens the page of an experiment of 500 runs
// with 10,000 metric rows each: its comparison and its runs table. It
// reports the CPU time per page (cpu-ms/op) beside the wall time, and the
// bytes sent.
func BenchmarkExperimentPage500(b *testing.B) {
	st := bigStore(b, shape500)
	defer st.Close()
	s := newServer(b, st, Options{ReadOnly: true})
	var n int
	c0 := cpuTime()
	b.ReportAllocs()
	for b.Loop() {
		n = len(fetch(b, s, "/x/big").body)
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(n), "wire-bytes")
}

// BenchmarkCurvesPage500 loads the curves page of that experiment as a
// browser does — the page, its scripts and styles, the curves of the
// default metric (train/loss: 8,000 points per run) and the length plot —
// and reports the bytes on the wire (wire-bytes; issue 12 wants < 2 MB)
// for the default view (mean per group with a min–max band) and for one
// line per run. The first load reads the histories from the database
// (first-cpu-ms); later loads find the histories of finished runs in the
// server's cache.
func BenchmarkCurvesPage500(b *testing.B) {
	for _, view := range []string{"", "runs"} {
		name := "mean"
		if view != "" {
			name = view
		}
		b.Run(name, func(b *testing.B) {
			st := bigStore(b, shape500)
			defer st.Close()
			s := newServer(b, st, Options{ReadOnly: true})
			q := ""
			if view != "" {
				q = "?view=" + view
			}
			load := func() int {
				page := fetch(b, s, "/x/big/curves"+q)
				total := len(page.body)
				plain := get(b, s, "/x/big/curves"+q).body
				for _, m := range regexp.MustCompile(`(?:src|href|data-src)="(/[^"]+)"`).FindAllStringSubmatch(plain, -1) {
					u := m[1]
					if regexp.MustCompile(`^/(static|api)/`).MatchString(u) {
						total += len(fetch(b, s, htmlUnescape(u)).body)
					}
				}
				return total
			}
			c0 := cpuTime()
			first := load()
			b.ReportMetric(float64(cpuTime()-c0)/float64(time.Millisecond), "first-cpu-ms")
			var n int
			c0 = cpuTime()
			for b.Loop() {
				n = load()
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(max(n, first)), "wire-bytes")
		})
	}
}

func htmlUnescape(s string) string {
	return regexp.MustCompile(`&amp;`).ReplaceAllString(s, "&")
}
