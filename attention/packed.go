package attention

import "github.com/attnlab/attnlab/tensor"

// packedAttender is implemented by variants that read self-attention's
// queries, keys and values in place from one packed tensor.
type packedAttender interface {
	attendPacked(qkv *tensor.Tensor, q, k, v int, mask *tensor.Tensor) (ctx, weights *tensor.Tensor)
}

var _ packedAttender = (*Linear)(nil)

// AttendPacked is self-attention over queries, keys and values packed side
// by side in qkv [B,T,q+k+v]: the q columns of the queries (all heads), then
// k of the keys, then v of the values, as one stacked input projection makes
// them (PyTorch's `qkv(x).split(d, dim=2)`, which gives views). It returns
// a.Attend(q, k, v, mask). Variants that can read the three in place do
// so and add their gradients straight into qkv's — linear, and the calls
// of dense dot-product and chunked attention that take the fused flash
// kernel (flash32.go); the others get them split apart (tensor.Split: a
// copy each way).
func AttendPacked(a Attention, qkv *tensor.Tensor, q, k, v int, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	if p, ok := a.(packedAttender); ok {
		return p.attendPacked(qkv, q, k, v, mask)
	}
	return attendSplit(a, qkv, q, k, v, mask)
}

// attendSplit splits qkv and attends.
func attendSplit(a Attention, qkv *tensor.Tensor, q, k, v int, mask *tensor.Tensor) (ctx, weights *tensor.Tensor) {
	parts := tensor.Split(qkv, -1, q, k, v)
	return a.Attend(parts[0], parts[1], parts[2], mask)
}
