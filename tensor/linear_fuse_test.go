package tensor

import (
	"fmt"
	"testing"
)

// TestLinearActGradFused: when a LinearAct's output feeds one linear map
// only, that map's dX product applies the activation's gradient as its
// epilogue (gradFused), and every gradient is bitwise what the unfused
// path gives (the same output consumed through a Reshape, whose backward
// copies the gradient, so the activation's backward runs as its own pass).
// An output with two consumers is never fused.
func TestLinearActGradFused(t *testing.T) {
	for _, act := range []Act{ActReLU, ActGELU} {
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v/threads=%d", act, threads), func(t *testing.T) {
				defer func(n int) { SetThreads(n) }(Threads())
				SetThreads(threads)
				const rows, d, hid = 37, 24, 80
				rng := NewRNG(7)
				mk := func(shape ...int) *Tensor { return rng.Normal(New(shape...), 0, 1).SetRequiresGrad(true) }
				x, res := mk(rows, d), mk(rows, d)
				w1, b1, w2, b2 := mk(d, hid), mk(hid), mk(hid, d), mk(d)
				ps := []*Tensor{x, res, w1, b1, w2, b2}
				run := func(mode int) ([][]float32, bool) {
					for _, p := range ps {
						p.Grad = nil
					}
					h := LinearAct(x, w1, b1, act)
					in := h
					switch mode {
					case 1: // through a view: the copy path
						in = Reshape(h, rows, hid)
					case 2: // a second consumer
						_ = Mul(h, h)
					}
					y := AddLinear(res, in, w2, b2)
					loss := SumAll(Mul(y, y))
					loss.Backward()
					var gs [][]float32
					for _, p := range ps {
						gs = append(gs, append([]float32(nil), p.Grad...))
					}
					fused := h.gradFused
					Release(loss)
					return gs, fused
				}
				want, fusedRef := run(1)
				got, fused := run(0)
				_, fusedTwo := run(2)
				if fusedRef || !fused || fusedTwo {
					t.Fatalf("fused: via Reshape %v (want false), direct %v (want true), two consumers %v (want false)", fusedRef, fused, fusedTwo)
				}
				for i := range want {
					for j := range want[i] {
						if got[i][j] != want[i][j] {
							t.Fatalf("parameter %d, element %d: fused %g, unfused %g", i, j, got[i][j], want[i][j])
						}
					}
				}
			})
		}
	}
}

// TestCustomDst: CustomDst hands a fresh gradient buffer with beta 0 (the
// op assigns), an existing one with beta 1 (it adds), and an input listed
// twice one cleared buffer with beta 1; the gradients come out right in
// each case, garbage in a recycled buffer notwithstanding.
func TestCustomDst(t *testing.T) {
	for _, tc := range []struct {
		name      string
		twice     bool
		otherUse  bool
		wantBetas []float32
	}{
		{"fresh", false, false, []float32{0}},
		{"existing", false, true, []float32{1}},
		{"twice", true, false, []float32{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Leave garbage in the free lists, so a fresh buffer is dirty.
			for range 4 {
				g := allocDirty(256)
				for i := range g {
					g[i] = 1e9
				}
				free(g)
			}
			a := Full(1, 200).SetRequiresGrad(true)
			x := Add(a, a) // not a leaf: its gradient buffer comes from the free lists
			ins := []*Tensor{x}
			if tc.twice {
				ins = append(ins, x)
			}
			var betas []float32
			out := CustomDst("test", append([]float32(nil), x.Data...), []int{200}, ins, func(out *Tensor, g [][]float32, beta []float32) {
				betas = append([]float32(nil), beta...)
				for i := range g {
					for j := range g[i] {
						// Beta 0: the buffer is not read (it may hold
						// anything, NaN included).
						v := 3 * out.Grad[j]
						if beta[i] != 0 {
							v += beta[i] * g[i][j]
						}
						g[i][j] = v
					}
				}
			})
			loss := SumAll(out)
			if tc.otherUse {
				// The other use's backward runs first (reverse order of
				// creation), so the op finds the buffer in use.
				loss = Add(loss, SumAll(x))
			}
			loss.Backward()
			want := float32(2 * 3 * len(ins))
			if tc.otherUse {
				want += 2
			}
			for j, v := range a.Grad {
				if v != want {
					t.Fatalf("a.Grad[%d] = %g, want %g", j, v, want)
				}
			}
			if len(betas) != len(tc.wantBetas) || betas[0] != tc.wantBetas[0] || betas[len(betas)-1] != tc.wantBetas[len(betas)-1] {
				t.Fatalf("betas %v, want %v", betas, tc.wantBetas)
			}
			Release(loss)
		})
	}
}
