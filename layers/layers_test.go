package layers_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

func one(t *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{t} }

func TestGradLinear(t *testing.T) {
	t.Parallel()
	for _, bias := range []bool{true, false} {
		rng := tensor.NewRNG(1)
		l := layers.NewLinear(4, 3, bias)
		l.Init(rng)
		x := leaf(rng, 2, 5, 4)
		check(t, func() []*tensor.Tensor { return one(l.Forward(x)) }, paramInputs(l.Params(), map[string]*tensor.Tensor{"x": x}))
	}
}

func TestEmbedding(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(2)
	e := layers.NewEmbedding(6, 3)
	e.Init(rng)
	for j := 0; j < 3; j++ {
		if e.W.At(0, j) != 0 {
			t.Fatalf("padding row after Init = %v, want zeros", e.W.Data[:3])
		}
	}
	if lo, hi := minMax(e.W.Data[3:]); lo > -0.3 || hi < 0.3 {
		t.Fatalf("N(0,1) rows span only [%g, %g]", lo, hi)
	}
	ids := []int{1, 0, 5, 1, 2, 0}
	x := e.Forward(ids, 2, 3)
	if got := fmt.Sprint(x.Shape()); got != "[2 3 3]" {
		t.Fatalf("Forward(ids, 2, 3) shape = %s, want [2 3 3]", got)
	}
	for j := 0; j < 3; j++ {
		if x.At(0, 1, j) != 0 || x.At(1, 2, j) != 0 {
			t.Fatalf("padding ids did not give zero vectors: %v", x.Data)
		}
		if x.At(0, 0, j) != e.W.At(1, j) {
			t.Fatalf("id 1 did not give row 1")
		}
	}
	// Make the padding row nonzero to see that it still gets no gradient
	// and is not read.
	e.W.Set(7, 0, 0)
	check(t, func() []*tensor.Tensor { return one(e.Forward(ids, 2, 3)) }, paramInputs(e.Params(), nil))
	e.W.ZeroGrad()
	tensor.SumAll(e.Forward(ids)).Backward()
	if g := e.W.Grad[:3]; g[0] != 0 || g[1] != 0 || g[2] != 0 {
		t.Fatalf("padding row gradient = %v, want zeros", g)
	}
	if g := e.W.Grad[3]; g != 2 {
		t.Fatalf("gradient of row 1 (picked twice) = %g, want 2", g)
	}
}

func TestDropoutModule(t *testing.T) {
	t.Parallel()
	d := layers.NewDropout(0.5)
	d.Init(tensor.NewRNG(1))
	x := tensor.Full(1, 1000).SetRequiresGrad(true)
	y := d.Forward(x)
	zeros := 0
	for _, v := range y.Data {
		switch v {
		case 0:
			zeros++
		case 2:
		default:
			t.Fatalf("dropout output %g, want 0 or 2 (inverted scaling)", v)
		}
	}
	if zeros < 400 || zeros > 600 {
		t.Fatalf("%d of 1000 dropped at p=0.5", zeros)
	}
	layers.SetTraining(false, d)
	if d.Forward(x) != x {
		t.Fatal("evaluation-mode dropout is not the identity")
	}
	var nilDrop *layers.Dropout
	if nilDrop.Forward(x) != x {
		t.Fatal("nil dropout is not the identity")
	}
	// Same stream, same masks.
	a, b := layers.NewDropout(0.3), layers.NewDropout(0.3)
	a.Init(tensor.NewRNG(9))
	b.Init(tensor.NewRNG(9))
	if d := maxAbsDiff(a.Forward(x).Data, b.Forward(x).Data); d != 0 {
		t.Fatal("dropout with the same seed gave different masks")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "probability 1 not in [0, 1)") {
			t.Fatalf("NewDropout(1) panic = %v", r)
		}
	}()
	layers.NewDropout(1)
}

func TestLayerNormModule(t *testing.T) {
	t.Parallel()
	ln := layers.NewLayerNorm(5, 0)
	if ln.Eps != layers.DefaultEps || ln.Gamma.Data[2] != 1 || ln.Beta.Data[2] != 0 {
		t.Fatalf("NewLayerNorm = eps %g, gamma %v, beta %v; want 1e-5, ones, zeros", ln.Eps, ln.Gamma.Data, ln.Beta.Data)
	}
	rng := tensor.NewRNG(3)
	rng.Uniform(ln.Gamma.Tensor, 0.5, 1.5)
	rng.Uniform(ln.Beta.Tensor, -0.5, 0.5)
	x := leaf(rng, 2, 3, 5)
	check(t, func() []*tensor.Tensor { return one(ln.Forward(x)) }, paramInputs(ln.Params(), map[string]*tensor.Tensor{"x": x}))
}

func TestGradFeedForward(t *testing.T) {
	t.Parallel()
	for _, act := range []layers.Activation{layers.ReLU, layers.GELU} {
		t.Run(string(act), func(t *testing.T) {
			rng := tensor.NewRNG(4)
			ff := layers.NewFeedForward(4, 6, act, 0.2)
			ff.Init(rng)
			x := leaf(rng, 2, 3, 4)
			in := paramInputs(ff.Params(), map[string]*tensor.Tensor{"x": x})
			check(t, func() []*tensor.Tensor {
				ff.Drop.RNG = tensor.NewRNG(1) // same mask every call
				return one(ff.Forward(x))
			}, in)
		})
	}
	ff := layers.NewFeedForward(4, 6, "", 0)
	var names []string
	for _, p := range ff.Params() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "lin1.W lin1.b lin2.W lin2.b" {
		t.Errorf("FeedForward params = %s", got)
	}
}

