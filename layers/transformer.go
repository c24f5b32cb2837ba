package layers

import (
	"fmt"

	"github.com/attnlab/attnlab/tensor"
)

// Attender is what the Transformer blocks need from an attention: the method
// set of attention.Attention, declared here because layers must not import
// the attention package (which imports layers). Every attention variant
// satisfies it. Attend returns the context [B,Tq,Dv] and the weights
// [B,Tq,Tk] (multi-head: [B,H,Tq,Tk]) under a keep-mask broadcastable to
// [B,Tq,Tk] (nil: no mask).
type Attender interface {
	Attend(q, k, v, mask *tensor.Tensor) (ctx, weights *tensor.Tensor)
	Params() []*Param
}

// ResidualAttender is an Attender that adds a residual to its context in
// the same op as its output projection (multi-head attention):
// AttendAdd(res, q, k, v, mask) returns res + Attend(q, k, v, mask)'s
// context, bitwise, and the weights. The blocks use it for their attention
// sub-layers when no dropout is active.
type ResidualAttender interface {
	AttendAdd(res, q, k, v, mask *tensor.Tensor) (out, weights *tensor.Tensor)
}

// RowsAttender is a ResidualAttender that works on the real rows of
// right-padded batches only: AttendAddRows(res, q, k, v, mask, qrows, krows)
// is AttendAdd on the batches qrows.Scatter(res), qrows.Scatter(q),
// krows.Scatter(k) and krows.Scatter(v), returning the real rows of its
// result, qrows.Gather(out). res and q are the real rows [N,D] of the
// queries' batch (qrows, from PaddedRows; nil: q and res are the whole
// batch [B,T,D]), k and v those of the keys' (krows).
type RowsAttender interface {
	AttendAddRows(res, q, k, v, mask *tensor.Tensor, qrows, krows *Rows) (out, weights *tensor.Tensor)
}

// KVCache is what an incremental attention keeps, per sequence, of the keys
// and values it has seen (see Incremental).
type KVCache interface {
	// Len returns the number of tokens cached for sequence i.
	Len(i int) int
	// Select returns the cache of the sequences idx (with repeats), for beam
	// search; the receiver stays valid.
	Select(idx []int) KVCache
}

// Incremental is implemented by attentions that can decode step by step
// over a key/value cache (every attention variant of attnlab does):
// AttendNext appends the first lens[i] rows of k and v [N,T,·] to sequence
// i's cache and lets the first lens[i] queries of q [N,T,·], at the
// positions that follow the cached ones, attend over everything cached,
// under the attention's own rules (a causal site stays causal). The context
// [N,T,·] equals Attend's over the whole prefix in those rows; it carries
// no gradient (decoding).
type Incremental interface {
	NewCache(n int) KVCache
	AttendNext(q, k, v *tensor.Tensor, lens []int, c KVCache) (ctx, weights *tensor.Tensor)
}

// BlockConfig sizes a Transformer block.
type BlockConfig struct {
	Dim        int        // model width d; the attention's context must have it too
	FFDim      int        // hidden width of the feed-forward network; 0 means 4·Dim
	Activation Activation // feed-forward activation; "" means ReLU
	Dropout    float32    // residual and feed-forward dropout; 0 for none
	PreLN      bool       // LayerNorm before each sub-layer (pre-LN) instead of after the residual (post-LN)
	Eps        float32    // LayerNorm epsilon; 0 means DefaultEps
}

func (c BlockConfig) withDefaults(name string) BlockConfig {
	if c.Dim <= 0 {
		panic(fmt.Sprintf("layers.%s: Dim %d", name, c.Dim))
	}
	if c.FFDim == 0 {
		c.FFDim = 4 * c.Dim
	}
	if c.Activation == "" {
		c.Activation = ReLU
	}
	return c
}

// sublayer applies one residual sub-layer around f:
// post-LN: LN(x + Drop(f(x))); pre-LN: x + Drop(f(LN(x))).
func sublayer(preLN bool, ln *LayerNorm, drop *Dropout, x *tensor.Tensor, f func(*tensor.Tensor) *tensor.Tensor) *tensor.Tensor {
	if preLN {
		return tensor.Add(x, drop.Forward(f(ln.Forward(x))))
	}
	return ln.Forward(tensor.Add(x, drop.Forward(f(x))))
}

