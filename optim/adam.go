package optim

import (
	"math"
	"unsafe"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// AdamParams are the parameters of adam and adamw.
type AdamParams struct {
	LR          float64   `yaml:"lr" doc:"base learning rate (multiplied by the schedule)" range:"(0,]"`
	Betas       []float64 `yaml:"betas" doc:"coefficients of the running averages of the gradient and its square" range:"[0,1)"`
	Eps         float64   `yaml:"eps" doc:"added to the denominator, after bias correction" range:"(0,]"`
	WeightDecay float64   `yaml:"weight_decay" doc:"adam: L2 penalty added to the gradient; adamw: decoupled decay" range:"[0,]"`
}

// Validate checks the ranges.
func (p *AdamParams) Validate() error {
	switch {
	case !(p.LR > 0):
		return registry.Invalid("lr", "must be positive, got %v", p.LR)
	case len(p.Betas) != 2:
		return registry.Invalid("betas", "want two values, got %d", len(p.Betas))
	case p.Betas[0] < 0 || p.Betas[0] >= 1 || p.Betas[1] < 0 || p.Betas[1] >= 1:
		return registry.Invalid("betas", "each must be in [0, 1), got %v", p.Betas)
	case !(float32(p.Eps) > 0):
		// The update divides by √v̂ + eps in float32: with eps 0 (or below
		// float32's smallest, which rounds to 0) a parameter whose gradient
		// is exactly 0, such as the padding embedding, becomes 0/0 = NaN.
		return registry.Invalid("eps", "must be positive (at least %.2g, float32's smallest): with 0 a zero gradient makes the weight NaN, got %v", math.SmallestNonzeroFloat32, p.Eps)
	case p.WeightDecay < 0:
		return registry.Invalid("weight_decay", "must not be negative, got %v", p.WeightDecay)
	}
	return nil
}

func defaultAdam(wd float64) *AdamParams {
	return &AdamParams{LR: 1e-3, Betas: []float64{0.9, 0.999}, Eps: 1e-8, WeightDecay: wd}
}

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name: "adam", Doc: "Adam (Kingma & Ba 2015), as torch.optim.Adam",
		Params: defaultAdam(0),
		New: func(p any, ps []*layers.Param) (Optimizer, error) {
			return NewAdam(ps, *p.(*AdamParams), false), nil
		},
	})
	Registry.Register(registry.Entry[Factory]{
		Name: "adamw", Doc: "AdamW, Adam with decoupled weight decay (Loshchilov & Hutter 2019), as torch.optim.AdamW",
		Params: defaultAdam(0.01),
		New: func(p any, ps []*layers.Param) (Optimizer, error) {
			return NewAdam(ps, *p.(*AdamParams), true), nil
		},
	})
}

// Adam implements Adam and AdamW:
//
//	m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
//	p ← p − (lr/(1−β₁ᵗ))·m/(√v/√(1−β₂ᵗ) + ε)
//
// with weight decay either added to g (Adam) or applied as p ← p(1−lr·wd)
// before the update (AdamW).
//
// The parameters, their gradients and the moments live in four flat
// slabs: NewAdam moves every parameter's values into the first (its Data
// becomes a window of it), and a gradient the backward pass allocated is
// moved into the second on the first Step (its Grad becomes a window too),
// so that once every parameter has a gradient an update is one pass over
// flat memory (tensor.AdamUpdate). A parameter that never had a gradient is
// skipped, as PyTorch skips a parameter whose grad is None.
type Adam struct {
	params    []*layers.Param
	m, v      [][]float32 // windows of the moment slabs
	p         AdamParams
	decoupled bool
	t         int

	flat         bool // the parameters are distinct tensors living in data
	data, grad   []float32
	mslab, vslab []float32
	offs         []int
}

