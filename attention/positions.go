package attention

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// Position schemes applied inside attention (see Positions).
const (
	PositionsRoPE  = "rope"
	PositionsALiBi = "alibi"
	PositionsT5    = "t5"
)

// T5 bucketing of relative positions (Raffel et al. 2020; the values of T5
// and of Hugging Face's T5 implementation).
const (
	t5Buckets     = 32
	t5MaxDistance = 128
	ropeBase      = 10000
)

// Positions is a relative position scheme applied inside the attentions of
// one stack of self-attention sites (a Transformer's encoder, or its
// decoder), instead of position vectors added to the embeddings. Query i
// is at position p_i (its index, plus the decoding offset over a key/value
// cache) and key j at position j.
//
// rope (Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary
// Position Embedding") rotates each pair (x_2m, x_2m+1) of every head's
// mapped queries and keys by the angle p·θ_m, θ_m = 10000^(−2m/d):
//
//	x'_2m = x_2m cos pθ_m − x_2m+1 sin pθ_m,   x'_2m+1 = x_2m sin pθ_m + x_2m+1 cos pθ_m
//
// so that q'_i·k'_j depends on the positions only through j − p_i. It needs
// a dot-product score (refused with additive and location) and an even
// head size. Linear and performer attention rotate queries and keys before
// their feature map, which keeps rope's effect but not its exact relative
// form.
//
// alibi (Press, Smith & Lewis 2022, "Train Short, Test Long: Attention with
// Linear Biases Enables Input Length Extrapolation") adds −m_h·|j − p_i| to
// head h's scores, with the paper's slopes: for H a power of two
// m_h = 2^(−8h/H), h = 1…H; otherwise the slopes of the largest power of
// two n < H followed by every other slope of 2n (their reference code). At
// a causal site this is the paper's −m_h·(p_i − j); the symmetric form is
// used by bidirectional (encoder) sites.
//
// t5 (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a
// Unified Text-to-Text Transformer") adds a learned scalar per head and
// bucket of the relative position j − p_i: 32 buckets, half of them exact
// distances and the rest logarithmic up to 128 (bidirectional sites split
// them by sign; causal sites bucket only past distances), one table [32,H]
// shared by every site of the stack, as T5 shares its first layer's, drawn
// from N(0, 1/D) (D = H·head size, as Hugging Face's T5 initialises it).
//
// ALiBi and T5 biases are added to the scaled scores inside every softmax
// kernel (dense, chunked, local, sliding-window); linear and performer
// attention cannot add a bias to scores they never compute and refuse them,
// as do none and cross-attention sites (models give no Positions there).
type Positions struct {
	scheme string
	causal bool
	heads  int
	table  *layers.Param // t5: [buckets, H], allocated by the first attention bound
	std    float64
}

// NewPositions returns the scheme for the self-attention sites of one
// stack: causal for a decoder, bidirectional for an encoder. It fails on
// an unknown scheme.
func NewPositions(scheme string, causal bool) (*Positions, error) {
	switch scheme {
	case PositionsRoPE, PositionsALiBi, PositionsT5:
		return &Positions{scheme: scheme, causal: causal}, nil
	}
	return nil, fmt.Errorf("unknown position scheme %q inside attention (known: rope, alibi, t5)", scheme)
}

// Scheme returns rope, alibi or t5.
func (p *Positions) Scheme() string { return p.scheme }

// Bias reports whether the scheme adds a bias to the scores (alibi, t5).
func (p *Positions) Bias() bool { return p.scheme != PositionsRoPE }

// Params returns T5's table once an attention has been built with the
// scheme (nil otherwise). The model lists it once, not each attention.
func (p *Positions) Params() []*layers.Param {
	if p.table == nil {
		return nil
	}
	return []*layers.Param{p.table}
}

// Init draws T5's table from N(0, 1/D).
func (p *Positions) Init(rng *tensor.RNG) {
	if p.table != nil {
		rng.Normal(p.table.Tensor, 0, float32(p.std))
	}
}

