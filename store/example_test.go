package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/attnlab/attnlab/store"
)

// Example shows the executor's side (create runs, claim, record, finish)
// and the report's side (filter, read summaries).
func Example() {
	dir, err := os.MkdirTemp("", "attnlab-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := store.Open(filepath.Join(dir, "runs.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	expID, err := s.PutExperiment(ctx, "attention-on-scan", "which attention helps SCAN", "name: attention-on-scan\n")
	if err != nil {
		log.Fatal(err)
	}
	runs, err := s.EnsureRuns(ctx, expID, []store.RunSpec{
		{Hash: "3f9a0c11", Seed: 1, Config: `{"seed": 1, "model": {"attention": {"name": "dot"}}}`, Point: `{"model.attention.name": "dot"}`},
		{Hash: "77b2e4d0", Seed: 1, Config: `{"seed": 1, "model": {"attention": {"name": "additive"}}}`, Point: `{"model.attention.name": "additive"}`},
	})
	if err != nil {
		log.Fatal(err)
	}

	owner := store.CurrentOwner("v0.1.0")
	for i, r := range runs {
		res, err := s.Claim(ctx, r.ID, owner, 5*time.Minute)
		if err != nil {
			log.Fatal(err)
		}
		if !res.Claimed {
			continue
		}
		w := s.NewMetricWriter(r.ID, 0)
		for step := range 3 {
			w.Log(step, "train/loss", 2.0/float64(step+1))
		}
		if err := w.Flush(ctx); err != nil {
			log.Fatal(err)
		}
		if err := s.PutSummaries(ctx, r.ID, map[string]float64{"test/exact_match": 0.8 + 0.15*float64(i)}); err != nil {
			log.Fatal(err)
		}
		if err := s.Finish(ctx, r.ID, owner, store.StatusDone, ""); err != nil {
			log.Fatal(err)
		}
	}

	where, err := store.ParseWhere(`model.attention.name in (dot, additive) and test/exact_match > 0.9`)
	if err != nil {
		log.Fatal(err)
	}
	good, err := s.Runs(ctx, store.RunFilter{Experiments: []string{"attention-on-scan"}, Where: where})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range good {
		sums, _ := s.Summaries(ctx, []int64{r.ID})
		fmt.Printf("run %d %s %s exact_match=%.2f\n", r.ID, r.Hash, r.Status, sums[r.ID]["test/exact_match"])
	}
	r, err := s.ResolveRun(ctx, "3f9a")
	fmt.Println(r.ID, r.Attempt, err)

	_, err = store.ParseWhere(`task.name in (scan, )`)
	fmt.Println(err)
	// Output:
	// run 2 77b2e4d0 done exact_match=0.95
	// 1 1 <nil>
	// where: col 21: expected a value, got ')'
}
