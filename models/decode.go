package models

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/attnlab/attnlab/layers"
	"github.com/attnlab/attnlab/metrics"
	"github.com/attnlab/attnlab/seq"
	"github.com/attnlab/attnlab/tensor"
)

// DecodeOptions choose a decoding strategy.
type DecodeOptions struct {
	Strategy      string  // greedy (default), beam or sample
	MaxLen        int     // most decoder steps per example, the eos step included (must be > 0)
	MinLen        int     // fewest output tokens before eos may be chosen (0: no minimum; MaxLen: exactly MaxLen tokens)
	Beam          int     // beam width (beam)
	LengthPenalty float64 // GNMT length penalty α (beam); 0: none
	Temperature   float64 // sample: softmax temperature (0 means 1)
	TopK          int     // sample: keep the k most likely tokens (0: all)
	TopP          float64 // sample: keep the smallest set with mass ≥ p (0 or 1: all)
	RNG           *tensor.RNG
	// KeepAttention is how many of the batch's first examples keep their
	// attention weights (Hypothesis.Attention): a row as long as the
	// source per output step, so keeping every example's would take
	// examples × output × source floats. Every hypothesis gets its Focus.
	KeepAttention int
	// Context, when not nil, is checked once per decoding step: when it is
	// done, Decode stops and returns its error (Ctrl-C during a long beam
	// search or evaluation).
	Context context.Context
}

// stopped reports whether the options' context is done.
func (o *DecodeOptions) stopped() bool { return o.Context != nil && o.Context.Err() != nil }

// Decoding limits. A beam search keeps 2·Beam candidates of each of Beam
// hypotheses per step (with their attention rows when kept), so its memory
// grows with Beam²·MaxLen (·source length): Validate refuses wider beams
// and longer outputs than these, which no experiment needs.
const (
	MaxBeam      = 256
	MaxDecodeLen = 10000
)

// Validate checks the options.
func (o DecodeOptions) Validate() error {
	switch {
	case o.MaxLen < 1:
		return fmt.Errorf("decode: max length must be at least 1, got %d", o.MaxLen)
	case o.MaxLen > MaxDecodeLen:
		return fmt.Errorf("decode: max length must be at most %d, got %d", MaxDecodeLen, o.MaxLen)
	case o.MinLen < 0 || o.MinLen > o.MaxLen:
		return fmt.Errorf("decode: min length must be in [0, max length %d], got %d", o.MaxLen, o.MinLen)
	case o.Strategy == "" || o.Strategy == "greedy":
	case o.Strategy == "beam":
		if o.Beam < 1 || o.Beam > MaxBeam {
			return fmt.Errorf("decode: beam width must be in [1, %d], got %d", MaxBeam, o.Beam)
		}
		if o.LengthPenalty < 0 {
			return fmt.Errorf("decode: length penalty must not be negative, got %v", o.LengthPenalty)
		}
	case o.Strategy == "sample":
		if o.Temperature < 0 || o.TopK < 0 || o.TopP < 0 || o.TopP > 1 {
			return fmt.Errorf("decode: bad sampling settings (temperature %v, top-k %d, top-p %v)", o.Temperature, o.TopK, o.TopP)
		}
		if o.RNG == nil {
			return fmt.Errorf("decode: sampling needs an RNG")
		}
	default:
		return fmt.Errorf("decode: unknown strategy %q (known: beam, greedy, sample)", o.Strategy)
	}
	return nil
}

// Hypothesis is one decoded output.
type Hypothesis struct {
	Tokens    []int       // output ids, without bos and eos
	LogProb   float64     // Σ log p of the chosen tokens, eos included when Finished
	Score     float64     // what the search ranked by (beam: LogProb / GNMT lp)
	Finished  bool        // ended with eos (false: stopped at MaxLen)
	Attention [][]float32 // per output step (eos step included): weights over the source; nil without attention or beyond DecodeOptions.KeepAttention
	// Focus summarises each row of Attention (the attention metrics'
	// input) for every example; nil without attention.
	Focus []metrics.Focus
}

