package web

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/attnlab/attnlab/store"
)

func TestAlignExact(t *testing.T) {
	a := line{steps: []int{0, 10, 20}, ch: [][]float64{{3, 2, 1}}}
	b := line{steps: []int{10, 30}, ch: [][]float64{{5, math.NaN()}}}
	al := align([]line{a, b}, 100)
	if want := []float64{0, 10, 20, 30}; !slices.Equal(al.x, want) || al.width != 0 {
		t.Fatalf("x = %v width %d, want %v and 0", al.x, al.width, want)
	}
	same := func(got, want []float64) bool {
		return slices.EqualFunc(got, want, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
	}
	nan := math.NaN()
	if got := al.lines[0][0]; !same(got, []float64{3, 2, 1, nan}) {
		t.Errorf("line a = %v", got)
	}
	if got := al.lines[1][0]; !same(got, []float64{nan, 5, nan, nan}) {
		t.Errorf("line b = %v (NaN is a gap)", got)
	}
}

// TestAlignKeepsExtremes checks the downsampling on random histories of
// different lengths and steps: at most maxPoints x values, in increasing
// order; each line's minimum and maximum kept; each value one of the
// line's own; band edges that still cover every point.
func TestAlignKeepsExtremes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		var lines []line
		nl := 1 + rng.IntN(6)
		for range nl {
			n := 1 + rng.IntN(20000)
			every := 1 + rng.IntN(5)
			start := rng.IntN(100)
			l := line{ch: [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}}
			for i := range n {
				l.steps = append(l.steps, start+i*every)
				v := rng.NormFloat64()
				if rng.IntN(500) == 0 {
					v = 100 * rng.NormFloat64() // a spike
				}
				if rng.IntN(1000) == 0 {
					v = math.NaN()
				}
				l.ch[0][i], l.ch[1][i], l.ch[2][i] = v, v-1-rng.Float64(), v+1+rng.Float64()
			}
			lines = append(lines, l)
		}
		maxPoints := 2 * (50 + rng.IntN(500))
		al := align(lines, maxPoints)
		if len(al.x) > maxPoints {
			t.Fatalf("trial %d: %d x values, want at most %d", trial, len(al.x), maxPoints)
		}
		for i := 1; i < len(al.x); i++ {
			if al.x[i] <= al.x[i-1] {
				t.Fatalf("trial %d: x not increasing at %d: %v then %v", trial, i, al.x[i-1], al.x[i])
			}
		}
		for li, l := range lines {
			lo, hi := extremes(l.ch[0])
			glo, ghi := extremes(al.lines[li][0])
			if lo != glo || hi != ghi {
				t.Errorf("trial %d line %d: range [%v, %v] after, [%v, %v] before", trial, li, glo, ghi, lo, hi)
			}
			blo, _ := extremes(l.ch[1])
			_, bhi := extremes(l.ch[2])
			gblo, _ := extremes(al.lines[li][1])
			_, gbhi := extremes(al.lines[li][2])
			if blo != gblo || bhi != gbhi {
				t.Errorf("trial %d line %d: band [%v, %v] after, [%v, %v] before", trial, li, gblo, gbhi, blo, bhi)
			}
			own := map[float64]bool{}
			for _, v := range l.ch[0] {
				own[v] = true
			}
			for _, v := range al.lines[li][0] {
				if !math.IsNaN(v) && !own[v] {
					t.Fatalf("trial %d line %d: value %v is not one of the line's", trial, li, v)
				}
			}
			if al.width == 0 && len(al.x) != countSteps(lines) {
				t.Errorf("trial %d: exact alignment with %d x for %d steps", trial, len(al.x), countSteps(lines))
			}
		}
	}
}

