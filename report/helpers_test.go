package report

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeRun is a run to put in a test store, as the executor would leave it.
type fakeRun struct {
	params  map[string]any
	point   map[string]any // the sweep point's overrides ("variant": its name)
	seed    int64
	status  store.Status // "" means done; queued runs are never claimed
	err     string       // a failed run's error
	sums    map[string]float64
	history map[string][]float64 // key → value at steps 0, 250, 500, ...
	attn    []artifact.AttentionMap
	scores  []artifact.Score // stored as artifact.KindScores
	version string           // the attnlab build that trains it (store.Owner.Version)
}

// fakeExperiment is an experiment with its runs, in plan order.
type fakeExperiment struct {
	name string
	runs []fakeRun
}

// buildStore creates a store in a temporary directory holding the
// experiments, written through the store API as the executor does, and
// returns it with the run ids of each experiment in order.
func buildStore(tb testing.TB, exps ...fakeExperiment) (*store.Store, map[string][]int64) {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(filepath.Join(tb.TempDir(), "runs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	owner := store.Owner{Host: "report-test", PID: os.Getpid()}
	ids := map[string][]int64{}
	for _, x := range exps {
		expID, err := st.PutExperiment(ctx, x.name, "test experiment", "name: "+x.name+"\n")
		if err != nil {
			tb.Fatal(err)
		}
		specs := make([]store.RunSpec, len(x.runs))
		for i, r := range x.runs {
			params := []store.Param{{Key: "name", Value: x.name}, {Key: "seed", Value: r.seed}}
			for k, v := range r.params {
				params = append(params, store.Param{Key: k, Value: v})
			}
			cfg, err := json.Marshal(r.params)
			if err != nil { // NaN params: the config is not what reports read
				cfg = []byte("{}")
			}
			point := []byte("{}")
			if r.point != nil {
				point, _ = json.Marshal(r.point)
			}
			specs[i] = store.RunSpec{Hash: fmt.Sprintf("%s%04d", hashPrefix(x.name), i), Seed: r.seed, Config: string(cfg), Point: string(point), Params: params}
		}
		runs, err := st.EnsureRuns(ctx, expID, specs)
		if err != nil {
			tb.Fatal(err)
		}
		for i, r := range x.runs {
			id := runs[i].ID
			ids[x.name] = append(ids[x.name], id)
			if r.status == store.StatusQueued {
				continue
			}
			owner.Version = r.version
			if res, err := st.Claim(ctx, id, owner, 0); err != nil || !res.Claimed {
				tb.Fatalf("claim run %d: %v %v", id, err, res.Reason)
			}
			w := st.NewMetricWriter(id, 0)
			for k, vals := range r.history {
				for s, v := range vals {
					if err := w.Log(250*s, k, v); err != nil {
						tb.Fatal(err)
					}
				}
			}
			if err := w.Flush(ctx); err != nil {
				tb.Fatal(err)
			}
			if err := st.PutSummaries(ctx, id, r.sums); err != nil {
				tb.Fatal(err)
			}
			if r.attn != nil {
				b, err := json.Marshal(r.attn)
				if err != nil {
					tb.Fatal(err)
				}
				if err := st.PutArtifact(ctx, id, artifact.KindAttention, artifact.NameAttention, b); err != nil {
					tb.Fatal(err)
				}
			}
			if r.scores != nil {
				b, err := json.Marshal(r.scores)
				if err != nil {
					tb.Fatal(err)
				}
				if err := st.PutArtifact(ctx, id, artifact.KindScores, artifact.NameScores, b); err != nil {
					tb.Fatal(err)
				}
			}
			status := r.status
			if status == "" {
				status = store.StatusDone
			}
			if err := st.Finish(ctx, id, owner, status, r.err); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return st, ids
}

// hashPrefix gives each experiment distinct hex-looking hashes.
func hashPrefix(name string) string {
	h := 0
	for _, r := range name {
		h = h*31 + int(r)
	}
	return fmt.Sprintf("%012x", uint64(h)&0xffffffffffff)
}

// Values of the main fixture, by attention and seed (1, 2, 3). The
// none/dot exact-match pair is the "three seeds each" case of
// metrics.TestWelchTTest (scipy: p = 0.057799107763105005).
var (
	emNone     = []float64{0.897, 0.903, 0.889}
	emDot      = []float64{0.912, 0.905, 0.921}
	emAdditive = []float64{0.951, 0.962, 0.944}
	lossNone   = []float64{1.0, 1.2, 1.1}
	lossDot    = []float64{0.5, 0.6, 0.55}
	lossAdd    = []float64{0.3, math.NaN(), 0.32} // seed 2 diverged
)

// sacreBLEU signatures as runs store them (runs.TextScores.Artifacts).
const (
	sigBLEU13a  = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.5.1"
	sigBLEUIntl = "nrefs:1|case:mixed|eff:no|tok:intl|smooth:exp|version:2.5.1"
	sigChrF     = "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.5.1"
	sigChrFPP   = "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.5.1"
)

// scanExperiment is the main fixture: attention none, dot, additive (with
// its own dim param) × seeds 1, 2, 3, in plan order (seeds outermost), plus
// a failed and a queued run.
func scanExperiment() fakeExperiment {
	x := fakeExperiment{name: "scan-attn"}
	names := []string{"none", "dot", "additive"}
	em := [][]float64{emNone, emDot, emAdditive}
	loss := [][]float64{lossNone, lossDot, lossAdd}
	bleu := [][]float64{{41.2, 43.5, 42.0}, {80.1, 82.4, 81.0}, {90.3, 91.2, 89.1}} // sacreBLEU, 0–100
	chrf := [][]float64{{60.5, 61.9, 60.1}, {88.2, 89.0, 88.7}, {94.4, 95.1, 93.8}}
	tps := [][]float64{{15200, 15500, 15100}, {12100, 12400, 11900}, {9100, 9300, 9000}}
	params := []float64{52000, 52000, 68500}
	lens := [][]float64{{0.9, 0.5, 0.1}, {0.95, 0.7, 0.3}, {0.99, 0.9, 0.6}}
	for s := range 3 {
		for a, name := range names {
			p := map[string]any{
				"model.attention.name": name,
				"model.encoder.hidden": 64,
				"task.name":            "scan",
				"train.optimizer.lr":   0.001,
			}
			if name == "additive" {
				p["model.attention.dim"] = 128
			}
			d := float64(s+1) * 0.01
			r := fakeRun{params: p, seed: int64(s + 1), sums: map[string]float64{
				"test/exact_match":             em[a][s],
				"test/bleu":                    bleu[a][s],
				"test/chrf":                    chrf[a][s],
				"test/loss":                    loss[a][s],
				"valid/loss":                   loss[a][s] + 0.05,
				"valid/exact_match":            em[a][s] - 0.01,
				"perf/tokens":                  1e6,
				"x/tokens":                     1,
				"perf/tokens_per_s":            tps[a][s],
				"model/params":                 params[a],
				"test/attn_entropy":            1.5 - 0.3*float64(a),
				"test/exact_match/len_1_10":    lens[a][0] - d,
				"test/exact_match/len_11_20":   lens[a][1] - d,
				"test/exact_match/len_21_40":   lens[a][2] - d,
				"test/exact_match/len_161_inf": 0,
			}}
			if name == "none" {
				delete(r.sums, "test/exact_match/len_161_inf")
			}
			r.scores = []artifact.Score{
				{Key: "test/bleu", Name: "BLEU", Score: bleu[a][s], Signature: sigBLEU13a},
				{Key: "test/chrf", Name: "chrF2", Score: chrf[a][s], Signature: sigChrF},
				{Key: "test/chrf++", Name: "chrF2++", Score: chrf[a][s] - 2, Signature: sigChrFPP},
			}
			end := loss[a][s] + 0.05
			if math.IsNaN(end) {
				end = 0.4 // diverged late: NaN from step 1500 on
			}
			r.history = map[string][]float64{"valid/loss": curve(3.0, end, 9, float64(s))}
			if name == "additive" && s == 1 {
				r.history["valid/loss"][6] = math.NaN()
				r.history["valid/loss"][7] = math.NaN()
				r.history["valid/loss"][8] = math.NaN()
			}
			if name == "additive" && s == 0 {
				r.attn = []artifact.AttentionMap{diagonalMap([]string{"jump", "twice", "and", "walk", "left"}, []string{"JUMP", "JUMP", "LTURN", "WALK", "<eos>"}), longMap()}
			}
			x.runs = append(x.runs, r)
		}
	}
	x.runs = append(x.runs,
		fakeRun{params: map[string]any{"model.attention.name": "dot", "model.encoder.hidden": 64, "task.name": "scan", "train.optimizer.lr": 0.001},
			seed: 4, status: store.StatusFailed, sums: map[string]float64{"test/exact_match": 0.0}},
		fakeRun{params: map[string]any{"model.attention.name": "none", "model.encoder.hidden": 64, "task.name": "scan", "train.optimizer.lr": 0.001},
			seed: 4, status: store.StatusQueued},
	)
	return x
}

// curve is an exponential decay from start to end over n points, with a
// small seed-dependent wiggle.
func curve(start, end float64, n int, seed float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		f := math.Exp(-float64(i) / 2)
		out[i] = end + (start-end)*f + 0.02*math.Sin(float64(i)+seed)*f
	}
	return out
}

// diagonalMap returns an attention map that mostly follows the diagonal.
func diagonalMap(src, out []string) artifact.AttentionMap {
	m := artifact.AttentionMap{Index: 0, Source: src, Output: out}
	for i := range out {
		row := make([]float32, len(src))
		sum := float32(0)
		for j := range src {
			d := float64(j - min(i, len(src)-1))
			row[j] = float32(math.Exp(-2 * d * d))
			sum += row[j]
		}
		for j := range row {
			row[j] /= sum
		}
		m.Weights = append(m.Weights, row)
	}
	return m
}

// longMap is a 30×31 map with realistic token lengths, for label overlap.
func longMap() artifact.AttentionMap {
	words := []string{"walk", "opposite", "left", "thrice", "after", "run", "around", "right", "twice", "and", "jump"}
	acts := []string{"I_TURN_LEFT", "I_WALK", "I_TURN_RIGHT", "I_RUN", "I_JUMP"}
	var src, out []string
	for i := range 30 {
		src = append(src, words[(i*7)%len(words)])
	}
	for i := range 30 {
		out = append(out, acts[(i*3)%len(acts)])
	}
	out = append(out, "<eos>")
	m := diagonalMap(src, out)
	m.Index = 1
	return m
}

// welchExperiment has two groups with 5 and 8 seeds: the "unequal n" case
// of metrics.TestWelchTTest (scipy: p = 0.0021576893123759593).
func welchExperiment() fakeExperiment {
	x := fakeExperiment{name: "welch"}
	a := []float64{0.81, 0.83, 0.79, 0.85, 0.80}
	b := []float64{0.78, 0.74, 0.80, 0.71, 0.76, 0.77, 0.73, 0.75}
	for i, v := range a {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"variant": "a"}, seed: int64(i + 1), sums: map[string]float64{"valid/token_acc": v}})
	}
	for i, v := range b {
		x.runs = append(x.runs, fakeRun{params: map[string]any{"variant": "b"}, seed: int64(i + 1), sums: map[string]float64{"valid/token_acc": v}})
	}
	return x
}

