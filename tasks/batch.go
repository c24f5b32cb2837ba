package tasks

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"

	"github.com/attnlab/attnlab/seq"
)

// MakeBatch returns the batch of the examples ex.At(i) for i in idx, in
// that order. It panics if an index is out of range.
func MakeBatch(ex Examples, idx []int, lm bool) seq.Batch {
	b := seq.Batch{Size: len(idx), Index: slices.Clone(idx), TgtLen: make([]int, len(idx))}
	exs := make([]Example, len(idx)) // built once each (a window's ids become ints here)
	for i, j := range idx {
		exs[i] = ex.At(j)
	}
	if !lm {
		b.SrcLen = make([]int, len(idx))
		for i, e := range exs {
			b.SrcLen[i] = len(e.Src)
			b.S = max(b.S, b.SrcLen[i])
		}
		b.Src = make([]int, b.Size*b.S)
		for i, e := range exs {
			copy(b.Src[i*b.S:], e.Src)
		}
	}
	for i, e := range exs {
		n := len(e.Tgt)
		if lm {
			n = max(n-1, 0)
		} else {
			n++
		}
		b.TgtLen[i] = n
		b.T = max(b.T, n)
		b.Tokens += n
	}
	b.In = make([]int, b.Size*b.T)
	b.Out = make([]int, b.Size*b.T)
	for i, e := range exs {
		in, out, y := b.In[i*b.T:], b.Out[i*b.T:], e.Tgt
		if lm {
			if len(y) >= 2 {
				copy(in, y[:len(y)-1])
				copy(out, y[1:])
			}
			continue
		}
		in[0] = seq.BOSID
		copy(in[1:], y)
		copy(out, y)
		out[len(y)] = seq.EOSID
	}
	return b
}

// InOrder yields the batches of ex in their order, size examples each (the
// last may be smaller), without shuffling: for evaluation. It panics if
// size < 1.
func InOrder(ex Examples, lm bool, size int) iter.Seq[seq.Batch] {
	if size < 1 {
		panic(fmt.Sprintf("tasks: InOrder with batch size %d", size))
	}
	return func(yield func(seq.Batch) bool) {
		for start := 0; start < ex.Len(); start += size {
			idx := make([]int, min(size, ex.Len()-start))
			for i := range idx {
				idx[i] = start + i
			}
			if !yield(MakeBatch(ex, idx, lm)) {
				return
			}
		}
	}
}

// DefaultPool is the number of batches in a bucketing pool when
// BatcherConfig.Pool is 0.
const DefaultPool = 32

// BatcherConfig configures a [Batcher].
type BatcherConfig struct {
	Size int    // examples per batch, at least 1
	Pool int    // batches per bucketing pool (0: DefaultPool; 1: no bucketing)
	Seed uint64 // seeds the shuffles; the same seed gives the same batches
}

// Batcher yields the training batches of a split, epoch after epoch.
//
// Each epoch shuffles the examples, cuts the shuffled order into pools of
// Pool×Size examples, sorts each pool by length (source, then target) so
// that a batch holds examples of similar length and little padding, cuts the
// pools into batches of Size (only the epoch's last batch may be smaller)
// and shuffles the batches. Every example appears once per epoch. Within a
// pool, examples of equal length keep their shuffled order, so batches
// change composition from epoch to epoch as long as lengths tie often or the
// split spans several pools; a split smaller than one pool with distinct
// lengths keeps its batches and only reorders them (Pool 1 turns bucketing
// off and shuffles plainly). All
// randomness comes from one PCG generator seeded by Seed, whose state is
// part of [BatcherState], so a batcher restored from a saved state yields
// the same batches as one that was never interrupted.
//
// A Batcher is not safe for concurrent use.
type Batcher struct {
	ex   Examples
	lm   bool
	size int
	pool int

	pcg      *rand.PCG
	rng      *rand.Rand
	epoch    int
	pos      int
	startRNG []byte // PCG state before this epoch's shuffles
	batches  [][]int
}

// NewBatcher returns a batcher over ex positioned at the start of epoch 0.
// It returns an error when ex is empty, Size < 1 or Pool < 0.
func NewBatcher(ex Examples, lm bool, cfg BatcherConfig) (*Batcher, error) {
	if ex.Len() == 0 {
		return nil, errors.New("tasks: batcher over an empty split")
	}
	if cfg.Size < 1 {
		return nil, fmt.Errorf("tasks: batch size must be at least 1, got %d", cfg.Size)
	}
	if cfg.Pool < 0 {
		return nil, fmt.Errorf("tasks: bucketing pool must be at least 0, got %d", cfg.Pool)
	}
	b := &Batcher{ex: ex, lm: lm, size: cfg.Size, pool: cmp.Or(cfg.Pool, DefaultPool)}
	b.pcg = rand.NewPCG(cfg.Seed, 0x6261746368) // "batch"
	b.rng = rand.New(b.pcg)
	b.startEpoch()
	return b, nil
}

