package optim_test

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/optim"
)

func TestAdamFixture(t *testing.T) {
	raw, err := os.ReadFile("testdata/adam.json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Config map[string]float64 `json:"config"`
		Inputs map[string]*fixture.Array
		Steps  []map[string]json.RawMessage
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	p := &layers.Param{Name: "param0", Tensor: c.Inputs["param0"].Tensor().SetRequiresGrad(true)}
	opt, err := optim.New("adam", map[string]any{
		"lr": c.Config["lr"], "betas": []any{c.Config["beta1"], c.Config["beta2"]}, "eps": c.Config["eps"],
	}, []*layers.Param{p})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range c.Steps {
		arr := func(k string) *fixture.Array {
			var a fixture.Array
			if err := json.Unmarshal(st[k], &a); err != nil {
				t.Fatal(err)
			}
			return &a
		}
		p.Grad = arr("grad").Tensor().Data
		opt.Step(opt.BaseLR())
		state := opt.State()
		for _, x := range []struct {
			name string
			got  []float32
		}{{"m", state["param0.m"].Data}, {"v", state["param0.v"].Data}, {"param", p.Data}} {
			if d, i := fixture.MaxDiff(x.got, arr(x.name).Data); d > 1e-5 {
				t.Errorf("step %s: %s differs from PyTorch by %.3g at %d", st["t"], x.name, d, i)
			}
		}
	}
}

func newParam(vals ...float32) *layers.Param {
	p := layers.NewParam("w", len(vals))
	copy(p.Data, vals)
	return p
}

func TestSGDMomentum(t *testing.T) {
	p := newParam(1, -2)
	opt, err := optim.New("sgd", map[string]any{"lr": 0.1, "momentum": 0.9}, []*layers.Param{p})
	if err != nil {
		t.Fatal(err)
	}
	// Constant gradient 1: buffers 1, 1.9 → p = 1 − 0.1 − 0.19.
	for i := 0; i < 2; i++ {
		p.Grad = []float32{1, 1}
		opt.Step(0.1)
	}
	if want := float32(1 - 0.1 - 0.19); math.Abs(float64(p.Data[0]-want)) > 1e-6 {
		t.Fatalf("p = %v, want %v", p.Data[0], want)
	}
}

// TestAdamWDecouplesDecay: one step from p = 2 with gradient −0.5, lr 0.1
// and weight decay 0.5, where the two kinds of decay disagree. The first
// Adam step moves p by lr against the sign of the gradient it sees
// (m̂/√v̂ = ±1). Adam adds wd·p = 1 to the gradient, which becomes +0.5:
// p = 2 − 0.1 = 1.9. AdamW decays p to 2·(1 − 0.1·0.5) = 1.9 and then steps
// against the raw gradient −0.5: p = 1.9 + 0.1 = 2.0. (Without decay p
// would be 2.1; the fixtures adamw_decay.json and adam_l2.json check the
// decay over several steps.)
func TestAdamWDecouplesDecay(t *testing.T) {
	for _, tc := range []struct {
		name string
		want float32
	}{{"adam", 1.9}, {"adamw", 2.0}} {
		p := newParam(2)
		opt, err := optim.New(tc.name, map[string]any{"lr": 0.1, "weight_decay": 0.5}, []*layers.Param{p})
		if err != nil {
			t.Fatal(err)
		}
		p.Grad = []float32{-0.5}
		opt.Step(0.1)
		if math.Abs(float64(p.Data[0]-tc.want)) > 1e-6 {
			t.Errorf("%s, one step with weight decay: p = %v, want %v", tc.name, p.Data[0], tc.want)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, name := range []string{"adam", "adamw", "sgd"} {
		params := map[string]any{"lr": 0.05}
		if name == "sgd" {
			params["momentum"] = 0.5
		}
		a, b := newParam(1, 2, 3), newParam(1, 2, 3)
		oa, _ := optim.New(name, params, []*layers.Param{a})
		ob, _ := optim.New(name, params, []*layers.Param{b})
		grads := [][]float32{{0.1, -0.2, 0.3}, {0.5, 0.1, -0.4}, {-0.3, 0.2, 0.2}}
		a.Grad = grads[0]
		oa.Step(0.05)
		// Save a's state, restore it into b (with b's params copied).
		copy(b.Data, a.Data)
		saved := map[string][]float32{}
		for k, v := range oa.State() {
			saved[k] = append([]float32(nil), v.Data...)
		}
		st := ob.State()
		for k := range st {
			copy(st[k].Data, saved[k])
		}
		if err := ob.LoadState(oa.State(), oa.Steps()); err != nil {
			t.Fatal(err)
		}
		for _, g := range grads[1:] {
			a.Grad, b.Grad = g, g
			oa.Step(0.05)
			ob.Step(0.05)
		}
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				t.Fatalf("%s: resumed optimizer diverged: %v vs %v", name, a.Data, b.Data)
			}
		}
		if err := ob.LoadState(nil, 0); err == nil || !strings.Contains(err.Error(), "missing tensor") {
			t.Fatalf("%s: LoadState(nil) error = %v", name, err)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	a, b := newParam(0, 0), newParam(0)
	a.Grad, b.Grad = []float32{3, 0}, []float32{4}
	norm := optim.ClipGradNorm([]*layers.Param{a, b}, 1)
	if norm != 5 {
		t.Fatalf("norm = %v, want 5", norm)
	}
	got := math.Sqrt(float64(a.Grad[0]*a.Grad[0] + b.Grad[0]*b.Grad[0]))
	if math.Abs(got-1) > 1e-5 {
		t.Fatalf("norm after clipping = %v, want 1", got)
	}
	optim.ClipGradNorm([]*layers.Param{a, b}, 10) // below the limit: unchanged
	if math.Abs(float64(a.Grad[0])-0.6) > 1e-5 {
		t.Fatalf("clipping below the limit changed the gradient: %v", a.Grad)
	}
}

func TestSchedules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		total  int
		steps  []int
		want   []float64
	}{
		{"constant", nil, 100, []int{1, 50, 100}, []float64{1, 1, 1}},
		{"noam", map[string]any{"warmup": 10}, 100, []int{1, 5, 10, 40}, []float64{0.1, 0.5, 1, 0.5}},
		{"cosine", map[string]any{"warmup": 10, "min_factor": 0.1}, 110, []int{5, 10, 60, 110}, []float64{0.5, 1, 0.55, 0.1}},
	} {
		s, err := optim.NewSchedule(tc.name, tc.params, tc.total)
		if err != nil {
			t.Fatal(err)
		}
		for i, step := range tc.steps {
			if got := s.Factor(step); math.Abs(got-tc.want[i]) > 1e-9 {
				t.Errorf("%s.Factor(%d) = %v, want %v", tc.name, step, got, tc.want[i])
			}
		}
	}
}

func TestParamValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"adam", map[string]any{"lr": -1}, `lr: must be positive, got -1 for optimizer "adam"`},
		{"adam", map[string]any{"betas": []any{0.9}}, `betas: want two values, got 1 for optimizer "adam"`},
		// eps 0 turns every exactly-zero gradient (the padding embedding's)
		// into NaN weights: refused, as is an eps that rounds to 0 in float32.
		// (0 is refused by its range tag, which attnlab list shows.)
		{"adam", map[string]any{"eps": 0}, `eps: must be positive, got 0 for optimizer "adam"`},
		{"adamw", map[string]any{"eps": 1e-50}, `eps: must be positive (at least 1.4e-45, float32's smallest): with 0 a zero gradient makes the weight NaN, got 1e-50 for optimizer "adamw"`},
		{"adam", map[string]any{"lrr": 1}, `lrr: unknown key (known: lr, betas, eps, weight_decay) for optimizer "adam"`},
		{"sgd", map[string]any{"nesterov": true}, `nesterov: needs a positive momentum for optimizer "sgd"`},
		{"adagrad", nil, `optimizer: unknown name "adagrad" (known: adam, adamw, sgd)`},
	} {
		_, err := optim.New(tc.name, tc.params, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%s, %v) error = %v, want %q", tc.name, tc.params, err, tc.want)
		}
	}
	if _, err := optim.NewSchedule("noam", map[string]any{"warmup": 0}, 10); err == nil {
		t.Error("noam with warmup 0 accepted")
	}
	// attnlab list shows the range tag: it must not offer the 0 refused above.
	noam, _ := optim.Schedules.Lookup("noam")
	for _, p := range noam.Describe() {
		if p.Name == "warmup" && !strings.HasPrefix(p.Range, "[1,") {
			t.Errorf("noam's warmup is documented as %s, but 0 is refused", p.Range)
		}
	}
}