// Decode decodes every example of b (for a language model, continues the
// prompts in b.In) with the chosen strategy and returns one hypothesis per
// example. The model must be in evaluation mode (see tensor.NoGrad). A
// model with a MaxDecodeLen() int method (a Transformer's positions) caps
// opt.MaxLen. A language model never chooses eos: it was never trained to
// end a text, and its hypotheses hold MaxLen tokens.
func Decode(m Model, b *seq.Batch, opt DecodeOptions) ([]Hypothesis, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if l, ok := m.(interface{ MaxDecodeLen() int }); ok && l.MaxDecodeLen() > 0 {
		opt.MaxLen = min(opt.MaxLen, l.MaxDecodeLen())
	}
	if b.Src == nil {
		// A batch without sources holds a language model's prompts. Its
		// targets hold no eos (tasks.MakeBatch): its eos logit is
		// untrained, and a wide beam or a hot sample would end a text
		// there. It continues its prompt for MaxLen tokens.
		opt.MinLen = opt.MaxLen
	}
	if opt.stopped() {
		return nil, opt.Context.Err()
	}
	// The weights do not change while decoding: products pack each once
	// instead of at every step.
	defer tensor.Freeze(layers.Tensors(m.Params())...)()
	st := m.Start(b)
	if r, ok := st.(interface{ release() }); ok {
		defer r.release() // after the hypotheses are made, before the Freeze ends
	}
	if u, ok := st.(interface{ useTokenTable() }); ok && opt.Strategy == "beam" && !noTokTable {
		u.useTokenTable()
	}
	var hs []Hypothesis
	switch opt.Strategy {
	case "beam":
		hs = beamSearch(st, b.Size, opt)
	default:
		hs = stepwise(st, b.Size, opt)
	}
	if opt.stopped() {
		return nil, opt.Context.Err() // hs may be incomplete
	}
	return hs, nil
}

// noTokTable turns tokTable off (tests compare with and without it).
var noTokTable bool

// node is one step of a hypothesis, linked to its parent so beams share
// prefixes.
type node struct {
	tok      int
	attended bool          // the step had attention weights
	focus    metrics.Focus // their summary
	attn     []float32     // and the weights, when the example keeps them
	parent   *node
	length   int
}

func (n *node) trace() ([]int, []metrics.Focus, [][]float32) {
	toks := make([]int, n.length)
	var focus []metrics.Focus
	var attn [][]float32
	if n.attended {
		focus = make([]metrics.Focus, n.length)
	}
	if n.attn != nil {
		attn = make([][]float32, n.length)
	}
	for p, i := n, n.length-1; p != nil && i >= 0; p, i = p.parent, i-1 {
		toks[i] = p.tok
		if focus != nil {
			focus[i] = p.focus
		}
		if attn != nil {
			attn[i] = p.attn
		}
	}
	return toks, focus, attn
}

// extend returns parent followed by tok, whose step's attention weights
// are attn[i] (attn nil: none), summarised by foci[i] (foci nil: computed
// here); keep keeps them whole.
func extend(parent *node, tok int, attn [][]float32, foci []metrics.Focus, i int, keep bool) *node {
	n := &node{tok: tok, parent: parent, length: 1}
	if parent != nil {
		n.length = parent.length + 1
	}
	if attn != nil {
		n.attended = true
		if foci != nil {
			n.focus = foci[i]
		} else {
			n.focus = metrics.FocusOf(attn[i])
		}
		if keep {
			n.attn = append([]float32(nil), attn[i]...)
		}
	}
	return n
}

func finish(n *node, logp float64, finished bool) Hypothesis {
	toks, focus, attn := n.trace()
	if finished {
		toks = toks[:len(toks)-1] // drop eos, keep its attention row
	}
	return Hypothesis{Tokens: toks, LogProb: logp, Score: logp, Finished: finished, Attention: attn, Focus: focus}
}

