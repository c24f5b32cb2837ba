package optim_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/attnlab/attnlab/internal/fixture"
	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/optim"
)

// stepsFixture is one file written by testdata/make_fixtures.py: torch.optim
// run for a few steps on two parameters, with the learning rate of each step
// given as the base rate times a schedule factor.
type stepsFixture struct {
	Name   string
	Config struct {
		Optimizer   string
		LR          float64
		Beta1       float64
		Beta2       float64
		Eps         float64
		Momentum    float64
		Nesterov    bool
		WeightDecay float64 `json:"weight_decay"`
		Factors     []float64
	}
	Inputs map[string]*fixture.Array
	Steps  []struct {
		T      int
		LR     float64
		Grads  map[string]*fixture.Array
		Params map[string]*fixture.Array
		State  map[string]*fixture.Array
	}
}

// The fixtures' inputs (initial parameters, gradients) are float32 values,
// so the optimizers start from exactly the references' inputs and differ from
// them only by float32 rounding: a few units of 2⁻²⁴ ≈ 6e-8 relative per
// operation, over a dozen operations an update and six updates (measured:
// below 2e-7 of the tensor's largest value, on the AVX-512 and the Go
// paths). An element
// may differ by stepRelTol of its reference value plus stepRelTol of the
// tensor's largest value (what an element near zero, the difference of
// larger terms, can lose to cancellation). A wrong update differs by more
// than 1e-3 (the generator checks it for every variant it guards against).
const stepRelTol = 2e-6

// compareSteps reports an error when got differs from want by more than the
// tolerance above anywhere, and returns the largest difference as a
// multiple of the tolerance.
func compareSteps(t *testing.T, what string, got []float32, want *fixture.Array) float64 {
	t.Helper()
	if want == nil || len(got) != len(want.Data) {
		t.Fatalf("%s: %d values, the fixture has %v", what, len(got), want)
	}
	scale := 0.0
	for _, w := range want.Data {
		scale = math.Max(scale, math.Abs(w))
	}
	worst, at := 0.0, -1
	for i, w := range want.Data {
		r := math.Abs(float64(got[i])-w) / (stepRelTol * (math.Abs(w) + scale))
		if math.IsNaN(r) || r > worst {
			worst, at = r, i
		}
	}
	if !(worst <= 1) {
		t.Errorf("%s differs from PyTorch at %d: %v, want %v (%.3g times the tolerance)", what, at, got[at], want.Data[at], worst)
	}
	return worst
}

// TestStepsFixtures runs the optimizers as a run does (built by name from
// the YAML parameters, stepped with the base rate times a schedule factor,
// gradients accumulated in place after the first step as ZeroGrad and
// backward do) on the inputs of each PyTorch fixture, and compares the
// parameters and the optimizer state after every step. Together the
// fixtures cover Adam's L2 weight decay, AdamW's decoupled decay, SGD's
// momentum, Nesterov momentum and weight decay; the flat Adam update runs
// over 22 values (one 16-lane block and a tail for the AVX-512 kernel).
func TestStepsFixtures(t *testing.T) {
	for _, name := range []string{
		"adamw_decay", "adam_l2",
		"sgd_momentum", "sgd_nesterov", "sgd_weight_decay", "sgd_nesterov_decay", "sgd_momentum_decay",
	} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var c stepsFixture
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			if c.Name != name || len(c.Steps) < 5 || len(c.Config.Factors) != len(c.Steps) {
				t.Fatalf("fixture %s: name %q, %d steps, %d factors", name, c.Name, len(c.Steps), len(c.Config.Factors))
			}
			var names []string
			for k := range c.Inputs {
				names = append(names, k)
			}
			sort.Strings(names)
			params := make([]*layers.Param, len(names))
			for i, k := range names {
				params[i] = &layers.Param{Name: k, Tensor: c.Inputs[k].Tensor().SetRequiresGrad(true)}
			}
			cfg := map[string]any{"lr": c.Config.LR, "weight_decay": c.Config.WeightDecay}
			if c.Config.Optimizer == "sgd" {
				cfg["momentum"], cfg["nesterov"] = c.Config.Momentum, c.Config.Nesterov
			} else {
				cfg["betas"], cfg["eps"] = []any{c.Config.Beta1, c.Config.Beta2}, c.Config.Eps
			}
			opt, err := optim.New(c.Config.Optimizer, cfg, params)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, st := range c.Steps {
				for _, p := range params {
					g := st.Grads[p.Name].Tensor().Data
					if p.Grad == nil {
						p.Grad = g
					} else {
						copy(p.Grad, g) // the buffer backward accumulates into
					}
				}
				lr := opt.BaseLR() * c.Config.Factors[i]
				if math.Abs(lr-st.LR) > 1e-15 {
					t.Fatalf("step %d: lr %v, the fixture's %v", st.T, lr, st.LR)
				}
				opt.Step(lr)
				// The fixture lists PyTorch's state; attnlab's plain SGD
				// also keeps (unused, zero) momentum buffers.
				state := opt.State()
				for k, want := range st.State {
					s, ok := state[k]
					if !ok {
						t.Fatalf("step %d: no state %q", st.T, k)
					}
					worst = math.Max(worst, compareSteps(t, fmt.Sprintf("step %d %s", st.T, k), s.Data, want))
				}
				for _, p := range params {
					worst = math.Max(worst, compareSteps(t, fmt.Sprintf("step %d %s", st.T, p.Name), p.Data, st.Params[p.Name]))
				}
			}
			if opt.Steps() != len(c.Steps) {
				t.Errorf("Steps() = %d, want %d", opt.Steps(), len(c.Steps))
			}
			t.Logf("largest difference: %.2g of the tolerance", worst)
		})
	}
}
