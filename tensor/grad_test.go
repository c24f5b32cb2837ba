package tensor_test

import (
	"math"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// param returns a leaf requiring gradients with values uniform in [lo, hi).
func param(rng *tensor.RNG, lo, hi float32, shape ...int) *tensor.Tensor {
	return rng.Uniform(tensor.New(shape...), lo, hi).SetRequiresGrad(true)
}

// awayFromZero returns a parameter whose values have magnitude in [0.2, 1.2),
// for ops with a kink or a pole at zero.
func awayFromZero(rng *tensor.RNG, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		v := 0.2 + rng.Float32()
		if rng.Float32() < 0.5 {
			v = -v
		}
		t.Data[i] = v
	}
	return t.SetRequiresGrad(true)
}

func one(t *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{t} }

func check(t *testing.T, f func() []*tensor.Tensor, in map[string]*tensor.Tensor) {
	t.Helper()
	if err := tensor.GradCheck(f, in, tensor.GradCheckOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestGradElementwiseBroadcast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sa, sb []int
	}{
		{"same", []int{2, 3}, []int{2, 3}},
		{"row", []int{2, 3, 4}, []int{4}},
		{"col", []int{2, 3, 4}, []int{3, 1}},
		{"both", []int{2, 1, 4}, []int{3, 1}},
		{"scalar", []int{2, 3}, []int{}},
		{"lead", []int{1, 3}, []int{2, 1, 1}},
		{"middle", []int{2, 3, 4}, []int{2, 1, 4}},
	} {
		for _, op := range []struct {
			name string
			f    func(a, b *tensor.Tensor) *tensor.Tensor
		}{{"Add", tensor.Add}, {"Sub", tensor.Sub}, {"Mul", tensor.Mul}, {"Div", tensor.Div}} {
			t.Run(op.name+"/"+tc.name, func(t *testing.T) {
				rng := tensor.NewRNG(7)
				a := param(rng, -1, 1, tc.sa...)
				b := awayFromZero(rng, tc.sb...)
				check(t, func() []*tensor.Tensor { return one(op.f(a, b)) }, map[string]*tensor.Tensor{"a": a, "b": b})
				// And with the operands swapped.
				a2 := awayFromZero(rng, tc.sa...)
				b2 := param(rng, -1, 1, tc.sb...)
				check(t, func() []*tensor.Tensor { return one(op.f(b2, a2)) }, map[string]*tensor.Tensor{"a": a2, "b": b2})
			})
		}
	}
}

func TestBroadcastValues(t *testing.T) {
	t.Parallel()
	a := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b := tensor.FromData([]float32{10, 20}, 2, 1)
	got := tensor.Add(a, b)
	want := []float32{11, 12, 13, 24, 25, 26}
	if !slices.Equal(got.Data, want) || !slices.Equal(got.Shape(), []int{2, 3}) {
		t.Fatalf("Add = %v %v, want %v", got.Shape(), got.Data, want)
	}
	c := tensor.Sub(tensor.FromData([]float32{1, 2, 3}, 3), a)
	if want := []float32{0, 0, 0, -3, -3, -3}; !slices.Equal(c.Data, want) {
		t.Fatalf("Sub = %v, want %v", c.Data, want)
	}
}

func TestBroadcastPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("Add of [2,3] and [4] did not panic")
		}
		if e, ok := r.(tensor.Error); !ok || e.Msg != "tensor.Add: shapes [2 3] and [4] do not broadcast" {
			t.Fatalf("panic = %#v, want a tensor.Error", r)
		}
	}()
	tensor.Add(tensor.New(2, 3), tensor.New(4))
}

func TestGradUnary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		f    func(*tensor.Tensor) *tensor.Tensor
		pos  bool // needs positive inputs
		kink bool // kink at 0: keep inputs away from it
	}{
		{"Neg", tensor.Neg, false, false},
		{"Scale", func(x *tensor.Tensor) *tensor.Tensor { return tensor.Scale(x, -2.5) }, false, false},
		{"AddScalar", func(x *tensor.Tensor) *tensor.Tensor { return tensor.AddScalar(x, 3) }, false, false},
		{"Exp", tensor.Exp, false, false},
		{"Log", tensor.Log, true, false},
		{"Sqrt", tensor.Sqrt, true, false},
		{"Tanh", tensor.Tanh, false, false},
		{"Sigmoid", tensor.Sigmoid, false, false},
		{"ReLU", tensor.ReLU, false, true},
		{"GELU", tensor.GELU, false, false},
		{"ELU", func(x *tensor.Tensor) *tensor.Tensor { return tensor.ELU(x, 1.3) }, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(3)
			var x *tensor.Tensor
			switch {
			case tc.pos:
				x = param(rng, 0.5, 2, 3, 5)
			case tc.kink:
				x = awayFromZero(rng, 3, 5)
			default:
				x = param(rng, -2, 2, 3, 5)
			}
			check(t, func() []*tensor.Tensor { return one(tc.f(x)) }, map[string]*tensor.Tensor{"x": x})
		})
	}
}

