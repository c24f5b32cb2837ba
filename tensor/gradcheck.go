package tensor

import (
	"fmt"
	"math"
	"sort"
)

// GradCheckOptions tunes GradCheck. Zero values mean the defaults.
type GradCheckOptions struct {
	Step   float64 // central-difference step; default 1e-2 (float32 forward passes)
	RelTol float64 // relative tolerance; default 1e-2
	AbsTol float64 // absolute tolerance; default 1e-3
	Seed   uint64  // seed of the random projection R; default 1
}

// GradCheck compares the analytic gradients of L = Σ_o Σ out_o ⊙ R_o (R
// random in [−1, 1), the sum accumulated in float64) with central
// differences, for every element of every tensor in inputs (each must
// require gradients). f builds the outputs from the inputs and is called
// many times; it must be deterministic. A mismatch
// |analytic − numeric| > AbsTol + RelTol·max(|analytic|, |numeric|) is
// reported as an error naming the worst element by input name and index.
// Inputs' gradients are left zeroed.
func GradCheck(f func() []*Tensor, inputs map[string]*Tensor, opt GradCheckOptions) error {
	if opt.Step == 0 {
		opt.Step = 1e-2
	}
	if opt.RelTol == 0 {
		opt.RelTol = 1e-2
	}
	if opt.AbsTol == 0 {
		opt.AbsTol = 1e-3
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	names := make([]string, 0, len(inputs))
	for n, t := range inputs {
		if !t.requiresGrad {
			return fmt.Errorf("gradcheck: input %q does not require gradients", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)

	outs := f()
	rng := NewRNG(opt.Seed)
	rs := make([][]float32, len(outs))
	for i, o := range outs {
		rs[i] = make([]float32, len(o.Data))
		for j := range rs[i] {
			rs[i][j] = 2*rng.Float32() - 1
		}
	}
	for _, n := range names {
		inputs[n].ZeroGrad()
	}
	BackwardFrom(outs, rs)
	analytic := make(map[string][]float32, len(names))
	for _, n := range names {
		g := inputs[n].Grad
		if g == nil {
			g = make([]float32, len(inputs[n].Data))
		}
		analytic[n] = append([]float32(nil), g...)
		inputs[n].ZeroGrad()
	}

	loss := func() float64 {
		outs := f()
		var s float64
		for i, o := range outs {
			for j, v := range o.Data {
				s += float64(v) * float64(rs[i][j])
			}
		}
		return s
	}
	worst, worstName, worstIdx := 0.0, "", -1
	var worstA, worstN float64
	for _, n := range names {
		t := inputs[n]
		for i := range t.Data {
			orig := t.Data[i]
			t.Data[i] = orig + float32(opt.Step)
			hp := float64(t.Data[i] - orig)
			lp := loss()
			t.Data[i] = orig - float32(opt.Step)
			hm := float64(orig - t.Data[i])
			lm := loss()
			t.Data[i] = orig
			num := (lp - lm) / (hp + hm)
			a := float64(analytic[n][i])
			excess := math.Abs(a-num) - (opt.AbsTol + opt.RelTol*math.Max(math.Abs(a), math.Abs(num)))
			if math.IsNaN(a) || math.IsNaN(num) {
				excess = math.Inf(1)
			}
			if excess > worst || (worstIdx < 0 && excess > 0) {
				worst, worstName, worstIdx, worstA, worstN = excess, n, i, a, num
			}
		}
	}
	if worstIdx >= 0 {
		return fmt.Errorf("gradcheck: %s[%d] (index %v of shape %v): analytic %.6g, numeric %.6g",
			worstName, worstIdx, unravel(worstIdx, inputs[worstName].shape), inputs[worstName].shape, worstA, worstN)
	}
	return nil
}

func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = i % shape[k]
			i /= shape[k]
		}
	}
	return idx
}
