package tasks

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/attnlab/attnlab/registry"
	"github.com/attnlab/attnlab/seq"
)

// The reserved tokens, at ids seq.PadID, seq.BOSID, seq.EOSID and seq.UnkID.
const (
	PadToken = "<pad>"
	BOSToken = "<bos>"
	EOSToken = "<eos>"
	UnkToken = "<unk>"
)

var specials = [...]string{PadToken, BOSToken, EOSToken, UnkToken}

// Vocab maps tokens to ids and back. Ids 0–3 are the reserved tokens; the
// other tokens follow from id 4. A Vocab is immutable after construction and
// safe for concurrent use.
type Vocab struct {
	tokens []string
	ids    map[string]int
}

// NewVocab returns a vocabulary of the reserved tokens followed by tokens in
// the given order. Duplicates and reserved token strings are skipped.
func NewVocab(tokens []string) *Vocab {
	v := &Vocab{tokens: append([]string(nil), specials[:]...), ids: make(map[string]int, len(tokens)+len(specials))}
	for i, s := range specials {
		v.ids[s] = i
	}
	for _, t := range tokens {
		if _, dup := v.ids[t]; dup {
			continue
		}
		v.ids[t] = len(v.tokens)
		v.tokens = append(v.tokens, t)
	}
	return v
}

// BuildVocab counts the tokens of seqs (pass the training split only) and
// returns a vocabulary of the reserved tokens followed by every token seen
// at least minCount times, ordered by count, descending, then by token, so
// the ids depend only on the counts. maxSize > 0 caps Len(), reserved tokens
// included: the rarest tokens are dropped first. minCount ≤ 1 keeps every
// token; maxSize ≤ 0 means no cap.
func BuildVocab(seqs [][]string, minCount, maxSize int) *Vocab {
	counts := make(map[string]int)
	for _, s := range seqs {
		for _, t := range s {
			counts[t]++
		}
	}
	return vocabOfCounts(counts, minCount, maxSize)
}

// tokenCounts counts tokens for a vocabulary without keeping the text
// they were cut from alive: a token is copied when first seen, and charged
// to the budget (with what the vocabulary will take for it); past the
// budget's limit, new tokens are no longer kept.
type tokenCounts struct {
	n map[string]int
	b *budget
}

func newTokenCounts(b *budget) *tokenCounts { return &tokenCounts{n: map[string]int{}, b: b} }

func (c *tokenCounts) add(t string) {
	if n, ok := c.n[t]; ok {
		c.n[t] = n + 1
		return
	}
	if c.b.take(2*len(t) + 2*distinctBytes) {
		c.n[strings.Clone(t)] = 1
	}
}

// tokenIndex numbers the distinct tokens of a text in the order first
// seen, so that a text is tokenized once: each token becomes its index
// (one map lookup, none for a one-byte token), the training tokens are
// counted by index, and the ids follow from the vocabulary with one lookup
// per distinct token (ids). The tokens it keeps are substrings of the
// text; trainCounts copies those the vocabulary may keep. Each distinct
// token is charged to the budget; past its limit, add keeps no new token.
type tokenIndex struct {
	byte1  [256]int32 // index+1 of each one-byte token (0: not seen)
	multi  map[string]int
	tokens []string // by index
	train  []int    // by index: occurrences among the training tokens
	b      *budget
}

func newTokenIndex(b *budget) *tokenIndex { return &tokenIndex{multi: map[string]int{}, b: b} }

// add returns the index of t, counting it as a training token if train,
// or -1 once the budget's limit is passed.
func (x *tokenIndex) add(t string, train bool) int {
	k, ok := 0, false
	if len(t) == 1 {
		k, ok = int(x.byte1[t[0]])-1, x.byte1[t[0]] > 0
	} else {
		k, ok = x.multi[t]
	}
	if !ok {
		// Its bytes copied out and kept by the vocabulary, its entries
		// here and in trainCounts' map, and the vocabulary's.
		if !x.b.take(2*len(t) + 3*distinctBytes) {
			return -1
		}
		k = len(x.tokens)
		x.tokens, x.train = append(x.tokens, t), append(x.train, 0)
		if len(t) == 1 {
			x.byte1[t[0]] = int32(k + 1)
		} else {
			x.multi[t] = k
		}
	}
	if train {
		x.train[k]++
	}
	return k
}