func TestParseActivation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want layers.Activation
		err  string
	}{
		{"relu", layers.ReLU, ""}, {"GELU", layers.GELU, ""}, {"", layers.ReLU, ""},
		{"swish", "", `layers: unknown activation "swish" (known: gelu, relu)`},
	} {
		got, err := layers.ParseActivation(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("ParseActivation(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSinusoidal(t *testing.T) {
	t.Parallel()
	for _, d := range []int{6, 7} {
		s := layers.NewSinusoidal(d, 4)
		tab := s.Table(0, 9) // rows past MaxLen are computed on demand
		for pos := 0; pos < 9; pos++ {
			for j := 0; j < d; j++ {
				i2 := j - j%2
				a := float64(pos) / math.Pow(10000, float64(i2)/float64(d))
				want := math.Sin(a)
				if j%2 == 1 {
					want = math.Cos(a)
				}
				if got := tab.At(pos, j); math.Abs(float64(got)-want) > 1e-6 {
					t.Fatalf("d=%d PE[%d,%d] = %g, want %g", d, pos, j, got, want)
				}
			}
		}
		x := tensor.New(2, 3, d)
		y := s.ForwardAt(x, 3)
		if y.At(1, 2, 0) != tab.At(5, 0) || y.At(0, 0, d-1) != tab.At(3, d-1) {
			t.Fatalf("ForwardAt(x, 3) does not add rows 3..5")
		}
		if len(s.Params()) != 0 {
			t.Fatalf("sinusoidal encoding has parameters")
		}
	}
}

func TestLearnedPositions(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(5)
	p := layers.NewLearnedPositions(6, 3)
	p.Init(rng)
	x := leaf(rng, 2, 4, 3)
	check(t, func() []*tensor.Tensor { return one(p.ForwardAt(x, 2)) }, paramInputs(p.Params(), map[string]*tensor.Tensor{"x": x}))
	y := p.Forward(tensor.New(1, 2, 3))
	if y.At(0, 1, 2) != p.W.At(1, 2) {
		t.Fatal("Forward does not add row t at step t")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "positions [4, 8) outside the table of 6") {
			t.Fatalf("panic = %v", r)
		}
	}()
	p.ForwardAt(x, 4)
}

func TestInitIsSeeded(t *testing.T) {
	t.Parallel()
	build := func(seed uint64) []*layers.Param {
		emb, lin := layers.NewEmbedding(5, 4), layers.NewLinear(4, 4, true)
		pos, ff := layers.NewLearnedPositions(3, 4), layers.NewFeedForward(4, 8, layers.GELU, 0.1)
		rng := tensor.NewRNG(seed)
		for _, m := range []layers.Initializer{emb, lin, pos, ff} {
			m.Init(rng)
		}
		return layers.Collect(layers.Named{Prefix: "emb", Module: emb}, layers.Named{Prefix: "lin", Module: lin},
			layers.Named{Prefix: "pos", Module: pos}, layers.Named{Prefix: "ff", Module: ff})
	}
	a, b, c := build(3), build(3), build(4)
	for i := range a {
		if d := maxAbsDiff(a[i].Data, b[i].Data); d != 0 {
			t.Fatalf("%s differs by %g between two inits with the same seed", a[i].Name, d)
		}
		if maxAbsDiff(a[i].Data, c[i].Data) == 0 {
			t.Fatalf("%s is the same for seeds 3 and 4", a[i].Name)
		}
	}
	lin := a[1] // lin.W, Linear(4, 4): U(±1/√4)
	if lo, hi := minMax(lin.Data); lin.Name != "lin.W" || lo < -0.5 || hi > 0.5 {
		t.Fatalf("%s spans [%g, %g], want within ±1/√4", lin.Name, lo, hi)
	}
}

// TestGradParameterFreeLayers gradient-checks the layers without
// parameters, which the other gradient checks do not reach as layers: the
// sinusoidal encoding (x + a constant table, at an offset) and the dropout
// module in training mode (its mask fixed by reseeding before each call).
func TestGradParameterFreeLayers(t *testing.T) {
	t.Parallel()
	rng := tensor.NewRNG(6)
	x := leaf(rng, 2, 3, 6)
	s := layers.NewSinusoidal(6, 8)
	check(t, func() []*tensor.Tensor { return one(s.ForwardAt(x, 2)) }, map[string]*tensor.Tensor{"x": x})
	d := layers.NewDropout(0.4)
	check(t, func() []*tensor.Tensor {
		d.RNG = tensor.NewRNG(3)
		return one(d.Forward(x))
	}, map[string]*tensor.Tensor{"x": x})
	d.RNG = tensor.NewRNG(3)
	if y := d.Forward(x); maxAbsDiff(y.Data, x.Data) == 0 {
		t.Fatal("dropout in training mode left its input as it is")
	}
}
