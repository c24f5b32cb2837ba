package models

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math"
	"unsafe"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/tensor"
)

// stepOutput computes a decoding step's log-probabilities over the target
// vocabulary, log softmax([x_1; …; x_k]·W + b), in buffers that it reuses
// from step to step. The output layer is most of a decoding step's work and
// its results the largest tensors (rows × vocabulary: 1.5 MB for 64 rows
// of 6,000): made afresh at every step, they cost the garbage collector's
// and the kernel's clearing of new memory, where reused buffers stay in
// cache. The values are those of Linear then LogSoftmax: the same
// operations in the same order.
type stepOutput struct {
	x, logp, exp []float32
	in           []float32 // the decoder RNN's input (see Seq2SeqRNN.step)
	tok          *tokTable // see tokenRows; taken from and given back to the model
	useTok       bool      // a deep output takes its embedding share from tok
	rows         []int     // the table row of each row of a step
	e            []float32 // embeddings of the tokens new to the table
	// sharedShare's buffers: each row's group, each group's first row,
	// the groups' rows of the shared part, their shares of the product,
	// and the hash of each group's row to its group.
	grp, uniq []int
	xs, sh    []float32
	seen      map[uint64]int
	shared    int // rows whose share sharedShare did not compute again (tests read it)
}

// tokTable holds, for a deep output (logits from [s; c; emb(y_{t−1})]),
// the output layer's product with the embedding of every token fed so
// far: emb(t)·W_emb, the same for every row that feeds t. It stays valid
// while the weight and the embedding stay frozen (tensor.FrozenToken): a
// decoding of a test set under one Freeze computes each token's row once.
// Decode uses it for beam search, whose Beam rows per sentence often feed
// the same token: on W6 (320 rows a step) beam 5 ran 10–13 % faster with
// it, while greedy decoding (64 rows a step, a fifth of them feeding a
// token new to the table) ran 12–17 % slower, so greedy does without.
type tokTable struct {
	w, e any         // the FrozenTokens the rows were made under
	row  map[int]int // token → row of tab
	tab  []float32
}

// tokTableBytes bounds a tokTable: 256 MiB (11,184 tokens of a
// 6,000-word vocabulary; W6's 6,000 target words take 144 MB). A table
// never holds more rows than the embedding has tokens; one that would
// outgrow the bound starts again.
const tokTableBytes = 256 << 20

// logProbs returns log softmax(drop([parts…])·W + b) [N, V] for parts
// [N, 1, d_i] or [N, d_i] whose widths add up to l.In. The result is
// overwritten by the next call. With dropout active (training mode) it
// runs the graph ops: Linear, LogSoftmax.
func (o *stepOutput) logProbs(l *layers.Linear, drop *layers.Dropout, parts []*tensor.Tensor) *tensor.Tensor {
	return o.logProbsRows(l, drop, parts, nil, nil, nil)
}