// attnSublayer is sublayer around the attention a over the keys and values
// kv (nil: self-attention, over the sub-layer's own input) under mask; it
// stores the weights in *weights. x holds the real rows of its batch
// (qrows; nil: the whole batch), kv those of its own (krows), and so does
// the result. Without active dropout the residual add is fused into the
// attention's output projection when a is a ResidualAttender: the same
// values in one op fewer; a RowsAttender then works on the real rows
// directly, any other attention on the batches scattered.
func attnSublayer(preLN bool, ln *LayerNorm, drop *Dropout, x *tensor.Tensor, a Attender, kv, mask *tensor.Tensor, weights **tensor.Tensor, qrows, krows *Rows) *tensor.Tensor {
	if kv == nil {
		krows = qrows
	}
	ra, resOK := a.(ResidualAttender)
	rr, rowsOK := a.(RowsAttender)
	dropping := drop != nil && drop.Training && drop.P > 0
	if dropping || !resOK || (!rowsOK && (qrows != nil || krows != nil)) {
		if kv != nil {
			kv = krows.Scatter(kv)
		}
		return qrows.Gather(attnSublayerBatch(preLN, ln, drop, qrows.Scatter(x), a, ra, kv, mask, weights, dropping || !resOK))
	}
	z := x
	if preLN {
		z = ln.Forward(x)
	}
	m := kv
	if m == nil {
		m = z
	}
	var out, w *tensor.Tensor
	if rowsOK {
		out, w = rr.AttendAddRows(x, z, m, m, mask, qrows, krows)
	} else {
		out, w = ra.AttendAdd(x, z, m, m, mask)
	}
	*weights = w
	if preLN {
		return out
	}
	return ln.Forward(out)
}

// attnSublayerBatch is attnSublayer on whole batches: unfused (sublayer)
// when asked, else with the residual added by ra.
func attnSublayerBatch(preLN bool, ln *LayerNorm, drop *Dropout, x *tensor.Tensor, a Attender, ra ResidualAttender, kv, mask *tensor.Tensor, weights **tensor.Tensor, unfused bool) *tensor.Tensor {
	if unfused {
		return sublayer(preLN, ln, drop, x, func(z *tensor.Tensor) *tensor.Tensor {
			m := kv
			if m == nil {
				m = z
			}
			ctx, w := a.Attend(z, m, m, mask)
			*weights = w
			return ctx
		})
	}
	z := x
	if preLN {
		z = ln.Forward(x)
	}
	m := kv
	if m == nil {
		m = z
	}
	out, w := ra.AttendAdd(x, z, m, m, mask)
	*weights = w
	if preLN {
		return out
	}
	return ln.Forward(out)
}

// Rows lists the real rows of a right-padded batch [B,T,·] seen as B·T
// rows, so that the position-wise feed-forward sub-layers skip the padding:
// Real holds the indices of the real rows in order, Slot maps each of the
// B·T rows to its index in Real, or -1 for a padded row. A nil *Rows means
// that every row is real.
type Rows struct {
	Real, Slot []int
	B, T       int // the batch's sequences and its padded length
}

// Gather returns the real rows [N,D] of a batch x [B,T,D]; with r nil, x.
func (r *Rows) Gather(x *tensor.Tensor) *tensor.Tensor {
	if r == nil {
		return x
	}
	if x.Dims() != 3 || x.Dim(0) != r.B || x.Dim(1) != r.T {
		panic(fmt.Sprintf("layers: rows of a batch [%d,%d,·] for an input %v", r.B, r.T, x.Shape()))
	}
	return tensor.TakeRows(x, r.Real, len(r.Real), x.Dim(2))
}

// Scatter puts real rows x [N,D] back into their batch [B,T,D], padded rows
// 0; with r nil, x.
func (r *Rows) Scatter(x *tensor.Tensor) *tensor.Tensor {
	if r == nil {
		return x
	}
	if x.Dims() != 2 || x.Dim(0) != len(r.Real) {
		panic(fmt.Sprintf("layers: %d real rows of a batch for an input %v", len(r.Real), x.Shape()))
	}
	return tensor.TakeRows(x, r.Slot, r.B, r.T, x.Dim(1))
}

