package layers_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// newRecurrent builds and initialises an LSTM or GRU.
func newRecurrent(kind string, in, hidden, nlayers int, bidir bool, dropout float32, seed uint64) layers.Recurrent {
	var r layers.Recurrent
	if kind == "lstm" {
		r = layers.NewLSTM(in, hidden, nlayers, bidir, dropout)
	} else {
		r = layers.NewGRU(in, hidden, nlayers, bidir, dropout)
	}
	r.Init(tensor.NewRNG(seed))
	return r
}

// initStates returns random initial states requiring gradients, and their
// tensors by name for GradCheck.
func initStates(rng *tensor.RNG, r layers.Recurrent, b int, lstm bool) ([]layers.State, map[string]*tensor.Tensor) {
	n := r.NumLayers() * r.Dirs()
	st := make([]layers.State, n)
	in := map[string]*tensor.Tensor{}
	for k := range st {
		st[k].H = leaf(rng, b, r.HiddenSize())
		in[fmt.Sprintf("h0[%d]", k)] = st[k].H
		if lstm {
			st[k].C = leaf(rng, b, r.HiddenSize())
			in[fmt.Sprintf("c0[%d]", k)] = st[k].C
		}
	}
	return st, in
}

// flatten returns the outputs and every part of every final state.
func flatten(out *tensor.Tensor, final []layers.State) []*tensor.Tensor {
	ts := []*tensor.Tensor{out}
	for _, s := range final {
		ts = append(ts, s.H)
		if s.C != nil {
			ts = append(ts, s.C)
		}
	}
	return ts
}

func TestGradCells(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		for _, zero := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/zeroState=%v", kind, zero), func(t *testing.T) {
				rng := tensor.NewRNG(11)
				var c layers.Cell
				if kind == "lstm" {
					c = layers.NewLSTMCell(3, 4)
				} else {
					c = layers.NewGRUCell(3, 4)
				}
				c.Init(rng)
				x := leaf(rng, 2, 3)
				in := paramInputs(c.Params(), map[string]*tensor.Tensor{"x": x})
				var s layers.State
				if !zero {
					s.H = leaf(rng, 2, 4)
					in["h"] = s.H
					if kind == "lstm" {
						s.C = leaf(rng, 2, 4)
						in["c"] = s.C
					}
				}
				check(t, func() []*tensor.Tensor {
					n := c.Step(x, s)
					if n.C != nil {
						return []*tensor.Tensor{n.H, n.C}
					}
					return []*tensor.Tensor{n.H}
				}, in)
			})
		}
	}
}

func TestGradRecurrentSequence(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		for _, tc := range []struct {
			name    string
			layers  int
			bidir   bool
			lengths []int
			init    bool
			dropout float32
		}{
			{"1layer", 1, false, nil, false, 0},
			{"1layer/init", 1, false, nil, true, 0},
			{"1layer/packed", 1, false, []int{5, 2, 4}, true, 0},
			{"bidir/packed", 1, true, []int{5, 2, 4}, true, 0},
			{"2layer/bidir/packed", 2, true, []int{3, 5, 1}, true, 0},
			{"2layer/packed/zero-length", 2, false, []int{4, 0, 2}, true, 0},
			{"2layer/bidir/dropout", 2, true, []int{5, 3, 4}, false, 0.3},
		} {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				rng := tensor.NewRNG(5)
				r := newRecurrent(kind, 3, 4, tc.layers, tc.bidir, tc.dropout, 7)
				x := leaf(rng, 3, 5, 3)
				in := paramInputs(r.Params(), map[string]*tensor.Tensor{"x": x})
				var init []layers.State
				if tc.init {
					var sin map[string]*tensor.Tensor
					init, sin = initStates(rng, r, 3, kind == "lstm")
					for k, v := range sin {
						in[k] = v
					}
				}
				check(t, func() []*tensor.Tensor {
					if tc.dropout > 0 {
						// The same dropout masks on every call.
						switch l := r.(type) {
						case *layers.LSTM:
							l.Drop.RNG = tensor.NewRNG(3)
						case *layers.GRU:
							l.Drop.RNG = tensor.NewRNG(3)
						}
					}
					return flatten(r.Forward(x, tc.lengths, init))
				}, in)
			})
		}
	}
}

