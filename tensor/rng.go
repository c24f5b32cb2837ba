package tensor

import (
	"math"
	"math/rand/v2"
)

// RNG is the seeded random number generator used for everything random in a
// run (initialisation, dropout, shuffling, sampling), so a run is
// reproducible from its seed. It wraps a PCG generator whose state can be
// saved with a checkpoint. An RNG is not safe for concurrent use.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &RNG{src: src, r: rand.New(src)}
}

// Split returns a new generator seeded from g, for an independent stream
// (one for initialisation, one for dropout, ...).
func (g *RNG) Split() *RNG { return NewRNG(g.r.Uint64()) }

// Clone returns a generator in g's state: it draws what g would draw next,
// without advancing g.
func (g *RNG) Clone() *RNG {
	b, err := g.src.MarshalBinary()
	if err != nil {
		panic(err) // a PCG's state always marshals
	}
	c := NewRNG(0)
	if err := c.src.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	return c
}

// Uint64 returns a uniformly random 64-bit value.
func (g *RNG) Uint64() uint64 { return g.r.Uint64() }

// Float64 returns a uniform value in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// Float32 returns a uniform value in [0, 1).
func (g *RNG) Float32() float32 { return g.r.Float32() }

// NormFloat64 returns a standard normal value.
func (g *RNG) NormFloat64() float64 { return g.r.NormFloat64() }

// IntN returns a uniform value in [0, n). It panics if n <= 0.
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Perm returns a random permutation of [0, n).
func (g *RNG) Perm(n int) []int { return g.r.Perm(n) }

// Shuffle shuffles n elements with swap.
func (g *RNG) Shuffle(n int, swap func(i, j int)) { g.r.Shuffle(n, swap) }

// Uniform fills t with values uniform in [lo, hi) and returns t.
func (g *RNG) Uniform(t *Tensor, lo, hi float32) *Tensor {
	w := float64(hi - lo)
	for i := range t.Data {
		t.Data[i] = lo + float32(g.r.Float64()*w)
	}
	return t
}

// Normal fills t with values from N(mean, std²) and returns t.
func (g *RNG) Normal(t *Tensor, mean, std float32) *Tensor {
	for i := range t.Data {
		t.Data[i] = mean + std*float32(g.r.NormFloat64())
	}
	return t
}

// MarshalBinary returns the generator's state.
func (g *RNG) MarshalBinary() ([]byte, error) { return g.src.MarshalBinary() }

// UnmarshalBinary restores a state written by MarshalBinary.
func (g *RNG) UnmarshalBinary(b []byte) error { return g.src.UnmarshalBinary(b) }

// sqrt32 and friends compute in float64 and round once.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