// PaddedRows returns the Rows of a batch of sequences of the given lengths
// right-padded to t, or nil when no sequence is padded.
func PaddedRows(lens []int, t int) *Rows {
	real := 0
	for _, n := range lens {
		real += min(max(n, 0), t)
	}
	if real == len(lens)*t {
		return nil
	}
	r := &Rows{Real: make([]int, 0, real), Slot: make([]int, len(lens)*t), B: len(lens), T: t}
	for b, n := range lens {
		for i := range t {
			if i < n {
				r.Slot[b*t+i] = len(r.Real)
				r.Real = append(r.Real, b*t+i)
			} else {
				r.Slot[b*t+i] = -1
			}
		}
	}
	return r
}

// ffSublayer is sublayer around the feed-forward network ff: without
// active dropout its residual add is fused into the second linear map
// (FeedForward.AddForward), the same values in one op fewer. Every op of
// the sub-layer works row by row, so x may be a whole batch [B,T,D] or
// its real rows [N,D].
func ffSublayer(preLN bool, ln *LayerNorm, drop *Dropout, x *tensor.Tensor, ff *FeedForward) *tensor.Tensor {
	if drop != nil && drop.Training && drop.P > 0 {
		return sublayer(preLN, ln, drop, x, ff.Forward)
	}
	if preLN {
		return ff.AddForward(x, ln.Forward(x))
	}
	return ln.Forward(ff.AddForward(x, x))
}

// EncoderBlock is a Transformer encoder layer (Vaswani et al., 2017):
// self-attention and a position-wise feed-forward network, each wrapped in
// a residual connection with dropout and LayerNorm. Post-LN (the paper's
// and PyTorch's default):
//
//	h = LN1(x + Drop(SelfAttn(x, x, x, mask)))
//	y = LN2(h + Drop(FF(h)))
//
// pre-LN (GPT-2 and later; a stack of pre-LN blocks needs a final LayerNorm,
// which is the model's):
//
//	h = x + Drop(SelfAttn(LN1(x), LN1(x), LN1(x), mask))
//	y = h + Drop(FF(LN2(h)))
//
// Parameters: "self_attn.*", "ff.*", "norm1.*", "norm2.*".
type EncoderBlock struct {
	Cfg          BlockConfig
	SelfAttn     Attender
	FF           *FeedForward
	Norm1, Norm2 *LayerNorm
	Drop         *Dropout // residual dropout
}

var (
	_ Module      = (*EncoderBlock)(nil)
	_ Initializer = (*EncoderBlock)(nil)
	_ Trainable   = (*EncoderBlock)(nil)
)

// NewEncoderBlock allocates an encoder block around the self-attention
// self (which keeps its own parameters). It panics on a bad config or a
// nil attention.
func NewEncoderBlock(cfg BlockConfig, self Attender) *EncoderBlock {
	cfg = cfg.withDefaults("NewEncoderBlock")
	if self == nil {
		panic("layers.NewEncoderBlock: nil self-attention")
	}
	return &EncoderBlock{
		Cfg:      cfg,
		SelfAttn: self,
		FF:       NewFeedForward(cfg.Dim, cfg.FFDim, cfg.Activation, cfg.Dropout),
		Norm1:    NewLayerNorm(cfg.Dim, cfg.Eps),
		Norm2:    NewLayerNorm(cfg.Dim, cfg.Eps),
		Drop:     NewDropout(cfg.Dropout),
	}
}

// Init initialises, in order, the self-attention (if it implements
// Initializer), the feed-forward network, the LayerNorms and the dropout
// stream.
func (e *EncoderBlock) Init(rng *tensor.RNG) {
	initIfAble(e.SelfAttn, rng)
	e.FF.Init(rng)
	e.Norm1.Init(rng)
	e.Norm2.Init(rng)
	e.Drop.Init(rng)
}

// Params returns the block's parameters, the attention's included.
func (e *EncoderBlock) Params() []*Param {
	return Collect(Named{"self_attn", e.SelfAttn}, Named{"ff", e.FF}, Named{"norm1", e.Norm1}, Named{"norm2", e.Norm2})
}

// SetTraining switches every dropout of the block, the attention's too if
// it implements Trainable.
func (e *EncoderBlock) SetTraining(on bool) {
	SetTraining(on, e.SelfAttn, e.FF, e.Drop)
}

