package attention

import "github.com/attnlab/attnlab/registry"

// MemoryShape is where an attention block sits, for a memory estimate:
// queries of size Q over keys of size K, TQ queries and TK keys per
// sequence (0 when unknown), Batch sequences per step. Steps says that
// the queries come one at a time, each in a call of its own (a recurrent
// decoder's prepared attention, Preparer): every call keeps its own
// weights (no flash kernel there), and linear and performer map every key
// again at every call.
type MemoryShape struct {
	Q, K, TQ, TK, Batch float64
	Steps               bool
}

// MemoryEstimator is implemented by the decoded parameters of an attention
// that the generic estimate of [EstimateMemory] does not describe (none,
// multi-head, linear, performer). EstimateMemory returns its parameters
// (weights) and the float32 activations it keeps for the backward pass.
type MemoryEstimator interface {
	EstimateMemory(s MemoryShape) (params, activations float64)
}

// EstimateMemory estimates the attention block at s, nothing when block is
// nil. When the entry's decoded parameters implement [MemoryEstimator] it
// answers; otherwise the estimate reads the parameters every scoring
// attention shares: dim projections of the queries and keys (dim×(Q+K)),
// dim values per score when dim > 0, and the [Batch, TQ, TK] scores and
// weights, with TK bounded by window (2·window+1 keys) or block. A dense
// attention with a dot-product score (scaled-dot, dot, general) over
// flashKeys keys or more trains on the flash kernel (Dense), which keeps
// a log-sum-exp per query instead of the weights — but not in calls of
// one query each (Steps).
func EstimateMemory(block *registry.Plugin, s MemoryShape) (params, activations float64) {
	if block == nil {
		return 0, 0
	}
	if info, err := Registry.Info(block.Name); err == nil {
		if p, err := info.Decode(block.Params, registry.DecodeOptions{NoValidate: true}); err == nil {
			if m, ok := p.(MemoryEstimator); ok {
				return m.EstimateMemory(s)
			}
		}
	}
	dim, tk := registry.Number(block.Params, "dim"), s.TK
	params = dim * (s.Q + s.K)
	if w := registry.Number(block.Params, "window"); w > 0 {
		tk = min(tk, 2*w+1)
	}
	if b := registry.Number(block.Params, "block"); b > 0 {
		tk = min(tk, b)
	}
	if dim > 0 {
		activations += s.Batch * s.TQ * tk * dim
	}
	if tk >= flashKeys && !s.Steps && dotScored(block.Name) {
		return params, activations + s.Batch*s.TQ*2
	}
	if s.Steps { // one call per query: its weights kept, the scores fused into them
		return params, activations + s.Batch*s.TQ*tk
	}
	activations += s.Batch * s.TQ * tk * 2
	return params, activations
}

// dotScored reports whether name is a dense attention with a dot-product
// score (DotScore), which takes the flash kernel over long keys.
func dotScored(name string) bool {
	e, err := Scores.Lookup(name)
	if err != nil {
		return false
	}
	sc, err := e.New(e.Defaults(), ScoreDims{Heads: 1, Query: 1, Key: 1})
	return err == nil && isDot(sc)
}

// EstimateMemory of linear: φ(q) and φ(k) kept for the backward pass, a
// normaliser per query, and the implied weights when `weights` asks for
// them; never a [TQ, TK] matrix otherwise — but in calls of one query each
// (Steps) every call maps and keeps all the keys again (measured: a
// training step held 1.5 floats per key size and query-key pair, values
// and gradients; the estimate counts values, a fraction of that).
func (p *LinearParams) EstimateMemory(s MemoryShape) (params, activations float64) {
	activations = s.Batch * (s.TQ*s.K + s.TK*s.K + s.TQ)
	if s.Steps {
		activations = s.Batch * s.TQ * s.TK * (s.K/2 + 2)
	}
	if p.Weights {
		activations += s.Batch * s.TQ * s.TK
	}
	return 0, activations
}

// EstimateMemory of performer: the random projection (K × features) and
// the query and key features kept for the backward pass, and the implied
// weights when `weights` asks for them; in calls of one query each
// (Steps) every call maps all the keys again (measured: a training step
// held 230 floats, values and gradients, per query-key pair with 64
// features of 64-wide keys).
func (p *PerformerParams) EstimateMemory(s MemoryShape) (params, activations float64) {
	f := float64(p.Features)
	activations = 2 * s.Batch * (s.TQ + s.TK) * f
	if s.Steps {
		activations = s.Batch * s.TQ * s.TK * (f + s.K) / 2
	}
	if p.Weights {
		activations += s.Batch * s.TQ * s.TK
	}
	return s.K * f, activations
}

// EstimateMemory of none: no weights, no scores.
func (p *NoneParams) EstimateMemory(MemoryShape) (params, activations float64) { return 0, 0 }

// EstimateMemory of multi-head: the query, key, value and output
// projections (dim, the key size when 0) and each head's attention between
// dim/heads-sized queries and keys (its own estimate: scaled-dot, the
// default, keeps its weights only below flashKeys keys).
func (p *MultiHeadParams) EstimateMemory(s MemoryShape) (params, activations float64) {
	dim, heads := float64(p.Dim), max(float64(p.Heads), 1)
	if dim == 0 {
		dim = s.K
	}
	params = 2*dim*s.Q + 2*dim*s.K
	head := p.Head
	if head.Name == "" {
		head.Name = "scaled-dot"
	}
	hp, ha := EstimateMemory(&head, MemoryShape{Q: dim / heads, K: dim / heads, TQ: s.TQ, TK: s.TK, Batch: s.Batch, Steps: s.Steps})
	return params + heads*hp, heads * ha
}
