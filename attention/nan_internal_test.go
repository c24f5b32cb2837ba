package attention

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/tensor"
)

// nanPath is one way softmax attention (or linear attention) is computed:
// a variant and the kernel switches that select its path.
type nanPath struct {
	name    string
	variant string
	params  map[string]any
	tk      int    // keys (dense attention takes the flash op from flashKeys)
	weights bool   // request the weights
	op      string // the op the context must come from
	fused   bool   // the fused flash kernel must run (cases whose mask allows it)
	use     func() // sets the kernel switches (restored after each run)
}

// nanPaths lists every path this CPU has: the dense softmax row (Go loop,
// and the AVX-512 kernel), the window softmax, the flash tile loop, the
// fused flash kernels (AVX-512, AVX2), dense attention on long inputs,
// and linear attention (Go loops and each SIMD kernel set).
func nanPaths() []nanPath {
	type kernels struct {
		name    string
		avx512  bool // linearAVX512: the dense softmax rows' and linear attention's AVX-512 kernels
		avx2    bool // linearAVX2: dsRow's and linear attention's AVX2 kernels
		fused   bool // flashFusedOn
		fuse512 bool // flashUse512
		needs   bool // the CPU has them
	}
	sets := []kernels{
		{name: "go", needs: true},
		{name: "avx2", avx2: true, needs: hasLinearAVX2},
		{name: "avx512", avx512: true, avx2: hasLinearAVX2, needs: hasLinearAVX512},
	}
	var paths []nanPath
	for _, s := range sets {
		if !s.needs {
			continue
		}
		s := s
		use := func() { linearAVX512, linearAVX2, flashFusedOn = s.avx512, s.avx2, false }
		paths = append(paths,
			nanPath{name: "dense-weights/" + s.name, variant: "scaled-dot", tk: 7, weights: true, op: "WeightedSum", use: use},
			nanPath{name: "dense/" + s.name, variant: "scaled-dot", tk: 7, op: "DotAttention", use: use},
			nanPath{name: "additive/" + s.name, variant: "additive", params: map[string]any{"dim": 8}, tk: 7, weights: true, op: "WeightedSum", use: use},
			nanPath{name: "sliding-window/" + s.name, variant: "sliding-window", params: map[string]any{"window": 15, "score": map[string]any{"name": "additive", "dim": 8}}, tk: 7, weights: true, op: "WindowSum", use: use},
			nanPath{name: "chunked-tiles/" + s.name, variant: "chunked", params: map[string]any{"block": 3}, tk: 7, weights: true, op: "ChunkedAttention", use: use},
			nanPath{name: "dense-long-tiles/" + s.name, variant: "scaled-dot", tk: flashKeys + 3, op: "ChunkedAttention", use: use},
			nanPath{name: "linear/" + s.name, variant: "linear", tk: 7, weights: true, use: use},
		)
	}
	for _, use512 := range []bool{true, false} {
		if use512 && !flashAVX512 || !use512 && !flashAVX2 {
			continue
		}
		name := map[bool]string{true: "avx512", false: "avx2"}[use512]
		use := func() { flashFusedOn, flashUse512 = true, use512 }
		paths = append(paths,
			nanPath{name: "chunked-fused/" + name, variant: "chunked", tk: 7, weights: true, op: "ChunkedAttention", fused: true, use: use},
			nanPath{name: "dense-long-fused/" + name, variant: "scaled-dot", tk: flashKeys + 3, op: "ChunkedAttention", fused: true, use: use},
		)
	}
	return paths
}

// nanResult is one run's context, weights (nil if none) and gradients.
type nanResult struct {
	ctx, w     []float32
	dq, dk, dv []float32
	op         string
	fused      bool
}