func TestUnaryValues(t *testing.T) {
	t.Parallel()
	x := tensor.FromData([]float32{-1, 0, 2}, 3)
	for _, tc := range []struct {
		name string
		got  *tensor.Tensor
		want []float64
	}{
		{"ReLU", tensor.ReLU(x), []float64{0, 0, 2}},
		{"ELU", tensor.ELU(x, 1), []float64{math.Exp(-1) - 1, 0, 2}},
		{"GELU", tensor.GELU(x), []float64{-0.15880800939172324, 0, 1.9545976940871754}},
		{"Sigmoid", tensor.Sigmoid(x), []float64{1 / (1 + math.E), 0.5, 1 / (1 + math.Exp(-2))}},
	} {
		for i, w := range tc.want {
			if math.Abs(float64(tc.got.Data[i])-w) > 1e-6 {
				t.Errorf("%s(%v)[%d] = %v, want %v", tc.name, x.Data, i, tc.got.Data[i], w)
			}
		}
	}
}

func TestGradMatMul(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sa, sb []int
		ta, tb bool
	}{
		{"2d", []int{3, 4}, []int{4, 5}, false, false},
		{"2d-tA", []int{4, 3}, []int{4, 5}, true, false},
		{"2d-tB", []int{3, 4}, []int{5, 4}, false, true},
		{"2d-tAtB", []int{4, 3}, []int{5, 4}, true, true},
		{"batched", []int{2, 3, 4}, []int{2, 4, 5}, false, false},
		{"batched-tA", []int{2, 4, 3}, []int{2, 4, 5}, true, false},
		{"batched-tB", []int{2, 3, 4}, []int{2, 5, 4}, false, true},
		{"batched-tAtB", []int{2, 2, 4, 3}, []int{2, 2, 5, 4}, true, true},
		{"shared-right", []int{2, 3, 4}, []int{4, 5}, false, false},
		{"shared-right-tB", []int{2, 3, 4}, []int{5, 4}, false, true},
		{"shared-right-tA", []int{2, 4, 3}, []int{4, 5}, true, false},
		{"shared-left", []int{3, 4}, []int{2, 4, 5}, false, false},
		{"shared-left-tAtB", []int{4, 3}, []int{2, 5, 4}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := tensor.NewRNG(11)
			a := param(rng, -1, 1, tc.sa...)
			b := param(rng, -1, 1, tc.sb...)
			check(t, func() []*tensor.Tensor { return one(tensor.MatMulT(a, b, tc.ta, tc.tb)) }, map[string]*tensor.Tensor{"a": a, "b": b})
			// Values against a naive product.
			got := tensor.MatMulT(a, b, tc.ta, tc.tb)
			want := naiveMatMul(a, b, tc.ta, tc.tb)
			if d := maxAbsDiff(got.Data, want); d > 1e-5 {
				t.Fatalf("MatMulT values differ from the naive product by %g", d)
			}
		})
	}
}

// naiveMatMul computes op(a)·op(b) with explicit loops, broadcasting a 2-D
// operand over the other's batch.
func naiveMatMul(a, b *tensor.Tensor, ta, tb bool) []float32 {
	as, bs := a.Shape(), b.Shape()
	ar, br := len(as), len(bs)
	m, k := as[ar-2], as[ar-1]
	if ta {
		m, k = k, m
	}
	n := bs[br-1]
	if tb {
		n = bs[br-2]
	}
	nb := 1
	for _, d := range as[:ar-2] {
		nb *= d
	}
	nbb := 1
	for _, d := range bs[:br-2] {
		nbb *= d
	}
	nb = max(nb, nbb)
	out := make([]float32, nb*m*n)
	for p := 0; p < nb; p++ {
		pa, pb := p, p
		if ar == 2 {
			pa = 0
		}
		if br == 2 {
			pb = 0
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for l := 0; l < k; l++ {
					var x, y float32
					if ta {
						x = a.Data[pa*m*k+l*m+i]
					} else {
						x = a.Data[pa*m*k+i*k+l]
					}
					if tb {
						y = b.Data[pb*k*n+j*k+l]
					} else {
						y = b.Data[pb*k*n+l*n+j]
					}
					s += float64(x) * float64(y)
				}
				out[p*m*n+i*n+j] = float32(s)
			}
		}
	}
	return out
}

func TestMatMulPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("MatMul of [2,3] and [4,5] did not panic")
		}
	}()
	tensor.MatMul(tensor.New(2, 3), tensor.New(4, 5))
}

func TestGradReductions(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(5)
	x := param(rng, -1, 1, 2, 3, 4)
	for _, axis := range []int{0, 1, 2, -1} {
		for _, keep := range []bool{false, true} {
			check(t, func() []*tensor.Tensor { return one(tensor.Sum(x, axis, keep)) }, map[string]*tensor.Tensor{"x": x})
			check(t, func() []*tensor.Tensor { return one(tensor.Mean(x, axis, keep)) }, map[string]*tensor.Tensor{"x": x})
			check(t, func() []*tensor.Tensor { return one(tensor.Max(x, axis, keep)) }, map[string]*tensor.Tensor{"x": x})
		}
	}
	check(t, func() []*tensor.Tensor { return one(tensor.SumAll(x)) }, map[string]*tensor.Tensor{"x": x})
	check(t, func() []*tensor.Tensor { return one(tensor.MeanAll(x)) }, map[string]*tensor.Tensor{"x": x})
}

func TestReductionValues(t *testing.T) {
	t.Parallel()
	x := tensor.FromData([]float32{1, 5, 3, 4, 2, 6}, 2, 3)
	if got := tensor.Sum(x, 1, false); !slices.Equal(got.Data, []float32{9, 12}) || !slices.Equal(got.Shape(), []int{2}) {
		t.Errorf("Sum(axis 1) = %v %v", got.Shape(), got.Data)
	}
	if got := tensor.Mean(x, 0, true); !slices.Equal(got.Data, []float32{2.5, 3.5, 4.5}) || !slices.Equal(got.Shape(), []int{1, 3}) {
		t.Errorf("Mean(axis 0, keepdim) = %v %v", got.Shape(), got.Data)
	}
	if got := tensor.Max(x, -1, false); !slices.Equal(got.Data, []float32{5, 6}) {
		t.Errorf("Max = %v", got.Data)
	}
	// The gradient of Max goes to the first maximum only.
	y := tensor.FromData([]float32{2, 7, 7}, 3).SetRequiresGrad(true)
	tensor.SumAll(tensor.Max(y, 0, false)).Backward()
	if !slices.Equal(y.Grad, []float32{0, 1, 0}) {
		t.Errorf("Max gradient = %v, want [0 1 0]", y.Grad)
	}
}

func TestGradShapeOps(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(9)
	x := param(rng, -1, 1, 2, 3, 4)
	y := param(rng, -1, 1, 2, 5, 4)
	in := map[string]*tensor.Tensor{"x": x}
	check(t, func() []*tensor.Tensor { return one(tensor.Reshape(x, 6, -1)) }, in)
	check(t, func() []*tensor.Tensor { return one(tensor.Transpose(x, 0, 2)) }, in)
	check(t, func() []*tensor.Tensor { return one(tensor.Permute(x, 1, 2, 0)) }, in)
	check(t, func() []*tensor.Tensor { return one(tensor.Narrow(x, 1, 1, 2)) }, in)
	check(t, func() []*tensor.Tensor { return one(tensor.Narrow(x, -1, 0, 3)) }, in)
	check(t, func() []*tensor.Tensor { return tensor.Split(x, 2, 1, 3) }, in)
	both := map[string]*tensor.Tensor{"x": x, "y": y}
	check(t, func() []*tensor.Tensor { return one(tensor.Concat(1, x, y, x)) }, both)
	check(t, func() []*tensor.Tensor { return one(tensor.Stack(0, x, x)) }, in)
	check(t, func() []*tensor.Tensor { return one(tensor.Stack(3, x, x)) }, in)
}

