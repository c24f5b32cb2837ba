package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/internal/safeout"
	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

// stopsFixture is what fillStops puts in a store.
type stopsFixture struct {
	dot      []int64 // seeds 1–4; seeds 2–4 end early
	additive []int64 // seeds 1–3, done
	diverged int64   // additive seed 4: NaN from step 400 on, failed
}

// fillStops writes experiment "stops": attention dot × 4 seeds whose
// valid/loss histories end at steps 900, 300, 500 and 700 (early
// stopping), and additive × 4 seeds, all logging to step 900 but seed 4,
// which diverges at step 400 (NaN from there) and fails. Values are
// multiples of 1/8, exact in float32. The additive runs that finish score
// better than dot's on every summary, so that only its failed run keeps
// the additive row from being marked best.
func fillStops(t testing.TB, st *store.Store) stopsFixture {
	t.Helper()
	ctx := context.Background()
	type spec struct {
		att  string
		seed int64
		last int // last step logged
	}
	specs := []spec{{"dot", 1, 900}, {"dot", 2, 300}, {"dot", 3, 500}, {"dot", 4, 700},
		{"additive", 1, 900}, {"additive", 2, 900}, {"additive", 3, 900}, {"additive", 4, 900}}
	var rs []store.RunSpec
	for i, s := range specs {
		cfg := fmt.Sprintf(`{"seed":%d,"task":{"name":"scan"},"model":{"name":"seq2seq-rnn","attention":{"name":%q}},"train":{"steps":900}}`, s.seed, s.att)
		rs = append(rs, store.RunSpec{Hash: fmt.Sprintf("5707%08d", i), Seed: s.seed, Config: cfg, Point: fmt.Sprintf(`{"model.attention.name":%q}`, s.att)})
	}
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "stops", Description: "early stopping and a diverged seed", YAML: "name: stops\n"}, rs)
	if err != nil {
		t.Fatal(err)
	}
	var fx stopsFixture
	for i, s := range specs {
		id := list[i].ID
		claim(t, st, id)
		w := st.NewMetricWriter(id, 0)
		base := map[string]float64{"dot": 1, "additive": 0.5}[s.att]
		diverges := s.att == "additive" && s.seed == 4
		for step := 0; step <= s.last; step += 100 {
			v := base + 4*math.Exp2(-float64(step)/200) + float64(s.seed)/8
			v = math.Round(v*8) / 8
			if diverges && step >= 400 {
				v = math.NaN()
			}
			logMetric(t, w, step, "valid/loss", v)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		status, msg := store.StatusDone, ""
		if diverges {
			status, msg = store.StatusFailed, "valid/loss is NaN at step 400"
			fx.diverged = id
		} else if err := st.PutSummaries(ctx, id, stopsSummaries(s.att, s.seed, base)); err != nil {
			t.Fatal(err)
		}
		switch {
		case diverges:
		case s.att == "dot":
			fx.dot = append(fx.dot, id)
		default:
			fx.additive = append(fx.additive, id)
		}
		if err := st.Finish(ctx, id, fixOwner, status, msg); err != nil {
			t.Fatal(err)
		}
	}
	return fx
}

// stopsSummaries are the test summaries of a done run of the stops
// experiment, with exact match and the majority floor by source length:
// dot seed 2's test set has no source of 21–40, and no dot run has one of
// 161+. Seed s was trained on sources of 3 to 24+s tokens, none of them
// of 11–20 tokens (train/examples/len_A_B): the trained buckets have a gap.
func stopsSummaries(att string, seed int64, base float64) map[string]float64 {
	sums := map[string]float64{"test/exact_match": 1 - base/4 - float64(seed)/64, "test/loss": base,
		"test/majority_exact_match": 0.125, "train/src_len_min": 3, "train/src_len_max": float64(24 + seed)}
	for i, k := range []string{"1_10", "11_20", "21_40", "161_inf"} {
		sums["train/examples/len_"+k] = []float64{40, 0, 10, 0}[i]
		if att == "dot" && (k == "161_inf" || (seed == 2 && k == "21_40")) {
			continue
		}
		sums[report.LengthPrefix+k] = 1 - base/4 - 0.2*float64(i) - float64(seed)/64
		sums[report.ExamplesPrefix+k] = float64(50 - 10*i)
		sums["test/majority_exact_match/len_"+k] = float64(i+1)/8 + float64(seed)/64
	}
	return sums
}