// TestNaNScores: on every path the CPU has, forward and backward, a NaN
// among a row's scores makes that row's weights, context and query
// gradient NaN (and the gradients of the keys and values it reads), be it
// one NaN score (a NaN key) or all of them (a NaN query, whose row has no
// finite score); only a row whose every key is masked gives zeros; and a
// NaN key that the mask drops is not read: the results are those with a
// finite key there, and its gradient is 0.
func TestNaNScores(t *testing.T) {
	const b, tq, hd = 2, 5, 32
	nan := float32(math.NaN())
	type want int
	const (
		finite want = iota
		isNaN
		zero
	)
	for _, tc := range []struct {
		name string
		// mask returns the keep-mask for tk keys (nil: none).
		mask func(tk int) *tensor.Tensor
		// poison puts the NaNs into q, k and v (tk keys).
		poison func(q, k, v []float32, tk int)
		// query and key say what batch row bb's query i (context,
		// weights, dq) and key j (dk, dv) must be.
		query  func(bb, i int) want
		key    func(bb, j, tk int) want
		clean  bool // the results equal those without the NaN
		causal bool // a causal site (query i sees keys j ≤ i)
	}{{
		name:  "normal",
		query: func(bb, i int) want { return finite },
		key:   func(bb, j, tk int) want { return finite },
	}, {
		name:  "masked batch row",
		mask:  func(tk int) *tensor.Tensor { return KeyPaddingMask([]int{tk, 0}, tk) },
		query: func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		key:   func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
	}, {
		name: "masked query",
		mask: func(tk int) *tensor.Tensor {
			m := tensor.Full(1, b, tq, tk)
			clear(m.Data[2*tk : 3*tk]) // batch row 0, query 2: nothing to attend
			return m
		},
		query: func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && i == 2] },
		key:   func(bb, j, tk int) want { return finite },
	}, {
		name:   "one NaN score",
		poison: func(q, k, v []float32, tk int) { k[2*hd+5] = nan }, // batch row 0, key 2
		query:  func(bb, i int) want { return map[bool]want{true: isNaN, false: finite}[bb == 0] },
		key:    func(bb, j, tk int) want { return map[bool]want{true: isNaN, false: finite}[bb == 0] },
	}, {
		name:   "NaN query",
		poison: func(q, k, v []float32, tk int) { q[1*hd+7] = nan }, // batch row 0, query 1: all its scores NaN
		query:  func(bb, i int) want { return map[bool]want{true: isNaN, false: finite}[bb == 0 && i == 1] },
		key:    func(bb, j, tk int) want { return map[bool]want{true: isNaN, false: finite}[bb == 0] },
	}, {
		name:   "NaN key past the padding",
		mask:   func(tk int) *tensor.Tensor { return KeyPaddingMask([]int{tk - 2, tk}, tk) },
		poison: func(q, k, v []float32, tk int) { k[(tk-1)*hd+3] = nan }, // batch row 0, its last key
		query:  func(bb, i int) want { return finite },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && j >= tk-2] },
		clean:  true,
	}, {
		name: "masked NaN key among kept ones",
		mask: func(tk int) *tensor.Tensor {
			m := tensor.Full(1, b, 1, tk)
			m.Data[2] = 0 // batch row 0 drops key 2 (not a padding prefix)
			return m
		},
		poison: func(q, k, v []float32, tk int) { k[2*hd] = nan },
		query:  func(bb, i int) want { return finite },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && j == 2] },
		clean:  true,
	}, {
		name:   "NaN key, every key masked",
		mask:   func(tk int) *tensor.Tensor { return KeyPaddingMask([]int{tk, 0}, tk) },
		poison: func(q, k, v []float32, tk int) { k[(tk+1)*hd+4] = nan }, // batch row 1, key 1
		query:  func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		clean:  true,
	}, {
		name: "NaN values past the padding",
		mask: func(tk int) *tensor.Tensor { return KeyPaddingMask([]int{tk - 2, tk}, tk) },
		poison: func(q, k, v []float32, tk int) { // batch row 0, its two masked values (one in a live tile)
			v[(tk-2)*hd+1], v[(tk-1)*hd+3] = nan, nan
		},
		query: func(bb, i int) want { return finite },
		key:   func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && j >= tk-2] },
		clean: true,
	}, {
		name: "masked NaN value among kept ones",
		mask: func(tk int) *tensor.Tensor {
			m := tensor.Full(1, b, 1, tk)
			m.Data[2] = 0
			return m
		},
		poison: func(q, k, v []float32, tk int) { v[2*hd+9] = nan },
		query:  func(bb, i int) want { return finite },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && j == 2] },
		clean:  true,
	}, {
		name:   "NaN value, every key masked",
		mask:   func(tk int) *tensor.Tensor { return KeyPaddingMask([]int{tk, 0}, tk) },
		poison: func(q, k, v []float32, tk int) { v[(tk+1)*hd+4] = nan }, // batch row 1, key 1
		query:  func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		clean:  true,
	}, {
		name: "NaN key and value past the causal rule",
		poison: func(q, k, v []float32, tk int) { // batch row 0, keys tq and tk−1: no query sees them
			k[tq*hd+2], v[tq*hd+5], k[(tk-1)*hd], v[(tk-1)*hd+1] = nan, nan, nan, nan
		},
		query:  func(bb, i int) want { return finite },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[j >= tq] },
		clean:  true,
		causal: true,
	}, {
		name:   "NaN query, every key masked",
		mask:   func(tk int) *tensor.Tensor { return KeyPaddingMask([]int{tk, 0}, tk) },
		poison: func(q, k, v []float32, tk int) { q[(tq+1)*hd+6] = nan }, // batch row 1, query 1
		query:  func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		key:    func(bb, j, tk int) want { return map[bool]want{true: zero, false: finite}[bb == 1] },
		clean:  true,
	}, {
		name: "NaN query in a masked query row",
		mask: func(tk int) *tensor.Tensor {
			m := tensor.Full(1, b, tq, tk)
			clear(m.Data[2*tk : 3*tk]) // batch row 0, query 2: nothing to attend
			return m
		},
		poison: func(q, k, v []float32, tk int) { q[2*hd+1] = nan },
		query:  func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && i == 2] },
		key:    func(bb, j, tk int) want { return finite },
		clean:  true,
	}, {
		name: "NaN query with nothing to attend at a causal site",
		mask: func(tk int) *tensor.Tensor {
			m := tensor.Full(1, b, 1, tk)
			m.Data[0] = 0 // batch row 0 drops key 0, the only key its query 0 may see
			return m
		},
		poison: func(q, k, v []float32, tk int) { q[3] = nan },
		query:  func(bb, i int) want { return map[bool]want{true: zero, false: finite}[bb == 0 && i == 0] },
		key: func(bb, j, tk int) want {
			return map[bool]want{true: zero, false: finite}[bb == 0 && j == 0 || j >= tq]
		},
		clean:  true,
		causal: true,
	}} {
		for _, p := range nanPaths() {
			t.Run(tc.name+"/"+p.name, func(t *testing.T) {
				tk := p.tk
				rng := tensor.NewRNG(uint64(7 + tk))
				q := rng.Normal(tensor.New(b, tq, hd), 0, 1)
				k := rng.Normal(tensor.New(b, tk, hd), 0, 1)
				v := rng.Normal(tensor.New(b, tk, hd), 0, 1)
				up := rng.Uniform(tensor.New(b, tq, hd), -1, 1).Data
				var mask *tensor.Tensor
				if tc.mask != nil {
					mask = tc.mask(tk)
				}
				run := func(q, k, v *tensor.Tensor) nanResult {
					defer func(a, b, f, u bool) { linearAVX512, linearAVX2, flashFusedOn, flashUse512 = a, b, f, u }(linearAVX512, linearAVX2, flashFusedOn, flashUse512)
					p.use()
					q, k, v = q.Clone().SetRequiresGrad(true), k.Clone().SetRequiresGrad(true), v.Clone().SetRequiresGrad(true)
					a, err := New(p.variant, p.params, Dims{Query: hd, Key: hd, Value: hd, Causal: tc.causal})
					if err != nil {
						t.Fatal(err)
					}
					rng := tensor.NewRNG(3)
					if in, ok := a.(interface{ Init(*tensor.RNG) }); ok {
						in.Init(rng)
					}
					if p.weights {
						a.(WeightsOnRequest).RequestWeights(true)
					}
					var r nanResult
					if c, ok := a.(*Chunked); ok {
						cl := c.newCall(q, k, v, mask, nil)
						r.fused = newFlash(cl, q, k, c.score.Scale(), c.block).fused32()
					} else if d, ok := a.(*Dense); ok && d.dot != nil && tk >= flashKeys {
						cl := d.newCall(q, k, v, mask, nil)
						r.fused = newFlash(cl, q, k, d.dot.Scale(), flashBlock).fused32()
					}
					c, w := a.Attend(q, k, v, mask)
					tensor.BackwardFrom([]*tensor.Tensor{c}, [][]float32{up})
					r.ctx, r.op = c.Data, c.Op()
					if w != nil {
						r.w = w.Data
					}
					r.dq, r.dk, r.dv = q.Grad, k.Grad, v.Grad
					return r
				}
				var clean nanResult
				if tc.clean {
					clean = run(q, k, v)
				}
				if tc.poison != nil {
					tc.poison(q.Data, k.Data, v.Data, tk)
				}
				got := run(q, k, v)
				if p.op != "" && got.op != p.op {
					t.Fatalf("context from %s, want %s", got.op, p.op)
				}
				if p.weights && got.w == nil {
					t.Fatal("no weights")
				}
				if p.fused && !tc.causal && (mask == nil || mask.Dim(1) == 1) && !got.fused {
					t.Fatal("the fused kernel did not run")
				}
				check := func(what string, x []float32, n int, w want) {
					t.Helper()
					for c, y := range x[:n] {
						ok := false
						switch w {
						case finite:
							ok = !math.IsNaN(float64(y)) && !math.IsInf(float64(y), 0)
						case isNaN:
							ok = math.IsNaN(float64(y))
						case zero:
							ok = y == 0
						}
						if !ok {
							t.Errorf("%s[%d] = %v, want %s", what, c, y, map[want]string{finite: "finite", isNaN: "NaN", zero: "0"}[w])
							return
						}
					}
				}
				for bb := 0; bb < b; bb++ {
					for i := 0; i < tq; i++ {
						w, r := tc.query(bb, i), bb*tq+i
						check(fmt.Sprintf("context of query %d,%d", bb, i), got.ctx[r*hd:], hd, w)
						check(fmt.Sprintf("dq of query %d,%d", bb, i), got.dq[r*hd:], hd, w)
						if got.w != nil {
							row := got.w[r*tk : (r+1)*tk]
							if w == finite {
								mv := newMaskView("test", mask, b, tq, tk)
								for j, x := range row {
									if !mv.keep(bb, i, j) && x != 0 {
										t.Errorf("weight of masked pair %d,%d,%d = %v, want 0", bb, i, j, x)
									}
								}
							}
							check(fmt.Sprintf("weights of query %d,%d", bb, i), row, tk, w)
						}
					}
					for j := 0; j < tk; j++ {
						w, r := tc.key(bb, j, tk), bb*tk+j
						check(fmt.Sprintf("dk of key %d,%d", bb, j), got.dk[r*hd:], hd, w)
						check(fmt.Sprintf("dv of key %d,%d", bb, j), got.dv[r*hd:], hd, w)
					}
				}
				if tc.clean {
					for _, x := range []struct {
						name      string
						got, want []float32
					}{{"context", got.ctx, clean.ctx}, {"weights", got.w, clean.w}, {"dq", got.dq, clean.dq}, {"dk", got.dk, clean.dk}, {"dv", got.dv, clean.dv}} {
						if d := maxAbsDiff32(x.got, x.want); d > 0 {
							t.Errorf("%s differs by %.3g from the run with a finite key there", x.name, d)
						}
					}
				}
			})
		}
	}
}