// stepwise runs greedy decoding or sampling for all examples at once,
// dropping finished examples from the state.
func stepwise(st State, n int, opt DecodeOptions) []Hypothesis {
	out := make([]Hypothesis, n)
	live := make([]int, n) // example of each live row
	heads := make([]*node, n)
	logps := make([]float64, n)
	tokens := make([]int, n)
	for i := range live {
		live[i] = i
		tokens[i] = seq.BOSID
	}
	probs := []float64{}
	picked := make([]int, n)
	for t := 0; len(live) > 0 && !opt.stopped(); t++ {
		noEOS := t < opt.MinLen
		var lp *tensor.Tensor
		var attn [][]float32
		if opt.Strategy == "sample" {
			lp, attn = st.Step(tokens)
		} else {
			// The argmax of each row while the row is in cache.
			lp, attn = stepRowsOf(st, tokens, func(r int, row []float32) {
				if noEOS {
					picked[r] = argmaxFrom(row, seq.EOSID+1)
				} else {
					picked[r] = argmax(row)
				}
			})
		}
		v := lp.Dim(-1)
		var keep []int
		for r, ex := range live {
			row := lp.Data[r*v : (r+1)*v]
			tok := picked[r]
			if opt.Strategy == "sample" {
				probs = sampleDist(probs[:0], row, opt, noEOS)
				tok = drawIndex(probs, opt.RNG)
			}
			logps[ex] += float64(row[tok])
			heads[ex] = extend(heads[ex], tok, attn, nil, r, ex < opt.KeepAttention)
			switch {
			case tok == seq.EOSID:
				out[ex] = finish(heads[ex], logps[ex], true)
			case t+1 >= opt.MaxLen:
				out[ex] = finish(heads[ex], logps[ex], false)
			default:
				keep = append(keep, r)
			}
		}
		if len(keep) < len(live) {
			if len(keep) == 0 {
				break
			}
			st = st.Select(keep)
			nl := make([]int, len(keep))
			nt := make([]int, len(keep))
			for i, r := range keep {
				nl[i] = live[r]
				nt[i] = heads[live[r]].tok
			}
			live, tokens = nl, nt
			continue
		}
		for i, ex := range live {
			tokens[i] = heads[ex].tok
		}
	}
	return out
}

// argmax returns the most likely token, never pad or bos.
func argmax(row []float32) int { return argmaxFrom(row, seq.EOSID) }

// argmaxFrom returns the index of the largest value of row[start:] (the
// first of equal ones).
func argmaxFrom(row []float32, start int) int {
	if start+1 < len(row) && row[start] == row[start] {
		// The largest value (found with vector instructions), then its
		// first index: the same index as the scan below, which never
		// moves to a NaN and so finds the first of the largest non-NaN
		// values (when row[start] is not NaN). The second pass stops there.
		m := tensor.MaxSlice(row[start:])
		for i := start; i < len(row); i++ {
			if row[i] == m {
				return i
			}
		}
	}
	bi := start
	for i := start + 1; i < len(row); i++ {
		if row[i] > row[bi] {
			bi = i
		}
	}
	return bi
}