// TestPackedPaddingIsInert checks pack_padded_sequence semantics exactly:
// outputs at padded steps are 0, the input gradient there is 0, and the
// final state is the state after the last real step.
func TestPackedPaddingIsInert(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		t.Run(kind, func(t *testing.T) {
			rng := tensor.NewRNG(8)
			r := newRecurrent(kind, 3, 4, 2, true, 0, 9)
			lengths := []int{6, 2, 4, 0}
			x := leaf(rng, 4, 6, 3)
			out, final := r.Forward(x, lengths, nil)
			h := 2 * r.HiddenSize()
			for b, n := range lengths {
				for s := n; s < 6; s++ {
					for j := 0; j < h; j++ {
						if v := out.At(b, s, j); v != 0 {
							t.Fatalf("output[%d,%d,%d] = %g at a padded step, want 0", b, s, j, v)
						}
					}
				}
			}
			// Gradient from everything: outputs and final states.
			outs := flatten(out, final)
			grads := make([][]float32, len(outs))
			for i, o := range outs {
				grads[i] = rng.Uniform(tensor.New(o.Shape()...), -1, 1).Data
			}
			tensor.BackwardFrom(outs, grads)
			for b, n := range lengths {
				for s := 0; s < 6; s++ {
					for j := 0; j < 3; j++ {
						g := x.Grad[(b*6+s)*3+j]
						if s >= n && g != 0 {
							t.Fatalf("dx[%d,%d,%d] = %g at a padded step, want exactly 0", b, s, j, g)
						}
						if s < n && g == 0 {
							t.Fatalf("dx[%d,%d,%d] = 0 at a real step", b, s, j)
						}
					}
				}
			}
			// A sequence of length 0 keeps its (zero) initial state.
			for _, s := range final {
				for j := 0; j < r.HiddenSize(); j++ {
					if v := s.H.At(3, j); v != 0 {
						t.Fatalf("final h of an empty sequence = %g, want 0", v)
					}
				}
			}
		})
	}
}

// sub returns rows [start, start+n) of x's time axis for batch row b, as a
// new [1, n, D] tensor; reversed if rev.
func sub(x *tensor.Tensor, b, start, n int, rev bool) *tensor.Tensor {
	d := x.Dim(2)
	out := tensor.New(1, n, d)
	for s := 0; s < n; s++ {
		src := start + s
		if rev {
			src = start + n - 1 - s
		}
		copy(out.Data[s*d:(s+1)*d], x.Data[(b*x.Dim(1)+src)*d:(b*x.Dim(1)+src+1)*d])
	}
	return out
}

// TestPaddingInvariance runs each sequence of a padded batch alone,
// unpadded, and with extra padding steps appended: the real outputs and
// the final states of every layer and direction are the same.
func TestPaddingInvariance(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		t.Run(kind, func(t *testing.T) {
			rng := tensor.NewRNG(21)
			r := newRecurrent(kind, 3, 5, 2, true, 0, 4)
			lengths := []int{4, 7, 1}
			x := rng.Uniform(tensor.New(3, 7, 3), -1, 1)
			// The same batch with 3 more padding steps (garbage values).
			xl := rng.Uniform(tensor.New(3, 10, 3), -1, 1)
			for b := 0; b < 3; b++ {
				copy(xl.Data[b*30:b*30+21], x.Data[b*21:(b+1)*21])
			}
			out, final := r.Forward(x, lengths, nil)
			outL, finalL := r.Forward(xl, lengths, nil)
			hd := out.Dim(2)
			for b, n := range lengths {
				alone, aloneFinal := r.Forward(sub(x, b, 0, n, false), nil, nil)
				for s := 0; s < n; s++ {
					for j := 0; j < hd; j++ {
						want := alone.At(0, s, j)
						if d := math.Abs(float64(out.At(b, s, j) - want)); d > 1e-6 {
							t.Fatalf("padded batch: out[%d,%d,%d] off by %g from the sequence alone", b, s, j, d)
						}
						if d := math.Abs(float64(outL.At(b, s, j) - want)); d > 1e-6 {
							t.Fatalf("longer padding: out[%d,%d,%d] off by %g", b, s, j, d)
						}
					}
				}
				for k := range final {
					for j := 0; j < r.HiddenSize(); j++ {
						want := aloneFinal[k].H.At(0, j)
						if d := math.Abs(float64(final[k].H.At(b, j) - want)); d > 1e-6 {
							t.Fatalf("final h of state %d, row %d off by %g", k, b, d)
						}
						if d := math.Abs(float64(finalL[k].H.At(b, j) - want)); d > 1e-6 {
							t.Fatalf("longer padding: final h of state %d, row %d off by %g", k, b, d)
						}
						if kind == "lstm" {
							if d := math.Abs(float64(finalL[k].C.At(b, j) - aloneFinal[k].C.At(0, j))); d > 1e-6 {
								t.Fatalf("longer padding: final c of state %d, row %d off by %g", k, b, d)
							}
						}
					}
				}
			}
		})
	}
}