// Forward maps x [B,T,Dim] to [B,T,Dim] under the self-attention keep-mask
// (nil, a key-padding mask [B,1,T], a causal mask [1,T,T] or their product)
// and returns the self-attention weights too, as the attention returns them
// (nil from variants that never materialise them). Rows of x at padded positions
// produce values that real positions never see (their keys are masked);
// callers ignore them. It panics on mismatched shapes.
func (e *EncoderBlock) Forward(x, mask *tensor.Tensor) (y, weights *tensor.Tensor) {
	return e.ForwardRows(x, mask, nil)
}

// ForwardRows is Forward run on the real rows of x only (rows: PaddedRows
// of the batch; nil: every row), as ForwardPacked; the outputs of padded
// rows are then 0 where Forward leaves other values that real positions
// never see.
func (e *EncoderBlock) ForwardRows(x, mask *tensor.Tensor, rows *Rows) (y, weights *tensor.Tensor) {
	checkWidth("EncoderBlock", x, e.Cfg.Dim)
	y, weights = e.ForwardPacked(rows.Gather(x), mask, rows)
	return rows.Scatter(y), weights
}

// ForwardPacked is Forward on the real rows x [N,Dim] of a padded batch
// (rows; nil: x is the whole batch [B,T,Dim]), returning the real rows of
// the result: its LayerNorms, feed-forward network and residual adds, and
// a RowsAttender's projections, skip the padding, and a stack of blocks
// passes its rows on without scattering and gathering them between blocks.
// mask is the batch's, as for Forward.
func (e *EncoderBlock) ForwardPacked(x, mask *tensor.Tensor, rows *Rows) (y, weights *tensor.Tensor) {
	checkRows("EncoderBlock", x, rows, e.Cfg.Dim)
	h := attnSublayer(e.Cfg.PreLN, e.Norm1, e.Drop, x, e.SelfAttn, nil, mask, &weights, rows, rows)
	y = ffSublayer(e.Cfg.PreLN, e.Norm2, e.Drop, h, e.FF)
	return y, weights
}

// checkRows checks that x holds the real rows of rows' batch, d wide (the
// whole batch [B,T,d] when rows is nil).
func checkRows(name string, x *tensor.Tensor, rows *Rows, d int) {
	if rows == nil {
		checkWidth(name, x, d)
		return
	}
	if x.Dims() != 2 || x.Dim(0) != len(rows.Real) || x.Dim(1) != d {
		panic(fmt.Sprintf("layers.%s: input %v, want the %d real rows [%d, %d]", name, x.Shape(), len(rows.Real), len(rows.Real), d))
	}
}

func checkWidth(name string, x *tensor.Tensor, d int) {
	if x.Dims() != 3 || x.Dim(2) != d {
		panic(fmt.Sprintf("layers.%s: input %v, want [B, T, %d]", name, x.Shape(), d))
	}
}

// DecoderBlock is a Transformer decoder layer: causal self-attention over
// the target, cross-attention from the target to the encoder's memory, and
// a feed-forward network, each a residual sub-layer with dropout and
// LayerNorm in the order BlockConfig.PreLN selects (see EncoderBlock):
// post-LN
//
//	h1 = LN1(y + Drop(SelfAttn(y, y, y, selfMask)))
//	h2 = LN2(h1 + Drop(CrossAttn(h1, mem, mem, memMask)))
//	out = LN3(h2 + Drop(FF(h2)))
//
// and pre-LN with LN applied to the sub-layer's query input only (the
// memory is used as given; a pre-LN encoder stack normalises it at its end).
// Parameters: "self_attn.*", "cross_attn.*", "ff.*", "norm1.*" to "norm3.*".
type DecoderBlock struct {
	Cfg                 BlockConfig
	SelfAttn, CrossAttn Attender
	FF                  *FeedForward
	Norm1, Norm2, Norm3 *LayerNorm
	Drop                *Dropout // residual dropout
}

var (
	_ Module      = (*DecoderBlock)(nil)
	_ Initializer = (*DecoderBlock)(nil)
	_ Trainable   = (*DecoderBlock)(nil)
)