func TestShapeOpValues(t *testing.T) {
	t.Parallel()
	x := tensor.FromData([]float32{0, 1, 2, 3, 4, 5}, 2, 3)
	if got := tensor.Transpose(x, 0, 1); !slices.Equal(got.Data, []float32{0, 3, 1, 4, 2, 5}) || !slices.Equal(got.Shape(), []int{3, 2}) {
		t.Errorf("Transpose = %v %v", got.Shape(), got.Data)
	}
	if got := tensor.Concat(0, x, x); !slices.Equal(got.Shape(), []int{4, 3}) || got.Data[9] != 3 {
		t.Errorf("Concat(0) = %v %v", got.Shape(), got.Data)
	}
	if got := tensor.Concat(1, x, x); !slices.Equal(got.Data, []float32{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}) {
		t.Errorf("Concat(1) = %v", got.Data)
	}
	if got := tensor.Narrow(x, 1, 1, 2); !slices.Equal(got.Data, []float32{1, 2, 4, 5}) {
		t.Errorf("Narrow = %v", got.Data)
	}
	if got := tensor.Stack(1, x, x); !slices.Equal(got.Shape(), []int{2, 2, 3}) || !slices.Equal(got.Data, []float32{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}) {
		t.Errorf("Stack(1) = %v %v", got.Shape(), got.Data)
	}
	if got := tensor.Reshape(x, -1); !slices.Equal(got.Shape(), []int{6}) {
		t.Errorf("Reshape(-1) shape = %v", got.Shape())
	}
}

// TestTakeRows checks TakeRows' gradients (rows picked twice, zero rows,
// rows never picked), its values, and that the gradient buffer it writes
// first is written in full (a poisoned new buffer would leave NaN).
func TestTakeRows(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(3)
	x := param(rng, -1, 1, 2, 3, 4) // rows of 4: six of them
	rows := []int{5, -1, 0, 5, 2, -1}
	check(t, func() []*tensor.Tensor { return one(tensor.TakeRows(x, rows, 3, 2, 4)) }, map[string]*tensor.Tensor{"x": x})
	// Through a non-leaf, whose gradient buffer TakeRows writes first.
	check(t, func() []*tensor.Tensor {
		return one(tensor.TakeRows(tensor.Scale(x, 2), rows, 6, 4))
	}, map[string]*tensor.Tensor{"x": x})
	out := tensor.TakeRows(x, rows, 6, 4)
	if !slices.Equal(out.Shape(), []int{6, 4}) {
		t.Fatalf("shape %v", out.Shape())
	}
	for i, r := range rows {
		for j := 0; j < 4; j++ {
			want := float32(0)
			if r >= 0 {
				want = x.Data[r*4+j]
			}
			if out.At(i, j) != want {
				t.Fatalf("row %d = %v, want x's row %d", i, out.Data[i*4:(i+1)*4], r)
			}
		}
	}
}

// TestTakeRowsDistinct: rows each picked at most once (the Transformer
// blocks' gathers and scatters) take the path that splits across threads
// and writes a fresh gradient instead of clearing and adding: gradients
// checked, then exact values and gradients with one and two threads on
// enough rows to split, into a leaf (added to) and a non-leaf (written).
func TestTakeRowsDistinct(t *testing.T) {
	rng := tensor.NewRNG(4)
	x := param(rng, -1, 1, 2, 3, 4)
	rows := []int{5, -1, 0, 3, 2, -1} // rows 1 and 4 never picked
	check(t, func() []*tensor.Tensor { return one(tensor.TakeRows(x, rows, 6, 4)) }, map[string]*tensor.Tensor{"x": x})
	check(t, func() []*tensor.Tensor {
		return one(tensor.TakeRows(tensor.Scale(x, 2), rows, 3, 2, 4))
	}, map[string]*tensor.Tensor{"x": x})

	defer tensor.SetThreads(tensor.Threads())
	const n, d = 3000, 8
	big := make([]int, 0, 4000)
	for i, r := range rng.Perm(n)[:2500] {
		big = append(big, r)
		if i%5 == 0 {
			big = append(big, -1)
		}
	}
	for _, threads := range []int{1, 2} {
		tensor.SetThreads(threads)
		for _, leaf := range []bool{true, false} {
			xb := tensor.NewRNG(6).Uniform(tensor.New(n, d), -1, 1).SetRequiresGrad(true)
			in := xb
			if !leaf {
				in = tensor.Scale(xb, 2)
			}
			y := tensor.TakeRows(in, big, len(big), d)
			g := tensor.NewRNG(7).Uniform(tensor.New(len(big), d), -1, 1)
			tensor.SumAll(tensor.Mul(y, g)).Backward()
			want := make([]float32, n*d)
			for i, r := range big {
				for j := range d {
					wy := float32(0)
					if r >= 0 {
						wy = in.Data[r*d+j]
						want[r*d+j] = g.Data[i*d+j]
						if !leaf {
							want[r*d+j] *= 2
						}
					}
					if y.Data[i*d+j] != wy {
						t.Fatalf("threads %d leaf %v: y[%d][%d] = %g, want %g", threads, leaf, i, j, y.Data[i*d+j], wy)
					}
				}
			}
			for i := range want {
				if xb.Grad[i] != want[i] {
					t.Fatalf("threads %d leaf %v: dx[%d] = %g, want %g", threads, leaf, i, xb.Grad[i], want[i])
				}
			}
		}
	}
}

