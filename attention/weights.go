package attention

// WeightsOnRequest is implemented by the variants built for long inputs
// (chunked, linear, local), whose training path never builds a [Tq,Tk]
// matrix. By default their Attend returns nil weights. After
// RequestWeights(true) — or with the `weights: true` parameter — Attend also
// returns the weights [B,Tq,Tk] the context was computed with, for heatmaps
// and diagnostics; they are computed without gradient (a leaf tensor) and
// cost O(B·Tq·Tk) memory. Callers that want weights from any variant call
// RequestWeights when the attention implements it.
type WeightsOnRequest interface {
	RequestWeights(on bool)
}