// divergeExperiment has a group whose runs all diverged (NaN loss), one
// with a finite loss, and one with an infinite loss and no exact match.
func divergeExperiment() fakeExperiment {
	x := fakeExperiment{name: "diverge"}
	for s := range 3 {
		x.runs = append(x.runs,
			fakeRun{params: map[string]any{"lr": 0.001}, seed: int64(s + 1), sums: map[string]float64{"test/loss": 0.5 + 0.1*float64(s), "test/exact_match": 0.5}},
			fakeRun{params: map[string]any{"lr": 1.0}, seed: int64(s + 1), sums: map[string]float64{"test/loss": math.NaN(), "test/exact_match": 0}},
		)
	}
	x.runs = append(x.runs, fakeRun{params: map[string]any{"lr": 0.1}, seed: 1, sums: map[string]float64{"test/loss": math.Inf(1)}})
	return x
}

// copyExperiment is a second experiment for multi-experiment comparisons.
func copyExperiment() fakeExperiment {
	x := fakeExperiment{name: "copy-len"}
	for s := range 2 {
		for _, name := range []string{"dot", "additive"} {
			p := map[string]any{"model.attention.name": name, "model.encoder.hidden": 64, "task.name": "copy", "train.optimizer.lr": 0.001}
			if name == "additive" {
				p["model.attention.dim"] = 128
			}
			x.runs = append(x.runs, fakeRun{params: p, seed: int64(s + 1), sums: map[string]float64{
				"test/exact_match": 0.7 + 0.1*float64(s), "test/loss": 0.4 - 0.05*float64(s),
			}})
		}
	}
	return x
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run go test ./report -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func closeTo(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b || math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}