// NewDecoderBlock allocates a decoder block around the self- and
// cross-attentions (two distinct values: they keep their own parameters).
// It panics on a bad config or a nil attention.
func NewDecoderBlock(cfg BlockConfig, self, cross Attender) *DecoderBlock {
	cfg = cfg.withDefaults("NewDecoderBlock")
	if self == nil || cross == nil {
		panic("layers.NewDecoderBlock: nil attention")
	}
	return &DecoderBlock{
		Cfg:       cfg,
		SelfAttn:  self,
		CrossAttn: cross,
		FF:        NewFeedForward(cfg.Dim, cfg.FFDim, cfg.Activation, cfg.Dropout),
		Norm1:     NewLayerNorm(cfg.Dim, cfg.Eps),
		Norm2:     NewLayerNorm(cfg.Dim, cfg.Eps),
		Norm3:     NewLayerNorm(cfg.Dim, cfg.Eps),
		Drop:      NewDropout(cfg.Dropout),
	}
}

// Init initialises, in order, the self- and cross-attention (those that
// implement Initializer), the feed-forward network, the LayerNorms and the
// dropout stream.
func (d *DecoderBlock) Init(rng *tensor.RNG) {
	initIfAble(d.SelfAttn, rng)
	initIfAble(d.CrossAttn, rng)
	d.FF.Init(rng)
	d.Norm1.Init(rng)
	d.Norm2.Init(rng)
	d.Norm3.Init(rng)
	d.Drop.Init(rng)
}

// Params returns the block's parameters, the attentions' included.
func (d *DecoderBlock) Params() []*Param {
	return Collect(Named{"self_attn", d.SelfAttn}, Named{"cross_attn", d.CrossAttn}, Named{"ff", d.FF},
		Named{"norm1", d.Norm1}, Named{"norm2", d.Norm2}, Named{"norm3", d.Norm3})
}

// SetTraining switches every dropout of the block, the attentions' too if
// they implement Trainable.
func (d *DecoderBlock) SetTraining(on bool) {
	SetTraining(on, d.SelfAttn, d.CrossAttn, d.FF, d.Drop)
}

// Forward maps the target y [B,Ty,Dim] attending over the memory mem
// [B,Tm,Dim] to [B,Ty,Dim]. selfMask is the target's keep-mask: its key
// padding [B,1,Ty] when the self-attention applies the causal rule itself
// (an attention built for a causal site, as models build them), otherwise
// also the causal mask [1,Ty,Ty]; memMask masks the memory's padding
// ([B,1,Tm]); either may be nil. It returns the self-attention weights [B,Ty,Ty] and the
// cross-attention weights [B,Ty,Tm] (multi-head: [B,H,·,·]), the latter
// for attention heatmaps, as the attentions return them (nil from variants
// that never materialise their weights). It panics on mismatched shapes.
func (d *DecoderBlock) Forward(y, mem, selfMask, memMask *tensor.Tensor) (out, selfWeights, crossWeights *tensor.Tensor) {
	return d.ForwardRows(y, mem, selfMask, memMask, nil)
}

// ForwardRows is Forward run on the real rows of y only (rows: PaddedRows
// of the target batch; nil: every row), as ForwardPacked with the whole
// memory; padded rows of the result are 0.
func (d *DecoderBlock) ForwardRows(y, mem, selfMask, memMask *tensor.Tensor, rows *Rows) (out, selfWeights, crossWeights *tensor.Tensor) {
	checkWidth("DecoderBlock", y, d.Cfg.Dim)
	out, selfWeights, crossWeights = d.ForwardPacked(rows.Gather(y), mem, selfMask, memMask, rows, nil)
	return rows.Scatter(out), selfWeights, crossWeights
}

// ForwardPacked is Forward on the real rows y [N,Dim] of the target batch
// (rows; nil: y is the whole batch), returning the real rows of the result
// (see EncoderBlock.ForwardPacked); mem is the memory's real rows (memRows,
// its PaddedRows) or, with memRows nil, the whole memory [B,Tm,Dim]. With
// a RowsAttender the cross-attention's key and value projections then
// skip the memory's padding too.
func (d *DecoderBlock) ForwardPacked(y, mem, selfMask, memMask *tensor.Tensor, rows, memRows *Rows) (out, selfWeights, crossWeights *tensor.Tensor) {
	checkRows("DecoderBlock", y, rows, d.Cfg.Dim)
	checkRows("DecoderBlock", mem, memRows, d.Cfg.Dim)
	yb, mb := batchOf(y, rows), batchOf(mem, memRows)
	if yb != mb {
		panic(fmt.Sprintf("layers.DecoderBlock: target of %d sequences and memory of %d", yb, mb))
	}
	h := attnSublayer(d.Cfg.PreLN, d.Norm1, d.Drop, y, d.SelfAttn, nil, selfMask, &selfWeights, rows, rows)
	h = attnSublayer(d.Cfg.PreLN, d.Norm2, d.Drop, h, d.CrossAttn, mem, memMask, &crossWeights, rows, memRows)
	out = ffSublayer(d.Cfg.PreLN, d.Norm3, d.Drop, h, d.FF)
	return out, selfWeights, crossWeights
}

