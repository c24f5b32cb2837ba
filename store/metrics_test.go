package store

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// same reports whether a and b are the same float64, NaN included.
func same(a, b float64) bool {
	return a == b && math.Signbit(a) == math.Signbit(b) || math.IsNaN(a) && math.IsNaN(b)
}

var specialValues = []struct {
	name string
	v    float64
}{
	{"NaN", math.NaN()},
	{"+Inf", math.Inf(1)},
	{"-Inf", math.Inf(-1)},
	{"zero", 0},
	{"max", math.MaxFloat64},
	{"smallest denormal", math.SmallestNonzeroFloat64},
	{"one third", 1.0 / 3},
	{"-1e-300", -1e-300},
}

// testEachMetricPoint: EachMetricPoint gives one run's history of one key,
// in step order, the values as logged; fn's error stops it and comes back
// as is.
func testEachMetricPoint(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	a, b := runs[0].ID, runs[1].ID
	for _, id := range []int64{a, b} {
		w := s.NewMetricWriter(id, 0)
		for _, step := range []int{30, 10, 20} {
			if err := w.Log(step, "valid/loss", float64(id)*100+float64(step)); err != nil {
				t.Fatal(err)
			}
			if err := w.Log(step, "train/loss", -1); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Log(40, "valid/loss", math.NaN()); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var got []MetricPoint
	err := s.EachMetricPoint(ctx, b, "valid/loss", func(p MetricPoint) error {
		got = append(got, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{float64(b)*100 + 10, float64(b)*100 + 20, float64(b)*100 + 30, math.NaN()}
	if len(got) != len(want) {
		t.Fatalf("EachMetricPoint gave %d points %v, want %d", len(got), got, len(want))
	}
	for i, p := range got {
		if p.Step != 10*(i+1) || !same(p.Value, want[i]) || p.Wall.IsZero() {
			t.Errorf("point %d = %+v, want step %d, value %v and its wall time", i, p, 10*(i+1), want[i])
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = s.EachMetricPoint(ctx, a, "valid/loss", func(MetricPoint) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("fn's error: EachMetricPoint = %v after %d calls, want it as is after 1", err, calls)
	}
	if err := s.EachMetricPoint(ctx, a, "test/none", func(MetricPoint) error { t.Error("called for a key never logged"); return nil }); err != nil {
		t.Error(err)
	}
}

func testNonFiniteRoundTrip(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	run := addExperiment(t, s, "e", 1)[0].ID
	w := s.NewMetricWriter(run, 0)
	sums := map[string]float64{}
	for i, tc := range specialValues {
		if err := w.Log(i, "valid/loss", tc.v); err != nil {
			t.Fatal(err)
		}
		sums["s/"+tc.name] = tc.v
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSummaries(ctx, run, sums); err != nil {
		t.Fatal(err)
	}
	hist, err := s.MetricHistory(ctx, []int64{run}, "valid/loss")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Summaries(ctx, []int64{run})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist[run]) != len(specialValues) {
		t.Fatalf("MetricHistory has %d points, want %d", len(hist[run]), len(specialValues))
	}
	for i, tc := range specialValues {
		t.Run(tc.name, func(t *testing.T) {
			if p := hist[run][i]; p.Step != i || !same(p.Value, tc.v) {
				t.Errorf("metric at step %d = (step %d, %v), want %v", i, p.Step, p.Value, tc.v)
			}
			if v, ok := got[run]["s/"+tc.name]; !ok || !same(v, tc.v) {
				t.Errorf("summary %s = %v (present %v), want %v", tc.name, v, ok, tc.v)
			}
		})
	}
	// The documented encoding: NaN is NULL, infinities are REAL.
	var nulls, infs int
	isInf := `typeof(value) = 'real' AND abs(value) > 1e308 AND value = value * 2`
	if s.Engine() == Postgres {
		isInf = `value IN (CAST('Infinity' AS DOUBLE PRECISION), CAST('-Infinity' AS DOUBLE PRECISION))`
	}
	if err := s.db.QueryRow(`SELECT count(*) FILTER (WHERE value IS NULL), count(*) FILTER (WHERE `+isInf+`)
		FROM metrics`).Scan(&nulls, &infs); err != nil {
		t.Fatal(err)
	}
	if nulls != 1 || infs != 2 {
		t.Fatalf("metrics rows: %d NULL and %d infinite values, want 1 and 2", nulls, infs)
	}
}

// TestNegativeZero pins a documented limitation: SQLite stores whole REAL
// values as integers, so -0 reads back as +0.
func testNegativeZero(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	run := addExperiment(t, s, "e", 1)[0].ID
	if err := s.PutSummaries(ctx, run, map[string]float64{"a/b": math.Copysign(0, -1)}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Summaries(ctx, []int64{run})
	if v := got[run]["a/b"]; v != 0 || math.Signbit(v) {
		t.Fatalf("summary -0 read back as %v (signbit %v), want +0 as documented", v, math.Signbit(v))
	}
}

// testMetricDuplicatesInOneFlush: a writer given the same (key, step)
// twice before a flush stores the last value, with or without an owner,
// in one INSERT or several. PostgreSQL refuses an upsert that touches one
// row twice ("ON CONFLICT DO UPDATE command cannot affect row a second
// time"), so the writer keeps only the last of such rows.
func testMetricDuplicatesInOneFlush(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 1)
	run := runs[0].ID
	o := Owner{Host: "h", PID: 1}
	if res, err := s.Claim(ctx, run, o, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %v %s", err, res.Reason)
	}
	for _, c := range []struct {
		name  string
		w     *MetricWriter
		steps int
	}{
		{"plain, one INSERT", s.NewMetricWriter(run, 0), 10},
		{"plain, several INSERTs", s.NewMetricWriter(run, 0), 3 * rowsPerInsert},
		{"owned, one INSERT", s.NewOwnedMetricWriter(run, o, 0), 10},
		{"owned, several INSERTs", s.NewOwnedMetricWriter(run, o, 0), 3 * rowsPerInsert},
	} {
		key := "k/" + strings.ReplaceAll(c.name, " ", "")
		for step := range c.steps {
			if err := c.w.Log(step, key, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.w.Log(0, key, 2); err != nil { // step 0 again, last
			t.Fatal(err)
		}
		if err := c.w.Flush(ctx); err != nil {
			t.Fatalf("%s: flush: %v", c.name, err)
		}
		if n := c.w.Pending(); n != 0 {
			t.Errorf("%s: %d rows pending after the flush", c.name, n)
		}
		hist, err := s.MetricHistory(ctx, []int64{run}, key)
		if err != nil {
			t.Fatal(err)
		}
		h := hist[run]
		if len(h) != c.steps || h[0].Value != 2 || h[1].Value != 1 {
			t.Errorf("%s: %d rows, step 0 = %v, step 1 = %v; want %d, 2, 1", c.name, len(h), h[0].Value, h[1].Value, c.steps)
		}
	}
}

func testMetricUpsertAndTruncate(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	run, other := runs[0].ID, runs[1].ID
	t0 := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return t0 }

	w := s.NewMetricWriter(run, 4)
	for step := range 10 {
		for _, key := range []string{"train/loss", "valid/loss"} {
			if err := w.Log(step, key, float64(step)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := w.Pending(); got != 0 {
		t.Fatalf("Pending() = %d after 20 rows with batch 4, want 0 (auto-flushed)", got)
	}
	if err := w.Log(0, "train/loss", 99); err != nil {
		t.Fatal(err)
	}
	if got := w.Pending(); got != 1 {
		t.Fatalf("Pending() = %d, want 1", got)
	}
	ow := s.NewMetricWriter(other, 0)
	for step := range 10 {
		ow.Log(step, "train/loss", -1)
	}
	for _, w := range []*MetricWriter{w, ow} {
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// A resumed run: truncate after the checkpoint at step 5, then log the
	// rest again with new values.
	if err := s.TruncateMetrics(ctx, run, 5); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0.Add(time.Hour) }
	for step := 6; step < 8; step++ {
		w.Log(step, "train/loss", 100+float64(step))
	}
	w.Log(5, "train/loss", 55) // replaces the row at step 5
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		run  int64
		key  string
		want []float64 // by step from 0
	}{
		{run, "train/loss", []float64{99, 1, 2, 3, 4, 55, 106, 107}},
		{run, "valid/loss", []float64{0, 1, 2, 3, 4, 5}},
		{other, "train/loss", []float64{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1}},
	} {
		hist, err := s.MetricHistory(ctx, []int64{tc.run}, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		for i, p := range hist[tc.run] {
			if p.Step != i {
				t.Fatalf("run %d %s: point %d has step %d, want %d", tc.run, tc.key, i, p.Step, i)
			}
			got = append(got, p.Value)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("run %d %s = %v, want %v", tc.run, tc.key, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("run %d %s = %v, want %v", tc.run, tc.key, got, tc.want)
			}
		}
	}
	hist, _ := s.MetricHistory(ctx, []int64{run}, "train/loss")
	if w0, w7 := hist[run][1].Wall, hist[run][7].Wall; !w0.Equal(t0) || !w7.Equal(t0.Add(time.Hour)) {
		t.Fatalf("wall times = %v, %v; want %v, %v", w0, w7, t0, t0.Add(time.Hour))
	}
	both, err := s.MetricHistory(ctx, []int64{run, other, 999}, "train/loss")
	if err != nil || len(both) != 2 {
		t.Fatalf("MetricHistory(two runs and an unknown one) has %d runs (%v), want 2", len(both), err)
	}
	keys, err := s.MetricKeys(ctx, []int64{run})
	if err != nil || len(keys) != 2 || keys[0] != "train/loss" || keys[1] != "valid/loss" {
		t.Fatalf("MetricKeys = %v, %v; want [train/loss valid/loss]", keys, err)
	}

	if err := s.TruncateMetrics(ctx, run, -1); err != nil {
		t.Fatal(err)
	}
	if hist, _ := s.MetricHistory(ctx, []int64{run}, "train/loss"); len(hist[run]) != 0 {
		t.Fatalf("after TruncateMetrics(-1) the run has %d points, want 0", len(hist[run]))
	}
}

func testMetricWriterUnknownRun(t *testing.T) {
	s := newStore(t)
	w := s.NewMetricWriter(42, 0)
	w.Log(0, "train/loss", 1)
	err := w.Flush(context.Background())
	if !errors.Is(err, ErrNotFound) || err.Error() != "store: write metrics of run 42: run 42: not found" {
		t.Fatalf("Flush for an unknown run = %v, want store: write metrics of run 42: run 42: not found", err)
	}
	if w.Pending() != 1 {
		t.Fatalf("Pending() = %d after a failed flush, want the row kept", w.Pending())
	}
}

func testPutSummariesReplacesKeys(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	run := addExperiment(t, s, "e", 1)[0].ID
	if err := s.PutSummaries(ctx, run, map[string]float64{"test/bleu": 0.1, "test/exact_match": 0.2}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSummaries(ctx, run, map[string]float64{"test/bleu": 0.3}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Summaries(ctx, []int64{run})
	if err != nil {
		t.Fatal(err)
	}
	if got[run]["test/bleu"] != 0.3 || got[run]["test/exact_match"] != 0.2 || len(got[run]) != 2 {
		t.Fatalf("Summaries = %v, want bleu 0.3 and exact_match 0.2", got[run])
	}
	if err := s.PutSummaries(ctx, 77, map[string]float64{"a/b": 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutSummaries(unknown run) = %v, want ErrNotFound", err)
	}
}

// testInfiniteSummaries: InfiniteSummaries returns exactly the summaries
// a full read (Summaries) holds whose value is ±Inf and whose key
// contains one of the strings given, byte for byte, of the runs asked for
// only — not NaN (stored NULL), not the largest finite value, not a key
// that differs in case. Package runs reads them instead of every summary
// of a plan's done runs.
func testInfiniteSummaries(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	rs := addExperiment(t, s, "e", 5)
	inf, ninf := math.Inf(1), math.Inf(-1)
	sums := []map[string]float64{
		{"test/loss": 2, "test/ppl": inf},
		{"test/length_ratio": inf, "test/loss": 1},
		{"best/valid/loss": ninf, "test/loss@8": inf, "valid/loss": math.NaN(), "x/LOSS": inf, "test/bleu": ninf},
		{"test/loss": math.MaxFloat64, "test/ppl": -math.MaxFloat64, "test/exact_match": 0},
		{"test/loss": inf}, // not asked for
	}
	for i, m := range sums {
		if err := s.PutSummaries(ctx, rs[i].ID, m); err != nil {
			t.Fatal(err)
		}
	}
	ids := []int64{rs[0].ID, rs[1].ID, rs[2].ID, rs[3].ID}
	all, err := s.Summaries(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, keyHas := range [][]string{{"/loss", "/ppl"}, nil, {"/ppl"}, {"length"}} {
		got, err := s.InfiniteSummaries(ctx, ids, keyHas...)
		if err != nil {
			t.Fatalf("InfiniteSummaries(%q): %v", keyHas, err)
		}
		want := map[int64]map[string]float64{}
		for id, m := range all {
			for k, v := range m {
				has := len(keyHas) == 0
				for _, sub := range keyHas {
					has = has || strings.Contains(k, sub)
				}
				if math.IsInf(v, 0) && has {
					if want[id] == nil {
						want[id] = map[string]float64{}
					}
					want[id][k] = v
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("InfiniteSummaries(%q) = %v, want %v", keyHas, got, want)
		}
	}
	got, err := s.InfiniteSummaries(ctx, ids, "/loss", "/ppl")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]map[string]float64{
		rs[0].ID: {"test/ppl": inf},
		rs[2].ID: {"best/valid/loss": ninf, "test/loss@8": inf},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InfiniteSummaries(/loss, /ppl) = %v, want %v", got, want)
	}
	if got, err := s.InfiniteSummaries(ctx, nil, "/loss"); err != nil || len(got) != 0 {
		t.Errorf("InfiniteSummaries(no runs) = %v, %v; want nothing", got, err)
	}
}

// TestInfiniteSummariesText: on SQLite a value written by hand as text
// that is not a number ('Inf', '-infinity') stays text in the REAL column,
// and Summaries reads it as database/sql parses it: ±Inf. InfiniteSummaries
// returns it too (report counts such a run failed; runs.Execute counted it
// done: "5 already done" over a closing "1 of 5 runs stored done with a
// loss or perplexity of ±Inf"), and no text that is not ±Inf ('nan').
func TestInfiniteSummariesText(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	rs := addExperiment(t, s, "e", 3)
	for _, r := range rs {
		if err := s.PutSummaries(ctx, r.ID, map[string]float64{"test/loss": 1, "best/valid/ppl": 2, "test/bleu": 3}); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct {
		id        int64
		key, text string
	}{
		{rs[0].ID, "test/loss", "Inf"},
		{rs[1].ID, "best/valid/ppl", "-infinity"},
		{rs[2].ID, "test/loss", "nan"},
		{rs[2].ID, "test/bleu", "Inf"},
	} {
		if _, err := s.db.ExecContext(ctx, `UPDATE summaries SET value = ? WHERE run_id = ? AND key = ?`, u.text, u.id, u.key); err != nil {
			t.Fatal(err)
		}
	}
	ids := []int64{rs[0].ID, rs[1].ID, rs[2].ID}
	got, err := s.InfiniteSummaries(ctx, ids, "/loss", "/ppl")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]map[string]float64{
		rs[0].ID: {"test/loss": math.Inf(1)},
		rs[1].ID: {"best/valid/ppl": math.Inf(-1)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("InfiniteSummaries = %v, want %v", got, want)
	}
	// What Summaries reads, which report tests.
	all, err := s.Summaries(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if v := all[rs[0].ID]["test/loss"]; !math.IsInf(v, 1) {
		t.Errorf("Summaries read 'Inf' as %v, want +Inf", v)
	}
}

func testArtifacts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	run := addExperiment(t, s, "e", 1)[0].ID
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i)
	}
	for _, a := range []struct {
		kind, name string
		data       []byte
	}{
		{"checkpoint", "last", []byte("old")},
		{"checkpoint", "last", big},
		{"attention", "sample-0", []byte{0, 1, 2}},
		{"samples", "empty", nil},
	} {
		if err := s.PutArtifact(ctx, run, a.kind, a.name, a.data); err != nil {
			t.Fatalf("PutArtifact(%s/%s): %v", a.kind, a.name, err)
		}
	}
	got, err := s.Artifact(ctx, run, "checkpoint", "last")
	if err != nil || len(got) != len(big) || string(got) != string(big) {
		t.Fatalf("Artifact(checkpoint/last) = %d bytes, %v; want the replacing %d bytes", len(got), err, len(big))
	}
	if got, err := s.Artifact(ctx, run, "samples", "empty"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Artifact(samples/empty) = %v, %v; want an empty non-nil slice", got, err)
	}
	_, err = s.Artifact(ctx, run, "checkpoint", "best")
	if !errors.Is(err, ErrNotFound) || err.Error() != "store: run 1 has no artifact checkpoint/best: not found" {
		t.Fatalf("Artifact(missing) = %v, want store: run 1 has no artifact checkpoint/best: not found", err)
	}
	list, err := s.Artifacts(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind, name string
		size       int64
	}{{"attention", "sample-0", 3}, {"checkpoint", "last", int64(len(big))}, {"samples", "empty", 0}}
	if len(list) != len(want) {
		t.Fatalf("Artifacts = %+v, want %v", list, want)
	}
	for i, w := range want {
		if a := list[i]; a.Kind != w.kind || a.Name != w.name || a.Size != w.size || a.RunID != run || a.Created.IsZero() {
			t.Fatalf("Artifacts[%d] = %+v, want %v", i, a, w)
		}
	}
	if err := s.PutArtifact(ctx, 77, "checkpoint", "last", []byte("x")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutArtifact(unknown run) = %v, want ErrNotFound", err)
	}
	if err := s.PutArtifact(ctx, run, "", "x", nil); err == nil {
		t.Fatalf("PutArtifact with an empty kind succeeded")
	}
}

func testParamsOfRuns(t *testing.T) {
	s := newStore(t)
	runs := addExperiment(t, s, "e", 3)
	got, err := s.Params(context.Background(), []int64{runs[0].ID, runs[2].ID, 999})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[runs[2].ID]["seed"].Equal(NumberValue(2)) || !got[runs[0].ID]["model.attention.name"].Equal(TextValue("dot")) {
		t.Fatalf("Params = %v, want runs 1 and 3 with seed and model.attention.name", got)
	}
	if got, err := s.Params(context.Background(), nil); err != nil || len(got) != 0 {
		t.Fatalf("Params(nil) = %v, %v; want empty", got, err)
	}
}

// testOwnedArtifacts: PutOwnedArtifact writes only while the run is
// running under the owner; a worker whose run was taken over as stale gets
// ErrNotOwner and leaves the new owner's checkpoint alone (with
// PutArtifact it overwrote it until its next heartbeat noticed).
func testOwnedArtifacts(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	id := runs[0].ID
	a, b := Owner{Host: "h", PID: 11}, Owner{Host: "h", PID: 12}
	get := func() string {
		t.Helper()
		data, err := s.Artifact(ctx, id, "checkpoint", "checkpoint.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	put := func(o Owner, run int64, data string) error {
		return s.PutOwnedArtifact(ctx, run, o, "checkpoint", "checkpoint.safetensors", []byte(data))
	}
	if err := put(a, id, "a0"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("write to a queued run: %v, want ErrNotOwner", err)
	}
	claimAs(a)(t, s, id)
	for _, data := range []string{"a1", "a2\xff\x00"} { // written, then replaced; bytes kept exactly
		if err := put(a, id, data); err != nil {
			t.Fatal(err)
		}
		if got := get(); got != data {
			t.Fatalf("checkpoint = %q, want %q", got, data)
		}
	}
	if err := s.PutOwnedArtifact(ctx, id, a, "samples", "empty.json", nil); err != nil {
		t.Fatal(err)
	}
	if infos, err := s.Artifacts(ctx, id); err != nil || len(infos) != 2 || infos[0].Size != 4 || infos[1].Size != 0 {
		t.Fatalf("Artifacts = %+v, %v; want the checkpoint (4 bytes) and an empty sample", infos, err)
	}
	if err := put(b, id, "b?"); !errors.Is(err, ErrNotOwner) || !strings.Contains(err.Error(), "held by h:11") {
		t.Fatalf("write by another owner: %v, want ErrNotOwner naming h:11", err)
	}
	// a's pid is gone: b takes the run over; a, still writing, is refused.
	s.alive = func(pid int) bool { return pid != a.PID }
	claimAs(b)(t, s, id)
	if err := put(b, id, "b1"); err != nil {
		t.Fatal(err)
	}
	if err := put(a, id, "a3"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("write by the owner that lost the run: %v, want ErrNotOwner", err)
	}
	if got := get(); got != "b1" {
		t.Fatalf("checkpoint = %q after the lost owner's write, want the new owner's %q", got, "b1")
	}
	if err := s.Finish(ctx, id, b, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	if err := put(b, id, "b2"); !errors.Is(err, ErrNotOwner) || !strings.Contains(err.Error(), "run is done") {
		t.Fatalf("write to a done run: %v, want ErrNotOwner", err)
	}
	if err := put(a, 9999, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("write to a missing run: %v, want ErrNotFound", err)
	}
}

// testOwnedDeletes: DeleteOwnedArtifacts and TruncateOwnedMetrics delete
// only while the run is running under the owner; a worker whose run
// another worker took over deletes nothing of the new owner's checkpoint
// and history, and neither does a write to a run that is not running.
func testOwnedDeletes(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	id, other := runs[0].ID, runs[1].ID
	a, b := Owner{Host: "h", PID: 11}, Owner{Host: "h", PID: 12}
	put := func(o Owner, data string, steps ...int) {
		t.Helper()
		if err := s.PutOwnedArtifact(ctx, id, o, "checkpoint", "checkpoint.safetensors", []byte(data)); err != nil {
			t.Fatal(err)
		}
		w := s.NewMetricWriter(id, 0)
		for _, step := range steps {
			w.Log(step, "train/loss", float64(step))
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// check says what the run has: its checkpoint's data ("" for none) and
	// its train/loss steps.
	check := func(when, ckpt string, steps ...int) {
		t.Helper()
		data, err := s.Artifact(ctx, id, "checkpoint", "checkpoint.safetensors")
		if errors.Is(err, ErrNotFound) {
			data, err = nil, nil
		}
		if err != nil || string(data) != ckpt {
			t.Fatalf("%s: checkpoint %q, %v; want %q", when, data, err, ckpt)
		}
		hist, err := s.MetricHistory(ctx, []int64{id}, "train/loss")
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, p := range hist[id] {
			got = append(got, p.Step)
		}
		if !slices.Equal(got, steps) {
			t.Fatalf("%s: train/loss steps %v, want %v", when, got, steps)
		}
	}
	refused := func(o Owner, run int64, want error, msg string) {
		t.Helper()
		if _, err := s.DeleteOwnedArtifacts(ctx, run, o, "checkpoint"); !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("DeleteOwnedArtifacts by %s: %v, want %v (%s)", o, err, want, msg)
		}
		if err := s.TruncateOwnedMetrics(ctx, run, o, -1); !errors.Is(err, want) || !strings.Contains(err.Error(), msg) {
			t.Fatalf("TruncateOwnedMetrics by %s: %v, want %v (%s)", o, err, want, msg)
		}
	}
	refused(a, id, ErrNotOwner, "run is queued")
	claimAs(a)(t, s, id)
	put(a, "a1", 1, 2, 3, 4)
	if err := s.TruncateOwnedMetrics(ctx, id, a, 2); err != nil {
		t.Fatal(err)
	}
	check("after the owner's truncation", "a1", 1, 2)
	if n, err := s.DeleteOwnedArtifacts(ctx, id, a, "checkpoint"); err != nil || n != 1 {
		t.Fatalf("DeleteOwnedArtifacts by the owner = %d, %v; want 1", n, err)
	}
	check("after the owner's deletion", "", 1, 2)
	put(a, "a2", 3)
	refused(b, id, ErrNotOwner, "held by h:11")
	check("after another owner's deletes", "a2", 1, 2, 3)
	// a's pid is gone: b takes the run over, resumes, and writes; a, still
	// going, deletes nothing.
	s.alive = func(pid int) bool { return pid != a.PID }
	claimAs(b)(t, s, id)
	if err := s.TruncateOwnedMetrics(ctx, id, b, 2); err != nil {
		t.Fatal(err)
	}
	put(b, "b1", 3, 4)
	refused(a, id, ErrNotOwner, "held by h:12")
	check("after the lost owner's deletes", "b1", 1, 2, 3, 4)
	if err := s.Finish(ctx, id, b, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	refused(b, id, ErrNotOwner, "run is done")
	check("after deletes of a done run", "b1", 1, 2, 3, 4)
	refused(a, 9999, ErrNotFound, "not found")
	if _, err := s.DeleteOwnedArtifacts(ctx, other, a, "checkpoint"); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("DeleteOwnedArtifacts of another run: %v, want ErrNotOwner", err)
	}
}

// testOwnedWritesRaceClaim: the owner check of DeleteOwnedArtifacts,
// TruncateOwnedMetrics and an owned MetricWriter's flush of many rows (a
// transaction of several statements) holds until their write commits. A
// worker elsewhere that takes the run over between the check and the
// write, and writes its checkpoint and a metric row at once, keeps them:
// on PostgreSQL the held row makes its claim skip the run, on SQLite the
// claim waits for the write lock and comes after.
func testOwnedWritesRaceClaim(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	other := otherProcess(t, s)
	a, b := Owner{Host: "h", PID: 11}, Owner{Host: "elsewhere", PID: 12}
	for _, tc := range []struct {
		name  string
		write func(id int64) error
	}{
		{"DeleteOwnedArtifacts", func(id int64) error {
			_, err := s.DeleteOwnedArtifacts(ctx, id, a, "checkpoint")
			return err
		}},
		{"TruncateOwnedMetrics", func(id int64) error { return s.TruncateOwnedMetrics(ctx, id, a, -1) }},
		{"MetricWriter", func(id int64) error {
			w := s.NewOwnedMetricWriter(id, a, 1000)
			for step := range 3 * rowsPerInsert {
				w.Log(step, "train/loss", -1)
			}
			return w.Flush(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := addExperiment(t, s, "race-"+strings.ToLower(tc.name), 1)[0].ID
			claimAs(a)(t, s, id)
			taken := make(chan error, 1)
			held := false
			s.ownerHeld = func() {
				held = true
				go func() {
					time.Sleep(time.Millisecond) // a's heartbeat is older than b's bound
					res, err := other.Claim(ctx, id, b, time.Nanosecond)
					if err != nil || !res.Claimed { // PostgreSQL: the claim skips the held run
						taken <- err
						return
					}
					if err := other.PutOwnedArtifact(ctx, id, b, "checkpoint", "checkpoint.safetensors", []byte("b")); err != nil {
						taken <- err
						return
					}
					w := other.NewOwnedMetricWriter(id, b, 0)
					w.Log(1, "train/loss", 1)
					taken <- w.Flush(ctx)
				}()
				// Give the claim and b's writes time to commit, as they
				// would between the check and the write when nothing holds
				// them back.
				time.Sleep(300 * time.Millisecond)
			}
			defer func() { s.ownerHeld = nil }()
			werr := tc.write(id)
			if !held {
				t.Fatalf("%s did not check the owner first (%v)", tc.name, werr)
			}
			if err := <-taken; err != nil {
				t.Fatalf("b's claim and writes: %v", err)
			}
			if werr != nil {
				t.Fatalf("%s by the owner: %v", tc.name, werr)
			}
			r, err := s.RunByID(ctx, id)
			if err != nil || r.Status != StatusRunning || r.Host != b.Host {
				return // PostgreSQL: b's claim skipped the held run
			}
			if _, err := s.Artifact(ctx, id, "checkpoint", "checkpoint.safetensors"); err != nil {
				t.Errorf("b's checkpoint, written after it took the run over: %v", err)
			}
			h, err := s.MetricHistory(ctx, []int64{id}, "train/loss")
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(h[id], func(p MetricPoint) bool { return p.Step == 1 }); i < 0 || h[id][i].Value != 1 {
				t.Errorf("b's metric row, written after it took the run over, is gone or replaced: %v", h[id])
			}
		})
	}
}

// testOwnedMetricWriter: an owned MetricWriter stores its rows only while
// the run is running under its owner, whether a flush is one INSERT or a
// transaction of several; a writer whose run another owner took over
// stores none of its rows and keeps them pending, and the new owner's rows
// stay as it wrote them.
func testOwnedMetricWriter(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	id := runs[0].ID
	a, b := Owner{Host: "h", PID: 11}, Owner{Host: "h", PID: 12}
	// write logs rows for steps [from, to) with value v, as o, and flushes.
	write := func(o Owner, run int64, from, to int, v float64) (pending int, err error) {
		w := s.NewOwnedMetricWriter(run, o, 1000)
		for step := from; step < to; step++ {
			w.Log(step, "train/loss", v)
			w.Log(step, "train/lr", v)
		}
		err = w.Flush(ctx)
		return w.Pending(), err
	}
	// history returns the run's train/loss values by step.
	history := func() map[int]float64 {
		t.Helper()
		h, err := s.MetricHistory(ctx, []int64{id}, "train/loss")
		if err != nil {
			t.Fatal(err)
		}
		m := map[int]float64{}
		for _, p := range h[id] {
			m[p.Step] = p.Value
		}
		return m
	}
	check := func(when string, want map[int]float64) {
		t.Helper()
		got := history()
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows, want %d", when, len(got), len(want))
		}
		for step, v := range want {
			if g, ok := got[step]; !ok || !same(g, v) {
				t.Fatalf("%s: step %d = %v (%v), want %v", when, step, g, ok, v)
			}
		}
	}
	want := map[int]float64{}
	for _, rows := range []int{4, 2 * rowsPerInsert} { // one INSERT, then a transaction of several
		refused := func(o Owner, run int64, werr error, msg string) {
			t.Helper()
			n, err := write(o, run, 0, rows/2, 7)
			if !errors.Is(err, werr) || !strings.Contains(err.Error(), msg) {
				t.Fatalf("%d rows by %s: %v, want %v (%s)", rows, o, err, werr, msg)
			}
			if n != rows {
				t.Fatalf("%d rows by %s refused: %d pending, want all", rows, o, n)
			}
		}
		id = runs[0].ID
		if rows > 4 {
			id = runs[1].ID
		}
		clear(want)
		refused(a, id, ErrNotOwner, "run is queued")
		check("after a write to a queued run", want)
		claimAs(a)(t, s, id)
		if n, err := write(a, id, 0, rows/2, math.NaN()); err != nil || n != 0 {
			t.Fatalf("%d rows by the owner: %v, %d pending", rows, err, n)
		}
		for step := range rows / 2 {
			want[step] = math.NaN()
		}
		check("after the owner's write", want)
		refused(b, id, ErrNotOwner, "held by h:11")
		// a's pid is gone: b takes the run over and writes; a, still
		// going, writes nothing.
		s.alive = func(pid int) bool { return pid != a.PID }
		claimAs(b)(t, s, id)
		s.alive = nil
		if _, err := write(b, id, 1, 2, 2); err != nil {
			t.Fatal(err)
		}
		want[1] = 2
		refused(a, id, ErrNotOwner, "held by h:12")
		check("after the lost owner's write", want)
		if err := s.Finish(ctx, id, b, StatusDone, ""); err != nil {
			t.Fatal(err)
		}
		refused(b, id, ErrNotOwner, "run is done")
		check("after a write to a done run", want)
	}
	if _, err := write(a, 9999, 0, 1, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("write to a missing run: %v, want ErrNotFound", err)
	}
}

// testEachMetricPointHoldsNoRead: EachMetricPoint reads in pages and calls
// fn with no rows open on the database (no connection in use), so a
// caller blocked in fn (export --curves into a paused pipe) holds back
// neither SQLite's checkpoint nor PostgreSQL's vacuum; across pages the
// points still come whole and in step order.
func testEachMetricPointHoldsNoRead(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	id := addExperiment(t, s, "e", 1)[0].ID
	w := s.NewMetricWriter(id, 0)
	for step := 7; step >= 1; step-- {
		if err := w.Log(step, "valid/loss", float64(step)/10); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 2, 3, 7, 8, metricPage} {
		var steps []int
		err := s.eachMetricPoint(ctx, id, "valid/loss", size, nil, func(p MetricPoint) error {
			if n := s.db.Stats().InUse; n != 0 {
				t.Errorf("page size %d: %d connections in use while fn runs at step %d, want none", size, n, p.Step)
			}
			if !same(p.Value, float64(p.Step)/10) {
				t.Errorf("page size %d: step %d value %v", size, p.Step, p.Value)
			}
			steps = append(steps, p.Step)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(steps, []int{1, 2, 3, 4, 5, 6, 7}) {
			t.Errorf("page size %d: steps %v, want 1…7", size, steps)
		}
	}
}

// TestEachMetricPointLetsCheckpoint: on SQLite, while EachMetricPoint's fn
// runs (blocked writing export --curves into a paused pipe), another
// process's writes and a WAL checkpoint go through: the checkpoint is not
// busy, so the WAL does not grow without bound under the workers' writes.
func TestEachMetricPointLetsCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lab.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := addExperiment(t, s, "e", 1)[0].ID
	w := s.NewMetricWriter(id, 0)
	for step := 1; step <= 5; step++ {
		if err := w.Log(step, "valid/loss", float64(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	calls := 0
	err = s.eachMetricPoint(ctx, id, "valid/loss", 2, nil, func(p MetricPoint) error {
		calls++
		if _, err := other.ExecContext(ctx, `INSERT INTO metrics (run_id, key, step, value, wall) VALUES (?, 'train/loss', ?, 1, 0)`, id, p.Step); err != nil {
			return err
		}
		var busy, logFrames, done int
		if err := other.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return err
		}
		if busy != 0 {
			t.Errorf("step %d: wal_checkpoint(TRUNCATE) busy = %d while fn runs, want 0", p.Step, busy)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 5 {
		t.Errorf("fn called %d times, want 5", calls)
	}
}

// testEachRunMetricPoint: EachRunMetricPoint gives every metric of one run
// (not another run's), by key in byte order (upper case before lower, as
// MetricKeys sorts them and both engines' key columns compare) then step,
// in pages that cross keys, with no connection in use while fn runs, and
// one query per page — not one per metric; fn's error stops it and comes
// back as is.
func testEachRunMetricPoint(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 3)
	a, b, none := runs[0].ID, runs[1].ID, runs[2].ID
	type kp struct {
		key  string
		step int
		v    float64
	}
	var want []kp
	for _, id := range []int64{b, a} {
		w := s.NewMetricWriter(id, 0)
		for _, key := range []string{"valid/loss", "a/lower", "Z/upper", "train/loss"} {
			for step := 4; step >= 1; step-- {
				if key == "a/lower" && step > 2 {
					continue
				}
				v := float64(id)*1000 + float64(len(key)) + float64(step)/10
				if key == "Z/upper" && step == 3 {
					v = math.NaN()
				}
				if err := w.Log(step*5, key, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"Z/upper", "a/lower", "train/loss", "valid/loss"} {
		for step := 1; step <= 4; step++ {
			if key == "a/lower" && step > 2 {
				continue
			}
			v := float64(a)*1000 + float64(len(key)) + float64(step)/10
			if key == "Z/upper" && step == 3 {
				v = math.NaN()
			}
			want = append(want, kp{key, step * 5, v})
		}
	}
	queries := countQueries(s)
	for _, size := range []int{1, 2, 3, 4, 7, 13, 14, 15, metricPage} {
		var got []kp
		queries.Store(0)
		err := s.eachRunMetricPoint(ctx, a, size, nil, func(p KeyPoint) error {
			if n := s.db.Stats().InUse; n != 0 {
				t.Errorf("page size %d: %d connections in use while fn runs at %s step %d, want none", size, n, p.Key, p.Step)
			}
			if p.Wall.IsZero() {
				t.Errorf("page size %d: %s step %d has no wall time", size, p.Key, p.Step)
			}
			got = append(got, kp{p.Key, p.Step, p.Value})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, func(x, y kp) bool { return x.key == y.key && x.step == y.step && same(x.v, y.v) }) {
			t.Errorf("page size %d: points\n%v\nwant\n%v", size, got, want)
		}
		if n, pages := queries.Load(), int64(len(want)/size+1); n != pages {
			t.Errorf("page size %d: %d queries for %d points, want %d (one per page)", size, n, len(want), pages)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.EachRunMetricPoint(ctx, a, func(KeyPoint) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("fn's error: EachRunMetricPoint = %v after %d calls, want it as is after 1", err, calls)
	}
	if err := s.EachRunMetricPoint(ctx, none, func(p KeyPoint) error { t.Errorf("called for %v of a run that logged nothing", p); return nil }); err != nil {
		t.Error(err)
	}
}

// testVanished: Vanished names the runs removed since they were read, in
// their order, and a run whose id now names a new run of the same
// experiment and hash (SQLite gives a deleted highest id to the next run):
// its creation time tells it apart.
func testVanished(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 3)
	ids := func(rs []Run) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	if gone, err := s.Vanished(ctx, runs); err != nil || len(gone) != 0 {
		t.Fatalf("Vanished(runs just read) = %v, %v; want none", ids(gone), err)
	}
	if _, err := s.RemoveRuns(ctx, []int64{runs[2].ID}, false); err != nil {
		t.Fatal(err)
	}
	again := addExperiment(t, s, "e", 3) // the removed run again: same hash, new row
	if again[2].Hash != runs[2].Hash {
		t.Fatalf("re-added run has hash %s, want %s", again[2].Hash, runs[2].Hash)
	}
	if again[2].ID == runs[2].ID {
		t.Logf("the re-added run took the removed run's id %d", runs[2].ID)
	}
	if gone, err := s.Vanished(ctx, runs); err != nil || !slices.Equal(ids(gone), []int64{runs[2].ID}) {
		t.Errorf("Vanished after run %d was removed and added again = %v, %v; want it alone", runs[2].ID, ids(gone), err)
	}
	if _, err := s.RemoveRuns(ctx, []int64{runs[0].ID}, false); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.Vanished(ctx, runs); err != nil || !slices.Equal(ids(gone), []int64{runs[0].ID, runs[2].ID}) {
		t.Errorf("Vanished = %v, %v; want runs %d and %d", ids(gone), err, runs[0].ID, runs[2].ID)
	}
	if gone, err := s.Vanished(ctx, nil); err != nil || len(gone) != 0 {
		t.Errorf("Vanished(no runs) = %v, %v", gone, err)
	}
}

// testVanishedNewAttempt: a run claimed again since it was read (a failed
// run requeued and started afresh, which truncates its history) keeps its
// id, hash and creation time; its attempt tells it apart, and Vanished
// names it. A claim given back untrained (attempt back as it was, nothing
// truncated) is no change.
func testVanishedNewAttempt(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	owner := Owner{Host: "vanished-test", PID: 4242}
	if _, err := s.Claim(ctx, runs[0].ID, owner, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(ctx, runs[0].ID, owner, Ending{Status: StatusInterrupted, Untrained: true}); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.Vanished(ctx, runs); err != nil || len(gone) != 0 {
		t.Fatalf("Vanished after a claim given back untrained = %v, %v; want none", gone, err)
	}
	if res, err := s.Claim(ctx, runs[1].ID, owner, 0); err != nil || !res.Claimed {
		t.Fatalf("claim: %+v, %v", res, err)
	}
	if err := s.TruncateOwnedMetrics(ctx, runs[1].ID, owner, -1); err != nil {
		t.Fatal(err)
	}
	gone, err := s.Vanished(ctx, runs)
	if err != nil || len(gone) != 1 || gone[0].ID != runs[1].ID {
		t.Errorf("Vanished after run %d was claimed again = %v, %v; want it alone", runs[1].ID, gone, err)
	}
}

// testEachMetricPointThen: the Then readers call read once, right after
// the last page is read and before fn sees any of its points — after fn
// saw every point of the earlier pages — also when the last page is empty
// (the history a whole number of pages) and when the history is; an
// error from read is returned as is and fn sees no point of the last
// page.
func testEachMetricPointThen(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	runs := addExperiment(t, s, "e", 2)
	id, none := runs[0].ID, runs[1].ID
	w := s.NewMetricWriter(id, 0)
	for step := range 6 {
		if err := w.Log(step, "valid/loss", float64(step)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	type reader func(run int64, size int, read func() error, fn func(step int) error) error
	for _, rd := range []struct {
		name string
		each reader
	}{
		{"eachMetricPoint", func(run int64, size int, read func() error, fn func(int) error) error {
			return s.eachMetricPoint(ctx, run, "valid/loss", size, read, func(p MetricPoint) error { return fn(p.Step) })
		}},
		{"eachRunMetricPoint", func(run int64, size int, read func() error, fn func(int) error) error {
			return s.eachRunMetricPoint(ctx, run, size, read, func(p KeyPoint) error { return fn(p.Step) })
		}},
	} {
		for _, tc := range []struct {
			run        int64
			size       int
			seenAtRead int // points fn had seen when read was called
		}{
			{id, 4, 4},    // pages 4, 2
			{id, 3, 6},    // pages 3, 3, 0
			{id, 6, 6},    // pages 6, 0
			{id, 7, 0},    // one page of 6
			{id, 1, 6},    // pages of 1, then 0
			{none, 10, 0}, // no point
		} {
			seen, reads, atRead := 0, 0, -1
			err := rd.each(tc.run, tc.size, func() error {
				reads++
				atRead = seen
				return nil
			}, func(int) error { seen++; return nil })
			want := 6
			if tc.run == none {
				want = 0
			}
			if err != nil || reads != 1 || atRead != tc.seenAtRead || seen != want {
				t.Errorf("%s run %d pages of %d: read called %d times, after %d points (want once, after %d), %d points in all (want %d), err %v",
					rd.name, tc.run, tc.size, reads, atRead, tc.seenAtRead, seen, want, err)
			}
		}
		stop := errors.New("stop")
		seen := 0
		if err := rd.each(id, 4, func() error { return stop }, func(int) error { seen++; return nil }); err != stop || seen != 4 {
			t.Errorf("%s: read's error: %v after %d points, want it as is after the first page's 4", rd.name, err, seen)
		}
	}
	// The exported readers read in pages of metricPage.
	reads := 0
	if err := s.EachMetricPointThen(ctx, id, "valid/loss", func() error { reads++; return nil }, func(MetricPoint) error { return nil }); err != nil || reads != 1 {
		t.Errorf("EachMetricPointThen: read called %d times, %v", reads, err)
	}
	if err := s.EachRunMetricPointThen(ctx, id, func() error { reads++; return nil }, func(KeyPoint) error { return nil }); err != nil || reads != 2 {
		t.Errorf("EachRunMetricPointThen: read called %d times in all, want 2, %v", reads, err)
	}
}
