package store

import (
	"context"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyToTemp copies src to a new file in a temporary directory and returns
// its path: a test never opens a testdata database in place (Open would
// migrate it).
func copyToTemp(tb testing.TB, src string) string {
	tb.Helper()
	in, err := os.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(tb.TempDir(), filepath.Base(src))
	out, err := os.Create(dst)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// rawSummaries reads every summary of a database file with plain SQL, as
// it is on disk (no migration).
func rawSummaries(tb testing.TB, path string) map[int64]map[string]float64 {
	tb.Helper()
	db := rawDB(tb, path)
	defer db.Close()
	rows, err := db.Query(`SELECT run_id, key, coalesce(value, 'NaN') FROM summaries`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]map[string]float64{}
	for rows.Next() {
		var id int64
		var key string
		var v float64
		if err := rows.Scan(&id, &key, &v); err != nil {
			tb.Fatal(err)
		}
		if out[id] == nil {
			out[id] = map[string]float64{}
		}
		out[id][key] = v
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// TestMigrateBLEULegacy opens testdata/schema2/bleu01.db, a database that
// attnlab made before BLEU moved to sacreBLEU (schema version 2, main at
// a9412be, from testdata/schema2/tiny.yaml: two runs of a reversal task,
// test/bleu 0.28 and 0.93). Opening it must rename every BLEU to
// KEY_legacy ×100 and leave every other summary as it was, so that a
// comparison of old and new runs never puts the two BLEUs in one column or
// on two scales.
func TestMigrateBLEULegacy(t *testing.T) {
	path := copyToTemp(t, "testdata/schema2/bleu01.db")
	before := rawSummaries(t, path)
	if len(before) != 2 || before[1]["test/bleu"] <= 0 || before[2]["test/bleu"] > 1 || before[2]["test/bleu"] < 0.5 {
		t.Fatalf("testdata database: summaries %v, want two runs with a test/bleu in (0, 1]", before)
	}
	// The old code wrote BLEU only as a summary; a metric row covers the
	// metrics table (and best/ keys the summaries' prefix rule).
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO metrics (run_id, key, step, value, wall) VALUES (1, 'valid/bleu', 200, 0.5, 1.7e9), (1, 'valid/bleu', 400, NULL, 1.7e9);
		INSERT INTO summaries (run_id, key, value) VALUES (2, 'best/valid/bleu', 0.75)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before[2]["best/valid/bleu"] = 0.75

	s, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sums, err := s.Summaries(ctx, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for id, old := range before {
		want := map[string]float64{}
		for k, v := range old {
			if strings.HasSuffix(k, "/bleu") {
				want[k+"_legacy"] = v * 100
			} else {
				want[k] = v
			}
		}
		if !maps.EqualFunc(sums[id], want, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
			t.Errorf("run %d summaries after migration:\n got %v\nwant %v", id, sums[id], want)
		}
	}
	hist, err := s.MetricHistory(ctx, []int64{1}, "valid/bleu_legacy")
	if err != nil || len(hist[1]) != 2 || hist[1][0].Value != 50 || !math.IsNaN(hist[1][1].Value) {
		t.Fatalf("valid/bleu_legacy history = %v, %v; want [50 NaN]", hist, err)
	}
	keys, err := s.MetricKeys(ctx, []int64{1, 2})
	if err != nil || slices.Contains(keys, "valid/bleu") {
		t.Fatalf("metric keys after migration = %v, %v; want no valid/bleu", keys, err)
	}
	// A filter on the new BLEU matches no old run, however good its old BLEU.
	cond, err := ParseWhere("test/bleu > 0.5")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, RunFilter{Where: cond})
	if err != nil || len(runs) != 0 {
		t.Fatalf("runs with test/bleu > 0.5 after migration = %d, %v; want none", len(runs), err)
	}
	cond, _ = ParseWhere("test/bleu_legacy > 50")
	if runs, err = s.Runs(ctx, RunFilter{Where: cond}); err != nil || len(runs) != 1 || runs[0].ID != 2 {
		t.Fatalf("runs with test/bleu_legacy > 50 = %v, %v; want run 2", runs, err)
	}
}
