package layers

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// TestSequenceKernelGradPaths checks both kernels' gradients by finite
// differences with the input projection xw as a leaf, so that every way a
// kernel can deliver dxw is run: written into a new gradient buffer (xw's
// only consumer, or the first one to finish), or added to one another
// consumer wrote first; and with the batch's longest sequence shorter than
// T, whose last times no step runs.
func TestSequenceKernelGradPaths(t *testing.T) {
	t.Parallel()
	const b, tt, h = 3, 5, 4
	for _, lstm := range []bool{true, false} {
		for _, lengths := range [][]int{nil, {5, 2, 4}, {3, 1, 0}} {
			for _, other := range []string{"none", "before", "after"} {
				for _, reverse := range []bool{false, true} {
					name := fmt.Sprintf("lstm=%v/lengths=%v/other=%s/reverse=%v", lstm, lengths, other, reverse)
					t.Run(name, func(t *testing.T) {
						a := seqLeaves(tensor.NewRNG(3), lstm, b, tt, h)
						a.lengths, a.reverse = lengths, reverse
						xw := a.xw
						in := map[string]*tensor.Tensor{"xw": xw, "whh": a.whh, "h0": a.h0}
						if lstm {
							in["c0"] = a.c0
						} else {
							in["bhn"] = a.bhn
						}
						f := func() []*tensor.Tensor {
							var outs []*tensor.Tensor
							if other == "before" {
								outs = append(outs, tensor.Scale(xw, 0.5))
							}
							out, s := runSeq(lstm, a)
							outs = append(outs, out, s.H)
							if s.C != nil {
								outs = append(outs, s.C)
							}
							if other == "after" {
								outs = append(outs, tensor.Scale(xw, 0.5))
							}
							return outs
						}
						if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
							t.Fatal(err)
						}
					})
				}
			}
		}
	}
}

// TestSequenceKernelsUnfreeze: the kernels pack the recurrent weight once
// for a sequence's steps (tensor.FreezeValues) and leave it unfrozen after
// the forward pass and after the backward pass, with its gradient tracking
// on: a weight left frozen would have its products keep the values it had
// before the optimizer changed it. The packed products give the unpacked
// ones' bits: one step at a time (a 1-step sequence is not frozen) equals
// the whole sequence.
func TestSequenceKernelsUnfreeze(t *testing.T) {
	const b, tt, h = 13, 6, 32 // 13 rows: the panel loop on a frozen weight
	packStepsAlways(t)
	for _, lstm := range []bool{true, false} {
		all := seqLeaves(tensor.NewRNG(9), lstm, b, tt, h)
		xw, whh, h0, c0 := all.xw, all.whh, all.h0, all.c0
		run := func(xw, h0, c0 *tensor.Tensor, steps int) (*tensor.Tensor, State) {
			a := all
			a.xw, a.h0, a.c0, a.t = xw, h0, c0, steps
			return runSeq(lstm, a)
		}
		out, s := run(xw, h0, c0, tt)
		if tensor.FrozenToken(whh) != nil || !whh.RequiresGrad() {
			t.Fatalf("lstm=%v: the forward pass left W_hh frozen", lstm)
		}
		tensor.SumAll(out).Backward()
		if tensor.FrozenToken(whh) != nil || !whh.RequiresGrad() {
			t.Fatalf("lstm=%v: the backward pass left W_hh frozen", lstm)
		}
		if whh.Grad == nil {
			t.Fatalf("lstm=%v: no gradient for W_hh", lstm)
		}
		// Step by step.
		hs, cs := h0, c0
		for st := 0; st < tt; st++ {
			x := tensor.Narrow(xw, 1, st, 1)
			o, ns := run(x, hs, cs, 1)
			for i := 0; i < b; i++ {
				for j := 0; j < h; j++ {
					got, want := o.Data[i*h+j], out.Data[(i*tt+st)*h+j]
					if got != want {
						t.Fatalf("lstm=%v: step %d row %d [%d]: %v by steps, %v in one sequence", lstm, st, i, j, got, want)
					}
				}
			}
			hs, cs = ns.H, ns.C
		}
		if s.H == nil {
			t.Fatal("no final state")
		}
	}
}