// sampleDist turns a row of log-probabilities into the sampling
// distribution after temperature, top-k and top-p (pad and bos excluded,
// and eos when noEOS).
func sampleDist(dst []float64, row []float32, opt DecodeOptions, noEOS bool) []float64 {
	temp := opt.Temperature
	if temp == 0 {
		temp = 1
	}
	allowed := func(i int) bool { return i != seq.PadID && i != seq.BOSID && (!noEOS || i != seq.EOSID) }
	m := math.Inf(-1)
	for i, x := range row {
		if allowed(i) {
			m = math.Max(m, float64(x))
		}
	}
	var s float64
	for i, x := range row {
		p := 0.0
		if allowed(i) {
			p = math.Exp((float64(x) - m) / temp)
		}
		dst = append(dst, p)
		s += p
	}
	for i := range dst {
		dst[i] /= s
	}
	if (opt.TopK > 0 && opt.TopK < len(dst)) || (opt.TopP > 0 && opt.TopP < 1) {
		idx := make([]int, len(dst))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return dst[idx[a]] > dst[idx[b]] })
		keep := len(idx)
		if opt.TopK > 0 && opt.TopK < keep {
			keep = opt.TopK
		}
		if opt.TopP > 0 && opt.TopP < 1 {
			var c float64
			for i := 0; i < keep; i++ {
				c += dst[idx[i]]
				if c >= opt.TopP {
					keep = i + 1
					break
				}
			}
		}
		var kept float64
		for i, j := range idx {
			if i >= keep {
				dst[j] = 0
			} else {
				kept += dst[j]
			}
		}
		for i := range dst {
			dst[i] /= kept
		}
	}
	return dst
}

func drawIndex(p []float64, rng *tensor.RNG) int {
	u := rng.Float64()
	var c float64
	last := 0
	for i, x := range p {
		if x == 0 {
			continue
		}
		c += x
		last = i
		if u < c {
			return i
		}
	}
	return last
}

// lengthPenalty is GNMT's lp(Y) = ((5 + |Y|)/6)^α (Wu et al. 2016).
func lengthPenalty(length int, alpha float64) float64 {
	if alpha == 0 {
		return 1
	}
	return math.Pow((5+float64(length))/6, alpha)
}

type beamHyp struct {
	node  *node
	logp  float64
	row   int // row in the current state
	score float64
}

