package attention

import (
	"fmt"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/tensor"
)

// Attention lets queries attend over keys and values.
//
// Attend takes queries [B,Tq,Dq], keys [B,Tk,Dk] and values [B,Tk,Dv] and
// returns the context [B,Tq,Dv] and the attention weights [B,Tq,Tk]
// (multi-head: [B,H,Tq,Tk]). mask is nil or a keep-mask (1 = attend,
// 0 = masked) broadcastable to [B,Tq,Tk]: a key-padding mask [B,1,Tk], a
// causal mask [1,Tq,Tk], or their product. A masked position gets weight
// exactly 0; a query row whose every key is masked yields zero weights and a
// zero context, never NaN. The variants for long inputs (chunked, linear,
// performer, local, sliding-window) and the dense dot-product ones
// (scaled-dot, dot, general, and multi-head over them) return nil weights
// unless asked for them (see WeightsOnRequest).
type Attention interface {
	Attend(q, k, v *tensor.Tensor, mask *tensor.Tensor) (ctx, weights *tensor.Tensor)
	Params() []*layers.Param
}

// Preparer is implemented by variants that can do their per-key work once
// for many Attend calls over the same keys, values and mask, as a recurrent
// decoder makes at every target step: additive attention's k·W_k + b, which
// would otherwise be recomputed (forward and backward) at every step.
// Prepared.Attend(q) equals Attend(q, k, v, mask).
type Preparer interface {
	Prepare(k, v, mask *tensor.Tensor) Prepared
}

// Prepared attends over keys and values given to Prepare.
type Prepared interface {
	Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor)
}

// Prepare returns a's prepared form for these keys, values and mask: a's own
// when it implements Preparer, otherwise one that calls a.Attend.
func Prepare(a Attention, k, v, mask *tensor.Tensor) Prepared {
	if p, ok := a.(Preparer); ok {
		return p.Prepare(k, v, mask)
	}
	return plain{a, k, v, mask}
}

type plain struct {
	a          Attention
	k, v, mask *tensor.Tensor
}

func (p plain) Attend(q *tensor.Tensor) (*tensor.Tensor, *tensor.Tensor) {
	return p.a.Attend(q, p.k, p.v, p.mask)
}

// Select returns p for the rows idx of the batch (see RowSelector).
func (p plain) Select(idx []int) Prepared {
	out := plain{a: p.a, k: gatherRows(p.k, idx), mask: gatherRows(p.mask, idx)}
	out.v = out.k
	if p.v != p.k {
		out.v = gatherRows(p.v, idx)
	}
	return out
}

// RowSelector is implemented by prepared forms that can give the prepared
// form of some rows of their batch without preparing again: Select(idx)
// attends, for row i, over row idx[i]'s keys, values and mask (idx may
// repeat rows). A beam search that gives each source several rows gathers
// the prepared keys instead of mapping them again.
type RowSelector interface {
	Select(idx []int) Prepared
}

// gatherRows returns the rows idx of t along its first axis (nil for nil).
func gatherRows(t *tensor.Tensor, idx []int) *tensor.Tensor {
	if t == nil {
		return nil
	}
	return tensor.Gather(t, idx, -1)
}

// Dims describes the site an attention is built for.
//
// Query, Key and Value are the feature sizes of one head's queries, keys
// and values; the context has Value features per head. With Heads H > 1
// the attention serves H heads at once, as multi-head's per-head attention:
// q, k and v hold the heads side by side ([B,T,H·Query], head h in columns
// h·Query … (h+1)·Query−1, read in place through strides, never copied), the
// context is [B,Tq,H·Value] and the weights [B,H,Tq,Tk]; every parameter
// of the attention then has a leading head axis.
//
// At a Causal site the attention itself lets query i see only keys j ≤ i
// (callers need not build a [T,T] causal mask, and variants for long inputs
// skip the hidden half without reading a mask); a causal mask passed to
// Attend as well changes nothing.
//
// Directions is set by a model whose keys and values are the outputs of a
// recurrent encoder (seq2seq-rnn): 1 or 2 directions, the forward
// direction's features first, as layers.LSTM and GRU concatenate them. The
// baseline none reads the encoder's final state from them.
type Dims struct {
	Query, Key, Value int  // feature sizes per head of q, k and v
	Heads             int  // heads served at once; 0 means 1
	Causal            bool // the attention applies the causal rule j ≤ i itself
	Directions        int  // keys and values are a recurrent encoder's outputs with this many directions; 0: not
	// Positions is the relative position scheme the attention applies to
	// its queries and keys or scores (rope, alibi, t5), shared by the
	// self-attention sites of a stack; nil: none. A variant that cannot
	// apply it fails to build (see Positions).
	Positions *Positions
}

func (d Dims) heads() int { return max(1, d.Heads) }

// Factory builds a variant from its decoded parameters (a pointer to the
// entry's parameter struct, or nil) for the given site. It returns an error,
// not a wrong answer, when the variant cannot serve the site (sizes that do
// not fit, a causal site for a variant that cannot honour causal masks).
type Factory func(params any, d Dims) (Attention, error)

// Registry holds every attention variant, each registered from the init
// function of its own file.
var Registry = registry.New[Factory]("attention")

// New builds the variant registered as name with the given YAML parameters
// (decoded strictly into the variant's parameter struct) for site d. The
// attention's parameters are allocated but not initialised: call Init.
func New(name string, params map[string]any, d Dims) (Attention, error) {
	return registry.Build(Registry, name, params, func(f Factory, p any) (Attention, error) {
		a, err := f(p, d)
		if err != nil {
			return nil, fmt.Errorf("attention %q: %w", name, err)
		}
		return a, nil
	})
}

// Init initialises a's parameters if it has any (see layers.Initializer).
func Init(a Attention, rng *tensor.RNG) {
	if in, ok := a.(layers.Initializer); ok {
		in.Init(rng)
	}
}

// KeyPaddingMask returns the keep-mask [B,1,T] of a padded batch with the
// given lengths (1 for the first lengths[b] positions of row b).
func KeyPaddingMask(lengths []int, t int) *tensor.Tensor {
	m := tensor.New(len(lengths), 1, t)
	for b, n := range lengths {
		for j := 0; j < min(n, t); j++ {
			m.Data[b*t+j] = 1
		}
	}
	return m
}

// CausalMask returns the keep-mask [1,T,T] that lets query i see keys j ≤ i.
func CausalMask(t int) *tensor.Tensor {
	m := tensor.New(1, t, t)
	for i := 0; i < t; i++ {
		for j := 0; j <= i; j++ {
			m.Data[i*t+j] = 1
		}
	}
	return m
}

// CombineMasks returns the elementwise product of keep-masks (nil ones are
// skipped; nil if all are nil), broadcast to their common shape.
func CombineMasks(masks ...*tensor.Tensor) *tensor.Tensor {
	var out *tensor.Tensor
	for _, m := range masks {
		switch {
		case m == nil:
		case out == nil:
			out = m
		default:
			out = tensor.Mul(out, m)
		}
	}
	return out
}