func TestGather(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(2)
	table := param(rng, -1, 1, 5, 3)
	ids := []int{1, 4, 1, 0, 1, 2}
	check(t, func() []*tensor.Tensor { return one(tensor.Gather(table, ids, -1)) }, map[string]*tensor.Tensor{"table": table})
	check(t, func() []*tensor.Tensor { return one(tensor.Gather(table, ids, 0)) }, map[string]*tensor.Tensor{"table": table})

	table.ZeroGrad()
	out := tensor.Gather(table, ids, 0)
	for j := 0; j < 3; j++ {
		if out.At(3, j) != 0 {
			t.Fatalf("padding id row = %v, want zeros", out.Data[9:12])
		}
		if out.At(0, j) != table.At(1, j) {
			t.Fatalf("row 0 = %v, want table row 1", out.Data[:3])
		}
	}
	ones := make([]float32, out.Len())
	for i := range ones {
		ones[i] = 1
	}
	tensor.BackwardFrom([]*tensor.Tensor{out}, [][]float32{ones})
	// Row 1 picked three times, row 0 is padding, row 3 never picked.
	for j := 0; j < 3; j++ {
		if g := table.Grad[3+j]; g != 3 {
			t.Errorf("grad of repeated row 1 = %v, want 3", g)
		}
		if g := table.Grad[j]; g != 0 {
			t.Errorf("grad of padding row 0 = %v, want 0", g)
		}
		if g := table.Grad[9+j]; g != 0 {
			t.Errorf("grad of unused row 3 = %v, want 0", g)
		}
	}
}

func TestWhere(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(4)
	a := param(rng, -1, 1, 2, 3, 4)
	b := param(rng, -1, 1, 2, 3, 4)
	mask := tensor.FromData([]float32{1, 0, 1, 1, 0, 0}, 2, 3, 1)
	check(t, func() []*tensor.Tensor { return one(tensor.Where(mask, a, b)) }, map[string]*tensor.Tensor{"a": a, "b": b})
	out := tensor.Where(mask, a, b)
	if out.At(0, 1, 2) != b.At(0, 1, 2) || out.At(1, 0, 3) != a.At(1, 0, 3) {
		t.Fatal("Where picked the wrong operand")
	}
}

func TestGradSoftmax(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(6)
	x := param(rng, -2, 2, 2, 3, 5)
	in := map[string]*tensor.Tensor{"x": x}
	check(t, func() []*tensor.Tensor { return one(tensor.Softmax(x)) }, in)
	check(t, func() []*tensor.Tensor { return one(tensor.LogSoftmax(x)) }, in)
	// Key-padding mask [2,1,5] with batch 1 fully masked in row... and a
	// per-row mask [2,3,1] that masks whole rows.
	keyMask := tensor.FromData([]float32{1, 1, 0, 1, 0, 1, 1, 1, 0, 0}, 2, 1, 5)
	check(t, func() []*tensor.Tensor { return one(tensor.MaskedSoftmax(x, keyMask)) }, in)
	rowMask := tensor.FromData([]float32{1, 0, 1, 0, 0, 1}, 2, 3, 1)
	check(t, func() []*tensor.Tensor { return one(tensor.MaskedSoftmax(x, rowMask)) }, in)
}