// beamSearch keeps, per example, Beam live hypotheses and the Beam best
// finished ones, ranked by LogProb/lp. An example stops only when no live
// hypothesis can still beat the worst kept finished one: since log
// probabilities only fall as a hypothesis grows and lp only grows, a live
// hypothesis's best reachable score is its LogProb / lp(MaxLen).
//
// A beam of one is greedy search: finished candidates come from each step's
// 2·Beam best, so a width-1 search would otherwise also keep an eos that
// was only the second choice, and could end where greedy search goes on
// (as in Hugging Face's generate, num_beams=1 is greedy).
func beamSearch(st State, n int, opt DecodeOptions) []Hypothesis {
	if opt.Beam == 1 {
		hs := stepwise(st, n, DecodeOptions{Strategy: "greedy", MaxLen: opt.MaxLen, MinLen: opt.MinLen, KeepAttention: opt.KeepAttention, Context: opt.Context})
		for i, h := range hs {
			steps := len(h.Tokens) // the eos step counts, as in the search below
			if h.Finished {
				steps++
			}
			hs[i].Score = h.LogProb / lengthPenalty(steps, opt.LengthPenalty)
		}
		return hs
	}
	k := opt.Beam
	alpha := opt.LengthPenalty
	bestBound := lengthPenalty(opt.MaxLen, alpha)
	live := make([][]beamHyp, n)
	done := make([][]beamHyp, n)
	var tokens []int
	for ex := 0; ex < n; ex++ {
		live[ex] = []beamHyp{{row: ex}}
		tokens = append(tokens, seq.BOSID)
	}
	type cand struct {
		parent int // index into live[ex]
		tok    int
		logp   float64
	}
	var tops [][]int // per row of the step: its best 2·Beam tokens
	var foci []metrics.Focus
	for t := 0; ; t++ {
		if len(tokens) == 0 || opt.stopped() {
			break
		}
		// Each row's best 2·Beam tokens while the row is in cache.
		noEOS := t < opt.MinLen
		tops = slices.Grow(tops[:0], len(tokens))[:len(tokens)]
		lp, attn := stepRowsOf(st, tokens, func(r int, row []float32) {
			tops[r] = topIndicesInto(tops[r][:0], row, 2*k, noEOS)
		})
		// Each row's summary once: a row extends up to Beam live
		// hypotheses and its finished candidates.
		foci = foci[:0]
		for _, row := range attn { // none without attention: extend reads no foci then
			foci = append(foci, metrics.FocusOf(row))
		}
		v := lp.Dim(-1)
		var sel []int
		var next []int
		for ex := 0; ex < n; ex++ {
			if len(live[ex]) == 0 {
				continue
			}
			var cands []cand
			for hi, h := range live[ex] {
				row := lp.Data[h.row*v : (h.row+1)*v]
				for _, tok := range tops[h.row] {
					cands = append(cands, cand{hi, tok, h.logp + float64(row[tok])})
				}
			}
			sort.SliceStable(cands, func(a, b int) bool { return cands[a].logp > cands[b].logp })
			var nl []beamHyp
			for _, c := range cands {
				h := live[ex][c.parent]
				if c.tok == seq.EOSID || t+1 >= opt.MaxLen {
					nd := extend(h.node, c.tok, attn, foci, h.row, ex < opt.KeepAttention)
					fin := beamHyp{node: nd, logp: c.logp, score: c.logp / lengthPenalty(nd.length, alpha)}
					if c.tok != seq.EOSID {
						fin.row = -1 // unfinished at max length
					}
					done[ex] = append(done[ex], fin)
					continue
				}
				if len(nl) < k { // a candidate beyond the Beam best is dropped unbuilt
					nl = append(nl, beamHyp{node: extend(h.node, c.tok, attn, foci, h.row, ex < opt.KeepAttention), logp: c.logp, row: h.row})
				}
			}
			sort.SliceStable(done[ex], func(a, b int) bool { return done[ex][a].score > done[ex][b].score })
			if len(done[ex]) > k {
				done[ex] = done[ex][:k]
			}
			if len(done[ex]) >= k && len(nl) > 0 {
				worst := done[ex][len(done[ex])-1].score
				if nl[0].logp/bestBound <= worst {
					nl = nil
				}
			}
			for i := range nl {
				sel = append(sel, nl[i].row)
				nl[i].row = len(next)
				next = append(next, nl[i].node.tok)
			}
			live[ex] = nl
		}
		if len(next) == 0 {
			break
		}
		st = st.Select(sel)
		tokens = next
	}
	if opt.stopped() {
		return nil // Decode returns the context's error
	}
	out := make([]Hypothesis, n)
	for ex := 0; ex < n; ex++ {
		best := done[ex][0]
		h := finish(best.node, best.logp, best.row != -1)
		h.Score = best.score
		out[ex] = h
	}
	return out
}

// topIndices returns the indices of the k largest values of row (all if
// k ≥ len(row)), largest first and, among equal values, lowest index
// first, skipping pad and bos (and eos when noEOS). It keeps a sorted list
// of the best k seen so far, so a row costs O(len(row)) comparisons unless
// its values keep improving; once the list is full, a value that does not
// beat its last one costs one comparison (a beam step scans Beam rows of
// the vocabulary per sentence).
func topIndices(row []float32, k int, noEOS bool) []int {
	return topIndicesInto(make([]int, 0, min(k, len(row))), row, k, noEOS)
}