// bind checks that an attention of heads × headSize can take the scheme
// (dot says whether its score is a dot product, bias whether it can add a
// bias to its scores) and allocates T5's table on first use.
func (p *Positions) bind(variant string, heads, headSize int, dot, bias bool) error {
	switch {
	case p.scheme == PositionsRoPE && !dot:
		return fmt.Errorf("positions rope need a dot-product score (dot, scaled-dot, general); %s has none", variant)
	case p.scheme == PositionsRoPE && headSize%2 != 0:
		return fmt.Errorf("positions rope need an even head size, got %d", headSize)
	case p.Bias() && !bias:
		return fmt.Errorf("positions %s add a bias to attention scores, which %s never computes (use rope, or sinusoidal or learned positions)", p.scheme, variant)
	}
	if p.scheme == PositionsT5 {
		switch {
		case p.table == nil:
			p.heads = heads
			p.table = layers.NewParam("t5_bias", t5Buckets, heads)
			p.std = 1 / math.Sqrt(float64(heads*headSize))
		case p.heads != heads:
			return fmt.Errorf("positions t5: one table is shared by the sites of a stack, which need the same number of heads (%d and %d)", p.heads, heads)
		}
	}
	return nil
}

// alibiSlopes returns the slopes of heads attention heads (Press et al.
// 2022, their get_slopes).
func alibiSlopes(heads int) []float64 {
	pow2 := func(n int) []float64 {
		start := math.Pow(2, -math.Pow(2, -(math.Log2(float64(n))-3)))
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Pow(start, float64(i+1))
		}
		return out
	}
	if heads&(heads-1) == 0 {
		return pow2(heads)
	}
	n := 1 << (bitsLen(heads) - 1)
	out := pow2(n)
	extra := alibiSlopes(2 * n)
	for i := 0; len(out) < heads; i += 2 {
		out = append(out, extra[i])
	}
	return out
}

func bitsLen(x int) int {
	n := 0
	for ; x > 0; x >>= 1 {
		n++
	}
	return n
}

// t5Bucket returns T5's bucket of the relative position rel = j − p_i
// (Hugging Face's _relative_position_bucket).
func t5Bucket(rel int, bidirectional bool) int {
	buckets, bucket := t5Buckets, 0
	if bidirectional {
		buckets /= 2
		if rel > 0 {
			bucket = buckets
		}
		rel = max(rel, -rel)
	} else {
		rel = -min(rel, 0)
	}
	exact := buckets / 2
	if rel < exact {
		return bucket + rel
	}
	large := exact + int(math.Log(float64(rel)/float64(exact))/math.Log(float64(t5MaxDistance)/float64(exact))*float64(buckets-exact))
	return bucket + min(large, buckets-1)
}

// posCall is the position scheme of one call.
type posCall struct {
	p    *Positions
	m    *maskView
	bias *biasCall // alibi, t5; nil for rope
}

// biasCall is the additive bias of one call: head h's bias at relative
// position δ = j − p_i is tab[h·n + δ − lo], so the biases of a row of
// consecutive keys are consecutive in tab.
type biasCall struct {
	h, lo, n int
	tab      []float32      // [H·n]
	src      *tensor.Tensor // t5's table: an extra input of the kernel ops (nil for alibi)
	bidir    bool
}

func (p *Positions) newCall(c *call) *posCall {
	pc := &posCall{p: p, m: &c.m}
	if !p.Bias() {
		return pc
	}
	minOff, maxOff := 0, 0
	if c.m.off != nil {
		minOff, maxOff = c.m.off[0], c.m.off[0]
		for _, o := range c.m.off {
			minOff, maxOff = min(minOff, o), max(maxOff, o)
		}
	}
	bc := &biasCall{h: c.h, lo: -(c.tq - 1 + maxOff), bidir: !p.causal}
	bc.n = c.tk - 1 - minOff - bc.lo + 1
	bc.tab = make([]float32, c.h*bc.n)
	switch p.scheme {
	case PositionsALiBi:
		for h, m := range alibiSlopes(c.h) {
			for x := 0; x < bc.n; x++ {
				d := x + bc.lo
				bc.tab[h*bc.n+x] = float32(-m * math.Abs(float64(d)))
			}
		}
	case PositionsT5:
		bc.src = p.table.Tensor
		for x := 0; x < bc.n; x++ {
			k := t5Bucket(x+bc.lo, bc.bidir)
			for h := 0; h < c.h; h++ {
				bc.tab[h*bc.n+x] = p.table.Data[k*c.h+h]
			}
		}
	}
	pc.bias = bc
	return pc
}