func TestMaskedSoftmaxProperties(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(8)
	x := param(rng, -3, 3, 2, 2, 4)
	mask := tensor.FromData([]float32{
		1, 1, 0, 1,
		0, 0, 0, 0, // fully masked row
		1, 0, 0, 0,
		0, 1, 1, 0,
	}, 2, 2, 4)
	y := tensor.MaskedSoftmax(x, mask)
	for r := 0; r < 4; r++ {
		var s float32
		for j := 0; j < 4; j++ {
			v := y.Data[r*4+j]
			if math.IsNaN(float64(v)) {
				t.Fatalf("row %d has NaN: %v", r, y.Data[r*4:r*4+4])
			}
			if mask.Data[r*4+j] == 0 && v != 0 {
				t.Fatalf("masked weight [%d,%d] = %v, want exactly 0", r, j, v)
			}
			s += v
		}
		want := float32(1)
		if r == 1 {
			want = 0
		}
		if math.Abs(float64(s-want)) > 1e-6 {
			t.Fatalf("row %d sums to %v, want %v", r, s, want)
		}
	}
	g := make([]float32, y.Len())
	for i := range g {
		g[i] = float32(i%3) - 1
	}
	tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{g})
	for i, v := range x.Grad {
		if mask.Data[i] == 0 && v != 0 {
			t.Fatalf("masked position %d got gradient %v, want exactly 0", i, v)
		}
		if math.IsNaN(float64(v)) {
			t.Fatalf("NaN gradient at %d", i)
		}
	}
}

func TestGradLayerNorm(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(12)
	x := param(rng, -2, 2, 2, 3, 6)
	gamma := param(rng, 0.5, 1.5, 6)
	beta := param(rng, -1, 1, 6)
	check(t, func() []*tensor.Tensor { return one(tensor.LayerNorm(x, gamma, beta, 1e-5)) },
		map[string]*tensor.Tensor{"x": x, "gamma": gamma, "beta": beta})
	check(t, func() []*tensor.Tensor { return one(tensor.LayerNorm(x, nil, nil, 1e-5)) },
		map[string]*tensor.Tensor{"x": x})
}

func TestGradDropout(t *testing.T) {
	t.Parallel()
	x := param(tensor.NewRNG(1), -1, 1, 4, 8)
	// The same seed gives the same mask on every call of f.
	f := func() []*tensor.Tensor { return one(tensor.Dropout(x, 0.3, tensor.NewRNG(42), true)) }
	check(t, f, map[string]*tensor.Tensor{"x": x})
	y := f()[0]
	zeros := 0
	for i, v := range y.Data {
		switch {
		case v == 0:
			zeros++
		case math.Abs(float64(v-x.Data[i]/0.7)) > 1e-6:
			t.Fatalf("kept value %v, want %v/0.7", v, x.Data[i])
		}
	}
	if zeros == 0 || zeros == len(y.Data) {
		t.Fatalf("dropout zeroed %d of %d", zeros, len(y.Data))
	}
	if tensor.Dropout(x, 0.3, tensor.NewRNG(1), false) != x {
		t.Fatal("Dropout in eval mode is not the identity")
	}
}

func TestGradCrossEntropy(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(13)
	logits := param(rng, -2, 2, 2, 4, 6)
	targets := []int{1, 5, 0, 2, 3, 0, 0, 4} // pad id 0 ignored
	for _, eps := range []float32{0, 0.1} {
		check(t, func() []*tensor.Tensor { return one(tensor.CrossEntropy(logits, targets, 0, eps)) },
			map[string]*tensor.Tensor{"logits": logits})
	}
	// Ignored rows get exactly zero gradient.
	logits.ZeroGrad()
	tensor.CrossEntropy(logits, targets, 0, 0.1).Backward()
	for r, tg := range targets {
		if tg != 0 {
			continue
		}
		for c := 0; c < 6; c++ {
			if g := logits.Grad[r*6+c]; g != 0 {
				t.Fatalf("ignored row %d has gradient %v", r, g)
			}
		}
	}
	// All rows ignored: loss 0, no NaN.
	all := tensor.CrossEntropy(logits, make([]int, 8), 0, 0)
	if all.Item() != 0 {
		t.Fatalf("loss with every target ignored = %v, want 0", all.Item())
	}
}

