package tensor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// lstmCellRef is the cell's step in float64: the activated gates of
// row + x, the new c, tanh(c) and h.
func lstmCellRef(row, x, c []float32) (gates []float64, cn, th, h []float64) {
	n := len(c)
	gates = make([]float64, 4*n)
	for j := range gates {
		v := float64(row[j] + x[j])
		if j >= 2*n && j < 3*n {
			gates[j] = math.Tanh(v)
		} else {
			gates[j] = sigmoid64(v)
		}
	}
	cn, th, h = make([]float64, n), make([]float64, n), make([]float64, n)
	for j := range cn {
		cn[j] = gates[n+j]*float64(c[j]) + gates[j]*gates[2*n+j]
		th[j] = math.Tanh(cn[j])
		h[j] = gates[3*n+j] * th[j]
	}
	return gates, cn, th, h
}

// sentinels returns n random values followed by pad copies of a sentinel.
func sentinels(rng *rand.Rand, n, pad int, scale float64) []float32 {
	s := make([]float32, n+pad)
	for i := range s {
		if i < n {
			s[i] = float32(rng.NormFloat64() * scale)
		} else {
			s[i] = 12345.5
		}
	}
	return s
}

func checkSentinel(t *testing.T, what string, s []float32, n int) {
	t.Helper()
	for i := n; i < len(s); i++ {
		if s[i] != 12345.5 {
			t.Fatalf("%s: element %d past the end written (%v)", what, i, s[i])
		}
	}
}

// TestVMathLSTMCell checks the fused cell step against float64 and, bit
// for bit, against the separate slice kernels it replaces (the same
// implementation's SigmoidSlice and TanhSlice and the scalar cell update),
// at every length through the vector tails, with nothing written past any
// slice's end.
func TestVMathLSTMCell(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	forEachVMath(t, func(t *testing.T) {
		for n := 1; n <= 70; n++ {
			row := sentinels(rng, 4*n, 5, 2)
			x := sentinels(rng, 4*n, 5, 2)
			c := sentinels(rng, n, 5, 2)
			th, h, out := sentinels(rng, 0, n+5, 0), sentinels(rng, 0, n+5, 0), sentinels(rng, 0, n+5, 0)
			row0, c0 := slices.Clone(row[:4*n]), slices.Clone(c[:n])
			gates, cn, th64, h64 := lstmCellRef(row0, x, c0)
			LSTMCell(row[:4*n], x[:4*n], c[:n], th[:n], h[:n], out[:n])
			for _, s := range []struct {
				name string
				s    []float32
				n    int
			}{{"row", row, 4 * n}, {"x", x, 4 * n}, {"c", c, n}, {"th", th, n}, {"h", h, n}, {"out", out, n}} {
				checkSentinel(t, s.name, s.s, s.n)
			}
			const tol = 4.0 / (1 << 24)
			near := func(what string, j int, got float32, want, scale float64) {
				t.Helper()
				if d := math.Abs(float64(got) - want); d > tol*(scale+math.Abs(want)) {
					t.Fatalf("n %d: %s[%d] = %v, want %v", n, what, j, got, want)
				}
			}
			for j := range gates {
				near("gates", j, row[j], gates[j], 0)
			}
			for j := range n {
				near("c", j, c[j], cn[j], math.Abs(float64(c0[j])))
				// tanh's error plus c's, at most tanh' ≤ 1 times it.
				near("th", j, th[j], th64[j], math.Abs(float64(c0[j]))+1)
				near("h", j, h[j], h64[j], math.Abs(float64(c0[j]))+1)
				if out[j] != h[j] {
					t.Fatalf("n %d: out[%d] = %v, h %v", n, j, out[j], h[j])
				}
			}
			// The kernels it fuses, as the LSTM layer ran them before.
			r, cc := slices.Clone(row0), slices.Clone(c0)
			AddSlice(r, r, x[:4*n])
			SigmoidSlice(r[:2*n], r[:2*n])
			TanhSlice(r[2*n:3*n], r[2*n:3*n])
			SigmoidSlice(r[3*n:], r[3*n:])
			for j := range cc {
				cc[j] = r[n+j]*cc[j] + r[j]*r[2*n+j]
			}
			tc := make([]float32, n)
			TanhSlice(tc, cc)
			for j := range n {
				hn := r[3*n+j] * tc[j]
				if row[j] != r[j] || c[j] != cc[j] || th[j] != tc[j] || h[j] != hn {
					t.Fatalf("n %d, unit %d: fused (%v %v %v) ≠ separate (%v %v %v)", n, j, c[j], th[j], h[j], cc[j], tc[j], hn)
				}
			}
		}
	})
}

