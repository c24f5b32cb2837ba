package runs

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/attnlab/attnlab/artifact"
	"github.com/attnlab/attnlab/seq"
)

// TestLMDecodesWithinItsTrainingContext: a stored language model trained
// at context n continues a prompt with a window of the n most recent
// tokens, the inputs it was trained on, also when its stored spec predates
// the record of the context. Its position table is sized for evaluation's
// decoding limit (context + 1 + slack), so a window of that size reached
// positions training never updated (learned positions: their random
// initial values) and the continuation turned to noise once it passed n
// tokens.
func TestLMDecodesWithinItsTrainingContext(t *testing.T) {
	t.Parallel()
	const ctxLen = 4
	ctx := context.Background()
	x := loadExperiment(t, "testdata/lm_text.yaml", "task.context=4", "train.steps=2", "train.eval_every=0", "eval.samples=0")
	st := openStore(t, filepath.Join(t.TempDir(), "w.db"))
	rep, err := Execute(ctx, st, x, ExecOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := rep.Outcomes[0].Run.ID
	check := func(t *testing.T) {
		tr, err := Load(ctx, st, id)
		if err != nil {
			t.Fatal(err)
		}
		toks := tr.Spec.EncodeInput("abcabcabcabc")
		if len(toks) != 12 {
			t.Fatalf("prompt has %d tokens, want 12", len(toks))
		}
		// Feed the tokens one by one; after each, the next-token
		// distribution must be that of a fresh start on the last ctxLen
		// tokens.
		first := []int{toks[0]}
		s := tr.Model.Start(&seq.Batch{Size: 1, T: 1, In: first, TgtLen: []int{1}})
		s.Step(first)
		for i := 1; i < len(toks); i++ {
			lp, _ := s.Step([]int{toks[i]})
			window := append([]int(nil), toks[max(0, i+1-ctxLen):i+1]...)
			fresh := tr.Model.Start(&seq.Batch{Size: 1, T: len(window), In: window, TgtLen: []int{len(window)}})
			want, _ := fresh.Step(window[len(window)-1:])
			if d := largestDiff(lp.Data, want.Data); d > 1e-4 {
				t.Fatalf("after %d tokens the distribution differs by %.3g from that of the last %d tokens alone: the decoding window is not the training context", i+1, d, ctxLen)
			}
		}
	}
	t.Run("stored", check)

	// A run stored before the spec recorded the context.
	raw, err := st.Artifact(ctx, id, artifact.KindModel, artifact.NameModelSpec)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatal(err)
	}
	spec := info["spec"].(map[string]any)
	if _, ok := spec["Context"]; !ok {
		t.Fatalf("the stored spec has no Context: %s", raw)
	}
	delete(spec, "Context")
	old, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutArtifact(ctx, id, artifact.KindModel, artifact.NameModelSpec, old); err != nil {
		t.Fatal(err)
	}
	t.Run("older", check)
}

func largestDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		worst = max(worst, math.Abs(float64(a[i])-float64(b[i])))
	}
	return worst
}
