package attention

import (
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// PerformerParams are the parameters of Performer attention.
type PerformerParams struct {
	Features int  `yaml:"features" doc:"number m of random features per head (the approximation improves with m)" range:"[1,65536]"`
	Redraw   int  `yaml:"redraw" doc:"draw new random features every this many training calls; 0: keep the features drawn at initialisation" range:"[0,1000000000]"`
	Weights  bool `yaml:"weights" doc:"also return the implied [B,Tq,Tk] weights (no gradient, O(Tq·Tk) memory), for heatmaps"`
}

// Validate checks the ranges.
func (p *PerformerParams) Validate() error {
	switch {
	case p.Features < 1:
		return registry.Invalid("features", "must be at least 1, got %d", p.Features)
	case p.Redraw < 0:
		return registry.Invalid("redraw", "must be 0 (never) or positive, got %d", p.Redraw)
	}
	return nil
}

// Performer is FAVOR+ attention (Choromanski et al. 2021, "Rethinking
// Attention with Performers"): softmax attention approximated by linear
// attention over positive orthogonal random features,
//
//	φ(x) = exp(ω_r·x̃ − ‖x̃‖²/2) / √m,  r = 1…m,   x̃ = x / d^(1/4)
//	context_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j)
//
// so that E[φ(q)·φ(k)] = exp(q·k/√d), in O(n·m·d) time (causal form: prefix
// sums, as linear attention). The rows ω_r of the [m,d] projection are
// orthogonal in blocks of d (Gram–Schmidt on a Gaussian matrix) and scaled
// by the norms of independent Gaussian vectors, as the paper's reference
// implementation draws them (create_projection_matrix, scaling 0); all
// heads share one draw. Each query's features are divided by
// exp(max_r ω_r·q̃), which cancels in the ratio (the reference code's
// stabiliser, without its additive ε), so the result is exactly the
// formula above; keys need none, as ω·x̃ − ‖x̃‖²/2 ≤ ‖ω‖²/2.
//
// The features are drawn at Init and, with redraw N > 0, again every N
// calls in training mode from a stream split from the Init RNG (a resumed
// run restarts that stream). Masks as linear attention (key padding, query
// rows, causal). Weights (the implied normalised φ(q_i)·φ(k_j)) only on
// request, without gradient. Needs equal query and key sizes; no trainable
// parameters.
type Performer struct {
	base
	m, redraw int
	proj      *tensor.Tensor // [m, d] random features ω_r
	rng       *tensor.RNG
	training  bool
	calls     int
}

var (
	_ Attention          = (*Performer)(nil)
	_ WeightsOnRequest   = (*Performer)(nil)
	_ layers.Initializer = (*Performer)(nil)
	_ layers.Trainable   = (*Performer)(nil)
)

func init() {
	Registry.Register(registry.Entry[Factory]{
		Name:   "performer",
		Doc:    "Choromanski FAVOR+ attention: positive orthogonal random features approximating softmax, O(n) (key-padding and causal masks only), weights only on request",
		Params: &PerformerParams{Features: 64},
		New: func(p any, d Dims) (Attention, error) {
			return NewPerformer(*p.(*PerformerParams), d)
		},
	})
}

// NewPerformer returns Performer attention for site d (features drawn at
// Init).
func NewPerformer(p PerformerParams, d Dims) (*Performer, error) {
	b, err := newBase("performer", d)
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d.Query != d.Key {
		return nil, errorf("performer needs equal query and key sizes, got %d and %d", d.Query, d.Key)
	}
	a := &Performer{base: b, m: p.Features, redraw: p.Redraw, proj: tensor.New(p.Features, d.Key)}
	a.self = a
	a.weights = p.Weights
	if err := a.usePositions(true, false); err != nil {
		return nil, err
	}
	return a, nil
}

// Params returns nil: the random features are not trained.
func (a *Performer) Params() []*layers.Param { return nil }

// Features returns the random features ω [m,d] the attention uses now
// (tests set them to a fixed draw).
func (a *Performer) Features() *tensor.Tensor { return a.proj }

// Init draws the features and splits the stream of later draws from rng.
func (a *Performer) Init(rng *tensor.RNG) {
	a.rng = rng.Split()
	drawFeatures(a.proj, rng)
	a.calls = 0
}

// SetTraining turns redrawing on (training) or off.
func (a *Performer) SetTraining(on bool) { a.training = on }

// drawFeatures fills w [m,d] with blocks of d orthonormal rows (Gram–
// Schmidt on Gaussian d×d matrices; the last block cut to what is left),
// each row then scaled by the norm of an independent Gaussian d-vector.
func drawFeatures(w *tensor.Tensor, rng *tensor.RNG) {
	m, d := w.Dim(0), w.Dim(1)
	for r0 := 0; r0 < m; r0 += d {
		g := make([][]float64, d)
		for i := range g {
			g[i] = make([]float64, d)
			for j := range g[i] {
				g[i][j] = rng.NormFloat64()
			}
		}
		// Orthonormalise the rows (equivalently, the columns of gᵀ's Q).
		for i := range g {
			for k := 0; k < i; k++ {
				var dot float64
				for j := range g[i] {
					dot += g[i][j] * g[k][j]
				}
				for j := range g[i] {
					g[i][j] -= dot * g[k][j]
				}
			}
			var n float64
			for _, x := range g[i] {
				n += x * x
			}
			n = math.Sqrt(n)
			for j := range g[i] {
				g[i][j] /= n
			}
		}
		for i := 0; i < min(d, m-r0); i++ {
			for j := range g[i] {
				w.Data[(r0+i)*d+j] = float32(g[i][j])
			}
		}
	}
	for r := 0; r < m; r++ {
		var n float64
		for j := 0; j < d; j++ {
			x := rng.NormFloat64()
			n += x * x
		}
		s := float32(math.Sqrt(n))
		for j := 0; j < d; j++ {
			w.Data[r*d+j] *= s
		}
	}
}

// Attend returns the context [B,Tq,H·Dv] and, on request, the implied
// weights ([B,Tq,Tk], or [B,H,Tq,Tk] for H heads; nil otherwise). It panics
// on a mask it cannot honour (see Linear).
func (a *Performer) Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	return a.attendAt(q, k, v, mask, nil)
}

