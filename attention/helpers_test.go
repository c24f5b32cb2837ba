package attention_test

import "github.com/attnlab/attnlab/attention"

// requestWeights asks variants that compute their weights only on request
// to return them.
func requestWeights(a attention.Attention) {
	if r, ok := a.(attention.WeightsOnRequest); ok {
		r.RequestWeights(true)
	}
}
