package attention

// WeightsOnRequest is implemented by every variant (multi-head passes it on
// to its per-head attention). The variants built for long inputs (chunked,
// linear, performer, local, sliding-window), whose training path never
// builds a [Tq,Tk] matrix, and the dense ones with a dot-product score
// (scaled-dot, dot, general), which then fuse their kernel, return nil
// weights by default. After RequestWeights(true) — or with the
// `weights: true` parameter of the long-input variants — Attend also
// returns the weights [B,Tq,Tk] ([B,H,Tq,Tk] for H heads) the context was
// computed with, for heatmaps and diagnostics: without gradient for the
// long-input variants (a leaf tensor, O(B·Tq·Tk) memory), with it for the
// dense ones. The other variants return their weights either way. Callers
// that want weights call RequestWeights when the attention implements it;
// models do so for the attentions whose weights they return (a
// Transformer's cross-attentions, never its self-attentions) when
// ForwardOptions.WantAttention is set and for decoding.
type WeightsOnRequest interface {
	RequestWeights(on bool)
}
