package tensor_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// composedLinear is Linear, LinearAct and AddLinear built from the
// separate ops (MatMul, Add, ReLU, GELU), which have their own gradient
// checks and fixtures.
func composedLinear(res, x, w, b *tensor.Tensor, act tensor.Act) *tensor.Tensor {
	y := tensor.MatMul(x, w)
	if b != nil {
		y = tensor.Add(y, b)
	}
	if res != nil {
		y = tensor.Add(res, y)
	}
	switch act {
	case tensor.ActReLU:
		y = tensor.ReLU(y)
	case tensor.ActGELU:
		y = tensor.GELU(y)
	}
	return y
}

func fusedLinear(res, x, w, b *tensor.Tensor, act tensor.Act) *tensor.Tensor {
	if res != nil {
		return tensor.AddLinear(res, x, w, b)
	}
	if act == tensor.ActNone {
		return tensor.Linear(x, w, b)
	}
	return tensor.LinearAct(x, w, b, act)
}

// TestLinearFused checks the fused ops' gradients numerically and their
// values and gradients against the composition of separate ops, for shapes
// that exercise the GEMM's edge tiles and its blocking in k (k > 256).
func TestLinearFused(t *testing.T) {
	t.Parallel()
	for _, sz := range [][3]int{{3, 5, 7}, {2, 13, 40}, {37, 300, 33}} {
		rows, k, n := sz[0], sz[1], sz[2]
		for _, tc := range []struct {
			name string
			act  tensor.Act
			bias bool
			res  bool
		}{
			{"Linear", tensor.ActNone, true, false},
			{"LinearNoBias", tensor.ActNone, false, false},
			{"ReLU", tensor.ActReLU, true, false},
			{"GELU", tensor.ActGELU, true, false},
			{"GELUNoBias", tensor.ActGELU, false, false},
			{"AddLinear", tensor.ActNone, true, true},
		} {
			t.Run(fmt.Sprintf("%s/%dx%dx%d", tc.name, rows, k, n), func(t *testing.T) {
				rng := tensor.NewRNG(11)
				x := param(rng, -1, 1, 1, rows, k)
				w := param(rng, -0.5, 0.5, k, n)
				var b, res *tensor.Tensor
				in := map[string]*tensor.Tensor{"x": x, "w": w}
				if tc.bias {
					b = param(rng, -1, 1, n)
					in["b"] = b
				}
				if tc.res {
					res = param(rng, -1, 1, 1, rows, n)
					in["res"] = res
				}
				if rows*k*n < 5000 {
					opt := tensor.GradCheckOptions{}
					if tc.act == tensor.ActReLU {
						opt.Step = 1e-3 // stay on one side of the kink
					}
					if err := tensor.GradCheck(func() []*tensor.Tensor { return one(fusedLinear(res, x, w, b, tc.act)) }, in, opt); err != nil {
						t.Fatal(err)
					}
				}
				// Same values and gradients as the composed ops.
				grads := func(f func() *tensor.Tensor) ([]float32, map[string][]float32) {
					for _, p := range in {
						p.ZeroGrad()
					}
					y := f()
					up := make([]float32, y.Len())
					for i := range up {
						up[i] = float32(math.Sin(float64(i)))
					}
					tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{up})
					g := map[string][]float32{}
					for name, p := range in {
						g[name] = append([]float32(nil), p.Grad...)
					}
					return append([]float32(nil), y.Data...), g
				}
				yf, gf := grads(func() *tensor.Tensor { return fusedLinear(res, x, w, b, tc.act) })
				yc, gc := grads(func() *tensor.Tensor { return composedLinear(res, x, w, b, tc.act) })
				near := func(what string, a, b []float32) {
					t.Helper()
					for i := range a {
						if math.Abs(float64(a[i]-b[i])) > 1e-4*(1+math.Abs(float64(b[i]))) {
							t.Fatalf("%s[%d]: fused %v, composed %v", what, i, a[i], b[i])
						}
					}
				}
				near("y", yf, yc)
				for name := range in {
					near("grad "+name, gf[name], gc[name])
				}
			})
		}
	}
}

func TestLinearPanics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"inner", func() { tensor.Linear(tensor.New(2, 3), tensor.New(4, 5), nil) }},
		{"bias", func() { tensor.Linear(tensor.New(2, 3), tensor.New(3, 5), tensor.New(4)) }},
		{"residual", func() { tensor.AddLinear(tensor.New(2, 4), tensor.New(2, 3), tensor.New(3, 5), nil) }},
		{"act", func() { tensor.LinearAct(tensor.New(2, 3), tensor.New(3, 5), nil, 9) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if _, ok := recover().(tensor.Error); !ok {
					t.Fatal("no tensor.Error panic")
				}
			}()
			tc.f()
		})
	}
}

// TestLinearNoGrad: without gradients the fused ops give the same values
// (GELU then works in place).
func TestLinearNoGrad(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(2)
	x := rng.Uniform(tensor.New(4, 9), -1, 1)
	w := rng.Uniform(tensor.New(9, 6), -1, 1)
	b := rng.Uniform(tensor.New(6), -1, 1)
	for _, act := range []tensor.Act{tensor.ActNone, tensor.ActReLU, tensor.ActGELU} {
		got := tensor.LinearAct(x, w, b, act)
		want := composedLinear(nil, x, w, b, act)
		for i := range got.Data {
			if math.Abs(float64(got.Data[i]-want.Data[i])) > 1e-5 {
				t.Fatalf("%v: [%d] = %v, want %v", act, i, got.Data[i], want.Data[i])
			}
		}
	}
}