// logProbsRows is logProbs calling each(r, row) with every row r of the
// result as soon as it is final, while it is still in L1 (each may be nil):
// a decoder picks its tokens there (a greedy argmax, a beam's best 2·Beam)
// instead of reading the rows again from further caches once all of them
// are done (64 rows of 6,000 words are 1.5 MB, 320 rows 7.7 MB).
//
// With tok (non-nil: a deep output), the last part's row r is the
// embedding of token tok[r], of the table emb. When the weights are
// frozen and the embedding is the product's last depth block (gemmKC,
// 256), as in W6 (768 + 256), that part's share of the product comes from
// tokenRows and is added to the product of the other parts: every sum is
// the full product's bit for bit, since it too adds the last block's sum
// to the earlier blocks' (TestTokenTableBitwise). Otherwise the product is
// made whole (TestTokenTableOnlyWhenBitwise).
func (o *stepOutput) logProbsRows(l *layers.Linear, drop *layers.Dropout, parts []*tensor.Tensor, tok []int, emb *tensor.Tensor, each func(r int, row []float32)) *tensor.Tensor {
	n := parts[0].Dim(0)
	k, v := l.In, l.Out
	width := 0
	for _, p := range parts {
		if p.Dim(0) != n || p.Len() != n*p.Dim(-1) {
			panic(fmt.Sprintf("models: output features of shape %v for %d rows", p.Shape(), n))
		}
		width += p.Dim(-1)
	}
	if width != k {
		panic(fmt.Sprintf("models: output features of width %d for an output layer of %d inputs", width, k))
	}
	if drop != nil && drop.Training && drop.P > 0 { // dropout on: not a decoding
		rows := make([]*tensor.Tensor, len(parts))
		for i, p := range parts {
			rows[i] = tensor.Reshape(p, n, p.Dim(-1))
		}
		lp := logProbs(l.Forward(drop.Forward(tensor.Concat(-1, rows...))))
		eachRow(lp, each)
		return lp
	}
	var tab []float32 // tokenRows' table, or nil
	if tok != nil && len(parts) > 1 && len(tok) == n {
		last := parts[len(parts)-1]
		if tab = o.tokenRows(l, last, tok, emb); tab != nil {
			k -= last.Dim(-1)
			parts = parts[:len(parts)-1]
		}
	}
	// A last part whose rows repeat (in a beam search, the context of the
	// hypotheses that extend one parent) has its share of the product
	// computed once per distinct row (see sharedShare).
	sh, ks := o.sharedShare(l, parts, k)
	if sh != nil {
		k -= ks
		parts = parts[:len(parts)-1]
	}
	x, ldx := parts[0].Data, k
	if len(parts) > 1 {
		// Rows 64 bytes longer than the features: the product reads x
		// by rows in place, and rows 4 KiB apart (k = 1,024) share L1
		// sets (W6's beam product ran ~15% slower, m = 320).
		ldx = k + 16
		o.x = grow(o.x, n*ldx)
		x = o.x
		for r := 0; r < n; r++ {
			off := r * ldx
			for _, p := range parts {
				d := p.Dim(-1)
				off += copy(x[off:], p.Data[r*d:(r+1)*d])
			}
		}
	}
	o.logp = grow(o.logp, n*v)
	o.exp = grow(o.exp, v)
	lp := o.logp
	tensor.Gemm(false, false, n, v, k, 1, x, ldx, l.W.Data, v, 0, lp, v)
	for r := 0; r < n; r++ {
		row := lp[r*v : (r+1)*v]
		if sh != nil {
			g, nu := o.grp[r], len(o.uniq)
			for b := 0; b*nu < len(sh)/v; b++ {
				i := b*nu + g
				tensor.AccSlice(row, sh[i*v:(i+1)*v])
			}
		}
		if tab != nil {
			i := o.rows[r]
			tensor.AccSlice(row, tab[i*v:(i+1)*v])
		}
		if l.B != nil {
			tensor.AccSlice(row, l.B.Data)
		}
		// As tensor.LogSoftmax: x − max − log Σ exp(x − max).
		m := tensor.MaxSlice(row)
		s := tensor.ExpShiftSum(o.exp, row, m)
		lse := m + float32(math.Log(s))
		for i := range row {
			row[i] -= lse
		}
		if each != nil {
			each(r, row)
		}
	}
	return tensor.FromData(lp, n, v)
}

// tokenRows makes sure o's table holds emb(t)·W_emb for every token t of
// tok — x [N, 1, d] or [N, d] holds their embeddings (row r: token tok[r]),
// W_emb is the last d rows of l's weight — computing the new tokens' rows
// in one product, and sets o.rows. It returns the table, or nil when the
// weight or the embedding table emb is not frozen (it could change), when
// the embedding's share is not the product's last depth block (lastBlock:
// the sums would round differently), or when one step's new tokens alone
// could not fit in tokTableBytes.
func (o *stepOutput) tokenRows(l *layers.Linear, x *tensor.Tensor, tok []int, emb *tensor.Tensor) []float32 {
	k, v, d := l.In, l.Out, x.Dim(-1)
	wt, et := tensor.FrozenToken(l.W.Tensor), tensor.FrozenToken(emb)
	vocab := emb.Dim(0)                     // no more distinct tokens than this
	most := min(tokTableBytes/(4*v), vocab) // rows the table may hold
	if wt == nil || et == nil || min(len(tok), vocab) > most || !lastBlock(k, d) {
		return nil
	}
	t := o.tok
	if t == nil {
		t = &tokTable{}
		o.tok = t
	}
	// At most min(len(tok), vocab − len(t.row)) of this step's tokens are new.
	if t.w != wt || t.e != et || t.row == nil || len(t.row)+min(len(tok), vocab-len(t.row)) > most {
		t.w, t.e, t.row, t.tab = wt, et, map[int]int{}, t.tab[:0]
	}
	first := len(t.row)
	o.e, o.rows = o.e[:0], o.rows[:0]
	for r, id := range tok {
		i, ok := t.row[id]
		if !ok {
			i = len(t.row)
			t.row[id] = i
			o.e = append(o.e, x.Data[r*d:(r+1)*d]...)
		}
		o.rows = append(o.rows, i)
	}
	if fresh := len(t.row) - first; fresh > 0 {
		if cap(t.tab) < most*v {
			// The whole table at once, never copied: only the pages of
			// the rows made are touched.
			t.tab = append(make([]float32, 0, most*v), t.tab[:first*v]...)
		}
		t.tab = t.tab[:len(t.row)*v]
		tensor.Gemm(false, false, fresh, v, d, 1, o.e, d, l.W.Data[(k-d)*v:], v, 0, t.tab[first*v:], v)
	}
	return t.tab
}

