package runs

import (
	"path/filepath"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/layers"
)

// TestMemoryEstimateCountsTheModel: experiments.EstimateMemory counts the
// parameters of each example's models, from the configuration alone,
// within a factor of two of the models runs builds (the estimate is what
// plan refuses a run by, --max-memory).
func TestMemoryEstimateCountsTheModel(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		x, err := experiments.Load(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := x.Plan()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, run := range plan {
			if seen[run.Label] {
				continue
			}
			seen[run.Label] = true
			r, err := build(run.Config, newMemRecorder(), Options{})
			if err != nil {
				t.Fatalf("%s %s: %v", f, run.Label, err)
			}
			real := layers.CountParams(r.params)
			est := experiments.EstimateMemory(run.Config).Params
			ratio := float64(est) / float64(real)
			t.Logf("%s %s: %d parameters, estimated %d (×%.2f)", filepath.Base(f), run.Label, real, est, ratio)
			if ratio < 0.5 || ratio > 2 {
				t.Errorf("%s %s: estimated %d parameters, the model has %d", f, run.Label, est, real)
			}
		}
	}
}
