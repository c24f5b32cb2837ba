package attention_test

import (
	"testing"

	"github.com/attnlab/attnlab/attention"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// TestAttendNextMatchesAttend: decoding step by step over a key/value
// cache (AttendNext), in chunks of different sizes per sequence (some
// empty), gives the context Attend gives over the whole sequence at a
// causal site, within 1e-5, for every variant and configuration of the
// property tests, with each position scheme a variant takes.
func TestAttendNextMatchesAttend(t *testing.T) {
	const n = 7
	chunks := [][]int{{3, 1, 2, 1, 0}, {2, 2, 0, 1, 2}} // per sequence, summing to n
	for _, vr := range allVariants() {
		for _, scheme := range []string{"", attention.PositionsRoPE, attention.PositionsALiBi, attention.PositionsT5} {
			t.Run(vr.String()+"/"+scheme, func(t *testing.T) {
				d := testDims
				d.Causal = true
				if scheme != "" {
					pos, _ := attention.NewPositions(scheme, true)
					d.Positions = pos
				}
				a, err := attention.New(vr.name, vr.params, d)
				if err != nil {
					if scheme == "" {
						t.Fatal(err)
					}
					t.Skipf("refused: %v", err)
				}
				rng := tensor.NewRNG(11)
				attention.Init(a, rng)
				if d.Positions != nil {
					d.Positions.Init(rng)
				}
				inc, ok := a.(layers.Incremental)
				if !ok {
					t.Fatalf("%T does not implement layers.Incremental", a)
				}
				q, k, v := randn(rng, false, 2, n, 4), randn(rng, false, 2, n, 4), randn(rng, false, 2, n, 3)
				full, _ := a.Attend(q, k, v, nil)
				cache := inc.NewCache(2)
				done := []int{0, 0}
				for step := range chunks[0] {
					lens := []int{chunks[0][step], chunks[1][step]}
					tt := max(lens[0], lens[1], 1)
					rows := func(x *tensor.Tensor) *tensor.Tensor {
						w := x.Dim(2)
						out := tensor.New(2, tt, w)
						for i := range 2 {
							copy(out.Data[i*tt*w:], x.Data[(i*n+done[i])*w:(i*n+done[i]+lens[i])*w])
						}
						return out
					}
					ctx, _ := inc.AttendNext(rows(q), rows(k), rows(v), lens, cache)
					for i := range 2 {
						got := ctx.Data[i*tt*3 : (i*tt+lens[i])*3]
						want := full.Data[(i*n+done[i])*3 : (i*n+done[i]+lens[i])*3]
						if dd := maxAbsDiff(got, want); dd > 1e-5 {
							t.Fatalf("step %d, sequence %d: context differs from Attend's by %.3g", step, i, dd)
						}
						done[i] += lens[i]
						if cache.Len(i) != done[i] {
							t.Fatalf("cache holds %d tokens of sequence %d, want %d", cache.Len(i), i, done[i])
						}
					}
				}
			})
		}
	}
}

// TestKVCacheSelect: a selected cache holds the chosen sequences' keys and
// values, and extending it leaves the original alone.
func TestKVCacheSelect(t *testing.T) {
	a, err := attention.New("multi-head", map[string]any{"heads": 2}, attention.Dims{Query: 4, Key: 4, Value: 4, Causal: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(3)
	attention.Init(a, rng)
	inc := a.(layers.Incremental)
	x := randn(rng, false, 2, 3, 4)
	c := inc.NewCache(2)
	inc.AttendNext(x, x, x, []int{3, 2}, c)
	s := c.Select([]int{1, 1, 0})
	if s.Len(0) != 2 || s.Len(1) != 2 || s.Len(2) != 3 {
		t.Fatalf("selected cache lengths %d %d %d, want 2 2 3", s.Len(0), s.Len(1), s.Len(2))
	}
	y := randn(rng, false, 3, 1, 4)
	inc.AttendNext(y, y, y, []int{1, 1, 1}, s)
	if c.Len(0) != 3 || c.Len(1) != 2 || s.Len(0) != 3 {
		t.Fatal("extending a selected cache changed the original")
	}
}