// TestReverseDirection checks that the reverse direction of a bidirectional
// layer reads each sequence backwards from its own last real step: it
// equals a forward-only layer with the reverse cell's weights run on the
// reversed sequence, with the outputs reversed back.
func TestReverseDirection(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		t.Run(kind, func(t *testing.T) {
			rng := tensor.NewRNG(31)
			bi := newRecurrent(kind, 3, 4, 1, true, 0, 2)
			uni := newRecurrent(kind, 3, 4, 1, false, 0, 2)
			// Give the forward-only layer the reverse cell's weights.
			bp, up := bi.Params(), uni.Params()
			for _, p := range up {
				for _, q := range bp {
					if q.Name == "0.reverse."+strings.TrimPrefix(p.Name, "0.") {
						copy(p.Data, q.Data)
					}
				}
			}
			lengths := []int{5, 3}
			x := rng.Uniform(tensor.New(2, 5, 3), -1, 1)
			out, final := bi.Forward(x, lengths, nil)
			for b, n := range lengths {
				ro, rf := uni.Forward(sub(x, b, 0, n, true), nil, nil)
				for s := 0; s < n; s++ {
					for j := 0; j < 4; j++ {
						got, want := out.At(b, s, 4+j), ro.At(0, n-1-s, j)
						if math.Abs(float64(got-want)) > 1e-6 {
							t.Fatalf("reverse output [%d,%d,%d] = %g, want %g", b, s, j, got, want)
						}
					}
				}
				for j := 0; j < 4; j++ {
					if got, want := final[1].H.At(b, j), rf[0].H.At(0, j); math.Abs(float64(got-want)) > 1e-6 {
						t.Fatalf("reverse final h[%d,%d] = %g, want %g", b, j, got, want)
					}
				}
			}
		})
	}
}

// TestSequenceMatchesCellSteps checks the sequence layer against calling
// its cell once per step, as a decoder does.
func TestSequenceMatchesCellSteps(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		t.Run(kind, func(t *testing.T) {
			rng := tensor.NewRNG(41)
			r := newRecurrent(kind, 3, 4, 1, false, 0, 6)
			var c layers.Cell
			switch l := r.(type) {
			case *layers.LSTM:
				c = l.Cells[0]
			case *layers.GRU:
				c = l.Cells[0]
			}
			x := rng.Uniform(tensor.New(2, 6, 3), -1, 1)
			init, _ := initStates(rng, r, 2, kind == "lstm")
			out, final := r.Forward(x, nil, init)
			s := init[0]
			for step := 0; step < 6; step++ {
				xt := tensor.Reshape(tensor.Narrow(x, 1, step, 1), 2, 3)
				s = c.Step(xt, s)
				for b := 0; b < 2; b++ {
					for j := 0; j < 4; j++ {
						if d := math.Abs(float64(s.H.At(b, j) - out.At(b, step, j))); d > 1e-6 {
							t.Fatalf("step %d: cell h[%d,%d] off by %g from the sequence output", step, b, j, d)
						}
					}
				}
			}
			if d := maxAbsDiff(s.H.Data, final[0].H.Data); d > 1e-6 {
				t.Fatalf("final h off by %g", d)
			}
			if s.C != nil {
				if d := maxAbsDiff(s.C.Data, final[0].C.Data); d > 1e-6 {
					t.Fatalf("final c off by %g", d)
				}
			}
		})
	}
}

func TestRecurrentNoGradMatches(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		rng := tensor.NewRNG(2)
		r := newRecurrent(kind, 3, 4, 2, true, 0, 1)
		x := rng.Uniform(tensor.New(3, 5, 3), -1, 1)
		lengths := []int{5, 1, 3}
		want, wantF := r.Forward(x, lengths, nil)
		restore := tensor.NoGrad(layers.Tensors(r.Params())...)
		got, gotF := r.Forward(x, lengths, nil)
		restore()
		if got.RequiresGrad() {
			t.Fatalf("%s: output under NoGrad requires gradients", kind)
		}
		if d := maxAbsDiff(got.Data, want.Data); d != 0 {
			t.Fatalf("%s: NoGrad output differs by %g", kind, d)
		}
		if d := maxAbsDiff(gotF[3].H.Data, wantF[3].H.Data); d != 0 {
			t.Fatalf("%s: NoGrad final state differs by %g", kind, d)
		}
	}
}