// batchOf returns the number of sequences of x, a batch or the real rows
// of one.
func batchOf(x *tensor.Tensor, rows *Rows) int {
	if rows != nil {
		return rows.B
	}
	return x.Dim(0)
}

// incremental returns a block's self-attention as an Incremental, or
// panics (a programmer error: check with CanStep).
func incremental(block string, a Attender) Incremental {
	inc, ok := a.(Incremental)
	if !ok {
		panic(fmt.Sprintf("layers.%s: the self-attention %T cannot decode step by step", block, a))
	}
	return inc
}

// CanStep reports whether the block's self-attention can decode step by
// step (ForwardNext).
func (e *EncoderBlock) CanStep() bool { _, ok := e.SelfAttn.(Incremental); return ok }

// NewCache returns an empty key/value cache of the self-attention for n
// sequences.
func (e *EncoderBlock) NewCache(n int) KVCache {
	return incremental("EncoderBlock", e.SelfAttn).NewCache(n)
}

// ForwardNext is Forward for the next tokens of each sequence, decoding
// step by step: x [N,T,Dim] holds them (the first lens[i] rows of sequence
// i are real), the self-attention sees them and every earlier token through
// cache, which it extends. The real rows equal Forward's over the whole
// prefix; the others are to be ignored.
func (e *EncoderBlock) ForwardNext(x *tensor.Tensor, lens []int, cache KVCache) *tensor.Tensor {
	checkWidth("EncoderBlock", x, e.Cfg.Dim)
	inc := incremental("EncoderBlock", e.SelfAttn)
	h := sublayer(e.Cfg.PreLN, e.Norm1, e.Drop, x, func(z *tensor.Tensor) *tensor.Tensor {
		ctx, _ := inc.AttendNext(z, z, z, lens, cache)
		return ctx
	})
	return ffSublayer(e.Cfg.PreLN, e.Norm2, e.Drop, h, e.FF)
}

// CanStep reports whether the block's self-attention can decode step by
// step (ForwardNext).
func (d *DecoderBlock) CanStep() bool { _, ok := d.SelfAttn.(Incremental); return ok }

// NewCache returns an empty key/value cache of the self-attention for n
// sequences.
func (d *DecoderBlock) NewCache(n int) KVCache {
	return incremental("DecoderBlock", d.SelfAttn).NewCache(n)
}

// Prepared is an attention over keys and values fixed in advance
// (attention.Prepared's method set): a decoder's cross-attention over the
// encoder's memory, its per-key work (multi-head's key and value
// projections) done once for all the steps of a decoding.
type Prepared interface {
	Attend(q *tensor.Tensor) (ctx, weights *tensor.Tensor)
}

// ForwardNext is Forward for the next target tokens y [N,T,Dim] of each
// sequence (the first lens[i] rows real), their self-attention extending
// cache (see EncoderBlock.ForwardNext), their cross-attention over the
// whole memory through cross, the block's CrossAttn prepared over the
// memory [N,S,Dim] and its mask. It returns the output and the
// cross-attention weights.
func (d *DecoderBlock) ForwardNext(y *tensor.Tensor, cross Prepared, lens []int, cache KVCache) (out, crossWeights *tensor.Tensor) {
	checkWidth("DecoderBlock", y, d.Cfg.Dim)
	inc := incremental("DecoderBlock", d.SelfAttn)
	h := sublayer(d.Cfg.PreLN, d.Norm1, d.Drop, y, func(z *tensor.Tensor) *tensor.Tensor {
		ctx, _ := inc.AttendNext(z, z, z, lens, cache)
		return ctx
	})
	h = sublayer(d.Cfg.PreLN, d.Norm2, d.Drop, h, func(z *tensor.Tensor) *tensor.Tensor {
		var ctx *tensor.Tensor
		ctx, crossWeights = cross.Attend(z)
		return ctx
	})
	return ffSublayer(d.Cfg.PreLN, d.Norm3, d.Drop, h, d.FF), crossWeights
}