// attendAt is Attend with query 0 of batch row b at position off[b]
// (decoding over a key/value cache; nil: 0).
func (a *Performer) attendAt(q, k, v, mask *tensor.Tensor, off []int) (ctx, weights *tensor.Tensor) {
	if a.training && a.redraw > 0 && a.rng != nil {
		if a.calls > 0 && a.calls%a.redraw == 0 {
			drawFeatures(a.proj, a.rng)
		}
		a.calls++
	}
	c := a.newCall(q, k, v, mask, off)
	return attendFeatures(c, favor(c.queries(q), a.proj, c.h, true), favor(c.keys(k), a.proj, c.h, false), a.weights)
}

// favor returns the positive random features φ(x) [B,T,H·m] of x
// [B,T,H·d] (see Performer); query rows are divided by their largest
// exp(ω_r·x̃), which cancels in the attention's ratio and is treated as a
// constant by the backward pass (exactly right for that reason).
func favor(x, w *tensor.Tensor, heads int, query bool) *tensor.Tensor {
	m, d := w.Dim(0), w.Dim(1)
	rows := x.Len() / d // B·T·H rows of d: heads are consecutive in a row
	norm := float32(math.Pow(float64(d), -0.25))
	inv := float32(1 / math.Sqrt(float64(m)))
	u := tensor.Scratch(rows * m) // recycled with the result (Custom's data)
	tensor.Gemm(false, true, rows, m, d, norm, x.Data, d, w.Data, d, 0, u, m)
	half := make([]float32, rows) // ‖x̃‖²/2
	for r := 0; r < rows; r++ {
		var s float32
		for _, v := range x.Data[r*d : (r+1)*d] {
			s += v * v
		}
		half[r] = s * norm * norm / 2
	}
	for r := 0; r < rows; r++ {
		ur := u[r*m : (r+1)*m]
		shift := half[r]
		if query {
			shift += tensor.MaxSlice(ur)
		}
		tensor.ExpShiftSum(ur, ur, shift)
		tensor.ScaleSlice(ur, inv)
	}
	shape := append(append([]int(nil), x.Shape()[:x.Dims()-1]...), heads*m)
	return tensor.Custom("FAVOR", u, shape, []*tensor.Tensor{x}, func(out *tensor.Tensor, g [][]float32) {
		// dφ_r/dx̃ = φ_r (ω_r − x̃):  dx̃ = (g⊙φ) ω − x̃ Σ_r g_r φ_r,  dx = dx̃ / d^(1/4).
		gp := make([]float32, rows*m)
		for i, v := range out.Data {
			gp[i] = v * out.Grad[i]
		}
		tensor.Gemm(false, false, rows, d, m, norm, gp, m, w.Data, d, 1, g[0], d)
		for r := 0; r < rows; r++ {
			var s float32
			for _, v := range gp[r*m : (r+1)*m] {
				s += v
			}
			axpy(g[0][r*d:(r+1)*d], -s*norm*norm, x.Data[r*d:])
		}
	})
}
