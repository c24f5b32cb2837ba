package report_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/attnlab/attnlab/report"
	"github.com/attnlab/attnlab/store"
)

// ExampleCompare compares two attention variants over two seeds, against
// the variant without attention.
func ExampleCompare() {
	dir, err := os.MkdirTemp("", "attnlab-report-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := store.Open(filepath.Join(dir, "runs.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	// What the executor records: runs with params, then their summaries.
	expID, err := st.PutExperiment(ctx, "demo", "", "name: demo\n")
	if err != nil {
		log.Fatal(err)
	}
	exact := map[string][]float64{"none": {0.12, 0.10}, "additive": {0.91, 0.95}}
	var specs []store.RunSpec
	for seed := 1; seed <= 2; seed++ {
		for _, attn := range []string{"none", "additive"} {
			specs = append(specs, store.RunSpec{
				Hash: fmt.Sprintf("%s-%d", attn, seed), Seed: int64(seed), Config: "{}",
				Params: []store.Param{{Key: "seed", Value: seed}, {Key: "model.attention.name", Value: attn}},
			})
		}
	}
	runs, err := st.EnsureRuns(ctx, expID, specs)
	if err != nil {
		log.Fatal(err)
	}
	owner := store.Owner{Host: "example", PID: os.Getpid()}
	for i, r := range runs {
		attn, seed := []string{"none", "additive"}[i%2], i/2
		if _, err := st.Claim(ctx, r.ID, owner, 0); err != nil {
			log.Fatal(err)
		}
		if err := st.PutSummaries(ctx, r.ID, map[string]float64{"test/exact_match": exact[attn][seed]}); err != nil {
			log.Fatal(err)
		}
		if err := st.Finish(ctx, r.ID, owner, store.StatusDone, ""); err != nil {
			log.Fatal(err)
		}
	}

	c, err := report.Compare(ctx, st, report.Query{Experiments: []string{"demo"}, Baseline: "attention.name=none"})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.Write(os.Stdout, "table"); err != nil {
		log.Fatal(err)
	}
	// Output:
	//                              test/
	// attention.name   n     exact_match
	// ───────────────  ─  ──────────────
	// none (baseline)  2  0.110 ± 0.014
	// additive         2  0.930 ± 0.028*
	//
	// Against attention.name=none: difference of means [95 % CI, unadjusted], p (Holm)
	//                                 test/
	// attention.name            exact_match
	// ──────────────  ─────────────────────
	// additive        +0.820 [0.439, 1.201]
	//                               p=0.023
	//
	// mean ± std over each row's n runs; * best (higher is better for test/exact_match).
	// Against the baseline attention.name=none: Δ = row mean − baseline mean with its 95 % confidence
	// interval (n − 1 df); p = the two-sided paired t-test over seeds (runs with the same seed train and
	// test on the same data), Holm–Bonferroni-adjusted over the 1 row compared in each column; the
	// intervals are each comparison's own, not adjusted; — where a side has fewer than 2 seeds with a
	// value, or an infinite value.
}
