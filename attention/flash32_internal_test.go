package attention

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/attnlab/attnlab/tensor"
)

// TestFlash32MatchesDense: the fused flash kernel for heads of 32 gives
// the context and the gradients of q, k and v of the dense kernel (weights
// requested, P materialised) and of the flash tile loop within 2e-5, for
// lengths that are and are not multiples of its tiles (8 keys, 32
// queries), with and without key padding, a batch row whose keys are all
// masked, queries and keys of different lengths, scores peaked enough
// that the running maximum moves, for chunked and for a long dense
// attention; and the fused kernel really ran.
func TestFlash32MatchesDense(t *testing.T) {
	if !flashAVX512 {
		t.Skip("no AVX-512: the fused kernel does not run on this CPU")
	}
	for _, tc := range []struct {
		variant string
		tq, tk  int
		mask    string // "", "pad" (row 1 keeps 2/3 of its keys), "dead" (row 1 keeps none)
	}{
		{"scaled-dot", 256, 256, ""},
		{"scaled-dot", 300, 300, "pad"},
		{"scaled-dot", 257, 263, "dead"},
		{"chunked", 1, 1, ""},
		{"chunked", 7, 7, "pad"},
		{"chunked", 33, 40, ""},
		{"chunked", 64, 64, "dead"},
		{"chunked", 100, 37, "pad"},
		{"chunked", 31, 129, ""},
	} {
		t.Run(fmt.Sprintf("%s/%dx%d/%s", tc.variant, tc.tq, tc.tk, tc.mask), func(t *testing.T) {
			const heads, hd, b = 3, 32, 2
			d := Dims{Query: hd, Key: hd, Value: hd, Heads: heads}
			rng := tensor.NewRNG(uint64(tc.tq*1000 + tc.tk))
			q := rng.Normal(tensor.New(b, tc.tq, heads*hd), 0, 1.5).SetRequiresGrad(true)
			k := rng.Normal(tensor.New(b, tc.tk, heads*hd), 0, 1.5).SetRequiresGrad(true)
			v := rng.Normal(tensor.New(b, tc.tk, heads*hd), 0, 1).SetRequiresGrad(true)
			up := rng.Uniform(tensor.New(b, tc.tq, heads*hd), -1, 1).Data
			var mask *tensor.Tensor
			switch tc.mask {
			case "pad":
				mask = KeyPaddingMask([]int{tc.tk, max(1, tc.tk-tc.tk/3)}, tc.tk)
			case "dead":
				mask = KeyPaddingMask([]int{tc.tk, 0}, tc.tk)
			}
			run := func(fused, weights bool) (ctx []float32, grads [3][]float32, op string) {
				old := flashFusedOn
				flashFusedOn = fused
				defer func() { flashFusedOn = old }()
				a, err := New(tc.variant, nil, d)
				if err != nil {
					t.Fatal(err)
				}
				if weights {
					a.(WeightsOnRequest).RequestWeights(true)
				}
				for _, x := range []*tensor.Tensor{q, k, v} {
					x.ZeroGrad()
				}
				c, _ := a.Attend(q, k, v, mask)
				tensor.BackwardFrom([]*tensor.Tensor{c}, [][]float32{up})
				for i, x := range []*tensor.Tensor{q, k, v} {
					grads[i] = append([]float32(nil), x.Grad...)
				}
				return append([]float32(nil), c.Data...), grads, c.Op()
			}
			ctx, grads, op := run(true, false)
			if op != "ChunkedAttention" {
				t.Fatalf("context from %s, want the flash op", op)
			}
			refs := map[string]func() ([]float32, [3][]float32, string){
				"the flash tile loop": func() ([]float32, [3][]float32, string) { return run(false, false) },
			}
			if tc.variant == "scaled-dot" {
				refs["the dense kernel"] = func() ([]float32, [3][]float32, string) { return run(false, true) }
			}
			for name, ref := range refs {
				wctx, wgrads, _ := ref()
				if dd := maxAbsDiff32(ctx, wctx); dd > 2e-5 {
					t.Errorf("context differs from %s by %.3g", name, dd)
				}
				for i, n := range []string{"q", "k", "v"} {
					if dd := maxAbsDiff32(grads[i], wgrads[i]); dd > 2e-5 {
						t.Errorf("gradient of %s differs from %s by %.3g", n, name, dd)
					}
				}
			}
			if tc.mask == "dead" {
				row := ctx[tc.tq*heads*hd:]
				for i, x := range row {
					if x != 0 {
						t.Fatalf("fully masked batch row: context[%d] = %v, want 0", i, x)
					}
				}
			}
		})
	}
}