// TestAdamFlat: the optimizer moves parameters and gradients into flat
// slabs without changing their values, skips a parameter that never had a
// gradient, and gives the same updates as over separate slices (a list
// holding one tensor twice stays unflattened).
func TestAdamFlat(t *testing.T) {
	mk := func() []*layers.Param {
		return []*layers.Param{newParam(1, -2, 3), newParam(0.5), newParam(4, 5)}
	}
	flat := mk()
	unused := flat[1]
	opt := optim.NewAdam(flat, optim.AdamParams{LR: 0.1, Betas: []float64{0.9, 0.99}, Eps: 1e-8}, false)
	if flat[0].Data[1] != -2 || flat[2].Data[1] != 5 || unused.Data[0] != 0.5 {
		t.Fatal("NewAdam changed parameter values")
	}
	// The same parameters listed with a duplicate: no slabs.
	dup := mk()
	optDup := optim.NewAdam(append(dup, dup[0]), optim.AdamParams{LR: 0.1, Betas: []float64{0.9, 0.99}, Eps: 1e-8}, false)
	for step := 0; step < 3; step++ {
		for _, ps := range [][]*layers.Param{flat, dup} {
			for _, i := range []int{0, 2} {
				if ps[i].Grad == nil {
					ps[i].Grad = make([]float32, ps[i].Len())
				}
				for j := range ps[i].Grad {
					ps[i].Grad[j] = float32(step+1) * float32(j-1) // accumulated in place, as backward does
				}
			}
		}
		opt.Step(0.1)
		// The duplicate entry gets the gradient once more (twice the update
		// of dup[0]); compare only the others.
		optDup.Step(0.1)
	}
	if unused.Data[0] != 0.5 || unused.Grad != nil {
		t.Fatalf("a parameter without a gradient moved: %v", unused.Data)
	}
	for j := range flat[2].Data {
		if flat[2].Data[j] != dup[2].Data[j] {
			t.Fatalf("flat %v, separate %v", flat[2].Data, dup[2].Data)
		}
	}
	if flat[2].Data[0] == 4 {
		t.Fatal("no update")
	}
}