// TestSequenceKernelsConcurrent: two goroutines run sequences at once on
// recurrent weights that share their values (a step's halves on two
// threads: the model and its twin) and each gets the gradient a lone run
// gets: the packing of the shared values is made and dropped by both.
func TestSequenceKernelsConcurrent(t *testing.T) {
	const b, tt, h = 13, 6, 32
	packStepsAlways(t)
	for _, lstm := range []bool{true, false} {
		rng := tensor.NewRNG(10)
		gates := 3
		if lstm {
			gates = 4
		}
		data := rng.Uniform(tensor.New(h, gates*h), -1, 1).Data
		bhn := rng.Uniform(tensor.New(h), -1, 1)
		xws := []*tensor.Tensor{rng.Uniform(tensor.New(b, tt, gates*h), -1, 1), rng.Uniform(tensor.New(b, tt, gates*h), -1, 1)}
		grad := func(xw *tensor.Tensor) []float32 {
			whh := tensor.FromData(data, h, gates*h).SetRequiresGrad(true)
			out, _ := runSeq(lstm, seqArgs{xw: xw, whh: whh, bhn: bhn, b: b, t: tt, h: h})
			tensor.SumAll(out).Backward()
			return whh.Grad
		}
		want := [][]float32{grad(xws[0]), grad(xws[1])}
		for rep := 0; rep < 20; rep++ {
			got := make([][]float32, 2)
			var wg sync.WaitGroup
			for i := range xws {
				wg.Go(func() { got[i] = grad(xws[i]) })
			}
			wg.Wait()
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					t.Fatalf("lstm=%v rep %d: goroutine %d's W_hh gradient differs from a lone run's", lstm, rep, i)
				}
			}
			if tensor.FrozenToken(tensor.FromData(data, h, gates*h)) != nil {
				t.Fatalf("lstm=%v rep %d: the shared values were left frozen", lstm, rep)
			}
		}
	}
}

// packStepsAlways makes the sequence kernels hold W_hh packed for their
// steps whatever the CPU's kernels (tensor.PackSteps), until t ends, and
// checks that they then do: the tests above are of that path.
func packStepsAlways(t *testing.T) {
	was := packSteps
	packSteps = func() bool { return true }
	t.Cleanup(func() { packSteps = was })
	w := tensor.New(4, 4)
	restore := freezeSteps(w, 2)
	defer restore()
	if tensor.FrozenToken(w) == nil {
		t.Fatal("freezeSteps did not freeze the weight with packSteps on")
	}
}

// TestPackStepsOff: where the kernels do not gain from packing the
// recurrent weight for a sequence (tensor.PackSteps false: AVX-512), the
// kernels leave it alone; W1 and W2 trained 8 and 11 % slower with it.
func TestPackStepsOff(t *testing.T) {
	was := packSteps
	packSteps = func() bool { return false }
	defer func() { packSteps = was }()
	w := tensor.New(4, 4)
	restore := freezeSteps(w, 35)
	defer restore()
	if tensor.FrozenToken(w) != nil {
		t.Fatal("freezeSteps froze the weight with packSteps off")
	}
}

// seqLeaves returns a kernel's inputs as leaves that require gradients,
// uniform in [−1, 1): xw [b,tt,G·h], W_hh, h0, and c0 (LSTM) or b_hn (GRU).
func seqLeaves(rng *tensor.RNG, lstm bool, b, tt, h int) seqArgs {
	gates := 3
	if lstm {
		gates = 4
	}
	leaf := func(shape ...int) *tensor.Tensor {
		return rng.Uniform(tensor.New(shape...), -1, 1).SetRequiresGrad(true)
	}
	a := seqArgs{xw: leaf(b, tt, gates*h), whh: leaf(h, gates*h), h0: leaf(b, h), b: b, t: tt, h: h}
	if lstm {
		a.c0 = leaf(b, h)
	} else {
		a.bhn = leaf(h)
	}
	return a
}

// runSeq runs the LSTM or the GRU sequence kernel.
func runSeq(lstm bool, a seqArgs) (*tensor.Tensor, State) {
	if lstm {
		return lstmSequence(a)
	}
	return gruSequence(a)
}