func maxAbsDiff32(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

// BenchmarkFlash32Kernels times the fused kernels on hot operands: one
// query block over 4096 keys (forward), and one key block of 64 over 128
// query blocks (backward); GFLOP/s counts 2 (forward) and 5 (backward)
// products of 2·32 flops per query-key pair.
func BenchmarkFlash32Kernels(b *testing.B) {
	if !flashAVX512 {
		b.Skip("no AVX-512")
	}
	const n = 4096
	rng := tensor.NewRNG(1)
	x := rng.Normal(tensor.New(8*n*fq), 0, 1).Data
	ks, vs, qt := x[:n*fq], x[n*fq:2*n*fq], x[2*n*fq:2*n*fq+n*fq]
	b.Run("fwd", func(b *testing.B) {
		ot := make([]float32, fq*fq)
		ml := make([]float32, 2*fq)
		sec := threadCPULoop(b, func() {
			for i := range fq {
				ml[i], ml[fq+i] = -math.MaxFloat32, 0
			}
			flashFwd32(&qt[0], &ks[0], &vs[0], n, &ot[0], &ml[0], nil)
		})
		b.ReportMetric(sec*1e9/float64(n/fk), "cpu-ns/tile")
		b.ReportMetric(2*2*32*float64(fq*n)/sec/1e9, "GFLOP/s-cpu")
	})
	b.Run("bwd", func(b *testing.B) {
		dot, qr, dor, dqt := x[3*n*fq:4*n*fq], x[4*n*fq:5*n*fq], x[5*n*fq:6*n*fq], make([]float32, n*fq)
		lsed := make([]float32, 2*n)
		for i := range lsed {
			lsed[i] = 3
		}
		dk, dv, scr := make([]float32, fkb*fq), make([]float32, fkb*fq), make([]float32, fk*fq)
		sec := threadCPULoop(b, func() {
			for qb := 0; qb < n/fq; qb++ {
				o := qb * fq * fq
				flashBwd32(&qt[o], &dot[o], &qr[o], &dor[o], &lsed[qb*2*fq], &ks[0], &vs[0], &dk[0], &dv[0], &dqt[o], &scr[0], nil, fkb/fk)
			}
		})
		tiles := float64(n/fq) * fkb / fk
		b.ReportMetric(sec*1e9/tiles, "cpu-ns/tile")
		b.ReportMetric(5*2*32*float64(fkb*n)/sec/1e9, "GFLOP/s-cpu")
	})
}

// threadCPULoop runs f b.N times (b.Loop) on a locked thread and returns
// the thread's CPU seconds per call (steadier than wall time on a shared
// machine).
func threadCPULoop(b *testing.B, f func()) float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := func() float64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			b.Fatal(err)
		}
		return float64(ts.Nano()) / 1e9
	}
	t0, n := cpu(), 0
	for b.Loop() {
		f()
		n++
	}
	return (cpu() - t0) / float64(n)
}

// TestFlash32GradCheck: the fused kernel's gradients against central
// differences, under key padding, with separate q, k, v and with one
// tensor as all three (the gradients of the three uses add up).
func TestFlash32GradCheck(t *testing.T) {
	if !flashAVX512 {
		t.Skip("no AVX-512: the fused kernel does not run on this CPU")
	}
	const heads, hd = 2, 32
	a, err := New("chunked", nil, Dims{Query: hd, Key: hd, Value: hd, Heads: heads})
	if err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(23)
	q := rng.Normal(tensor.New(2, 5, heads*hd), 0, 1).SetRequiresGrad(true)
	k := rng.Normal(tensor.New(2, 11, heads*hd), 0, 1).SetRequiresGrad(true)
	v := rng.Normal(tensor.New(2, 11, heads*hd), 0, 1).SetRequiresGrad(true)
	x := rng.Normal(tensor.New(2, 9, heads*hd), 0, 1).SetRequiresGrad(true)
	for name, tc := range map[string]struct {
		q, k, v, mask *tensor.Tensor
		inputs        map[string]*tensor.Tensor
	}{
		"qkv":  {q, k, v, KeyPaddingMask([]int{11, 6}, 11), map[string]*tensor.Tensor{"q": q, "k": k, "v": v}},
		"self": {x, x, x, KeyPaddingMask([]int{9, 4}, 9), map[string]*tensor.Tensor{"x": x}},
	} {
		t.Run(name, func(t *testing.T) {
			var op string
			f := func() []*tensor.Tensor {
				c, _ := a.Attend(tc.q, tc.k, tc.v, tc.mask)
				op = c.Op()
				return []*tensor.Tensor{c}
			}
			if err := tensor.GradCheck(f, tc.inputs, tensor.GradCheckOptions{}); err != nil {
				t.Fatal(err)
			}
			if op != "ChunkedAttention" {
				t.Fatalf("context from %s, want the flash op", op)
			}
		})
	}
}