// trainCounts returns the training tokens' counts, the tokens copied out
// of the text, for vocabOfCounts. No token may be added after it.
func (x *tokenIndex) trainCounts() map[string]int {
	x.multi = nil // garbage before the counts' map grows
	counts := make(map[string]int, len(x.tokens))
	for k, t := range x.tokens {
		if x.train[k] > 0 {
			counts[strings.Clone(t)] = x.train[k]
		}
	}
	return counts
}

// ids returns v.ID of each token, by index, as the int32 of a token
// stream (Windows): a Vocab has fewer than 2^31 tokens.
func (x *tokenIndex) ids(v *Vocab) []int32 {
	ids := make([]int32, len(x.tokens))
	for k, t := range x.tokens {
		ids[k] = int32(v.ID(t))
	}
	return ids
}

// vocabOfCounts is BuildVocab of the tokens counted in counts.
func vocabOfCounts(counts map[string]int, minCount, maxSize int) *Vocab {
	type counted struct {
		tok string
		n   int
	}
	kept := make([]counted, 0, len(counts))
	for t, c := range counts {
		if c >= minCount && !isSpecial(t) {
			kept = append(kept, counted{t, c})
		}
	}
	// Sorted by count, then token, with the counts beside the tokens (a
	// map lookup per comparison took 3 s for a million distinct words).
	slices.SortFunc(kept, func(a, b counted) int {
		return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.tok, b.tok))
	})
	if maxSize > 0 {
		kept = kept[:min(len(kept), max(maxSize-len(specials), 0))]
	}
	toks := make([]string, len(kept))
	for i, k := range kept {
		toks[i] = k.tok
	}
	return NewVocab(toks)
}

// reservedUse says what each reserved token a data file may not contain
// stands for: every one but UnkToken, which data may use for an unknown
// word (the Penn Treebank convention) and which means UnkID.
var reservedUse = map[string]string{PadToken: "padding", BOSToken: "the beginning of a sequence", EOSToken: "the end of a sequence"}

// reservedIn returns the first token of s (as tok splits it) that data may
// not contain (see reservedUse), or "". Only a whole token counts: for
// Char, "<eos>" is five harmless characters.
func reservedIn(tok Tokenizer, s string) string {
	if !strings.Contains(s, "<") {
		return ""
	}
	found := ""
	eachToken(tok, s, func(t string) {
		if _, ok := reservedUse[t]; ok && found == "" {
			found = t
		}
	})
	return found
}

// reservedError is a token of data that is reserved (reservedIn).
type reservedError struct {
	tok  string
	side string // of a pair: "source" or "target"; "" for a task's only text
}

func (e *reservedError) Error() string {
	where := ""
	if e.side != "" {
		where = " in the " + e.side
	}
	return fmt.Sprintf("token %q%s is reserved for %s (of the reserved tokens, data may use only %s)", e.tok, where, reservedUse[e.tok], UnkToken)
}

// checkVocab returns an error if v, built by vocabOfCounts from counts
// with minCount, holds none of the training data's tokens, only the
// reserved ones: the data would train as all <unk>. When min_count left
// none, the error is a *registry.ParamError on min_count naming the count
// of the most frequent token; side names the vocabulary ("source",
// "target" or "" for a task's only one).
func checkVocab(v *Vocab, counts map[string]int, minCount int, task, path, side string) error {
	if v.Len() > len(specials) {
		return nil
	}
	if side != "" {
		side += " "
	}
	most := 0
	for t, n := range counts {
		if !isSpecial(t) {
			most = max(most, n)
		}
	}
	if most == 0 {
		return fmt.Errorf("%s: %s: the training data has no token for the %svocabulary but %s", task, path, side, UnkToken)
	}
	times := fmt.Sprintf("%d times", most)
	if most == 1 {
		times = "once"
	}
	return &registry.ParamError{Kind: Registry.Kind(), Plugin: task, Key: "min_count",
		Msg: fmt.Sprintf("%d leaves no token of the training data in the %svocabulary (the most frequent occurs %s)", minCount, side, times)}
}