// stopsPage fills a store with the stops experiment, serves path from it
// and returns the store, the answer's body, and the comparison of q with
// the ids of its rows' runs: what the page's numbers are checked against.
func stopsPage(t *testing.T, path string, q report.Query) (*store.Store, string, *report.Comparison, []int64) {
	t.Helper()
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	fillStops(t, st)
	r := get(t, newServer(t, st, Options{}), path)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	c, err := report.Compare(context.Background(), st, q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, row := range c.Rows {
		ids = append(ids, row.Runs...)
	}
	return st, r.body, c, ids
}

// TestLengthAgreesWithPlot: the length plot's lines on the page are the
// ones attnlab plot length draws (report.GroupLengthOf): a bucket only
// some runs of a group have is the mean of those, with their count, and
// one none has is a break.
func TestLengthAgreesWithPlot(t *testing.T) {
	st, body, c, ids := stopsPage(t, "/api/x/stops/length", report.Query{Experiments: []string{"stops"}})
	var d struct {
		Buckets []string     `json:"buckets"`
		Series  []seriesJSON `json:"series"`
		Floor   []*float64   `json:"floor"`
		Trained *struct {
			Text  string
			Spans [][2]int
		} `json:"trained"`
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1–10 (50 ex.)", "11–20 (40 ex.)", "21–40 (30 ex.)", "161+ (20 ex.)"}; !slices.Equal(d.Buckets, want) {
		t.Fatalf("buckets %q, want %q", d.Buckets, want)
	}
	sums, err := st.Summaries(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{report.LengthPrefix + "1_10", report.LengthPrefix + "11_20", report.LengthPrefix + "21_40", report.LengthPrefix + "161_inf"}
	// The references: the runs were trained on 3 to 28 tokens, none of
	// them in 11–20 (buckets 1–10 and 21–40 shaded apart), and the floor is
	// the mean over the runs.
	refs := report.LengthReferences(c, sums, keys, false)
	if d.Trained == nil || d.Trained.Text != "the buckets with training examples; trained on sources of 3–28 tokens" || !slices.Equal(d.Trained.Spans, [][2]int{{0, 0}, {2, 2}}) {
		t.Errorf("trained %+v, want 3–28 tokens in buckets 0 and 2", d.Trained)
	}
	if len(d.Floor) != len(keys) || refs.Floor == nil {
		t.Fatalf("floor %v, report %v", d.Floor, refs.Floor)
	}
	for j := range keys {
		if !close6(d.Floor[j], refs.Floor[j]) {
			t.Errorf("floor of %s: %v, report %v", d.Buckets[j], deref(d.Floor[j]), refs.Floor[j])
		}
	}
	if len(d.Series) != 2 {
		t.Fatalf("%d series, want 2", len(d.Series))
	}
	var dotN []int
	for _, sr := range d.Series {
		g := report.GroupLengthOf(c.Rows[sr.Group].Runs, sums, keys)
		if sr.NRuns != g.Runs {
			t.Errorf("%s: %d runs, report %d", sr.Label, sr.NRuns, g.Runs)
		}
		for j := range keys {
			y, n := sr.Y[j], sr.N[j]
			switch {
			case n == nil || int(*n) != g.N[j]:
				t.Errorf("%s %s: n %v, report %d", sr.Label, d.Buckets[j], deref(n), g.N[j])
			case g.N[j] == 0 && y != nil:
				t.Errorf("%s %s: mean %v where no run has a value", sr.Label, d.Buckets[j], *y)
			case g.N[j] > 0 && (!close6(y, g.Mean[j]) || !close6(sr.Lo[j], g.Min[j]) || !close6(sr.Hi[j], g.Max[j])):
				t.Errorf("%s %s: %v in [%v, %v], report %v in [%v, %v]", sr.Label, d.Buckets[j], deref(y), deref(sr.Lo[j]), deref(sr.Hi[j]), g.Mean[j], g.Min[j], g.Max[j])
			}
		}
		if strings.Contains(sr.Label, "dot") {
			dotN = g.N
		}
	}
	if !slices.Equal(dotN, []int{4, 4, 3, 0}) {
		t.Errorf("dot's runs per bucket %v, want [4 4 3 0]", dotN)
	}
}

// close6 reports whether the page's number v is want to the six
// significant digits the page gets.
func close6(v *float64, want float64) bool {
	return v != nil && math.Abs(*v-want) <= 1e-5*math.Abs(want)
}

// curvesJSON is /api/x/NAME/curves as the page's script reads it.
type curvesJSON struct {
	X       []float64    `json:"x"`
	Partial bool         `json:"partial"`
	Series  []seriesJSON `json:"series"`
}

// seriesJSON is a line of the curves and length answers as the script
// reads it (null values as nil).
type seriesJSON struct {
	Label    string     `json:"label"`
	Runs     []int64    `json:"runs"`
	Group    int        `json:"group"`
	Y        []*float64 `json:"y"`
	Lo       []*float64 `json:"lo"`
	Hi       []*float64 `json:"hi"`
	N        []*float64 `json:"n"`
	NRuns    int        `json:"nruns"`
	Early    int        `json:"early"`
	Diverged int        `json:"diverged"`
}

// TestCurvesAgreeWithPlot checks that the curves page's group lines are
// attnlab plot curves's, on runs that end early and a run that diverges:
// at every step the mean, the band and the number of runs are
// report.GroupCurveOf's on the store's own histories, the band is there
// only where every run of the group has a value, and the legend counts the
// runs that end early or diverged as the plot's legend does.
func TestCurvesAgreeWithPlot(t *testing.T) {
	ctx, q := context.Background(), report.Query{Experiments: []string{"stops"}, Status: report.StatusAny}
	st, body, c, ids := stopsPage(t, "/api/x/stops/curves?metric=valid/loss&view=mean", q)
	var d curvesJSON
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	hist, err := st.MetricHistory(ctx, ids, "valid/loss")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Series) != len(c.Rows) || !d.Partial {
		t.Fatalf("%d series (partial %v), want one per row of the comparison (%d), partial", len(d.Series), d.Partial, len(c.Rows))
	}
	ends := map[string]string{}
	for _, sr := range d.Series {
		g := report.GroupCurveOf(c.Rows[sr.Group].Runs, hist, nil)
		ends[sr.Label] = g.Ends()
		if sr.NRuns != g.Runs || sr.Early != g.Early || sr.Diverged != g.Diverged {
			t.Errorf("%s: %d runs, %d early, %d diverged; report says %d, %d, %d", sr.Label, sr.NRuns, sr.Early, sr.Diverged, g.Runs, g.Early, g.Diverged)
		}
		lo, hi := sr.Lo, sr.Hi
		j := 0
		for i, x := range d.X {
			y := sr.Y[i]
			if j < len(g.Steps) && float64(g.Steps[j]) == x {
				full := g.Full(j)
				switch {
				case y == nil || math.Abs(*y-g.Mean[j]) > 1e-5*math.Abs(g.Mean[j]):
					t.Errorf("%s step %v: mean %v, report %v", sr.Label, x, deref(y), g.Mean[j])
				case sr.N[i] == nil || int(*sr.N[i]) != g.N[j]:
					t.Errorf("%s step %v: n %v, report %d", sr.Label, x, deref(sr.N[i]), g.N[j])
				case full && (lo[i] == nil || hi[i] == nil || *lo[i] != g.Min[j] || *hi[i] != g.Max[j]):
					t.Errorf("%s step %v: band [%v, %v], report [%v, %v]", sr.Label, x, deref(lo[i]), deref(hi[i]), g.Min[j], g.Max[j])
				case !full && (lo[i] != nil || hi[i] != nil):
					t.Errorf("%s step %v: a band [%v, %v] over %d of %d runs", sr.Label, x, deref(lo[i]), deref(hi[i]), g.N[j], g.Runs)
				}
				j++
				continue
			}
			if y != nil {
				t.Errorf("%s step %v: mean %v where report has none", sr.Label, x, *y)
			}
		}
		if j != len(g.Steps) {
			t.Errorf("%s: %d of report's %d steps on the page", sr.Label, j, len(g.Steps))
		}
	}
	if len(d.Series) > 0 && (ends[d.Series[0].Label] == "" || ends[d.Series[1].Label] == "") {
		t.Fatalf("the fixture should have runs that end early and diverge: %v", ends)
	}

	// The legend: the plot's counts, in the page's words.
	want := map[string]string{
		"attention.name=dot (4 runs, 3 end early)":     "dot · 4 runs (3 end early)",
		"attention.name=additive (4 runs, 1 diverged)": "additive · 4 runs (1 diverged)",
	}
	out := filepath.Join(t.TempDir(), "curves.svg")
	if _, err := report.PlotCurves(ctx, st, q, "valid/loss", safeout.Target{Path: out}); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, sr := range d.Series {
		plot, ok := want[sr.Label]
		if !ok {
			t.Errorf("legend %q, want one of %q", sr.Label, want)
			continue
		}
		if !strings.Contains(string(svg), plot) {
			t.Errorf("the page's legend says %q, the plot's lacks %q", sr.Label, plot)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
