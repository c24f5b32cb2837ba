package tensor

import (
	"math"
	"testing"
)

// TestCrossEntropyShare: the shares of a batch's two parts add up to the
// batch's mean loss, and each row's gradient is the whole batch's, bit for
// bit, with and without label smoothing.
func TestCrossEntropyShare(t *testing.T) {
	const rows, v = 7, 5
	targets := []int{1, 0, 4, 2, 0, 3, 1} // 0: ignored
	for _, eps := range []float32{0, 0.1} {
		rng := NewRNG(2)
		data := rng.Uniform(New(rows, v), -2, 2).Data
		whole := FromData(append([]float32(nil), data...), rows, v).SetRequiresGrad(true)
		l := CrossEntropy(whole, targets, 0, eps)
		l.Backward()
		var sum float64
		var grads []float32
		for _, part := range [][2]int{{0, 3}, {3, rows}} {
			x := FromData(append([]float32(nil), data[part[0]*v:part[1]*v]...), part[1]-part[0], v).SetRequiresGrad(true)
			s := CrossEntropyShare(x, targets[part[0]:part[1]], 0, eps, 5)
			s.Backward()
			sum += float64(s.Item())
			grads = append(grads, x.Grad...)
		}
		if math.Abs(sum-float64(l.Item())) > 1e-6 {
			t.Fatalf("eps %v: shares sum to %v, whole batch %v", eps, sum, l.Item())
		}
		for i, g := range whole.Grad {
			if math.Float32bits(g) != math.Float32bits(grads[i]) {
				t.Fatalf("eps %v: gradient %d = %v from the shares, %v from the whole batch", eps, i, grads[i], g)
			}
		}
	}
	// A part with no targets contributes 0 and no gradient.
	x := FromData(make([]float32, 2*v), 2, v).SetRequiresGrad(true)
	s := CrossEntropyShare(x, []int{0, 0}, 0, 0, 5)
	s.Backward()
	if s.Item() != 0 || x.Grad != nil {
		t.Fatalf("share of ignored rows = %v, gradient %v", s.Item(), x.Grad)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("CrossEntropyShare of 0 targets did not panic")
		}
	}()
	CrossEntropyShare(x, []int{1, 0}, 0, 0, 0)
}

// TestShareData: a leaf sharing another's data reads it (and sees later
// changes), keeps its gradient apart, and is not counted twice.
func TestShareData(t *testing.T) {
	src := FromData([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	twin := New(3).SetRequiresGrad(true)
	twin.ShareData(src)
	src.Data[1] = 5
	x := FromData([]float32{2, 3, 4}, 3)
	SumAll(Mul(twin, x)).Backward()
	if twin.Data[1] != 5 || src.Grad != nil || twin.Grad[2] != 4 {
		t.Fatalf("twin data %v, gradient %v; source gradient %v", twin.Data, twin.Grad, src.Grad)
	}
	y := Add(src, twin)
	if got, want := GraphBytes(y), int64(4*(cap(y.Data)+cap(src.Data)+cap(twin.Grad))); got != want {
		t.Fatalf("GraphBytes = %d, want %d (the shared data once)", got, want)
	}
	for name, f := range map[string]func(){
		"shape":    func() { New(2).SetRequiresGrad(true).ShareData(src) },
		"not leaf": func() { Add(src, src).ShareData(src) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ShareData with a wrong %s did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestRNGClone(t *testing.T) {
	g := NewRNG(9)
	g.Uint64()
	c := g.Clone()
	for i := range 5 {
		if a, b := g.Uint64(), c.Uint64(); a != b {
			t.Fatalf("draw %d: %d, clone %d", i, a, b)
		}
	}
	// Drawing from the clone leaves the original where it was.
	if a, b := c.Uint64(), g.Uint64(); a != b {
		t.Fatalf("after the clone drew %d, the original drew %d", a, b)
	}
}
