package runs

import (
	"context"
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/tensor"
)

// TestTrainingKeepsThePoolSteady: with every attention variant, a run of
// 300 steps leaves the tensor pool's free lists as a run of 100 does. An
// op whose result data was made outside the pool gave the pool one more
// buffer at every step: the no-attention baseline's context held 2 GB
// after 30 000 steps (the QA pass's; plan estimated 18 MiB), local and
// performer attention likewise. Not parallel: the pool is the process's.
func TestTrainingKeepsThePoolSteady(t *testing.T) {
	if raceBuild {
		t.Skip("a check of the pool's bookkeeping, not of races: the pass without -race runs it (-race would take minutes)")
	}
	train := func(name, steps string) int64 {
		cfg := loadConfig(t, "testdata/reverse_small.yaml", "model.attention={name: "+name+"}", "train.steps="+steps,
			"train.eval_every=0", "train.log_every=1000", "eval.valid_exact_match=false", "task.test_size=20")
		if _, err := Train(context.Background(), cfg, newMemRecorder(), Options{}); err != nil {
			t.Fatal(err)
		}
		return tensor.FreeBytes()
	}
	for _, name := range attention.Registry.Names() {
		train(name, "200") // the lists fill to a step's needs
		short := train(name, "100")
		long := train(name, "300")
		if grew := long - short; grew > 1<<20 {
			t.Errorf("attention %s: the pool's free lists grew by %d KiB over 200 more steps (%d KiB after 100 steps, %d after 300)",
				name, grew>>10, short>>10, long>>10)
		}
	}
}