// TestScheduleEdges: hand-computed factors where the schedules change
// regime, which TestSchedules does not reach: cosine without warmup
// (step 1 is already decaying: p = 1/total), past the last step (held at
// min_factor, not rising again along the cosine), a run that is all
// warmup, and noam's shortest warmup.
func TestScheduleEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		total  int
		steps  []int
		want   []float64
	}{
		{"cosine", nil, 100, []int{1, 25, 50, 100, 101, 150, 200},
			[]float64{0.5 * (1 + math.Cos(math.Pi/100)), 0.5 * (1 + math.Sqrt2/2), 0.5, 0, 0, 0, 0}},
		{"cosine", map[string]any{"warmup": 4, "min_factor": 0.2}, 104, []int{1, 4, 5, 54, 104, 150},
			[]float64{0.25, 1, 0.2 + 0.8*0.5*(1+math.Cos(math.Pi/100)), 0.6, 0.2, 0.2}},
		{"cosine", map[string]any{"warmup": 10}, 10, []int{1, 10, 11, 20}, []float64{0.1, 1, 0, 0}},
		{"noam", map[string]any{"warmup": 1}, 100, []int{1, 4, 100}, []float64{1, 0.5, 0.1}},
		{"noam", map[string]any{"warmup": 16}, 100, []int{8, 16, 64}, []float64{0.5, 1, 0.5}},
	} {
		s, err := optim.NewSchedule(tc.name, tc.params, tc.total)
		if err != nil {
			t.Fatal(err)
		}
		for i, step := range tc.steps {
			if got := s.Factor(step); math.Abs(got-tc.want[i]) > 1e-12 {
				t.Errorf("%s %v (total %d).Factor(%d) = %v, want %v", tc.name, tc.params, tc.total, step, got, tc.want[i])
			}
		}
	}
}