// topIndicesInto is topIndices appending to idx[:0] (reusing its memory).
//
// It scans the first topChunk values one by one, then, for a long row,
// takes the largest value of every later chunk of topChunk values (vector
// instructions) and scans only the chunks that can hold one of the k best:
// those whose largest value beats the last kept one and is at least the
// k-th largest of the chunks' largest values (k values of the row, which
// the k best are all at least). That is a row of W6's 6,000 words in
// ~12 chunks of 94. The choice is the plain scan's (k best by value, lower
// index first among equal ones); rows whose first chunk leaves a NaN kept,
// where the plain scan's order is not a function of the values alone, are
// scanned whole.
func topIndicesInto(idx []int, row []float32, k int, noEOS bool) []int {
	idx = idx[:0]
	if k <= 0 {
		return idx
	}
	end := min(len(row), topChunk)
	idx, full, last := topScan(idx, row, 0, end, k, noEOS, false, 0)
	nch := (len(row) - end + topChunk - 1) / topChunk
	var maxima, best [256]float32
	if !full || last != last || nch <= k || nch > len(maxima) || slices.ContainsFunc(idx, func(i int) bool { return row[i] != row[i] }) {
		idx, _, _ = topScan(idx, row, end, len(row), k, noEOS, full, last)
		return idx
	}
	// The chunks' maxima (none is NaN: MaxSlice ignores NaNs) and the k
	// largest of them, largest first.
	nb := 0
	for c := range nch {
		m := tensor.MaxSlice(row[end+c*topChunk : min(len(row), end+(c+1)*topChunk)])
		maxima[c] = m
		if nb == k && !(m > best[k-1]) {
			continue
		}
		j := min(nb, k-1)
		for j > 0 && best[j-1] < m {
			best[j] = best[j-1]
			j--
		}
		best[j] = m
		nb = min(nb+1, k)
	}
	floor := best[k-1] // the k-th largest chunk maximum
	for c := range nch {
		if m := maxima[c]; m < floor || !(m > last) {
			continue
		}
		c0 := end + c*topChunk
		idx, full, last = topScan(idx, row, c0, min(len(row), c0+topChunk), k, noEOS, full, last)
	}
	return idx
}

// topChunk is the length of the chunks topIndicesInto skips whole.
const topChunk = 64

// topScan is topIndicesInto's scan of row[c0:c1].
func topScan(idx []int, row []float32, c0, c1, k int, noEOS, full bool, last float32) ([]int, bool, float32) {
	for i := c0; i < c1; i++ {
		x := row[i]
		if full && !(x > last) {
			continue
		}
		if i == seq.PadID || i == seq.BOSID || (noEOS && i == seq.EOSID) {
			continue
		}
		if full {
			idx = idx[:k-1]
		}
		// Insert after every kept index whose value is at least x (earlier
		// indices win ties).
		j := len(idx)
		for j > 0 && !(row[idx[j-1]] >= x) {
			j--
		}
		idx = append(idx, 0)
		copy(idx[j+1:], idx[j:])
		idx[j] = i
		if len(idx) == k {
			full, last = true, row[idx[k-1]]
		}
	}
	return idx, full, last
}

// SettingError is a decoding setting out of its range: Name is the
// setting as a user gives it (temperature, top-k, top-p), Value the value
// given.
type SettingError struct {
	Name  string
	Value any
	Msg   string
}

func (e *SettingError) Error() string { return fmt.Sprintf("%s %v: %s", e.Name, e.Value, e.Msg) }

// GenerateTokens is how many tokens a language model generates after its
// prompt when no length is asked (attnlab generate without --max-len, the
// dashboard's generate form): one definition, so that both sample alike.
const GenerateTokens = 100

// CheckSampling returns a *SettingError for the first sampling setting
// out of the range a user may give it (attnlab generate's flags, the
// dashboard's generate form): a temperature is a finite number above 0,
// top-k is not negative (0: every token), top-p is in (0, 1]. Validate,
// for options already resolved, also takes 0 for "the default".
func CheckSampling(temperature float64, topK int, topP float64) error {
	switch {
	case !(temperature > 0 && !math.IsInf(temperature, 1)):
		return &SettingError{"temperature", temperature, "must be a finite number above 0"}
	case topK < 0:
		return &SettingError{"top-k", topK, "must not be negative (0: all tokens)"}
	case !(topP > 0 && topP <= 1):
		return &SettingError{"top-p", topP, "must be in (0, 1]"}
	}
	return nil
}