// TestBandDecodeReadsOnlyItsTiles: a decoding step of causal
// sliding-window attention over a long cache (one query at position
// tk−1 = 1003, a band of 8 keys 996…1003, tiles of 8) reads the cache's
// last two tiles (992…1003), not the keys and values before them: NaNs
// there change nothing, and the step makes no copy for them (cleanRows
// scans only the rows the tile loop reads; scanning every key before the
// band made each step cost a pass over the whole cache). A NaN in the
// band's first tile before the band (994) is read, and zeroed.
func TestBandDecodeReadsOnlyItsTiles(t *testing.T) {
	const tk, hd, heads = 1004, 8, 2
	a, err := New("sliding-window", map[string]any{"window": 8, "block": 8}, Dims{Query: hd, Key: hd, Value: hd, Heads: heads, Causal: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(3)
	Init(a, rng)
	q := rng.Normal(tensor.New(1, 1, heads*hd), 0, 1)
	k, v := rng.Normal(tensor.New(1, tk, heads*hd), 0, 1), rng.Normal(tensor.New(1, tk, heads*hd), 0, 1)
	sw := a.(*SlidingWindow)
	step := func() *tensor.Tensor {
		ctx, _ := sw.attendAt(q, k, v, nil, []int{tk - 1})
		return ctx
	}
	want := append([]float32(nil), step().Data...)
	same := func(when string) {
		t.Helper()
		got := step().Data
		for x := range want {
			if math.Float32bits(got[x]) != math.Float32bits(want[x]) {
				t.Fatalf("%s: context[%d] = %v, want %v", when, x, got[x], want[x])
			}
		}
	}
	nan := float32(math.NaN())
	finite := testing.AllocsPerRun(20, func() { step() })
	for j := 0; j < 992; j++ { // the keys before the tiles the band meets
		k.Data[j*heads*hd+1], v.Data[j*heads*hd+hd+2] = nan, nan
	}
	same("NaNs before the band's tiles")
	if poisoned := testing.AllocsPerRun(20, func() { step() }); poisoned != finite {
		t.Fatalf("a step with NaNs before the band's tiles makes %v allocations, with none %v: the rows before them were scanned", poisoned, finite)
	}
	v.Data[994*heads*hd+3] = nan // in the band's first tile, before the band
	same("a NaN value in the band's first tile")
}

// TestPreparedChecksFiniteOnce: a prepared form checks its keys and values
// once, so that a decoder's steps do not scan the dropped rows for a NaN
// at every step (maskView.finite), and still does not read a NaN in a
// masked value when there is one.
func TestPreparedChecksFiniteOnce(t *testing.T) {
	const b, s, hd = 2, 5, 4
	for _, variant := range []string{"additive", "scaled-dot"} {
		a, err := New(variant, nil, Dims{Query: hd, Key: hd, Value: hd})
		if err != nil {
			t.Fatal(err)
		}
		if in, ok := a.(interface{ Init(*tensor.RNG) }); ok {
			in.Init(tensor.NewRNG(1))
		}
		rng := tensor.NewRNG(2)
		k := rng.Normal(tensor.New(b, s, hd), 0, 1)
		v := rng.Normal(tensor.New(b, s, hd), 0, 1)
		q := rng.Normal(tensor.New(b, 1, hd), 0, 1)
		mask := tensor.Full(1, b, 1, s)
		mask.Data[s+3], mask.Data[s+4] = 0, 0 // row 1 keeps keys 0–2
		pd, ok := Prepare(a, k, v, mask).(*preparedDense)
		if !ok {
			t.Fatalf("%s: Prepare gave %T, want a *preparedDense", variant, Prepare(a, k, v, mask))
		}
		if !pd.finite {
			t.Fatalf("%s: finite keys and values not marked finite", variant)
		}
		want, _ := pd.Attend(q)
		v.Data[(s+4)*hd+1] = float32(math.NaN()) // a masked value
		pd = Prepare(a, k, v, mask).(*preparedDense)
		if pd.finite {
			t.Fatalf("%s: values with a NaN marked finite", variant)
		}
		got, _ := pd.Attend(q)
		for i, w := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(w) {
				t.Fatalf("%s: context[%d] = %v with a NaN in a masked value, want %v", variant, i, got.Data[i], w)
			}
		}
	}
}