// lastBlock reports whether the last d of a product's depth k are its
// last depth block (tensor.DepthBlock) and the first k − d are summed in
// the same blocks by a product of their own: then the share of the last d
// computed apart and added last gives the whole product's sums bit for
// bit. False when the kernel promises no block order (OpenBLAS).
func lastBlock(k, d int) bool {
	kb := tensor.DepthBlock(k)
	return kb > 0 && d > 0 && d <= kb && (k-d)%kb == 0 && (k == d || tensor.DepthBlock(k-d) == kb)
}

// sharedShare returns, when the last of parts (at least two, of total
// width k) repeats its rows enough to pay, the last part's share of the
// product with l's weight, and the part's width. The share is computed
// once per distinct row (o.uniq; o.grp[r] is row r's), block by block of
// the product's depth: block b of group g is at row b·len(o.uniq) + g of
// the result. Added to the other parts' product in block order, the sums
// are those of the whole product bit for bit (tensor.DepthBlock), so it
// returns nil, and the product is made whole, when the part does not
// start on a block boundary or the kernel promises no block order.
//
// In W6's beam 5 the context [N, 512] is the last part (the embedding's
// share comes from tokTable): the hypotheses extending one parent read
// the same context, and about half of a step's rows repeat another's.
func (o *stepOutput) sharedShare(l *layers.Linear, parts []*tensor.Tensor, k int) ([]float32, int) {
	if noShare || len(parts) < 2 {
		return nil, 0
	}
	last := parts[len(parts)-1]
	n, ks, v := last.Dim(0), last.Dim(-1), l.Out
	kl := k - ks // depth of the other parts
	kb := tensor.DepthBlock(k)
	if n < 2 || ks == 0 || kb == 0 || kl%kb != 0 || tensor.DepthBlock(kl) != kb {
		return nil, 0
	}
	o.groupRows(last.Data, n, ks)
	nu := len(o.uniq)
	if 8*nu > 7*n { // too few repeats to pay for the extra passes
		return nil, 0
	}
	o.shared += n - nu
	o.xs = grow(o.xs, nu*ks)
	for u, r := range o.uniq {
		copy(o.xs[u*ks:(u+1)*ks], last.Data[r*ks:(r+1)*ks])
	}
	nb := (ks + kb - 1) / kb
	o.sh = grow(o.sh, nb*nu*v)
	for b := range nb {
		pc := b * kb
		kc := min(kb, ks-pc)
		if tensor.DepthBlock(kc) != kc { // not one block: cannot happen with kc ≤ kb
			return nil, 0
		}
		tensor.Gemm(false, false, nu, v, kc, 1, o.xs[pc:], ks, l.W.Data[(kl+pc)*v:], v, 0, o.sh[b*nu*v:(b+1)*nu*v], v)
	}
	return o.sh, ks
}

// groupRows sets o.grp and o.uniq to the groups of bitwise equal rows of
// x [n, d]: o.uniq holds the first row of each group, o.grp[r] the group
// of row r.
func (o *stepOutput) groupRows(x []float32, n, d int) {
	if o.seen == nil {
		o.seen = map[uint64]int{}
	}
	clear(o.seen)
	o.grp, o.uniq = o.grp[:0], o.uniq[:0]
	for r := range n {
		row := unsafe.Slice((*byte)(unsafe.Pointer(&x[r*d])), 4*d)
		h := maphash.Bytes(rowSeed, row)
		g, ok := o.seen[h]
		if ok {
			u := o.uniq[g]
			if !bytes.Equal(row, unsafe.Slice((*byte)(unsafe.Pointer(&x[u*d])), 4*d)) {
				ok = false // a collision: a group of its own, not in the map
			}
		}
		if !ok {
			g = len(o.uniq)
			o.uniq = append(o.uniq, r)
			if _, taken := o.seen[h]; !taken {
				o.seen[h] = g
			}
		}
		o.grp = append(o.grp, g)
	}
}

var rowSeed = maphash.MakeSeed()

// noShare turns sharedShare off (tests compare with and without it).
var noShare bool

// eachRow calls each(r, row) for every row of lp [N, V] (each may be nil).
func eachRow(lp *tensor.Tensor, each func(r int, row []float32)) {
	if each == nil {
		return
	}
	v := lp.Dim(-1)
	for r := 0; r < lp.Len()/v; r++ {
		each(r, lp.Data[r*v:(r+1)*v])
	}
}

// rowStepper is a State whose Step can hand each row of its result to a
// function as soon as the row is final (see stepOutput.logProbsRows).
type rowStepper interface {
	StepRows(tokens []int, each func(r int, row []float32)) (*tensor.Tensor, [][]float32)
}

// stepRowsOf runs st.Step and calls each on every row of its result: while
// the row is still in cache when st is a rowStepper, after the step
// otherwise.
func stepRowsOf(st State, tokens []int, each func(r int, row []float32)) (*tensor.Tensor, [][]float32) {
	if rs, ok := st.(rowStepper); ok {
		return rs.StepRows(tokens, each)
	}
	lp, attn := st.Step(tokens)
	eachRow(lp, each)
	return lp, attn
}

// grow returns s resized to n elements, reallocated only when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