func isSpecial(t string) bool {
	for _, s := range specials {
		if t == s {
			return true
		}
	}
	return false
}

// Len returns the number of ids, reserved ones included.
func (v *Vocab) Len() int { return len(v.tokens) }

// ID returns the id of tok, or UnkID when tok is absent. The reserved
// strings "<pad>", "<bos>" and "<eos>" also give UnkID, so data can never
// inject control ids (the file tasks refuse them in their data);
// "<unk>" gives UnkID.
func (v *Vocab) ID(tok string) int {
	id, ok := v.ids[tok]
	if !ok || id < len(specials) {
		return seq.UnkID
	}
	return id
}

// Token returns the token of id, or "<unk>" when id is out of range.
func (v *Vocab) Token(id int) string {
	if id < 0 || id >= len(v.tokens) {
		return UnkToken
	}
	return v.tokens[id]
}

// Tokens returns a copy of every token in id order, reserved ones first.
func (v *Vocab) Tokens() []string { return append([]string(nil), v.tokens...) }

// encodeText returns the ids of the tokens of s (tok), as
// v.Encode(tok.Split(s)) would, without building the tokens.
func (v *Vocab) encodeText(tok Tokenizer, s string) []int {
	ids := make([]int, 0, countTokens(tok, s))
	eachToken(tok, s, func(t string) { ids = append(ids, v.ID(t)) })
	return ids
}

// Encode returns the ids of toks (see [Vocab.ID]); no BOS or EOS is added.
func (v *Vocab) Encode(toks []string) []int {
	ids := make([]int, len(toks))
	for i, t := range toks {
		ids[i] = v.ID(t)
	}
	return ids
}

// Decode returns the tokens of ids, reserved ones included (see [Strip]).
func (v *Vocab) Decode(ids []int) []string {
	toks := make([]string, len(ids))
	for i, id := range ids {
		toks[i] = v.Token(id)
	}
	return toks
}

// Strip returns the ids before the first EOSID, without PadID and BOSID:
// the content of a generated or padded sequence. It returns a new slice.
func Strip(ids []int) []int {
	out := make([]int, 0, len(ids))
	for _, id := range ids {
		if id == seq.EOSID {
			break
		}
		if id != seq.PadID && id != seq.BOSID {
			out = append(out, id)
		}
	}
	return out
}

type vocabJSON struct {
	Tokens []string `json:"tokens"`
}

// MarshalJSON encodes v as {"tokens": [...]} with every token in id order,
// reserved ones first. A token that is not valid UTF-8 (which no Tokenizer
// produces) is an error, since JSON could not keep it.
func (v *Vocab) MarshalJSON() ([]byte, error) {
	for i, t := range v.tokens {
		if !utf8.ValidString(t) {
			return nil, fmt.Errorf("vocab: token %d %q is not valid UTF-8", i, t)
		}
	}
	return json.Marshal(vocabJSON{Tokens: v.tokens})
}

// UnmarshalJSON decodes the form written by MarshalJSON. It checks that the
// reserved tokens come first and that no token repeats, so the ids are
// exactly those of the saved vocabulary.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("vocab: %w", err)
	}
	if len(j.Tokens) < len(specials) {
		return fmt.Errorf("vocab: %d tokens, want at least the %d reserved ones", len(j.Tokens), len(specials))
	}
	for i, s := range specials {
		if j.Tokens[i] != s {
			return fmt.Errorf("vocab: token %d is %q, want %q", i, j.Tokens[i], s)
		}
	}
	nv := NewVocab(j.Tokens[len(specials):])
	if nv.Len() != len(j.Tokens) {
		return fmt.Errorf("vocab: repeated or reserved token among the %d tokens", len(j.Tokens))
	}
	*v = *nv
	return nil
}
