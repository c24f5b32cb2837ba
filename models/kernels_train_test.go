package models

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/optim"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// patternBatch returns a language-modelling batch of 8 sequences of length
// t whose tokens follow a noisy pattern, so that the loss falls; some
// sequences are shorter (padding).
func patternBatch(rng *tensor.RNG, t, vocab int) *seq.Batch {
	const size = 8
	b := &seq.Batch{Size: size, T: t, In: make([]int, size*t), Out: make([]int, size*t), TgtLen: make([]int, size)}
	for i := 0; i < size; i++ {
		n := t - rng.IntN(t/3)
		b.TgtLen[i] = n
		x := 3 + rng.IntN(vocab-3)
		b.In[i*t] = seq.BOSID
		for j := 0; j < n; j++ {
			if rng.Float64() < 0.8 {
				x = 3 + (x-3+j%5+1)%(vocab-3)
			} else {
				x = 3 + rng.IntN(vocab-3)
			}
			b.Out[i*t+j] = x
			if j+1 < n {
				b.In[i*t+j+1] = x
			}
		}
	}
	return b
}

// TestChunkedTrainsAsScaledDot: a Transformer language model trained 200
// steps with chunked per-head attention gives the losses of the same model
// with scaled-dot per-head attention within 1e-4 at every step, with the
// default positions and with ALiBi. The flash kernel computes the same
// attention in tiles (blocks of 16 over sequences of 40: several tiles per
// row, the causal ones skipped), so only float32 rounding differs.
func TestChunkedTrainsAsScaledDot(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("trains two models for 200 steps")
	}
	const steps, length, vocab = 200, 40, 17
	for _, positions := range []string{"learned", "alibi"} {
		t.Run(positions, func(t *testing.T) {
			train := func(head map[string]any) []float64 {
				spec := Spec{TgtVocab: vocab, MaxLen: length, Attention: registry.Plugin{Name: "multi-head", Params: map[string]any{"heads": 4, "head": head}}}
				m, err := New("lm-transformer", map[string]any{"d_model": 32, "ff": 64, "decoder_layers": 2, "positions": positions}, spec)
				if err != nil {
					t.Fatal(err)
				}
				m.Init(tensor.NewRNG(1))
				opt := optim.NewAdam(m.Params(), optim.AdamParams{LR: 3e-3, Betas: []float64{0.9, 0.999}, Eps: 1e-8}, false)
				rng := tensor.NewRNG(2)
				var losses []float64
				for range steps {
					b := patternBatch(rng, length, vocab)
					for _, p := range m.Params() {
						p.ZeroGrad()
					}
					loss := lossOf(m, b, ForwardOptions{Training: true})
					loss.Backward()
					opt.Step(3e-3)
					losses = append(losses, float64(loss.Data[0]))
				}
				return losses
			}
			dense := train(map[string]any{"name": "scaled-dot"})
			chunked := train(map[string]any{"name": "chunked", "block": 16})
			worst := 0.0
			for i := range dense {
				worst = max(worst, math.Abs(dense[i]-chunked[i]))
			}
			t.Logf("loss %.4f → %.4f; largest difference between the kernels %.2g", dense[0], dense[steps-1], worst)
			if dense[steps-1] > dense[0]-0.5 {
				t.Fatalf("the loss did not fall (%.4f → %.4f): the comparison says nothing", dense[0], dense[steps-1])
			}
			if worst > 1e-4 {
				t.Fatal(fmt.Sprintf("losses differ by %.3g (> 1e-4)", worst))
			}
		})
	}
}