// BatcherBytes returns what a [Batcher] over n examples in batches of size
// holds for as long as it trains, besides the examples: the epoch's order
// of the examples (an int each) and a slice header a batch. A language
// model's windows are built a batch at a time from 4 bytes a token
// ([Windows]), so at a context of 1 or 2 the Batcher holds more than the
// dataset. It returns 0 when n < 1 or size < 1.
func BatcherBytes(n, size int) int64 {
	if n < 1 || size < 1 {
		return 0
	}
	return int64(n)*intBytes + int64((n+size-1)/size)*sliceBytes
}

// Epoch returns the current epoch, counting from 0.
func (b *Batcher) Epoch() int { return b.epoch }

// Len returns the number of batches in an epoch.
func (b *Batcher) Len() int { return (b.ex.Len() + b.size - 1) / b.size }

// Next returns the next batch of the current epoch and true. When the epoch
// is exhausted it returns false and moves to the next epoch, so that
//
//	for batch, ok := b.Next(); ok; batch, ok = b.Next() { ... }
//
// runs exactly one epoch.
func (b *Batcher) Next() (seq.Batch, bool) {
	if b.pos >= len(b.batches) {
		b.epoch++
		b.startEpoch()
		return seq.Batch{}, false
	}
	b.pos++
	return MakeBatch(b.ex, b.batches[b.pos-1], b.lm), true
}

func (b *Batcher) startEpoch() {
	state, err := b.pcg.MarshalBinary()
	if err != nil {
		panic(err) // PCG marshalling cannot fail
	}
	b.startRNG, b.pos = state, 0
	perm := b.rng.Perm(b.ex.Len())
	key := func(i int) (int, int) {
		src, tgt := b.ex.Lens(i)
		if b.lm {
			return tgt, 0
		}
		return src, tgt
	}
	chunk := b.pool * b.size
	for lo := 0; lo < len(perm) && b.pool > 1; lo += chunk {
		slices.SortStableFunc(perm[lo:min(lo+chunk, len(perm))], func(i, j int) int {
			si, ti := key(i)
			sj, tj := key(j)
			return cmp.Or(cmp.Compare(si, sj), cmp.Compare(ti, tj))
		})
	}
	if cap(b.batches) < b.Len() { // sized once: BatcherBytes counts a header a batch
		b.batches = make([][]int, 0, b.Len())
	}
	b.batches = b.batches[:0]
	for lo := 0; lo < len(perm); lo += b.size {
		b.batches = append(b.batches, perm[lo:min(lo+b.size, len(perm))])
	}
	b.rng.Shuffle(len(b.batches), func(i, j int) { b.batches[i], b.batches[j] = b.batches[j], b.batches[i] })
}

// BatcherState is the position of a [Batcher], to save with a checkpoint.
// It marshals to JSON.
type BatcherState struct {
	Epoch    int    `json:"epoch"`    // current epoch
	Pos      int    `json:"pos"`      // batches of the epoch already returned
	RNG      []byte `json:"rng"`      // PCG state at the start of the epoch
	Examples int    `json:"examples"` // size of the split, checked on restore
	Size     int    `json:"size"`     // batch size, checked on restore
	Pool     int    `json:"pool"`     // pool, checked on restore
}

// State returns the batcher's position.
func (b *Batcher) State() BatcherState {
	return BatcherState{Epoch: b.epoch, Pos: b.pos, RNG: slices.Clone(b.startRNG), Examples: b.ex.Len(), Size: b.size, Pool: b.pool}
}

// Restore moves the batcher to a saved position: the following batches are
// those the saved batcher would have returned. It returns an error, and
// leaves the batcher unchanged, when the state belongs to a batcher over a
// split of another size or with another batch size or pool, or is corrupt.
func (b *Batcher) Restore(s BatcherState) error {
	if s.Examples != b.ex.Len() || s.Size != b.size || s.Pool != b.pool {
		return fmt.Errorf("tasks: batcher state is for %d examples in batches of %d (pool %d), this batcher has %d in batches of %d (pool %d)",
			s.Examples, s.Size, s.Pool, b.ex.Len(), b.size, b.pool)
	}
	if s.Epoch < 0 || s.Pos < 0 || s.Pos > b.Len() {
		return fmt.Errorf("tasks: batcher state at epoch %d, batch %d is out of range", s.Epoch, s.Pos)
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("tasks: batcher state: %w", err)
	}
	*b.pcg = *pcg
	b.epoch = s.Epoch
	b.startEpoch()
	b.pos = s.Pos
	return nil
}

// BatchLengths returns the longest source S and decoder sequence T of a
// batch (MakeBatch) whose longest example has a source of src tokens and a
// target of tgt tokens: T is tgt+1 for sequence to sequence (BOS y1..yn, and
// y1..yn EOS), tgt−1 for language modelling (w[0..n−2]), where S is 0.
func BatchLengths(src, tgt int, lm bool) (s, t int) {
	if lm {
		return 0, max(tgt-1, 0)
	}
	return src, tgt + 1
}