func extremes(vals []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if finite(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

func countSteps(lines []line) int {
	set := map[int]bool{}
	for _, l := range lines {
		for _, s := range l.steps {
			set[s] = true
		}
	}
	return len(set)
}

func TestFloatsJSON(t *testing.T) {
	b, err := floats{0, 1, -2.5, 1.23456789, 1e-7, math.NaN(), math.Inf(1), 123456789, 0.1 + 0.2}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if want := `[0,1,-2.5,1.23457,1e-07,null,null,123456789,0.3]`; string(b) != want {
		t.Errorf("floats = %s, want %s", b, want)
	}
}

func TestGroupLine(t *testing.T) {
	hist := map[int64]curve{
		1: {steps: []int32{0, 10, 20}, values: []float32{1, 2, float32(math.NaN())}},
		2: {steps: []int32{0, 10}, values: []float32{3, 4}},
		3: {steps: []int32{0}, values: []float32{float32(math.Inf(1))}},
	}
	var buf []store.MetricPoint
	l, g := groupLine([]int64{1, 2, 3, 4}, hist, bandMinMax, &buf, nil)
	if g.Runs != 2 || !slices.Equal(l.steps, []int{0, 10}) {
		t.Fatalf("groupLine: %d runs, steps %v; want 2 runs (NaN, Inf and missing left out), steps [0 10]", g.Runs, l.steps)
	}
	if !slices.Equal(l.ch[0], []float64{2, 3}) || !slices.Equal(l.ch[1], []float64{1, 2}) || !slices.Equal(l.ch[2], []float64{3, 4}) || !slices.Equal(l.ch[3], []float64{2, 2}) {
		t.Errorf("min–max: mean %v lo %v hi %v n %v", l.ch[0], l.ch[1], l.ch[2], l.ch[3])
	}
	l, _ = groupLine([]int64{1, 2}, hist, bandStd, &buf, nil)
	sd := math.Sqrt(2) // sample std of {1, 3} and of {2, 4}
	if !slices.Equal(l.ch[0], []float64{2, 3}) || math.Abs(l.ch[1][0]-(2-sd)) > 1e-12 || math.Abs(l.ch[2][1]-(3+sd)) > 1e-12 {
		t.Errorf("± std: mean %v lo %v hi %v", l.ch[0], l.ch[1], l.ch[2])
	}
}

// TestGroupLineStopsEarly checks that a group's band is only where all its
// runs have a value: beyond the step where one stops (early stopping) or
// diverges, the mean goes on over the runs left, without band, and the
// count says how many they are.
func TestGroupLineStopsEarly(t *testing.T) {
	nan := float32(math.NaN())
	hist := map[int64]curve{
		1: {steps: []int32{0, 10, 20, 30}, values: []float32{4, 3, 2, 1}},
		2: {steps: []int32{0, 10, 20, 30}, values: []float32{6, 5, 4, 3}},
		3: {steps: []int32{0, 10}, values: []float32{8, 7}},                   // stops early
		4: {steps: []int32{0, 10, 20, 30}, values: []float32{2, 1, nan, nan}}, // diverges
	}
	for _, band := range []string{bandMinMax, bandStd} {
		var buf []store.MetricPoint
		l, g := groupLine([]int64{1, 2, 3, 4}, hist, band, &buf, nil)
		if g.Runs != 4 || g.Early != 1 || g.Diverged != 1 || g.Ends() != "1 end early, 1 diverged" {
			t.Errorf("%s: runs %d, early %d, diverged %d (%q); want 4, 1, 1", band, g.Runs, g.Early, g.Diverged, g.Ends())
		}
		if !slices.Equal(l.ch[0], []float64{5, 4, 3, 2}) || !slices.Equal(l.ch[3], []float64{4, 4, 2, 2}) {
			t.Errorf("%s: mean %v over %v runs, want [5 4 3 2] over [4 4 2 2]", band, l.ch[0], l.ch[3])
		}
		for j := range l.steps {
			if has := finite(l.ch[1][j]) && finite(l.ch[2][j]); has != (j < 2) {
				t.Errorf("%s step %d: band [%v, %v], want one only at steps 0 and 10", band, l.steps[j], l.ch[1][j], l.ch[2][j])
			}
		}
	}
}

// TestGroupLineRandom checks groupLine against a plain map-based mean,
// minimum and maximum per step on random histories whose steps interleave,
// repeat across runs, hold NaN, and (one of them) are not in order.
func TestGroupLineRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		hist := map[int64]curve{}
		var ids []int64
		for id := range int64(1 + rng.IntN(6)) {
			ids = append(ids, id)
			var cv curve
			for s := int32(rng.IntN(5)); s < 60; s += int32(1 + rng.IntN(7)) {
				v := float32(rng.NormFloat64())
				if rng.IntN(10) == 0 {
					v = float32(math.NaN())
				}
				cv.steps, cv.values = append(cv.steps, s), append(cv.values, v)
			}
			if id == 2 && len(cv.steps) > 1 {
				cv.steps[0], cv.steps[len(cv.steps)-1] = cv.steps[len(cv.steps)-1], cv.steps[0]
				cv.values[0], cv.values[len(cv.values)-1] = cv.values[len(cv.values)-1], cv.values[0]
			}
			hist[id] = cv
		}
		type acc struct{ sum, lo, hi, n float64 }
		want := map[int]*acc{}
		for _, id := range ids {
			cv := hist[id]
			for i, s := range cv.steps {
				v := float64(cv.values[i])
				if math.IsNaN(v) {
					continue
				}
				a := want[int(s)]
				if a == nil {
					a = &acc{lo: v, hi: v}
					want[int(s)] = a
				}
				a.sum, a.n, a.lo, a.hi = a.sum+v, a.n+1, math.Min(a.lo, v), math.Max(a.hi, v)
			}
		}
		var buf []store.MetricPoint
		l, g := groupLine(ids, hist, bandMinMax, &buf, nil)
		if len(l.steps) != len(want) || !slices.IsSorted(l.steps) {
			t.Fatalf("trial %d: steps %v, want the %d steps with a value, sorted", trial, l.steps, len(want))
		}
		for i, s := range l.steps {
			a := want[s]
			if a == nil || math.Abs(l.ch[0][i]-a.sum/a.n) > 1e-9 || l.ch[3][i] != a.n {
				t.Fatalf("trial %d step %d: mean %v over %v runs, want %+v", trial, s, l.ch[0][i], l.ch[3][i], a)
			}
			// The band only where every run with data has a value.
			if a.n == float64(g.Runs) && (l.ch[1][i] != a.lo || l.ch[2][i] != a.hi) ||
				a.n < float64(g.Runs) && (!math.IsNaN(l.ch[1][i]) || !math.IsNaN(l.ch[2][i])) {
				t.Fatalf("trial %d step %d: band [%v, %v] with %v of %d runs, want %+v", trial, s, l.ch[1][i], l.ch[2][i], a.n, g.Runs, a)
			}
		}
	}
}
