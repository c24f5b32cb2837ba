package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"

	"github.com/attnlab/attnlab/tensor"
)

// TestThreadsBitwise trains W3 and W4 (the real step: forward, loss,
// backward, clipping, Adam) for a few steps with one thread and with two
// and three: losses and every parameter must agree bit for bit, so
// train.threads changes how fast a run goes, never what it computes. Clip
// is switched on so that the global norm (a sum over every gradient) is
// part of the step. The "+dropout" variants add dropout 0.1 and label
// smoothing 0.1 (W1: also a second encoder layer, with dropout between
// the layers, and teacher forcing 0.8): the halves of a split batch
// (runs.Stepper) draw their dropout masks and teacher-forcing coins from
// streams that must not depend on the threads either.
func TestThreadsBitwise(t *testing.T) {
	for _, name := range []string{"W1", "W2", "W3", "W4", "W1+dropout", "W3+dropout", "W4+dropout"} {
		t.Run(name, func(t *testing.T) {
			run := func(threads int) ([]float64, [][]float32) {
				defer withThreads(threads)()
				base, dropout := strings.CutSuffix(name, "+dropout")
				w, err := Lookup(base)
				if err != nil {
					t.Fatal(err)
				}
				if dropout {
					wd, config := *w, w.Config
					wd.Config = func() experiments.Config {
						c := config()
						c.Model.Params["dropout"] = 0.1
						c.Train.LabelSmoothing = 0.1
						if c.Model.Encoder != nil {
							c.Model.Encoder.Params["layers"], c.Model.Encoder.Params["dropout"] = 2, 0.1
							c.Train.TeacherForcing = 0.8
						}
						return c
					}
					w = &wd
				}
				s, batches, err := prepare(w, 3)
				if err != nil {
					t.Fatal(err)
				}
				s.Clip = 1
				var losses []float64
				for i, b := range batches {
					l, err := s.Step(b, i+1)
					if err != nil {
						t.Fatal(err)
					}
					losses = append(losses, l)
				}
				var ps [][]float32
				for _, p := range s.Params {
					ps = append(ps, append([]float32(nil), p.Data...))
				}
				return losses, ps
			}
			l1, p1 := run(1)
			for _, threads := range []int{2, 3} {
				l2, p2 := run(threads)
				for i := range l1 {
					if math.Float64bits(l1[i]) != math.Float64bits(l2[i]) {
						t.Fatalf("%d threads: step %d loss %v, one thread %v", threads, i+1, l2[i], l1[i])
					}
				}
				for i := range p1 {
					for j := range p1[i] {
						if math.Float32bits(p1[i][j]) != math.Float32bits(p2[i][j]) {
							t.Fatalf("%d threads: parameter %d element %d = %v, one thread %v", threads, i, j, p2[i][j], p1[i][j])
						}
					}
				}
			}
			if tensor.Threads() != 1 {
				t.Fatalf("Threads() = %d after the test, want 1", tensor.Threads())
			}
		})
	}
}