// NewAdam returns an Adam (decoupled: AdamW) optimizer over ps.
func NewAdam(ps []*layers.Param, p AdamParams, decoupled bool) *Adam {
	a := &Adam{params: ps, p: p, decoupled: decoupled, offs: make([]int, len(ps)+1)}
	seen := make(map[*tensor.Tensor]bool, len(ps))
	a.flat = true
	for i, q := range ps {
		if seen[q.Tensor] {
			a.flat = false // the same tensor twice: keep it where it is
		}
		seen[q.Tensor] = true
		a.offs[i+1] = a.offs[i] + q.Len()
	}
	total := a.offs[len(ps)]
	a.mslab, a.vslab = make([]float32, total), make([]float32, total)
	for i := range ps {
		a.m = append(a.m, a.mslab[a.offs[i]:a.offs[i+1]:a.offs[i+1]])
		a.v = append(a.v, a.vslab[a.offs[i]:a.offs[i+1]:a.offs[i+1]])
	}
	if a.flat {
		a.data, a.grad = make([]float32, total), make([]float32, total)
		for i, q := range ps {
			w := a.data[a.offs[i]:a.offs[i+1]:a.offs[i+1]]
			copy(w, q.Data)
			q.Data = w
		}
	}
	return a
}

// Step applies one update; parameters without a gradient are skipped.
func (a *Adam) Step(lr float64) {
	a.t++
	b1, b2 := a.p.Betas[0], a.p.Betas[1]
	h := tensor.AdamHyper{
		Beta1:    float32(b1),
		Beta2:    float32(b2),
		StepSize: float32(lr / (1 - math.Pow(b1, float64(a.t)))),
		InvBC2:   float32(1 / math.Sqrt(1-math.Pow(b2, float64(a.t)))),
		Eps:      float32(a.p.Eps),
		Decay:    1,
	}
	if a.decoupled {
		h.Decay = float32(1 - lr*a.p.WeightDecay)
	} else {
		h.L2 = float32(a.p.WeightDecay)
	}
	all := a.flat
	for i, q := range a.params {
		if q.Grad == nil {
			all = false
			continue
		}
		if !a.flat {
			tensor.AdamUpdate(q.Data, q.Grad, a.m[i], a.v[i], h)
			continue
		}
		w := a.grad[a.offs[i]:a.offs[i+1]:a.offs[i+1]]
		if len(w) > 0 && unsafe.SliceData(q.Grad) != unsafe.SliceData(w) {
			// A gradient the backward pass (or a caller) allocated: move it
			// into the slab, where the next steps accumulate.
			copy(w, q.Grad)
			q.Grad = w
		}
	}
	if !a.flat {
		return
	}
	if all {
		tensor.AdamUpdate(a.data, a.grad, a.mslab, a.vslab, h)
		return
	}
	for i, q := range a.params {
		if q.Grad != nil {
			tensor.AdamUpdate(q.Data, q.Grad, a.m[i], a.v[i], h)
		}
	}
}

// Steps returns the number of updates so far.
func (a *Adam) Steps() int { return a.t }

// BaseLR returns the configured learning rate.
func (a *Adam) BaseLR() float64 { return a.p.LR }

// State returns the moments as "<param>.m" and "<param>.v".
func (a *Adam) State() map[string]*tensor.Tensor {
	st := make(map[string]*tensor.Tensor, 2*len(a.params))
	for i, q := range a.params {
		st[q.Name+".m"] = tensor.FromData(a.m[i], q.Shape()...)
		st[q.Name+".v"] = tensor.FromData(a.v[i], q.Shape()...)
	}
	return st
}

// LoadState restores the moments and the step count.
func (a *Adam) LoadState(state map[string]*tensor.Tensor, steps int) error {
	for i, q := range a.params {
		if err := loadInto(state, q.Name+".m", a.m[i]); err != nil {
			return err
		}
		if err := loadInto(state, q.Name+".v", a.v[i]); err != nil {
			return err
		}
	}
	a.t = steps
	return nil
}