func TestRecurrentParamsAndInit(t *testing.T) {
	t.Parallel()
	lstm := layers.NewLSTM(3, 4, 2, true, 0)
	var names []string
	for _, p := range layers.Prefix("encoder.lstm", lstm.Params()) {
		names = append(names, fmt.Sprintf("%s%v", p.Name, p.Shape()))
	}
	want := "encoder.lstm.0.W_ih[3 16] encoder.lstm.0.W_hh[4 16] encoder.lstm.0.b[16] " +
		"encoder.lstm.0.reverse.W_ih[3 16] encoder.lstm.0.reverse.W_hh[4 16] encoder.lstm.0.reverse.b[16] " +
		"encoder.lstm.1.W_ih[8 16] encoder.lstm.1.W_hh[4 16] encoder.lstm.1.b[16] " +
		"encoder.lstm.1.reverse.W_ih[8 16] encoder.lstm.1.reverse.W_hh[4 16] encoder.lstm.1.reverse.b[16]"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("LSTM params =\n%s\nwant\n%s", got, want)
	}
	gru := layers.NewGRU(3, 4, 1, false, 0)
	names = nil
	for _, p := range gru.Params() {
		names = append(names, fmt.Sprintf("%s%v", p.Name, p.Shape()))
	}
	if got, want := strings.Join(names, " "), "0.W_ih[3 12] 0.W_hh[4 12] 0.b[12] 0.b_hn[4]"; got != want {
		t.Errorf("GRU params = %s, want %s", got, want)
	}

	// PyTorch's bounds: weights within 1/√H, the fused bias (b_ih + b_hh)
	// within 2/√H; b_in and b_hn of a GRU within 1/√H.
	big := layers.NewLSTM(8, 64, 1, false, 0)
	big.Init(tensor.NewRNG(1))
	bound := 1 / math.Sqrt(64)
	for _, p := range big.Params() {
		lim := bound
		if strings.HasSuffix(p.Name, ".b") {
			lim = 2 * bound
		}
		lo, hi := minMax(p.Data)
		if lo < -lim || hi > lim || hi-lo < lim {
			t.Errorf("%s spans [%g, %g], want a spread within ±%g", p.Name, lo, hi, lim)
		}
	}
	g := layers.NewGRUCell(8, 64)
	g.Init(tensor.NewRNG(1))
	if lo, hi := minMax(g.B.Data[128:]); lo < -bound || hi > bound {
		t.Errorf("GRU b_in spans [%g, %g], want within ±%g", lo, hi, bound)
	}
	if lo, hi := minMax(g.BHN.Data); lo < -bound || hi > bound {
		t.Errorf("GRU b_hn spans [%g, %g], want within ±%g", lo, hi, bound)
	}
	// The same seed gives the same weights.
	again := layers.NewLSTM(8, 64, 1, false, 0)
	again.Init(tensor.NewRNG(1))
	if d := maxAbsDiff(again.Cells[0].WHH.Data, big.Cells[0].WHH.Data); d != 0 {
		t.Errorf("re-initialising with the same seed differs by %g", d)
	}
}

func minMax(xs []float32) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range xs {
		lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
	}
	return lo, hi
}

func TestRecurrentPanics(t *testing.T) {
	t.Parallel()
	lstm := newRecurrent("lstm", 3, 4, 2, false, 0, 1)
	x := tensor.New(2, 5, 3)
	for _, tc := range []struct {
		name string
		f    func()
		want string
	}{
		{"input", func() { lstm.Forward(tensor.New(2, 5, 4), nil, nil) }, "input [2 5 4], want [B, T, 3]"},
		{"lengths count", func() { lstm.Forward(x, []int{5}, nil) }, "1 lengths for a batch of 2"},
		{"length range", func() { lstm.Forward(x, []int{5, 6}, nil) }, "length 6 of sequence 1 outside [0, 5]"},
		{"states", func() { lstm.Forward(x, nil, make([]layers.State, 1)) }, "1 initial states, want layers×directions = 2"},
		{"state shape", func() { lstm.Forward(x, nil, []layers.State{{H: tensor.New(3, 4)}, {}}) }, "state of shape [3 4], want [2 4]"},
		{"gru cell state", func() {
			layers.NewGRUCell(3, 4).Step(tensor.New(2, 3), layers.State{C: tensor.New(2, 4)})
		}, "a GRU state has no cell state C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic = %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func TestRecurrentEmptyInput(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"lstm", "gru"} {
		rng := tensor.NewRNG(1)
		r := newRecurrent(kind, 3, 4, 2, true, 0, 1)
		init, _ := initStates(rng, r, 2, kind == "lstm")
		out, final := r.Forward(tensor.New(2, 0, 3), nil, init)
		if got := fmt.Sprint(out.Shape()); got != "[2 0 8]" {
			t.Fatalf("%s: output shape for T=0 = %s, want [2 0 8]", kind, got)
		}
		for k := range final {
			if d := maxAbsDiff(final[k].H.Data, init[k].H.Data); d != 0 {
				t.Fatalf("%s: final state %d for T=0 differs from the initial state", kind, k)
			}
		}
	}
}