func TestSharedInputGradientsAddUp(t *testing.T) {
	t.Parallel()
	x := tensor.FromData([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	// L = Σ x·x + Σ 3x → dL/dx = 2x + 3.
	l := tensor.Add(tensor.SumAll(tensor.Mul(x, x)), tensor.SumAll(tensor.Scale(x, 3)))
	l.Backward()
	if want := []float32{5, 7, 9}; !slices.Equal(x.Grad, want) {
		t.Fatalf("grad = %v, want %v", x.Grad, want)
	}
	// Diamond: y = tanh(x); L = Σ y·y·y uses y three times.
	x.ZeroGrad()
	y := tensor.Tanh(x)
	tensor.SumAll(tensor.Mul(tensor.Mul(y, y), y)).Backward()
	for i, v := range x.Data {
		th := math.Tanh(float64(v))
		want := 3 * th * th * (1 - th*th)
		if math.Abs(float64(x.Grad[i])-want) > 1e-6 {
			t.Fatalf("diamond grad[%d] = %v, want %v", i, x.Grad[i], want)
		}
	}
}

func TestBackwardTwiceAfterZeroGrad(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(21)
	w := param(rng, -1, 1, 4, 3)
	x := param(rng, -1, 1, 2, 4)
	l := tensor.MeanAll(tensor.Tanh(tensor.MatMul(x, w)))
	l.Backward()
	first := append([]float32(nil), w.Grad...)
	w.ZeroGrad()
	x.ZeroGrad()
	l.Backward()
	if !slices.Equal(w.Grad, first) {
		t.Fatalf("second Backward gave %v, first %v", w.Grad, first)
	}
	// Without ZeroGrad, leaf gradients accumulate.
	l.Backward()
	for i := range first {
		if math.Abs(float64(w.Grad[i]-2*first[i])) > 1e-6 {
			t.Fatalf("accumulated grad %v, want 2×%v", w.Grad[i], first[i])
		}
	}
}

func TestNoGradBuildsNoGraph(t *testing.T) {
	t.Parallel()
	w := tensor.FromData([]float32{1, 2}, 2).SetRequiresGrad(true)
	restore := tensor.NoGrad(w)
	y := tensor.Mul(w, w)
	if y.RequiresGrad() || y.Op() != "Mul" {
		t.Fatalf("under NoGrad the result requires grad: %v", y.RequiresGrad())
	}
	restore()
	if !w.RequiresGrad() {
		t.Fatal("NoGrad did not restore RequiresGrad")
	}
	if z := tensor.Mul(w, w); !z.RequiresGrad() {
		t.Fatal("after restore the result does not require grad")
	}
}

func TestRNGReproducibleAndRestorable(t *testing.T) {
	t.Parallel()
	a, b := tensor.NewRNG(99), tensor.NewRNG(99)
	for i := 0; i < 10; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same seed, different streams")
		}
	}
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := a.Float64()
	c := tensor.NewRNG(1)
	if err := c.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	if got := c.Float64(); got != want {
		t.Fatalf("restored RNG gave %v, want %v", got, want)
	}
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestEmptyTensors(t *testing.T) {
	t.Parallel()
	// Broadcasting over a zero-size dimension gives an empty result, not a panic.
	got := tensor.Add(tensor.New(2, 0, 16), tensor.New(16))
	if !slices.Equal(got.Shape(), []int{2, 0, 16}) || got.Len() != 0 {
		t.Fatalf("Add on an empty tensor = %v", got.Shape())
	}
	x := tensor.New(0, 4).SetRequiresGrad(true)
	tensor.SumAll(tensor.Mul(x, tensor.New(4))).Backward()
}

// TestBackwardFromRepeatedOutput: an output listed twice is seeded with
// the sum of its two gradients (the first seed writes its fresh gradient
// buffer, the second adds to it), and one listed once with its seed alone.
func TestBackwardFromRepeatedOutput(t *testing.T) {
	x := tensor.FromData([]float32{1, -2, 3, 0.5}, 4).SetRequiresGrad(true)
	y := tensor.Scale(x, 3)
	g1, g2 := []float32{1, 2, 3, 4}, []float32{-0.5, 0.25, 8, -1}
	tensor.BackwardFrom([]*tensor.Tensor{y, y}, [][]float32{g1, g2})
	for i, v := range x.Grad {
		if want := 3 * (g1[i] + g2[i]); v != want {
			t.Fatalf("x.Grad[%d] = %v after seeding y twice, want %v", i, v, want)
		}
	}
	x.ZeroGrad()
	tensor.BackwardFrom([]*tensor.Tensor{y}, [][]float32{g2})
	for i, v := range x.Grad {
		if want := 3 * g2[i]; v != want {
			t.Fatalf("x.Grad[%d] = %v after seeding y once, want %v", i, v, want)
		}
	}
}