// TestVMathLSTMCellGrad checks the cell's backward pass against float64
// and against finite differences of LSTMCell itself, at every length
// through the vector tails, with nothing written past any slice's end.
func TestVMathLSTMCellGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	forEachVMath(t, func(t *testing.T) {
		for n := 1; n <= 70; n++ {
			pre := sentinels(rng, 4*n, 0, 2)
			cp := sentinels(rng, n, 5, 1.5)
			row, c, th, h := make([]float32, 4*n), slices.Clone(cp[:n]), make([]float32, n), make([]float32, n)
			LSTMCell(row, pre, c, th, h, make([]float32, n))
			gout, dh, dc := sentinels(rng, n, 5, 1), sentinels(rng, n, 5, 1), sentinels(rng, n, 5, 1)
			drow := sentinels(rng, 0, 4*n+5, 0)
			dh0, dc0 := slices.Clone(dh[:n]), slices.Clone(dc[:n])
			LSTMCellGrad(row, drow[:4*n], th, cp[:n], gout[:n], dh[:n], dc[:n])
			for _, s := range []struct {
				name string
				s    []float32
				n    int
			}{{"drow", drow, 4 * n}, {"dh", dh, n}, {"dc", dc, n}, {"cp", cp, n}, {"gout", gout, n}} {
				checkSentinel(t, s.name, s.s, s.n)
			}
			for j := range n {
				if dh[j] != 0 {
					t.Fatalf("n %d: dh[%d] = %v after, want 0", n, j, dh[j])
				}
				// In float64 from the activated gates.
				i, f, g, o, tc := float64(row[j]), float64(row[n+j]), float64(row[2*n+j]), float64(row[3*n+j]), float64(th[j])
				dht := float64(dh0[j]) + float64(gout[j])
				dct := float64(dc0[j]) + dht*o*(1-tc*tc)
				want := []float64{dct * g * i * (1 - i), dct * float64(cp[j]) * f * (1 - f), dct * i * (1 - g*g), dht * tc * o * (1 - o)}
				scale := math.Abs(dht) + math.Abs(float64(dc0[j])) + 1
				for b, w := range want {
					if d := math.Abs(float64(drow[b*n+j]) - w); d > 1e-6*scale {
						t.Fatalf("n %d: drow block %d unit %d = %v, want %v", n, b, j, drow[b*n+j], w)
					}
				}
				if d := math.Abs(float64(dc[j]) - dct*f); d > 1e-6*scale {
					t.Fatalf("n %d: dc[%d] = %v, want %v", n, j, dc[j], dct*f)
				}
			}
			// Finite differences of L = Σ (dh+gout)·h + Σ dc·c through
			// LSTMCell, in float64 steps on float32 inputs: loose, but it
			// ties the backward pass to the forward one.
			if n != 3 && n != 17 {
				continue
			}
			loss := func(p []float32, cprev []float32) float64 {
				r, cc, tt, hh := make([]float32, 4*n), slices.Clone(cprev), make([]float32, n), make([]float32, n)
				LSTMCell(r, p, cc, tt, hh, make([]float32, n))
				var l float64
				for j := range n {
					l += (float64(dh0[j])+float64(gout[j]))*float64(hh[j]) + float64(dc0[j])*float64(cc[j])
				}
				return l
			}
			const eps = 1e-2
			for k := range pre {
				p := slices.Clone(pre)
				p[k] += eps
				lp := loss(p, cp[:n])
				p[k] -= 2 * eps
				lm := loss(p, cp[:n])
				fd := (lp - lm) / (2 * eps)
				if d := math.Abs(fd - float64(drow[k])); d > 2e-3*(1+math.Abs(fd)) {
					t.Fatalf("n %d: d/dpre[%d] = %v, finite differences %v", n, k, drow[k], fd)
				}
			}
			for j := range n {
				q := slices.Clone(cp[:n])
				q[j] += eps
				lp := loss(pre, q)
				q[j] -= 2 * eps
				lm := loss(pre, q)
				fd := (lp - lm) / (2 * eps)
				if d := math.Abs(fd - float64(dc[j])); d > 2e-3*(1+math.Abs(fd)) {
					t.Fatalf("n %d: d/dcp[%d] = %v, finite differences %v", n, j, dc[j], fd)
				}
			}
		}
	})
}

func TestVMathLSTMPanics(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	for name, f := range map[string]func(){
		"LSTMCell short row":      func() { LSTMCell(s(7), s(8), s(2), s(2), s(2), s(2)) },
		"LSTMCell short x":        func() { LSTMCell(s(8), s(7), s(2), s(2), s(2), s(2)) },
		"LSTMCell short out":      func() { LSTMCell(s(8), s(8), s(2), s(2), s(2), s(1)) },
		"LSTMCellGrad short drow": func() { LSTMCellGrad(s(8), s(7), s(2), s(2), s(2), s(2), s(2)) },
		"LSTMCellGrad short dc":   func() { LSTMCellGrad(s(8), s(8), s(2), s(2), s(2), s(2), s(1)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
