package web

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/attnlab/attnlab/store"
)

// TestRunPageSummaryFormat: a run page writes a summary as attnlab show
// does (report.FormatMetric): an exact match of 0 in one length bucket
// reads 0.0000 beside 0.0370 in the next, a count of 27 examples reads 27.
func TestRunPageSummaryFormat(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "runs.db"))
	_, list, err := st.Submit(ctx, store.ExperimentSpec{Name: "buckets", YAML: "name: buckets\n"}, []store.RunSpec{{Hash: "b0c000000001", Seed: 1, Config: "{}"}})
	if err != nil {
		t.Fatal(err)
	}
	id := list[0].ID
	claim(t, st, id)
	if err := st.PutSummaries(ctx, id, map[string]float64{
		"test/exact_match/len_1_10": 0.037, "test/exact_match/len_11_20": 0, "test/exact_match/len_21_40": 1, "test/examples/len_1_10": 27,
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, id, fixOwner, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	path := "/r/" + strconv.FormatInt(id, 10)
	r := get(t, newServer(t, st, Options{ReadOnly: true}), path)
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.status, shortBody(r.body))
	}
	mustContain(t, path, r.body, `data-value="0.037">0.0370<`, `data-value="0">0.0000<`, `data-value="1">1.0000<`, `data-value="27">27<`)
}
