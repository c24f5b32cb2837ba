// Package seq holds what the producers and the consumers of token sequences
// share: the reserved token ids of every vocabulary and the padded Batch
// that tasks make and models read. It imports nothing of attnlab, so both
// sides can depend on it.
//
// # Reserved ids
//
// Every vocabulary reserves ids 0–3: PadID (padding: embeddings of PadID are
// zero and the loss ignores it), BOSID (the first decoder input), EOSID (the
// last decoder target; decoding stops at it) and UnkID (a token absent from
// the vocabulary). Ordinary tokens start at id 4.
//
// # Batches
//
// A Batch is row-major and right-padded with PadID. For a seq2seq example
// with source x₁…xₘ and target y₁…yₙ, row i of Src is x₁…xₘ (SrcLen[i] = m),
// the decoder input In is BOS y₁…yₙ and the target Out is y₁…yₙ EOS
// (TgtLen[i] = n+1). For a language-modelling sequence w₀…wₙ₋₁, Src and
// SrcLen are nil, S is 0, In is w₀…wₙ₋₂ and Out is w₁…wₙ₋₁ (TgtLen[i] = n−1).
//
// # Showing tokens
//
// Symbol gives the sign that the command line and the web pages both show
// for a token that would print as nothing visible (a space, a newline, a
// tab, the empty token).
package seq

// Reserved ids, the same in every vocabulary.
const (
	PadID = 0 // padding; the loss ignores it
	BOSID = 1 // beginning of sequence: the first decoder input
	EOSID = 2 // end of sequence: the last decoder target
	UnkID = 3 // a token absent from the vocabulary
)

// Batch is a padded batch of examples, row-major, right-padded with PadID
// (see the package documentation for what In and Out hold).
type Batch struct {
	Size int // examples in the batch

	Src    []int // [Size*S] source ids; nil for LM
	SrcLen []int // [Size] source lengths; nil for LM
	S      int   // the longest source

	In     []int // [Size*T] decoder inputs
	Out    []int // [Size*T] targets
	TgtLen []int // [Size] non-pad positions of In and Out
	T      int   // the longest target

	Index  []int // [Size] the examples' indices in their split (nil if unknown)
	Tokens int   // non-pad target tokens: the sum of TgtLen
}

// Slice returns examples [lo, hi) of b as a batch padded to b's lengths
// (S and T stay b's). Its id slices share b's memory.
func (b *Batch) Slice(lo, hi int) Batch {
	if lo < 0 || hi > b.Size || lo > hi {
		panic("seq: Batch.Slice out of range")
	}
	s := Batch{Size: hi - lo, S: b.S, T: b.T, In: b.In[lo*b.T : hi*b.T], Out: b.Out[lo*b.T : hi*b.T], TgtLen: b.TgtLen[lo:hi]}
	if b.Src != nil {
		s.Src = b.Src[lo*b.S : hi*b.S]
	}
	if b.SrcLen != nil {
		s.SrcLen = b.SrcLen[lo:hi]
	}
	if b.Index != nil {
		s.Index = b.Index[lo:hi]
	}
	for _, n := range s.TgtLen {
		s.Tokens += n
	}
	return s
}