// row returns the biases of keys j0, j0+1, … for query (b,h,i).
func (bc *biasCall) row(m *maskView, b, h, i, j0 int) []float32 {
	return bc.tab[h*bc.n+j0-m.pos(b, i)-bc.lo:][:bc.n-(j0-m.pos(b, i)-bc.lo)]
}

// at returns the bias of the pair (query (b,i), key j) of head h.
func (bc *biasCall) at(m *maskView, b, h, i, j int) float32 {
	return bc.tab[h*bc.n+j-m.pos(b, i)-bc.lo]
}

// input returns the extra input of a kernel op that reads the bias (t5's
// table), or nil.
func (bc *biasCall) input() *tensor.Tensor {
	if bc == nil {
		return nil
	}
	return bc.src
}

// grads returns a buffer for dL/dtab when the bias is learned and its
// table needs a gradient (nil otherwise).
func (bc *biasCall) grads(g []float32) []float32 {
	if bc == nil || bc.src == nil || g == nil {
		return nil
	}
	return make([]float32, len(bc.tab))
}

// backward adds dL/dtab to the gradient g of t5's table [buckets,H].
func (bc *biasCall) backward(dtab, g []float32) {
	if dtab == nil {
		return
	}
	for x := 0; x < bc.n; x++ {
		k := t5Bucket(x+bc.lo, bc.bidir)
		for h := 0; h < bc.h; h++ {
			g[k*bc.h+h] += dtab[h*bc.n+x]
		}
	}
}

// rope rotates the pairs of every head of x [B,T,H·d] by their position's
// angles: query-side positions from the call (i + off[b]) when query is
// true, key positions j otherwise.
func (pc *posCall) rope(x *tensor.Tensor, heads int, query bool) *tensor.Tensor {
	b, t, ld := x.Dim(0), x.Dim(1), x.Dim(2)
	d := ld / heads
	half := d / 2
	theta := make([]float64, half)
	for m := range theta {
		theta[m] = math.Pow(ropeBase, -2*float64(m)/float64(d))
	}
	pos := func(bb, i int) int {
		if query {
			return pc.m.pos(bb, i)
		}
		return i
	}
	// cos and sin of every row's angles [B·T, d/2].
	cs := make([]float32, b*t*half)
	sn := make([]float32, b*t*half)
	for bb := 0; bb < b; bb++ {
		for i := 0; i < t; i++ {
			p := float64(pos(bb, i))
			r := (bb*t + i) * half
			for m, th := range theta {
				s, c := math.Sincos(p * th)
				cs[r+m], sn[r+m] = float32(c), float32(s)
			}
		}
	}
	out := make([]float32, len(x.Data))
	rotate := func(dst, src []float32, sign float32) {
		for r := 0; r < b*t; r++ {
			c, s := cs[r*half:(r+1)*half], sn[r*half:(r+1)*half]
			for h := 0; h < heads; h++ {
				o := r*ld + h*d
				xs, ys := src[o:o+d], dst[o:o+d]
				for m := 0; m < half; m++ {
					x0, x1 := xs[2*m], xs[2*m+1]
					ys[2*m] += x0*c[m] - sign*x1*s[m]
					ys[2*m+1] += sign*x0*s[m] + x1*c[m]
				}
			}
		}
	}
	rotate(out, x.Data, 1)
	return tensor.Custom("RoPE", out, x.Shape(), []*tensor.Tensor{x}, func(res *tensor.Tensor, g [][]float32) {
		rotate(g[0], res.Grad, -1) // the inverse rotation
	})
}
